//! Nested lists are Relay connections: walking one page by page with `first`/`after` visits
//! exactly the rows of one big page, in order; a cursor fits only the list, parent and
//! ordering it came from; and the first pages of a whole nesting level cost one statement.

use serde_json::Value;

use crate::helpers::*;

/// A node's identity for comparisons: its id, or (kind, time, target) for timeline entries.
fn identity(node: &Value) -> String {
    match node.get("id") {
        Some(id) => id.to_string(),
        None => node.to_string(),
    }
}

/// Reads the connection at `path` of `data`.
fn at<'a>(data: &'a Value, path: &[&str]) -> &'a Value {
    path.iter().fold(data, |v, key| &v[key])
}

/// Walks the nested connection that `query(args)` selects at `path`, `size` rows at a time,
/// and checks it against one page of 100 and the list's `totalCount`. Returns the rows.
async fn walk(
    app: &TestApp,
    token: &str,
    query: &dyn Fn(&str) -> String,
    path: &[&str],
    size: usize,
) -> Vec<String> {
    let big = app.data(&query("first: 100"), Some(token)).await;
    let big = at(&big, path);
    let expected: Vec<String> = nodes(big).iter().map(identity).collect();
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let args = match &after {
            None => format!("first: {size}"),
            Some(c) => format!("first: {size}, after: \"{c}\""),
        };
        let data = app.data(&query(&args), Some(token)).await;
        let conn = at(&data, path);
        let page: Vec<String> = nodes(conn).iter().map(identity).collect();
        let edges = conn["edges"].as_array().unwrap();
        assert!(page.len() <= size);
        assert_eq!(conn["pageInfo"]["hasPreviousPage"], after.is_some());
        if let Some(last) = edges.last() {
            assert_eq!(conn["pageInfo"]["endCursor"], last["cursor"]);
            assert_eq!(conn["pageInfo"]["startCursor"], edges[0]["cursor"]);
        }
        seen.extend(page);
        assert!(seen.len() <= 1000, "no endless walk");
        if conn["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = conn["pageInfo"]["endCursor"].as_str().map(str::to_owned);
    }
    if let Some(total) = big["totalCount"].as_u64() {
        assert_eq!(
            seen.len() as u64,
            total,
            "{path:?}: the walk visits totalCount rows"
        );
    }
    assert_eq!(
        seen[..expected.len()],
        expected[..],
        "{path:?}: pages of {size} read the rows of one page"
    );
    assert_eq!(big["pageInfo"]["hasNextPage"], seen.len() > expected.len());
    let unique: std::collections::HashSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "{path:?}: no row twice");
    seen
}

const PAGE: &str = "totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { id } }";
const TIMELINE: &str = "pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { kind at interaction { id } purchase { id } } }";

/// The id of the row of the root connection `list` (read with `args`) whose nested `field`
/// has the most rows.
async fn busiest(app: &TestApp, token: &str, list: &str, args: &str, field: &str) -> String {
    let data = app
        .data(&format!("{{ {list}(first: 50{args}) {{ edges {{ node {{ id {field}(first: 1) {{ totalCount }} }} }} }} }}"), Some(token))
        .await;
    nodes(&data[list])
        .into_iter()
        .max_by_key(|n| n[field]["totalCount"].as_u64().unwrap())
        .map(|n| n["id"].as_str().unwrap().to_owned())
        .unwrap()
}

