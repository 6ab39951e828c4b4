//! A knowledge-base article, public or internal, owned by a department.

use sea_orm::entity::prelude::*;

use crate::enums::Audience;

/// A stored article.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "knowledge_article")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub title: String,
    pub body: String,
    pub audience: Audience,
    pub department_id: i32,
    pub published_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

/// Relations of an article.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::department::Entity",
        from = "Column::DepartmentId",
        to = "super::department::Column::Id"
    )]
    Department,
}

impl ActiveModelBehavior for ActiveModel {}
