//! A customer's timeline: interactions opened, purchases made and ratings given, merged into one
//! story, newest first — the view service teams open first. It pages like any nested list: the
//! first page of every customer of a nesting level in one statement, later pages after a cursor.

use std::{cmp::Ordering, collections::HashMap};

use chrono::{DateTime, Utc};
use entity::{interaction, purchase};
use sea_orm::{
    DatabaseConnection, DbBackend, FromQueryResult,
    sea_query::{
        Alias, Asterisk, DynIden, Expr, ExprTrait, Func, IntoIden, JoinType, Order, Query,
        SelectStatement, UnionType,
    },
};
use serde_json::json;

use super::page::{Page, PageRequest, SortValue, TotalCount};
use crate::{Error, Result, policy::OwnerScope};

/// What kind of moment a timeline entry is; the order breaks ties between equal times.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum TimelineKind {
    /// An interaction was opened.
    Interaction = 0,
    /// Something was bought.
    Purchase = 1,
    /// An interaction was rated.
    Rating = 2,
}

impl TimelineKind {
    const ALL: [TimelineKind; 3] = [Self::Interaction, Self::Purchase, Self::Rating];

    fn from_rank(rank: i32) -> Option<Self> {
        Self::ALL.into_iter().find(|k| *k as i32 == rank)
    }

    /// The table of its stream.
    fn table(self) -> DynIden {
        match self {
            Self::Interaction | Self::Rating => interaction::Entity.into_iden(),
            Self::Purchase => purchase::Entity.into_iden(),
        }
    }

    /// When an entry of its stream happened, over the stream's table aliased `table`.
    fn time(self, table: &Alias) -> Expr {
        let col = |c: DynIden| Expr::col((table.clone(), c));
        match self {
            Self::Interaction => col(interaction::Column::OpenedAt.into_iden()),
            Self::Purchase => col(purchase::Column::PurchasedAt.into_iden()),
            Self::Rating => Func::coalesce([
                col(interaction::Column::RatedAt.into_iden()),
                col(interaction::Column::PublicUpdatedAt.into_iden()),
            ])
            .into(),
        }
    }

    /// What else an entry of its stream must be, over its table aliased `table`.
    fn condition(self, table: &Alias) -> Option<Expr> {
        (self == Self::Rating)
            .then(|| Expr::col((table.clone(), interaction::Column::Satisfaction)).is_not_null())
    }
}

/// One moment of a customer's history: what happened, when, and the id of the interaction
/// (opened or rated) or purchase it is about.
#[derive(Debug, Clone, PartialEq)]
pub struct TimelineItem {
    /// What happened.
    pub kind: TimelineKind,
    /// When it happened.
    pub at: DateTime<Utc>,
    /// The interaction's or the purchase's id.
    pub id: i32,
}

#[derive(FromQueryResult)]
struct Row {
    parent: i32,
    kind: i32,
    at: DateTime<Utc>,
    id: i32,
}

/// Where a page starts: entries strictly older than this one (in timeline order).
type After = (DateTime<Utc>, TimelineKind, i32);

fn label(parent: i32) -> String {
    format!("Customer.timeline:{parent}:at")
}

fn cursor_key(item: &TimelineItem) -> (SortValue, i32) {
    let key = json!([item.at.to_rfc3339(), item.kind as i32]);
    (SortValue::Json(key), item.id)
}

fn decode_after(request: &PageRequest, parent: i32) -> Result<Option<After>> {
    let Some((value, id)) = request.cursor_for(&label(parent))? else {
        return Ok(None);
    };
    let bad = || Error::bad_input("after", "is not a cursor returned by this API");
    let (at, rank): (String, i32) = serde_json::from_value(value).map_err(|_| bad())?;
    let at = DateTime::parse_from_rfc3339(&at).map_err(|_| bad())?;
    let kind = TimelineKind::from_rank(rank).ok_or_else(bad)?;
    Ok(Some((at.with_timezone(&Utc), kind, id)))
}

