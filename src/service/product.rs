//! The product catalogue, under a [`ProductScope`].

use entity::product;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Select};

use super::page::{self, Page, PageRequest};
use crate::{Result, policy::ProductScope};

fn scoped(scope: ProductScope) -> Select<product::Entity> {
    let select = product::Entity::find();
    match scope {
        ProductScope::All => select,
        ProductScope::ActiveOnly => select.filter(product::Column::Active.eq(true)),
    }
}

/// One product, if it exists inside the scope.
pub async fn get(
    db: &DatabaseConnection,
    scope: ProductScope,
    id: i32,
) -> Result<Option<product::Model>> {
    Ok(scoped(scope)
        .filter(product::Column::Id.eq(id))
        .one(db)
        .await?)
}

/// A page of products.
pub async fn list(
    db: &DatabaseConnection,
    scope: ProductScope,
    page: PageRequest,
) -> Result<Page<product::Model>> {
    page::fetch(db, scoped(scope), product::Column::Id, page).await
}

/// The products among `ids` that the scope allows.
pub async fn by_ids(
    db: &DatabaseConnection,
    scope: ProductScope,
    ids: &[i32],
) -> Result<Vec<product::Model>> {
    super::by_ids(db, scoped(scope), product::Column::Id, ids).await
}
