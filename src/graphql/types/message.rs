//! `InteractionMessage`: a public reply, or an internal note only employees see.

use async_graphql::{ID, Object};
use chrono::{DateTime, Utc};
use entity::interaction_message;

/// A message on an interaction.
pub struct InteractionMessage {
    /// The stored message.
    pub row: interaction_message::Model,
    /// The customer the interaction belongs to.
    pub customer_id: i32,
}

#[Object]
impl InteractionMessage {
    /// Stable identifier.
    async fn id(&self) -> ID {
        ID(self.row.id.to_string())
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
