//! Trusted documents (a manifest in the formats GraphQL codegen, Relay and Apollo emit, with
//! optional roles per document) and Apollo's automatic persisted queries, over POST, GET and
//! WebSocket.

use axum::{
    body::Body,
    http::{Request, StatusCode},
};
use crm_gateway::ops::{config::TrustedMode, documents::sha256_hex};
use serde_json::{Value, json};

use crate::{helpers::*, live::*};

const DEPARTMENTS: &str = "query Departments { departments { edges { node { name } } } }";
const VIEWER: &str = "query Viewer { viewer { role } }";
const STAFF_ONLY: &str = "query Staff { customers(first: 1) { edges { node { name } } } }";

/// An Apollo persisted-query manifest with one staff-only entry.
fn apollo_manifest() -> Value {
    json!({
        "format": "apollo-persisted-query-manifest",
        "version": 1,
        "operations": [
            {"id": sha256_hex(DEPARTMENTS), "name": "Departments", "type": "query", "body": DEPARTMENTS},
            {"id": "viewer-v1", "name": "Viewer", "type": "query", "body": VIEWER},
            {"id": "staff-v1", "name": "Staff", "type": "query", "body": STAFF_ONLY, "roles": ["employee", "manager"]},
        ]
    })
}

async fn with_manifest(backend: Backend, mode: TrustedMode, manifest: Value) -> TestApp {
    let path = std::env::temp_dir().join(format!(
        "manifest_{}_{}.json",
        std::process::id(),
        rand_suffix()
    ));
    std::fs::write(&path, manifest.to_string()).unwrap();
    let app = TestApp::seeded_with(backend, |c| {
        c.ops.trusted_documents = mode;
        c.ops.trusted_documents_file = Some(path.clone());
    })
    .await;
    std::fs::remove_file(&path).ok();
    app
}

fn rand_suffix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
}

fn persisted(hash: &str) -> Value {
    json!({"persistedQuery": {"version": 1, "sha256Hash": hash}})
}

/// Percent-encodes a query-string value.
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

async fn get(app: &TestApp, query_string: &str, token: Option<&str>) -> (StatusCode, Value) {
    let mut request = Request::get(format!("/graphql?{query_string}"));
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let (status, _, body) = app.send(request.body(Body::empty()).unwrap()).await;
    (status, body)
}

