//! Keyset pagination shared by every list: validated page requests, opaque cursors that carry
//! the sort key, and pages that know whether more rows exist on either side. No OFFSET: a page
//! costs the same at row ten and at row ten million, and rows inserted meanwhile never shift it.

use std::{future::Future, pin::Pin, sync::Arc};

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Select, Value,
};
use serde_json::json;

use crate::{Error, Result};

/// Largest page a caller may ask for.
pub const MAX_PAGE_SIZE: i32 = 100;
/// Page size when the caller gives neither `first` nor `last`.
pub const DEFAULT_PAGE_SIZE: i32 = 20;

/// Which way a page reads from its cursor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// `first`/`after`: the rows just after the cursor.
    Forward,
    /// `last`/`before`: the rows just before the cursor.
    Backward,
}

/// A decoded cursor: the sort it belongs to, the row's sort value and id.
#[derive(Debug, Clone, PartialEq)]
pub struct Cursor {
    sort: String,
    value: serde_json::Value,
    id: i32,
}

/// A validated page request.
#[derive(Debug, Clone, PartialEq)]
pub struct PageRequest {
    /// Reading direction.
    pub direction: Direction,
    /// Rows wanted.
    pub limit: u64,
    cursor: Option<(Cursor, &'static str)>,
}

const CURSOR_PREFIX: &str = "cursor:v2:";

fn encode_cursor(sort: &str, value: serde_json::Value, id: i32) -> String {
    let text = format!("{CURSOR_PREFIX}{}", json!([sort, value, id]));
    text.bytes().map(|b| format!("{b:02x}")).collect()
}

fn decode_cursor(cursor: &str) -> Option<Cursor> {
    if !cursor.len().is_multiple_of(2) || cursor.len() > 1024 {
        return None;
    }
    let bytes: Option<Vec<u8>> = (0..cursor.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(cursor.get(i..i + 2)?, 16).ok())
        .collect();
    let text = String::from_utf8(bytes?).ok()?;
    let (sort, value, id): (String, serde_json::Value, i32) =
        serde_json::from_str(text.strip_prefix(CURSOR_PREFIX)?).ok()?;
    Some(Cursor { sort, value, id })
}

impl PageRequest {
    /// Validates Relay arguments: `first` with `after`, or `last` with `before`, never both
    /// directions, sizes between 0 and [`MAX_PAGE_SIZE`].
    pub fn new(
        first: Option<i32>,
        after: Option<&str>,
        last: Option<i32>,
        before: Option<&str>,
    ) -> Result<Self> {
        let size = |field: &str, n: i32| {
            if (0..=MAX_PAGE_SIZE).contains(&n) {
                Ok(n as u64)
            } else {
                Err(Error::bad_input(
                    field,
                    format!("must be between 0 and {MAX_PAGE_SIZE}"),
                ))
            }
        };
        let cursor = |field: &'static str, c: Option<&str>| {
            c.map(|c| {
                decode_cursor(c)
                    .map(|cursor| (cursor, field))
                    .ok_or_else(|| Error::bad_input(field, "is not a cursor returned by this API"))
            })
            .transpose()
        };
        match (first, after, last, before) {
            (Some(_), _, Some(_), _) => Err(Error::bad_input(
                "first",
                "pass either first/after or last/before, not both",
            )),
            (_, Some(_), _, Some(_)) => Err(Error::bad_input(
                "after",
                "pass either after or before, not both",
            )),
            (first, after, None, None) => Ok(Self {
                direction: Direction::Forward,
                limit: size("first", first.unwrap_or(DEFAULT_PAGE_SIZE))?,
                cursor: cursor("after", after)?,
            }),
            (None, None, last, before) => Ok(Self {
                direction: Direction::Backward,
                limit: size("last", last.unwrap_or(DEFAULT_PAGE_SIZE))?,
                cursor: cursor("before", before)?,
            }),
            (Some(_), _, None, Some(_)) | (None, Some(_), Some(_), None) => Err(Error::bad_input(
                "first",
                "first goes with after, last with before",
            )),
        }
    }
}

/// The type of a sort column's values, for cursors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    /// Integers.
    Int,
    /// Text.
    Text,
    /// Timestamps.
    Time,
}

/// A sort key value taken from a row.
#[derive(Debug, Clone, PartialEq)]
pub enum KeyValue {
    /// An integer.
    Int(i64),
    /// Text.
    Text(String),
    /// A timestamp.
    Time(DateTime<Utc>),
}

impl KeyValue {
    fn to_json(&self) -> serde_json::Value {
        match self {
            KeyValue::Int(n) => json!(n),
            KeyValue::Text(s) => json!(s),
            KeyValue::Time(t) => json!(t.to_rfc3339()),
        }
    }

    fn from_json(kind: KeyKind, value: &serde_json::Value) -> Option<Value> {
        Some(match kind {
            KeyKind::Int => Value::from(value.as_i64()?),
            KeyKind::Text => Value::from(value.as_str()?.to_owned()),
            KeyKind::Time => Value::from(
                DateTime::parse_from_rfc3339(value.as_str()?)
                    .ok()?
                    .with_timezone(&Utc),
            ),
        })
    }
}

/// Reads a row's sort value and id.
pub type KeyFn<M> = fn(&M) -> (Option<KeyValue>, i32);

