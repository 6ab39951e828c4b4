//! Messages on interactions (public replies and internal notes) and optimistic locking for
//! departments.

use sea_orm_migration::{prelude::*, schema::*};

/// Adds `interaction_message` and `department.version`.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum InteractionMessage {
    Table,
    Id,
    InteractionId,
    AuthorId,
    Body,
    Internal,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Interaction {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Customer {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Department {
    Table,
    Version,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(InteractionMessage::Table)
                .col(pk_auto(InteractionMessage::Id))
                .col(integer(InteractionMessage::InteractionId))
                .col(integer(InteractionMessage::AuthorId))
                .col(text(InteractionMessage::Body))
                .col(boolean(InteractionMessage::Internal))
                .col(timestamp_with_time_zone(InteractionMessage::CreatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_message_interaction")
                        .from(InteractionMessage::Table, InteractionMessage::InteractionId)
                        .to(Interaction::Table, Interaction::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_message_author")
                        .from(InteractionMessage::Table, InteractionMessage::AuthorId)
                        .to(Customer::Table, Customer::Id)
                        .on_delete(ForeignKeyAction::Restrict),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_message_interaction")
                .table(InteractionMessage::Table)
                .col(InteractionMessage::InteractionId)
                .col(InteractionMessage::CreatedAt)
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Department::Table)
                .add_column(integer(Department::Version).default(1))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Department::Table)
                .drop_column(Department::Version)
                .to_owned(),
        )
        .await?;
        m.drop_table(Table::drop().table(InteractionMessage::Table).to_owned())
            .await
    }
}
