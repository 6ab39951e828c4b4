//! A customer, internal (employee, owner, partner…) or external (individual, business, press…).

use sea_orm::entity::prelude::*;

use crate::enums::{CustomerKind, CustomerStatus, Segment};

/// A stored customer.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "customer")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub kind: CustomerKind,
    pub segment: Segment,
    pub name: String,
    pub organization: Option<String>,
    #[sea_orm(unique)]
    pub email: String,
    pub phone: Option<String>,
    pub status: CustomerStatus,
    pub customer_since: DateTimeUtc,
    /// Revenue attributed to this customer, in cents.
    pub lifetime_value_cents: i64,
    /// 0 (about to leave) to 100 (thriving).
    pub health_score: i32,
    pub internal_notes: Option<String>,
    /// For employees: the department they work in.
    pub department_id: Option<i32>,
    pub title: Option<String>,
    pub hire_date: Option<Date>,
    /// Optimistic-locking counter, bumped by every update.
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

/// Relations of a customer.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::department::Entity",
        from = "Column::DepartmentId",
        to = "super::department::Column::Id"
    )]
    Department,
}

impl ActiveModelBehavior for ActiveModel {}
