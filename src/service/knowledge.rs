//! Knowledge-base articles, under an [`ArticleScope`].

use entity::{enums::Audience, knowledge_article as article};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Select};

use super::page::{self, Page, PageRequest};
use crate::{Result, policy::ArticleScope};

fn scoped(scope: ArticleScope) -> Select<article::Entity> {
    let select = article::Entity::find();
    match scope {
        ArticleScope::All => select,
        ArticleScope::PublicOnly => select.filter(article::Column::Audience.eq(Audience::Public)),
    }
}

/// One article, if it exists inside the scope.
pub async fn get(
    db: &DatabaseConnection,
    scope: ArticleScope,
    id: i32,
) -> Result<Option<article::Model>> {
    Ok(scoped(scope)
        .filter(article::Column::Id.eq(id))
        .one(db)
        .await?)
}

/// A page of articles, optionally of one department and one audience.
pub async fn list(
    db: &DatabaseConnection,
    scope: ArticleScope,
    department_id: Option<i32>,
    audience: Option<Audience>,
    page: PageRequest,
) -> Result<Page<article::Model>> {
    let mut select = scoped(scope);
    if let Some(audience) = audience {
        select = select.filter(article::Column::Audience.eq(audience));
    }
    if let Some(id) = department_id {
        select = select.filter(article::Column::DepartmentId.eq(id));
    }
    page::fetch(db, select, crate::by_id!(article), page).await
}
