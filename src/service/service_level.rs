//! Internal satisfaction, measured the way operations measure it: per service agreement and per
//! providing department — SLA compliance, breaches, turnaround against target, internal CSAT
//! from consuming departments, open backlog — and the service chain that links a
//! customer-facing department to every internal supplier it depends on.

use std::collections::{HashMap, HashSet, VecDeque};

use chrono::{DateTime, Utc};
use entity::{
    customer, department,
    enums::{CustomerKind, InteractionStatus},
    interaction, service_agreement,
};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, FromQueryResult,
    QueryFilter, QueryOrder,
    sea_query::{Alias, Expr, ExprTrait, Func, JoinType, Query, SelectStatement},
};

use super::{
    rules,
    sql::{self, Range},
};
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

/// Adds the figures of [`Level`] over interactions `i` to `select`, at `now` (open
/// interactions past due count as breached).
fn aggregates(select: &mut SelectStatement, backend: DbBackend, now: DateTime<Utc>) {
    use interaction::Column as C;
    let i = || Alias::new("i");
    let col = |c: C| Expr::col((i(), c));
    let figures = [
        ("interactions", Func::count(col(C::Id)).into()),
        ("resolved", sql::count_if(col(C::ResolvedAt).is_not_null())),
        ("on_time", sql::count_if(rules::on_time_sql(i()))),
        ("breaches", sql::count_if(rules::breached_sql(i(), now))),
        (
            "turnaround",
            sql::avg(sql::hours(backend, col(C::OpenedAt), col(C::ResolvedAt))),
        ),
        (
            "csat_responses",
            sql::count_if(col(C::Satisfaction).is_not_null()),
        ),
        ("csat", sql::avg(col(C::Satisfaction))),
        (
            "backlog",
            sql::count_if(
                col(C::Id)
                    .is_not_null()
                    .and(col(C::Status).is_in(OPEN.map(sql::enum_value))),
            ),
        ),
    ];
    for (name, figure) in figures {
        select.expr_as(figure, Alias::new(name));
    }
}

/// The statuses of an interaction still in the backlog.
const OPEN: [InteractionStatus; 2] = [InteractionStatus::Open, InteractionStatus::InProgress];

/// Interactions `i` opened within `range`.
fn opened_within(range: Range) -> Expr {
    let opened = || Expr::col((Alias::new("i"), interaction::Column::OpenedAt));
    opened().gte(range.from).and(opened().lt(range.to))
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
    let (a, c, i) = (Alias::new("a"), Alias::new("c"), Alias::new("i"));
    let mut select = Query::select()
        .expr_as(
            Expr::col((a.clone(), service_agreement::Column::Id)),
            Alias::new("grp_key"),
        )
        .from_as(service_agreement::Entity, a.clone())
        .join_as(
            JoinType::LeftJoin,
            customer::Entity,
            c.clone(),
            Expr::col((c.clone(), customer::Column::DepartmentId))
                .equals((a.clone(), service_agreement::Column::ConsumerDepartmentId))
                .and(
                    Expr::col((c.clone(), customer::Column::Kind))
                        .eq(sql::enum_value(CustomerKind::Internal)),
                ),
        )
        .join_as(
            JoinType::LeftJoin,
            interaction::Entity,
            i.clone(),
            Expr::col((i.clone(), interaction::Column::CustomerId))
                .equals((c, customer::Column::Id))
                .and(
                    Expr::col((i, interaction::Column::DepartmentId))
                        .equals((a.clone(), service_agreement::Column::ProviderDepartmentId)),
                )
                .and(opened_within(range)),
        )
        .and_where(
            Expr::col((a.clone(), service_agreement::Column::Id))
                .is_in(agreement_ids.iter().copied()),
        )
        .group_by_col((a, service_agreement::Column::Id))
        .to_owned();
    aggregates(&mut select, backend, Utc::now());
    let rows = LevelRow::find_by_statement(sql::statement(backend, &select))
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
    let (c, i) = (Alias::new("c"), Alias::new("i"));
    let mut select = Query::select()
        .expr_as(
            Expr::col((i.clone(), interaction::Column::DepartmentId)),
            Alias::new("grp_key"),
        )
        .from_as(interaction::Entity, i.clone())
        .join_as(
            JoinType::InnerJoin,
            customer::Entity,
            c.clone(),
            Expr::col((c.clone(), customer::Column::Id))
                .equals((i.clone(), interaction::Column::CustomerId)),
        )
        .and_where(
            Expr::col((c, customer::Column::Kind)).eq(sql::enum_value(CustomerKind::Internal)),
        )
        .and_where(opened_within(range))
        .group_by_col((i, interaction::Column::DepartmentId))
        .to_owned();
    aggregates(&mut select, backend, Utc::now());
    let rows = LevelRow::find_by_statement(sql::statement(backend, &select))
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
    /// Of the NPS answers on them, how many are detractors ([`rules::detractor`]).
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
            .filter(|i| rules::detractor(i.nps))
            .count() as i64,
        csat_mean: (!ratings.is_empty())
            .then(|| ratings.iter().map(|&r| f64::from(r)).sum::<f64>() / ratings.len() as f64),
        interactions,
        customers,
    })
}