/// The condition (over alias `x`) that keeps a stream's entries older than `after`. Entries
/// order by time, then kind, then id, all descending.
fn older_than(kind: TimelineKind, after: &After) -> Expr {
    let x = Alias::new("x");
    let time = || kind.time(&x);
    let (at, after_kind, id) = *after;
    match kind.cmp(&after_kind) {
        Ordering::Less => time().lte(at),
        Ordering::Greater => time().lt(at),
        Ordering::Equal => time()
            .lt(at)
            .or(time().eq(at).and(Expr::col((x, Alias::new("id"))).lt(id))),
    }
}

/// The newest `limit` entries of one stream for the customer `parent` names (over the outer
/// query), older than `after` when given; with `shown`, each row carries its kind and time
/// (PostgreSQL reads them here, SQLite from the outer query).
fn newest(
    kind: TimelineKind,
    scope: OwnerScope,
    parent: Expr,
    limit: u64,
    after: Option<&After>,
    shown: bool,
) -> SelectStatement {
    let x = Alias::new("x");
    let customer = || Expr::col((x.clone(), Alias::new("customer_id")));
    let mut select = Query::select();
    if shown {
        select
            .expr_as(Expr::Constant((kind as i32).into()), Alias::new("kind"))
            .expr_as(kind.time(&x), Alias::new("at"));
    }
    select
        .column((x.clone(), Alias::new("id")))
        .from_as(kind.table(), x.clone())
        .and_where(customer().eq(parent))
        .and_where_option(kind.condition(&x));
    if let OwnerScope::Customer(id) = scope {
        select.and_where(customer().eq(id));
    }
    if let Some(after) = after {
        select.and_where(older_than(kind, after));
    }
    select
        .order_by_expr(kind.time(&x), Order::Desc)
        .order_by((x, Alias::new("id")), Order::Desc)
        .limit(limit);
    select
}

/// Orders the merged entries per parent, newest first (time, then kind, then id).
fn in_timeline_order(select: &mut SelectStatement) {
    select.order_by_expr(Expr::cust("1"), Order::Asc);
    for column in ["3", "2", "4"] {
        select.order_by_expr(Expr::cust(column), Order::Desc);
    }
}

/// PostgreSQL: every parent of an array, each joined laterally to the union of its streams'
/// newest entries, so each stream's `LIMIT` applies per parent.
fn statement_postgres(
    scope: OwnerScope,
    parents: &[i32],
    limit: u64,
    after: Option<&After>,
) -> SelectStatement {
    let (p, t) = (Alias::new("parent"), Alias::new("t"));
    let parent = || Expr::col((p.clone(), p.clone()));
    let branch = |kind| newest(kind, scope, parent(), limit, after, true);
    // A union's first branch cannot carry its own ORDER BY and LIMIT: it reads through a
    // subquery; the others are parenthesised.
    let mut streams = Query::select();
    streams
        .column(Asterisk)
        .from_subquery(branch(TimelineKind::Interaction), Alias::new("s"))
        .union(UnionType::All, branch(TimelineKind::Purchase))
        .union(UnionType::All, branch(TimelineKind::Rating));
    let list = parents
        .iter()
        .map(i32::to_string)
        .collect::<Vec<_>>()
        .join(",");
    let array = Func::cast_as(Expr::val(format!("{{{list}}}")), Alias::new("int[]"));
    let mut select = Query::select();
    select
        .expr(parent())
        .columns([
            (t.clone(), Alias::new("kind")),
            (t.clone(), Alias::new("at")),
            (t.clone(), Alias::new("id")),
        ])
        .from_function(Func::cust("unnest").arg(array), p.clone())
        .join_lateral(JoinType::InnerJoin, streams, t, Expr::cust("TRUE"));
    in_timeline_order(&mut select);
    select
}

