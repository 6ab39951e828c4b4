//! Interactions between customers and departments, under an [`OwnerScope`]: lists, the
//! department queue, and the writes (open, log, reply, note, assign, resolve, reopen, rate).

use chrono::{DateTime, Utc};
use entity::{
    enums::{Channel, InteractionKind, InteractionStatus},
    interaction, interaction_thread,
};
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryResult, Select,
    sea_query::ExprTrait,
};

use super::{
    nested::Children,
    page::{self, KeyFn, KeyKind, KeyValue, Page, PageRequest, Sort},
    rules,
};
use crate::{
    Result,
    policy::{Audience, Notes, OwnerScope},
};

/// Filters a list of interactions; every field narrows the list.
#[derive(Debug, Clone, Default)]
pub struct InteractionFilter {
    /// Only this customer's.
    pub customer_id: Option<i32>,
    /// Only this department's.
    pub department_id: Option<i32>,
    /// Only those handled by this employee.
    pub handler_id: Option<i32>,
    /// Only these channels.
    pub channels: Vec<Channel>,
    /// Only these kinds.
    pub kinds: Vec<InteractionKind>,
    /// Only these statuses.
    pub statuses: Vec<InteractionStatus>,
    /// Opened at or after.
    pub opened_from: Option<DateTime<Utc>>,
    /// Opened before.
    pub opened_to: Option<DateTime<Utc>>,
    /// Only breached (true) or only not breached (false) service levels.
    pub sla_breached: Option<bool>,
    /// Rated at least this (CSAT).
    pub min_satisfaction: Option<i32>,
    /// Rated at most this (CSAT).
    pub max_satisfaction: Option<i32>,
}

/// Orderings of an interaction list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InteractionOrder {
    /// By id.
    Id,
    /// By opening time.
    OpenedAt,
    /// By last change.
    UpdatedAt,
}

/// The sort for `order`; `audience` decides which change time `UpdatedAt` means (the other
/// orderings are the same for everyone).
fn sort(
    order: InteractionOrder,
    descending: bool,
    audience: Audience,
) -> Sort<interaction::Entity> {
    use interaction::Column as C;
    let (name, column, key): (_, _, KeyFn<interaction::Model>) = match (order, audience) {
        (InteractionOrder::Id, _) => ("id", None, |m| (None, m.id)),
        (InteractionOrder::OpenedAt, _) => ("openedAt", Some((C::OpenedAt, KeyKind::Time)), |m| {
            (Some(KeyValue::Time(m.opened_at)), m.id)
        }),
        // Each audience orders by the change time it may see; the cursor names the same
        // ordering for both, so a client's cursor says nothing about another clock existing.
        (InteractionOrder::UpdatedAt, Audience::Internal) => {
            ("updatedAt", Some((C::UpdatedAt, KeyKind::Time)), |m| {
                (Some(KeyValue::Time(m.updated_at)), m.id)
            })
        }
        (InteractionOrder::UpdatedAt, Audience::Public) => (
            "updatedAt",
            Some((C::PublicUpdatedAt, KeyKind::Time)),
            |m| (Some(KeyValue::Time(m.public_updated_at)), m.id),
        ),
    };
    Sort {
        name,
        column,
        id: C::Id,
        descending,
        key,
    }
}

