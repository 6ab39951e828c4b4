//! Writing: validated inputs with field-named errors, the same policy as reads, transactions,
//! and optimistic locking that never loses a concurrent update.

use serde_json::{Value, json};

use crate::helpers::*;

const OPEN: &str = "mutation($input: OpenInteractionInput!) { openInteraction(input: $input) { id status version customer { id } department { name } } }";

fn open_input(department: &str, subject: &str) -> Value {
    json!({"input": {"departmentId": department, "channel": "PORTAL", "kind": "REQUEST",
                     "subject": subject, "summary": "Please call me back about my plan."}})
}

both_backends! {
    async fn a_client_opens_an_interaction_only_with_customer_facing_departments(backend) {
        let app = TestApp::seeded(backend).await;
        let client = app.client();
        let care = department_id(&app, "Customer Care").await;
        let body = app.gql_vars(OPEN, open_input(&care, "Plan question"), Some(&client)).await;
        assert!(body.get("errors").is_none(), "{body}");
        let opened = &body["data"]["openInteraction"];
        assert_eq!(opened["status"], "OPEN");
        assert_eq!(opened["customer"]["id"], gid(NodeKind::Customer, app.ids().client));
        assert_eq!(opened["department"]["name"], "Customer Care");

        let it = department_id(&app, "IT Support").await;
        let internal = app.gql_vars(OPEN, open_input(&it, "Hello"), Some(&client)).await;
        let missing = app.gql_vars(OPEN, open_input("999999", "Hello"), Some(&client)).await;
        assert_eq!(first_code(&internal), "NOT_FOUND");
        assert_eq!(
            without_request_ids(internal),
            without_request_ids(missing),
            "an internal department looks like a missing one"
        );

        // An employee is an internal customer: IT helps them.
        let body = app.gql_vars(OPEN, open_input(&it, "Laptop broken"), Some(&app.employee())).await;
        assert!(body.get("errors").is_none(), "{body}");

        let anonymous = app.gql_vars(OPEN, open_input(&care, "Hi"), None).await;
        assert_eq!(first_code(&anonymous), "UNAUTHENTICATED");
    }

    async fn invalid_input_names_the_field(backend) {
        let app = TestApp::seeded(backend).await;
        let care = department_id(&app, "Customer Care").await;
        let client = app.client();
        for (subject, field) in [("   ", "input.subject"), (&"x".repeat(201)[..], "input.subject")] {
            let body = app.gql_vars(OPEN, open_input(&care, subject), Some(&client)).await;
            assert_eq!(first_code(&body), "BAD_USER_INPUT", "{body}");
            assert_eq!(body["errors"][0]["extensions"]["field"], field);
        }
        let body = app.gql_vars(OPEN, open_input("abc", "Hi"), Some(&client)).await;
        assert_eq!(body["errors"][0]["extensions"]["field"], "input.departmentId");
        let me = app.data("{ viewer { customer { version } } }", Some(&client)).await;
        let version = me["viewer"]["customer"]["version"].as_i64().unwrap();
        let body = app.gql(&format!("mutation {{ updateMyContact(input: {{expectedVersion: {version}, email: \"not-an-email\"}}) {{ id }} }}"), Some(&client)).await;
        assert_eq!(first_code(&body), "BAD_USER_INPUT");
        assert_eq!(body["errors"][0]["extensions"]["field"], "input.email");
    }

    async fn replies_notes_resolution_and_rating_follow_the_rules(backend) {
        let app = TestApp::seeded(backend).await;
        let client = app.client();
        let employee = app.employee();
        let care = department_id(&app, "Customer Care").await;
        let opened = app.data_vars(OPEN, open_input(&care, "Wrong invoice"), Some(&client)).await;
        let id = opened["openInteraction"]["id"].as_str().unwrap().to_owned();

        app.data(&format!("mutation {{ addReply(interactionId: \"{id}\", body: \"Any news?\") {{ id fromCustomer }} }}"), Some(&client)).await;
        app.data(&format!("mutation {{ addInternalNote(interactionId: \"{id}\", body: \"Customer is upset; refund likely.\") {{ id internal }} }}"), Some(&employee)).await;
        app.data(&format!("mutation {{ addReply(interactionId: \"{id}\", body: \"We are on it.\") {{ id fromCustomer }} }}"), Some(&employee)).await;

        let seen_by_client = app.data(&format!("{{ interaction(id: \"{id}\") {{ messages {{ nodes {{ body fromCustomer }} }} }} }}"), Some(&client)).await;
        let messages = seen_by_client["interaction"]["messages"]["nodes"].as_array().unwrap();
        assert_eq!(messages.len(), 2, "the internal note is not shown: {messages:?}");
        assert!(!seen_by_client.to_string().contains("refund"));
        assert_eq!(messages[0]["fromCustomer"], true);
        assert_eq!(messages[1]["fromCustomer"], false);
        let seen_by_staff = app.data(&format!("{{ interaction(id: \"{id}\") {{ version messages {{ totalCount nodes {{ internal }} }} }} }}"), Some(&employee)).await;
        assert_eq!(seen_by_staff["interaction"]["messages"]["nodes"].as_array().unwrap().len(), 3);
        assert_eq!(seen_by_staff["interaction"]["messages"]["totalCount"], 3);
        let version = seen_by_staff["interaction"]["version"].as_i64().unwrap();

        // Rating before resolution is refused.
        let early = app.gql(&format!("mutation {{ rateInteraction(id: \"{id}\", satisfaction: 5) {{ id }} }}"), Some(&client)).await;
        assert_eq!(first_code(&early), "CONFLICT");
        // A stale version is refused; the current one resolves it.
        let stale = app.gql(&format!("mutation {{ resolveInteraction(id: \"{id}\", expectedVersion: {}) {{ id }} }}", version - 1), Some(&employee)).await;
        assert_eq!(first_code(&stale), "CONFLICT");
        let resolved = app.data(&format!("mutation {{ resolveInteraction(id: \"{id}\", expectedVersion: {version}) {{ status resolvedAt version }} }}"), Some(&employee)).await;
        assert_eq!(resolved["resolveInteraction"]["status"], "RESOLVED");
        assert_eq!(resolved["resolveInteraction"]["version"], version + 1);

        let bad = app.gql(&format!("mutation {{ rateInteraction(id: \"{id}\", satisfaction: 5, nps: 11) {{ id }} }}"), Some(&client)).await;
        assert_eq!(first_code(&bad), "BAD_USER_INPUT");
        assert_eq!(bad["errors"][0]["extensions"]["field"], "nps");
        let rated = app.data(&format!("mutation {{ rateInteraction(id: \"{id}\", satisfaction: 4, nps: 9) {{ satisfaction nps }} }}"), Some(&client)).await;
        assert_eq!(rated["rateInteraction"], json!({"satisfaction": 4, "nps": 9}));
        let again = app.gql(&format!("mutation {{ rateInteraction(id: \"{id}\", satisfaction: 1) {{ id }} }}"), Some(&client)).await;
        assert_eq!(first_code(&again), "CONFLICT");

        // Someone else's interaction cannot be rated or replied to: it does not exist for them.
        let other = app.token(crm_gateway::auth::Role::Client, app.ids().client + 1);
        for mutation in [
            format!("mutation {{ rateInteraction(id: \"{id}\", satisfaction: 1) {{ id }} }}"),
            format!("mutation {{ addReply(interactionId: \"{id}\", body: \"hi\") {{ id }} }}"),
        ] {
            assert_eq!(first_code(&app.gql(&mutation, Some(&other)).await), "NOT_FOUND");
        }
    }

    async fn concurrent_updates_never_lose_data(backend) {
        let app = TestApp::seeded(backend).await;
        let token = app.employee();
        let target = app.ids().client;
        let before = app.data(&format!("{{ customer(id: \"{target}\") {{ version }} }}"), Some(&token)).await;
        let version = before["customer"]["version"].as_i64().unwrap();
        let writers = (0..8).map(|i| {
            let query = format!("mutation {{ updateCustomer(id: \"{target}\", expectedVersion: {version}, input: {{internalNotes: \"writer {i}\"}}) {{ version internalNotes }} }}");
            let app = &app;
            let token = token.clone();
            async move { app.gql(&query, Some(&token)).await }
        });
        let results = futures_util::future::join_all(writers).await;
        let winners: Vec<&Value> = results.iter().filter(|r| r.get("errors").is_none()).collect();
        let conflicts = results.iter().filter(|r| first_code(r) == "CONFLICT").count();
        assert_eq!(winners.len(), 1, "{results:?}");
        assert_eq!(conflicts, 7, "{results:?}");
        let after = app.data(&format!("{{ customer(id: \"{target}\") {{ version internalNotes }} }}"), Some(&token)).await;
        assert_eq!(after["customer"]["version"], version + 1);
        assert_eq!(after["customer"]["internalNotes"], winners[0]["data"]["updateCustomer"]["internalNotes"]);
    }

    async fn contact_updates_are_versioned_and_emails_unique(backend) {
        let app = TestApp::seeded(backend).await;
        let client = app.client();
        let me = app.data("{ viewer { customer { version } } }", Some(&client)).await;
        let v = me["viewer"]["customer"]["version"].as_i64().unwrap();
        let ok = app.data(&format!("mutation {{ updateMyContact(input: {{expectedVersion: {v}, phone: \"+1 555 9999\"}}) {{ phone version }} }}"), Some(&client)).await;
        assert_eq!(ok["updateMyContact"]["phone"], "+1 555 9999");
        let stale = app.gql(&format!("mutation {{ updateMyContact(input: {{expectedVersion: {v}, phone: \"+1 555 0000\"}}) {{ phone }} }}"), Some(&client)).await;
        assert_eq!(first_code(&stale), "CONFLICT");
        // A client's new address waits for confirmation, so a taken one is not refused (that
        // would say it is someone's); an employee, who may see every customer, is told.
        let taken = app.gql(&format!("mutation {{ updateMyContact(input: {{expectedVersion: {}, email: \"noah.berg@northwind.example\"}}) {{ email }} }}", v + 1), Some(&client)).await;
        assert!(taken.get("errors").is_none(), "{taken}");
        assert_ne!(taken["data"]["updateMyContact"]["email"], "noah.berg@northwind.example");
        let internal = app.data(&format!("{{ customer(id: \"{}\") {{ version }} }}", app.ids().client), Some(&app.employee())).await["customer"]["version"].as_i64().unwrap();
        let by_employee = app.gql(&format!("mutation {{ updateCustomer(id: \"{}\", expectedVersion: {internal}, input: {{email: \"noah.berg@northwind.example\"}}) {{ email }} }}", app.ids().client), Some(&app.employee())).await;
        assert_eq!(by_employee["errors"][0]["extensions"]["conflict"], "EMAIL_UNAVAILABLE", "{by_employee}");
        // Clients cannot touch internal fields: the mutation that could does not exist for them.
        let body = app.gql(&format!("mutation {{ updateCustomer(id: \"{}\", expectedVersion: 1, input: {{internalNotes: \"x\"}}) {{ id }} }}", app.ids().client), Some(&client)).await;
        assert_eq!(first_code(&body), "GRAPHQL_VALIDATION_FAILED");
    }

    async fn employees_manage_customers_and_managers_the_org_chart(backend) {
        let app = TestApp::seeded(backend).await;
        let employee = app.employee();
        let manager = app.manager();
        let created = app.data(r#"mutation { createCustomer(input: {segment: BUSINESS, name: "Acme Vets", organization: "Acme", email: "Front@Acme.example"}) { id kind email status version } }"#, Some(&employee)).await;
        assert_eq!(created["createCustomer"]["kind"], "EXTERNAL");
        assert_eq!(created["createCustomer"]["email"], "front@acme.example");
        let dup = app.gql(r#"mutation { createCustomer(input: {segment: INDIVIDUAL, name: "Dup", email: "front@acme.example"}) { id } }"#, Some(&employee)).await;
        assert_eq!(first_code(&dup), "CONFLICT");

        let body = app.gql(r#"mutation { createDepartment(input: {name: "Legal", description: "Contracts"}) { id } }"#, Some(&employee)).await;
        assert_eq!(first_code(&body), "GRAPHQL_VALIDATION_FAILED", "managers only");
        let legal = app.data(r#"mutation { createDepartment(input: {name: "Legal", description: "Contracts and compliance", budget: 1234.5}) { id version budget } }"#, Some(&manager)).await;
        let legal_id = legal["createDepartment"]["id"].as_str().unwrap().to_owned();
        assert_eq!(legal["createDepartment"]["budget"], 1234.5);
        let sales = department_id(&app, "Sales").await;
        let agreement = app.data(&format!(r#"mutation {{ createServiceAgreement(input: {{providerId: "{legal_id}", consumerId: "{sales}", service: "Contract review", targetTurnaroundHours: 72, qualityTarget: 4.5}}) {{ id version provider {{ name }} consumer {{ name }} }} }}"#), Some(&manager)).await;
        let agreement_id = agreement["createServiceAgreement"]["id"].as_str().unwrap().to_owned();
        assert_eq!(agreement["createServiceAgreement"]["provider"]["name"], "Legal");
        let same = app.gql(&format!(r#"mutation {{ createServiceAgreement(input: {{providerId: "{sales}", consumerId: "{sales}", service: "x", targetTurnaroundHours: 1}}) {{ id }} }}"#), Some(&manager)).await;
        assert_eq!(first_code(&same), "BAD_USER_INPUT");
        // The org chart cannot become a cycle.
        let exec = department_id(&app, "Executive Office").await;
        let moved = app.data(&format!(r#"mutation {{ updateDepartment(id: "{legal_id}", expectedVersion: 1, input: {{parentId: "{exec}"}}) {{ version parent {{ name }} }} }}"#), Some(&manager)).await;
        assert_eq!(moved["updateDepartment"]["parent"]["name"], "Executive Office");
        assert_eq!(moved["updateDepartment"]["version"], 2);
        let cycle = app.gql(&format!(r#"mutation {{ updateDepartment(id: "{exec}", expectedVersion: 1, input: {{parentId: "{legal_id}"}}) {{ id }} }}"#), Some(&manager)).await;
        assert_eq!(first_code(&cycle), "BAD_USER_INPUT", "{cycle}");
        assert_eq!(cycle["errors"][0]["extensions"]["field"], "input.parentId");
        let stale = app.gql(&format!(r#"mutation {{ deleteServiceAgreement(id: "{agreement_id}", expectedVersion: 2) }}"#), Some(&manager)).await;
        assert_eq!(first_code(&stale), "CONFLICT");
        let deleted = app.data(&format!(r#"mutation {{ deleteServiceAgreement(id: "{agreement_id}", expectedVersion: 1) }}"#), Some(&manager)).await;
        assert_eq!(deleted["deleteServiceAgreement"], true);
    }
}
