//! When a customer's personal data was erased (`customer.erased_at`): the mark that keeps an
//! erased customer's token from signing in and any write from filling the tombstone again.

use sea_orm_migration::{prelude::*, schema::*};

/// Adds `customer.erased_at`.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Customer {
    Table,
    ErasedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Customer::Table)
                .add_column(timestamp_with_time_zone_null(Customer::ErasedAt))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Customer::Table)
                .drop_column(Customer::ErasedAt)
                .to_owned(),
        )
        .await
    }
}