/// How a list is ordered: a non-null column plus the id as tiebreaker, so the order is total.
pub struct Sort<E: EntityTrait> {
    /// Name carried in cursors, so a cursor is only valid for the ordering that produced it.
    pub name: &'static str,
    /// The sort column (`None` to sort by id alone).
    pub column: Option<(E::Column, KeyKind)>,
    /// The id column.
    pub id: E::Column,
    /// Largest first.
    pub descending: bool,
    /// Reads a row's sort value and id.
    pub key: KeyFn<E::Model>,
}

type CountFuture = Pin<Box<dyn Future<Output = Result<u64>> + Send>>;

/// The size of a whole result set, counted only when a client asks for it.
#[derive(Clone)]
pub struct TotalCount(Arc<dyn Fn() -> CountFuture + Send + Sync>);

impl TotalCount {
    /// Counts the rows.
    pub async fn get(&self) -> Result<u64> {
        (self.0)().await
    }
}

/// One page of rows.
pub struct Page<T> {
    /// The rows with their cursors, in list order.
    pub items: Vec<(String, T)>,
    /// More rows after the last one.
    pub has_next: bool,
    /// More rows before the first one.
    pub has_previous: bool,
    /// The size of the whole filtered set.
    pub total: TotalCount,
}

/// Reads one keyset page of an already-scoped and filtered `select`, ordered by `sort`.
pub async fn fetch<E>(
    db: &DatabaseConnection,
    select: Select<E>,
    sort: Sort<E>,
    page: PageRequest,
) -> Result<Page<E::Model>>
where
    E: EntityTrait,
    E::Model: Send + Sync,
{
    let total = {
        let db = db.clone();
        let select = select.clone();
        TotalCount(Arc::new(move || {
            let db = db.clone();
            let select = select.clone();
            Box::pin(async move { Ok(select.count(&db).await?) })
        }))
    };
    // Reading backwards is reading the reversed order forwards, then flipping the page.
    let ascending = (page.direction == Direction::Forward) != sort.descending;
    let mut query = select;
    if let Some((cursor, field)) = &page.cursor {
        if cursor.sort != sort.name {
            return Err(Error::bad_input(
                *field,
                "this cursor belongs to a different ordering",
            ));
        }
        let id = cursor.id;
        let beyond = |col: E::Column, v: Value| if ascending { col.gt(v) } else { col.lt(v) };
        let condition = match sort.column {
            None => Condition::all().add(beyond(sort.id, id.into())),
            Some((col, kind)) => {
                let value = KeyValue::from_json(kind, &cursor.value).ok_or_else(|| {
                    Error::bad_input(*field, "is not a cursor returned by this API")
                })?;
                Condition::any().add(beyond(col, value.clone())).add(
                    Condition::all()
                        .add(col.eq(value))
                        .add(beyond(sort.id, id.into())),
                )
            }
        };
        query = query.filter(condition);
    }
    let order = if ascending {
        sea_orm::Order::Asc
    } else {
        sea_orm::Order::Desc
    };
    if let Some((col, _)) = sort.column {
        query = query.order_by(col, order.clone());
    }
    query = query.order_by(sort.id, order);
    // One extra row tells whether another page follows, without a second query.
    let mut rows = query.limit(page.limit + 1).all(db).await?;
    let more = rows.len() as u64 > page.limit;
    rows.truncate(page.limit as usize);
    if page.direction == Direction::Backward {
        rows.reverse();
    }
    let (has_next, has_previous) = match page.direction {
        Direction::Forward => (more, page.cursor.is_some()),
        Direction::Backward => (page.cursor.is_some(), more),
    };
    let items = rows
        .into_iter()
        .map(|row| {
            let (value, id) = (sort.key)(&row);
            let value = value.map_or(serde_json::Value::Null, |v| v.to_json());
            (encode_cursor(sort.name, value, id), row)
        })
        .collect();
    Ok(Page {
        items,
        has_next,
        has_previous,
        total,
    })
}

/// Sorting by id alone, ascending: the default of lists without an `orderBy`.
#[macro_export]
macro_rules! by_id {
    ($entity:ident) => {
        $crate::service::page::Sort::<$entity::Entity> {
            name: "id",
            column: None,
            id: $entity::Column::Id,
            descending: false,
            key: |m| (None, m.id),
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        let c = encode_cursor("name", json!("Ada"), 42);
        assert_eq!(
            decode_cursor(&c),
            Some(Cursor {
                sort: "name".into(),
                value: json!("Ada"),
                id: 42
            })
        );
        assert_eq!(decode_cursor("zz"), None);
        assert_eq!(decode_cursor("1"), None);
        assert_eq!(decode_cursor("6375"), None);
    }

    #[test]
    fn page_sizes_are_capped_and_directions_exclusive() {
        assert!(PageRequest::new(Some(101), None, None, None).is_err());
        assert!(PageRequest::new(Some(-1), None, None, None).is_err());
        assert!(PageRequest::new(Some(5), None, Some(5), None).is_err());
        let page = PageRequest::new(None, None, Some(3), None).unwrap();
        assert_eq!(page.direction, Direction::Backward);
        assert_eq!(PageRequest::new(None, None, None, None).unwrap().limit, 20);
    }
}
