//! Purchases: revenue, under an [`OwnerScope`].

use entity::purchase;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Select};

use super::{
    nested::Children,
    page::{self, KeyKind, KeyValue, Page, PageRequest, Sort},
};
use crate::{Result, policy::OwnerScope};

impl super::LongText for purchase::Entity {
    const LONG: &'static [(purchase::Column, &'static str)] = &[];
}

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

/// The purchases among `ids` that the scope allows.
pub async fn by_ids(
    db: &DatabaseConnection,
    scope: OwnerScope,
    ids: &[i32],
) -> Result<Vec<purchase::Model>> {
    super::by_ids(db, scoped(scope), purchase::Column::Id, ids).await
}

/// Each customer's purchases under `scope`, newest first.
pub fn of_customers(scope: OwnerScope) -> Children<purchase::Entity> {
    use purchase::Column as C;
    Children {
        list: "Customer.purchases",
        select: scoped(scope),
        parent: C::CustomerId,
        parent_of: |m| Some(m.customer_id),
        sort: Sort {
            name: "purchasedAt",
            column: Some((C::PurchasedAt, KeyKind::Time)),
            id: C::Id,
            descending: true,
            key: |m| (Some(KeyValue::Time(m.purchased_at)), m.id),
        },
    }
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
        super::Omit::NONE,
    )
    .await
}
