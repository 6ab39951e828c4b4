//! Nothing a client may see moves when only internal data changes: not a field, a version, an
//! ordering, a cursor, a count nor a live event. Each internal-only write is made between two
//! snapshots of everything a client can read, which must be byte-identical.

use std::time::Duration;

use serde_json::{Value, json};

use crate::{
    helpers::*,
    live::{connect, next, send},
};

const INTERACTION: &str = "fragment I on Interaction { id channel kind subject summary status openedAt resolvedAt \
    satisfaction nps version customer { id version } department { id name } \
    messages(first: 5) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id body createdAt fromCustomer } } } }";
const CUSTOMER: &str = "fragment C on Customer { id kind segment name organization email phone status customerSince \
    version interactions(first: 10) { totalCount pageInfo { endCursor } edges { cursor node { ...I } } } \
    purchases(first: 10) { totalCount edges { cursor node { id } } } \
    timeline(first: 10) { pageInfo { endCursor } edges { cursor node { at kind interaction { id version } purchase { id } } } } }";
const PAGE: &str = "totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { ...I } }";

/// Everything the client can read, in every ordering, as one string (several requests, each
/// within the complexity limit).
async fn client_view(app: &TestApp, client: &str, watched: &str) -> String {
    let lists = [
        "interactions(first: 10)",
        "interactions(last: 10)",
        "interactions(first: 10, orderBy: {field: UPDATED_AT, direction: DESC})",
        "interactions(first: 2, orderBy: {field: UPDATED_AT})",
        "interactions(last: 2, orderBy: {field: UPDATED_AT})",
        "interactions(first: 10, orderBy: {field: OPENED_AT, direction: DESC})",
        "interactions(first: 10, filter: {statuses: [OPEN, IN_PROGRESS]}, orderBy: {field: UPDATED_AT})",
    ];
    let mut queries: Vec<String> = lists
        .iter()
        .map(|list| format!("{{ {list} {{ {PAGE} }} }} {INTERACTION}"))
        .collect();
    queries.extend([
        format!("{{ viewer {{ customer {{ ...C }} }} }} {INTERACTION} {CUSTOMER}"),
        "{ customers { totalCount edges { cursor node { id version } } } }".to_owned(),
        format!(r#"{{ interaction(id: "{watched}") {{ ...I }} }} {INTERACTION}"#),
        "{ departments(first: 50) { totalCount edges { cursor node { id name description servesExternal } } } }".to_owned(),
        "{ purchases(first: 50) { totalCount edges { cursor node { id } } } }".to_owned(),
    ]);
    let mut view = String::new();
    for query in queries {
        view.push_str(&app.data(&query, Some(client)).await.to_string());
        view.push('\n');
    }
    view
}

async fn version_as(app: &TestApp, token: &str, what: &str, id: &str) -> i64 {
    let data = app
        .data(
            &format!(r#"{{ {what}(id: "{id}") {{ version }} }}"#),
            Some(token),
        )
        .await;
    data[what]["version"].as_i64().unwrap()
}

fn open(department: &str, subject: &str) -> String {
    format!(
        r#"mutation {{ openInteraction(input: {{departmentId: "{department}", channel: PORTAL, kind: REQUEST, subject: "{subject}", summary: "Please help"}}) {{ id }} }}"#
    )
}

both_backends! {
    async fn internal_writes_leave_the_client_view_byte_identical(backend) {
        let app = TestApp::seeded(backend).await;
        let addr = app.serve().await;
        let (client, employee, manager) = (app.client(), app.employee(), app.manager());
        let ids = app.ids();
        let care = department_id(&app, "Customer Care").await;
        let it = department_id(&app, "IT Support").await;
        // Two interactions of the client's: one in progress (the one internal work happens on),
        // one resolved.
        let a = app.data(&open(&care, "Router"), Some(&client)).await["openInteraction"]["id"].as_str().unwrap().to_owned();
        let b = app.data(&open(&care, "Invoice"), Some(&client)).await["openInteraction"]["id"].as_str().unwrap().to_owned();
        let v = version_as(&app, &employee, "interaction", &a).await;
        app.data(&format!(r#"mutation {{ assignInteraction(id: "{a}", expectedVersion: {v}, handlerId: "{}") {{ id }} }}"#, ids.employee), Some(&employee)).await;
        let v = version_as(&app, &employee, "interaction", &b).await;
        app.data(&format!(r#"mutation {{ resolveInteraction(id: "{b}", expectedVersion: {v}) {{ id }} }}"#), Some(&employee)).await;

        let (mut ws, ack) = connect(addr, Some(&client)).await;
        assert_eq!(ack["type"], "connection_ack", "{ack}");
        let subscription = "subscription { interactionChanged { change interaction { id version status } } }";
        send(&mut ws, json!({"id": "1", "type": "subscribe", "payload": {"query": subscription}})).await;
        tokio::time::sleep(Duration::from_millis(200)).await;

        let before = client_view(&app, &client, &a).await;
        let internal_writes: Vec<(&str, String, &str)> = vec![
            ("a note", format!(r#"mutation {{ addInternalNote(interactionId: "{a}", body: "Refund likely") {{ id }} }}"#), &employee),
            ("a re-assignment", format!(r#"mutation {{ assignInteraction(id: "{a}", expectedVersion: VERSION_A, handlerId: "{}") {{ id }} }}"#, ids.manager), &employee),
            ("a link to an incident", format!(r#"mutation {{ linkInteraction(id: "{a}", expectedVersion: VERSION_A, relatedToId: "{b}") {{ id }} }}"#), &employee),
            ("internal notes on the customer", format!(r#"mutation {{ updateCustomer(id: "{}", expectedVersion: VERSION_C, input: {{internalNotes: "Churn risk", title: "Owner"}}) {{ id }} }}"#, ids.client), &employee),
            ("a budget", format!(r#"mutation {{ updateDepartment(id: "{care}", expectedVersion: VERSION_D, input: {{budget: 99.5}}) {{ id }} }}"#), &manager),
            ("an agreement", format!(r#"mutation {{ createServiceAgreement(input: {{providerId: "{it}", consumerId: "{care}", service: "Headsets", targetTurnaroundHours: 8}}) {{ id }} }}"#), &manager),
            ("an internal department", r#"mutation { createDepartment(input: {name: "Skunkworks", description: "Secret"}) { id } }"#.to_owned(), &manager),
            ("an employee's own ticket", format!(r#"mutation {{ logInteraction(input: {{customerId: "{}", departmentId: "{it}", channel: CHAT, kind: INCIDENT, subject: "VPN", summary: "down", internalNote: "x"}}) {{ id }} }}"#, ids.employee), &employee),
            ("a morale pulse", "mutation { submitMoralePulse(score: 2) }".to_owned(), &employee),
            ("department feedback", format!(r#"mutation {{ giveDepartmentFeedback(toDepartmentId: "{care}", score: 1) }}"#), &employee),
        ];
        for (what, write, token) in internal_writes {
            let write = write
                .replace("VERSION_A", &version_as(&app, &employee, "interaction", &a).await.to_string())
                .replace("VERSION_C", &version_as(&app, &employee, "customer", &ids.client.to_string()).await.to_string())
                .replace("VERSION_D", &version_as(&app, &manager, "department", &care).await.to_string());
            app.data(&write, Some(token)).await;
            let after = client_view(&app, &client, &a).await;
            assert_eq!(before, after, "the client's view moved after {what}");
        }
        // Employees saw every one of those changes move the version they lock with.
        assert_eq!(version_as(&app, &employee, "interaction", &a).await, 4, "open, assign, re-assign, link");
        assert_eq!(version_as(&app, &client, "interaction", &a).await, 2, "open, assign (OPEN → IN_PROGRESS)");

        // Not one live event reached the client: the first it receives is the public reply
        // made after all of the internal writes.
        app.data(&format!(r#"mutation {{ addReply(interactionId: "{a}", body: "On it") {{ id }} }}"#), Some(&employee)).await;
        let event = next(&mut ws).await;
        assert_eq!(event["payload"]["data"]["interactionChanged"]["change"], "REPLIED", "{event}");
        // And a public change does move the client's view (the snapshot can see change).
        assert_ne!(before, client_view(&app, &client, &a).await);
    }

    async fn optimistic_locking_holds_for_both_audiences(backend) {
        let app = TestApp::seeded(backend).await;
        let (client, employee) = (app.client(), app.employee());
        let me = app.ids().client.to_string();
        let client_read = version_as(&app, &client, "customer", &me).await;
        let employee_read = version_as(&app, &employee, "customer", &me).await;
        // An internal edit does not make the client's version stale…
        app.data(&format!(r#"mutation {{ updateCustomer(id: "{me}", expectedVersion: {employee_read}, input: {{internalNotes: "Prefers e-mail"}}) {{ id }} }}"#), Some(&employee)).await;
        assert_eq!(version_as(&app, &client, "customer", &me).await, client_read);
        let contact = app.data(&format!(r#"mutation {{ updateMyContact(input: {{expectedVersion: {client_read}, phone: "+1 555 0199"}}) {{ phone version }} }}"#), Some(&client)).await;
        assert_eq!(contact["updateMyContact"]["version"], client_read + 1);
        // …while the employee's version still catches the client's change.
        let stale = app.gql(&format!(r#"mutation {{ updateCustomer(id: "{me}", expectedVersion: {}, input: {{phone: "+1 555 0000"}}) {{ id }} }}"#, employee_read + 1), Some(&employee)).await;
        assert_eq!(stale["errors"][0]["extensions"]["conflict"], "STALE_VERSION", "{stale}");
        let fresh = version_as(&app, &employee, "customer", &me).await;
        assert_eq!(fresh, employee_read + 2);
        let phone = app.data(&format!(r#"{{ customer(id: "{me}") {{ phone internalNotes }} }}"#), Some(&employee)).await;
        assert_eq!(phone["customer"]["phone"], "+1 555 0199", "no change was lost");
        assert_eq!(phone["customer"]["internalNotes"], "Prefers e-mail", "no change was lost");
        // A client whose view is stale (an employee changed its name) is refused too.
        app.data(&format!(r#"mutation {{ updateCustomer(id: "{me}", expectedVersion: {fresh}, input: {{name: "Renamed"}}) {{ id }} }}"#), Some(&employee)).await;
        let stale = app.gql(&format!(r#"mutation {{ updateMyContact(input: {{expectedVersion: {}, phone: "+1"}}) {{ id }} }}"#, client_read + 1), Some(&client)).await;
        assert_eq!(stale["errors"][0]["extensions"]["conflict"], "STALE_VERSION", "{stale}");

        // Interactions: a note leaves an employee's read version valid; a re-assignment by a
        // colleague makes it stale.
        let care = department_id(&app, "Customer Care").await;
        let a = app.data(&open(&care, "Locking"), Some(&client)).await["openInteraction"]["id"].as_str().unwrap().to_owned();
        let read = version_as(&app, &employee, "interaction", &a).await;
        app.data(&format!(r#"mutation {{ addInternalNote(interactionId: "{a}", body: "n") {{ id }} }}"#), Some(&app.manager())).await;
        app.data(&format!(r#"mutation {{ assignInteraction(id: "{a}", expectedVersion: {read}, handlerId: "{}") {{ id }} }}"#, app.ids().employee), Some(&app.manager())).await;
        let stale = app.gql(&format!(r#"mutation {{ resolveInteraction(id: "{a}", expectedVersion: {read}) {{ id }} }}"#), Some(&employee)).await;
        assert_eq!(stale["errors"][0]["extensions"]["conflict"], "STALE_VERSION", "{stale}");
    }

    async fn a_clients_message_ids_stay_consecutive_across_an_internal_note(backend) {
        let app = TestApp::seeded(backend).await;
        let (client, employee) = (app.client(), app.employee());
        let care = department_id(&app, "Customer Care").await;
        let a = app.data(&open(&care, "Router"), Some(&client)).await["openInteraction"]["id"].as_str().unwrap().to_owned();
        let reply = |body: &str| format!(r#"mutation {{ addReply(interactionId: "{a}", body: "{body}") {{ id }} }}"#);
        let first = app.data(&reply("Hello?"), Some(&client)).await["addReply"]["id"].as_str().unwrap().parse::<i64>().unwrap();
        let note = app.data(&format!(r#"mutation {{ addInternalNote(interactionId: "{a}", body: "Refund likely") {{ id internal body }} }}"#), Some(&employee)).await;
        assert_eq!(note["addInternalNote"]["internal"], true, "{note}");
        let second = app.data(&reply("Anyone?"), Some(&client)).await["addReply"]["id"].as_str().unwrap().parse::<i64>().unwrap();
        assert_eq!(second, first + 1, "a note between two replies leaves no gap in message ids");

        let messages = format!(r#"{{ interaction(id: "{a}") {{ messages(first: 10) {{ totalCount edges {{ node {{ id body }} }} }} }} }}"#);
        let seen = app.data(&messages, Some(&client)).await;
        let ids: Vec<Value> = nodes(&seen["interaction"]["messages"]).iter().map(|m| m["id"].clone()).collect();
        assert_eq!(ids, vec![json!(first.to_string()), json!(second.to_string())], "{seen}");
        assert_eq!(seen["interaction"]["messages"]["totalCount"], 2, "{seen}");

        // Employees read the whole conversation as before: the note in its place, marked internal.
        let staff = format!(r#"{{ interaction(id: "{a}") {{ messages(first: 10) {{ totalCount edges {{ node {{ id body internal }} }} }} }} }}"#);
        let seen = app.data(&staff, Some(&employee)).await;
        let thread = nodes(&seen["interaction"]["messages"]);
        let bodies: Vec<(&str, bool)> = thread.iter().map(|m| (m["body"].as_str().unwrap(), m["internal"].as_bool().unwrap())).collect();
        assert_eq!(bodies, [("Hello?", false), ("Refund likely", true), ("Anyone?", false)], "{seen}");
        assert_eq!(seen["interaction"]["messages"]["totalCount"], 3, "{seen}");
        assert_eq!(thread[1]["id"], note["addInternalNote"]["id"], "the note keeps the id it was created with");
        let distinct: std::collections::HashSet<String> = thread.iter().map(|m| m["id"].to_string()).collect();
        assert_eq!(distinct.len(), 3, "notes and messages never share an id: {seen}");
        // Paging one by one through the mixed list visits every entry once, in order.
        let mut after = String::new();
        let mut paged = Vec::new();
        for _ in 0..4 {
            let page = app.data(&format!(r#"{{ interaction(id: "{a}") {{ messages(first: 1{after}) {{ pageInfo {{ hasNextPage endCursor }} edges {{ node {{ body }} }} }} }} }}"#), Some(&employee)).await;
            let list = &page["interaction"]["messages"];
            paged.extend(nodes(list).iter().map(|m| m["body"].as_str().unwrap().to_owned()));
            if list["pageInfo"]["hasNextPage"] != true { break; }
            after = format!(r#", after: "{}""#, list["pageInfo"]["endCursor"].as_str().unwrap());
        }
        assert_eq!(paged, ["Hello?", "Refund likely", "Anyone?"]);
    }

    async fn a_clients_message_cursors_carry_its_own_message_ids_only(backend) {
        let app = TestApp::seeded(backend).await;
        let (client, employee) = (app.client(), app.employee());
        let care = department_id(&app, "Customer Care").await;
        let a = app.data(&open(&care, "Cursors"), Some(&client)).await["openInteraction"]["id"].as_str().unwrap().to_owned();
        for body in ["One", "Two"] {
            app.data(&format!(r#"mutation {{ addReply(interactionId: "{a}", body: "{body}") {{ id }} }}"#), Some(&client)).await;
        }
        let raw = format!(r#"{{ interaction(id: "{a}") {{ messages(first: 10) {{ totalCount pageInfo {{ hasNextPage endCursor }} edges {{ cursor node {{ id body createdAt }} }} }} }} }}"#);
        let before = app.data(&raw, Some(&client)).await;
        app.data(&format!(r#"mutation {{ addInternalNote(interactionId: "{a}", body: "Staff only") {{ id }} }}"#), Some(&employee)).await;
        let after = app.data(&raw, Some(&client)).await;
        assert_eq!(before, after, "a note moves nothing in the client's list, cursors included");

        // Each cursor opens (with the gateway's key: a client cannot) to [sort, createdAt, key]:
        // the key is the message's own id, not a numbering shared with notes (which would show
        // where notes could go).
        let edges = after["interaction"]["messages"]["edges"].as_array().unwrap().clone();
        assert_eq!(edges.len(), 2, "{after}");
        let key = crm_gateway::auth::CursorKey::from_config(&app.config, None).unwrap();
        for edge in &edges {
            let cursor = edge["cursor"].as_str().unwrap();
            let decoded: Value = serde_json::from_slice(&key.open(cursor).unwrap()).unwrap();
            let id: i64 = edge["node"]["id"].as_str().unwrap().parse().unwrap();
            assert_eq!(decoded[2], json!(id), "cursor key is the message id: {decoded}");
            assert_eq!(decoded[1].as_str().map(|t| t.get(..19)), edge["node"]["createdAt"].as_str().map(|t| t.get(..19)), "{decoded}");
            assert_eq!(decoded.as_array().unwrap().len(), 3, "{decoded}");
        }
        // And the client's cursor pages its own list.
        let first = edges[0]["cursor"].as_str().unwrap();
        let next = app.data(&format!(r#"{{ interaction(id: "{a}") {{ messages(first: 5, after: "{first}") {{ edges {{ node {{ body }} }} }} }} }}"#), Some(&client)).await;
        let bodies: Vec<Value> = nodes(&next["interaction"]["messages"]).iter().map(|m| m["body"].clone()).collect();
        assert_eq!(bodies, [json!("Two")], "{next}");
    }

    async fn notes_written_before_the_split_survive_the_migration_both_ways(backend) {
        use migration::{Migrator, MigratorTrait};
        use sea_orm::{ConnectionTrait, Statement};
        let app = TestApp::seeded(backend).await;
        let count = |sql: &'static str| {
            let db = app.db.clone();
            async move {
                let stmt = Statement::from_string(db.get_database_backend(), sql);
                let row = db.query_one_raw(stmt).await.unwrap().unwrap();
                row.try_get_by_index::<i64>(0).unwrap()
            }
        };
        let thread = "SELECT COUNT(*) FROM interaction_thread";
        let (notes, replies) = (count("SELECT COUNT(*) FROM internal_note").await, count("SELECT COUNT(*) FROM interaction_message").await);
        assert!(notes > 0 && replies > 0, "the demo has both");
        assert_eq!(count(thread).await, notes + replies);
        // Back to one table (undoing the split and every step after it): every note becomes an
        // internal message again…
        let applied = Migrator::get_applied_migrations(&app.db).await.unwrap();
        let split = applied.iter().position(|m| m.name().contains("separate_internal_notes")).unwrap();
        Migrator::down(&app.db, Some((applied.len() - split) as u32)).await.unwrap();
        assert_eq!(count("SELECT COUNT(*) FROM interaction_message WHERE internal = TRUE").await, notes);
        assert_eq!(count("SELECT COUNT(*) FROM interaction_message").await, notes + replies);
        // …and forward again: each in its own table, nothing lost, bodies intact.
        Migrator::up(&app.db, None).await.unwrap();
        assert_eq!(count("SELECT COUNT(*) FROM internal_note").await, notes);
        assert_eq!(count("SELECT COUNT(*) FROM interaction_message").await, replies);
        assert_eq!(count("SELECT COUNT(*) FROM internal_note WHERE body LIKE 'SIP trunk%'").await, 1);
        // The app still reads the conversation through the view.
        let seen = app.data("{ interactions(first: 5) { edges { node { messages(first: 5) { totalCount } } } } }", Some(&app.employee())).await;
        assert!(seen["interactions"].is_object());
    }

    async fn the_split_is_atomic_a_failure_halfway_leaves_nothing_behind(backend) {
        use migration::{Migrator, MigratorTrait};
        use sea_orm::{ConnectionTrait, Statement};
        let app = TestApp::seeded(backend).await;
        let db = app.db.clone();
        let sql = |text: &str| Statement::from_string(db.get_database_backend(), text.to_owned());
        let count = async |text: &str| {
            let row = db.query_one_raw(sql(text)).await.unwrap().unwrap();
            row.try_get_by_index::<i64>(0).unwrap()
        };
        let notes = count("SELECT COUNT(*) FROM internal_note").await;
        let applied = Migrator::get_applied_migrations(&db).await.unwrap();
        let split = applied.iter().position(|m| m.name().contains("separate_internal_notes")).unwrap();
        Migrator::down(&db, Some((applied.len() - split) as u32)).await.unwrap();
        // Something already holds the view's name, so the step's last statement fails, after
        // the table was created and the notes were moved.
        db.execute_raw(sql("CREATE TABLE interaction_thread (x INTEGER)")).await.unwrap();
        assert!(Migrator::up(&db, None).await.is_err());
        assert!(db.query_one_raw(sql("SELECT COUNT(*) FROM internal_note")).await.is_err(), "no half-made table");
        assert_eq!(count("SELECT COUNT(*) FROM interaction_message WHERE internal = TRUE").await, notes, "no note moved");
        // Once the obstacle is gone the step runs again from the start.
        db.execute_raw(sql("DROP TABLE interaction_thread")).await.unwrap();
        Migrator::up(&db, None).await.unwrap();
        assert_eq!(count("SELECT COUNT(*) FROM internal_note").await, notes);
        assert_eq!(count("SELECT COUNT(*) FROM interaction_thread WHERE internal = TRUE").await, notes);
    }
}
