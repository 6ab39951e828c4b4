//! The product catalogue, under a [`ProductScope`].

use entity::product;
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Select, sea_query::SelectStatement,
};

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

/// A page of products, optionally those whose name, SKU or description contains `search`.
pub async fn list(
    db: &DatabaseConnection,
    scope: ProductScope,
    search: Option<&str>,
    page: PageRequest,
) -> Result<Page<product::Model>> {
    let mut select = scoped(scope);
    if let Some(text) = search {
        select = select.filter(
            sea_orm::Condition::any()
                .add(super::contains_ci(product::Column::Name, text))
                .add(super::contains_ci(product::Column::Sku, text))
                .add(super::contains_ci(product::Column::Description, text)),
        );
    }
    page::fetch(db, select, crate::by_id!(product), page).await
}

/// The products the subquery `ids` selects that the scope allows: for id lists of any length
/// (a bound list is limited by the database's parameter count).
pub async fn among(
    db: &DatabaseConnection,
    scope: ProductScope,
    ids: SelectStatement,
) -> Result<Vec<product::Model>> {
    Ok(scoped(scope)
        .filter(product::Column::Id.in_subquery(ids))
        .all(db)
        .await?)
}

/// The products among `ids` that the scope allows.
pub async fn by_ids(
    db: &DatabaseConnection,
    scope: ProductScope,
    ids: &[i32],
) -> Result<Vec<product::Model>> {
    super::by_ids(db, scoped(scope), product::Column::Id, ids).await
}
