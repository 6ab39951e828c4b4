//! Departments of the org chart, under a [`DepartmentScope`].

use entity::department;
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, Select,
    sea_query::SelectStatement,
};

use super::page::{self, Page, PageRequest};
use crate::{Result, policy::DepartmentScope};

impl super::LongText for department::Entity {
    const LONG: &'static [(department::Column, &'static str)] =
        &[(department::Column::Description, "description")];
}

fn scoped(scope: DepartmentScope) -> Select<department::Entity> {
    let select = department::Entity::find();
    match scope {
        DepartmentScope::All => select,
        DepartmentScope::ExternalFacing => {
            select.filter(department::Column::ServesExternal.eq(true))
        }
    }
}

/// One department, if it exists inside the scope.
pub async fn get(
    db: &DatabaseConnection,
    scope: DepartmentScope,
    id: i32,
) -> Result<Option<department::Model>> {
    Ok(scoped(scope)
        .filter(department::Column::Id.eq(id))
        .one(db)
        .await?)
}

/// A page of departments.
pub async fn list(
    db: &DatabaseConnection,
    scope: DepartmentScope,
    page: PageRequest,
) -> Result<Page<department::Model>> {
    page::fetch(db, scoped(scope), crate::by_id!(department), page).await
}

/// The departments the subquery `ids` selects that the scope allows: for id lists of any
/// length (a bound list is limited by the database's parameter count).
pub async fn among(
    db: &DatabaseConnection,
    scope: DepartmentScope,
    ids: SelectStatement,
) -> Result<Vec<department::Model>> {
    Ok(scoped(scope)
        .filter(department::Column::Id.in_subquery(ids))
        .all(db)
        .await?)
}

/// The departments among `ids` that the scope allows.
pub async fn by_ids(
    db: &DatabaseConnection,
    scope: DepartmentScope,
    ids: &[i32],
) -> Result<Vec<department::Model>> {
    super::by_ids(db, scoped(scope), department::Column::Id, ids).await
}

/// Sub-departments of each of `parent_ids`, by name.
pub async fn children_of(
    db: &DatabaseConnection,
    scope: DepartmentScope,
    parent_ids: &[i32],
) -> Result<Vec<department::Model>> {
    if parent_ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(scoped(scope)
        .filter(department::Column::ParentId.is_in(parent_ids.iter().copied()))
        .order_by_asc(department::Column::Name)
        .all(db)
        .await?)
}
