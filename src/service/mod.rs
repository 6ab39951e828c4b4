//! What is true: queries and rules over the stored entities, one module per aggregate.
//! Every function takes the caller's scope from [`crate::policy`] and applies it in SQL; none
//! decides who may see what by itself.

pub mod agreement;
pub mod audit;
pub mod customer;
pub mod customer_write;
pub mod department;
pub mod events;
pub mod interaction;
pub mod interaction_write;
pub mod knowledge;
pub mod nested;
pub mod org_write;
pub mod page;
pub mod privacy;
pub mod product;
pub mod pulse;
pub mod purchase;
pub mod satisfaction;
pub mod sentiment;
pub mod service_level;
pub mod sql;
pub mod timeline;
pub mod validate;
pub mod versioned;
pub mod write;

use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, FromQueryResult, IdenStatic, QueryFilter,
    QueryOrder, QuerySelect, QueryTrait, Select,
    sea_query::{
        Alias, Asterisk, Expr, ExprTrait, Func, LikeExpr, Order, Query, UnionType, WindowStatement,
    },
};

use crate::Result;

/// Case-insensitive "contains" on a text column, with the caller's `%` and `_` taken literally.
pub(crate) fn contains_ci<C: ColumnTrait>(col: C, text: &str) -> sea_orm::sea_query::SimpleExpr {
    let escaped: String = text
        .to_lowercase()
        .chars()
        .flat_map(|c| match c {
            '%' | '_' | '\\' => vec!['\\', c],
            c => vec![c],
        })
        .collect();
    Expr::expr(Func::lower(Expr::col(col.as_column_ref())))
        .like(LikeExpr::new(format!("%{escaped}%")).escape('\\'))
}

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

/// How rows are ranked within each parent for [`top_n_per_parent`].
pub(crate) struct Rank<C> {
    /// The column naming the parent.
    pub parent: C,
    /// The ordering column.
    pub order: C,
    /// The id column, as tiebreaker.
    pub id: C,
    /// Largest `order` first.
    pub newest_first: bool,
}

/// Parents up to which [`top_n_per_parent`] uses one index-driven branch per parent.
const UNION_PARENTS: usize = 400;

/// The first `limit` rows per parent (newest first, or oldest first) in one statement, so a
/// nested list costs one query for the whole page of parents, not one per parent.
///
/// Up to [`UNION_PARENTS`] parents the statement is a `UNION ALL` of one small
/// `ORDER BY … LIMIT` branch per parent: each branch is an index seek, so the cost follows the
/// rows returned, not the rows the parents own. Beyond that (SQLite caps compound selects at
/// 500 terms) a `ROW_NUMBER()` window ranks all of the parents' rows in one pass.
pub(crate) async fn top_n_per_parent<E>(
    db: &DatabaseConnection,
    select: Select<E>,
    rank: Rank<E::Column>,
    parents: &[i32],
    limit: u64,
) -> Result<Vec<E::Model>>
where
    E: EntityTrait,
    E::Model: FromQueryResult + Send + Sync,
{
    let Rank {
        parent: parent_col,
        order: order_col,
        id: id_col,
        newest_first,
    } = rank;
    let order = if newest_first {
        Order::Desc
    } else {
        Order::Asc
    };
    if parents.is_empty() || limit == 0 {
        return Ok(Vec::new());
    }
    if parents.len() <= UNION_PARENTS {
        let branch = |i: usize, parent: i32| {
            let inner = select
                .clone()
                .filter(parent_col.eq(parent))
                .order_by(order_col, order.clone())
                .order_by(id_col, order.clone())
                .limit(limit)
                .into_query();
            Query::select()
                .column(Asterisk)
                .from_subquery(inner, Alias::new(format!("p{i}")))
                .to_owned()
        };
        let mut statement = branch(0, parents[0]);
        statement.unions(
            parents
                .iter()
                .enumerate()
                .skip(1)
                .map(|(i, p)| (UnionType::All, branch(i, *p))),
        );
        // Branch order is not promised to survive the union: order the whole result, which
        // keeps every parent's rows in rank order.
        statement
            .order_by(Alias::new(order_col.as_str()), order.clone())
            .order_by(Alias::new(id_col.as_str()), order);
        let stmt = db.get_database_backend().build(&statement);
        return Ok(E::Model::find_by_statement(stmt).all(db).await?);
    }
    let mut window = WindowStatement::partition_by(parent_col);
    window
        .order_by(order_col, order.clone())
        .order_by(id_col, order);
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
