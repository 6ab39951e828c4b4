//! Keyset pagination shared by every list: validated page requests, cursors that carry the sort
//! key sealed with the gateway's [`CursorKey`] (nothing in them is readable or forgeable), and
//! pages that know whether more rows exist on either side. No OFFSET: a page
//! costs the same at row ten and at row ten million, and rows inserted meanwhile never shift it.

use std::{future::Future, pin::Pin, sync::Arc};

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, QueryTrait, Select, Value,
};
use serde_json::json;

use super::{LongText, Omit, omitting};
use crate::{Error, Result, auth::CursorKey};

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

/// The one answer to any cursor argument that does not open: whether it was garbage, altered,
/// sealed by another key or cut short, the caller learns only that it is not ours.
pub const NOT_A_CURSOR: &str = "is not a cursor returned by this API";

/// Seals a cursor for the list `label` (a top-level list's sort name, or a nested list's
/// name, parent and sort), at a row's sort `value` and `id`.
pub(crate) fn encode_cursor(
    key: &CursorKey,
    sort: &str,
    value: serde_json::Value,
    id: i32,
) -> String {
    key.seal(json!([sort, value, id]).to_string().as_bytes())
}

/// Opens a cursor sealed by `key`: `None` for anything else, whatever is wrong with it.
pub(crate) fn decode_cursor(key: &CursorKey, cursor: &str) -> Option<Cursor> {
    let plaintext = key.open(cursor)?;
    let (sort, value, id): (String, serde_json::Value, i32) =
        serde_json::from_slice(&plaintext).ok()?;
    Some(Cursor { sort, value, id })
}

/// A row's sort value as a cursor carries it.
#[derive(Debug, Clone)]
pub(crate) enum SortValue {
    /// The value of the list's sort column (`None`: the list sorts by id alone).
    Column(Option<KeyValue>),
    /// A composite key, already in cursor form.
    Json(serde_json::Value),
}

impl SortValue {
    fn to_json(&self) -> serde_json::Value {
        match self {
            SortValue::Column(value) => value
                .as_ref()
                .map_or(serde_json::Value::Null, |v| v.to_json()),
            SortValue::Json(value) => value.clone(),
        }
    }
}

/// A row's place in its list, sealed into a cursor only when a client selects one: most reads
/// never do, and encoding every row's was a visible share of a nested read.
#[derive(Debug, Clone)]
pub struct PageCursor {
    label: Arc<str>,
    value: SortValue,
    id: i32,
}

impl PageCursor {
    /// The cursor text a client receives for this row.
    pub fn seal(&self, key: &CursorKey) -> String {
        encode_cursor(key, &self.label, self.value.to_json(), self.id)
    }
}

impl PageRequest {
    /// The first `first` rows after `after` (a nested list's arguments), opened with `key`.
    pub fn forward(key: &CursorKey, first: Option<i32>, after: Option<&str>) -> Result<Self> {
        Self::new(key, first, after, None, None)
    }

    /// The cursor to read from, if any, decoded for the list `label`: its sort value and id.
    pub(crate) fn cursor_for(&self, label: &str) -> Result<Option<(serde_json::Value, i32)>> {
        match &self.cursor {
            None => Ok(None),
            Some((cursor, _)) if cursor.sort == label => {
                Ok(Some((cursor.value.clone(), cursor.id)))
            }
            Some((_, field)) => Err(Error::bad_input(
                *field,
                "this cursor belongs to a different list or ordering",
            )),
        }
    }

    /// The first `limit` rows, from the start.
    pub(crate) fn first(limit: u64) -> Self {
        Self {
            direction: Direction::Forward,
            limit,
            cursor: None,
        }
    }

    /// Whether the request starts from a cursor.
    pub fn has_cursor(&self) -> bool {
        self.cursor.is_some()
    }

