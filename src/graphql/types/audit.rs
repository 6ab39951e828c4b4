//! `AccessAuditEntry`: a request that read internal-only fields (managers only).

use async_graphql::{ID, Object};
use chrono::{DateTime, Utc};
use entity::access_audit;

/// Who read which internal-only fields, and when.
pub struct AccessAuditEntry(pub access_audit::Model);

#[Object(visible = "crate::policy::visible::manager")]
impl AccessAuditEntry {
    /// Stable identifier.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// The caller's customer id.
    async fn customer_id(&self) -> ID {
        ID(self.0.customer_id.to_string())
    }
    /// The caller's role claim.
    async fn role(&self) -> &str {
        &self.0.role
    }
    /// The operation's name, if it had one.
    async fn operation_name(&self) -> Option<&str> {
        self.0.operation_name.as_deref()
    }
    /// `Type.field` names read, and `Type.member` names of internal input used to filter or order.
    async fn fields(&self) -> Vec<&str> {
        self.0.fields.split(',').filter(|f| !f.is_empty()).collect()
    }
    /// When the request was recorded.
    async fn requested_at(&self) -> DateTime<Utc> {
        self.0.requested_at
    }
}
