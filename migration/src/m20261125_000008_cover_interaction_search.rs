//! Interaction searches by time with channel, kind and status filters: one index holding all
//! four columns, so counting a filtered range (`totalCount`) reads the index alone instead of
//! every row in the range. It replaces the index on `opened_at` alone, which it also serves.

use sea_orm_migration::prelude::*;

/// Replaces `idx_interaction_opened` with `idx_interaction_search`.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Interaction {
    Table,
    OpenedAt,
    Channel,
    Kind,
    Status,
}

const OPENED: &str = "idx_interaction_opened";
const SEARCH: &str = "idx_interaction_search";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // Created before the old one goes, so searches never lack an index on `opened_at`.
        m.create_index(
            Index::create()
                .name(SEARCH)
                .table(Interaction::Table)
                .col(Interaction::OpenedAt)
                .col(Interaction::Channel)
                .col(Interaction::Kind)
                .col(Interaction::Status)
                .to_owned(),
        )
        .await?;
        m.drop_index(
            Index::drop()
                .name(OPENED)
                .table(Interaction::Table)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_index(
            Index::create()
                .name(OPENED)
                .table(Interaction::Table)
                .col(Interaction::OpenedAt)
                .to_owned(),
        )
        .await?;
        m.drop_index(
            Index::drop()
                .name(SEARCH)
                .table(Interaction::Table)
                .to_owned(),
        )
        .await
    }
}
