//! The business rules the figures count by, each defined once: the Rust predicate over stored
//! values and the SQL expression that counts the same thing sit side by side, built from the
//! same constants, so a change to a rule is one change. `tests/api/rules.rs` checks that both
//! sides agree on the demo company.

use chrono::{DateTime, Utc};
use entity::{interaction, interaction_message, purchase};
use sea_orm::sea_query::{
    Alias, DynIden, Expr, ExprTrait, Func, IntoIden, JoinType, Query, SelectStatement, UnionType,
};

use super::sql::Range;

/// Highest NPS answer that makes a detractor.
pub const DETRACTOR_MAX: i32 = 6;
/// Lowest NPS answer that makes a promoter.
pub const PROMOTER_MIN: i32 = 9;
/// Lowest CSAT answer that counts as satisfied.
pub const SATISFIED_MIN: i32 = 4;

/// A column of `table` (a table name or an alias of it), for the SQL side of a rule.
fn col<T: IntoIden, C: IntoIden>(table: T, column: C) -> Expr {
    Expr::col((table.into_iden(), column.into_iden()))
}

/// Breached: a due time is set, and the interaction was resolved after it or, still open, is
/// past it at `now`.
pub fn breached(
    due: Option<DateTime<Utc>>,
    resolved: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> bool {
    due.is_some_and(|due| resolved.unwrap_or(now) > due)
}

/// [`breached`] over the interaction columns of `table`. Each branch tests `resolved_at` for
/// NULL itself, so the condition is never NULL and its negation is "not breached".
pub fn breached_sql<T: IntoIden + Clone>(table: T, now: DateTime<Utc>) -> Expr {
    use interaction::Column as C;
    let due = || col(table.clone(), C::SlaDueAt);
    let resolved = || col(table.clone(), C::ResolvedAt);
    due().is_not_null().and(
        resolved()
            .is_not_null()
            .and(resolved().gt(due()))
            .or(resolved().is_null().and(due().lt(now))),
    )
}

/// Resolved no later than due (a resolved interaction without a due time is not on time).
pub fn on_time(due: Option<DateTime<Utc>>, resolved: Option<DateTime<Utc>>) -> bool {
    matches!((due, resolved), (Some(due), Some(resolved)) if resolved <= due)
}

/// [`on_time`] over the interaction columns of `table`.
pub fn on_time_sql<T: IntoIden + Clone>(table: T) -> Expr {
    use interaction::Column as C;
    col(table.clone(), C::ResolvedAt)
        .is_not_null()
        .and(col(table.clone(), C::ResolvedAt).lte(col(table, C::SlaDueAt)))
}

/// An NPS answer of 0 to [`DETRACTOR_MAX`].
pub fn detractor(nps: Option<i32>) -> bool {
    nps.is_some_and(|n| n <= DETRACTOR_MAX)
}

/// [`detractor`] over the `nps` column of `table`.
pub fn detractor_sql<T: IntoIden>(table: T) -> Expr {
    col(table, interaction::Column::Nps).lte(DETRACTOR_MAX)
}

/// An NPS answer of [`PROMOTER_MIN`] to 10.
pub fn promoter(nps: Option<i32>) -> bool {
    nps.is_some_and(|n| n >= PROMOTER_MIN)
}

/// [`promoter`] over the `nps` column of `table`.
pub fn promoter_sql<T: IntoIden>(table: T) -> Expr {
    col(table, interaction::Column::Nps).gte(PROMOTER_MIN)
}

/// An NPS answer that is neither a detractor's nor a promoter's.
pub fn passive(nps: Option<i32>) -> bool {
    nps.is_some() && !detractor(nps) && !promoter(nps)
}

/// [`passive`] over the `nps` column of `table`.
pub fn passive_sql<T: IntoIden + Clone>(table: T) -> Expr {
    let nps = || col(table.clone(), interaction::Column::Nps);
    nps().gt(DETRACTOR_MAX).and(nps().lt(PROMOTER_MIN))
}

/// A CSAT answer of [`SATISFIED_MIN`] or more.
pub fn satisfied(csat: Option<i32>) -> bool {
    csat.is_some_and(|s| s >= SATISFIED_MIN)
}

/// [`satisfied`] over the `satisfaction` column of `table`.
pub fn satisfied_sql<T: IntoIden>(table: T) -> Expr {
    col(table, interaction::Column::Satisfaction).gte(SATISFIED_MIN)
}

/// A public reply to an interaction: a message on it written by anyone but its customer.
pub fn public_reply(
    message: &interaction_message::Model,
    interaction: &interaction::Model,
) -> bool {
    message.interaction_id == interaction.id && message.author_id != interaction.customer_id
}

/// When the company first replied in public to `interaction`, among `messages`.
pub fn first_public_reply(
    interaction: &interaction::Model,
    messages: &[interaction_message::Model],
) -> Option<DateTime<Utc>> {
    messages
        .iter()
        .filter(|m| public_reply(m, interaction))
        .map(|m| m.created_at)
        .min()
}

/// [`first_public_reply`] of every interaction that has one: rows of `interaction_id` and
/// `first_reply`.
pub fn first_public_reply_sql() -> SelectStatement {
    use interaction_message::Column as M;
    let (m, i) = (Alias::new("m"), Alias::new("mi"));
    Query::select()
        .expr_as(
            col(m.clone(), M::InteractionId),
            Alias::new("interaction_id"),
        )
        .expr_as(
            Func::min(col(m.clone(), M::CreatedAt)),
            Alias::new("first_reply"),
        )
        .from_as(interaction_message::Entity, m.clone())
        .join_as(
            JoinType::InnerJoin,
            interaction::Entity,
            i.clone(),
            col(i.clone(), interaction::Column::Id).equals((m.clone(), M::InteractionId)),
        )
        .and_where(col(m.clone(), M::AuthorId).ne(col(i, interaction::Column::CustomerId)))
        .group_by_col((m, M::InteractionId))
        .to_owned()
}

/// Active in a period: the customer opened an interaction or made a purchase in it. `moments`
/// are the times of the customer's interactions opened and purchases made.
pub fn active(moments: &[DateTime<Utc>], period: Range) -> bool {
    moments
        .iter()
        .any(|at| period.from <= *at && *at < period.to)
}

/// Retained: [`active`] in a period and again in the `following` one.
pub fn retained(moments: &[DateTime<Utc>], period: Range, following: Range) -> bool {
    active(moments, period) && active(moments, following)
}

/// The customers [`active`] within `period`: distinct rows of `customer_id`.
pub fn active_customers_sql(period: Range) -> SelectStatement {
    activity(period, None)
}

/// The moments that make a customer [`active`] within `period`: rows of `customer_id` and
/// `at`, one per interaction opened and per purchase made.
pub fn activity_sql(period: Range) -> SelectStatement {
    activity(period, Some(Alias::new("at")))
}

/// Interactions opened and purchases made within `period`, the one definition behind
/// [`active_customers_sql`] (customers only, a `UNION` drops repeats) and [`activity_sql`]
/// (with the time as `at`, `UNION ALL`).
fn activity(period: Range, at: Option<Alias>) -> SelectStatement {
    use interaction::Column as I;
    use purchase::Column as P;
    let customer = Alias::new("customer_id");
    let branch = |table: DynIden, customer_col: DynIden, time: DynIden| {
        let time = || Expr::col(time.clone());
        let mut select = Query::select();
        select
            .expr_as(Expr::col(customer_col), customer.clone())
            .from(table)
            .and_where(time().gte(period.from))
            .and_where(time().lt(period.to));
        if let Some(at) = &at {
            select.expr_as(time(), at.clone());
        }
        select
    };
    let purchases = branch(
        purchase::Entity.into_iden(),
        P::CustomerId.into_iden(),
        P::PurchasedAt.into_iden(),
    );
    let union = if at.is_some() {
        UnionType::All
    } else {
        UnionType::Distinct
    };
    branch(
        interaction::Entity.into_iden(),
        I::CustomerId.into_iden(),
        I::OpenedAt.into_iden(),
    )
    .union(union, purchases)
    .to_owned()
}
