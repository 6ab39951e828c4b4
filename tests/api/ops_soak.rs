//! Soak: the real binary on PostgreSQL under mixed reads, writes and a subscription from many
//! concurrent callers for `SOAK_SECS` seconds (3 by default; e.g. `SOAK_SECS=600` for ten
//! minutes). Afterwards: no error but rate limits, every acknowledged write stored and
//! delivered to the subscriber, no socket or subscription left open, and the process's memory
//! back near its warmed-up baseline.

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use crm_gateway::auth::Role;
use sea_orm::{ConnectionTrait, Database, Statement};
use serde_json::{Value, json};

use crate::{
    databases::TestDatabase,
    helpers::*,
    live::*,
    ops_process::{Gateway, token},
    raw_http,
};

/// Resident memory of a process, in KiB.
fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

/// Errors other than rate limiting, and writes acknowledged.
#[derive(Default)]
struct Tally {
    unexpected: Vec<String>,
    written: Vec<String>,
    rate_limited: usize,
}

async fn one(addr: std::net::SocketAddr, query: &str, token: Option<&str>) -> Value {
    let bearer = token.map(|t| format!("Bearer {t}"));
    let headers: Vec<(&str, &str)> = bearer
        .iter()
        .map(|b| ("Authorization", b.as_str()))
        .collect();
    let body = json!({ "query": query }).to_string();
    raw_http::request(addr, "POST", "/graphql", &headers, &body)
        .await
        .2
}

async fn load(
    addr: std::net::SocketAddr,
    worker: usize,
    until: Instant,
    tokens: Vec<String>,
    care: String,
) -> Tally {
    let mut tally = Tally::default();
    let mut n = 0;
    while Instant::now() < until {
        n += 1;
        let token = &tokens[n % tokens.len()];
        let (query, writes) = match n % 4 {
            0 => (open(&care, &format!("soak-{worker}-{n}")), true),
            1 => (
                "query Departments { departments { edges { node { name } } } }".to_owned(),
                false,
            ),
            2 => (
                "query Mine { interactions(first: 5) { edges { node { id subject } } } }"
                    .to_owned(),
                false,
            ),
            _ => ("query Viewer { viewer { role } }".to_owned(), false),
        };
        let body = one(addr, &query, Some(if writes { &tokens[0] } else { token })).await;
        match body["errors"][0]["extensions"]["code"].as_str() {
            None if writes => tally.written.push(format!("soak-{worker}-{n}")),
            None => {}
            Some("RATE_LIMITED") => tally.rate_limited += 1,
            Some(_) => tally.unexpected.push(body.to_string()),
        }
    }
    tally
}

