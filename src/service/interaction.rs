//! Interactions between customers and departments, under an [`OwnerScope`].

use entity::{
    enums::{Channel, InteractionKind, InteractionStatus},
    interaction,
};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Select};

use super::page::{self, Page, PageRequest};
use crate::{Result, policy::OwnerScope};

/// Filters a list of interactions.
#[derive(Debug, Clone, Default)]
pub struct InteractionFilter {
    /// Only this customer's.
    pub customer_id: Option<i32>,
    /// Only this department's.
    pub department_id: Option<i32>,
    /// Only this channel.
    pub channel: Option<Channel>,
    /// Only this kind.
    pub kind: Option<InteractionKind>,
    /// Only this status.
    pub status: Option<InteractionStatus>,
}

fn scoped(scope: OwnerScope) -> Select<interaction::Entity> {
    let select = interaction::Entity::find();
    match scope {
        OwnerScope::All => select,
        OwnerScope::Customer(id) => select.filter(interaction::Column::CustomerId.eq(id)),
    }
}

/// One interaction, if it exists inside the scope.
pub async fn get(
    db: &DatabaseConnection,
    scope: OwnerScope,
    id: i32,
) -> Result<Option<interaction::Model>> {
    Ok(scoped(scope)
        .filter(interaction::Column::Id.eq(id))
        .one(db)
        .await?)
}

/// A page of interactions.
pub async fn list(
    db: &DatabaseConnection,
    scope: OwnerScope,
    filter: &InteractionFilter,
    page: PageRequest,
) -> Result<Page<interaction::Model>> {
    use interaction::Column as C;
    let mut select = scoped(scope);
    if let Some(id) = filter.customer_id {
        select = select.filter(C::CustomerId.eq(id));
    }
    if let Some(id) = filter.department_id {
        select = select.filter(C::DepartmentId.eq(id));
    }
    if let Some(channel) = filter.channel {
        select = select.filter(C::Channel.eq(channel));
    }
    if let Some(kind) = filter.kind {
        select = select.filter(C::Kind.eq(kind));
    }
    if let Some(status) = filter.status {
        select = select.filter(C::Status.eq(status));
    }
    page::fetch(db, select, C::Id, page).await
}

/// The interactions among `ids` that the scope allows.
pub async fn by_ids(
    db: &DatabaseConnection,
    scope: OwnerScope,
    ids: &[i32],
) -> Result<Vec<interaction::Model>> {
    super::by_ids(db, scoped(scope), interaction::Column::Id, ids).await
}

/// Which relation a nested list of interactions hangs from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Parent {
    /// The customer who opened them.
    Customer,
    /// The department that handles them.
    Department,
    /// The employee handling them.
    Handler,
    /// The interaction that caused them.
    RelatedTo,
}

/// The newest `limit` interactions of each parent, in one query.
pub async fn latest_per_parent(
    db: &DatabaseConnection,
    scope: OwnerScope,
    parent: Parent,
    parent_ids: &[i32],
    limit: u64,
) -> Result<Vec<interaction::Model>> {
    use interaction::Column as C;
    let parent_col = match parent {
        Parent::Customer => C::CustomerId,
        Parent::Department => C::DepartmentId,
        Parent::Handler => C::HandlerId,
        Parent::RelatedTo => C::RelatedToId,
    };
    super::top_n_per_parent(
        db,
        scoped(scope),
        parent_col,
        parent_ids,
        C::OpenedAt,
        C::Id,
        limit,
    )
    .await
}
