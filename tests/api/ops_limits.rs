//! Rate limits per caller over HTTP: a token bucket per subject (or per client address for
//! anonymous callers), 429 + `RATE_LIMITED` + `Retry-After`, and `RateLimit-*` headers on
//! every response. `X-Forwarded-For` counts only when proxies are configured as trusted.

use std::net::SocketAddr;

use axum::http::StatusCode;
use crm_gateway::auth::Role;
use serde_json::Value;

use crate::{helpers::*, raw_http};

/// Serves the app on a real socket with the peer address known (as the binary does).
pub(crate) async fn serve_with_peers(app: &TestApp) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let service = app
        .router
        .clone()
        .into_make_service_with_connect_info::<SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, service).await.ok() });
    addr
}

/// POSTs `{ __typename }` over real HTTP; returns status, headers and body.
pub(crate) async fn ask(
    addr: SocketAddr,
    token: Option<&str>,
    forwarded_for: Option<&str>,
) -> (StatusCode, raw_http::Headers, Value) {
    let mut headers = vec![];
    let bearer = token.map(|t| format!("Bearer {t}"));
    if let Some(bearer) = &bearer {
        headers.push(("Authorization", bearer.as_str()));
    }
    if let Some(xff) = forwarded_for {
        headers.push(("X-Forwarded-For", xff));
    }
    let body = r#"{"query":"query Ping { __typename }"}"#;
    raw_http::request(addr, "POST", "/graphql", &headers, body).await
}

both_backends! {
    async fn a_caller_over_its_quota_gets_429_with_retry_after(backend) {
        let app = TestApp::seeded_with(backend, |c| c.ops.rate_limit_client = "3/m".parse().unwrap()).await;
        let addr = serve_with_peers(&app).await;
        let client = app.client();
        let mut remaining = Vec::new();
        for _ in 0..3 {
            let (status, headers, body) = ask(addr, Some(&client), None).await;
            assert_eq!(status, StatusCode::OK, "{body}");
            assert_eq!(headers.get("ratelimit-limit").as_deref(), Some("3"));
            assert_eq!(headers.get("ratelimit-policy").as_deref(), Some("3;w=60"));
            remaining.push(headers.get("ratelimit-remaining").unwrap());
        }
        assert_eq!(remaining, ["2", "1", "0"]);
        let (status, headers, body) = ask(addr, Some(&client), None).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(first_code(&body), "RATE_LIMITED");
        let retry: u64 = headers.get("retry-after").unwrap().parse().unwrap();
        assert!((1..=20).contains(&retry), "one token comes back every 20 s: {retry}");
        assert_eq!(headers.get("ratelimit-remaining").as_deref(), Some("0"));

        // Another subject has its own bucket; a role without a quota has none.
        let other = app.token(Role::Client, app.ids().client + 1);
        assert_eq!(ask(addr, Some(&other), None).await.0, StatusCode::OK);
        let (status, headers, _) = ask(addr, Some(&app.employee()), None).await;
        assert_eq!(status, StatusCode::OK);
        assert!(headers.get("ratelimit-limit").is_none());

        let metrics = app.send(axum::http::Request::get("/metrics").body(axum::body::Body::empty()).unwrap()).await.2;
        assert!(metrics.as_str().unwrap().lines().any(|l| l.starts_with("graphql_requests_total")
            && l.contains(r#"outcome="rate_limited""#) && l.contains(r#"role="client""#) && l.ends_with(" 1")));
    }

    async fn anonymous_callers_are_limited_by_address_and_forwarded_for_needs_trust(backend) {
        // Without trusted proxies the header is the client's own words: one bucket for the peer.
        let app = TestApp::seeded_with(backend, |c| c.ops.rate_limit_anonymous = "2/m".parse().unwrap()).await;
        let addr = serve_with_peers(&app).await;
        assert_eq!(ask(addr, None, Some("198.51.100.1")).await.0, StatusCode::OK);
        assert_eq!(ask(addr, None, Some("198.51.100.2")).await.0, StatusCode::OK);
        assert_eq!(ask(addr, None, Some("198.51.100.3")).await.0, StatusCode::TOO_MANY_REQUESTS);
        // A bad token does not escape the limit: it counts as its address.
        let (status, _, body) = ask(addr, Some("not.a.token"), None).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");

        // Behind one trusted proxy, the address it saw (rightmost) is the client.
        let app = TestApp::seeded_with(backend, |c| {
            c.ops.rate_limit_anonymous = "2/m".parse().unwrap();
            c.ops.trusted_proxy_hops = 1;
        })
        .await;
        let addr = serve_with_peers(&app).await;
        for _ in 0..2 {
            assert_eq!(ask(addr, None, Some("10.9.9.9, 198.51.100.1")).await.0, StatusCode::OK);
        }
        assert_eq!(ask(addr, None, Some("10.9.9.9, 198.51.100.1")).await.0, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(ask(addr, None, Some("10.9.9.9, 198.51.100.2")).await.0, StatusCode::OK, "another client");
        assert_eq!(ask(addr, None, Some("198.51.100.1, 198.51.100.2")).await.0, StatusCode::OK,
            "a forged left entry does not move the caller into someone else's bucket");
    }
}

both_backends! {
    async fn one_operation_at_a_time_still_answers_every_concurrent_nested_read(backend) {
        // A single turn (MAX_CONCURRENT_OPERATIONS=1): the nested read's batches are loaded
        // while its turn is held, so requests queue behind each other instead of deadlocking.
        let app = TestApp::seeded_with(backend, |c| c.ops.max_concurrent_operations = Some(1)).await;
        let employee = app.employee();
        let query = "{ customers(first: 5) { nodes { id interactions(first: 3) { nodes { id department { name } } } } } }";
        let alone = app.data(query, Some(&employee)).await;
        let all = futures_util::future::join_all((0..8).map(|_| app.data(query, Some(&employee))));
        let answers = tokio::time::timeout(std::time::Duration::from_secs(60), all)
            .await
            .expect("queued operations never finished: a turn was not given back");
        assert_eq!(answers.len(), 8);
        for answer in answers {
            assert_eq!(answer, alone);
        }
    }
}
