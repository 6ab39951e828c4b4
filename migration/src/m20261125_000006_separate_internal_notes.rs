//! Internal notes move out of `interaction_message` into their own table.
//!
//! Notes and public messages shared one id sequence, so a customer reading its conversation saw
//! gaps in message ids exactly where employees had added notes. From this step on notes draw
//! ids from `internal_note`'s own sequence, and the view `interaction_thread` joins both back
//! into the one conversation employees read.
//!
//! Data: every note is copied (interaction, author, body, time) before it is deleted from the
//! messages table. The whole step runs in one transaction on every backend (SQLite included,
//! where sea-orm-migration would otherwise run it statement by statement): a crash halfway
//! leaves the database as before the step, and the step simply runs again. Public messages keep their
//! ids: clients hold them (and cursors built from them), and renumbering would move them all.
//! Gaps left by notes written before this step therefore stay in old data; new notes leave none.

use sea_orm_migration::{prelude::*, schema::*};

/// Creates `internal_note` and `interaction_thread`, and moves the notes.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum InternalNote {
    Table,
    Id,
    InteractionId,
    AuthorId,
    Body,
    CreatedAt,
}

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

/// The conversation as employees read it. `thread_key` is unique across both tables (even for
/// messages, odd for notes) so keyset pagination has a tiebreaker.
const CREATE_THREAD: &str = "CREATE VIEW interaction_thread AS \
     SELECT id * 2 AS thread_key, id, interaction_id, author_id, body, FALSE AS internal, \
     created_at FROM interaction_message \
     UNION ALL \
     SELECT id * 2 + 1 AS thread_key, id, interaction_id, author_id, body, TRUE AS internal, \
     created_at FROM internal_note";

const DROP_THREAD: &str = "DROP VIEW IF EXISTS interaction_thread";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    /// Always in a transaction: it moves data between tables, and SQLite's DDL is
    /// transactional too.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        create_notes(m).await?;
        let moved = Query::select()
            .columns([
                InteractionMessage::InteractionId,
                InteractionMessage::AuthorId,
                InteractionMessage::Body,
                InteractionMessage::CreatedAt,
            ])
            .from(InteractionMessage::Table)
            .and_where(Expr::col(InteractionMessage::Internal).eq(true))
            .order_by(InteractionMessage::Id, Order::Asc)
            .to_owned();
        m.exec_stmt(
            Query::insert()
                .into_table(InternalNote::Table)
                .columns([
                    InternalNote::InteractionId,
                    InternalNote::AuthorId,
                    InternalNote::Body,
                    InternalNote::CreatedAt,
                ])
                .select_from(moved)
                .map_err(|e| DbErr::Migration(e.to_string()))?
                .to_owned(),
        )
        .await?;
        m.exec_stmt(
            Query::delete()
                .from_table(InteractionMessage::Table)
                .and_where(Expr::col(InteractionMessage::Internal).eq(true))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(InteractionMessage::Table)
                .drop_column(InteractionMessage::Internal)
                .to_owned(),
        )
        .await?;
        m.get_connection().execute_unprepared(CREATE_THREAD).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.get_connection().execute_unprepared(DROP_THREAD).await?;
        m.alter_table(
            Table::alter()
                .table(InteractionMessage::Table)
                .add_column(boolean(InteractionMessage::Internal).default(false))
                .to_owned(),
        )
        .await?;
        let notes = Query::select()
            .columns([
                InternalNote::InteractionId,
                InternalNote::AuthorId,
                InternalNote::Body,
                InternalNote::CreatedAt,
            ])
            .expr(Expr::val(true))
            .from(InternalNote::Table)
            .order_by(InternalNote::Id, Order::Asc)
            .to_owned();
        m.exec_stmt(
            Query::insert()
                .into_table(InteractionMessage::Table)
                .columns([
                    InteractionMessage::InteractionId,
                    InteractionMessage::AuthorId,
                    InteractionMessage::Body,
                    InteractionMessage::CreatedAt,
                    InteractionMessage::Internal,
                ])
                .select_from(notes)
                .map_err(|e| DbErr::Migration(e.to_string()))?
                .to_owned(),
        )
        .await?;
        m.drop_table(Table::drop().table(InternalNote::Table).to_owned())
            .await
    }
}

async fn create_notes(m: &SchemaManager<'_>) -> Result<(), DbErr> {
    m.create_table(
        Table::create()
            .table(InternalNote::Table)
            .col(pk_auto(InternalNote::Id))
            .col(integer(InternalNote::InteractionId))
            .col(integer(InternalNote::AuthorId))
            .col(text(InternalNote::Body))
            .col(timestamp_with_time_zone(InternalNote::CreatedAt))
            .foreign_key(
                ForeignKey::create()
                    .name("fk_note_interaction")
                    .from(InternalNote::Table, InternalNote::InteractionId)
                    .to(Interaction::Table, Interaction::Id)
                    .on_delete(ForeignKeyAction::Cascade),
            )
            .foreign_key(
                ForeignKey::create()
                    .name("fk_note_author")
                    .from(InternalNote::Table, InternalNote::AuthorId)
                    .to(Customer::Table, Customer::Id)
                    .on_delete(ForeignKeyAction::Restrict),
            )
            .to_owned(),
    )
    .await?;
    m.create_index(
        Index::create()
            .name("idx_note_interaction")
            .table(InternalNote::Table)
            .col(InternalNote::InteractionId)
            .col(InternalNote::CreatedAt)
            .to_owned(),
    )
    .await
}