both_backends! {
    async fn enforce_runs_only_manifest_documents_by_id_or_hash(backend) {
        let app = with_manifest(backend, TrustedMode::Enforce, apollo_manifest()).await;
        let employee = app.employee();
        let client = app.client();
        let by_hash = app.post(json!({"extensions": persisted(&sha256_hex(DEPARTMENTS))}), Some(&client)).await;
        assert!(by_hash.1["data"]["departments"]["edges"].is_array(), "{}", by_hash.1);
        let by_id = app.post(json!({"documentId": "viewer-v1"}), Some(&client)).await;
        assert_eq!(by_id.1["data"]["viewer"]["role"], "CLIENT", "{}", by_id.1);
        let relay = app.post(json!({"id": "viewer-v1", "variables": {}}), Some(&client)).await;
        assert_eq!(relay.1["data"]["viewer"]["role"], "CLIENT", "{}", relay.1);
        // The full text of a trusted document is the same document.
        let text = app.post(json!({"query": VIEWER}), Some(&client)).await;
        assert_eq!(text.1["data"]["viewer"]["role"], "CLIENT", "{}", text.1);

        // Anything else is refused, for every role.
        for token in [Some(client.as_str()), Some(employee.as_str()), None] {
            let free = app.post(json!({"query": "{ __typename }"}), token).await;
            assert_eq!(first_code(&free.1), "PERSISTED_QUERY_NOT_FOUND", "{}", free.1);
            assert!(free.1.get("data").is_none());
            let unknown = app.post(json!({"documentId": "nope"}), token).await;
            assert_eq!(first_code(&unknown.1), "PERSISTED_QUERY_NOT_FOUND");
        }
        // A document bound to staff does not exist for a client.
        let staff = app.post(json!({"documentId": "staff-v1"}), Some(&client)).await;
        assert_eq!(first_code(&staff.1), "PERSISTED_QUERY_NOT_FOUND", "{}", staff.1);
        let staff = app.post(json!({"documentId": "staff-v1"}), Some(&employee)).await;
        assert!(staff.1["data"]["customers"].is_object(), "{}", staff.1);

        // GET by id and by hash; the graphql-response+json media type gets a 4xx refusal.
        let (status, body) = get(&app, "documentId=viewer-v1", Some(&client)).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["data"]["viewer"]["role"], "CLIENT", "{body}");
        let ext = encode(&persisted(&sha256_hex(DEPARTMENTS)).to_string());
        let (_, body) = get(&app, &format!("extensions={ext}"), Some(&client)).await;
        assert!(body["data"]["departments"].is_object(), "{body}");
        let (_, _, body) = app.send(Request::post("/graphql")
            .header("content-type", "application/json")
            .header("accept", "application/graphql-response+json")
            .body(Body::from(json!({"query": "{ __typename }"}).to_string())).unwrap()).await;
        assert_eq!(first_code(&body), "PERSISTED_QUERY_NOT_FOUND");
    }

    async fn allow_lets_staff_send_free_documents_but_not_clients(backend) {
        let manifest = json!({ sha256_hex(VIEWER): VIEWER });
        let app = with_manifest(backend, TrustedMode::Allow, manifest).await;
        let free = app.post(json!({"query": DEPARTMENTS}), Some(&app.employee())).await;
        assert!(free.1["data"]["departments"].is_object(), "{}", free.1);
        let free = app.post(json!({"query": DEPARTMENTS}), Some(&app.client())).await;
        assert_eq!(first_code(&free.1), "PERSISTED_QUERY_NOT_FOUND", "{}", free.1);
        let trusted = app.post(json!({"documentId": sha256_hex(VIEWER)}), Some(&app.client())).await;
        assert_eq!(trusted.1["data"]["viewer"]["role"], "CLIENT", "{}", trusted.1);
        // A client cannot smuggle a free document in through APQ either.
        let hash = sha256_hex(DEPARTMENTS);
        let apq = app.post(json!({"query": DEPARTMENTS, "extensions": persisted(&hash)}), Some(&app.client())).await;
        assert_eq!(first_code(&apq.1), "PERSISTED_QUERY_NOT_FOUND");
    }

    async fn automatic_persisted_queries_register_by_post_and_run_by_get(backend) {
        let app = TestApp::seeded(backend).await;
        let client = app.client();
        let me = Some(client.as_str());
        let hash = sha256_hex(DEPARTMENTS);
        let ext = encode(&persisted(&hash).to_string());
        let (_, miss) = get(&app, &format!("extensions={ext}"), me).await;
        assert_eq!(first_code(&miss), "PERSISTED_QUERY_NOT_FOUND", "{miss}");
        assert_eq!(miss["errors"][0]["message"], "PersistedQueryNotFound");

        let wrong = app.post(json!({"query": DEPARTMENTS, "extensions": persisted(&sha256_hex("{ x }"))}), me).await;
        assert_eq!(first_code(&wrong.1), "BAD_REQUEST", "the hash is verified: {}", wrong.1);
        let (_, still) = get(&app, &format!("extensions={ext}"), me).await;
        assert_eq!(first_code(&still), "PERSISTED_QUERY_NOT_FOUND");

        let registered = app.post(json!({"query": DEPARTMENTS, "extensions": persisted(&hash)}), me).await;
        assert!(registered.1["data"]["departments"].is_object(), "{}", registered.1);
        let (status, hit) = get(&app, &format!("extensions={ext}&operationName=Departments"), me).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(hit["data"], registered.1["data"], "{hit}");

        // Another replica has not seen it: a miss, and the client simply registers again.
        let replica = app.replica().await;
        let (_, miss) = get(&replica, &format!("extensions={ext}"), me).await;
        assert_eq!(first_code(&miss), "PERSISTED_QUERY_NOT_FOUND");
    }

    async fn persisted_documents_work_over_websocket_too(backend) {
        let app = with_manifest(backend, TrustedMode::Enforce, apollo_manifest()).await;
        let addr = app.serve().await;
        let (mut ws, ack) = connect(addr, Some(&app.client())).await;
        assert_eq!(ack["type"], "connection_ack");
        send(&mut ws, json!({"id": "1", "type": "subscribe", "payload": {"query": "", "extensions": persisted(&sha256_hex(DEPARTMENTS))}})).await;
        let answer = next(&mut ws).await;
        assert!(answer["payload"]["data"]["departments"].is_object(), "{answer}");
        assert_eq!(next(&mut ws).await["type"], "complete");
        send(&mut ws, json!({"id": "2", "type": "subscribe", "payload": {"query": "{ __typename }"}})).await;
        let refused = next(&mut ws).await;
        assert_eq!(refused["type"], "error", "{refused}");
        assert_eq!(refused["payload"][0]["extensions"]["code"], "PERSISTED_QUERY_NOT_FOUND");
    }
}
