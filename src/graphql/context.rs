//! Reading per-request and schema data out of a resolver's context.

use async_graphql::Context;
use sea_orm::DatabaseConnection;

use super::loaders::Loaders;
use crate::{
    Error, Result,
    auth::{Caller, CursorKey},
    service::{LongText, Omit},
};

/// The database handle placed in schema data.
pub fn db<'a>(ctx: &Context<'a>) -> Result<&'a DatabaseConnection> {
    ctx.data::<DatabaseConnection>()
        .map_err(|_| Error::internal("schema data", "database handle missing"))
}

/// The key sealing and opening this schema's cursors, placed in schema data.
pub fn cursor_key<'a>(ctx: &Context<'a>) -> Result<&'a CursorKey> {
    ctx.data::<CursorKey>()
        .map_err(|_| Error::internal("schema data", "cursor key missing"))
}

/// The caller of this request (anonymous when the handler attached none).
pub fn caller<'a>(ctx: &Context<'a>) -> &'a Caller {
    static ANONYMOUS: Caller = Caller(None);
    ctx.data_opt::<Caller>().unwrap_or(&ANONYMOUS)
}

/// This request's loaders.
pub fn loaders<'a>(ctx: &Context<'a>) -> Result<&'a Loaders> {
    ctx.data::<Loaders>()
        .map_err(|_| Error::internal("request data", "loaders missing"))
}

/// Fails with `UNAUTHENTICATED` when a root field needs a signed-in caller.
pub fn signed_in<T>(scope: Option<T>) -> Result<T> {
    scope.ok_or_else(|| Error::Unauthenticated("sign in: this field needs a bearer token".into()))
}

/// The columns of `E` that the nodes of the connection being resolved do not show (its fields
/// under `edges { node }` and `nodes`, through fragments), so the read can leave them out (see
/// [`Omit::unread`]).
pub fn unshown_in_nodes<E: LongText>(ctx: &Context<'_>) -> Omit {
    let mut fields = Vec::new();
    for child in ctx.field().selection_set() {
        match child.name() {
            "nodes" => fields.extend(child.selection_set().map(|field| field.name())),
            "edges" => {
                for node in child.selection_set().filter(|edge| edge.name() == "node") {
                    fields.extend(node.selection_set().map(|field| field.name()));
                }
            }
            _ => {}
        }
    }
    Omit::unread::<E>(&fields)
}

/// The long columns of `E` that the object being resolved does not show.
pub fn unshown<E: LongText>(ctx: &Context<'_>) -> Omit {
    let look = ctx.look_ahead();
    Omit::unselected::<E>(|field| look.field(field).exists())
}
