//! Optimistic locking: an update names the version it read; if the row moved on meanwhile the
//! write is refused with `CONFLICT` instead of silently overwriting someone else's change.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    sea_query::{Expr, ExprTrait},
};

use crate::{Error, Result};

/// Applies `changes` to row `id` only if its version is still `expected`, bumping the version.
/// The caller has already checked that the row exists inside its scope.
pub async fn update<E, A>(
    db: &impl ConnectionTrait,
    changes: A,
    id_col: E::Column,
    version_col: E::Column,
    id: i32,
    expected: i32,
    what: &str,
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
        .await
        .map_err(|e| {
            unique_violation(e, "another record already has one of these unique values")
        })?;
    if result.rows_affected == 0 {
        return Err(Error::Conflict(format!(
            "{what} {id} has changed since version {expected}: reload it and try again"
        )));
    }
    Ok(())
}

/// Maps a unique-constraint violation to `CONFLICT` with `message`; other errors pass through.
pub fn unique_violation(err: sea_orm::DbErr, message: &str) -> Error {
    match err.sql_err() {
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => Error::Conflict(message.to_owned()),
        _ => err.into(),
    }
}
