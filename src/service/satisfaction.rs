//! External satisfaction, measured the way markets measure it: NPS, CSAT, response and
//! resolution times, retention, revenue. Every figure is an aggregate computed by the
//! database over external customers only; no rows are loaded into memory to be counted.

use std::collections::BTreeMap;

use entity::{customer, department, enums::CustomerKind, interaction, purchase};
use sea_orm::{
    DatabaseConnection, DbBackend, FromQueryResult,
    sea_query::{Alias, Asterisk, Expr, ExprTrait, Func, JoinType, Order, Query, SelectStatement},
};

use super::{
    rules,
    sql::{self, Range},
};
use crate::Result;

/// How external figures are grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grouping {
    /// One group, `all`.
    None,
    /// By customer segment.
    Segment,
    /// By the department that handled the interaction.
    Department,
    /// By channel.
    Channel,
    /// By calendar month (UTC) of opening or purchase.
    Month,
}

/// The external figures of one group.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExternalFigures {
    /// Group key: `all`, a segment, a department name, a channel, or `YYYY-MM`.
    pub group: String,
    /// Interactions opened in the range.
    pub interactions: i64,
    /// NPS answers.
    pub nps_responses: i64,
    /// Promoters' answers ([`rules::promoter`]).
    pub promoters: i64,
    /// Passives' answers ([`rules::passive`]).
    pub passives: i64,
    /// Detractors' answers ([`rules::detractor`]).
    pub detractors: i64,
    /// CSAT answers.
    pub csat_responses: i64,
    /// Mean CSAT.
    pub csat_mean: Option<f64>,
    /// Satisfied CSAT answers ([`rules::satisfied`]).
    pub csat_satisfied: i64,
    /// Mean hours from opening to the company's first public reply
    /// ([`rules::first_public_reply`]).
    pub mean_first_response_hours: Option<f64>,
    /// Mean hours from opening to resolution, over resolved interactions.
    pub mean_resolution_hours: Option<f64>,
    /// Revenue in cents (groupings by segment and month; none for department and channel).
    pub revenue_cents: Option<i64>,
    /// Purchases (same groupings as revenue).
    pub purchases: Option<i64>,
    /// Customers active in the range (an interaction or a purchase), for retention.
    pub active_customers: Option<i64>,
    /// Of those, customers active again in the following period of equal length
    /// ([`rules::retained`]).
    pub retained_customers: Option<i64>,
}

impl ExternalFigures {
    /// % promoters − % detractors, over NPS answers.
    pub fn nps(&self) -> Option<f64> {
        (self.nps_responses > 0)
            .then(|| 100.0 * (self.promoters - self.detractors) as f64 / self.nps_responses as f64)
    }

    /// % of CSAT answers that are satisfied.
    pub fn csat_satisfied_percent(&self) -> Option<f64> {
        (self.csat_responses > 0)
            .then(|| 100.0 * self.csat_satisfied as f64 / self.csat_responses as f64)
    }

    /// % of active customers active again in the next period.
    pub fn retention_percent(&self) -> Option<f64> {
        match (self.active_customers, self.retained_customers) {
            (Some(active), Some(retained)) if active > 0 => {
                Some(100.0 * retained as f64 / active as f64)
            }
            _ => None,
        }
    }
}

#[derive(FromQueryResult)]
struct InteractionRow {
    grp: String,
    interactions: i64,
    nps_responses: i64,
    promoters: i64,
    passives: i64,
    detractors: i64,
    csat_responses: i64,
    csat_mean: Option<f64>,
    csat_satisfied: i64,
    first_response_hours: Option<f64>,
    resolution_hours: Option<f64>,
}

#[derive(FromQueryResult)]
struct RevenueRow {
    grp: String,
    revenue: i64,
    purchases: i64,
}

#[derive(FromQueryResult)]
struct RetentionRow {
    grp: String,
    active: i64,
    retained: i64,
}

/// External figures for `range`, grouped.
pub async fn external(
    db: &DatabaseConnection,
    range: Range,
    grouping: Grouping,
) -> Result<Vec<ExternalFigures>> {
    let backend = db.get_database_backend();
    let query = interaction_figures(backend, range, grouping);
    let rows = InteractionRow::find_by_statement(sql::statement(backend, &query))
        .all(db)
        .await?;
    let mut out: BTreeMap<String, ExternalFigures> = rows
        .into_iter()
        .map(|r| (r.grp.clone(), r.into()))
        .collect();
    add_revenue(db, range, grouping, &mut out).await?;
    add_retention(db, range, grouping, &mut out).await?;
    Ok(out.into_values().collect())
}

