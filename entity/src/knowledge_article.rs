//! A knowledge-base article, public or internal, owned by a department.

use sea_orm::entity::prelude::*;

use crate::enums::Audience;

/// A stored article.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "knowledge_article")]
pub struct Model {
    /// Primary key.
    #[sea_orm(primary_key)]
    pub id: i32,
    /// Headline.
    pub title: String,
    /// The text.
    pub body: String,
    /// Who it is written for.
    pub audience: Audience,
    /// The department it belongs to.
    pub department_id: i32,
    /// When it was first published.
    pub published_at: DateTimeUtc,
    /// When the row last changed.
    pub updated_at: DateTimeUtc,
}

/// Relations of an article.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// The department it belongs to.
    #[sea_orm(
        belongs_to = "super::department::Entity",
        from = "Column::DepartmentId",
        to = "super::department::Column::Id"
    )]
    Department,
}

impl ActiveModelBehavior for ActiveModel {}
