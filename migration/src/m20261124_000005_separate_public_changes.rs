//! What a client can see changing, kept apart from what changed inside the company.
//!
//! An interaction's `version` and `updated_at` move with every write, internal notes and
//! re-assignments included; a customer's `version` moves when employees edit internal notes.
//! Clients see versions and order by change time, so those columns told them that something
//! internal happened. This step adds the public counterparts, moved only by changes a client can
//! see: `interaction.public_version`, `interaction.public_updated_at` and
//! `customer.public_version`.
//!
//! Backfill: the public columns start equal to the current ones. Recomputing them from public
//! data alone would move, at deploy time, exactly the rows that had internal activity since
//! their last public change — itself a signal. Copying keeps everything a client sees
//! unchanged by the deploy; from then on only public changes move it.

use sea_orm_migration::{prelude::*, schema::*};

/// Adds the public version and change time.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Interaction {
    Table,
    CustomerId,
    Version,
    UpdatedAt,
    PublicVersion,
    PublicUpdatedAt,
}

#[derive(DeriveIden)]
enum Customer {
    Table,
    Version,
    PublicVersion,
}

/// A placeholder that only exists between the ADD COLUMN and the backfill below (SQLite cannot
/// add a NOT NULL column without a constant default).
const EPOCH: &str = "1970-01-01 00:00:00+00:00";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // One column per ALTER: SQLite takes a single change per statement.
        for column in [
            integer(Interaction::PublicVersion).default(1).to_owned(),
            timestamp_with_time_zone(Interaction::PublicUpdatedAt)
                .default(EPOCH)
                .to_owned(),
        ] {
            m.alter_table(
                Table::alter()
                    .table(Interaction::Table)
                    .add_column(column)
                    .to_owned(),
            )
            .await?;
        }
        m.alter_table(
            Table::alter()
                .table(Customer::Table)
                .add_column(integer(Customer::PublicVersion).default(1))
                .to_owned(),
        )
        .await?;
        m.exec_stmt(
            Query::update()
                .table(Interaction::Table)
                .value(Interaction::PublicVersion, Expr::col(Interaction::Version))
                .value(
                    Interaction::PublicUpdatedAt,
                    Expr::col(Interaction::UpdatedAt),
                )
                .to_owned(),
        )
        .await?;
        m.exec_stmt(
            Query::update()
                .table(Customer::Table)
                .value(Customer::PublicVersion, Expr::col(Customer::Version))
                .to_owned(),
        )
        .await?;
        // A client's interactions by public change time: one index range per client.
        m.create_index(
            Index::create()
                .name("idx_interaction_customer_public_updated")
                .table(Interaction::Table)
                .col(Interaction::CustomerId)
                .col(Interaction::PublicUpdatedAt)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(
            Index::drop()
                .name("idx_interaction_customer_public_updated")
                .table(Interaction::Table)
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Customer::Table)
                .drop_column(Customer::PublicVersion)
                .to_owned(),
        )
        .await?;
        for column in [Interaction::PublicUpdatedAt, Interaction::PublicVersion] {
            m.alter_table(
                Table::alter()
                    .table(Interaction::Table)
                    .drop_column(column)
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }
}