impl From<InteractionRow> for ExternalFigures {
    fn from(r: InteractionRow) -> Self {
        ExternalFigures {
            group: r.grp,
            interactions: r.interactions,
            nps_responses: r.nps_responses,
            promoters: r.promoters,
            passives: r.passives,
            detractors: r.detractors,
            csat_responses: r.csat_responses,
            csat_mean: r.csat_mean,
            csat_satisfied: r.csat_satisfied,
            mean_first_response_hours: sql::tidy(r.first_response_hours),
            mean_resolution_hours: sql::tidy(r.resolution_hours),
            ..Default::default()
        }
    }
}

/// Aliases of the tables the statements read.
fn i() -> Alias {
    Alias::new("i")
}
fn c() -> Alias {
    Alias::new("c")
}
fn d() -> Alias {
    Alias::new("d")
}

/// The one group every row falls in when nothing groups them.
fn all() -> Expr {
    Expr::Constant("all".into())
}

/// Groups by the statement's first column (its group key), which may hold binds that a
/// repeated expression would number anew on PostgreSQL.
fn by_first_column(select: &mut SelectStatement) {
    select.add_group_by([Expr::cust("1")]);
}

/// Only the external customers `c`.
fn external_customers() -> Expr {
    Expr::col((c(), customer::Column::Kind)).eq(sql::enum_value(CustomerKind::External))
}

/// The interaction figures of external customers opened in `range`, one row per group.
fn interaction_figures(backend: DbBackend, range: Range, grouping: Grouping) -> SelectStatement {
    use interaction::Column as C;
    let col = |column: C| Expr::col((i(), column));
    let group = match grouping {
        Grouping::None => all(),
        Grouping::Segment => Expr::col((c(), customer::Column::Segment)),
        Grouping::Department => Expr::col((d(), department::Column::Name)),
        Grouping::Channel => col(C::Channel),
        Grouping::Month => sql::month(backend, col(C::OpenedAt)),
    };
    let reply = Alias::new("r");
    let first_reply = Expr::col((reply.clone(), Alias::new("first_reply")));
    let figures = [
        ("interactions", Func::count(Expr::col(Asterisk)).into()),
        ("nps_responses", sql::count_if(col(C::Nps).is_not_null())),
        ("promoters", sql::count_if(rules::promoter_sql(i()))),
        ("passives", sql::count_if(rules::passive_sql(i()))),
        ("detractors", sql::count_if(rules::detractor_sql(i()))),
        (
            "csat_responses",
            sql::count_if(col(C::Satisfaction).is_not_null()),
        ),
        ("csat_mean", sql::avg(col(C::Satisfaction))),
        ("csat_satisfied", sql::count_if(rules::satisfied_sql(i()))),
        (
            "first_response_hours",
            sql::avg(sql::hours(backend, col(C::OpenedAt), first_reply)),
        ),
        (
            "resolution_hours",
            sql::avg(sql::hours(backend, col(C::OpenedAt), col(C::ResolvedAt))),
        ),
    ];
    let mut select = Query::select();
    select.expr_as(group, Alias::new("grp"));
    for (name, figure) in figures {
        select.expr_as(figure, Alias::new(name));
    }
    select
        .from_as(interaction::Entity, i())
        .join_as(
            JoinType::InnerJoin,
            customer::Entity,
            c(),
            Expr::col((c(), customer::Column::Id)).equals((i(), C::CustomerId)),
        )
        .join_as(
            JoinType::InnerJoin,
            department::Entity,
            d(),
            Expr::col((d(), department::Column::Id)).equals((i(), C::DepartmentId)),
        )
        .join_subquery(
            JoinType::LeftJoin,
            rules::first_public_reply_sql(),
            reply.clone(),
            Expr::col((reply, Alias::new("interaction_id"))).equals((i(), C::Id)),
        )
        .and_where(external_customers())
        .and_where(col(C::OpenedAt).gte(range.from))
        .and_where(col(C::OpenedAt).lt(range.to));
    by_first_column(&mut select);
    select.order_by_expr(Expr::cust("1"), Order::Asc);
    select
}

