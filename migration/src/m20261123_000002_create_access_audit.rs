//! The access audit: one row per request that read internal-only fields.

use sea_orm_migration::{prelude::*, schema::*};

/// Creates `access_audit`.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum AccessAudit {
    Table,
    Id,
    CustomerId,
    Role,
    OperationName,
    Fields,
    RequestedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(AccessAudit::Table)
                .col(pk_auto(AccessAudit::Id))
                .col(integer(AccessAudit::CustomerId))
                .col(string_len(AccessAudit::Role, 16))
                .col(string_len_null(AccessAudit::OperationName, 200))
                .col(text(AccessAudit::Fields))
                .col(timestamp_with_time_zone(AccessAudit::RequestedAt))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_access_audit_customer")
                .table(AccessAudit::Table)
                .col(AccessAudit::CustomerId)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(AccessAudit::Table).to_owned())
            .await
    }
}
