//! The internal voice: weekly morale pulses and feedback between departments. Individual
//! answers are for managers; everyone internal sees aggregates, and an aggregate over fewer
//! than [`MIN_GROUP`] answers is suppressed so no individual can be singled out.

use chrono::{Datelike, Duration, NaiveDate, Utc};
use entity::{department, department_feedback, morale_pulse};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, FromQueryResult, QueryFilter, QueryOrder,
};

use super::{
    customer::{Author, author},
    sql::{self, Range},
    validate, versioned,
    write::Writer,
};
use crate::{Conflict, Error, Result};

/// Smallest number of answers an aggregate is shown for.
pub const MIN_GROUP: i64 = 3;

/// Monday of the week `date` falls in.
pub fn week_of(date: NaiveDate) -> NaiveDate {
    date - Duration::days(i64::from(date.weekday().num_days_from_monday()))
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

/// An aggregate of answers about one department; the mean is withheld for small groups.
#[derive(Debug, Clone, PartialEq)]
pub struct Aggregate {
    /// The department.
    pub department: department::Model,
    /// How many answers.
    pub answers: i64,
    /// Mean score, or `None` when suppressed.
    pub mean: Option<f64>,
}

impl Aggregate {
    /// Whether the mean is withheld because too few answered.
    pub fn suppressed(&self) -> bool {
        self.answers > 0 && self.answers < MIN_GROUP
    }
}

#[derive(FromQueryResult)]
struct AggRow {
    dept: i32,
    answers: i64,
    mean: Option<f64>,
}

async fn aggregate(
    db: &DatabaseConnection,
    query: &str,
    values: Vec<sea_orm::Value>,
) -> Result<Vec<Aggregate>> {
    let backend = db.get_database_backend();
    let rows = AggRow::find_by_statement(sql::statement(backend, query, values))
        .all(db)
        .await?;
    let mut by_dept: std::collections::HashMap<i32, AggRow> =
        rows.into_iter().map(|r| (r.dept, r)).collect();
    Ok(department::Entity::find()
        .order_by_asc(department::Column::Name)
        .all(db)
        .await?
        .into_iter()
        .map(|d| {
            let row = by_dept.remove(&d.id);
            let answers = row.as_ref().map_or(0, |r| r.answers);
            let mean = row.and_then(|r| r.mean).filter(|_| answers >= MIN_GROUP);
            Aggregate {
                department: d,
                answers,
                mean,
            }
        })
        .collect())
}

/// Mean morale per department over the weeks that start in `range`.
pub async fn morale_by_department(db: &DatabaseConnection, range: Range) -> Result<Vec<Aggregate>> {
    let query = format!(
        "SELECT department_id AS dept, COUNT(*) AS answers, {mean} AS mean FROM morale_pulse \
         WHERE week >= ? AND week < ? GROUP BY department_id",
        mean = sql::avg("score"),
    );
    let values = vec![range.from.date_naive().into(), range.to.date_naive().into()];
    aggregate(db, &query, values).await
}

/// Mean feedback score received per department, given in `range`.
pub async fn feedback_by_department(
    db: &DatabaseConnection,
    range: Range,
) -> Result<Vec<Aggregate>> {
    let query = format!(
        "SELECT to_department_id AS dept, COUNT(*) AS answers, {mean} AS mean FROM department_feedback \
         WHERE created_at >= ? AND created_at < ? GROUP BY to_department_id",
        mean = sql::avg("score"),
    );
    aggregate(db, &query, vec![range.from.into(), range.to.into()]).await
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
