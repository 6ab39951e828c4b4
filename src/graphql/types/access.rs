//! `viewer` and `access`: who the token says you are, and what that lets you see.

use async_graphql::{Context, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};

use super::{Customer, Role};
use crate::{Result, auth::Viewer, graphql::context::loaders};

/// The signed-in caller.
pub struct ViewerInfo(pub Viewer);

#[Object(name = "Viewer")]
impl ViewerInfo {
    /// Role from the token.
    async fn role(&self) -> Role {
        self.0.role.into()
    }
    /// The caller's own customer id (the token's subject).
    async fn customer_id(&self) -> ID {
        ID(self.0.customer_id.to_string())
    }
    /// When the token expires.
    async fn expires_at(&self) -> Option<DateTime<Utc>> {
        DateTime::from_timestamp(self.0.expires_at, 0)
    }
    /// The caller's own customer record.
    async fn customer(&self, ctx: &Context<'_>) -> Result<Option<Customer>> {
        Ok(loaders(ctx)?
            .customer
            .load_one(self.0.customer_id)
            .await?
            .map(Customer))
    }
}

/// One type the caller can query, with the fields it can select.
#[derive(SimpleObject)]
pub struct TypeAccess {
    /// Type name.
    pub name: String,
    /// Selectable fields.
    pub fields: Vec<String>,
}

/// One collection and which of its rows the caller can read.
#[derive(SimpleObject)]
pub struct RowScopeInfo {
    /// Root collection, e.g. `customers`.
    pub collection: String,
    /// Which rows, in words.
    pub scope: String,
}

/// Why something is or is not there: the caller's identity, types and row scopes.
#[derive(SimpleObject)]
pub struct Access {
    /// Whether a valid token came with the request.
    pub authenticated: bool,
    /// Role from the token.
    pub role: Option<Role>,
    /// The token's subject: the caller's own customer id.
    pub subject: Option<ID>,
    /// When the token expires.
    pub expires_at: Option<DateTime<Utc>>,
    /// Object types the caller can query and their fields.
    pub types: Vec<TypeAccess>,
    /// Rows the caller can read, per collection.
    pub row_scopes: Vec<RowScopeInfo>,
}
