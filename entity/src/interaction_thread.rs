//! The conversation on an interaction as one list: public messages and internal notes, read
//! through the `interaction_thread` view (never written).
//!
//! The two tables number their rows independently, so the view gives every entry a
//! `thread_key` that is unique across both (`2·id` for a message, `2·id + 1` for a note): the
//! tiebreaker keyset pagination needs. Callers who may not see notes filter on `internal`.

use sea_orm::entity::prelude::*;

use crate::{interaction_message, internal_note};

/// One entry of a conversation.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "interaction_thread")]
pub struct Model {
    /// Unique across messages and notes; orders entries written at the same instant.
    #[sea_orm(primary_key, auto_increment = false)]
    pub thread_key: i32,
    /// The id within its own table.
    pub id: i32,
    /// The interaction it is on.
    pub interaction_id: i32,
    /// Who wrote it.
    pub author_id: i32,
    /// The text.
    pub body: String,
    /// Whether it is an internal note (from `internal_note`) rather than a public message.
    pub internal: bool,
    /// When it was written.
    pub created_at: DateTimeUtc,
}

/// A view has no relations of its own.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl From<interaction_message::Model> for Model {
    fn from(m: interaction_message::Model) -> Self {
        Self {
            thread_key: m.id.saturating_mul(2),
            id: m.id,
            interaction_id: m.interaction_id,
            author_id: m.author_id,
            body: m.body,
            internal: false,
            created_at: m.created_at,
        }
    }
}

impl From<internal_note::Model> for Model {
    fn from(n: internal_note::Model) -> Self {
        Self {
            thread_key: n.id.saturating_mul(2).saturating_add(1),
            id: n.id,
            interaction_id: n.interaction_id,
            author_id: n.author_id,
            body: n.body,
            internal: true,
            created_at: n.created_at,
        }
    }
}
