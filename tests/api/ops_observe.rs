//! Observing the gateway: request ids on every response and in errors, Prometheus metrics with
//! bounded labels, readiness, and CORS by mode.

use axum::{
    body::Body,
    http::{Request, StatusCode},
};
use serde_json::{Value, json};

use crate::helpers::*;

fn graphql(body: Value, token: Option<&str>, request_id: Option<&str>) -> Request<Body> {
    let mut request = Request::post("/graphql").header("content-type", "application/json");
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    if let Some(id) = request_id {
        request = request.header("x-request-id", id);
    }
    request.body(Body::from(body.to_string())).unwrap()
}

async fn metrics_text(app: &TestApp) -> String {
    let (status, headers, body) = app
        .send(Request::get("/metrics").body(Body::empty()).unwrap())
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    body.as_str().expect("text exposition").to_owned()
}

/// The value of the sample whose name and labels match (labels in any order).
fn sample(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .filter(|line| {
            line.starts_with(&format!("{name}{{")) || line.starts_with(&format!("{name} "))
        })
        .filter(|line| {
            labels
                .iter()
                .all(|(k, v)| line.contains(&format!("{k}=\"{v}\"")))
        })
        .find_map(|line| line.rsplit(' ').next()?.parse().ok())
}

both_backends! {
    async fn every_response_carries_a_request_id_and_errors_repeat_it(backend) {
        let app = TestApp::seeded(backend).await;
        let (_, headers, body) = app.send(graphql(json!({"query": "{ nope }"}), None, None)).await;
        let id = headers["x-request-id"].to_str().unwrap().to_owned();
        assert_eq!(id.len(), 32, "a generated id");
        assert_eq!(body["errors"][0]["extensions"]["requestId"], json!(id));

        let (_, headers, body) = app
            .send(graphql(json!({"query": "{ nope }"}), None, Some("trace-abc-123")))
            .await;
        assert_eq!(headers["x-request-id"], "trace-abc-123", "a valid incoming id is kept");
        assert_eq!(body["errors"][0]["extensions"]["requestId"], "trace-abc-123");

        let (_, headers, _) = app
            .send(graphql(json!({"query": "{ nope }"}), None, Some("no spaces or quotes \" allowed")))
            .await;
        assert_ne!(headers["x-request-id"], "no spaces or quotes \" allowed");

        // Errors refused before execution carry it too, and so do other endpoints.
        let (status, headers, body) = app
            .send(graphql(json!({"query": "{ me { id } }"}), Some("not-a-token"), None))
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(body["errors"][0]["extensions"]["requestId"], json!(headers["x-request-id"].to_str().unwrap()));
        let (_, headers, _) = app.send(Request::get("/health").body(Body::empty()).unwrap()).await;
        assert!(headers.contains_key("x-request-id"));
    }

    async fn metrics_count_operations_by_name_role_and_outcome(backend) {
        let app = TestApp::seeded(backend).await;
        let employee = app.employee();
        app.data("query Departments { departments { edges { node { name } } } }", Some(&employee)).await;
        app.data("query Departments { departments { edges { node { name } } } }", Some(&employee)).await;
        app.gql("query Broken { customer(id: \"nope\") { id } }", Some(&employee)).await;
        app.gql("{ departments { nope } }", None).await;
        let (status, _) = app.post(json!({"query": "{ __typename }"}), Some("x.y.z")).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);

        let text = metrics_text(&app).await;
        let ok = [("transport", "http"), ("operation", "Departments"), ("role", "employee"), ("outcome", "ok")];
        assert_eq!(sample(&text, "graphql_requests_total", &ok), Some(2.0), "{text}");
        let field_error = [("operation", "Broken"), ("role", "employee"), ("outcome", "field_error")];
        assert_eq!(sample(&text, "graphql_requests_total", &field_error), Some(1.0), "{text}");
        let invalid = [("operation", "<none>"), ("role", "anonymous"), ("outcome", "request_error")];
        assert_eq!(sample(&text, "graphql_requests_total", &invalid), Some(2.0), "{text}");
        assert_eq!(sample(&text, "auth_rejected_tokens_total", &[("reason", "malformed")]), Some(1.0), "{text}");
        assert!(sample(&text, "graphql_request_duration_seconds_bucket", &[("operation", "Departments"), ("le", "+Inf")]).is_some(), "{text}");
        assert!(sample(&text, "db_pool_connections", &[]).is_some_and(|n| n >= 1.0), "{text}");
        assert!(sample(&text, "db_pool_idle_connections", &[]).is_some(), "{text}");
        assert_eq!(sample(&text, "db_up", &[]), Some(1.0));
        assert_eq!(sample(&text, "websocket_connections", &[]), Some(0.0));
        assert_eq!(sample(&text, "graphql_subscriptions", &[]), Some(0.0));
        assert!(sample(&text, "audit_queue_length", &[]).is_some());
        assert_eq!(sample(&text, "audit_dropped_total", &[]), Some(0.0));
        assert!(!text.contains(&employee), "no token in metrics");
    }

    async fn random_operation_names_share_one_label_past_the_cap(backend) {
        let app = TestApp::seeded_with(backend, |c| c.ops.metrics_operation_names = 3).await;
        for i in 0..20 {
            app.data(&format!("query Random{i} {{ __typename }}"), None).await;
        }
        let text = metrics_text(&app).await;
        let names: std::collections::BTreeSet<&str> = text
            .lines()
            .filter(|l| l.starts_with("graphql_requests_total{"))
            .filter_map(|l| l.split("operation=\"").nth(1)?.split('"').next())
            .collect();
        // Three names, a share of one per tier: anonymous callers have taken theirs.
        assert_eq!(names, ["<other>", "Random0"].into_iter().collect(), "{text}");
        assert_eq!(sample(&text, "graphql_requests_total", &[("operation", "<other>")]), Some(19.0));
        // Staff names keep their own share.
        app.data("query StaffReport { __typename }", Some(&app.employee())).await;
        let text = metrics_text(&app).await;
        assert!(text.contains("operation=\"StaffReport\""), "{text}");
    }

    async fn ready_checks_the_database_and_migrations(backend) {
        let app = TestApp::empty(backend).await;
        let (status, _, body) = app.send(Request::get("/ready").body(Body::empty()).unwrap()).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["migrations"], "applied");
        let (status, _, _) = app.send(Request::get("/health").body(Body::empty()).unwrap()).await;
        assert_eq!(status, StatusCode::OK);
    }

    async fn cors_allows_no_origin_in_production_unless_configured(backend) {
        let preflight = |origin: &str| {
            Request::options("/graphql")
                .header("origin", origin)
                .header("access-control-request-method", "POST")
                .header("access-control-request-headers", "authorization,content-type")
                .body(Body::empty())
                .unwrap()
        };
        // The test apps have a signing key: production mode.
        let app = TestApp::empty(backend).await;
        let (_, headers, _) = app.send(preflight("https://evil.example")).await;
        assert!(!headers.contains_key("access-control-allow-origin"), "{headers:?}");

        let app = TestApp::seeded_with(backend, |c| c.ops.cors_origins = vec!["https://app.example".into()]).await;
        let (_, headers, _) = app.send(preflight("https://app.example")).await;
        assert_eq!(headers["access-control-allow-origin"], "https://app.example");
        let (_, headers, _) = app.send(preflight("https://evil.example")).await;
        assert!(!headers.contains_key("access-control-allow-origin"));
        let (_, headers, _) = app.send(graphql(json!({"query": "{ __typename }"}), None, None)).await;
        assert!(headers.contains_key("x-request-id"));
    }
}
