//! SeaORM entities: the rows the gateway stores, and nothing about who may see them.
//!
//! Enumerations are stored as short upper-case strings so that both SQLite and
//! PostgreSQL hold the same readable values.

#![warn(missing_docs)]

pub mod access_audit;
pub mod customer;
pub mod department;
pub mod department_feedback;
pub mod email_change;
pub mod enums;
pub mod interaction;
pub mod interaction_message;
pub mod interaction_thread;
pub mod internal_note;
pub mod knowledge_article;
pub mod morale_pulse;
pub mod product;
pub mod purchase;
pub mod service_agreement;

/// Convenient re-exports of every entity under its conventional name.
pub mod prelude {
    pub use super::access_audit::Entity as AccessAudit;
    pub use super::customer::Entity as Customer;
    pub use super::department::Entity as Department;
    pub use super::interaction::Entity as Interaction;
    pub use super::interaction_message::Entity as InteractionMessage;
    pub use super::interaction_thread::Entity as InteractionThread;
    pub use super::internal_note::Entity as InternalNote;
    pub use super::knowledge_article::Entity as KnowledgeArticle;
    pub use super::product::Entity as Product;
    pub use super::purchase::Entity as Purchase;
    pub use super::service_agreement::Entity as ServiceAgreement;
}