impl super::LongText for interaction::Entity {
    const LONG: &'static [(interaction::Column, &'static str)] = &[
        (interaction::Column::Summary, "summary"),
        (interaction::Column::InternalNote, "internalNote"),
    ];

    const READS: &'static [(&'static str, &'static [interaction::Column])] = {
        use interaction::Column as C;
        &[
            ("id", &[C::Id]),
            ("channel", &[C::Channel]),
            ("kind", &[C::Kind]),
            ("subject", &[C::Subject]),
            ("summary", &[C::Summary]),
            ("status", &[C::Status]),
            ("openedAt", &[C::OpenedAt]),
            ("resolvedAt", &[C::ResolvedAt]),
            ("satisfaction", &[C::Satisfaction]),
            ("nps", &[C::Nps]),
            ("version", &[C::Version, C::PublicVersion]),
            ("customer", &[C::CustomerId]),
            ("department", &[C::DepartmentId]),
            ("handler", &[C::HandlerId]),
            ("internalNote", &[C::InternalNote]),
            ("slaDueAt", &[C::SlaDueAt]),
            ("slaBreached", &[C::SlaDueAt, C::ResolvedAt]),
            ("relatedTo", &[C::RelatedToId]),
            ("caused", &[C::Id]),
            ("impact", &[C::Id]),
            ("messages", &[C::Id, C::CustomerId]),
        ]
    };

    fn place(col: &interaction::Column) -> usize {
        // A fieldless enum's discriminant is its place (checked by a test below).
        *col as usize
    }

    fn decode(row: &QueryResult, omit: super::Omit) -> Result<interaction::Model> {
        use interaction::Column as C;
        let read = super::Partial::<interaction::Entity>::new(row, omit);
        Ok(interaction::Model {
            id: read.get(C::Id)?,
            customer_id: read.get(C::CustomerId)?,
            department_id: read.get(C::DepartmentId)?,
            handler_id: read.get(C::HandlerId)?,
            channel: read.or(C::Channel, Channel::Email)?,
            kind: read.or(C::Kind, InteractionKind::Inquiry)?,
            subject: read.get(C::Subject)?,
            summary: read.get(C::Summary)?,
            internal_note: read.get(C::InternalNote)?,
            status: read.or(C::Status, InteractionStatus::Open)?,
            opened_at: read.get(C::OpenedAt)?,
            resolved_at: read.get(C::ResolvedAt)?,
            sla_due_at: read.get(C::SlaDueAt)?,
            satisfaction: read.get(C::Satisfaction)?,
            nps: read.get(C::Nps)?,
            rated_at: read.get(C::RatedAt)?,
            related_to_id: read.get(C::RelatedToId)?,
            version: read.get(C::Version)?,
            updated_at: read.get(C::UpdatedAt)?,
            public_version: read.get(C::PublicVersion)?,
            public_updated_at: read.get(C::PublicUpdatedAt)?,
        })
    }
}

impl super::LongText for interaction_thread::Entity {
    const LONG: &'static [(interaction_thread::Column, &'static str)] =
        &[(interaction_thread::Column::Body, "body")];
}

