//! A customer's own e-mail change waits in `email_change` until the new address confirms it.
//!
//! Changing the address at once would have to refuse an address another customer holds, which
//! tells the caller that someone uses it (an oracle over every customer's e-mail). Instead every
//! request is stored the same way and answered the same way; what differs is only the message
//! a mail relay sends to the address: a confirmation token if it is free, a notice that it is
//! already registered if it is not. The table is also that relay's outbox.

use sea_orm_migration::{prelude::*, schema::*};

/// Creates `email_change`.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum EmailChange {
    Table,
    Id,
    CustomerId,
    Address,
    AddressInUse,
    TokenSha256,
    OutgoingToken,
    CreatedAt,
    ExpiresAt,
    SentAt,
    ConfirmedAt,
}

#[derive(DeriveIden)]
enum Customer {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(EmailChange::Table)
                .col(pk_auto(EmailChange::Id))
                .col(integer(EmailChange::CustomerId))
                .col(string(EmailChange::Address))
                .col(boolean(EmailChange::AddressInUse))
                .col(string_uniq(EmailChange::TokenSha256))
                .col(string_null(EmailChange::OutgoingToken))
                .col(timestamp_with_time_zone(EmailChange::CreatedAt))
                .col(timestamp_with_time_zone(EmailChange::ExpiresAt))
                .col(timestamp_with_time_zone_null(EmailChange::SentAt))
                .col(timestamp_with_time_zone_null(EmailChange::ConfirmedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(EmailChange::Table, EmailChange::CustomerId)
                        .to(Customer::Table, Customer::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        // The relay's poll: unsent messages, oldest first.
        m.create_index(
            Index::create()
                .name("idx_email_change_unsent")
                .table(EmailChange::Table)
                .col(EmailChange::SentAt)
                .col(EmailChange::Id)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_email_change_customer")
                .table(EmailChange::Table)
                .col(EmailChange::CustomerId)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(EmailChange::Table).to_owned())
            .await
    }
}
