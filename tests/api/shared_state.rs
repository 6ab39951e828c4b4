//! State shared across replicas on a real Redis (127.0.0.1:6379, or `TEST_REDIS_URL`): one
//! caller's rate-limit bucket across two gateways, and the fallback to each replica's own bucket
//! when Redis is away or too slow. Each test keys under its own prefix, so tests run side by side.

use std::time::{Duration, Instant};

use axum::http::StatusCode;

use crate::{
    helpers::*,
    ops_limits::{ask, serve_with_peers},
    raw_http,
};

fn redis_url() -> String {
    std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

/// A connection to the test Redis; panics with one clear message when there is none.
async fn redis() -> redis::aio::MultiplexedConnection {
    let url = redis_url();
    let connected = async {
        let client = redis::Client::open(url.as_str())?;
        let mut conn = client.get_multiplexed_async_connection().await?;
        redis::cmd("PING").query_async::<()>(&mut conn).await?;
        Ok::<_, redis::RedisError>(conn)
    };
    match tokio::time::timeout(Duration::from_secs(3), connected).await {
        Ok(Ok(conn)) => conn,
        _ => panic!(
            "Redis is not reachable at {url}: these tests need a running Redis \
             (apt-get install redis-server; .ci/run checks it), or set TEST_REDIS_URL"
        ),
    }
}

/// A key prefix no other test (or earlier run) uses.
fn unique_prefix(test: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("crm:test:{test}:{}:{nanos}:", std::process::id())
}

async fn metrics_text(addr: std::net::SocketAddr) -> String {
    let (_, _, body) = raw_http::request(addr, "GET", "/metrics", &[], "").await;
    body.as_str().unwrap_or_default().to_owned()
}

fn shared_limits(url: String, prefix: String) -> impl FnOnce(&mut crm_gateway::config::Config) {
    move |c| {
        c.ops.rate_limit_client = "3/m".parse().unwrap();
        c.ops.rate_limit_redis_url = Some(url.parse().unwrap());
        c.ops.rate_limit_redis_prefix = prefix;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_callers_quota_is_one_across_two_replicas() {
    let mut conn = redis().await;
    let prefix = unique_prefix("quota");
    let a = TestApp::seeded_with(Backend::Sqlite, shared_limits(redis_url(), prefix.clone())).await;
    let b = a
        .replica_with(shared_limits(redis_url(), prefix.clone()))
        .await;
    let (addr_a, addr_b) = (serve_with_peers(&a).await, serve_with_peers(&b).await);
    let client = a.client();

    let mut remaining = Vec::new();
    for addr in [addr_a, addr_b, addr_a] {
        let (status, headers, body) = ask(addr, Some(&client), None).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        remaining.push(headers.get("ratelimit-remaining").unwrap());
    }
    assert_eq!(remaining, ["2", "1", "0"], "one bucket, drawn through both");
    // The burst was spent on A and B together: B refuses, as A would.
    let (status, headers, body) = ask(addr_b, Some(&client), None).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(first_code(&body), "RATE_LIMITED");
    let retry: u64 = headers.get("retry-after").unwrap().parse().unwrap();
    assert!((1..=20).contains(&retry), "one token every 20 s: {retry}");
    // Another subject still has its own, full bucket.
    let other = a.token(crm_gateway::auth::Role::Client, a.ids().client + 1);
    assert_eq!(ask(addr_b, Some(&other), None).await.0, StatusCode::OK);

    assert!(
        metrics_text(addr_b)
            .await
            .lines()
            .any(|l| l == "rate_limit_redis_up 1")
    );
    // Keys name the role, never the token or the subject in the clear, and they expire.
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{prefix}*"))
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(keys.len(), 2, "{keys:?}");
    for key in &keys {
        let rest = key.strip_prefix(&format!("{prefix}client:")).unwrap();
        assert_eq!(rest.len(), 32, "a digest: {key}");
        assert!(!key.contains(&client) && !rest.contains("subject"));
        let ttl: i64 = redis::cmd("PTTL")
            .arg(key)
            .query_async(&mut conn)
            .await
            .unwrap();
        assert!(ttl > 0 && ttl <= 61_000, "{key}: {ttl} ms");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_redis_away_each_replica_limits_on_its_own_and_metrics_say_so() {
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let url = format!("redis://127.0.0.1:{closed}");
    let app =
        TestApp::seeded_with(Backend::Sqlite, shared_limits(url, unique_prefix("away"))).await;
    let addr = serve_with_peers(&app).await;
    let client = app.client();
    for _ in 0..3 {
        let (status, _, body) = ask(addr, Some(&client), None).await;
        assert_eq!(status, StatusCode::OK, "served without Redis: {body}");
    }
    // Not everyone refused, nor the limit dropped: this replica's own bucket holds.
    let (status, _, body) = ask(addr, Some(&client), None).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(
        ask(addr, Some(&app.employee()), None).await.0,
        StatusCode::OK
    );
    assert!(
        metrics_text(addr)
            .await
            .lines()
            .any(|l| l == "rate_limit_redis_up 0"),
        "the gauge says Redis is down"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_that_never_answers_costs_at_most_its_timeout() {
    // Accepts connections and says nothing, like a Redis that hangs.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let url = format!("redis://127.0.0.1:{port}");
    let app =
        TestApp::seeded_with(Backend::Sqlite, shared_limits(url, unique_prefix("hang"))).await;
    let addr = serve_with_peers(&app).await;
    let client = app.client();
    let started = Instant::now();
    for _ in 0..3 {
        assert_eq!(ask(addr, Some(&client), None).await.0, StatusCode::OK);
    }
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "three requests took {:?}",
        started.elapsed()
    );
    assert!(
        metrics_text(addr)
            .await
            .lines()
            .any(|l| l == "rate_limit_redis_up 0")
    );
}
