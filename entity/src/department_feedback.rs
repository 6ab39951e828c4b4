//! Feedback one department gives another about the service it received (1–5).

use sea_orm::entity::prelude::*;

/// A stored feedback answer.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "department_feedback")]
pub struct Model {
    /// Primary key.
    #[sea_orm(primary_key)]
    pub id: i32,
    /// The consuming department (the author's).
    pub from_department_id: i32,
    /// The providing department being rated.
    pub to_department_id: i32,
    /// The customer who wrote it.
    pub author_id: i32,
    /// Score from 1 to 5.
    pub score: i32,
    /// Optional comment.
    pub comment: Option<String>,
    /// When the row was created.
    pub created_at: DateTimeUtc,
}

/// Feedback has no navigable relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
