//! Relay connections over service pages, top-level and nested alike: the same
//! `InteractionConnection` is a root list and a customer's interactions.

use async_graphql::{
    Object,
    connection::{Connection, CursorType, Edge},
    resolver_utils::ContainerType,
};

use super::InOrder;
use crate::{
    Error, Result,
    auth::CursorKey,
    service::page::{NOT_A_CURSOR, Page, PageCursor, TotalCount},
};

/// A connection with a `totalCount`; it and its nodes resolve [`InOrder`].
pub type Conn<N> = InOrder<Connection<EdgeCursor, InOrder<N>, Totals>>;

/// An edge's cursor: the row's place, sealed with the gateway's key when a client selects it.
pub struct EdgeCursor {
    at: PageCursor,
    key: CursorKey,
}

impl CursorType for EdgeCursor {
    type Error = Error;

    /// Never called: async-graphql decodes cursors only in `connection::query`, which no
    /// resolver uses. Cursor arguments are opened with the key by `PageRequest`.
    fn decode_cursor(_: &str) -> Result<Self> {
        Err(Error::bad_input("after", NOT_A_CURSOR))
    }

    fn encode_cursor(&self) -> String {
        self.at.seal(&self.key)
    }
}

/// Extra connection fields: the size of the whole filtered set, counted only when asked.
pub struct Totals(TotalCount);

#[Object]
impl Totals {
    /// How many nodes match, across all pages.
    async fn total_count(&self) -> Result<i64> {
        Ok(i64::try_from(self.0.get().await?).unwrap_or(i64::MAX))
    }
}

/// Builds a connection from a page, wrapping each row into its output type; its cursors are
/// sealed with `key`.
pub fn connection<M, N>(key: &CursorKey, page: Page<M>, wrap: impl Fn(M) -> N) -> Conn<N>
where
    N: ContainerType,
{
    let mut conn =
        Connection::with_additional_fields(page.has_previous, page.has_next, Totals(page.total));
    conn.edges.extend(edges(key, page.items, wrap));
    InOrder(conn)
}

/// Builds a connection without a `totalCount` (for lists that do not count themselves).
pub fn plain_connection<M, N>(
    key: &CursorKey,
    page: Page<M>,
    wrap: impl Fn(M) -> N,
) -> InOrder<Connection<EdgeCursor, InOrder<N>>>
where
    N: ContainerType,
{
    let mut conn = Connection::new(page.has_previous, page.has_next);
    conn.edges.extend(edges(key, page.items, wrap));
    InOrder(conn)
}

fn edges<M, N>(
    key: &CursorKey,
    items: Vec<(PageCursor, M)>,
    wrap: impl Fn(M) -> N,
) -> impl Iterator<Item = Edge<EdgeCursor, InOrder<N>, async_graphql::connection::EmptyFields>>
where
    N: ContainerType,
{
    items.into_iter().map(move |(at, row)| {
        let cursor = EdgeCursor {
            at,
            key: key.clone(),
        };
        Edge::new(cursor, InOrder(wrap(row)))
    })
}
