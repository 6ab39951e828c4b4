//! Role-shaped schema: internal fields and types do not exist for clients and anonymous
//! callers — not in introspection, not by name, alias or fragment, not in error hints.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use crm_gateway::config::Introspection;

use crate::helpers::*;

/// Names the issue lists as internal-only, plus the manager-only ones.
const INTERNAL_NAMES: &[&str] = &[
    "lifetimeValue",
    "internalNotes",
    "internalNote",
    "slaDueAt",
    "slaBreached",
    "unitCost",
    "margin",
    "budget",
    "serviceAgreements",
    "ServiceAgreement",
    "healthScore",
    "churnRisk",
    "ChurnRisk",
    "members",
    "handler",
];

const FULL_INTROSPECTION: &str = r#"{ __schema { types { name
    fields(includeDeprecated: true) { name args { name } }
    inputFields { name } enumValues(includeDeprecated: true) { name } } } }"#;

/// Every type, field, argument and input-field name of an introspection result.
fn names(schema: &Value) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for ty in schema["__schema"]["types"].as_array().unwrap() {
        out.insert(ty["name"].as_str().unwrap().to_owned());
        for field in ty["fields"].as_array().into_iter().flatten() {
            out.insert(field["name"].as_str().unwrap().to_owned());
            for arg in field["args"].as_array().into_iter().flatten() {
                out.insert(arg["name"].as_str().unwrap().to_owned());
            }
        }
        for field in ty["inputFields"].as_array().into_iter().flatten() {
            out.insert(field["name"].as_str().unwrap().to_owned());
        }
    }
    out
}

both_backends! {
    async fn client_and_anonymous_introspection_names_no_internal_field_or_type(backend) {
        let app = TestApp::seeded_with(backend, |c| c.introspection = Introspection::All).await;
        let manager = names(&app.data(FULL_INTROSPECTION, Some(&app.manager())).await);
        for token in [None, Some(app.client())] {
            let public = names(&app.data(FULL_INTROSPECTION, token.as_deref()).await);
            for name in INTERNAL_NAMES {
                assert!(manager.contains(*name), "{name} should exist for managers");
                assert!(!public.contains(*name), "{name} leaked into the public schema");
            }
            assert!(public.is_subset(&manager));
        }
    }

    async fn employees_see_internal_fields_but_not_manager_only_ones(backend) {
        let app = TestApp::seeded(backend).await;
        let employee = names(&app.data(FULL_INTROSPECTION, Some(&app.employee())).await);
        for name in ["lifetimeValue", "internalNote", "slaBreached", "ServiceAgreement", "members"] {
            assert!(employee.contains(name), "employees should see {name}");
        }
        for name in ["budget", "unitCost", "margin"] {
            assert!(!employee.contains(name), "{name} is manager-only");
        }
        let body = app.gql("{ products { edges { node { unitCost } } } }", Some(&app.employee())).await;
        assert_eq!(first_code(&body), "GRAPHQL_VALIDATION_FAILED");
        let data = app
            .data("{ products { edges { node { unitCost margin } } } departments { edges { node { budget } } } }", Some(&app.manager()))
            .await;
        assert!(data["products"]["edges"][0]["node"]["unitCost"].as_f64().unwrap() > 0.0);
        assert!(data["departments"]["edges"][0]["node"]["budget"].as_f64().unwrap() > 0.0);
    }

    async fn selecting_a_hidden_field_fails_exactly_like_a_field_that_does_not_exist(backend) {
        let app = TestApp::seeded(backend).await;
        let client = app.client();
        let pairs = [
            ("{ customers { edges { node { internalNotes } } } }", "{ customers { edges { node { noSuchField } } } }"),
            ("{ customers { edges { node { x: lifetimeValue } } } }", "{ customers { edges { node { x: noSuchField } } } }"),
            ("{ customers { edges { node { ...F } } } } fragment F on Customer { healthScore }",
             "{ customers { edges { node { ...F } } } } fragment F on Customer { noSuchField }"),
            ("{ interactions { edges { node { ... on Interaction { internalNote } } } } }",
             "{ interactions { edges { node { ... on Interaction { noSuchField } } } } }"),
            ("{ serviceAgreements { totalCount } }", "{ noSuchRoot { totalCount } }"),
            ("{ products { edges { node { ... on ServiceAgreement { id } } } } }",
             "{ products { edges { node { ... on NoSuchType { id } } } } }"),
        ];
        for (hidden, missing) in pairs {
            let hidden_body = app.gql(hidden, Some(&client)).await;
            let missing_body = app.gql(missing, Some(&client)).await;
            assert_eq!(hidden_body.get("data"), missing_body.get("data"));
            assert_eq!(first_code(&hidden_body), "GRAPHQL_VALIDATION_FAILED", "{hidden_body}");
            assert_eq!(first_code(&missing_body), "GRAPHQL_VALIDATION_FAILED", "{missing_body}");
            // Same message shape, only the name differs.
            let shape = |body: &Value, name: &str| first_message(body).replace(name, "<name>");
            let hidden_name = ["internalNotes", "lifetimeValue", "healthScore", "internalNote", "serviceAgreements", "ServiceAgreement"]
                .into_iter().find(|n| hidden.contains(n)).unwrap();
            let missing_name = ["noSuchField", "noSuchRoot", "NoSuchType"].into_iter().find(|n| missing.contains(n)).unwrap();
            assert_eq!(shape(&hidden_body, hidden_name), shape(&missing_body, missing_name));
        }
    }

    async fn error_hints_never_suggest_hidden_names(backend) {
        let app = TestApp::seeded(backend).await;
        for query in [
            "{ customers { edges { node { internalNote } } } }",
            "{ customers { edges { node { lifetimeValu } } } }",
            "{ products { edges { node { unitCos } } } }",
            "{ serviceAgreement { id } }",
        ] {
            for token in [None, Some(app.client())] {
                let body = app.gql(query, token.as_deref()).await.to_string();
                assert!(!body.contains("Did you mean"), "{body}");
                for name in INTERNAL_NAMES {
                    let quoted = format!("\\\"{name}\\\"");
                    assert!(!body.contains(&quoted) || query.contains(name), "{name} leaked: {body}");
                }
            }
        }
    }

    async fn type_lookup_by_name_hides_internal_types(backend) {
        let app = TestApp::seeded_with(backend, |c| c.introspection = Introspection::All).await;
        let q = r#"{ __type(name: "ServiceAgreement") { name } c: __type(name: "Customer") { fields { name } } }"#;
        let data = app.data(q, Some(&app.client())).await;
        assert_eq!(data["__type"], Value::Null);
        let fields = data["c"]["fields"].to_string();
        assert!(!fields.contains("internalNotes"));
        let data = app.data(q, Some(&app.employee())).await;
        assert_eq!(data["__type"]["name"], "ServiceAgreement");
    }

    async fn access_explains_what_the_caller_sees(backend) {
        let app = TestApp::seeded(backend).await;
        let q = "{ access { authenticated role subject types { name fields } rowScopes { collection scope } } }";
        let client = app.data(q, Some(&app.client())).await["access"].clone();
        assert_eq!(client["role"], "CLIENT");
        assert_eq!(client["subject"], app.ids().client.to_string());
        let text = client.to_string();
        for name in INTERNAL_NAMES {
            assert!(!text.contains(&format!("\"{name}\"")), "{name} leaked via access");
        }
        assert!(text.contains("only your own"));
        let anon = app.data(q, None).await["access"].clone();
        assert_eq!(anon["authenticated"], false);
        let manager = app.data(q, Some(&app.manager())).await["access"].to_string();
        assert!(manager.contains("\"budget\"") && manager.contains("ServiceAgreement"));
    }

    async fn variables_cannot_smuggle_hidden_input(backend) {
        let app = TestApp::seeded(backend).await;
        // Unknown variable types are refused like unknown types.
        let body = app
            .gql_vars("query($x: ServiceAgreement) { viewer { role } }", json!({"x": null}), Some(&app.client()))
            .await;
        assert_eq!(first_code(&body), "GRAPHQL_VALIDATION_FAILED");
    }
}