/// External revenue and purchases in `range` per group, or `None` for groupings purchases
/// do not have: revenue belongs to customers and months, not to departments or channels.
fn revenue_figures(
    backend: DbBackend,
    range: Range,
    grouping: Grouping,
) -> Option<SelectStatement> {
    use purchase::Column as P;
    let p = Alias::new("p");
    let col = |column: P| Expr::col((p.clone(), column));
    let group = match grouping {
        Grouping::None => all(),
        Grouping::Segment => Expr::col((c(), customer::Column::Segment)),
        Grouping::Month => sql::month(backend, col(P::PurchasedAt)),
        Grouping::Department | Grouping::Channel => return None,
    };
    let revenue = Func::coalesce([
        Func::sum(col(P::TotalCents)).into(),
        Expr::Constant(0.into()),
    ]);
    let mut select = Query::select();
    select
        .expr_as(group, Alias::new("grp"))
        .expr_as(
            Func::cast_as(revenue, Alias::new("BIGINT")),
            Alias::new("revenue"),
        )
        .expr_as(Func::count(Expr::col(Asterisk)), Alias::new("purchases"))
        .from_as(purchase::Entity, p.clone())
        .join_as(
            JoinType::InnerJoin,
            customer::Entity,
            c(),
            Expr::col((c(), customer::Column::Id)).equals((p.clone(), P::CustomerId)),
        )
        .and_where(external_customers())
        .and_where(col(P::PurchasedAt).gte(range.from))
        .and_where(col(P::PurchasedAt).lt(range.to));
    by_first_column(&mut select);
    Some(select)
}

/// Adds revenue and purchases to every group (zero where none), for the groupings that have
/// them.
async fn add_revenue(
    db: &DatabaseConnection,
    range: Range,
    grouping: Grouping,
    out: &mut BTreeMap<String, ExternalFigures>,
) -> Result<()> {
    let backend = db.get_database_backend();
    let Some(query) = revenue_figures(backend, range, grouping) else {
        return Ok(());
    };
    let rows = RevenueRow::find_by_statement(sql::statement(backend, &query))
        .all(db)
        .await?;
    for figures in out.values_mut() {
        figures.revenue_cents = Some(0);
        figures.purchases = Some(0);
    }
    for r in rows {
        let figures = out.entry(r.grp.clone()).or_insert_with(|| ExternalFigures {
            group: r.grp,
            ..Default::default()
        });
        figures.revenue_cents = Some(r.revenue);
        figures.purchases = Some(r.purchases);
    }
    Ok(())
}

/// Adds retention to every group. It is defined for every grouping (see [`retention`]) once
/// the following period is over; before that nobody knows yet who comes back, so it stays
/// null.
async fn add_retention(
    db: &DatabaseConnection,
    range: Range,
    grouping: Grouping,
    out: &mut BTreeMap<String, ExternalFigures>,
) -> Result<()> {
    let backend = db.get_database_backend();
    let query = retention(backend, range, grouping);
    let rows = RetentionRow::find_by_statement(sql::statement(backend, &query))
        .all(db)
        .await?;
    for figures in out.values_mut() {
        figures.active_customers = Some(0);
        figures.retained_customers = Some(0);
    }
    let now = chrono::Utc::now();
    for r in rows {
        let figures = out.entry(r.grp.clone()).or_insert_with(|| ExternalFigures {
            group: r.grp,
            ..Default::default()
        });
        figures.active_customers = Some(r.active);
        figures.retained_customers = Some(r.retained);
    }
    for figures in out.values_mut() {
        if following_period_end(range, grouping, &figures.group).is_none_or(|end| end > now) {
            figures.retained_customers = None;
        }
    }
    Ok(())
}

/// When the period that retention looks at for `group` ends: the month after a `YYYY-MM`
/// group, else the period after the range.
fn following_period_end(
    range: Range,
    grouping: Grouping,
    group: &str,
) -> Option<chrono::DateTime<chrono::Utc>> {
    match grouping {
        Grouping::Month => {
            let first =
                chrono::NaiveDate::parse_from_str(&format!("{group}-01"), "%Y-%m-%d").ok()?;
            let end = first.checked_add_months(chrono::Months::new(2))?;
            Some(end.and_time(chrono::NaiveTime::MIN).and_utc())
        }
        _ => Some(range.next().to),
    }
}

