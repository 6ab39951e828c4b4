//! Closed sets of values stored as strings: customer kinds and segments, interaction channels,
//! kinds and statuses, article audiences.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// Whether a customer is part of the company (internal) or outside it (external).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum CustomerKind {
    /// Employees, owners, shareholders, partners.
    #[sea_orm(string_value = "INTERNAL")]
    Internal,
    /// Individuals, businesses, government and volunteer organisations, press.
    #[sea_orm(string_value = "EXTERNAL")]
    External,
}

/// The segment a customer belongs to; each segment belongs to exactly one kind.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
pub enum Segment {
    /// An employee of the company.
    #[sea_orm(string_value = "EMPLOYEE")]
    Employee,
    /// An employee who manages others.
    #[sea_orm(string_value = "MANAGER")]
    Manager,
    /// An owner of the company.
    #[sea_orm(string_value = "OWNER")]
    Owner,
    /// A shareholder or investor.
    #[sea_orm(string_value = "SHAREHOLDER")]
    Shareholder,
    /// A partner who delivers the product to end users.
    #[sea_orm(string_value = "PARTNER")]
    Partner,
    /// A private person.
    #[sea_orm(string_value = "INDIVIDUAL")]
    Individual,
    /// A company.
    #[sea_orm(string_value = "BUSINESS")]
    Business,
    /// A government organisation.
    #[sea_orm(string_value = "GOVERNMENT")]
    Government,
    /// A volunteer or non-profit organisation.
    #[sea_orm(string_value = "VOLUNTEER_ORGANIZATION")]
    VolunteerOrganization,
    /// A reporter or other outside contact who buys nothing.
    #[sea_orm(string_value = "PRESS")]
    Press,
}

impl Segment {
    /// The customer kind this segment belongs to.
    pub fn kind(self) -> CustomerKind {
        match self {
            Segment::Employee
            | Segment::Manager
            | Segment::Owner
            | Segment::Shareholder
            | Segment::Partner => CustomerKind::Internal,
            Segment::Individual
            | Segment::Business
            | Segment::Government
            | Segment::VolunteerOrganization
            | Segment::Press => CustomerKind::External,
        }
    }
}

/// Lifecycle state of a customer relationship.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum CustomerStatus {
    /// Not yet a customer.
    #[sea_orm(string_value = "PROSPECT")]
    Prospect,
    /// A current customer.
    #[sea_orm(string_value = "ACTIVE")]
    Active,
    /// Dormant, neither lost nor active.
    #[sea_orm(string_value = "INACTIVE")]
    Inactive,
    /// Lost.
    #[sea_orm(string_value = "CHURNED")]
    Churned,
}

/// How an interaction reached the company.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum Channel {
    /// A phone call.
    #[sea_orm(string_value = "PHONE")]
    Phone,
    /// An e-mail.
    #[sea_orm(string_value = "EMAIL")]
    Email,
    /// A chat conversation.
    #[sea_orm(string_value = "CHAT")]
    Chat,
    /// Face to face.
    #[sea_orm(string_value = "IN_PERSON")]
    InPerson,
    /// The self-service portal.
    #[sea_orm(string_value = "PORTAL")]
    Portal,
    /// Social media.
    #[sea_orm(string_value = "SOCIAL")]
    Social,
}

/// What an interaction is about.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum InteractionKind {
    /// A request for a service.
    #[sea_orm(string_value = "REQUEST")]
    Request,
    /// Something is broken.
    #[sea_orm(string_value = "INCIDENT")]
    Incident,
    /// The customer is unhappy.
    #[sea_orm(string_value = "COMPLAINT")]
    Complaint,
    /// A sale.
    #[sea_orm(string_value = "PURCHASE")]
    Purchase,
    /// Unsolicited feedback.
    #[sea_orm(string_value = "FEEDBACK")]
    Feedback,
    /// A question.
    #[sea_orm(string_value = "INQUIRY")]
    Inquiry,
}

/// Where an interaction stands.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum InteractionStatus {
    /// Received, nobody working on it yet.
    #[sea_orm(string_value = "OPEN")]
    Open,
    /// Somebody is working on it.
    #[sea_orm(string_value = "IN_PROGRESS")]
    InProgress,
    /// Done; the customer may still rate it.
    #[sea_orm(string_value = "RESOLVED")]
    Resolved,
    /// Archived.
    #[sea_orm(string_value = "CLOSED")]
    Closed,
}

/// Who a knowledge article is written for.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum Audience {
    /// Anyone, including anonymous visitors.
    #[sea_orm(string_value = "PUBLIC")]
    Public,
    /// Employees only.
    #[sea_orm(string_value = "INTERNAL")]
    Internal,
}
