//! A public message on an interaction: a reply the customer wrote or the company sent.
//!
//! Internal notes live in their own table ([`crate::internal_note`]) with their own id
//! sequence: were they stored here, the gaps they leave in message ids would tell a customer
//! reading its conversation that employees had written notes on it.

use sea_orm::entity::prelude::*;

/// A stored public message.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "interaction_message")]
pub struct Model {
    /// Primary key.
    #[sea_orm(primary_key)]
    pub id: i32,
    /// The interaction it is on.
    pub interaction_id: i32,
    /// The customer (external or employee) who wrote it.
    pub author_id: i32,
    /// The text.
    pub body: String,
    /// When the row was created.
    pub created_at: DateTimeUtc,
}

/// Relations of a message.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// The interaction it belongs to.
    #[sea_orm(
        belongs_to = "super::interaction::Entity",
        from = "Column::InteractionId",
        to = "super::interaction::Column::Id"
    )]
    Interaction,
}

impl ActiveModelBehavior for ActiveModel {}
