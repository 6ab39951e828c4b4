//! The one write path: every write is one transaction, rules that span rows hold under
//! concurrent writers, conflicts are typed, and failed references never surface as a 5xx.

use std::collections::HashMap;

use serde_json::Value;

use crate::helpers::*;

async fn create_department(app: &TestApp, token: &str, name: &str) -> String {
    let data = app
        .data(
            &format!(r#"mutation {{ createDepartment(input: {{name: "{name}", description: "Race"}}) {{ id }} }}"#),
            Some(token),
        )
        .await;
    data["createDepartment"]["id"].as_str().unwrap().to_owned()
}

fn reparent(child: &str, parent: &str) -> String {
    format!(
        r#"mutation {{ updateDepartment(id: "{child}", expectedVersion: 1, input: {{parentId: "{parent}"}}) {{ id }} }}"#
    )
}

/// Department id → parent id, as a manager reads the org chart.
async fn org_chart(app: &TestApp, token: &str) -> HashMap<String, Option<String>> {
    let data = app
        .data(
            "{ departments(first: 100) { edges { node { id parent { id } } } } }",
            Some(token),
        )
        .await;
    nodes(&data["departments"])
        .into_iter()
        .map(|d| {
            let parent = d["parent"]["id"].as_str().map(str::to_owned);
            (d["id"].as_str().unwrap().to_owned(), parent)
        })
        .collect()
}

fn has_cycle(chart: &HashMap<String, Option<String>>) -> bool {
    chart.keys().any(|start| {
        let mut at = chart[start].clone();
        for _ in 0..=chart.len() {
            match at {
                None => return false,
                Some(id) => at = chart.get(&id).cloned().flatten(),
            }
        }
        true
    })
}

both_backends! {
    async fn concurrent_reparenting_never_closes_a_cycle(backend) {
        let app = TestApp::seeded(backend).await;
        let manager = app.manager();
        // Rings of two and three fresh departments; every edge of a ring is fine alone, and
        // all of them together would close the ring. They are all sent at once.
        let mut rings = Vec::new();
        for ring in 0..20 {
            let size = 2 + ring % 2;
            let mut ids = Vec::new();
            for member in 0..size {
                ids.push(create_department(&app, &manager, &format!("Ring {ring} member {member}")).await);
            }
            rings.push(ids);
        }
        let edges: Vec<(usize, String)> = rings
            .iter()
            .enumerate()
            .flat_map(|(r, ids)| {
                (0..ids.len()).map(move |i| (r, reparent(&ids[i], &ids[(i + 1) % ids.len()])))
            })
            .collect();
        let results: Vec<(usize, Value)> = futures_util::future::join_all(
            edges.iter().map(|(ring, query)| {
                let (app, manager) = (&app, &manager);
                async move { (*ring, app.gql(query, Some(manager)).await) }
            }),
        )
        .await;
        for (ring, ids) in rings.iter().enumerate() {
            let answers: Vec<&Value> = results.iter().filter(|(r, _)| *r == ring).map(|(_, b)| b).collect();
            let refused: Vec<&&Value> = answers.iter().filter(|b| b.get("errors").is_some()).collect();
            assert_eq!(refused.len(), 1, "exactly one edge of ring {ring} ({ids:?}) is refused: {answers:?}");
            assert_eq!(first_code(refused[0]), "BAD_USER_INPUT", "{answers:?}");
            assert_eq!(refused[0]["errors"][0]["extensions"]["field"], "input.parentId");
        }
        assert!(!has_cycle(&org_chart(&app, &manager).await), "the org chart has a cycle");
    }
}

fn conflict_kind(body: &Value) -> &str {
    body["errors"][0]["extensions"]["conflict"]
        .as_str()
        .unwrap_or("<none>")
}

both_backends! {
    async fn conflicts_are_typed(backend) {
        let app = TestApp::seeded(backend).await;
        let manager = app.manager();
        let a = create_department(&app, &manager, "Typed A").await;
        let b = create_department(&app, &manager, "Typed B").await;
        app.data(&reparent(&a, &b), Some(&manager)).await;
        let stale = app.gql(&reparent(&a, &b), Some(&manager)).await;
        assert_eq!((first_code(&stale), conflict_kind(&stale)), ("CONFLICT", "STALE_VERSION"), "{stale}");
        let renamed = app.gql(&format!(r#"mutation {{ updateDepartment(id: "{b}", expectedVersion: 1, input: {{name: "Typed A"}}) {{ id }} }}"#), Some(&manager)).await;
        assert_eq!((first_code(&renamed), conflict_kind(&renamed)), ("CONFLICT", "DEPARTMENT_NAME_TAKEN"), "{renamed}");
        let twice = app.gql(r#"mutation { createDepartment(input: {name: "Typed B", description: "again"}) { id } }"#, Some(&manager)).await;
        assert_eq!(conflict_kind(&twice), "DEPARTMENT_NAME_TAKEN", "{twice}");
        let employee = app.employee();
        app.data("mutation { submitMoralePulse(score: 3) }", Some(&employee)).await;
        let again = app.gql("mutation { submitMoralePulse(score: 4) }", Some(&employee)).await;
        assert_eq!(conflict_kind(&again), "ALREADY_ANSWERED", "{again}");
    }
}

/// The error code of a write, whatever the HTTP status; asserts it was not a server error.
async fn write_code(app: &TestApp, query: &str, token: &str) -> String {
    let (status, body) = app
        .post(serde_json::json!({ "query": query }), Some(token))
        .await;
    assert!(
        !status.is_server_error(),
        "{query} answered {status}: {body}"
    );
    let code = first_code(&body).to_owned();
    assert_ne!(code, "INTERNAL_SERVER_ERROR", "{query}: {body}");
    code
}

both_backends! {
    async fn writes_by_unknown_subjects_are_refused_cleanly(backend) {
        let app = TestApp::seeded(backend).await;
        let care = department_id(&app, "Customer Care").await;
        let interaction = "1";
        let writes = [
            format!(r#"mutation {{ openInteraction(input: {{departmentId: "{care}", channel: PORTAL, kind: REQUEST, subject: "s", summary: "s"}}) {{ id }} }}"#),
            format!(r#"mutation {{ addReply(interactionId: "{interaction}", body: "hello") {{ id }} }}"#),
            format!(r#"mutation {{ addInternalNote(interactionId: "{interaction}", body: "note") {{ id }} }}"#),
            format!(r#"mutation {{ rateInteraction(id: "{interaction}", satisfaction: 3) {{ id }} }}"#),
            r#"mutation { updateMyContact(input: {expectedVersion: 1, phone: "+1 555 0101"}) { id } }"#.to_owned(),
            r#"mutation { submitMoralePulse(score: 3) }"#.to_owned(),
            format!(r#"mutation {{ giveDepartmentFeedback(toDepartmentId: "{care}", score: 3) }}"#),
            format!(r#"mutation {{ logInteraction(input: {{customerId: "{}", departmentId: "{care}", channel: PHONE, kind: REQUEST, subject: "s", summary: "s"}}) {{ id }} }}"#, app.ids().client),
        ];
        use crm_gateway::auth::Role;
        for role in [Role::Client, Role::Employee, Role::Manager] {
            let nobody = app.token(role, 999_999);
            for write in &writes {
                let code = write_code(&app, write, &nobody).await;
                assert!(
                    ["UNAUTHENTICATED", "GRAPHQL_VALIDATION_FAILED", "NOT_FOUND"].contains(&code.as_str()),
                    "{role:?} {write}: {code}"
                );
            }
        }
        // An employee token naming an outside customer cannot write as staff.
        let impostor = app.token(Role::Employee, app.ids().client);
        for write in &writes[2..] {
            if write.contains("addInternalNote") || write.contains("Pulse") || write.contains("Feedback") || write.contains("logInteraction") {
                assert_eq!(write_code(&app, write, &impostor).await, "UNAUTHENTICATED", "{write}");
            }
        }
    }

    async fn a_stale_contact_update_is_refused_before_the_email_is_looked_at(backend) {
        let app = TestApp::seeded(backend).await;
        let client = app.client();
        let me = app.data("{ viewer { customer { version } } }", Some(&client)).await;
        let v = me["viewer"]["customer"]["version"].as_i64().unwrap();
        let taken = "noah.berg@northwind.example";
        let stale = app.gql(&format!(r#"mutation {{ updateMyContact(input: {{expectedVersion: {}, email: "{taken}"}}) {{ email }} }}"#, v - 1), Some(&client)).await;
        assert_eq!(conflict_kind(&stale), "STALE_VERSION", "{stale}");
        let fresh = app.gql(&format!(r#"mutation {{ updateMyContact(input: {{expectedVersion: {v}, email: "{taken}"}}) {{ email }} }}"#), Some(&client)).await;
        // A fresh one is accepted and waits for the address to confirm it: the taken address
        // is neither refused nor applied (tests/api/email_change.rs).
        assert!(fresh.get("errors").is_none(), "{fresh}");
        let unchanged = app.data("{ viewer { customer { email version } } }", Some(&client)).await;
        assert_eq!(unchanged["viewer"]["customer"]["version"], v);
        assert_ne!(unchanged["viewer"]["customer"]["email"], taken);
    }
}
