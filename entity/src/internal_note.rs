//! An internal note on an interaction: written by employees, read only by employees.
//!
//! Kept apart from [`crate::interaction_message`] so that notes draw ids from their own
//! sequence and nothing a customer reads (message ids, counts, cursors) moves when one is added.

use sea_orm::entity::prelude::*;

/// A stored internal note.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "internal_note")]
pub struct Model {
    /// Primary key (its own sequence, unrelated to message ids).
    #[sea_orm(primary_key)]
    pub id: i32,
    /// The interaction it is on.
    pub interaction_id: i32,
    /// The employee who wrote it.
    pub author_id: i32,
    /// The text.
    pub body: String,
    /// When the row was created.
    pub created_at: DateTimeUtc,
}

/// Relations of a note.
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
