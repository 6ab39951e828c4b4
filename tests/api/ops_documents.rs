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

/// Selects fields only staff have: for a client they do not exist.
const INSIGHT: &str = "query Insight { customers(first: 2) { edges { node { name lifetimeValue internalNotes churnRisk } } } }";

/// POSTs `body` with a fixed request id and returns the raw answer, so two answers can be
/// compared byte for byte.
async fn raw_post(app: &TestApp, body: Value, token: Option<&str>) -> (StatusCode, Vec<u8>) {
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let mut request = Request::post("/graphql")
        .header("content-type", "application/json")
        .header("x-request-id", "same-id");
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let request = request.body(Body::from(body.to_string())).unwrap();
    let response = app.router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    (
        status,
        response
            .into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec(),
    )
}

/// The answer to a hash never seen, for `token`.
async fn unknown_hash(app: &TestApp, token: Option<&str>) -> (StatusCode, Vec<u8>) {
    raw_post(
        app,
        json!({"extensions": persisted(&sha256_hex("{ never }"))}),
        token,
    )
    .await
}

both_backends! {
    async fn a_hash_registered_by_staff_is_unknown_to_other_tiers(backend) {
        let app = TestApp::seeded(backend).await;
        let employee = app.employee();
        let client = app.client();
        let hash = sha256_hex(INSIGHT);
        let registered = app.post(json!({"query": INSIGHT, "extensions": persisted(&hash)}), Some(&employee)).await;
        assert!(registered.1["data"]["customers"].is_object(), "{}", registered.1);
        let (_, hit) = app.post(json!({"extensions": persisted(&hash)}), Some(&employee)).await;
        assert_eq!(hit["data"], registered.1["data"], "{hit}");

        for token in [Some(client.as_str()), None] {
            let answer = raw_post(&app, json!({"extensions": persisted(&hash)}), token).await;
            assert_eq!(answer, unknown_hash(&app, token).await, "{}", String::from_utf8_lossy(&answer.1));
            let text = String::from_utf8_lossy(&answer.1);
            assert!(text.contains("PERSISTED_QUERY_NOT_FOUND") && !text.contains("lifetimeValue"), "{text}");
            // Over GET too.
            let ext = encode(&persisted(&hash).to_string());
            let (_, body) = get(&app, &format!("extensions={ext}"), token).await;
            assert_eq!(first_code(&body), "PERSISTED_QUERY_NOT_FOUND", "{body}");
            assert_eq!(body["errors"].as_array().map(Vec::len), Some(1), "{body}");
        }
    }

    async fn a_client_cannot_register_a_document_it_may_not_run(backend) {
        let app = TestApp::seeded(backend).await;
        let client = app.client();
        let hash = sha256_hex(INSIGHT);
        let refused = app.post(json!({"query": INSIGHT, "extensions": persisted(&hash)}), Some(&client)).await;
        assert_eq!(first_code(&refused.1), "GRAPHQL_VALIDATION_FAILED", "{}", refused.1);
        // Not stored: the hash alone is unknown, to the client and to an employee.
        for token in [client.as_str(), app.employee().as_str()] {
            let answer = raw_post(&app, json!({"extensions": persisted(&hash)}), Some(token)).await;
            assert_eq!(answer, unknown_hash(&app, Some(token)).await, "{}", String::from_utf8_lossy(&answer.1));
        }
    }

    async fn an_anonymous_flood_cannot_evict_an_employees_entry(backend) {
        let app = TestApp::seeded_with(backend, |c| {
            c.ops.apq_cache_size = 4;
            c.ops.apq_caller_share = 2;
        }).await;
        let employee = app.employee();
        let hash = sha256_hex(INSIGHT);
        app.post(json!({"query": INSIGHT, "extensions": persisted(&hash)}), Some(&employee)).await;
        let client = app.client();
        let mine = "query Mine { viewer { role } }";
        app.post(json!({"query": mine, "extensions": persisted(&sha256_hex(mine))}), Some(&client)).await;
        for i in 0..30 {
            let junk = format!("query Junk{i} {{ __typename }}");
            let (_, body) = app.post(json!({"query": junk, "extensions": persisted(&sha256_hex(&junk))}), None).await;
            assert_eq!(body["data"]["__typename"], "Query", "{body}");
        }
        let (_, hit) = app.post(json!({"extensions": persisted(&hash)}), Some(&employee)).await;
        assert!(hit["data"]["customers"].is_object(), "{hit}");
        let (_, hit) = app.post(json!({"extensions": persisted(&sha256_hex(mine))}), Some(&client)).await;
        assert_eq!(hit["data"]["viewer"]["role"], "CLIENT", "{hit}");
        // The flood only cycled through its own share.
        let last = sha256_hex("query Junk29 { __typename }");
        let (_, hit) = app.post(json!({"extensions": persisted(&last)}), None).await;
        assert_eq!(hit["data"]["__typename"], "Query", "{hit}");
        let first = sha256_hex("query Junk0 { __typename }");
        let (_, miss) = app.post(json!({"extensions": persisted(&first)}), None).await;
        assert_eq!(first_code(&miss), "PERSISTED_QUERY_NOT_FOUND", "{miss}");
    }

    async fn a_manifest_entry_without_roles_that_selects_internal_fields_is_unknown_for_a_client(backend) {
        let manifest = json!({ "insight-v1": INSIGHT, "viewer-v1": VIEWER });
        let app = with_manifest(backend, TrustedMode::Off, manifest).await;
        let client = app.client();
        for token in [Some(client.as_str()), None] {
            let by_id = raw_post(&app, json!({"documentId": "insight-v1"}), token).await;
            let unknown = raw_post(&app, json!({"documentId": "nope"}), token).await;
            assert_eq!(by_id, unknown, "{}", String::from_utf8_lossy(&by_id.1));
            let by_hash = raw_post(&app, json!({"extensions": persisted(&sha256_hex(INSIGHT))}), token).await;
            assert_eq!(by_hash, unknown_hash(&app, token).await, "{}", String::from_utf8_lossy(&by_hash.1));
        }
        let (_, body) = app.post(json!({"documentId": "viewer-v1"}), Some(&client)).await;
        assert_eq!(body["data"]["viewer"]["role"], "CLIENT", "{body}");
        let (_, body) = app.post(json!({"documentId": "insight-v1"}), Some(&app.employee())).await;
        assert!(body["data"]["customers"].is_object(), "{body}");
    }

    async fn a_staff_hash_is_unknown_to_a_client_over_websocket(backend) {
        let app = TestApp::seeded(backend).await;
        let addr = app.serve().await;
        let hash = sha256_hex(INSIGHT);
        let (mut staff, _) = connect(addr, Some(&app.employee())).await;
        send(&mut staff, json!({"id": "1", "type": "subscribe", "payload": {"query": INSIGHT, "extensions": persisted(&hash)}})).await;
        let answer = next(&mut staff).await;
        assert!(answer["payload"]["data"]["customers"].is_object(), "{answer}");
        let (mut ws, ack) = connect(addr, Some(&app.client())).await;
        assert_eq!(ack["type"], "connection_ack");
        send(&mut ws, json!({"id": "1", "type": "subscribe", "payload": {"query": "", "extensions": persisted(&hash)}})).await;
        let staff_hash = next(&mut ws).await;
        send(&mut ws, json!({"id": "1", "type": "subscribe", "payload": {"query": "", "extensions": persisted(&sha256_hex("{ never }"))}})).await;
        let never = next(&mut ws).await;
        assert_eq!(staff_hash["type"], "error", "{staff_hash}");
        assert_eq!(staff_hash, never);
        assert_eq!(staff_hash["payload"][0]["extensions"]["code"], "PERSISTED_QUERY_NOT_FOUND");
    }
}
