//! Reading like a CRM front-end does: filters, orderings, timelines, queues, and a statement
//! count that depends on the depth of a query, not on its page size.

use serde_json::{Value, json};

use crate::helpers::*;

fn ids(conn: &Value) -> Vec<i64> {
    nodes(conn).iter().map(|n| row(&n["id"])).collect()
}

both_backends! {
    async fn nested_queries_cost_statements_by_depth_not_by_page_size(backend) {
        // No batching window at all: over HTTP a level's statement goes out once the request
        // has asked for all its keys, however slow the machine (a debug build on two busy cores).
        let app = TestApp::seeded_with(backend, |c| c.loader_batch_delay_ms = 0).await;
        let token = app.employee();
        let query = |n: usize| format!(
            "{{ customers(first: {n}) {{ edges {{ node {{ id interactions(first: 5) {{ edges {{ cursor node {{ id department {{ name }} handler {{ name }} }} }} }} }} }} }} }}"
        );
        // The token's subject is looked up once, then cached: not part of what is measured.
        app.data("{ viewer { role } }", Some(&token)).await;
        let (small, body) = app.count_selects(app.gql(&query(5), Some(&token))).await;
        assert!(body.get("errors").is_none(), "{body}");
        let (large, body) = app.count_selects(app.gql(&query(50), Some(&token))).await;
        assert!(body.get("errors").is_none(), "{body}");
        let rows: usize = nodes(&body["data"]["customers"]).iter().map(|c| nodes(&c["interactions"]).len()).sum();
        assert!(rows > 50, "the large query really loads many interactions ({rows})");
        assert_eq!(small, large, "statements must not grow with the page size");
        assert!(large <= 5, "customers + interactions + departments + handlers: {large}");
    }

    async fn customers_filter_by_segment_status_search_and_date(backend) {
        let app = TestApp::seeded(backend).await;
        let token = app.employee();
        let data = app.data(r#"{
            press: customers(first: 100, filter: {segments: [PRESS]}) { totalCount edges { node { segment } } }
            gov: customers(first: 100, filter: {kind: EXTERNAL, segments: [GOVERNMENT, VOLUNTEER_ORGANIZATION]}) { totalCount edges { node { segment kind } } }
            churned: customers(first: 100, filter: {status: CHURNED}) { edges { node { status } } }
            search: customers(filter: {search: "BRIGHTPAWS"}) { edges { node { email } } }
            percent: customers(filter: {search: "%"}) { totalCount }
            recent: customers(first: 100, filter: {customerSinceFrom: "2026-01-01T00:00:00Z"}) { edges { node { customerSince } } }
        }"#, Some(&token)).await;
        assert_eq!(data["press"]["totalCount"], 4);
        assert!(nodes(&data["press"]).iter().all(|n| n["segment"] == "PRESS"));
        assert_eq!(data["gov"]["totalCount"], 10);
        assert!(nodes(&data["churned"]).iter().all(|n| n["status"] == "CHURNED"));
        let found = nodes(&data["search"]);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0]["email"], "olivia.hart@brightpaws.example");
        assert_eq!(data["percent"]["totalCount"], 0, "% is matched literally");
        assert!(nodes(&data["recent"]).iter().all(|n| n["customerSince"].as_str().unwrap() >= "2026-01-01"));
    }

    async fn interactions_filter_by_sla_kind_channel_satisfaction_and_time(backend) {
        let app = TestApp::seeded(backend).await;
        let token = app.employee();
        let data = app.data(r#"{
            breached: interactions(first: 100, filter: {slaBreached: true}) { totalCount edges { node { slaBreached } } }
            met: interactions(first: 100, filter: {slaBreached: false}) { totalCount edges { node { slaBreached } } }
            all: interactions { totalCount }
            unhappy: interactions(first: 100, filter: {maxSatisfaction: 2, kinds: [COMPLAINT]}) { edges { node { satisfaction kind } } }
            phone: interactions(first: 100, filter: {channels: [PHONE], openedFrom: "2026-08-01T00:00:00Z", openedTo: "2026-09-01T00:00:00Z"}) { edges { node { channel openedAt } } }
        }"#, Some(&token)).await;
        let breached = data["breached"]["totalCount"].as_i64().unwrap();
        let met = data["met"]["totalCount"].as_i64().unwrap();
        assert!(breached > 0 && met > 0);
        assert_eq!(breached + met, data["all"]["totalCount"].as_i64().unwrap());
        assert!(nodes(&data["breached"]).iter().all(|n| n["slaBreached"] == true));
        assert!(nodes(&data["met"]).iter().all(|n| n["slaBreached"] == false));
        let unhappy = nodes(&data["unhappy"]);
        assert!(!unhappy.is_empty());
        assert!(unhappy.iter().all(|n| n["satisfaction"].as_i64().unwrap() <= 2 && n["kind"] == "COMPLAINT"));
        for n in nodes(&data["phone"]) {
            assert_eq!(n["channel"], "PHONE");
            assert!(n["openedAt"].as_str().unwrap().starts_with("2026-08"));
        }
    }

    async fn internal_filters_and_sort_keys_do_not_exist_for_clients(backend) {
        let app = TestApp::seeded(backend).await;
        for query in [
            "{ interactions(filter: {slaBreached: true}) { totalCount } }",
            "{ customers(orderBy: {field: LIFETIME_VALUE}) { totalCount } }",
        ] {
            let body = app.gql(query, Some(&app.client())).await;
            assert_eq!(first_code(&body), "GRAPHQL_VALIDATION_FAILED", "{body}");
        }
        // Through variables too: refused before anything runs.
        let body = app
            .gql_vars("query($f: InteractionFilter) { interactions(filter: $f) { totalCount } }",
                      json!({"f": {"slaBreached": true}}), Some(&app.client()))
            .await;
        assert_eq!(first_code(&body), "BAD_USER_INPUT", "{body}");
        assert!(body.get("data").is_none(), "{body}");
        let body = app
            .gql_vars("query($o: CustomerOrderBy) { customers(orderBy: $o) { totalCount } }",
                      json!({"o": {"field": "HEALTH_SCORE"}}), Some(&app.client()))
            .await;
        assert_eq!(first_code(&body), "BAD_USER_INPUT", "{body}");
        assert!(body.get("data").is_none(), "{body}");
    }

    async fn orderings_are_stable_and_page_with_their_own_cursors(backend) {
        let app = TestApp::seeded(backend).await;
        let token = app.manager();
        let page = |after: Option<String>| {
            let after = after.map(|c| format!(", after: \"{c}\"")).unwrap_or_default();
            format!("{{ customers(first: 9, orderBy: {{field: LIFETIME_VALUE, direction: DESC}}{after}) {{ pageInfo {{ hasNextPage endCursor }} edges {{ node {{ id lifetimeValue }} }} }} }}")
        };
        let mut seen = Vec::new();
        let mut after = None;
        loop {
            let data = app.data(&page(after.clone()), Some(&token)).await;
            let conn = &data["customers"];
            seen.extend(nodes(conn).into_iter().map(|n| (n["lifetimeValue"].as_f64().unwrap(), n["id"].as_str().unwrap().to_owned())));
            if conn["pageInfo"]["hasNextPage"] != true { break; }
            after = conn["pageInfo"]["endCursor"].as_str().map(str::to_owned);
        }
        let total = app.data("{ customers { totalCount } }", Some(&token)).await["customers"]["totalCount"].as_u64().unwrap();
        assert_eq!(seen.len() as u64, total);
        assert!(seen.windows(2).all(|w| w[0].0 >= w[1].0), "descending by value");
        let unique: std::collections::HashSet<_> = seen.iter().map(|s| s.1.clone()).collect();
        assert_eq!(unique.len(), seen.len(), "no row twice");
        // A cursor from one ordering is refused by another.
        let cursor = after.unwrap_or_default();
        let body = app.gql(&format!("{{ customers(after: \"{cursor}\", orderBy: {{field: NAME}}) {{ totalCount }} }}"), Some(&token)).await;
        if !cursor.is_empty() {
            assert_eq!(first_code(&body), "BAD_USER_INPUT");
        }
        // A page reads only the columns its nodes show, but its cursors need the sort key and
        // the id: walking pages that show neither meets the same rows as pages showing both.
        let walk = |fields: &'static str| {
            let app = &app;
            let token = token.clone();
            async move {
                let mut names = Vec::new();
                let mut after = String::new();
                loop {
                    let query = format!("{{ customers(first: 7, orderBy: {{field: HEALTH_SCORE}}{after}) {{ pageInfo {{ hasNextPage endCursor }} nodes {{ {fields} }} }} }}");
                    let data = app.data(&query, Some(&token)).await;
                    let conn = &data["customers"];
                    names.extend(conn["nodes"].as_array().unwrap().iter().map(|n| n["name"].clone()));
                    if conn["pageInfo"]["hasNextPage"] != true { break names; }
                    after = format!(", after: \"{}\"", conn["pageInfo"]["endCursor"].as_str().unwrap());
                }
            }
        };
        let shown = walk("id healthScore name").await;
        assert_eq!(shown.len() as u64, total);
        assert_eq!(walk("name").await, shown);
        let by_name = app.data("{ customers(first: 100, orderBy: {field: NAME}) { edges { node { name } } } }", Some(&token)).await;
        let names: Vec<String> = nodes(&by_name["customers"]).iter().map(|n| n["name"].as_str().unwrap().to_owned()).collect();
        assert!(names.windows(2).all(|w| w[0] <= w[1]), "{names:?}");
        let by_id = app.data("{ interactions(first: 30, orderBy: {field: OPENED_AT, direction: DESC}) { edges { node { openedAt } } } }", Some(&token)).await;
        let times: Vec<String> = nodes(&by_id["interactions"]).iter().map(|n| n["openedAt"].as_str().unwrap().to_owned()).collect();
        assert!(times.windows(2).all(|w| w[0] >= w[1]));
        assert!(ids(&app.data("{ products { edges { node { id } } } }", None).await["products"]).windows(2).all(|w| w[0] < w[1]));
    }

    async fn a_customers_timeline_merges_interactions_purchases_and_ratings(backend) {
        let app = TestApp::seeded(backend).await;
        let data = app.data("{ viewer { customer { timeline(first: 30) { nodes { at kind interaction { id } purchase { id } } } } } }", Some(&app.client())).await;
        let entries = data["viewer"]["customer"]["timeline"]["nodes"].as_array().unwrap().clone();
        assert!(!entries.is_empty());
        let times: Vec<&str> = entries.iter().map(|e| e["at"].as_str().unwrap()).collect();
        assert!(times.windows(2).all(|w| w[0] >= w[1]), "newest first");
        for e in &entries {
            match e["kind"].as_str().unwrap() {
                "PURCHASE" => assert!(e["purchase"].is_object() && e["interaction"].is_null()),
                _ => assert!(e["interaction"].is_object() && e["purchase"].is_null()),
            }
        }
    }

    async fn a_departments_queue_lists_open_work_oldest_first(backend) {
        let app = TestApp::seeded(backend).await;
        let data = app.data("{ departments { edges { node { name queue(first: 50) { nodes { status openedAt slaBreached } } } } } }", Some(&app.employee())).await;
        let mut total = 0;
        for dept in nodes(&data["departments"]) {
            let queue = dept["queue"]["nodes"].as_array().unwrap();
            total += queue.len();
            assert!(queue.iter().all(|i| i["status"] == "OPEN" || i["status"] == "IN_PROGRESS"));
            let times: Vec<&str> = queue.iter().map(|i| i["openedAt"].as_str().unwrap()).collect();
            assert!(times.windows(2).all(|w| w[0] <= w[1]), "oldest first");
        }
        assert!(total > 0, "the demo has open work");
    }
}

