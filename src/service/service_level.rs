//! Internal satisfaction, measured the way operations measure it: per service agreement and per
//! providing department — SLA compliance, breaches, turnaround against target, internal CSAT
//! from consuming departments, open backlog — and the service chain that links a
//! customer-facing department to every internal supplier it depends on.

use std::collections::{HashMap, HashSet, VecDeque};

use chrono::Utc;
use entity::{customer, department, interaction, service_agreement};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, FromQueryResult, QueryFilter,
    QueryOrder,
};

use super::sql::{self, Range};
use crate::policy::LevelScope;
use crate::{Error, Result};

/// Operational figures of one agreement or one providing department.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Level {
    /// Interactions opened in the range.
    pub interactions: i64,
    /// Of those, resolved.
    pub resolved: i64,
    /// Of those, resolved no later than due.
    pub resolved_on_time: i64,
    /// Resolved late, or still open past due.
    pub breaches: i64,
    /// Mean hours from opening to resolution.
    pub mean_turnaround_hours: Option<f64>,
    /// CSAT answers from the consuming side.
    pub csat_responses: i64,
    /// Mean CSAT from the consuming side.
    pub csat_mean: Option<f64>,
    /// Still open (OPEN or IN_PROGRESS).
    pub open_backlog: i64,
}

impl Level {
    /// % of resolved interactions resolved no later than due.
    pub fn compliance_percent(&self) -> Option<f64> {
        (self.resolved > 0).then(|| 100.0 * self.resolved_on_time as f64 / self.resolved as f64)
    }
}

#[derive(FromQueryResult)]
struct LevelRow {
    grp_key: i32,
    interactions: i64,
    resolved: i64,
    on_time: i64,
    breaches: i64,
    turnaround: Option<f64>,
    csat_responses: i64,
    csat: Option<f64>,
    backlog: i64,
}

impl From<LevelRow> for Level {
    fn from(r: LevelRow) -> Self {
        Level {
            interactions: r.interactions,
            resolved: r.resolved,
            resolved_on_time: r.on_time,
            breaches: r.breaches,
            mean_turnaround_hours: sql::tidy(r.turnaround),
            csat_responses: r.csat_responses,
            csat_mean: r.csat,
            open_backlog: r.backlog,
        }
    }
}

fn aggregates(backend: sea_orm::DbBackend) -> String {
    format!(
        "COUNT(i.id) AS interactions, {resolved} AS resolved, {on_time} AS on_time, \
         {breaches} AS breaches, {turnaround} AS turnaround, {csat_responses} AS csat_responses, \
         {csat} AS csat, {backlog} AS backlog",
        resolved = sql::count_if("i.resolved_at IS NOT NULL"),
        on_time = sql::count_if("i.resolved_at IS NOT NULL AND i.resolved_at <= i.sla_due_at"),
        breaches = sql::count_if(
            "i.sla_due_at IS NOT NULL AND ((i.resolved_at IS NOT NULL AND i.resolved_at > i.sla_due_at) \
             OR (i.resolved_at IS NULL AND i.sla_due_at < ?))"
        ),
        turnaround = sql::avg(&sql::hours(backend, "i.opened_at", "i.resolved_at")),
        csat_responses = sql::count_if("i.satisfaction IS NOT NULL"),
        csat = sql::avg("i.satisfaction"),
        backlog = sql::count_if("i.id IS NOT NULL AND i.status IN ('OPEN', 'IN_PROGRESS')"),
    )
}

/// The department of the employee behind a scope, if it is limited to one.
async fn scope_department(db: &DatabaseConnection, scope: LevelScope) -> Result<Option<i32>> {
    match scope {
        LevelScope::All => Ok(None),
        LevelScope::DepartmentOf(employee) => {
            let row = customer::Entity::find_by_id(employee).one(db).await?;
            // An employee without a department sees no department's figures.
            Ok(Some(row.and_then(|c| c.department_id).unwrap_or(0)))
        }
    }
}

/// The agreements inside a scope, by id.
pub async fn agreements_in_scope(
    db: &DatabaseConnection,
    scope: LevelScope,
) -> Result<Vec<service_agreement::Model>> {
    use service_agreement::Column as C;
    let mut select = service_agreement::Entity::find().order_by_asc(C::Id);
    if let Some(dept) = scope_department(db, scope).await? {
        select = select.filter(
            sea_orm::Condition::any()
                .add(C::ProviderDepartmentId.eq(dept))
                .add(C::ConsumerDepartmentId.eq(dept)),
        );
    }
    Ok(select.all(db).await?)
}

/// Figures per agreement id, for the given agreements. An interaction counts for an agreement
/// when its department is the provider and its customer works in the consumer department.
pub async fn per_agreement(
    db: &DatabaseConnection,
    agreement_ids: &[i32],
    range: Range,
) -> Result<HashMap<i32, Level>> {
    if agreement_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let backend = db.get_database_backend();
    let placeholders = vec!["?"; agreement_ids.len()].join(", ");
    let query = format!(
        "SELECT a.id AS grp_key, {aggregates} FROM service_agreement a \
         LEFT JOIN customer c ON c.department_id = a.consumer_department_id AND c.kind = 'INTERNAL' \
         LEFT JOIN interaction i ON i.customer_id = c.id AND i.department_id = a.provider_department_id \
              AND i.opened_at >= ? AND i.opened_at < ? \
         WHERE a.id IN ({placeholders}) GROUP BY a.id",
        aggregates = aggregates(backend),
    );
    let mut values: Vec<sea_orm::Value> =
        vec![Utc::now().into(), range.from.into(), range.to.into()];
    values.extend(agreement_ids.iter().map(|id| sea_orm::Value::from(*id)));
    let rows = LevelRow::find_by_statement(sql::statement(backend, &query, values))
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.grp_key, Level::from(r)))
        .collect())
}

