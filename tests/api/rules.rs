//! The business rules of `service::rules` and the SQL built from them agree on the demo
//! company: the figures the database counts are counted again here, in Rust, from the stored
//! rows with the rules' own predicates, on SQLite and PostgreSQL alike.

use std::collections::HashMap;

use chrono::{DateTime, TimeZone, Utc};
use crm_gateway::service::{rules, sql::Range};
use entity::{
    customer, department, enums::CustomerKind, interaction, interaction_message, purchase,
};
use sea_orm::EntityTrait;
use serde_json::Value;

use crate::helpers::*;

/// A quarter whose following quarter is over, so retention is known.
fn quarter() -> Range {
    let at = |m| Utc.with_ymd_and_hms(2026, m, 1, 0, 0, 0).unwrap();
    Range::new(at(4), at(7)).unwrap()
}

fn within(range: Range, at: DateTime<Utc>) -> bool {
    range.from <= at && at < range.to
}

/// What the database holds, loaded whole.
struct Stored {
    interactions: Vec<interaction::Model>,
    kinds: HashMap<i32, (CustomerKind, Option<i32>)>,
    replies: HashMap<i32, Vec<interaction_message::Model>>,
    moments: HashMap<i32, Vec<DateTime<Utc>>>,
    departments: Vec<department::Model>,
}

async fn load(app: &TestApp) -> Stored {
    let interactions = interaction::Entity::find().all(&app.db).await.unwrap();
    let kinds = customer::Entity::find()
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|c| (c.id, (c.kind, c.department_id)))
        .collect();
    let mut replies: HashMap<i32, Vec<_>> = HashMap::new();
    for m in interaction_message::Entity::find()
        .all(&app.db)
        .await
        .unwrap()
    {
        replies.entry(m.interaction_id).or_default().push(m);
    }
    let mut moments: HashMap<i32, Vec<_>> = HashMap::new();
    for i in &interactions {
        moments.entry(i.customer_id).or_default().push(i.opened_at);
    }
    for p in purchase::Entity::find().all(&app.db).await.unwrap() {
        moments
            .entry(p.customer_id)
            .or_default()
            .push(p.purchased_at);
    }
    let departments = department::Entity::find().all(&app.db).await.unwrap();
    Stored {
        interactions,
        kinds,
        replies,
        moments,
        departments,
    }
}

fn close(got: &Value, expected: Option<f64>) {
    match (got.as_f64(), expected) {
        (Some(got), Some(expected)) => assert!(
            (got - expected).abs() < 1e-4,
            "expected {expected}, got {got}"
        ),
        (got, expected) => assert_eq!(got, expected),
    }
}

both_backends! {
    async fn the_rules_and_the_sql_agree_on_the_demo_company(backend) {
        let app = TestApp::seeded(backend).await;
        let stored = load(&app).await;
        let now = Utc::now();
        let (quarter, range) = (quarter(), r#"range: {from: "2026-04-01T00:00:00Z", to: "2026-07-01T00:00:00Z"}"#);
        let data = app.data(&format!(r#"{{
            breached: interactions(filter: {{slaBreached: true}}) {{ totalCount }}
            met: interactions(filter: {{slaBreached: false}}) {{ totalCount }}
            externalSatisfaction({range}) {{ interactions promoters passives detractors csatSatisfiedPercent
                meanFirstResponseHours activeCustomers retainedCustomers }}
            departmentServiceLevels({range}) {{ department {{ name }} level {{ interactions breaches resolvedOnTime }} }}
        }}"#), Some(&app.manager())).await;

        // Breached, as the list filter counts it and as the rule says.
        let breached = stored.interactions.iter().filter(|i| rules::breached(i.sla_due_at, i.resolved_at, now)).count();
        assert!(breached > 0 && breached < stored.interactions.len());
        assert_eq!(data["breached"]["totalCount"], breached);
        assert_eq!(data["met"]["totalCount"], stored.interactions.len() - breached);

        // NPS bands, satisfied CSAT and first public replies of external customers' interactions.
        let kind = |customer: i32| stored.kinds.get(&customer).map(|k| k.0);
        let external: Vec<_> = stored.interactions.iter()
            .filter(|i| kind(i.customer_id) == Some(CustomerKind::External) && within(quarter, i.opened_at))
            .collect();
        let count = |rule: fn(Option<i32>) -> bool, of: fn(&interaction::Model) -> Option<i32>| external.iter().filter(|i| rule(of(i))).count();
        let figures = &data["externalSatisfaction"][0];
        assert_eq!(figures["interactions"], external.len());
        assert_eq!(figures["promoters"], count(rules::promoter, |i| i.nps));
        assert_eq!(figures["passives"], count(rules::passive, |i| i.nps));
        assert_eq!(figures["detractors"], count(rules::detractor, |i| i.nps));
        let rated = external.iter().filter(|i| i.satisfaction.is_some()).count();
        close(&figures["csatSatisfiedPercent"], Some(100.0 * count(rules::satisfied, |i| i.satisfaction) as f64 / rated as f64));
        let first_replies: Vec<f64> = external.iter()
            .filter_map(|i| rules::first_public_reply(i, stored.replies.get(&i.id).map_or(&[], Vec::as_slice)).map(|at| (at - i.opened_at).num_milliseconds() as f64 / 3_600_000.0))
            .collect();
        assert!(!first_replies.is_empty());
        close(&figures["meanFirstResponseHours"], Some(first_replies.iter().sum::<f64>() / first_replies.len() as f64));

        // Active and retained external customers.
        let following = quarter.next();
        let external_moments = || stored.moments.iter().filter(|(c, _)| kind(**c) == Some(CustomerKind::External)).map(|(_, m)| m);
        let active = external_moments().filter(|m| rules::active(m, quarter)).count();
        let retained = external_moments().filter(|m| rules::retained(m, quarter, following)).count();
        assert!(retained > 0 && retained < active);
        assert_eq!(figures["activeCustomers"], active);
        assert_eq!(figures["retainedCustomers"], retained);

        // Breaches and on-time resolutions per providing department, over internal requests.
        for level in data["departmentServiceLevels"].as_array().unwrap() {
            let name = level["department"]["name"].as_str().unwrap();
            let department = stored.departments.iter().find(|d| d.name == name).unwrap().id;
            let requests: Vec<_> = stored.interactions.iter()
                .filter(|i| i.department_id == department && kind(i.customer_id) == Some(CustomerKind::Internal) && within(quarter, i.opened_at))
                .collect();
            assert_eq!(level["level"]["interactions"], requests.len(), "{name}");
            let breaches = requests.iter().filter(|i| rules::breached(i.sla_due_at, i.resolved_at, now)).count();
            assert_eq!(level["level"]["breaches"], breaches, "{name}");
            let on_time = requests.iter().filter(|i| rules::on_time(i.sla_due_at, i.resolved_at)).count();
            assert_eq!(level["level"]["resolvedOnTime"], on_time, "{name}");
        }
    }
}
