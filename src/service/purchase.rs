//! Purchases: revenue, under an [`OwnerScope`].

use entity::purchase;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Select};

use super::page::{self, Page, PageRequest};
use crate::{Result, policy::OwnerScope};

fn scoped(scope: OwnerScope) -> Select<purchase::Entity> {
    let select = purchase::Entity::find();
    match scope {
        OwnerScope::All => select,
        OwnerScope::Customer(id) => select.filter(purchase::Column::CustomerId.eq(id)),
    }
}

/// A page of purchases, optionally of one customer.
pub async fn list(
    db: &DatabaseConnection,
    scope: OwnerScope,
    customer_id: Option<i32>,
    page: PageRequest,
) -> Result<Page<purchase::Model>> {
    let mut select = scoped(scope);
    if let Some(id) = customer_id {
        select = select.filter(purchase::Column::CustomerId.eq(id));
    }
    page::fetch(db, select, crate::by_id!(purchase), page).await
}

/// The newest `limit` purchases of each customer, in one query.
pub async fn latest_per_customer(
    db: &DatabaseConnection,
    scope: OwnerScope,
    customer_ids: &[i32],
    limit: u64,
) -> Result<Vec<purchase::Model>> {
    use purchase::Column as C;
    super::top_n_per_parent(
        db,
        scoped(scope),
        super::Rank {
            parent: C::CustomerId,
            order: C::PurchasedAt,
            id: C::Id,
            newest_first: true,
        },
        customer_ids,
        limit,
    )
    .await
}
