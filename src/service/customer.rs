//! Customers, internal and external, under an [`OwnerScope`].

use chrono::{DateTime, Utc};
use entity::{
    customer,
    enums::{CustomerKind, CustomerStatus, Segment},
};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QueryResult, QuerySelect, Select,
};

use super::Omit;
use super::{
    nested::Children,
    page::{self, KeyFn, KeyKind, KeyValue, Page, PageRequest, Sort},
};
use crate::{Conflict, Error, Result, policy::OwnerScope};

/// Filters a list of customers; every field narrows the list.
#[derive(Debug, Clone, Default)]
pub struct CustomerFilter {
    /// Only this kind.
    pub kind: Option<CustomerKind>,
    /// Only these segments.
    pub segments: Vec<Segment>,
    /// Only this status.
    pub status: Option<CustomerStatus>,
    /// Case-insensitive substring of name, organisation or e-mail.
    pub search: Option<String>,
    /// Customers since this instant or later.
    pub since_from: Option<DateTime<Utc>>,
    /// Customers since before this instant.
    pub since_to: Option<DateTime<Utc>>,
}

impl super::LongText for customer::Entity {
    const LONG: &'static [(customer::Column, &'static str)] =
        &[(customer::Column::InternalNotes, "internalNotes")];

    const READS: &'static [(&'static str, &'static [customer::Column])] = {
        use customer::Column as C;
        &[
            ("id", &[C::Id]),
            ("kind", &[C::Kind]),
            ("segment", &[C::Segment]),
            ("name", &[C::Name]),
            ("organization", &[C::Organization]),
            ("email", &[C::Email]),
            ("phone", &[C::Phone]),
            ("status", &[C::Status]),
            ("customerSince", &[C::CustomerSince]),
            ("version", &[C::Version, C::PublicVersion]),
            ("lifetimeValue", &[C::LifetimeValueCents]),
            ("healthScore", &[C::HealthScore]),
            ("churnRisk", &[C::HealthScore]),
            ("internalNotes", &[C::InternalNotes]),
            ("title", &[C::Title]),
            ("hireDate", &[C::HireDate]),
            ("department", &[C::DepartmentId]),
            ("interactions", &[C::Id]),
            ("handledInteractions", &[C::Id]),
            ("purchases", &[C::Id]),
            ("timeline", &[C::Id]),
        ]
    };

    fn place(col: &customer::Column) -> usize {
        // A fieldless enum's discriminant is its place (checked by a test below).
        *col as usize
    }

    fn decode(row: &QueryResult, omit: Omit) -> Result<customer::Model> {
        use customer::Column as C;
        let read = super::Partial::<customer::Entity>::new(row, omit);
        Ok(customer::Model {
            id: read.get(C::Id)?,
            kind: read.or(C::Kind, CustomerKind::External)?,
            segment: read.or(C::Segment, Segment::Individual)?,
            name: read.get(C::Name)?,
            organization: read.get(C::Organization)?,
            email: read.get(C::Email)?,
            phone: read.get(C::Phone)?,
            status: read.or(C::Status, CustomerStatus::Active)?,
            customer_since: read.get(C::CustomerSince)?,
            lifetime_value_cents: read.get(C::LifetimeValueCents)?,
            health_score: read.get(C::HealthScore)?,
            internal_notes: read.get(C::InternalNotes)?,
            department_id: read.get(C::DepartmentId)?,
            title: read.get(C::Title)?,
            hire_date: read.get(C::HireDate)?,
            version: read.get(C::Version)?,
            public_version: read.get(C::PublicVersion)?,
            created_at: read.get(C::CreatedAt)?,
            updated_at: read.get(C::UpdatedAt)?,
            erased_at: read.get(C::ErasedAt)?,
        })
    }
}

/// Orderings of a customer list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CustomerOrder {
    /// By id.
    Id,
    /// By name.
    Name,
    /// By start of the relationship.
    CustomerSince,
    /// By lifetime value.
    LifetimeValue,
    /// By health score.
    HealthScore,
}