/// Retention per group: external customers active in the group's period, and how many of them
/// are active again in the following period ([`rules::retained`]).
///
/// - `NONE`, `SEGMENT`: active in the range (an interaction or a purchase), again in the
///   period of the same length right after it.
/// - `DEPARTMENT`, `CHANNEL`: an interaction with that department or through that channel in
///   the range (purchases have neither), then any activity in the period after it.
/// - `MONTH`: active in that calendar month (within the range), again in the next calendar
///   month.
fn retention(backend: DbBackend, range: Range, grouping: Grouping) -> SelectStatement {
    match grouping {
        Grouping::None => retention_over_range(range, all()),
        Grouping::Segment => {
            retention_over_range(range, Expr::col((c(), customer::Column::Segment)))
        }
        Grouping::Department => {
            retention_by_interaction(range, Expr::col((d(), department::Column::Name)))
        }
        Grouping::Channel => {
            retention_by_interaction(range, Expr::col((i(), interaction::Column::Channel)))
        }
        Grouping::Month => retention_by_month(backend, range),
    }
}

/// The customers of `active` (rows of `customer_id`, and the `grp` and `m` some groupings
/// add) and how many of them appear in `again`, per `group`; `next_month` also matches `m`
/// of `again` to the month after `active`'s.
fn retained_of(
    group: Expr,
    active: SelectStatement,
    again: SelectStatement,
    next_month: bool,
) -> SelectStatement {
    let (a, b) = (Alias::new("a"), Alias::new("b"));
    let customer_id = Alias::new("customer_id");
    let mut on =
        Expr::col((b.clone(), customer_id.clone())).equals((a.clone(), customer_id.clone()));
    if next_month {
        let m = Alias::new("m");
        on = on.and(
            Expr::col((b.clone(), m.clone()))
                .eq(Expr::col((a.clone(), m)).add(Expr::Constant(1.into()))),
        );
    }
    let mut select = Query::select();
    select
        .expr_as(group, Alias::new("grp"))
        .expr_as(Func::count(Expr::col(Asterisk)), Alias::new("active"))
        .expr_as(
            sql::count_if(Expr::col((b.clone(), customer_id.clone())).is_not_null()),
            Alias::new("retained"),
        )
        .from_subquery(active, a.clone())
        .join_as(
            JoinType::InnerJoin,
            customer::Entity,
            c(),
            Expr::col((c(), customer::Column::Id)).equals((a, customer_id)),
        )
        .join_subquery(JoinType::LeftJoin, again, b, on)
        .and_where(external_customers());
    by_first_column(&mut select);
    select
}

/// `NONE`, `SEGMENT`: active in the range, again in the period right after it.
fn retention_over_range(range: Range, group: Expr) -> SelectStatement {
    retained_of(
        group,
        rules::active_customers_sql(range),
        rules::active_customers_sql(range.next()),
        false,
    )
}

/// `DEPARTMENT`, `CHANNEL`: customers with an interaction in the range, grouped by `key`
/// (over interaction `i` and its department `d`), again active in the period after it.
fn retention_by_interaction(range: Range, key: Expr) -> SelectStatement {
    use interaction::Column as C;
    let opened = || Expr::col((i(), C::OpenedAt));
    let active = Query::select()
        .distinct()
        .expr_as(key, Alias::new("grp"))
        .column((i(), C::CustomerId))
        .from_as(interaction::Entity, i())
        .join_as(
            JoinType::InnerJoin,
            department::Entity,
            d(),
            Expr::col((d(), department::Column::Id)).equals((i(), C::DepartmentId)),
        )
        .and_where(opened().gte(range.from))
        .and_where(opened().lt(range.to))
        .to_owned();
    let a_group = Expr::col((Alias::new("a"), Alias::new("grp")));
    retained_of(
        a_group,
        active,
        rules::active_customers_sql(range.next()),
        false,
    )
}

/// `MONTH`: active in a calendar month within the range, again in the next calendar month.
fn retention_by_month(backend: DbBackend, range: Range) -> SelectStatement {
    // Activity one month past the range's last month answers "again next month".
    let later = Range {
        from: range.from,
        to: sql::month_start(range.to, 2),
    };
    let x = Alias::new("x");
    let at = || Expr::col((x.clone(), Alias::new("at")));
    let monthly = |period: Range, with_group: bool| {
        let mut select = Query::select();
        select.distinct();
        if with_group {
            select.expr_as(sql::month(backend, at()), Alias::new("grp"));
        }
        select
            .expr_as(sql::month_index(backend, at()), Alias::new("m"))
            .column((x.clone(), Alias::new("customer_id")))
            .from_subquery(rules::activity_sql(period), x.clone());
        select
    };
    let a_group = Expr::col((Alias::new("a"), Alias::new("grp")));
    retained_of(a_group, monthly(range, true), monthly(later, false), true)
}
