//! One contact between a customer and a department: a request, an incident, a complaint…

use sea_orm::entity::prelude::*;

use crate::enums::{Channel, InteractionKind, InteractionStatus};

/// A stored interaction.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "interaction")]
pub struct Model {
    /// Primary key.
    #[sea_orm(primary_key)]
    pub id: i32,
    /// The customer it belongs to.
    pub customer_id: i32,
    /// The department it belongs to.
    pub department_id: i32,
    /// The employee (internal customer) handling it.
    pub handler_id: Option<i32>,
    /// How it reached the company.
    pub channel: Channel,
    /// What it is about.
    pub kind: InteractionKind,
    /// One-line subject.
    pub subject: String,
    /// What the customer sees.
    pub summary: String,
    /// What only employees see.
    pub internal_note: Option<String>,
    /// Where it stands.
    pub status: InteractionStatus,
    /// When it was opened.
    pub opened_at: DateTimeUtc,
    /// When it was resolved, if it was.
    pub resolved_at: Option<DateTimeUtc>,
    /// When the service level says it must be resolved.
    pub sla_due_at: Option<DateTimeUtc>,
    /// CSAT, 1–5.
    pub satisfaction: Option<i32>,
    /// Net promoter answer, 0–10.
    pub nps: Option<i32>,
    /// When the customer rated it.
    pub rated_at: Option<DateTimeUtc>,
    /// Another interaction this one was caused by (an internal incident behind a complaint).
    pub related_to_id: Option<i32>,
    /// Optimistic-locking counter, bumped by every update (what employees see and send back).
    pub version: i32,
    /// When the row last changed, for any reason (what employees see).
    pub updated_at: DateTimeUtc,
    /// Bumped only by changes the customer can see (what clients see as the version).
    pub public_version: i32,
    /// When the customer could last see a change: a public field, or a public reply.
    pub public_updated_at: DateTimeUtc,
}

/// Relations of an interaction.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// The customer it belongs to.
    #[sea_orm(
        belongs_to = "super::customer::Entity",
        from = "Column::CustomerId",
        to = "super::customer::Column::Id"
    )]
    Customer,
    /// The department it belongs to.
    #[sea_orm(
        belongs_to = "super::department::Entity",
        from = "Column::DepartmentId",
        to = "super::department::Column::Id"
    )]
    Department,
}

impl ActiveModelBehavior for ActiveModel {}
