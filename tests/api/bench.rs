//! The HTTP benchmark at toy scale, so it cannot rot (`benches/run.sh`, README "Benchmark"): the
//! bulk generator writes what it says, every request the benchmark sends answers without
//! errors, and the hand-written baseline's one statement answers the nested read exactly as the
//! gateway does. No timing here.

use std::collections::HashSet;

use entity::{customer, interaction, interaction_message};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, PaginatorTrait, QueryFilter, Statement,
};
use serde_json::Value;

use crate::helpers::*;

/// The benchmark's request bodies, with `__CUSTOMER__`/`__DEPARTMENT__` as `run.sh` fills them.
fn request(name: &str, customer: i32, department: i32) -> Value {
    let text = match name {
        "nested" => include_str!("../../benches/requests/nested.json"),
        "search" => include_str!("../../benches/requests/search.json"),
        "search_page" => include_str!("../../benches/requests/search_page.json"),
        "timeline" => include_str!("../../benches/requests/timeline.json"),
        "log" => include_str!("../../benches/requests/log.json"),
        other => panic!("no request {other}"),
    };
    let text = text
        .replace("__CUSTOMER__", &customer.to_string())
        .replace("__DEPARTMENT__", &department.to_string());
    serde_json::from_str(&text).expect("request body is JSON")
}

/// The demo company plus 50 generated customers with 3 interactions each.
async fn bench_app(backend: Backend) -> TestApp {
    let app = TestApp::seeded(backend).await;
    let seeded = crm_gateway::seed::bulk::add(&app.db, 50, 3)
        .await
        .expect("bulk seed");
    assert_eq!((seeded.customers, seeded.interactions), (50, 150));
    app
}

/// The ids of the generated customers, in order.
async fn generated(app: &TestApp) -> Vec<i32> {
    customer::Entity::find()
        .filter(customer::Column::Email.like("%@bulk.example"))
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.id)
        .collect()
}

both_backends! {
    async fn bulk_seed_adds_customers_with_varied_interactions_and_replies(backend) {
        let app = TestApp::seeded(backend).await;
        let before = interaction::Entity::find().count(&app.db).await.unwrap();
        let seeded = crm_gateway::seed::bulk::add(&app.db, 50, 3).await.expect("bulk seed");
        assert_eq!((seeded.customers, seeded.interactions), (50, 150));
        let ids = generated(&app).await;
        assert_eq!(ids.len(), 50);
        let rows = interaction::Entity::find()
            .filter(interaction::Column::CustomerId.is_in(ids.clone()))
            .all(&app.db)
            .await
            .unwrap();
        assert_eq!(rows.len(), 150);
        assert_eq!(interaction::Entity::find().count(&app.db).await.unwrap(), before + 150);
        let channels: HashSet<_> = rows.iter().map(|r| r.channel).collect();
        let kinds: HashSet<_> = rows.iter().map(|r| r.kind).collect();
        let statuses: HashSet<_> = rows.iter().map(|r| r.status).collect();
        let departments: HashSet<_> = rows.iter().map(|r| r.department_id).collect();
        assert!(channels.len() >= 4 && kinds.len() >= 4, "{channels:?} {kinds:?}");
        assert!(statuses.len() >= 2 && departments.len() >= 2, "{statuses:?} {departments:?}");
        let replies = interaction_message::Entity::find()
            .filter(interaction_message::Column::InteractionId.is_in(rows.iter().map(|r| r.id)))
            .count(&app.db)
            .await
            .unwrap();
        assert!(replies > 0, "some generated interactions have a reply");

        // A second run adds new customers rather than colliding with the first.
        crm_gateway::seed::bulk::add(&app.db, 5, 1).await.expect("second bulk seed");
        assert_eq!(generated(&app).await.len(), 55);
    }

    async fn every_benchmark_request_answers_without_errors(backend) {
        let app = bench_app(backend).await;
        let ids = generated(&app).await;
        let department = row(&Value::String(department_id(&app, "Customer Care").await)) as i32;
        let token = app.employee();
        for (name, customer) in [
            ("nested", 0),
            ("search", 0),
            ("search_page", 0),
            ("timeline", ids[49]),
            ("log", ids[48]),
        ] {
            let (status, body) = app.post(request(name, customer, department), Some(&token)).await;
            assert_eq!(status, 200, "{name}: {body}");
            assert!(body.get("errors").is_none(), "{name}: {body}");
            assert!(body["data"].is_object(), "{name}: {body}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_baseline_statement_answers_the_nested_read_as_the_gateway_does() {
    let app = bench_app(Backend::Postgres).await;
    let (status, gateway) = app
        .post(request("nested", 0, 0), Some(&app.employee()))
        .await;
    assert_eq!(status, 200, "{gateway}");
    let row = app
        .db
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            include_str!("../../benches/baseline/nested.sql"),
        ))
        .await
        .unwrap()
        .expect("one row");
    let text: String = row.try_get("", "body").unwrap();
    let baseline: Value = serde_json::from_str(&text).unwrap();
    let customers = baseline["data"]["customers"]["nodes"].as_array().unwrap();
    assert_eq!(customers.len(), 50);
    assert!(
        customers
            .iter()
            .any(|c| c["interactions"]["nodes"].as_array().unwrap().len() == 5)
    );
    assert_eq!(baseline, gateway);
}
