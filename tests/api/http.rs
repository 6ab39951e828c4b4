//! GraphQL over HTTP: status codes, content types, GraphiQL, health, and clear coded errors
//! for every kind of bad input.

use axum::{
    body::Body,
    http::{Request, StatusCode},
};
use serde_json::{Value, json};

use crate::helpers::*;

fn post_raw(body: &str, content_type: &str, accept: Option<&str>) -> Request<Body> {
    let mut request = Request::post("/graphql").header("content-type", content_type);
    if let Some(accept) = accept {
        request = request.header("accept", accept);
    }
    request.body(Body::from(body.to_owned())).unwrap()
}

both_backends! {
    async fn health_reports_the_database(backend) {
        let app = TestApp::empty(backend).await;
        let (status, _, body) = app.send(Request::get("/health").body(Body::empty()).unwrap()).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["database"], "ok");
    }

    async fn get_without_a_query_serves_graphiql(backend) {
        let app = TestApp::empty(backend).await;
        let (status, headers, body) = app.send(Request::get("/graphql").body(Body::empty()).unwrap()).await;
        assert_eq!(status, StatusCode::OK);
        assert!(headers["content-type"].to_str().unwrap().starts_with("text/html"));
        assert!(body.as_str().unwrap().to_lowercase().contains("graphiql"));
    }

    async fn get_with_a_query_executes_it_but_never_a_mutation(backend) {
        let app = TestApp::seeded(backend).await;
        let (status, _, body) = app
            .send(Request::get("/graphql?query=%7Bproducts%7BtotalCount%7D%7D").body(Body::empty()).unwrap())
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["data"]["products"]["totalCount"], 7);
        let (status, headers, body) = app
            .send(Request::get("/graphql?query=mutation%7Bx%7D").body(Body::empty()).unwrap())
            .await;
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(headers["allow"], "POST");
        assert_eq!(first_code(&body), "METHOD_NOT_ALLOWED");
    }

    async fn malformed_bodies_get_coded_errors_not_panics(backend) {
        let app = TestApp::empty(backend).await;
        for (body, content_type, status) in [
            ("{not json", "application/json", StatusCode::BAD_REQUEST),
            ("[]", "application/json", StatusCode::BAD_REQUEST),
            ("{\"query\": 42}", "application/json", StatusCode::BAD_REQUEST),
            ("{}", "application/json", StatusCode::BAD_REQUEST),
            ("{\"query\": \"{ viewer { role } }\", \"variables\": [1]}", "application/json", StatusCode::BAD_REQUEST),
            ("query { viewer { role } }", "text/plain", StatusCode::UNSUPPORTED_MEDIA_TYPE),
        ] {
            let (got, _, json) = app.send(post_raw(body, content_type, None)).await;
            assert_eq!(got, status, "{body}: {json}");
            assert_eq!(first_code(&json), "BAD_REQUEST", "{json}");
        }
    }

    async fn parse_and_validation_errors_carry_codes_and_statuses(backend) {
        let app = TestApp::empty(backend).await;
        let body = json!({"query": "{ viewer { "}).to_string();
        let (status, headers, json) = app.send(post_raw(&body, "application/json", None)).await;
        assert_eq!(status, StatusCode::OK);
        assert!(headers["content-type"].to_str().unwrap().starts_with("application/json"));
        assert_eq!(first_code(&json), "GRAPHQL_PARSE_FAILED");
        let (status, headers, json) = app
            .send(post_raw(&body, "application/json", Some("application/graphql-response+json")))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(headers["content-type"].to_str().unwrap().starts_with("application/graphql-response+json"));
        assert_eq!(first_code(&json), "GRAPHQL_PARSE_FAILED");
        let body = json!({"query": "{ products(first: \"ten\") { totalCount } }"}).to_string();
        let (_, _, json) = app.send(post_raw(&body, "application/json", None)).await;
        assert_eq!(first_code(&json), "GRAPHQL_VALIDATION_FAILED");
    }

    async fn bad_arguments_name_the_field(backend) {
        let app = TestApp::seeded(backend).await;
        let token = app.employee();
        for (query, field) in [
            ("{ customer(id: \"abc\") { id } }", "id"),
            ("{ customer(id: \"-1\") { id } }", "id"),
            ("{ products(first: 101) { totalCount } }", "first"),
            ("{ products(first: -1) { totalCount } }", "first"),
            ("{ products(first: 2, last: 2) { totalCount } }", "first"),
            ("{ products(after: \"garbage\") { totalCount } }", "after"),
            ("{ customers(first: 1) { edges { node { interactions(first: 1000) { nodes { id } } } } } }", "first"),
        ] {
            let body = app.gql(query, Some(&token)).await;
            assert_eq!(first_code(&body), "BAD_USER_INPUT", "{query}: {body}");
            assert_eq!(body["errors"][0]["extensions"]["field"], field, "{body}");
        }
    }

    async fn deep_queries_are_refused(backend) {
        let app = TestApp::seeded(backend).await;
        let mut query = String::from("{ customers { edges { node { ");
        for _ in 0..8 {
            query.push_str("interactions { nodes { customer { ");
        }
        query.push_str("id");
        for _ in 0..8 {
            query.push_str(" } } }");
        }
        query.push_str(" } } } }");
        let body = app.gql(&query, Some(&app.employee())).await;
        assert_eq!(first_code(&body), "QUERY_TOO_COMPLEX", "{body}");
        assert_eq!(body.get("data").cloned().unwrap_or(Value::Null), Value::Null);
    }

    async fn alias_bombs_are_refused_before_they_run(backend) {
        let app = TestApp::seeded(backend).await;
        let bomb: String = (0..500).map(|i| format!("c{i}: customers {{ totalCount }} ")).collect();
        let token = app.employee();
        // The token's subject is looked up once, then cached: not part of what is measured.
        app.data("{ viewer { role } }", Some(&token)).await;
        let (count, body) = app.count_selects(app.gql(&format!("{{ {bomb} }}"), Some(&token))).await;
        assert_eq!(first_code(&body), "QUERY_TOO_COMPLEX", "{body}");
        assert!(first_message(&body).contains("complex"), "{body}");
        assert_eq!(count, 0, "nothing ran");
        // A generous but honest front-end query still fits.
        app.data("{ customers(first: 100) { totalCount edges { cursor node { id name email segment status lifetimeValue interactions(first: 5) { edges { node { id subject status department { name } } } } } } } }", Some(&app.employee())).await;
    }

    async fn unknown_routes_answer_json_404(backend) {
        let app = TestApp::empty(backend).await;
        let (status, _, body) = app.send(Request::get("/nope").body(Body::empty()).unwrap()).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(first_code(&body), "NOT_FOUND");
    }

    async fn oversized_bodies_are_refused(backend) {
        let app = TestApp::empty(backend).await;
        let huge = json!({"query": format!("{{ viewer {{ role }} }} #{}", "x".repeat(300 * 1024))}).to_string();
        let (status, _, body) = app.send(post_raw(&huge, "application/json", None)).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(first_code(&body), "BAD_REQUEST", "{body}");
    }
}

