//! Optimistic locking: an update names the version it read; if the row moved on meanwhile the
//! write is refused with `CONFLICT` (`STALE_VERSION`) instead of silently overwriting someone
//! else's change.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    sea_query::{Expr, ExprTrait},
};

use crate::{Conflict, Error, Result};

/// Applies `changes` to row `id` only if its version is still `expected`, bumping the version.
/// The caller has already checked that the row exists inside its scope.
pub async fn update<E, A>(
    db: &impl ConnectionTrait,
    changes: A,
    id_col: E::Column,
    version_col: E::Column,
    id: i32,
    expected: i32,
    what: &'static str,
) -> Result<()>
where
    E: EntityTrait,
    A: ActiveModelTrait<Entity = E> + Send,
{
    let result = E::update_many()
        .set(changes)
        .col_expr(version_col, Expr::col(version_col).add(1))
        .filter(id_col.eq(id))
        .filter(version_col.eq(expected))
        .exec(db)
        .await?;
    if result.rows_affected == 0 {
        return Err(stale(what, id, expected));
    }
    Ok(())
}

/// The answer to an update that named a version the row has moved on from.
pub fn stale(what: &'static str, id: i32, expected: i32) -> Error {
    Error::Conflict(Conflict::StaleVersion { what, id, expected })
}

/// Names a uniqueness failure: a generic [`Conflict::Duplicate`] becomes `conflict`; every
/// other error passes through unchanged.
pub fn duplicate_as<E: Into<Error>>(conflict: Conflict) -> impl Fn(E) -> Error {
    move |err| match err.into() {
        Error::Conflict(Conflict::Duplicate) => Error::Conflict(conflict.clone()),
        other => other,
    }
}
