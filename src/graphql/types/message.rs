//! `InteractionMessage`: a public reply, or an internal note only employees see.

use async_graphql::{ID, Object};
use chrono::{DateTime, Utc};
use entity::interaction_thread;

/// A message on an interaction.
pub struct InteractionMessage {
    /// The stored message.
    pub row: interaction_thread::Model,
    /// The customer the interaction belongs to.
    pub customer_id: i32,
}

#[Object]
impl InteractionMessage {
    /// Stable identifier.
    async fn id(&self) -> ID {
        message_id(&self.row)
    }
    /// The text.
    async fn body(&self) -> &str {
        &self.row.body
    }
    /// When it was written.
    async fn created_at(&self) -> DateTime<Utc> {
        self.row.created_at
    }
    /// Whether the customer wrote it (otherwise the company did).
    async fn from_customer(&self) -> bool {
        self.row.author_id == self.customer_id
    }
    /// Whether it is an internal note.
    #[graphql(visible = "crate::policy::visible::internal")]
    async fn internal(&self) -> bool {
        self.row.internal
    }
    /// Who wrote it.
    #[graphql(visible = "crate::policy::visible::internal")]
    async fn author_id(&self) -> ID {
        ID(self.row.author_id.to_string())
    }
}

/// Public messages keep their plain id; notes, numbered by their own sequence, are prefixed so
/// an employee's client never confuses note 7 with message 7 (clients never see a note).
fn message_id(row: &interaction_thread::Model) -> ID {
    if row.internal {
        ID(format!("note-{}", row.id))
    } else {
        ID(row.id.to_string())
    }
}
