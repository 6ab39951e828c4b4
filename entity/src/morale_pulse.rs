//! An employee's weekly morale answer (1–5); individual answers are for managers only.

use sea_orm::entity::prelude::*;

/// A stored pulse answer.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "morale_pulse")]
pub struct Model {
    /// Primary key.
    #[sea_orm(primary_key)]
    pub id: i32,
    /// The employee who answered.
    pub employee_id: i32,
    /// The employee's department when answering.
    pub department_id: i32,
    /// Monday of the week answered for.
    pub week: Date,
    /// Score from 1 to 5.
    pub score: i32,
    /// Optional comment.
    pub comment: Option<String>,
    /// When the row was created.
    pub created_at: DateTimeUtc,
}

/// Pulses have no navigable relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
