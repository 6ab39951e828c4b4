//! Customers, internal and external, under an [`OwnerScope`].

use entity::{customer, enums::CustomerKind};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, Select};

use super::page::{self, Page, PageRequest};
use crate::{Result, policy::OwnerScope};

/// Filters a list of customers.
#[derive(Debug, Clone, Default)]
pub struct CustomerFilter {
    /// Only this kind.
    pub kind: Option<CustomerKind>,
}

fn scoped(scope: OwnerScope) -> Select<customer::Entity> {
    let select = customer::Entity::find();
    match scope {
        OwnerScope::All => select,
        OwnerScope::Customer(id) => select.filter(customer::Column::Id.eq(id)),
    }
}

/// One customer, if it exists inside the scope.
pub async fn get(
    db: &DatabaseConnection,
    scope: OwnerScope,
    id: i32,
) -> Result<Option<customer::Model>> {
    Ok(scoped(scope)
        .filter(customer::Column::Id.eq(id))
        .one(db)
        .await?)
}

/// A page of customers.
pub async fn list(
    db: &DatabaseConnection,
    scope: OwnerScope,
    filter: &CustomerFilter,
    page: PageRequest,
) -> Result<Page<customer::Model>> {
    let mut select = scoped(scope);
    if let Some(kind) = filter.kind {
        select = select.filter(customer::Column::Kind.eq(kind));
    }
    page::fetch(db, select, customer::Column::Id, page).await
}

/// The customers among `ids` that the scope allows.
pub async fn by_ids(
    db: &DatabaseConnection,
    scope: OwnerScope,
    ids: &[i32],
) -> Result<Vec<customer::Model>> {
    super::by_ids(db, scoped(scope), customer::Column::Id, ids).await
}

/// Members (employees) of each department in `department_ids`, by name.
pub async fn members_of(
    db: &DatabaseConnection,
    scope: OwnerScope,
    department_ids: &[i32],
) -> Result<Vec<customer::Model>> {
    if department_ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(scoped(scope)
        .filter(customer::Column::DepartmentId.is_in(department_ids.iter().copied()))
        .order_by_asc(customer::Column::Name)
        .all(db)
        .await?)
}
