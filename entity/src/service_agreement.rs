//! An internal service level: one department promises a service to another.

use sea_orm::entity::prelude::*;

/// A stored service agreement.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "service_agreement")]
pub struct Model {
    /// Primary key.
    #[sea_orm(primary_key)]
    pub id: i32,
    /// The department providing the service.
    pub provider_department_id: i32,
    /// The department consuming it (the internal customer).
    pub consumer_department_id: i32,
    /// The service promised.
    pub service: String,
    /// Promised turnaround, in hours.
    pub target_turnaround_hours: i32,
    /// Promised quality, as a target mean CSAT (1–5).
    pub quality_target: f64,
    /// Optimistic-locking counter, bumped by every update.
    pub version: i32,
    /// When the row was created.
    pub created_at: DateTimeUtc,
}

/// Relations of a service agreement.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// The department providing the service.
    #[sea_orm(
        belongs_to = "super::department::Entity",
        from = "Column::ProviderDepartmentId",
        to = "super::department::Column::Id"
    )]
    Provider,
    /// The department consuming it.
    #[sea_orm(
        belongs_to = "super::department::Entity",
        from = "Column::ConsumerDepartmentId",
        to = "super::department::Column::Id"
    )]
    Consumer,
}

impl ActiveModelBehavior for ActiveModel {}
