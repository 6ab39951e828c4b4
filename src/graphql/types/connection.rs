//! Relay connections over service pages, top-level and nested alike: the same
//! `InteractionConnection` is a root list and a customer's interactions.

use async_graphql::{
    Object,
    connection::{Connection, Edge},
    resolver_utils::ContainerType,
};

use super::InOrder;
use crate::{
    Result,
    service::page::{Page, PageCursor, TotalCount},
};

/// A connection with a `totalCount`; it and its nodes resolve [`InOrder`].
pub type Conn<N> = InOrder<Connection<PageCursor, InOrder<N>, Totals>>;

/// Extra connection fields: the size of the whole filtered set, counted only when asked.
pub struct Totals(TotalCount);

#[Object]
impl Totals {
    /// How many nodes match, across all pages.
    async fn total_count(&self) -> Result<i64> {
        Ok(i64::try_from(self.0.get().await?).unwrap_or(i64::MAX))
    }
}

/// Builds a connection from a page, wrapping each row into its output type.
pub fn connection<M, N>(page: Page<M>, wrap: impl Fn(M) -> N) -> Conn<N>
where
    N: ContainerType,
{
    let mut conn =
        Connection::with_additional_fields(page.has_previous, page.has_next, Totals(page.total));
    conn.edges.extend(
        page.items
            .into_iter()
            .map(|(cursor, row)| Edge::new(cursor, InOrder(wrap(row)))),
    );
    InOrder(conn)
}

/// Builds a connection without a `totalCount` (for lists that do not count themselves).
pub fn plain_connection<M, N>(
    page: Page<M>,
    wrap: impl Fn(M) -> N,
) -> InOrder<Connection<PageCursor, InOrder<N>>>
where
    N: ContainerType,
{
    let mut conn = Connection::new(page.has_previous, page.has_next);
    conn.edges.extend(
        page.items
            .into_iter()
            .map(|(cursor, row)| Edge::new(cursor, InOrder(wrap(row)))),
    );
    InOrder(conn)
}