/// Figures per providing department over all requests from internal customers.
pub async fn per_provider(
    db: &DatabaseConnection,
    scope: LevelScope,
    range: Range,
) -> Result<Vec<(department::Model, Level)>> {
    let backend = db.get_database_backend();
    let query = format!(
        "SELECT i.department_id AS grp_key, {aggregates} FROM interaction i \
         JOIN customer c ON c.id = i.customer_id \
         WHERE c.kind = 'INTERNAL' AND i.opened_at >= ? AND i.opened_at < ? \
         GROUP BY i.department_id",
        aggregates = aggregates(backend),
    );
    let rows = LevelRow::find_by_statement(sql::statement(
        backend,
        &query,
        vec![Utc::now().into(), range.from.into(), range.to.into()],
    ))
    .all(db)
    .await?;
    let mut levels: HashMap<i32, Level> = rows.into_iter().map(|r| (r.grp_key, r.into())).collect();
    let mut departments = department::Entity::find().order_by_asc(department::Column::Name);
    if let Some(dept) = scope_department(db, scope).await? {
        departments = departments.filter(department::Column::Id.eq(dept));
    }
    Ok(departments
        .all(db)
        .await?
        .into_iter()
        .map(|d| {
            let level = levels.remove(&d.id).unwrap_or_default();
            (d, level)
        })
        .collect())
}

/// One link of a service chain: `consumer` depends on `provider` through `agreement`.
#[derive(Debug, Clone)]
pub struct ChainLink {
    /// 1 for the start department's direct suppliers, 2 for theirs, …
    pub depth: i32,
    /// The agreement.
    pub agreement: service_agreement::Model,
    /// Its figures over the range.
    pub level: Level,
}

/// Walks from `start` back through every internal supplier it depends on, breadth first; each
/// agreement appears once, so cycles in the agreements end the walk instead of looping.
pub async fn chain(db: &DatabaseConnection, start: i32, range: Range) -> Result<Vec<ChainLink>> {
    if department::Entity::find_by_id(start)
        .one(db)
        .await?
        .is_none()
    {
        return Err(Error::NotFound { what: "department" });
    }
    let all = service_agreement::Entity::find()
        .order_by_asc(service_agreement::Column::Id)
        .all(db)
        .await?;
    let mut by_consumer: HashMap<i32, Vec<&service_agreement::Model>> = HashMap::new();
    for a in &all {
        by_consumer
            .entry(a.consumer_department_id)
            .or_default()
            .push(a);
    }
    let mut links = Vec::new();
    let mut seen_agreements = HashSet::new();
    let mut seen_departments = HashSet::from([start]);
    let mut queue = VecDeque::from([(start, 1)]);
    while let Some((consumer, depth)) = queue.pop_front() {
        for agreement in by_consumer.get(&consumer).into_iter().flatten() {
            if !seen_agreements.insert(agreement.id) {
                continue;
            }
            links.push((depth, (*agreement).clone()));
            if seen_departments.insert(agreement.provider_department_id) {
                queue.push_back((agreement.provider_department_id, depth + 1));
            }
        }
    }
    let ids: Vec<i32> = links.iter().map(|(_, a)| a.id).collect();
    let mut levels = per_agreement(db, &ids, range).await?;
    Ok(links
        .into_iter()
        .map(|(depth, agreement)| ChainLink {
            depth,
            level: levels.remove(&agreement.id).unwrap_or_default(),
            agreement,
        })
        .collect())
}

/// What an internal incident did to the outside: the external interactions linked to it.
#[derive(Debug, Clone, Default)]
pub struct Impact {
    /// External interactions caused by it.
    pub interactions: Vec<interaction::Model>,
    /// The distinct external customers behind them.
    pub customers: Vec<customer::Model>,
    /// Of the NPS answers on them, how many are detractors (0–6).
    pub detractors: i64,
    /// Mean CSAT on them.
    pub csat_mean: Option<f64>,
}

/// The external impact of interaction `id` (all interactions `relatedTo` it whose customer is
/// external).
pub async fn impact(db: &impl ConnectionTrait, id: i32) -> Result<Impact> {
    let caused = interaction::Entity::find()
        .filter(interaction::Column::RelatedToId.eq(id))
        .order_by_asc(interaction::Column::OpenedAt)
        .all(db)
        .await?;
    let customer_ids: Vec<i32> = caused.iter().map(|i| i.customer_id).collect();
    let customers = customer::Entity::find()
        .filter(customer::Column::Id.is_in(customer_ids))
        .filter(customer::Column::Kind.eq(entity::enums::CustomerKind::External))
        .order_by_asc(customer::Column::Name)
        .all(db)
        .await?;
    let external: HashSet<i32> = customers.iter().map(|c| c.id).collect();
    let interactions: Vec<_> = caused
        .into_iter()
        .filter(|i| external.contains(&i.customer_id))
        .collect();
    let ratings: Vec<i32> = interactions.iter().filter_map(|i| i.satisfaction).collect();
    Ok(Impact {
        detractors: interactions
            .iter()
            .filter(|i| i.nps.is_some_and(|n| n <= 6))
            .count() as i64,
        csat_mean: (!ratings.is_empty())
            .then(|| ratings.iter().map(|&r| f64::from(r)).sum::<f64>() / ratings.len() as f64),
        interactions,
        customers,
    })
}
