//! A customer, internal (employee, owner, partner…) or external (individual, business, press…).

use sea_orm::entity::prelude::*;

use crate::enums::{CustomerKind, CustomerStatus, Segment};

/// A stored customer.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "customer")]
pub struct Model {
    /// Primary key.
    #[sea_orm(primary_key)]
    pub id: i32,
    /// Internal or external; follows from the segment.
    pub kind: CustomerKind,
    /// Segment within the kind.
    pub segment: Segment,
    /// Display name.
    pub name: String,
    /// Organisation the customer belongs to.
    pub organization: Option<String>,
    /// Contact e-mail, unique.
    #[sea_orm(unique)]
    pub email: String,
    /// Contact phone.
    pub phone: Option<String>,
    /// Where it stands.
    pub status: CustomerStatus,
    /// When the relationship began.
    pub customer_since: DateTimeUtc,
    /// Revenue attributed to this customer, in cents.
    pub lifetime_value_cents: i64,
    /// 0 (about to leave) to 100 (thriving).
    pub health_score: i32,
    /// Notes only employees see.
    pub internal_notes: Option<String>,
    /// For employees: the department they work in.
    pub department_id: Option<i32>,
    /// Job title, for employees.
    pub title: Option<String>,
    /// For employees: when they were hired.
    pub hire_date: Option<Date>,
    /// Optimistic-locking counter, bumped by every update (what employees see and send back).
    pub version: i32,
    /// Bumped only by changes the customer can see (what the customer sees as the version).
    pub public_version: i32,
    /// When the row was created.
    pub created_at: DateTimeUtc,
    /// When the row last changed.
    pub updated_at: DateTimeUtc,
    /// When its personal data was replaced by a tombstone (right to erasure); never undone.
    pub erased_at: Option<DateTimeUtc>,
}

/// Relations of a customer.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// The department it belongs to.
    #[sea_orm(
        belongs_to = "super::department::Entity",
        from = "Column::DepartmentId",
        to = "super::department::Column::Id"
    )]
    Department,
}

impl ActiveModelBehavior for ActiveModel {}
