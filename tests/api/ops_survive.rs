//! Surviving a database outage, on PostgreSQL behind a TCP proxy the test cuts: requests fail
//! fast with `SERVICE_UNAVAILABLE`/503, `/ready` turns 503, and once the database is back the
//! gateway recovers by itself — committed writes are all there and subscriptions resume
//! (LISTEN re-established).

use std::time::Duration;

use axum::{
    body::Body,
    http::{Request, StatusCode},
};
use serde_json::json;

use crate::{helpers::*, live::*, proxy::Proxy};

/// Longer than any answer may take while the database is away: the old behaviour (every
/// request waiting for the pool's 10 s timeout) would trip it.
const HANG: Duration = Duration::from_secs(8);

async fn ready(app: &TestApp) -> StatusCode {
    let request = Request::get("/ready").body(Body::empty()).unwrap();
    tokio::time::timeout(HANG, app.send(request))
        .await
        .expect("/ready answers")
        .0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_outage_fails_fast_and_recovers_without_a_restart() {
    let mut proxy = None;
    let app = TestApp::seeded_with(Backend::Postgres, |config| {
        let routed = Proxy::start(Proxy::upstream_of(&config.database_url));
        config.database_url = routed.route(&config.database_url);
        config.ops.db_acquire_timeout_ms = 1000;
        proxy = Some(routed);
    })
    .await;
    let proxy = proxy.expect("proxy started");
    let addr = app.serve().await;
    let care = department_id(&app, "Customer Care").await;
    let client = app.client();
    let (mut ws, ack) = connect(addr, Some(&client)).await;
    assert_eq!(ack["type"], "connection_ack");
    send(
        &mut ws,
        json!({"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIBE}}),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before = app
        .data(&open(&care, "Before the outage"), Some(&client))
        .await;
    let event = next(&mut ws).await;
    assert_eq!(
        event["payload"]["data"]["interactionChanged"]["interaction"]["subject"],
        "Before the outage"
    );

    proxy.cut();
    for query in [
        "{ interactions(first: 5) { edges { node { id } } } }".to_owned(),
        open(&care, "During the outage"),
        "{ interactions(first: 5) { edges { node { id } } } }".to_owned(),
    ] {
        let answer = tokio::time::timeout(HANG, app.post(json!({"query": query}), Some(&client)))
            .await
            .expect("no request hangs while the database is away");
        assert_eq!(answer.0, StatusCode::SERVICE_UNAVAILABLE, "{}", answer.1);
        assert_eq!(first_code(&answer.1), "SERVICE_UNAVAILABLE", "{}", answer.1);
        assert!(
            !answer.1.to_string().contains("127.0.0.1"),
            "no database text: {}",
            answer.1
        );
    }
    assert_eq!(ready(&app).await, StatusCode::SERVICE_UNAVAILABLE);

    proxy.restore();
    let mut recovered = false;
    for _ in 0..60 {
        if ready(&app).await == StatusCode::OK {
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert!(recovered, "/ready turns 200 again without a restart");
    let id = before["openInteraction"]["id"].as_str().unwrap();
    let found = app
        .data(
            &format!(r#"{{ interaction(id: "{id}") {{ subject }} }}"#),
            Some(&client),
        )
        .await;
    assert_eq!(
        found["interaction"]["subject"], "Before the outage",
        "the committed write survived"
    );
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
    let half_done = entity::interaction::Entity::find()
        .filter(entity::interaction::Column::Subject.eq("During the outage"))
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(half_done, 0, "the refused write did not happen");

    // The subscription opened before the outage hears writes made after it.
    let mut heard = false;
    for attempt in 0..10 {
        app.data(
            &open(&care, &format!("After the outage {attempt}")),
            Some(&client),
        )
        .await;
        let event = tokio::time::timeout(Duration::from_secs(2), next(&mut ws)).await;
        if let Ok(event) = event {
            let subject = &event["payload"]["data"]["interactionChanged"]["interaction"]["subject"];
            assert!(
                subject
                    .as_str()
                    .is_some_and(|s| s.starts_with("After the outage")),
                "{event}"
            );
            heard = true;
            break;
        }
    }
    assert!(heard, "LISTEN was re-established");
}
