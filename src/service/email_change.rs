//! A customer's own e-mail change: asked for now, applied when the new address confirms it.
//!
//! Applying the change at once would have to refuse an address another customer holds, and
//! that refusal tells the caller the address is someone's (an oracle over every customer's
//! e-mail, generic code or not). So every request is stored and answered the same way, taken
//! address or free; only the message the mail relay sends to the address differs — a
//! confirmation token if the address is free, a notice that it is already registered if not —
//! and only whoever reads that mailbox learns which. Employees change addresses directly
//! (`customer_write::update`): they may see every customer anyway.

use chrono::{DateTime, TimeDelta, Utc};
use entity::{customer, email_change};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
};
use sha2::{Digest, Sha256};

use super::{
    customer::{Author, author},
    versioned::{self, Counters, Expected},
    write::Writer,
};
use crate::{Conflict, Error, Result, policy::Audience};

/// How long a confirmation token confirms.
pub const TOKEN_LIFETIME: TimeDelta = TimeDelta::hours(24);

/// Hex SHA-256 of a token: what is stored, so a read of the table confirms nothing.
fn digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A fresh token: 32 random bytes, URL-safe base64 (it travels in a link).
fn fresh_token() -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>())
}

/// Records customer `id`'s request to use `address` (already validated and normalised),
/// replacing any earlier unconfirmed one. The same statements run whether or not another
/// customer holds the address, and nothing about the answer depends on it.
pub(super) async fn request(
    db: &impl ConnectionTrait,
    id: i32,
    address: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    let in_use = customer::Entity::find()
        .filter(customer::Column::Email.eq(address))
        .filter(customer::Column::Id.ne(id))
        .one(db)
        .await?
        .is_some();
    email_change::Entity::delete_many()
        .filter(email_change::Column::CustomerId.eq(id))
        .filter(email_change::Column::ConfirmedAt.is_null())
        .exec(db)
        .await?;
    // A taken address gets a token too, never sent: every row looks alike but for the flag.
    let token = fresh_token();
    let expires_at = now
        .checked_add_signed(TOKEN_LIFETIME)
        .ok_or_else(|| Error::internal("email change expiry", "clock out of range"))?;
    email_change::ActiveModel {
        customer_id: Set(id),
        address: Set(address.to_owned()),
        address_in_use: Set(in_use),
        token_sha256: Set(digest(&token)),
        outgoing_token: Set((!in_use).then_some(token)),
        created_at: Set(now),
        expires_at: Set(expires_at),
        sent_at: Set(None),
        confirmed_at: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

/// Applies the caller's pending change that `token` confirms. Any token that does not
/// (unknown, someone else's, expired, used, or for an address in use) is the same
/// `BAD_USER_INPUT`.
pub async fn confirm(writer: &Writer, own_id: i32, token: &str) -> Result<customer::Model> {
    let hash = digest(token);
    writer
        .run(async |tx| {
            let db = tx.conn();
            let current = author(db, own_id, Author::Customer).await?;
            let now = Utc::now();
            let pending = email_change::Entity::find()
                .filter(email_change::Column::TokenSha256.eq(hash.as_str()))
                .filter(email_change::Column::CustomerId.eq(own_id))
                .filter(email_change::Column::AddressInUse.eq(false))
                .filter(email_change::Column::ConfirmedAt.is_null())
                .filter(email_change::Column::ExpiresAt.gt(now))
                .one(db)
                .await?
                .ok_or_else(|| Error::bad_input("token", "is not a valid confirmation token"))?;
            let changes = customer::ActiveModel {
                email: Set(pending.address.clone()),
                updated_at: Set(now),
                ..Default::default()
            };
            let counters = Counters {
                id: customer::Column::Id,
                version: customer::Column::Version,
                public_version: Some(customer::Column::PublicVersion),
            };
            // The caller proved it reads the address, so a race that gave it to someone
            // else meanwhile may be told as it is.
            versioned::update::<customer::Entity, _>(
                db,
                changes,
                counters,
                own_id,
                Expected::internal(current.version),
                Audience::Public,
                "customer",
            )
            .await
            .map_err(versioned::duplicate_as(Conflict::EmailUnavailable))?;
            let mut used: email_change::ActiveModel = pending.into();
            used.confirmed_at = Set(Some(now));
            used.outgoing_token = Set(None);
            used.update(db).await?;
            customer::Entity::find_by_id(own_id)
                .one(db)
                .await?
                .ok_or(Error::NotFound { what: "customer" })
        })
        .await
}

/// Forgets every e-mail change of customer `id` (erasure: the addresses are personal data).
pub(super) async fn forget(db: &impl ConnectionTrait, id: i32) -> Result<()> {
    email_change::Entity::delete_many()
        .filter(email_change::Column::CustomerId.eq(id))
        .exec(db)
        .await?;
    Ok(())
}