both_backends! {
    async fn first_rows_of_many_parents_match_each_parent_read_alone(backend) {
        use crm_gateway::{policy::OwnerScope, service::interaction::{Parent, latest_per_parent}};
        let app = TestApp::seeded(backend).await;
        // One statement serves any number of parents (more than SQLite's 500 compound terms
        // too): padded with ids that do not exist, it returns what each parent alone returns.
        let real: Vec<i32> = (1..=80).collect();
        let mut padded = real.clone();
        padded.extend(10_000..10_600);
        let all = latest_per_parent(&app.db, OwnerScope::All, Parent::Customer, &padded, 3).await.unwrap();
        assert!(all.len() > 100);
        for customer in real {
            let mine: Vec<(i32, i32)> = all.iter().filter(|r| r.customer_id == customer).map(|r| (r.customer_id, r.id)).collect();
            let alone = latest_per_parent(&app.db, OwnerScope::All, Parent::Customer, &[customer], 3).await.unwrap();
            assert_eq!(mine, alone.iter().map(|r| (r.customer_id, r.id)).collect::<Vec<_>>(), "newest first, same rows");
            assert!(alone.windows(2).all(|w| (w[0].opened_at, w[0].id) >= (w[1].opened_at, w[1].id)), "newest first");
        }
        // The client's scope applies inside the statement: only its own rows.
        let own = latest_per_parent(&app.db, OwnerScope::Customer(33), Parent::Customer, &padded, 3).await.unwrap();
        assert!(!own.is_empty() && own.iter().all(|r| r.customer_id == 33));
    }
}