/// SQLite (no LATERAL): per stream, every parent of a JSON array joined to the stream's rows
/// among its newest `limit`; the streams' rows united.
fn statement_sqlite(
    scope: OwnerScope,
    parents: &[i32],
    limit: u64,
    after: Option<&After>,
) -> SelectStatement {
    let (p, t) = (Alias::new("p"), Alias::new("t"));
    let branch = |kind: TimelineKind| {
        let newest = newest(
            kind,
            scope,
            Expr::col((p.clone(), Alias::new("value"))),
            limit,
            after,
            false,
        );
        Query::select()
            .expr_as(
                Expr::col((t.clone(), Alias::new("customer_id"))),
                Alias::new("parent"),
            )
            .expr_as(Expr::Constant((kind as i32).into()), Alias::new("kind"))
            .expr_as(kind.time(&t), Alias::new("at"))
            .expr_as(Expr::col((t.clone(), Alias::new("id"))), Alias::new("id"))
            .from_function(
                Func::cust("json_each").arg(json!(parents).to_string()),
                p.clone(),
            )
            .join_as(
                JoinType::InnerJoin,
                kind.table(),
                t.clone(),
                Expr::col((t.clone(), Alias::new("id"))).in_subquery(newest),
            )
            .to_owned()
    };
    let mut select = branch(TimelineKind::Interaction);
    select
        .union(UnionType::All, branch(TimelineKind::Purchase))
        .union(UnionType::All, branch(TimelineKind::Rating));
    in_timeline_order(&mut select);
    select
}

/// The statement reading the newest `limit` entries of each stream for every parent. Its text
/// depends on the backend, the scope and whether a cursor is given — never on the parents.
fn statement(
    backend: DbBackend,
    scope: OwnerScope,
    parents: &[i32],
    limit: u64,
    after: Option<&After>,
) -> sea_orm::Statement {
    let select = match backend {
        DbBackend::Postgres => statement_postgres(scope, parents, limit, after),
        _ => statement_sqlite(scope, parents, limit, after),
    };
    super::sql::statement(backend, &select)
}

async fn read(
    db: &DatabaseConnection,
    scope: OwnerScope,
    parents: &[i32],
    request: &PageRequest,
    after: Option<&After>,
) -> Result<HashMap<i32, Page<TimelineItem>>> {
    let mut grouped: HashMap<i32, Vec<TimelineItem>> = HashMap::new();
    if !parents.is_empty() && request.limit > 0 {
        // Each stream's newest `limit + 1` make the merged head exact, and the extra row tells
        // whether another page follows.
        let stmt = statement(
            db.get_database_backend(),
            scope,
            parents,
            request.limit + 1,
            after,
        );
        for row in Row::find_by_statement(stmt).all(db).await? {
            let Some(kind) = TimelineKind::from_rank(row.kind) else {
                continue;
            };
            grouped.entry(row.parent).or_default().push(TimelineItem {
                kind,
                at: row.at,
                id: row.id,
            });
        }
    }
    Ok(parents
        .iter()
        .map(|&parent| {
            let items = grouped.remove(&parent).unwrap_or_default();
            // The timeline shows no count: a zero here is never read.
            let none = TotalCount::new(|| async { Ok(0) });
            let page = Page::from_rows(items, request, &label(parent), cursor_key, none);
            (parent, page)
        })
        .collect())
}

/// The first `limit` entries of each of `parents`' timelines, in one statement.
pub async fn first_pages(
    db: &DatabaseConnection,
    scope: OwnerScope,
    parents: &[i32],
    limit: u64,
) -> Result<HashMap<i32, Page<TimelineItem>>> {
    read(db, scope, parents, &PageRequest::first(limit), None).await
}

/// One page of one customer's timeline, from the start or after one of its cursors.
pub async fn page(
    db: &DatabaseConnection,
    scope: OwnerScope,
    parent: i32,
    request: PageRequest,
) -> Result<Page<TimelineItem>> {
    let after = decode_after(&request, parent)?;
    let mut pages = read(db, scope, &[parent], &request, after.as_ref()).await?;
    Ok(pages.remove(&parent).unwrap_or_else(Page::empty))
}