pub(crate) fn scoped(scope: OwnerScope) -> Select<interaction::Entity> {
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

/// A page of interactions; ordered by change time, it is the change time of `audience`.
pub async fn list(
    db: &DatabaseConnection,
    scope: OwnerScope,
    audience: Audience,
    filter: &InteractionFilter,
    order: (InteractionOrder, bool),
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
    if let Some(id) = filter.handler_id {
        select = select.filter(C::HandlerId.eq(id));
    }
    if !filter.channels.is_empty() {
        select = select.filter(C::Channel.is_in(filter.channels.iter().copied()));
    }
    if !filter.kinds.is_empty() {
        select = select.filter(C::Kind.is_in(filter.kinds.iter().copied()));
    }
    if !filter.statuses.is_empty() {
        select = select.filter(C::Status.is_in(filter.statuses.iter().copied()));
    }
    if let Some(from) = filter.opened_from {
        select = select.filter(C::OpenedAt.gte(from));
    }
    if let Some(to) = filter.opened_to {
        select = select.filter(C::OpenedAt.lt(to));
    }
    match filter.sla_breached {
        Some(true) => select = select.filter(rules::breached_sql(interaction::Entity, Utc::now())),
        Some(false) => {
            select = select.filter(rules::breached_sql(interaction::Entity, Utc::now()).not())
        }
        None => {}
    }
    if let Some(min) = filter.min_satisfaction {
        select = select.filter(C::Satisfaction.gte(min));
    }
    if let Some(max) = filter.max_satisfaction {
        select = select.filter(C::Satisfaction.lte(max));
    }
    page::fetch(db, select, sort(order.0, order.1, audience), page).await
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

/// The interactions hanging from `parent` that `scope` allows, newest first.
pub fn children(scope: OwnerScope, parent: Parent) -> Children<interaction::Entity> {
    use interaction::Column as C;
    let (list, column, parent_of): (_, _, fn(&interaction::Model) -> Option<i32>) = match parent {
        Parent::Customer => ("Customer.interactions", C::CustomerId, |m| {
            Some(m.customer_id)
        }),
        Parent::Department => ("Department.interactions", C::DepartmentId, |m| {
            Some(m.department_id)
        }),
        Parent::Handler => ("Customer.handledInteractions", C::HandlerId, |m| {
            m.handler_id
        }),
        Parent::RelatedTo => ("Interaction.caused", C::RelatedToId, |m| m.related_to_id),
    };
    Children {
        list,
        select: scoped(scope),
        parent: column,
        parent_of,
        sort: sort(InteractionOrder::OpenedAt, true, Audience::Public),
    }
}

/// Each department's queue under `scope`: its open interactions, oldest first.
pub fn queue(scope: OwnerScope) -> Children<interaction::Entity> {
    use interaction::Column as C;
    Children {
        list: "Department.queue",
        select: scoped(scope)
            .filter(C::Status.is_in([InteractionStatus::Open, InteractionStatus::InProgress])),
        parent: C::DepartmentId,
        parent_of: |m| Some(m.department_id),
        sort: sort(InteractionOrder::OpenedAt, false, Audience::Public),
    }
}

/// Each interaction's conversation, oldest first; internal notes only when `notes` says so.
///
/// Callers who may not see notes read the public messages only, ordered and keyed by the
/// message's own id: their ids, counts, order and cursors are exactly those a world without
/// notes would give. Only callers who see notes order by `thread_key` (unique across both
/// tables); their cursors carry another sort name, so one list's cursor never reads the other.
pub fn messages(notes: Notes) -> Children<interaction_thread::Entity> {
    use interaction_thread::Column as C;
    let select = interaction_thread::Entity::find();
    let (select, sort) = match notes {
        Notes::Hidden => (
            select.filter(C::Internal.eq(false)),
            Sort {
                name: "createdAt",
                column: Some((C::CreatedAt, KeyKind::Time)),
                id: C::Id,
                descending: false,
                key: |m: &interaction_thread::Model| (Some(KeyValue::Time(m.created_at)), m.id),
            },
        ),
        Notes::Shown => (
            select,
            Sort {
                name: "createdAt.thread",
                column: Some((C::CreatedAt, KeyKind::Time)),
                id: C::ThreadKey,
                descending: false,
                key: |m: &interaction_thread::Model| {
                    (Some(KeyValue::Time(m.created_at)), m.thread_key)
                },
            },
        ),
    };
    Children {
        list: "Interaction.messages",
        select,
        parent: C::InteractionId,
        parent_of: |m| Some(m.interaction_id),
        sort,
    }
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
        super::Rank {
            parent: parent_col,
            order: C::OpenedAt,
            id: C::Id,
            newest_first: true,
        },
        parent_ids,
        limit,
        super::Omit::NONE,
    )
    .await
}

/// Each department's queue: its open interactions, oldest first, in one query.
pub async fn queues(
    db: &DatabaseConnection,
    scope: OwnerScope,
    department_ids: &[i32],
    limit: u64,
) -> Result<Vec<interaction::Model>> {
    use interaction::Column as C;
    let open = scoped(scope)
        .filter(C::Status.is_in([InteractionStatus::Open, InteractionStatus::InProgress]));
    super::top_n_per_parent(
        db,
        open,
        super::Rank {
            parent: C::DepartmentId,
            order: C::OpenedAt,
            id: C::Id,
            newest_first: false,
        },
        department_ids,
        limit,
        super::Omit::NONE,
    )
    .await
}

#[cfg(test)]
mod tests {
    use entity::interaction::Column as C;
    use sea_orm::{IdenStatic, Iterable};

    use super::super::Omit;

    #[test]
    fn a_read_keeps_the_columns_its_fields_read_and_the_ones_it_needs() {
        type E = entity::interaction::Entity;
        let omit = Omit::unread::<E>(&["subject", "department", "__typename"]).keeping::<E>(&[
            C::CustomerId,
            C::OpenedAt,
            C::Id,
        ]);
        let kept: Vec<&str> = C::iter()
            .filter(|col| !omit.leaves_out_position(*col as usize))
            .map(|col| col.as_str())
            .collect();
        let expected = ["id", "customer_id", "department_id", "subject", "opened_at"];
        assert_eq!(kept, expected);
        // Each kept column's index in the narrower row.
        let index = |col: C| omit.index_in_row(col as usize);
        assert_eq!([C::Id, C::DepartmentId, C::OpenedAt].map(index), [0, 2, 4]);
        // A field the list does not name keeps every short column: only long text goes.
        let omit = Omit::unread::<E>(&["subject", "someNewField"]);
        let left_out: Vec<&str> = C::iter()
            .filter(|col| omit.leaves_out_position(*col as usize))
            .map(|col| col.as_str())
            .collect();
        assert_eq!(left_out, ["summary", "internal_note"]);
    }

    #[test]
    fn every_field_of_the_type_is_listed_with_its_columns() {
        super::super::tests::every_field_is_listed::<entity::interaction::Entity>("Interaction");
    }
}