both_backends! {
    async fn every_nested_list_walks_page_by_page(backend) {
        let app = TestApp::seeded(backend).await;
        let token = app.manager();
        let customer = busiest(&app, &token, "customers", "", "interactions").await;
        for field in ["interactions", "purchases"] {
            let customer = busiest(&app, &token, "customers", "", field).await;
            let rows = walk(&app, &token, &|args| format!("{{ customer(id: \"{customer}\") {{ {field}({args}) {{ {PAGE} }} }} }}"), &["customer", field], 3).await;
            assert!(rows.len() > 3, "{field}: more than one page ({rows:?})");
        }
        let rows = walk(&app, &token, &|args| format!("{{ customer(id: \"{customer}\") {{ timeline({args}) {{ {TIMELINE} }} }} }}"), &["customer", "timeline"], 4).await;
        assert!(rows.len() > 4);
        let handler = busiest(&app, &token, "customers", "", "handledInteractions").await;
        walk(&app, &token, &|args| format!("{{ customer(id: \"{handler}\") {{ handledInteractions({args}) {{ {PAGE} }} }} }}"), &["customer", "handledInteractions"], 2).await;
        for field in ["interactions", "queue", "members"] {
            let department = busiest(&app, &token, "departments", "", field).await;
            let rows = walk(&app, &token, &|args| format!("{{ department(id: \"{department}\") {{ {field}({args}) {{ {PAGE} }} }} }}"), &["department", field], 2).await;
            assert!(rows.len() > 2, "{field}: more than one page");
        }
        let incident = busiest(&app, &token, "interactions", ", filter: {kinds: [INCIDENT]}", "caused").await;
        let rows = walk(&app, &token, &|args| format!("{{ interaction(id: \"{incident}\") {{ caused({args}) {{ {PAGE} }} }} }}"), &["interaction", "caused"], 2).await;
        assert!(rows.len() > 2, "the outage caused several complaints");
        for n in 0..5 {
            app.data(&format!("mutation {{ addReply(interactionId: \"{incident}\", body: \"update {n}\") {{ id }} }}"), Some(&token)).await;
        }
        let rows = walk(&app, &token, &|args| format!("{{ interaction(id: \"{incident}\") {{ messages({args}) {{ {PAGE} }} }} }}"), &["interaction", "messages"], 2).await;
        assert!(rows.len() >= 5);
    }

    async fn nested_lists_keep_their_order(backend) {
        let app = TestApp::seeded(backend).await;
        let token = app.manager();
        let customer = busiest(&app, &token, "customers", "", "interactions").await;
        let data = app.data(&format!("{{ customer(id: \"{customer}\") {{
            interactions(first: 100) {{ nodes {{ openedAt }} }}
            purchases(first: 100) {{ nodes {{ purchasedAt }} }}
            timeline(first: 100) {{ nodes {{ at kind }} }} }} }}"), Some(&token)).await;
        let times = |list: &str, key: &str| -> Vec<String> {
            data["customer"][list]["nodes"].as_array().unwrap().iter().map(|n| n[key].as_str().unwrap().to_owned()).collect()
        };
        for (list, key) in [("interactions", "openedAt"), ("purchases", "purchasedAt"), ("timeline", "at")] {
            let t = times(list, key);
            assert!(!t.is_empty());
            assert!(t.windows(2).all(|w| w[0] >= w[1]), "{list} newest first: {t:?}");
        }
        let kinds: Vec<&str> = data["customer"]["timeline"]["nodes"].as_array().unwrap().iter().map(|n| n["kind"].as_str().unwrap()).collect();
        for kind in ["INTERACTION", "PURCHASE", "RATING"] {
            assert!(kinds.contains(&kind), "the busiest customer's timeline has a {kind}: {kinds:?}");
        }
    }

    async fn a_nested_cursor_fits_only_its_list_and_parent(backend) {
        let app = TestApp::seeded(backend).await;
        let token = app.manager();
        let data = app.data("{ customers(first: 100) { edges { cursor node { id interactions(first: 1) { pageInfo { endCursor } } purchases(first: 1) { pageInfo { endCursor } } } } } }", Some(&token)).await;
        let customers: Vec<&Value> = data["customers"]["edges"].as_array().unwrap().iter()
            .filter(|c| c["node"]["interactions"]["pageInfo"]["endCursor"].is_string() && c["node"]["purchases"]["pageInfo"]["endCursor"].is_string())
            .collect();
        let (a, b) = (customers[0], customers[1]);
        let a_interactions = a["node"]["interactions"]["pageInfo"]["endCursor"].as_str().unwrap();
        let a_purchases = a["node"]["purchases"]["pageInfo"]["endCursor"].as_str().unwrap();
        let b_id = b["node"]["id"].as_str().unwrap();
        let a_id = a["node"]["id"].as_str().unwrap();
        let root = a["cursor"].as_str().unwrap();
        for query in [
            format!("{{ customer(id: \"{b_id}\") {{ interactions(after: \"{a_interactions}\") {{ totalCount }} }} }}"),
            format!("{{ customer(id: \"{a_id}\") {{ purchases(after: \"{a_interactions}\") {{ totalCount }} }} }}"),
            format!("{{ customer(id: \"{a_id}\") {{ handledInteractions(after: \"{a_interactions}\") {{ totalCount }} }} }}"),
            format!("{{ customer(id: \"{a_id}\") {{ timeline(after: \"{a_purchases}\") {{ edges {{ cursor }} }} }} }}"),
            format!("{{ customer(id: \"{a_id}\") {{ interactions(after: \"{root}\") {{ totalCount }} }} }}"),
            format!("{{ interactions(after: \"{a_interactions}\") {{ totalCount }} }}"),
            format!("{{ customers(after: \"{a_interactions}\") {{ totalCount }} }}"),
            format!("{{ customer(id: \"{a_id}\") {{ interactions(after: \"garbage\") {{ totalCount }} }} }}"),
        ] {
            let body = app.gql(&query, Some(&token)).await;
            assert_eq!(first_code(&body), "BAD_USER_INPUT", "{query}: {body}");
            assert_eq!(body["errors"][0]["extensions"]["field"], "after", "{body}");
        }
        // The cursor still works where it came from.
        app.data(&format!("{{ customer(id: \"{a_id}\") {{ interactions(after: \"{a_interactions}\") {{ totalCount }} }} }}"), Some(&token)).await;
    }

    async fn first_pages_of_a_nesting_level_cost_one_statement_each(backend) {
        let app = TestApp::seeded_with(backend, |c| c.loader_batch_delay_ms = 0).await;
        let token = app.manager();
        // The token's subject is looked up once, then cached: not part of what is measured.
        app.data("{ viewer { role } }", Some(&token)).await;
        let query = |n: usize| format!("{{ customers(first: {n}) {{ edges {{ node {{ id
            interactions(first: 3) {{ totalCount pageInfo {{ hasNextPage endCursor }} edges {{ cursor node {{ id }} }} }}
            purchases(first: 2) {{ nodes {{ id }} }}
            timeline(first: 4) {{ nodes {{ kind at }} }} }} }} }} }}");
        let (small, body) = app.count_selects(app.gql(&query(3), Some(&token))).await;
        assert!(body.get("errors").is_none(), "{body}");
        let (large, body) = app.count_selects(app.gql(&query(60), Some(&token))).await;
        assert!(body.get("errors").is_none(), "{body}");
        assert_eq!(nodes(&body["data"]["customers"]).len(), 60);
        assert_eq!(small, large, "statements do not grow with the number of parents");
        // customers, interactions, their counts, purchases, timelines.
        assert_eq!(large, 5);
    }

    async fn one_list_selected_twice_with_different_fields_is_one_read(backend) {
        let app = TestApp::seeded_with(backend, |c| c.loader_batch_delay_ms = 0).await;
        let token = app.manager();
        app.data("{ viewer { role } }", Some(&token)).await;
        // Merged item by item, both selections must come from the same rows: one statement.
        let query = "{ customers(first: 20) { nodes { id ...A ...B } } }
            fragment A on Customer { interactions(first: 3) { nodes { id subject } } }
            fragment B on Customer { interactions(first: 3) { nodes { status openedAt } } }";
        let (statements, body) = app.count_selects(app.gql(query, Some(&token))).await;
        assert!(body.get("errors").is_none(), "{body}");
        assert_eq!(statements, 2, "customers, then interactions once");
        let merged: Vec<&Value> = body["data"]["customers"]["nodes"].as_array().unwrap().iter()
            .flat_map(|c| c["interactions"]["nodes"].as_array().unwrap().iter()).collect();
        assert!(merged.len() > 10);
        assert!(merged.iter().all(|i| i["id"].is_string() && i["subject"].is_string()
            && i["status"].is_string() && i["openedAt"].is_string()), "every item has all four");
    }
}

