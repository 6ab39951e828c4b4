//! A customer's timeline: interactions opened, purchases made and ratings given, merged into one
//! story, newest first — the view service teams open first. It pages like any nested list: the
//! first page of every customer of a nesting level in one statement, later pages after a cursor.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{DatabaseConnection, DbBackend, FromQueryResult, Value};
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

    /// The table, the time expression (over alias `x`) and the extra condition of its stream.
    fn stream(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Self::Interaction => ("interaction", "x.opened_at", ""),
            Self::Purchase => ("purchase", "x.purchased_at", ""),
            Self::Rating => (
                "interaction",
                "COALESCE(x.rated_at, x.public_updated_at)",
                " AND x.satisfaction IS NOT NULL",
            ),
        }
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

/// The condition (over alias `x`) that keeps a stream's entries older than `after`, and its
/// values. Entries order by time, then kind, then id, all descending.
fn older_than(kind: TimelineKind, after: &After, values: &mut Vec<Value>) -> String {
    let (_, time, _) = kind.stream();
    let (at, after_kind, id) = *after;
    if kind < after_kind {
        values.push(at.into());
        format!(" AND {time} <= ?")
    } else if kind > after_kind {
        values.push(at.into());
        format!(" AND {time} < ?")
    } else {
        values.extend([at.into(), at.into(), id.into()]);
        format!(" AND ({time} < ? OR ({time} = ? AND x.id < ?))")
    }
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
    let mut values: Vec<Value> = Vec::new();
    let mut branches = Vec::new();
    for kind in TimelineKind::ALL {
        let (table, time, extra) = kind.stream();
        let mut branch_values = Vec::new();
        let mut filter = extra.to_owned();
        if let OwnerScope::Customer(id) = scope {
            filter.push_str(" AND x.customer_id = ?");
            branch_values.push(id.into());
        }
        if let Some(after) = after {
            filter.push_str(&older_than(kind, after, &mut branch_values));
        }
        branch_values.push((limit as i64).into());
        let rank = kind as i32;
        let inner = format!(
            "SELECT x.id FROM {table} AS x WHERE x.customer_id = p.parent{filter} \
             ORDER BY {time} DESC, x.id DESC LIMIT ?"
        );
        branches.push(match backend {
            DbBackend::Postgres => {
                let inner = inner.replacen("SELECT x.id", &format!("SELECT {rank} AS kind, {time} AS at, x.id"), 1);
                format!("({inner})")
            }
            _ => {
                values.push(json!(parents).to_string().into());
                let outer_time = time.replace("x.", "t.");
                let inner = inner.replace("p.parent", "p.value");
                format!(
                    "SELECT t.customer_id AS parent, {rank} AS kind, {outer_time} AS at, t.id AS id \
                     FROM json_each(?) AS p JOIN {table} AS t ON t.id IN ({inner})"
                )
            }
        });
        values.extend(branch_values);
    }
    let sql = match backend {
        DbBackend::Postgres => {
            let list = parents
                .iter()
                .map(i32::to_string)
                .collect::<Vec<_>>()
                .join(",");
            values.insert(0, format!("{{{list}}}").into());
            format!(
                "SELECT p.parent, t.kind, t.at, t.id FROM unnest(CAST(? AS int[])) AS p(parent) \
                 CROSS JOIN LATERAL ({}) AS t ORDER BY 1, 3 DESC, 2 DESC, 4 DESC",
                branches.join(" UNION ALL ")
            )
        }
        _ => format!(
            "{} ORDER BY 1, 3 DESC, 2 DESC, 4 DESC",
            branches.join(" UNION ALL ")
        ),
    };
    super::sql::statement_text(backend, &sql, values)
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
