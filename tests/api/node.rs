//! Relay's Global Object Identification: `node` and `nodes` refetch what each type's own lookup
//! returns, scoped the same way; everything the caller may not see is one and the same null;
//! a type hidden from a tier is no `Node` there; answers keep selection order under `node`.

use serde_json::{Value, json};

use crate::helpers::*;

const NODE: &str = "query($id: ID!) { node(id: $id) { __typename id } }";

async fn node(app: &TestApp, id: &str, token: Option<&str>) -> Value {
    app.gql_vars(NODE, json!({ "id": id }), token).await
}

/// The first node's id of the root connection `field`, as `token` lists it.
async fn first_id(app: &TestApp, field: &str, token: &str) -> String {
    let data = app
        .data(
            &format!("{{ {field}(first: 1) {{ nodes {{ id }} }} }}"),
            Some(token),
        )
        .await;
    data[field]["nodes"][0]["id"]
        .as_str()
        .expect("an id")
        .to_owned()
}

both_backends! {
    async fn node_refetches_every_type_as_its_own_lookup_returns_it(backend) {
        let app = TestApp::seeded(backend).await;
        let manager = app.manager();
        for (list, lookup, typename) in [
            ("customers", Some("customer"), "Customer"),
            ("interactions", Some("interaction"), "Interaction"),
            ("departments", Some("department"), "Department"),
            ("products", Some("product"), "Product"),
            ("purchases", None, "Purchase"),
            ("knowledgeArticles", Some("knowledgeArticle"), "KnowledgeArticle"),
            ("serviceAgreements", None, "ServiceAgreement"),
        ] {
            let id = first_id(&app, list, &manager).await;
            let body = node(&app, &id, Some(&manager)).await;
            assert_eq!(body["data"]["node"], json!({ "__typename": typename, "id": id }), "{list}: {body}");
            if let Some(lookup) = lookup {
                let own = app.data_vars(&format!("query($id: ID!) {{ {lookup}(id: $id) {{ id }} }}"), json!({ "id": id }), Some(&manager)).await;
                assert_eq!(own[lookup]["id"], id.as_str(), "{lookup} takes the global id");
            }
        }
    }

    async fn ids_are_global_and_plain_numbers_are_still_accepted(backend) {
        let app = TestApp::seeded(backend).await;
        let me = app.ids().client;
        let data = app.data("{ viewer { customer { id } } }", Some(&app.client())).await;
        assert_eq!(data["viewer"]["customer"]["id"], gid(NodeKind::Customer, me).as_str());
        assert_ne!(gid(NodeKind::Customer, me), gid(NodeKind::Interaction, me), "unique across types");
        for id in [me.to_string(), gid(NodeKind::Customer, me)] {
            let data = app.data_vars("query($id: ID!) { customer(id: $id) { id } }", json!({ "id": id }), Some(&app.client())).await;
            assert_eq!(data["customer"]["id"], gid(NodeKind::Customer, me).as_str(), "{id}");
        }
        // Another type's global id names no customer: refused as an invalid id, never read.
        let body = app.gql_vars("query($id: ID!) { customer(id: $id) { id } }", json!({ "id": gid(NodeKind::Interaction, me) }), Some(&app.client())).await;
        assert_eq!(first_code(&body), "BAD_USER_INPUT", "{body}");
    }

    async fn what_a_client_may_not_see_is_the_same_null_as_a_missing_record(backend) {
        let app = TestApp::seeded(backend).await;
        let client = app.client();
        let manager = app.manager();
        let missing = node(&app, &gid(NodeKind::Customer, 999_999), Some(&client)).await;
        assert_eq!(missing, json!({ "data": { "node": null } }));
        let mine = node(&app, &gid(NodeKind::Customer, app.ids().client), Some(&client)).await;
        assert_eq!(mine["data"]["node"]["__typename"], "Customer", "{mine}");
        let others = [
            gid(NodeKind::Customer, app.ids().employee),
            first_id(&app, "serviceAgreements", &manager).await,
            "not a global id".to_owned(),
            gid(NodeKind::Customer, 0),
            app.ids().client.to_string(),
        ];
        for id in others {
            assert_eq!(node(&app, &id, Some(&client)).await, missing, "{id}");
        }
        let all = app.data("{ interactions(first: 50) { nodes { id customer { id } } } }", Some(&manager)).await;
        let mine_id = gid(NodeKind::Customer, app.ids().client);
        let foreign = all["interactions"]["nodes"].as_array().unwrap().iter()
            .find(|i| i["customer"]["id"] != mine_id.as_str()).unwrap()["id"].as_str().unwrap().to_owned();
        assert_eq!(node(&app, &foreign, Some(&client)).await, missing);
        assert_eq!(node(&app, &foreign, Some(&app.employee())).await["data"]["node"]["id"], foreign.as_str());
    }

    async fn anonymous_callers_refetch_only_the_catalogue(backend) {
        let app = TestApp::seeded(backend).await;
        let product = first_id(&app, "products", &app.employee()).await;
        let body = node(&app, &product, None).await;
        assert_eq!(body["data"]["node"]["id"], product.as_str(), "{body}");
        let customer = gid(NodeKind::Customer, app.ids().client);
        assert_eq!(node(&app, &customer, None).await, json!({ "data": { "node": null } }));
    }

    async fn nodes_answers_in_order_with_nulls_and_is_bounded(backend) {
        let app = TestApp::seeded(backend).await;
        let client = app.client();
        let me = gid(NodeKind::Customer, app.ids().client);
        let theirs = gid(NodeKind::Customer, app.ids().employee);
        let data = app.data_vars("query($ids: [ID!]!) { nodes(ids: $ids) { id } }", json!({ "ids": [theirs, me, "x"] }), Some(&client)).await;
        assert_eq!(data["nodes"], json!([null, { "id": me }, null]));
        let many: Vec<String> = (1..=101).map(|n| gid(NodeKind::Product, n)).collect();
        let body = app.gql_vars("query($ids: [ID!]!) { nodes(ids: $ids) { id } }", json!({ "ids": many }), Some(&client)).await;
        assert_eq!(first_code(&body), "BAD_USER_INPUT", "{body}");
    }

    async fn a_hidden_type_is_no_node_for_the_tier(backend) {
        let app = TestApp::seeded_with(backend, |c| c.introspection = crm_gateway::config::Introspection::All).await;
        let possible = "{ __type(name: \"Node\") { kind possibleTypes { name } } }";
        let names = |body: Value| -> Vec<String> {
            let mut names: Vec<String> = body["__type"]["possibleTypes"].as_array().unwrap().iter()
                .map(|t| t["name"].as_str().unwrap().to_owned()).collect();
            names.sort();
            names
        };
        let public = ["Customer", "Department", "Interaction", "KnowledgeArticle", "Product", "Purchase"];
        for token in [None, Some(app.client())] {
            assert_eq!(names(app.data(possible, token.as_deref()).await), public);
        }
        let mut internal = public.to_vec();
        internal.push("ServiceAgreement");
        for token in [app.employee(), app.manager()] {
            assert_eq!(names(app.data(possible, Some(&token)).await), internal);
        }
        // Naming the hidden type in a fragment is an unknown type for a client, not a null.
        let body = app.gql("{ node(id: \"x\") { ... on ServiceAgreement { service } } }", Some(&app.client())).await;
        assert!(body["errors"][0]["message"].as_str().unwrap().contains("ServiceAgreement"), "{body}");
    }

    async fn fragments_under_node_answer_in_selection_order(backend) {
        use http_body_util::BodyExt;
        use tower::ServiceExt;
        let app = TestApp::seeded(backend).await;
        let id = gid(NodeKind::Customer, app.ids().client);
        // The Interaction fragment lists `id` before the Customer fragment's `name`: merged
        // across types the order would be wrong for a Customer.
        let query = "query($id: ID!) { node(id: $id) {
            ... on Interaction { subject id }
            ... on Customer { interactions(first: 2) { totalCount nodes { subject id } } name id }
            __typename
        } }";
        let request = axum::http::Request::post("/graphql")
            .header("content-type", "application/json")
            .header("authorization", format!("Bearer {}", app.client()))
            .body(axum::body::Body::from(json!({ "query": query, "variables": { "id": id } }).to_string()))
            .unwrap();
        let response = app.router.clone().oneshot(request).await.unwrap();
        let text = String::from_utf8(response.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap();
        assert!(text.starts_with(r#"{"data":{"node":{"interactions":{"totalCount":"#), "{text}");
        let at = |key: &str| text.rfind(&format!("\"{key}\":")).unwrap();
        assert!(at("interactions") < at("name") && at("name") < at("id") && at("id") < at("__typename"), "{text}");
        assert!(text.contains(r#""nodes":[{"subject":"#), "{text}");
    }
}