both_backends! {
    async fn long_text_is_left_out_only_when_no_selection_shows_it(backend) {
        let app = TestApp::seeded(backend).await;
        let token = app.manager();
        let ids = |data: &Value| -> Vec<String> {
            nodes(&data["customers"]).iter().flat_map(|c| nodes(&c["interactions"]).into_iter().map(|i| i["id"].to_string())).collect()
        };
        let plain = app.data("{ customers(first: 30) { edges { node { id name interactions(first: 3) { edges { node { id subject } } } } } } }", Some(&token)).await;
        // Through an alias, an inline fragment and a named fragment: every long field is read.
        let shown = app.data("{ customers(first: 30) { edges { node { id notes: internalNotes interactions(first: 3) { edges { node { id ... on Interaction { s: summary } ...N } } } } } } }
            fragment N on Interaction { internalNote }", Some(&token)).await;
        let shown_ids: Vec<String> = shown["customers"]["edges"].as_array().unwrap().iter()
            .flat_map(|c| c["node"]["interactions"]["edges"].as_array().unwrap().iter().map(|e| e["node"]["id"].to_string())).collect();
        assert_eq!(ids(&plain), shown_ids, "the same rows either way");
        let interactions: Vec<&Value> = shown["customers"]["edges"].as_array().unwrap().iter()
            .flat_map(|c| c["node"]["interactions"]["edges"].as_array().unwrap().iter().map(|e| &e["node"])).collect();
        assert!(interactions.len() > 20);
        assert!(interactions.iter().all(|i| i["s"].as_str().is_some_and(|s| !s.is_empty())), "every summary read");
        assert!(interactions.iter().any(|i| i["internalNote"].is_string()), "internal notes read");
        let customers = shown["customers"]["edges"].as_array().unwrap();
        assert!(customers.iter().any(|c| c["node"]["notes"].is_string()), "customers' internal notes read");
        // Selected nowhere, the long columns are not read from the database at all.
        use crm_gateway::{policy::OwnerScope, service::{Omit, interaction::{Parent, children}}};
        let none = Omit::unselected::<entity::interaction::Entity>(|_| false);
        let pages = children(OwnerScope::All, Parent::Customer).first_pages(&app.db, &(1..=40).collect::<Vec<_>>(), 3, none).await.unwrap();
        let rows: Vec<_> = pages.values().flat_map(|p| p.items.iter().map(|(_, row)| row)).collect();
        assert!(rows.len() > 20);
        assert!(rows.iter().all(|r| r.summary.is_empty() && r.internal_note.is_none() && !r.subject.is_empty()));
    }

    async fn every_field_reads_the_same_alone_as_among_all_the_others(backend) {
        // Long text columns are left out when the selection shows none of the fields reading
        // them (`service::LongText`): a field missing from its column's readers would read a
        // placeholder when selected alone. Every scalar and relation key is checked, so a wider
        // projection later is held to the same rule.
        let app = TestApp::seeded(backend).await;
        let token = app.manager();
        const CUSTOMER: &[&str] = &["kind", "segment", "name", "organization", "email", "phone",
            "status", "customerSince", "version", "lifetimeValue", "healthScore", "churnRisk",
            "internalNotes", "title", "hireDate", "department { id }"];
        const INTERACTION: &[&str] = &["channel", "kind", "subject", "summary", "status",
            "openedAt", "resolvedAt", "satisfaction", "nps", "version", "handler { id }",
            "internalNote", "slaDueAt", "slaBreached", "relatedTo { id }", "customer { id }",
            "department { id }"];
        let query = |customer: &str, interaction: &str| format!(
            "{{ customers(first: 60) {{ edges {{ node {{ id {customer} interactions(first: 5) {{ edges {{ node {{ id {interaction} }} }} }} }} }} }} }}");
        let all = app.data(&query(&CUSTOMER.join(" "), &INTERACTION.join(" ")), Some(&token)).await;
        let customers = nodes(&all["customers"]);
        let interactions: Vec<Value> = customers.iter().flat_map(|c| nodes(&c["interactions"])).collect();
        assert!(customers.len() > 20 && interactions.len() > 40);
        let key = |field: &str| field.split_whitespace().next().unwrap_or(field).to_owned();
        for field in CUSTOMER {
            let alone = app.data(&query(field, ""), Some(&token)).await;
            let values: Vec<Value> = nodes(&alone["customers"]).iter().map(|c| c[key(field)].clone()).collect();
            let expected: Vec<Value> = customers.iter().map(|c| c[key(field)].clone()).collect();
            assert_eq!(values, expected, "Customer.{field}");
        }
        for field in INTERACTION {
            let alone = app.data(&query("", field), Some(&token)).await;
            let values: Vec<Value> = nodes(&alone["customers"]).iter()
                .flat_map(|c| nodes(&c["interactions"])).map(|i| i[key(field)].clone()).collect();
            let expected: Vec<Value> = interactions.iter().map(|i| i[key(field)].clone()).collect();
            assert_eq!(values, expected, "Interaction.{field}");
        }
        // Some of every kind of value is there to compare.
        for field in ["resolvedAt", "satisfaction", "nps", "slaDueAt", "internalNote"] {
            assert!(interactions.iter().any(|i| !i[field].is_null()), "some {field}");
        }
        for field in ["organization", "phone", "title", "hireDate", "internalNotes"] {
            assert!(customers.iter().any(|c| !c[field].is_null()), "some {field}");
        }
    }
}
