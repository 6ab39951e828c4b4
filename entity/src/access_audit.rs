//! One request that read internal-only fields: who, when, which fields, which operation.

use sea_orm::entity::prelude::*;

/// A stored audit entry.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "access_audit")]
pub struct Model {
    /// Primary key.
    #[sea_orm(primary_key)]
    pub id: i32,
    /// The caller's customer id.
    pub customer_id: i32,
    /// The caller's role claim.
    pub role: String,
    /// The operation's name, if it had one.
    pub operation_name: Option<String>,
    /// `Type.field` names read and `Type.member` names of internal input used, comma-separated,
    /// sorted.
    pub fields: String,
    /// When the request was recorded.
    pub requested_at: DateTimeUtc,
}

/// Audit entries have no relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