both_backends! {
    async fn response_objects_keep_the_selection_order(backend) {
        use http_body_util::BodyExt;
        use tower::ServiceExt;
        let app = TestApp::seeded(backend).await;
        // `name` before `id`, `subject` before `id`, aliases and a `__typename` in between:
        // the body lists every object's keys as the query selects them (GraphQL's
        // "ordered map" rule), not alphabetically.
        let query = "{ customers(first: 2) { totalCount edges { node { name id zz: kind interactions(first: 1) { nodes { subject __typename id } } } } } }";
        let request = Request::post("/graphql")
            .header("content-type", "application/json")
            .header("authorization", format!("Bearer {}", app.manager()))
            .body(Body::from(json!({ "query": query }).to_string()))
            .unwrap();
        let response = app.router.clone().oneshot(request).await.unwrap();
        let text = String::from_utf8(response.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap();
        assert!(text.starts_with(r#"{"data":{"customers":{"totalCount":"#), "{text}");
        assert!(text.contains(r#"{"node":{"name":"#), "{text}");
        let node = &text[text.find(r#"{"node":"#).unwrap()..];
        let at = |key: &str| node.find(&format!("\"{key}\":")).unwrap();
        assert!(at("name") < at("id") && at("id") < at("zz") && at("zz") < at("interactions"), "{text}");
        assert!(node.contains(r#""nodes":[{"subject":"#), "{text}");
        let nested = &node[node.find(r#""nodes":[{"subject""#).unwrap()..];
        let at = |key: &str| nested.find(&format!("\"{key}\":")).unwrap();
        assert!(at("subject") < at("__typename") && at("__typename") < at("id"), "{text}");
    }
}

both_backends! {
    async fn a_subscription_over_http_is_refused_before_it_runs(backend) {
        let app = TestApp::seeded(backend).await;
        let body = app
            .gql("subscription Watch { interactionChanged { change } }", Some(&app.employee()))
            .await;
        assert_eq!(first_code(&body), "BAD_REQUEST", "{body}");
        assert!(body.get("data").is_none(), "{body}");
    }
}