fn sort(order: CustomerOrder, descending: bool) -> Sort<customer::Entity> {
    use customer::Column as C;
    let (name, column, key): (_, _, KeyFn<customer::Model>) = match order {
        CustomerOrder::Id => ("id", None, |m| (None, m.id)),
        CustomerOrder::Name => ("name", Some((C::Name, KeyKind::Text)), |m| {
            (Some(KeyValue::Text(m.name.clone())), m.id)
        }),
        CustomerOrder::CustomerSince => (
            "customerSince",
            Some((C::CustomerSince, KeyKind::Time)),
            |m| (Some(KeyValue::Time(m.customer_since)), m.id),
        ),
        CustomerOrder::LifetimeValue => (
            "lifetimeValue",
            Some((C::LifetimeValueCents, KeyKind::Int)),
            |m| (Some(KeyValue::Int(m.lifetime_value_cents)), m.id),
        ),
        CustomerOrder::HealthScore => ("healthScore", Some((C::HealthScore, KeyKind::Int)), |m| {
            (Some(KeyValue::Int(i64::from(m.health_score))), m.id)
        }),
    };
    Sort {
        name,
        column,
        id: C::Id,
        descending,
        key,
    }
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

/// A page of customers (every column read).
pub async fn list(
    db: &DatabaseConnection,
    scope: OwnerScope,
    filter: &CustomerFilter,
    order: (CustomerOrder, bool),
    page: PageRequest,
) -> Result<Page<customer::Model>> {
    list_omitting(db, scope, filter, order, page, Omit::NONE).await
}

/// [`list`], reading only the columns `omit` keeps (see [`Omit::unread`]).
pub async fn list_omitting(
    db: &DatabaseConnection,
    scope: OwnerScope,
    filter: &CustomerFilter,
    order: (CustomerOrder, bool),
    page: PageRequest,
    omit: Omit,
) -> Result<Page<customer::Model>> {
    use customer::Column as C;
    let mut select = scoped(scope);
    if let Some(kind) = filter.kind {
        select = select.filter(C::Kind.eq(kind));
    }
    if !filter.segments.is_empty() {
        select = select.filter(C::Segment.is_in(filter.segments.iter().copied()));
    }
    if let Some(status) = filter.status {
        select = select.filter(C::Status.eq(status));
    }
    if let Some(text) = &filter.search {
        select = select.filter(
            Condition::any()
                .add(super::contains_ci(C::Name, text))
                .add(super::contains_ci(C::Organization, text))
                .add(super::contains_ci(C::Email, text)),
        );
    }
    if let Some(from) = filter.since_from {
        select = select.filter(C::CustomerSince.gte(from));
    }
    if let Some(to) = filter.since_to {
        select = select.filter(C::CustomerSince.lt(to));
    }
    page::fetch_omitting(db, select, sort(order.0, order.1), page, omit).await
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

/// The kind of the customer `id`, if it exists and was not erased: what authentication checks
/// a token's role against (an erased customer's token names nobody). Reads by primary key.
pub async fn kind_of(db: &DatabaseConnection, id: i32) -> Result<Option<CustomerKind>> {
    Ok(customer::Entity::find_by_id(id)
        .filter(customer::Column::ErasedAt.is_null())
        .select_only()
        .column(customer::Column::Kind)
        .into_tuple::<CustomerKind>()
        .one(db)
        .await?)
}

/// Each department's members under `scope`, by name.
pub fn members(scope: OwnerScope) -> Children<customer::Entity> {
    Children {
        list: "Department.members",
        select: scoped(scope),
        parent: customer::Column::DepartmentId,
        parent_of: |m| m.department_id,
        sort: sort(CustomerOrder::Name, false),
    }
}

/// What a write needs its author to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Author {
    /// Any customer, internal or external.
    Customer,
    /// An internal customer (an employee, owner, partner…).
    Internal,
}

/// The customer row of the caller making a write, checked again inside the write's
/// transaction. Authentication already refuses tokens whose subject names no customer or a
/// customer of the wrong kind; checking here too means such a write can never reach a
/// foreign-key failure, and the answer is the same `UNAUTHENTICATED`.
pub(crate) async fn author(
    db: &impl ConnectionTrait,
    id: i32,
    needs: Author,
) -> Result<customer::Model> {
    let row = customer::Entity::find_by_id(id).one(db).await?;
    match row {
        // An erased customer's token writes nothing: no write may fill the tombstone again.
        Some(row) if row.erased_at.is_some() => Err(Error::Unauthenticated(
            "this token's subject cannot make this change".into(),
        )),
        Some(row) if needs == Author::Customer || row.kind == CustomerKind::Internal => Ok(row),
        _ => Err(Error::Unauthenticated(
            "this token's subject cannot make this change".into(),
        )),
    }
}

/// Refuses any write that would add data to an erased customer's record: erasure is final, and
/// a reply, note, interaction or edit landing afterwards would fill the tombstone again.
pub(crate) fn refuse_erased(row: &customer::Model) -> Result<()> {
    match row.erased_at {
        Some(_) => Err(Error::Conflict(Conflict::Erased)),
        None => Ok(()),
    }
}

/// The record of customer `id`, for a write that adds to it (an interaction, a message, a
/// rating): `NOT_FOUND` when missing, `CONFLICT` (`ERASED`) once erased. The row is held
/// (`FOR SHARE` on PostgreSQL; SQLite has one writer at a time) until the write ends: an
/// erasure starts by updating this row, so it either ran before and is seen here, or waits and
/// then blanks what this write added.
pub(crate) async fn open_record(db: &impl ConnectionTrait, id: i32) -> Result<customer::Model> {
    let row = customer::Entity::find_by_id(id)
        .lock_shared()
        .one(db)
        .await?
        .ok_or(Error::NotFound { what: "customer" })?;
    refuse_erased(&row)?;
    Ok(row)
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_field_of_the_type_is_listed_with_its_columns() {
        super::super::tests::every_field_is_listed::<entity::customer::Entity>("Customer");
    }
}
