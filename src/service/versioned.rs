//! Optimistic locking: an update names the version it read; if the row moved on meanwhile the
//! write is refused with `CONFLICT` (`STALE_VERSION`) instead of silently overwriting someone
//! else's change.
//!
//! Rows that clients see carry two counters (see [`Audience`]): `version` moves with every
//! change, `public_version` only with changes the client can see. A caller names the version
//! of its own audience, so an internal note never makes a client's version stale, while an
//! employee's version still catches every concurrent change.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    sea_query::{Expr, ExprTrait},
};

use crate::{Conflict, Error, Result, policy::Audience};

/// The counters of a versioned table.
#[derive(Debug, Clone, Copy)]
pub struct Counters<C> {
    /// The id column.
    pub id: C,
    /// The version every change bumps.
    pub version: C,
    /// The version only public changes bump, on tables clients see.
    pub public_version: Option<C>,
}

/// The version a caller read, in its own audience's numbering.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expected {
    /// Whose numbering: `Public` means `public_version`.
    pub audience: Audience,
    /// The version read.
    pub version: i32,
}

impl Expected {
    /// A version read by an employee (every table without a public counter is read this way).
    pub fn internal(version: i32) -> Self {
        Self {
            audience: Audience::Internal,
            version,
        }
    }
}

/// Applies `changes` to row `id` only if it is still at `expected`, bumping the version, and
/// the public version too when the change is `visible_to` the public. The caller has already
/// checked that the row exists inside its scope.
pub async fn update<E, A>(
    db: &impl ConnectionTrait,
    changes: A,
    counters: Counters<E::Column>,
    id: i32,
    expected: Expected,
    visible_to: Audience,
    what: &'static str,
) -> Result<()>
where
    E: EntityTrait,
    A: ActiveModelTrait<Entity = E> + Send,
{
    let checked = match (expected.audience, counters.public_version) {
        (Audience::Public, Some(public)) => public,
        _ => counters.version,
    };
    let mut update = E::update_many()
        .set(changes)
        .col_expr(counters.version, Expr::col(counters.version).add(1))
        .filter(counters.id.eq(id))
        .filter(checked.eq(expected.version));
    if let (Audience::Public, Some(public)) = (visible_to, counters.public_version) {
        update = update.col_expr(public, Expr::col(public).add(1));
    }
    if update.exec(db).await?.rows_affected == 0 {
        return Err(stale(what, id, expected.version));
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
