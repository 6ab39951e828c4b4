//! What is true: queries and rules over the stored entities, one module per aggregate.
//! Every function takes the caller's scope from [`crate::policy`] and applies it in SQL; none
//! decides who may see what by itself.

pub mod agreement;
pub mod audit;
pub mod customer;
pub mod department;
pub mod interaction;
pub mod knowledge;
pub mod page;
pub mod product;
pub mod purchase;

use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, FromQueryResult, QueryFilter, QueryTrait, Select,
    sea_query::{Alias, Asterisk, Expr, ExprTrait, Func, Order, Query, WindowStatement},
};

use crate::Result;

/// Loads the rows of `E` whose `id_col` is in `ids`, under an already-scoped `select`.
pub(crate) async fn by_ids<E>(
    db: &DatabaseConnection,
    select: Select<E>,
    id_col: E::Column,
    ids: &[i32],
) -> Result<Vec<E::Model>>
where
    E: EntityTrait,
    E::Model: Send + Sync,
{
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(select
        .filter(id_col.is_in(ids.iter().copied()))
        .all(db)
        .await?)
}

/// The newest `limit` rows per parent in one statement (a `ROW_NUMBER()` window), so a nested
/// list costs one query for the whole page of parents, not one per parent.
pub(crate) async fn top_n_per_parent<E>(
    db: &DatabaseConnection,
    select: Select<E>,
    parent_col: E::Column,
    parents: &[i32],
    order_col: E::Column,
    id_col: E::Column,
    limit: u64,
) -> Result<Vec<E::Model>>
where
    E: EntityTrait,
    E::Model: FromQueryResult + Send + Sync,
{
    if parents.is_empty() || limit == 0 {
        return Ok(Vec::new());
    }
    let mut window = WindowStatement::partition_by(parent_col);
    window
        .order_by(order_col, Order::Desc)
        .order_by(id_col, Order::Desc);
    let mut inner = select
        .filter(parent_col.is_in(parents.iter().copied()))
        .into_query();
    inner.expr_window_as(
        Func::cust(Alias::new("ROW_NUMBER")),
        window,
        Alias::new("row_rank"),
    );
    let outer = Query::select()
        .column(Asterisk)
        .from_subquery(inner, Alias::new("ranked"))
        .and_where(Expr::col(Alias::new("row_rank")).lte(limit))
        .order_by(Alias::new("row_rank"), Order::Asc)
        .to_owned();
    let stmt = db.get_database_backend().build(&outer);
    Ok(E::Model::find_by_statement(stmt).all(db).await?)
}