both_backends! {
    async fn reads_of_internal_fields_are_audited_for_managers(backend) {
        let app = TestApp::seeded(backend).await;
        let employee = app.ids().employee.to_string();
        app.data("query PeekNotes { customers(first: 2) { edges { node { name internalNotes } } } }", Some(&app.employee())).await;
        app.data("{ customers { edges { node { name } } } }", Some(&app.employee())).await;
        app.data("{ viewer { customer { name } } }", Some(&app.client())).await;
        let query = "{ accessAudit(first: 50) { edges { node { customerId role operationName fields } } } }";
        // The writer is asynchronous by design: wait (bounded) for the entry to land.
        let mut entries = Vec::new();
        for _ in 0..100 {
            entries = nodes(&app.data(query, Some(&app.manager())).await["accessAudit"]);
            if entries.iter().any(|e| e["customerId"] == employee.as_str()) {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        let mine: Vec<_> = entries.iter().filter(|e| e["customerId"] == employee.as_str()).collect();
        assert_eq!(mine.len(), 1, "only the request that read internal fields: {entries:?}");
        assert_eq!(mine[0]["role"], "employee");
        assert_eq!(mine[0]["operationName"], "PeekNotes");
        assert_eq!(mine[0]["fields"], json!(["Customer.internalNotes"]));
        assert!(entries.iter().all(|e| e["customerId"] != app.ids().client.to_string().as_str()));
        // Nobody but a manager can even name the audit.
        for token in [app.employee(), app.client()] {
            let body = app.gql(query, Some(&token)).await;
            assert_eq!(first_code(&body), "GRAPHQL_VALIDATION_FAILED");
        }
    }
}

both_backends! {
    async fn the_audit_records_the_operation_that_ran_not_the_first_one(backend) {
        let app = TestApp::seeded(backend).await;
        let employee = app.token(crm_gateway::auth::Role::Employee, app.ids().employee);
        let doc = "query Harmless { customers(first: 1) { edges { node { name } } } } \
                   query PeekNotes { customers(first: 2) { edges { node { name internalNotes } } } } \
                   query PeekValue { customers(first: 1) { edges { node { lifetimeValue } } } }";
        let run = |name: &'static str| {
            app.post(json!({"query": doc, "operationName": name}), Some(&employee))
        };
        assert!(run("Harmless").await.1.get("errors").is_none());
        assert!(run("PeekValue").await.1.get("errors").is_none());
        let query = "{ accessAudit(first: 50) { edges { node { customerId operationName fields } } } }";
        let mine = app.ids().employee.to_string();
        let mut entries = Vec::new();
        for _ in 0..100 {
            entries = nodes(&app.data(query, Some(&app.manager())).await["accessAudit"]);
            if entries.iter().any(|e| e["customerId"] == mine.as_str()) {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        let mine: Vec<_> = entries.iter().filter(|e| e["customerId"] == mine.as_str()).collect();
        assert_eq!(mine.len(), 1, "only the operation that read internal fields: {entries:?}");
        assert_eq!(mine[0]["operationName"], "PeekValue");
        assert_eq!(mine[0]["fields"], json!(["Customer.lifetimeValue"]));
    }
}

both_backends! {
    async fn ordering_and_filtering_by_internal_values_is_audited_like_selecting_them(backend) {
        let app = TestApp::seeded(backend).await;
        let employee = app.employee();
        let token = Some(employee.as_str());
        let by_order = "query $NAME($o: CustomerOrderBy) { customers(first: 2, orderBy: $o) { edges { node { name } } } }";
        let by_filter = "query $NAME($f: InteractionFilter) { interactions(first: 2, filter: $f) { edges { node { subject } } } }";
        // Public fields, public keys and public filters: nothing to record.
        app.data("query Plain { customers(first: 2, orderBy: {field: NAME}, filter: {kind: EXTERNAL}) { edges { node { name } } } }", token).await;
        app.data_vars(&by_order.replace("$NAME", "PlainVariable"), json!({"o": {"field": "CUSTOMER_SINCE"}}), token).await;
        app.data_vars(&by_filter.replace("$NAME", "PlainFilter"), json!({"f": {"kinds": ["COMPLAINT"], "minSatisfaction": 2}}), token).await;
        // Ordered or filtered by internal values, none of them selected.
        app.data("query ByValue { customers(first: 2, orderBy: {field: LIFETIME_VALUE, direction: DESC}) { edges { node { name } } } }", token).await;
        app.data_vars(&by_order.replace("$NAME", "ByVariable"), json!({"o": {"field": "HEALTH_SCORE"}}), token).await;
        app.data("query ByDefault($f: CustomerOrderField = LIFETIME_VALUE) { customers(first: 1, orderBy: {field: $f}) { edges { node { name } } } }", token).await;
        app.data("query Breached { interactions(first: 2, filter: {slaBreached: true}) { edges { node { subject } } } }", token).await;
        let handler = gid(crm_gateway::graphql::types::NodeKind::Customer, app.ids().employee);
        app.data_vars(&by_filter.replace("$NAME", "ByHandler"), json!({"f": {"handlerId": handler, "kinds": ["INCIDENT"]}}), token).await;
        let expected = [
            ("ByValue", "CustomerOrderField.LIFETIME_VALUE"),
            ("ByVariable", "CustomerOrderField.HEALTH_SCORE"),
            ("ByDefault", "CustomerOrderField.LIFETIME_VALUE"),
            ("Breached", "InteractionFilter.slaBreached"),
            ("ByHandler", "InteractionFilter.handlerId"),
        ];
        let query = "{ accessAudit(first: 50) { edges { node { customerId role operationName fields } } } }";
        let me = app.ids().employee.to_string();
        let mut mine = Vec::new();
        // The writer is asynchronous by design: wait (bounded) for the entries to land.
        for _ in 0..100 {
            let entries = nodes(&app.data(query, Some(&app.manager())).await["accessAudit"]);
            mine = entries.into_iter().filter(|e| e["customerId"] == me.as_str()).collect();
            if mine.len() >= expected.len() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        let recorded: BTreeSet<(String, String)> = mine
            .iter()
            .map(|e| (e["operationName"].as_str().unwrap_or_default().to_owned(), e["fields"].to_string()))
            .collect();
        let wanted: BTreeSet<(String, String)> =
            expected.iter().map(|(op, field)| ((*op).to_owned(), json!([field]).to_string())).collect();
        assert_eq!(recorded, wanted, "only the requests that used internal values: {mine:?}");
        assert!(mine.iter().all(|e| e["role"] == "employee"));
    }
}
