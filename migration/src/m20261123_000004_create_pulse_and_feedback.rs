//! The internal voice: weekly morale pulses and feedback between departments.

use sea_orm_migration::{prelude::*, schema::*};

/// Creates `morale_pulse` and `department_feedback`.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum MoralePulse {
    Table,
    Id,
    EmployeeId,
    DepartmentId,
    Week,
    Score,
    Comment,
    CreatedAt,
}

#[derive(DeriveIden)]
enum DepartmentFeedback {
    Table,
    Id,
    FromDepartmentId,
    ToDepartmentId,
    AuthorId,
    Score,
    Comment,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Department {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Customer {
    Table,
    Id,
}

fn fk(
    name: &str,
    from: (impl IntoIden, impl IntoIden),
    to: (impl IntoIden, impl IntoIden),
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(from.0, from.1)
        .to(to.0, to.1)
        .on_delete(ForeignKeyAction::Restrict)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(MoralePulse::Table)
                .col(pk_auto(MoralePulse::Id))
                .col(integer(MoralePulse::EmployeeId))
                .col(integer(MoralePulse::DepartmentId))
                .col(date(MoralePulse::Week))
                .col(integer(MoralePulse::Score))
                .col(text_null(MoralePulse::Comment))
                .col(timestamp_with_time_zone(MoralePulse::CreatedAt))
                .foreign_key(&mut fk(
                    "fk_pulse_employee",
                    (MoralePulse::Table, MoralePulse::EmployeeId),
                    (Customer::Table, Customer::Id),
                ))
                .foreign_key(&mut fk(
                    "fk_pulse_department",
                    (MoralePulse::Table, MoralePulse::DepartmentId),
                    (Department::Table, Department::Id),
                ))
                .to_owned(),
        )
        .await?;
        // One answer per employee and week: the second one is a conflict, not a duplicate.
        m.create_index(
            Index::create()
                .name("ux_pulse_employee_week")
                .table(MoralePulse::Table)
                .col(MoralePulse::EmployeeId)
                .col(MoralePulse::Week)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_pulse_department_week")
                .table(MoralePulse::Table)
                .col(MoralePulse::DepartmentId)
                .col(MoralePulse::Week)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(DepartmentFeedback::Table)
                .col(pk_auto(DepartmentFeedback::Id))
                .col(integer(DepartmentFeedback::FromDepartmentId))
                .col(integer(DepartmentFeedback::ToDepartmentId))
                .col(integer(DepartmentFeedback::AuthorId))
                .col(integer(DepartmentFeedback::Score))
                .col(text_null(DepartmentFeedback::Comment))
                .col(timestamp_with_time_zone(DepartmentFeedback::CreatedAt))
                .foreign_key(&mut fk(
                    "fk_feedback_from",
                    (
                        DepartmentFeedback::Table,
                        DepartmentFeedback::FromDepartmentId,
                    ),
                    (Department::Table, Department::Id),
                ))
                .foreign_key(&mut fk(
                    "fk_feedback_to",
                    (
                        DepartmentFeedback::Table,
                        DepartmentFeedback::ToDepartmentId,
                    ),
                    (Department::Table, Department::Id),
                ))
                .foreign_key(&mut fk(
                    "fk_feedback_author",
                    (DepartmentFeedback::Table, DepartmentFeedback::AuthorId),
                    (Customer::Table, Customer::Id),
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_feedback_to")
                .table(DepartmentFeedback::Table)
                .col(DepartmentFeedback::ToDepartmentId)
                .col(DepartmentFeedback::CreatedAt)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(DepartmentFeedback::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(MoralePulse::Table).to_owned())
            .await
    }
}
