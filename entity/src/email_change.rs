//! A customer's pending e-mail change, and the mail relay's outbox for it.
//!
//! The relay sends every row with `sent_at` null to `address`: the `outgoing_token` when the
//! address was free, a notice that it is already registered when `address_in_use`; then it
//! sets `sent_at` and clears `outgoing_token`. Only the token's SHA-256 stays.

use sea_orm::entity::prelude::*;

/// A stored e-mail change request.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "email_change")]
pub struct Model {
    /// Primary key.
    #[sea_orm(primary_key)]
    pub id: i32,
    /// The customer who asked for the change.
    pub customer_id: i32,
    /// The requested address, where the message goes.
    pub address: String,
    /// Whether another customer held the address when asked: no token is sent, only a notice.
    pub address_in_use: bool,
    /// Hex SHA-256 of the confirmation token (of an unsent random one when the address is in use).
    #[sea_orm(unique)]
    pub token_sha256: String,
    /// The token for the relay to send, until it has sent it.
    pub outgoing_token: Option<String>,
    /// When it was asked for.
    pub created_at: DateTimeUtc,
    /// After this the token no longer confirms.
    pub expires_at: DateTimeUtc,
    /// When the relay sent the message.
    pub sent_at: Option<DateTimeUtc>,
    /// When the token was used.
    pub confirmed_at: Option<DateTimeUtc>,
}

/// Relations of an e-mail change.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// The customer it belongs to.
    #[sea_orm(
        belongs_to = "super::customer::Entity",
        from = "Column::CustomerId",
        to = "super::customer::Column::Id"
    )]
    Customer,
}

impl ActiveModelBehavior for ActiveModel {}
