//! Satisfaction figures on a small hand-made company whose right answers are worked out by
//! hand below, on SQLite and PostgreSQL alike.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use crm_gateway::auth::Role;
use entity::{
    customer, department, department_feedback,
    enums::{Channel, CustomerKind, CustomerStatus, InteractionKind, InteractionStatus, Segment},
    interaction, interaction_message, morale_pulse, product, purchase, service_agreement,
};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, DatabaseConnection};
use serde_json::{Value, json};

use crate::helpers::*;

fn at(day: u32, month: u32, hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, month, day, hour, 0, 0).unwrap()
}

const RANGE: &str = r#"range: {from: "2026-03-01T00:00:00Z", to: "2026-04-01T00:00:00Z"}"#;

struct Company {
    care: i32,
    it: i32,
    hr: i32,
    care_agent: i32,
    it_engineer: i32,
    incident: i32,
}

pub(crate) async fn dept(db: &DatabaseConnection, name: &str, external: bool) -> i32 {
    department::ActiveModel {
        name: Set(name.into()),
        description: Set(format!("{name} department")),
        parent_id: Set(None),
        head_id: Set(None),
        serves_external: Set(external),
        budget_cents: Set(100_000),
        version: Set(1),
        created_at: Set(at(1, 1, 0)),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap()
    .id
}

pub(crate) async fn person(
    db: &DatabaseConnection,
    name: &str,
    segment: Segment,
    department: Option<i32>,
) -> i32 {
    let kind = segment.kind();
    customer::ActiveModel {
        kind: Set(kind),
        segment: Set(segment),
        name: Set(name.into()),
        organization: Set(None),
        email: Set(format!("{}@test.example", name.to_lowercase())),
        phone: Set(None),
        status: Set(CustomerStatus::Active),
        customer_since: Set(at(1, 1, 0)),
        lifetime_value_cents: Set(0),
        health_score: Set(80),
        internal_notes: Set(None),
        department_id: Set(department.filter(|_| kind == CustomerKind::Internal)),
        title: Set(None),
        hire_date: Set(None),
        version: Set(1),
        created_at: Set(at(1, 1, 0)),
        updated_at: Set(at(1, 1, 0)),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap()
    .id
}

#[allow(clippy::too_many_arguments)]
async fn contact(
    db: &DatabaseConnection,
    customer: i32,
    department: i32,
    channel: Channel,
    opened: DateTime<Utc>,
    due_hours: i64,
    resolved: Option<DateTime<Utc>>,
    ratings: (Option<i32>, Option<i32>),
    related: Option<i32>,
) -> i32 {
    interaction::ActiveModel {
        customer_id: Set(customer),
        department_id: Set(department),
        handler_id: Set(None),
        channel: Set(channel),
        kind: Set(InteractionKind::Request),
        subject: Set("s".into()),
        summary: Set("s".into()),
        internal_note: Set(None),
        status: Set(if resolved.is_some() {
            InteractionStatus::Resolved
        } else {
            InteractionStatus::Open
        }),
        opened_at: Set(opened),
        resolved_at: Set(resolved),
        sla_due_at: Set(Some(opened + chrono::Duration::hours(due_hours))),
        satisfaction: Set(ratings.0),
        nps: Set(ratings.1),
        rated_at: Set(resolved),
        related_to_id: Set(related),
        version: Set(1),
        updated_at: Set(opened),
        public_version: Set(1),
        public_updated_at: Set(opened),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap()
    .id
}

async fn reply(db: &DatabaseConnection, interaction: i32, author: i32, when: DateTime<Utc>) {
    interaction_message::ActiveModel {
        interaction_id: Set(interaction),
        author_id: Set(author),
        body: Set("reply".into()),
        created_at: Set(when),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap();
}

async fn buy(
    db: &DatabaseConnection,
    customer: i32,
    product: i32,
    cents: i64,
    when: DateTime<Utc>,
) {
    purchase::ActiveModel {
        customer_id: Set(customer),
        product_id: Set(product),
        quantity: Set(1),
        unit_price_cents: Set(cents),
        total_cents: Set(cents),
        purchased_at: Set(when),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap();
}

/// The company of the worked examples:
/// - Customer Care (external) is served by IT (4 h agreement); IT is served by HR.
/// - Three external customers: ada (INDIVIDUAL), bob and cyd (BUSINESS).
async fn build(db: &DatabaseConnection) -> Company {
    let care = dept(db, "Care", true).await;
    let it = dept(db, "IT", false).await;
    let hr = dept(db, "HR", false).await;
    for (provider, consumer) in [(it, care), (hr, it)] {
        service_agreement::ActiveModel {
            provider_department_id: Set(provider),
            consumer_department_id: Set(consumer),
            service: Set("help".into()),
            target_turnaround_hours: Set(4),
            quality_target: Set(4.0),
            version: Set(1),
            created_at: Set(at(1, 1, 0)),
            ..Default::default()
        }
        .insert(db)
        .await
        .unwrap();
    }
    let care_agent = person(db, "Carla", Segment::Employee, Some(care)).await;
    let care_2 = person(db, "Cesar", Segment::Employee, Some(care)).await;
    let care_3 = person(db, "Cora", Segment::Manager, Some(care)).await;
    let it_engineer = person(db, "Ivan", Segment::Employee, Some(it)).await;
    let ada = person(db, "Ada", Segment::Individual, None).await;
    let bob = person(db, "Bob", Segment::Business, None).await;
    let cyd = person(db, "Cyd", Segment::Business, None).await;

    // Internal: Care asks IT. j1 on time (3 h, CSAT 5), j2 late (12 h, CSAT 2), j3 still open
    // past due. IT asks itself once (j4, 1 h): it counts for IT as a provider, not for the
    // IT→Care agreement.
    use Channel::*;
    contact(
        db,
        care_agent,
        it,
        Portal,
        at(2, 3, 8),
        4,
        Some(at(2, 3, 11)),
        (Some(5), None),
        None,
    )
    .await;
    contact(
        db,
        care_agent,
        it,
        Portal,
        at(3, 3, 8),
        4,
        Some(at(3, 3, 20)),
        (Some(2), None),
        None,
    )
    .await;
    let incident = contact(
        db,
        care_agent,
        it,
        Phone,
        at(4, 3, 8),
        4,
        None,
        (None, None),
        None,
    )
    .await;
    contact(
        db,
        it_engineer,
        it,
        Chat,
        at(5, 3, 8),
        4,
        Some(at(5, 3, 9)),
        (None, None),
        None,
    )
    .await;

    // External, March: i1 ada PHONE 4 h NPS 10 CSAT 5; i2 bob EMAIL 24 h NPS 3 CSAT 2 (caused by
    // the incident); i3 cyd EMAIL 2 h NPS 8 CSAT 4; i4 bob CHAT open (caused by the incident).
    let i1 = contact(
        db,
        ada,
        care,
        Phone,
        at(2, 3, 10),
        48,
        Some(at(2, 3, 14)),
        (Some(5), Some(10)),
        None,
    )
    .await;
    let i2 = contact(
        db,
        bob,
        care,
        Email,
        at(3, 3, 10),
        48,
        Some(at(4, 3, 10)),
        (Some(2), Some(3)),
        Some(incident),
    )
    .await;
    contact(
        db,
        cyd,
        care,
        Email,
        at(5, 3, 10),
        48,
        Some(at(5, 3, 12)),
        (Some(4), Some(8)),
        None,
    )
    .await;
    contact(
        db,
        bob,
        care,
        Chat,
        at(10, 3, 10),
        48,
        None,
        (None, None),
        Some(incident),
    )
    .await;
    // April: ada comes back (retention), outside the range.
    contact(
        db,
        ada,
        care,
        Phone,
        at(5, 4, 10),
        48,
        None,
        (None, None),
        None,
    )
    .await;
    // First public replies from the company: 1 h on i1, 6 h on i2 (bob's own message first
    // does not count).
    reply(db, i1, care_agent, at(2, 3, 11)).await;
    reply(db, i2, bob, at(3, 3, 11)).await;
    reply(db, i2, care_agent, at(3, 3, 16)).await;

    let product = product::ActiveModel {
        sku: Set("P".into()),
        name: Set("P".into()),
        description: Set("P".into()),
        list_price_cents: Set(10_000),
        unit_cost_cents: Set(1_000),
        employee_discount_pct: Set(10),
        active: Set(true),
        created_at: Set(at(1, 1, 0)),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap()
    .id;
    buy(db, ada, product, 10_000, at(6, 3, 12)).await;
    buy(db, cyd, product, 5_000, at(7, 3, 12)).await;
    buy(db, care_agent, product, 2_000, at(8, 3, 12)).await; // internal: not revenue

    // Morale, week of 2 March: Care 4, 2, 3 (mean 3.0); IT one answer (suppressed).
    for (who, d, score) in [
        (care_agent, care, 4),
        (care_2, care, 2),
        (care_3, care, 3),
        (it_engineer, it, 5),
    ] {
        morale_pulse::ActiveModel {
            employee_id: Set(who),
            department_id: Set(d),
            week: Set(NaiveDate::from_ymd_opt(2026, 3, 2).unwrap()),
            score: Set(score),
            comment: Set(Some(format!("from {who}"))),
            created_at: Set(at(6, 3, 9)),
            ..Default::default()
        }
        .insert(db)
        .await
        .unwrap();
    }
    // Feedback about IT: 2 and 3 from Care (too few to show); about HR: 4, 5, 3 from IT.
    for (from, to, author, score) in [
        (care, it, care_agent, 2),
        (care, it, care_2, 3),
        (it, hr, it_engineer, 4),
        (it, hr, it_engineer, 5),
        (it, hr, it_engineer, 3),
    ] {
        department_feedback::ActiveModel {
            from_department_id: Set(from),
            to_department_id: Set(to),
            author_id: Set(author),
            score: Set(score),
            comment: Set(None),
            created_at: Set(at(9, 3, 9)),
            ..Default::default()
        }
        .insert(db)
        .await
        .unwrap();
    }
    Company {
        care,
        it,
        hr,
        care_agent,
        it_engineer,
        incident,
    }
}

fn approx(value: &Value, expected: f64) {
    let got = value
        .as_f64()
        .unwrap_or_else(|| panic!("expected {expected}, got {value}"));
    assert!(
        (got - expected).abs() < 1e-5,
        "expected {expected}, got {got}"
    );
}

fn group<'a>(rows: &'a Value, key: &str) -> &'a Value {
    rows.as_array()
        .unwrap()
        .iter()
        .find(|r| r["group"] == key)
        .unwrap_or_else(|| panic!("no group {key} in {rows}"))
}

both_backends! {
    async fn external_figures_match_the_worked_example(backend) {
        let app = TestApp::empty(backend).await;
        let c = build(&app.db).await;
        let manager = app.token(Role::Manager, c.care_agent);
        let fields = "group interactions nps npsResponses promoters passives detractors csatMean csatSatisfiedPercent csatResponses meanFirstResponseHours meanResolutionHours revenue purchases activeCustomers retainedCustomers retentionPercent";
        let data = app.data(&format!("{{ all: externalSatisfaction({RANGE}) {{ {fields} }}
            seg: externalSatisfaction({RANGE}, groupBy: SEGMENT) {{ {fields} }}
            chan: externalSatisfaction({RANGE}, groupBy: CHANNEL) {{ group interactions revenue retentionPercent }}
            month: externalSatisfaction(range: {{from: \"2026-03-01T00:00:00Z\", to: \"2026-05-01T00:00:00Z\"}}, groupBy: MONTH) {{ group interactions revenue }} }}"), Some(&manager)).await;
        let all = &data["all"][0];
        assert_eq!(all["group"], "all");
        assert_eq!(all["interactions"], 4);
        assert_eq!(all["npsResponses"], 3);
        assert_eq!((all["promoters"].as_i64(), all["passives"].as_i64(), all["detractors"].as_i64()), (Some(1), Some(1), Some(1)));
        approx(&all["nps"], 0.0);
        approx(&all["csatMean"], 11.0 / 3.0);
        approx(&all["csatSatisfiedPercent"], 200.0 / 3.0);
        approx(&all["meanResolutionHours"], 10.0);
        approx(&all["meanFirstResponseHours"], 3.5);
        approx(&all["revenue"], 150.0);
        assert_eq!(all["purchases"], 2);
        assert_eq!(all["activeCustomers"], 3);
        assert_eq!(all["retainedCustomers"], 1);
        approx(&all["retentionPercent"], 100.0 / 3.0);

        let individual = group(&data["seg"], "INDIVIDUAL");
        approx(&individual["nps"], 100.0);
        approx(&individual["revenue"], 100.0);
        approx(&individual["retentionPercent"], 100.0);
        let business = group(&data["seg"], "BUSINESS");
        assert_eq!(business["interactions"], 3);
        approx(&business["nps"], -50.0);
        approx(&business["revenue"], 50.0);
        approx(&business["retentionPercent"], 0.0);

        assert_eq!(group(&data["chan"], "EMAIL")["interactions"], 2);
        assert_eq!(group(&data["chan"], "PHONE")["interactions"], 1);
        assert_eq!(group(&data["chan"], "CHAT")["interactions"], 1);
        assert_eq!(group(&data["chan"], "EMAIL")["revenue"], Value::Null, "purchases have no channel");

        assert_eq!(group(&data["month"], "2026-03")["interactions"], 4);
        assert_eq!(group(&data["month"], "2026-04")["interactions"], 1);
        approx(&group(&data["month"], "2026-03")["revenue"], 150.0);
    }

    async fn retention_is_defined_for_every_grouping_once_the_following_period_is_over(backend) {
        let app = TestApp::empty(backend).await;
        let c = build(&app.db).await;
        let manager = app.token(Role::Manager, c.care_agent);
        let fields = "group activeCustomers retainedCustomers retentionPercent";
        let data = app.data(&format!("{{
            dept: externalSatisfaction({RANGE}, groupBy: DEPARTMENT) {{ {fields} }}
            chan: externalSatisfaction({RANGE}, groupBy: CHANNEL) {{ {fields} }}
            month: externalSatisfaction(range: {{from: \"2026-03-01T00:00:00Z\", to: \"2026-05-01T00:00:00Z\"}}, groupBy: MONTH) {{ {fields} }}
            open: externalSatisfaction(range: {{from: \"2026-03-01T00:00:00Z\", to: \"2030-01-01T00:00:00Z\"}}) {{ {fields} }} }}"), Some(&manager)).await;

        // Care served ada, bob and cyd in March; only ada came back in April.
        let care = group(&data["dept"], "Care");
        assert_eq!((care["activeCustomers"].as_i64(), care["retainedCustomers"].as_i64()), (Some(3), Some(1)));
        approx(&care["retentionPercent"], 100.0 / 3.0);
        // By channel: ada phoned (and came back); bob and cyd e-mailed, bob also chatted.
        approx(&group(&data["chan"], "PHONE")["retentionPercent"], 100.0);
        approx(&group(&data["chan"], "EMAIL")["retentionPercent"], 0.0);
        assert_eq!(group(&data["chan"], "EMAIL")["activeCustomers"], 2);
        approx(&group(&data["chan"], "CHAT")["retentionPercent"], 0.0);
        // By month: March's customers again in April; April's (ada) again in May: nobody.
        approx(&group(&data["month"], "2026-03")["retentionPercent"], 100.0 / 3.0);
        assert_eq!(group(&data["month"], "2026-04")["activeCustomers"], 1);
        approx(&group(&data["month"], "2026-04")["retentionPercent"], 0.0);
        // A period that has not ended yet: who comes back is not known.
        let open = &data["open"][0];
        assert_eq!(open["activeCustomers"], 3);
        assert_eq!((&open["retainedCustomers"], &open["retentionPercent"]), (&Value::Null, &Value::Null));
    }

    async fn service_levels_match_the_worked_example(backend) {
        let app = TestApp::empty(backend).await;
        let c = build(&app.db).await;
        let manager = app.token(Role::Manager, c.care_agent);
        let level = "interactions resolved resolvedOnTime compliancePercent breaches meanTurnaroundHours internalCsat csatResponses openBacklog";
        let data = app.data(&format!("{{ serviceLevels({RANGE}) {{ agreement {{ provider {{ name }} consumer {{ name }} }} level {{ {level} }} }}
            departmentServiceLevels({RANGE}) {{ department {{ name }} level {{ {level} }} }} }}"), Some(&manager)).await;
        let it_for_care = data["serviceLevels"].as_array().unwrap().iter()
            .find(|l| l["agreement"]["provider"]["name"] == "IT").unwrap()["level"].clone();
        assert_eq!(it_for_care["interactions"], 3);
        assert_eq!(it_for_care["resolved"], 2);
        assert_eq!(it_for_care["resolvedOnTime"], 1);
        approx(&it_for_care["compliancePercent"], 50.0);
        assert_eq!(it_for_care["breaches"], 2);
        approx(&it_for_care["meanTurnaroundHours"], 7.5);
        approx(&it_for_care["internalCsat"], 3.5);
        assert_eq!(it_for_care["openBacklog"], 1);
        let hr_for_it = data["serviceLevels"].as_array().unwrap().iter()
            .find(|l| l["agreement"]["provider"]["name"] == "HR").unwrap()["level"].clone();
        assert_eq!(hr_for_it["interactions"], 0);
        assert_eq!(hr_for_it["compliancePercent"], Value::Null);

        let it = data["departmentServiceLevels"].as_array().unwrap().iter()
            .find(|l| l["department"]["name"] == "IT").unwrap()["level"].clone();
        assert_eq!(it["interactions"], 4);
        assert_eq!(it["resolvedOnTime"], 2);
        approx(&it["compliancePercent"], 200.0 / 3.0);
        approx(&it["meanTurnaroundHours"], 16.0 / 3.0);

        // An employee sees the figures of agreements involving their own department only.
        let care_view = app.data(&format!("{{ serviceLevels({RANGE}) {{ agreement {{ provider {{ name }} }} }} departmentServiceLevels({RANGE}) {{ department {{ name }} }} }}"),
            Some(&app.token(Role::Employee, c.care_agent))).await;
        let providers: Vec<&str> = care_view["serviceLevels"].as_array().unwrap().iter().map(|l| l["agreement"]["provider"]["name"].as_str().unwrap()).collect();
        assert_eq!(providers, vec!["IT"]);
        assert_eq!(care_view["departmentServiceLevels"].as_array().unwrap().len(), 1);
        let it_view = app.data(&format!("{{ serviceLevels({RANGE}) {{ agreement {{ provider {{ name }} }} }} }}"),
            Some(&app.token(Role::Employee, c.it_engineer))).await;
        assert_eq!(it_view["serviceLevels"].as_array().unwrap().len(), 2);
    }

    async fn the_service_chain_and_incident_impact_trace_complaints_to_their_source(backend) {
        let app = TestApp::empty(backend).await;
        let c = build(&app.db).await;
        let manager = app.token(Role::Manager, c.care_agent);
        let data = app.data(&format!("{{ serviceChain(departmentId: \"{}\", {RANGE}) {{ department {{ name }} links {{ depth consumer {{ name }} provider {{ name }} level {{ compliancePercent breaches }} }} }}
            department(id: \"{}\") {{ servedBy {{ name }} serves {{ name }} }}
            interaction(id: \"{}\") {{ impact {{ externalInteractions externalCustomers detractors csatMean customers {{ name }} }} }} }}", c.care, c.it, c.incident), Some(&manager)).await;
        let links = data["serviceChain"]["links"].as_array().unwrap();
        assert_eq!(links.len(), 2);
        assert_eq!((links[0]["depth"].as_i64(), links[0]["provider"]["name"].as_str(), links[0]["consumer"]["name"].as_str()), (Some(1), Some("IT"), Some("Care")));
        approx(&links[0]["level"]["compliancePercent"], 50.0);
        assert_eq!((links[1]["depth"].as_i64(), links[1]["provider"]["name"].as_str()), (Some(2), Some("HR")));
        assert_eq!(data["department"]["servedBy"][0]["name"], "HR");
        assert_eq!(data["department"]["serves"][0]["name"], "Care");
        let impact = &data["interaction"]["impact"];
        assert_eq!(impact["externalInteractions"], 2);
        assert_eq!(impact["externalCustomers"], 1);
        assert_eq!(impact["customers"][0]["name"], "Bob");
        assert_eq!(impact["detractors"], 1);
        approx(&impact["csatMean"], 2.0);
        let _ = (c.hr, c.it);
    }

    async fn morale_and_feedback_are_anonymous_below_three_people(backend) {
        let app = TestApp::empty(backend).await;
        let c = build(&app.db).await;
        let employee = app.token(Role::Employee, c.care_agent);
        let fields = "label startsOn endsBefore closed departments { department { name } answers mean suppressed }";
        let data = app.data(&format!(r#"{{ moraleSummary(period: WEEK, from: "2026-03-04") {{ {fields} }}
            departmentFeedbackSummary(period: WEEK, from: "2026-03-09") {{ {fields} }} }}"#), Some(&employee)).await;
        let week = &data["moraleSummary"][0];
        assert_eq!((&week["startsOn"], &week["endsBefore"], &week["closed"]), (&json!("2026-03-02"), &json!("2026-03-09"), &json!(true)));
        let find = |summary: &Value, name: &str| summary["departments"].as_array().unwrap().iter().find(|a| a["department"]["name"] == name).unwrap().clone();
        let care = find(week, "Care");
        assert_eq!(care["answers"], 3);
        approx(&care["mean"], 3.0);
        assert_eq!(care["suppressed"], false);
        // One answer: withheld, its count too.
        let it = find(week, "IT");
        assert_eq!((&it["answers"], &it["mean"], &it["suppressed"]), (&Value::Null, &Value::Null, &Value::Bool(true)));
        // Two people about IT; three answers about HR, all from one person: both withheld.
        let feedback = &data["departmentFeedbackSummary"][0];
        assert_eq!(find(feedback, "IT")["suppressed"], true);
        assert_eq!(find(feedback, "HR")["suppressed"], true);
        assert_eq!(find(feedback, "HR")["answers"], Value::Null);
        // The week now running is not over: nothing in it is shown yet.
        let today = chrono::Utc::now().date_naive();
        let now = app.data(&format!(r#"{{ moraleSummary(period: MONTH, from: "{today}") {{ closed departments {{ suppressed }} }} }}"#), Some(&employee)).await;
        assert_eq!(now["moraleSummary"][0]["closed"], false);
        assert!(now["moraleSummary"][0]["departments"].as_array().unwrap().iter().all(|d| d["suppressed"] == true));
        let too_many = app.gql(r#"{ moraleSummary(period: WEEK, from: "2026-03-02", count: 61) { label } }"#, Some(&employee)).await;
        assert_eq!(too_many["errors"][0]["extensions"]["field"], "count");

        // Individual answers: managers only; employees cannot even name them.
        let body = app.gql(&format!("{{ moralePulses({RANGE}) {{ score }} }}"), Some(&employee)).await;
        assert_eq!(first_code(&body), "GRAPHQL_VALIDATION_FAILED");
        let manager = app.token(Role::Manager, c.care_agent);
        let data = app.data(&format!("{{ moralePulses({RANGE}) {{ score comment }} departmentFeedback({RANGE}) {{ score from {{ name }} to {{ name }} }} }}"), Some(&manager)).await;
        assert_eq!(data["moralePulses"].as_array().unwrap().len(), 4);
        assert_eq!(data["departmentFeedback"].as_array().unwrap().len(), 5);

        // Answering: once a week, scores 1–5, from a department to another.
        assert_eq!(app.data("mutation { submitMoralePulse(score: 4, comment: \"good week\") }", Some(&employee)).await["submitMoralePulse"], true);
        assert_eq!(first_code(&app.gql("mutation { submitMoralePulse(score: 5) }", Some(&employee)).await), "CONFLICT");
        let bad = app.gql("mutation { submitMoralePulse(score: 6) }", Some(&app.token(Role::Employee, c.it_engineer))).await;
        assert_eq!(bad["errors"][0]["extensions"]["field"], "score");
        let own = app.gql(&format!("mutation {{ giveDepartmentFeedback(toDepartmentId: \"{}\", score: 3) }}", c.care), Some(&employee)).await;
        assert_eq!(first_code(&own), "BAD_USER_INPUT");
        let ok = app.data(&format!("mutation {{ giveDepartmentFeedback(toDepartmentId: \"{}\", score: 3) }}", c.it), Some(&employee)).await;
        assert_eq!(ok["giveDepartmentFeedback"], true);
    }

    async fn clients_see_no_aggregates_at_all(backend) {
        let app = TestApp::empty(backend).await;
        let c = build(&app.db).await;
        let client = app.token(Role::Client, c.care_agent + 4);
        for query in [
            format!("{{ externalSatisfaction({RANGE}) {{ nps }} }}"),
            format!("{{ serviceLevels({RANGE}) {{ level {{ breaches }} }} }}"),
            r#"{ moraleSummary(period: MONTH, from: "2026-03-01") { departments { mean } } }"#.to_owned(),
            "{ departments { edges { node { servedBy { name } } } } }".to_owned(),
        ] {
            let body = app.gql(&query, Some(&client)).await;
            assert_eq!(first_code(&body), "GRAPHQL_VALIDATION_FAILED", "{query}: {body}");
        }
        let data = app.data("{ viewer { customer { name interactions { nodes { satisfaction nps } } } } }", Some(&client)).await;
        assert_eq!(data["viewer"]["customer"]["name"], "Ada");
        assert_eq!(data["viewer"]["customer"]["interactions"]["nodes"].as_array().unwrap().len(), 2);
    }
}