fn metric(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .find(|l| l.starts_with(&format!("{name} ")))?
        .rsplit(' ')
        .next()?
        .parse()
        .ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn soak_mixed_load_loses_nothing_and_returns_to_baseline() {
    let seconds: u64 = std::env::var("SOAK_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);
    let database = TestDatabase::fresh(Backend::Postgres).await;
    let gateway = Gateway::start(
        &database.url,
        &[
            ("RATE_LIMIT_CLIENT", "200/s"),
            ("RATE_LIMIT_EMPLOYEE", "500/s"),
            ("RATE_LIMIT_MANAGER", "500/s"),
            ("RUST_LOG", "warn"),
        ],
    )
    .await;
    let db = Database::connect(&database.url).await.unwrap();
    let ids = crm_gateway::seed::demo_ids(&db)
        .await
        .unwrap()
        .expect("seeded");
    let tokens = vec![
        token(Role::Client, ids.client),
        token(Role::Employee, ids.employee),
        token(Role::Manager, ids.manager),
    ];
    let departments = one(
        gateway.addr,
        "{ departments { edges { node { id name } } } }",
        Some(&tokens[1]),
    )
    .await;
    let care = nodes(&departments["data"]["departments"])
        .into_iter()
        .find(|d| d["name"] == "Customer Care")
        .and_then(|d| d["id"].as_str().map(str::to_owned))
        .expect("Customer Care");

    // The subscriber counts the soak's interactions as they open.
    let (mut ws, ack) = connect(gateway.addr, Some(&tokens[1])).await;
    assert_eq!(ack["type"], "connection_ack");
    send(
        &mut ws,
        json!({"id": "s", "type": "subscribe", "payload": {"query": SUBSCRIBE}}),
    )
    .await;
    let heard = Arc::new(AtomicUsize::new(0));
    let counter = heard.clone();
    let listening = tokio::spawn(async move {
        loop {
            let event = next(&mut ws).await;
            if event["type"] != "next" {
                return (ws, event);
            }
            let subject = &event["payload"]["data"]["interactionChanged"]["interaction"]["subject"];
            if subject.as_str().is_some_and(|s| s.starts_with("soak-")) {
                counter.fetch_add(1, Ordering::SeqCst);
            }
        }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;

    let run = |secs: u64| {
        let until = Instant::now() + Duration::from_secs(secs);
        (0..16).map(move |worker| (worker, until))
    };
    // Warm up (one second), then take the memory baseline.
    let warm: Vec<_> = run(1)
        .map(|(w, until)| tokio::spawn(load(gateway.addr, w, until, tokens.clone(), care.clone())))
        .collect();
    let mut tally = Tally::default();
    for task in warm {
        let t = task.await.unwrap();
        tally.unexpected.extend(t.unexpected);
        tally.written.extend(t.written);
        tally.rate_limited += t.rate_limited;
    }
    let baseline = rss_kib(gateway.child.id());
    let soak: Vec<_> = run(seconds)
        .map(|(w, until)| {
            tokio::spawn(load(
                gateway.addr,
                w + 100,
                until,
                tokens.clone(),
                care.clone(),
            ))
        })
        .collect();
    for task in soak {
        let t = task.await.unwrap();
        tally.unexpected.extend(t.unexpected);
        tally.written.extend(t.written);
        tally.rate_limited += t.rate_limited;
    }
    assert!(
        tally.unexpected.is_empty(),
        "errors other than rate limits: {:?}",
        &tally.unexpected[..tally.unexpected.len().min(5)]
    );
    assert!(!tally.written.is_empty());

    let stored = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT count(*) AS n FROM interaction WHERE subject LIKE 'soak-%'",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get::<i64>("", "n")
        .unwrap();
    assert_eq!(
        stored as usize,
        tally.written.len(),
        "every acknowledged write is stored, nothing more"
    );
    for _ in 0..100 {
        if heard.load(Ordering::SeqCst) >= tally.written.len() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        heard.load(Ordering::SeqCst),
        tally.written.len(),
        "the subscriber heard every write"
    );
    listening.abort();

    // Sockets and subscriptions are released; memory settles near its baseline.
    let mut metrics = String::new();
    for _ in 0..50 {
        metrics = raw_http::request(gateway.addr, "GET", "/metrics", &[], "")
            .await
            .2
            .as_str()
            .unwrap_or_default()
            .to_owned();
        if metric(&metrics, "websocket_connections") == Some(0.0) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        metric(&metrics, "websocket_connections"),
        Some(0.0),
        "{metrics}"
    );
    assert_eq!(
        metric(&metrics, "graphql_subscriptions"),
        Some(0.0),
        "{metrics}"
    );
    tokio::time::sleep(Duration::from_secs(1)).await;
    let after = rss_kib(gateway.child.id());
    assert!(
        after <= baseline + baseline / 2 + 32 * 1024,
        "memory grew from {baseline} KiB to {after} KiB ({} writes, {} rate limited)",
        tally.written.len(),
        tally.rate_limited
    );
    eprintln!(
        "soak: {seconds} s, {} writes, {} rate limited, RSS {baseline} → {after} KiB",
        tally.written.len(),
        tally.rate_limited
    );
    db.close().await.ok();
}
