//! The internal voice: weekly morale pulses and feedback between departments. Individual
//! answers are for managers; everyone internal sees the anonymous aggregates of
//! [`super::sentiment`].

use chrono::{Datelike, Duration, NaiveDate, Utc};
use entity::{department, department_feedback, morale_pulse};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, QueryFilter, QueryOrder,
};

use super::{
    customer::{Author, author},
    sql::Range,
    validate, versioned,
    write::Writer,
};
use crate::{Conflict, Error, Result};

/// Monday of the week `date` falls in (for stored dates; the calendar's first day for a
/// date in its first, partial week).
pub fn week_of(date: NaiveDate) -> NaiveDate {
    monday_of(date).unwrap_or(NaiveDate::MIN)
}

/// Monday of the week `date` falls in, `None` before the calendar's first Monday.
pub fn monday_of(date: NaiveDate) -> Option<NaiveDate> {
    date.checked_sub_signed(Duration::days(i64::from(
        date.weekday().num_days_from_monday(),
    )))
}

async fn employee_department(db: &impl ConnectionTrait, employee: i32) -> Result<i32> {
    author(db, employee, Author::Internal)
        .await?
        .department_id
        .ok_or_else(|| Error::Forbidden("only employees with a department can answer".into()))
}

/// Records the caller's morale for the current week, once per week.
pub async fn submit_pulse(
    writer: &Writer,
    employee: i32,
    score: i32,
    comment: Option<&str>,
) -> Result<morale_pulse::Model> {
    let score = validate::within("score", score, 1, 5)?;
    let comment = validate::optional_text("comment", comment, 1000)?;
    writer
        .run(async |tx| {
            let department_id = employee_department(tx.conn(), employee).await?;
            let now = Utc::now();
            morale_pulse::ActiveModel {
                employee_id: Set(employee),
                department_id: Set(department_id),
                week: Set(week_of(now.date_naive())),
                score: Set(score),
                comment: Set(comment),
                created_at: Set(now),
                ..Default::default()
            }
            .insert(tx.conn())
            .await
            .map_err(versioned::duplicate_as(Conflict::AlreadyAnswered))
        })
        .await
}

/// Records feedback from the caller's department about the service `to` provided.
pub async fn give_feedback(
    writer: &Writer,
    author: i32,
    to: i32,
    score: i32,
    comment: Option<&str>,
) -> Result<department_feedback::Model> {
    let score = validate::within("score", score, 1, 5)?;
    let comment = validate::optional_text("comment", comment, 1000)?;
    writer
        .run(async |tx| {
            let db = tx.conn();
            let from = employee_department(db, author).await?;
            if department::Entity::find_by_id(to).one(db).await?.is_none() {
                return Err(Error::bad_input("toDepartmentId", "no such department"));
            }
            if from == to {
                return Err(Error::bad_input(
                    "toDepartmentId",
                    "feedback is for other departments",
                ));
            }
            Ok(department_feedback::ActiveModel {
                from_department_id: Set(from),
                to_department_id: Set(to),
                author_id: Set(author),
                score: Set(score),
                comment: Set(comment),
                created_at: Set(Utc::now()),
                ..Default::default()
            }
            .insert(db)
            .await?)
        })
        .await
}

/// Individual pulse answers in `range`, newest first (managers only; the policy decides).
pub async fn pulses(db: &DatabaseConnection, range: Range) -> Result<Vec<morale_pulse::Model>> {
    Ok(morale_pulse::Entity::find()
        .filter(morale_pulse::Column::Week.gte(range.from.date_naive()))
        .filter(morale_pulse::Column::Week.lt(range.to.date_naive()))
        .order_by_desc(morale_pulse::Column::Week)
        .order_by_asc(morale_pulse::Column::Id)
        .all(db)
        .await?)
}

/// Individual feedback answers in `range`, newest first (managers only; the policy decides).
pub async fn feedback(
    db: &DatabaseConnection,
    range: Range,
) -> Result<Vec<department_feedback::Model>> {
    Ok(department_feedback::Entity::find()
        .filter(department_feedback::Column::CreatedAt.gte(range.from))
        .filter(department_feedback::Column::CreatedAt.lt(range.to))
        .order_by_desc(department_feedback::Column::CreatedAt)
        .all(db)
        .await?)
}
