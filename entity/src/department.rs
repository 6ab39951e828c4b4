//! A department of the company: a node of the org chart that provides services to others.

use sea_orm::entity::prelude::*;

/// A stored department.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "department")]
pub struct Model {
    /// Primary key.
    #[sea_orm(primary_key)]
    pub id: i32,
    /// Display name.
    #[sea_orm(unique)]
    pub name: String,
    /// What it is, in a sentence or two.
    pub description: String,
    /// The department above it in the org chart.
    pub parent_id: Option<i32>,
    /// The internal customer (employee) who heads it; no foreign key because of the cycle.
    pub head_id: Option<i32>,
    /// Whether external customers may open interactions with it.
    pub serves_external: bool,
    /// Yearly budget in cents.
    pub budget_cents: i64,
    /// Optimistic-locking counter, bumped by every update.
    pub version: i32,
    /// When the row was created.
    pub created_at: DateTimeUtc,
}

/// Relations of a department.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// The department above it.
    #[sea_orm(belongs_to = "Entity", from = "Column::ParentId", to = "Column::Id")]
    Parent,
}

impl ActiveModelBehavior for ActiveModel {}
