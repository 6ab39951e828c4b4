//! Internal service agreements between departments. Only internal callers reach this module;
//! the policy decides that before any call.

use entity::service_agreement as agreement;
use sea_orm::{ColumnTrait, Condition, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};

use super::page::{self, Page, PageRequest};
use crate::{Result, policy::Permit};

/// A page of all agreements.
pub async fn list(db: &DatabaseConnection, page: PageRequest) -> Result<Page<agreement::Model>> {
    page::fetch(
        db,
        agreement::Entity::find(),
        crate::by_id!(agreement),
        page,
    )
    .await
}

/// One agreement, if it exists; `Permit` is the policy's yes to the whole kind.
pub async fn get(
    db: &DatabaseConnection,
    _permit: Permit,
    id: i32,
) -> Result<Option<agreement::Model>> {
    Ok(agreement::Entity::find_by_id(id).one(db).await?)
}

/// Agreements where any of `department_ids` is the provider or the consumer.
pub async fn involving(
    db: &DatabaseConnection,
    department_ids: &[i32],
) -> Result<Vec<agreement::Model>> {
    if department_ids.is_empty() {
        return Ok(Vec::new());
    }
    let ids = department_ids.iter().copied();
    Ok(agreement::Entity::find()
        .filter(
            Condition::any()
                .add(agreement::Column::ProviderDepartmentId.is_in(ids.clone()))
                .add(agreement::Column::ConsumerDepartmentId.is_in(ids)),
        )
        .order_by_asc(agreement::Column::Id)
        .all(db)
        .await?)
}
