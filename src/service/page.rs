//! Keyset pagination shared by every list: validated page requests, opaque cursors, and pages
//! that know whether more rows exist on either side. No OFFSET: a page costs the same at row
//! ten and at row ten million.

use std::{future::Future, pin::Pin, sync::Arc};

use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Select,
};

use crate::{Error, Result};

/// Largest page a caller may ask for.
pub const MAX_PAGE_SIZE: i32 = 100;
/// Page size when the caller gives neither `first` nor `last`.
pub const DEFAULT_PAGE_SIZE: i32 = 20;

/// Which way a page reads from its cursor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// `first`/`after`: ascending from the cursor.
    Forward,
    /// `last`/`before`: the rows just before the cursor.
    Backward,
}

/// A validated page request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    /// Reading direction.
    pub direction: Direction,
    /// Rows wanted.
    pub limit: u64,
    /// Exclusive bound: the id encoded in `after` or `before`.
    pub cursor: Option<i32>,
}

const CURSOR_PREFIX: &str = "cursor:v1:";

/// The opaque cursor of a row.
pub fn encode_cursor(id: i32) -> String {
    hex_encode(format!("{CURSOR_PREFIX}{id}").as_bytes())
}

/// The row id inside a cursor, or `None` when it is not one of ours.
pub fn decode_cursor(cursor: &str) -> Option<i32> {
    let bytes = hex_decode(cursor)?;
    let text = std::str::from_utf8(&bytes).ok()?;
    text.strip_prefix(CURSOR_PREFIX)?.parse().ok()
}

fn hex_encode(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn hex_decode(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) || text.len() > 128 {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
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
            if !(0..=MAX_PAGE_SIZE).contains(&n) {
                Err(Error::bad_input(
                    field,
                    format!("must be between 0 and {MAX_PAGE_SIZE}"),
                ))
            } else {
                Ok(n as u64)
            }
        };
        let cursor = |field: &str, c: Option<&str>| {
            c.map(|c| {
                decode_cursor(c)
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
    /// The rows, in ascending id order.
    pub items: Vec<T>,
    /// More rows after the last one.
    pub has_next: bool,
    /// More rows before the first one.
    pub has_previous: bool,
    /// The size of the whole filtered set.
    pub total: TotalCount,
}

/// Reads one keyset page of an already-scoped and filtered `select`, ordered by id.
pub async fn fetch<E>(
    db: &DatabaseConnection,
    select: Select<E>,
    id_col: E::Column,
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
    let mut query = select;
    query = match (page.direction, page.cursor) {
        (Direction::Forward, Some(after)) => query.filter(id_col.gt(after)),
        (Direction::Backward, Some(before)) => query.filter(id_col.lt(before)),
        (_, None) => query,
    };
    query = match page.direction {
        Direction::Forward => query.order_by_asc(id_col),
        Direction::Backward => query.order_by_desc(id_col),
    };
    // One extra row tells whether another page follows, without a second query.
    let mut items = query.limit(page.limit + 1).all(db).await?;
    let more = items.len() as u64 > page.limit;
    items.truncate(page.limit as usize);
    if page.direction == Direction::Backward {
        items.reverse();
    }
    let (has_next, has_previous) = match page.direction {
        Direction::Forward => (more, page.cursor.is_some()),
        Direction::Backward => (page.cursor.is_some(), more),
    };
    Ok(Page {
        items,
        has_next,
        has_previous,
        total,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        assert_eq!(decode_cursor(&encode_cursor(42)), Some(42));
        assert_eq!(decode_cursor("zz"), None);
        assert_eq!(decode_cursor("1"), None);
        assert_eq!(decode_cursor(&hex_encode(b"cursor:v1:x")), None);
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