    /// Validates Relay arguments: `first` with `after`, or `last` with `before`, never both
    /// directions, sizes between 0 and [`MAX_PAGE_SIZE`], cursors sealed by `key`.
    pub fn new(
        key: &CursorKey,
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
                decode_cursor(key, c)
                    .map(|cursor| (cursor, field))
                    .ok_or_else(|| Error::bad_input(field, NOT_A_CURSOR))
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
    /// A count computed by `count` when (and each time) it is asked for.
    pub fn new<F, Fut>(count: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<u64>> + Send + 'static,
    {
        Self(Arc::new(move || Box::pin(count())))
    }

    /// Counts the rows.
    pub async fn get(&self) -> Result<u64> {
        (self.0)().await
    }
}

/// One page of rows.
#[derive(Clone)]
pub struct Page<T> {
    /// The rows with their cursors, in list order.
    pub items: Vec<(PageCursor, T)>,
    /// More rows after the last one.
    pub has_next: bool,
    /// More rows before the first one.
    pub has_previous: bool,
    /// The size of the whole filtered set.
    pub total: TotalCount,
}

impl<T> Page<T> {
    /// A page without rows.
    pub fn empty() -> Self {
        Page {
            items: Vec::new(),
            has_next: false,
            has_previous: false,
            total: TotalCount::new(|| async { Ok(0) }),
        }
    }

    /// A page made of `rows` read in list order (one more than `page.limit` when more follow),
    /// with cursors for the list `label`.
    pub(crate) fn from_rows(
        mut rows: Vec<T>,
        page: &PageRequest,
        label: &str,
        key: impl Fn(&T) -> (SortValue, i32),
        total: TotalCount,
    ) -> Self {
        let more = rows.len() as u64 > page.limit;
        rows.truncate(page.limit as usize);
        if page.direction == Direction::Backward {
            rows.reverse();
        }
        let (has_next, has_previous) = match page.direction {
            Direction::Forward => (more, page.cursor.is_some()),
            Direction::Backward => (page.cursor.is_some(), more),
        };
        let label: Arc<str> = label.into();
        let items = rows
            .into_iter()
            .map(|row| {
                let (value, id) = key(&row);
                let label = label.clone();
                (PageCursor { label, value, id }, row)
            })
            .collect();
        Page {
            items,
            has_next,
            has_previous,
            total,
        }
    }
}

/// Counts the rows of `select` when asked.
pub(crate) fn count_of<E>(db: &DatabaseConnection, select: Select<E>) -> TotalCount
where
    E: EntityTrait,
    E::Model: Send + Sync,
{
    let db = db.clone();
    TotalCount::new(move || {
        let db = db.clone();
        let select = select.clone();
        async move { Ok(select.count(&db).await?) }
    })
}

impl<E: EntityTrait> Sort<E> {
    /// A row's sort value (as cursors carry it) and id.
    pub(crate) fn cursor_key(&self, row: &E::Model) -> (SortValue, i32) {
        let (value, id) = (self.key)(row);
        (SortValue::Column(value), id)
    }

    /// Narrows `select` to the rows beyond the cursor `(value, id)` in reading order.
    fn beyond(
        &self,
        select: Select<E>,
        ascending: bool,
        (value, id): (serde_json::Value, i32),
        field: &str,
    ) -> Result<Select<E>> {
        let beyond = |col: E::Column, v: Value| if ascending { col.gt(v) } else { col.lt(v) };
        let condition = match self.column {
            None => Condition::all().add(beyond(self.id, id.into())),
            Some((col, kind)) => {
                let value = KeyValue::from_json(kind, &value)
                    .ok_or_else(|| Error::bad_input(field, NOT_A_CURSOR))?;
                Condition::any().add(beyond(col, value.clone())).add(
                    Condition::all()
                        .add(col.eq(value))
                        .add(beyond(self.id, id.into())),
                )
            }
        };
        Ok(select.filter(condition))
    }

    /// Orders `select` by the sort column and the id, ascending or descending.
    pub(crate) fn order(&self, mut select: Select<E>, ascending: bool) -> Select<E> {
        let order = if ascending {
            sea_orm::Order::Asc
        } else {
            sea_orm::Order::Desc
        };
        if let Some((col, _)) = self.column {
            select = select.order_by(col, order.clone());
        }
        select.order_by(self.id, order)
    }
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
    let label = sort.name;
    fetch_labelled(db, select, &sort, page, label).await
}

/// [`fetch`] for a list whose cursors carry `label` instead of the bare sort name (a nested
/// list: its name, its parent and its sort), so a cursor only fits the list that produced it.
pub(crate) async fn fetch_labelled<E>(
    db: &DatabaseConnection,
    select: Select<E>,
    sort: &Sort<E>,
    page: PageRequest,
    label: &str,
) -> Result<Page<E::Model>>
where
    E: EntityTrait,
    E::Model: Send + Sync,
{
    let total = count_of(db, select.clone());
    let rows = bounded(select, sort, &page, label)?.all(db).await?;
    Ok(Page::from_rows(
        rows,
        &page,
        label,
        |row| sort.cursor_key(row),
        total,
    ))
}

/// [`fetch`], reading only the columns `omit` keeps (plus the sort key and the id) and
/// decoding the narrower rows with [`LongText::decode`].
pub async fn fetch_omitting<E>(
    db: &DatabaseConnection,
    select: Select<E>,
    sort: Sort<E>,
    page: PageRequest,
    omit: Omit,
) -> Result<Page<E::Model>>
where
    E: LongText,
    E::Model: Send + Sync,
{
    let total = count_of(db, select.clone());
    let key: Vec<E::Column> = sort.column.map(|(col, _)| col).into_iter().collect();
    let omit = omit.keeping::<E>(&key).keeping::<E>(&[sort.id]);
    let query = omitting(bounded(select, &sort, &page, sort.name)?, omit);
    let rows = db
        .query_all_raw(db.get_database_backend().build(&query.into_query()))
        .await?;
    let rows = super::decode_rows::<E>(&rows, omit)?;
    Ok(Page::from_rows(
        rows,
        &page,
        sort.name,
        |row| sort.cursor_key(row),
        total,
    ))
}

/// `select` past the page's cursor, in the page's order, limited to one row more than the page
/// (that row tells whether another page follows, without a second query).
fn bounded<E: EntityTrait>(
    select: Select<E>,
    sort: &Sort<E>,
    page: &PageRequest,
    label: &str,
) -> Result<Select<E>> {
    // Reading backwards is reading the reversed order forwards, then flipping the page.
    let ascending = (page.direction == Direction::Forward) != sort.descending;
    let mut query = select;
    if let Some(cursor) = page.cursor_for(label)? {
        let field = page.cursor.as_ref().map_or("after", |(_, f)| *f);
        query = sort.beyond(query, ascending, cursor, field)?;
    }
    Ok(sort.order(query, ascending).limit(page.limit + 1))
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
        let key = CursorKey::from_bytes([1; 32]);
        let c = encode_cursor(&key, "name", json!("Ada"), 42);
        assert!(!c.contains("Ada") && !c.contains("name"), "{c}");
        assert_eq!(
            decode_cursor(&key, &c),
            Some(Cursor {
                sort: "name".into(),
                value: json!("Ada"),
                id: 42
            })
        );
        assert_eq!(decode_cursor(&CursorKey::from_bytes([2; 32]), &c), None);
        // Sealed by our key but not of our shape: refused like garbage.
        assert_eq!(decode_cursor(&key, &key.seal(br#"["name","Ada"]"#)), None);
        assert_eq!(decode_cursor(&key, "zz"), None);
        assert_eq!(decode_cursor(&key, "1"), None);
        assert_eq!(decode_cursor(&key, "6375"), None);
    }

    #[test]
    fn page_sizes_are_capped_and_directions_exclusive() {
        let key = &CursorKey::from_bytes([1; 32]);
        assert!(PageRequest::new(key, Some(101), None, None, None).is_err());
        assert!(PageRequest::new(key, Some(-1), None, None, None).is_err());
        assert!(PageRequest::new(key, Some(5), None, Some(5), None).is_err());
        let page = PageRequest::new(key, None, None, Some(3), None).unwrap();
        assert_eq!(page.direction, Direction::Backward);
        assert_eq!(
            PageRequest::new(key, None, None, None, None).unwrap().limit,
            20
        );
    }
}
