//! Writes on interactions: clients open and rate their own and reply to them; employees log,
//! note, assign, resolve and reopen. Every write runs in a transaction and publishes an event.

use chrono::{DateTime, Duration, Utc};
use entity::{
    customer, department,
    enums::{Channel, CustomerKind, InteractionKind, InteractionStatus},
    interaction, interaction_message, interaction_thread, internal_note, service_agreement,
};
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    sea_query::{Expr, ExprTrait},
};

use super::{
    customer::{Author, author, open_record},
    events::{Change, InteractionEvent},
    validate,
    versioned::{self, Counters, Expected},
    write::{Tx, Writer},
};
use crate::{
    Conflict, Error, Result,
    policy::{Audience, OwnerScope},
};

/// Service level for external customers when no internal agreement applies.
const EXTERNAL_SLA_HOURS: i64 = 48;
/// Longest subject.
pub const MAX_SUBJECT: usize = 200;
/// Longest summary, message or note.
pub const MAX_BODY: usize = 5000;

/// What a new interaction says.
#[derive(Debug, Clone)]
pub struct NewInteraction {
    /// Whose it is.
    pub customer_id: i32,
    /// Which department handles it.
    pub department_id: i32,
    /// Which employee handles it.
    pub handler_id: Option<i32>,
    /// How it arrived.
    pub channel: Channel,
    /// What it is.
    pub kind: InteractionKind,
    /// One line.
    pub subject: String,
    /// What the customer sees.
    pub summary: String,
    /// What only employees see.
    pub internal_note: Option<String>,
    /// When it is due; derived from the service agreement when absent.
    pub sla_due_at: Option<DateTime<Utc>>,
    /// What caused it.
    pub related_to_id: Option<i32>,
}

fn event(row: &interaction::Model, change: Change, visible_to: Audience) -> InteractionEvent {
    InteractionEvent {
        visible_to,
        interaction_id: row.id,
        customer_id: row.customer_id,
        department_id: row.department_id,
        change,
    }
}

/// Marks a change made `now`: the internal change time always moves, the public one only when
/// the customer can see the change (see [`Audience`]).
fn stamp(changes: &mut interaction::ActiveModel, now: DateTime<Utc>, visible_to: Audience) {
    changes.updated_at = Set(now);
    if visible_to == Audience::Public {
        changes.public_updated_at = Set(now);
    }
}

async fn department(db: &impl ConnectionTrait, id: i32) -> Result<department::Model> {
    department::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(Error::NotFound { what: "department" })
}

/// The due time: the turnaround of the agreement between the department and the customer's
/// own department for internal customers, a fixed service level for external ones.
async fn due_at(
    db: &impl ConnectionTrait,
    customer: &customer::Model,
    department_id: i32,
    opened: DateTime<Utc>,
) -> Result<DateTime<Utc>> {
    let mut hours = EXTERNAL_SLA_HOURS;
    if customer.kind == CustomerKind::Internal
        && let Some(consumer) = customer.department_id
        && let Some(agreement) = service_agreement::Entity::find()
            .filter(service_agreement::Column::ProviderDepartmentId.eq(department_id))
            .filter(service_agreement::Column::ConsumerDepartmentId.eq(consumer))
            .one(db)
            .await?
    {
        hours = i64::from(agreement.target_turnaround_hours);
    }
    Ok(opened + Duration::hours(hours))
}

/// Who asks for a new interaction; it decides which checks the interaction gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Opener {
    /// The customer opens it for itself. Outsiders reach only customer-facing departments:
    /// internal departments do not exist for them.
    Itself {
        /// Whether the customer is an outsider.
        outsider: bool,
    },
    /// This employee logs it for any customer.
    Employee(i32),
}

/// Inserts an interaction, checked according to who opens it.
pub async fn log_or_open(
    writer: &Writer,
    input: NewInteraction,
    opener: Opener,
) -> Result<interaction::Model> {
    let subject = validate::text("input.subject", &input.subject, MAX_SUBJECT)?;
    let summary = validate::text("input.summary", &input.summary, MAX_BODY)?;
    let internal_note = validate::optional_text(
        "input.internalNote",
        input.internal_note.as_deref(),
        MAX_BODY,
    )?;
    let input = NewInteraction {
        subject,
        summary,
        internal_note,
        ..input
    };
    writer
        .run(async |tx| {
            let row = insert_in(tx.conn(), input, opener).await?;
            tx.publish(event(&row, Change::Opened, Audience::Public));
            Ok(row)
        })
        .await
}

/// Inserts an already validated interaction.
async fn insert_in(
    txn: &impl ConnectionTrait,
    input: NewInteraction,
    opener: Opener,
) -> Result<interaction::Model> {
    let customer = match opener {
        Opener::Itself { .. } => author(txn, input.customer_id, Author::Customer).await?,
        Opener::Employee(employee) => {
            author(txn, employee, Author::Internal).await?;
            open_record(txn, input.customer_id).await?
        }
    };
    let dept = department(txn, input.department_id).await?;
    if opener == (Opener::Itself { outsider: true }) && !dept.serves_external {
        // Internal departments do not exist for outsiders: same answer as a missing one.
        return Err(Error::NotFound { what: "department" });
    }
    if let Some(handler) = input.handler_id {
        require_employee(txn, handler, "input.handlerId").await?;
    }
    if let Some(related) = input.related_to_id
        && interaction::Entity::find_by_id(related)
            .one(txn)
            .await?
            .is_none()
    {
        return Err(Error::bad_input("input.relatedToId", "no such interaction"));
    }
    let now = Utc::now();
    let due = match input.sla_due_at {
        Some(due) if due <= now => {
            return Err(Error::bad_input("input.slaDueAt", "must be in the future"));
        }
        Some(due) => due,
        None => due_at(txn, &customer, dept.id, now).await?,
    };
    let row = interaction::ActiveModel {
        customer_id: Set(customer.id),
        department_id: Set(dept.id),
        handler_id: Set(input.handler_id),
        channel: Set(input.channel),
        kind: Set(input.kind),
        subject: Set(input.subject),
        summary: Set(input.summary),
        internal_note: Set(input.internal_note),
        status: Set(if input.handler_id.is_some() {
            InteractionStatus::InProgress
        } else {
            InteractionStatus::Open
        }),
        opened_at: Set(now),
        resolved_at: Set(None),
        sla_due_at: Set(Some(due)),
        satisfaction: Set(None),
        nps: Set(None),
        rated_at: Set(None),
        related_to_id: Set(input.related_to_id),
        version: Set(1),
        updated_at: Set(now),
        public_version: Set(1),
        public_updated_at: Set(now),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    Ok(row)
}

/// What a message on an interaction is: who may read it, and so where it is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageKind {
    /// A public reply, in `interaction_message`: the customer reads it.
    Reply,
    /// An internal note, in `internal_note` (its own id sequence): only employees read it.
    InternalNote,
}

/// Adds a public reply or an internal note, on an interaction inside `scope`; returns the
/// entry as the conversation shows it and the interaction's customer id.
pub async fn add_message(
    writer: &Writer,
    scope: OwnerScope,
    author_id: i32,
    interaction_id: i32,
    body: &str,
    kind: MessageKind,
) -> Result<(interaction_thread::Model, i32)> {
    let body = validate::text("body", body, MAX_BODY)?;
    writer
        .run(async |tx| add_message_in(tx, scope, author_id, interaction_id, body, kind).await)
        .await
}

async fn add_message_in(
    tx: &Tx,
    scope: OwnerScope,
    author_id: i32,
    interaction_id: i32,
    body: String,
    kind: MessageKind,
) -> Result<(interaction_thread::Model, i32)> {
    let txn = tx.conn();
    let needs = match kind {
        MessageKind::InternalNote => Author::Internal,
        MessageKind::Reply => Author::Customer,
    };
    author(txn, author_id, needs).await?;
    let row = in_scope(txn, scope, interaction_id).await?;
    open_record(txn, row.customer_id).await?;
    let now = Utc::now();
    let entry = insert_message(txn, row.id, author_id, body, now, kind).await?;
    // A message changes no field and no version; it moves the change time of its audience.
    let (change, visible_to) = match kind {
        MessageKind::InternalNote => (Change::NoteAdded, Audience::Internal),
        MessageKind::Reply => (Change::Replied, Audience::Public),
    };
    let mut changes = <interaction::ActiveModel as Default>::default();
    stamp(&mut changes, now, visible_to);
    interaction::Entity::update_many()
        .set(changes)
        .filter(interaction::Column::Id.eq(row.id))
        .exec(txn)
        .await?;
    tx.publish(event(&row, change, visible_to));
    Ok((entry, row.customer_id))
}

/// Stores a message in the table of its kind.
async fn insert_message(
    txn: &impl ConnectionTrait,
    interaction_id: i32,
    author_id: i32,
    body: String,
    created_at: DateTime<Utc>,
    kind: MessageKind,
) -> Result<interaction_thread::Model> {
    Ok(match kind {
        MessageKind::Reply => interaction_message::ActiveModel {
            interaction_id: Set(interaction_id),
            author_id: Set(author_id),
            body: Set(body),
            created_at: Set(created_at),
            ..Default::default()
        }
        .insert(txn)
        .await?
        .into(),
        MessageKind::InternalNote => internal_note::ActiveModel {
            interaction_id: Set(interaction_id),
            author_id: Set(author_id),
            body: Set(body),
            created_at: Set(created_at),
            ..Default::default()
        }
        .insert(txn)
        .await?
        .into(),
    })
}

/// A change an employee makes to an interaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    /// Hand it to an employee; an open interaction becomes in progress.
    Assign(i32),
    /// Mark it resolved now.
    Resolve,
    /// Open a resolved or closed one again.
    Reopen,
    /// Archive a resolved one.
    Close,
}

/// Applies a [`Transition`] if the interaction is still at `expected` version.
pub async fn transition(
    writer: &Writer,
    id: i32,
    expected: i32,
    change: Transition,
) -> Result<interaction::Model> {
    writer
        .run(async |tx| transition_in(tx, id, expected, change).await)
        .await
}

async fn transition_in(
    tx: &Tx,
    id: i32,
    expected: i32,
    change: Transition,
) -> Result<interaction::Model> {
    use InteractionStatus::*;
    let txn = tx.conn();
    let row = interaction::Entity::find_by_id(id)
        .one(txn)
        .await?
        .ok_or(Error::NotFound {
            what: "interaction",
        })?;
    let now = Utc::now();
    let mut am = <interaction::ActiveModel as Default>::default();
    // Every step changes the status the customer sees, except handing an interaction that is
    // already in progress to another employee.
    let visible_to = match change {
        Transition::Assign(_) if row.status != Open => Audience::Internal,
        _ => Audience::Public,
    };
    stamp(&mut am, now, visible_to);
    match change {
        Transition::Assign(handler) => {
            require_employee(txn, handler, "handlerId").await?;
            am.handler_id = Set(Some(handler));
            if row.status == Open {
                am.status = Set(InProgress);
            }
        }
        Transition::Resolve => {
            if !matches!(row.status, Open | InProgress) {
                return Err(wrong_status("an open", "resolved"));
            }
            am.status = Set(Resolved);
            am.resolved_at = Set(Some(now));
        }
        Transition::Reopen => {
            if !matches!(row.status, Resolved | Closed) {
                return Err(wrong_status("a resolved or closed", "reopened"));
            }
            am.status = Set(Open);
            am.resolved_at = Set(None);
        }
        Transition::Close => {
            if row.status != Resolved {
                return Err(wrong_status("a resolved", "closed"));
            }
            am.status = Set(Closed);
        }
    }
    apply(tx, am, id, expected, visible_to).await
}

fn wrong_status(allowed: &'static str, action: &'static str) -> Error {
    Error::Conflict(Conflict::WrongStatus { allowed, action })
}

/// A client rates its own resolved interaction, once.
pub async fn rate(
    writer: &Writer,
    scope: OwnerScope,
    id: i32,
    satisfaction: i32,
    nps: Option<i32>,
) -> Result<interaction::Model> {
    let satisfaction = validate::within("satisfaction", satisfaction, 1, 5)?;
    let nps = nps.map(|n| validate::within("nps", n, 0, 10)).transpose()?;
    writer
        .run(async |tx| rate_in(tx, scope, id, satisfaction, nps).await)
        .await
}

async fn rate_in(
    tx: &Tx,
    scope: OwnerScope,
    id: i32,
    satisfaction: i32,
    nps: Option<i32>,
) -> Result<interaction::Model> {
    let txn = tx.conn();
    let row = in_scope(txn, scope, id).await?;
    open_record(txn, row.customer_id).await?;
    if !matches!(
        row.status,
        InteractionStatus::Resolved | InteractionStatus::Closed
    ) {
        return Err(wrong_status("a resolved", "rated"));
    }
    if row.satisfaction.is_some() {
        return Err(Error::Conflict(Conflict::AlreadyRated));
    }
    // Rating is idempotent-safe without a version: the guard is "not yet rated".
    let now = Utc::now();
    let mut changes = interaction::ActiveModel {
        satisfaction: Set(Some(satisfaction)),
        nps: Set(nps),
        rated_at: Set(Some(now)),
        ..Default::default()
    };
    stamp(&mut changes, now, Audience::Public);
    let result = interaction::Entity::update_many()
        .set(changes)
        .col_expr(
            interaction::Column::Version,
            Expr::col(interaction::Column::Version).add(1),
        )
        .col_expr(
            interaction::Column::PublicVersion,
            Expr::col(interaction::Column::PublicVersion).add(1),
        )
        .filter(interaction::Column::Id.eq(id))
        .filter(interaction::Column::Satisfaction.is_null())
        .exec(txn)
        .await?;
    if result.rows_affected == 0 {
        return Err(Error::Conflict(Conflict::AlreadyRated));
    }
    let row = reload(txn, id).await?;
    tx.publish(event(&row, Change::Rated, Audience::Public));
    Ok(row)
}

/// Applies an employee's `changes` to interaction `id` at (internal) version `expected` and
/// announces them to `visible_to`.
async fn apply(
    tx: &Tx,
    changes: interaction::ActiveModel,
    id: i32,
    expected: i32,
    visible_to: Audience,
) -> Result<interaction::Model> {
    let txn = tx.conn();
    versioned::update::<interaction::Entity, _>(
        txn,
        changes,
        Counters {
            id: interaction::Column::Id,
            version: interaction::Column::Version,
            public_version: Some(interaction::Column::PublicVersion),
        },
        id,
        Expected::internal(expected),
        visible_to,
        "interaction",
    )
    .await?;
    let row = reload(txn, id).await?;
    tx.publish(event(&row, Change::Updated, visible_to));
    Ok(row)
}

/// An interaction inside `scope`, or NOT_FOUND (the same answer as for a missing one).
async fn in_scope(
    db: &impl ConnectionTrait,
    scope: OwnerScope,
    id: i32,
) -> Result<interaction::Model> {
    super::interaction::scoped(scope)
        .filter(interaction::Column::Id.eq(id))
        .one(db)
        .await?
        .ok_or(Error::NotFound {
            what: "interaction",
        })
}

/// Fails with BAD_USER_INPUT on `field` unless `id` is an employee (internal, in a department).
async fn require_employee(db: &impl ConnectionTrait, id: i32, field: &str) -> Result<()> {
    let employee = customer::Entity::find_by_id(id).one(db).await?;
    if employee.is_some_and(|e| e.kind == CustomerKind::Internal && e.department_id.is_some()) {
        Ok(())
    } else {
        Err(Error::bad_input(field, "is not an employee"))
    }
}

async fn reload(db: &impl ConnectionTrait, id: i32) -> Result<interaction::Model> {
    interaction::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(Error::NotFound {
            what: "interaction",
        })
}

/// Links interaction `id` (at `expected` version) to the interaction that caused it.
pub async fn link(
    writer: &Writer,
    id: i32,
    expected: i32,
    related_to: i32,
) -> Result<interaction::Model> {
    if id == related_to {
        return Err(Error::bad_input(
            "relatedToId",
            "an interaction cannot cause itself",
        ));
    }
    writer
        .run(async |tx| link_in(tx, id, expected, related_to).await)
        .await
}

async fn link_in(tx: &Tx, id: i32, expected: i32, related_to: i32) -> Result<interaction::Model> {
    let txn = tx.conn();
    if interaction::Entity::find_by_id(id)
        .one(txn)
        .await?
        .is_none()
    {
        return Err(Error::NotFound {
            what: "interaction",
        });
    }
    if interaction::Entity::find_by_id(related_to)
        .one(txn)
        .await?
        .is_none()
    {
        return Err(Error::bad_input("relatedToId", "no such interaction"));
    }
    // What caused an interaction is internal knowledge: the customer sees nothing move.
    let mut am = interaction::ActiveModel {
        related_to_id: Set(Some(related_to)),
        ..Default::default()
    };
    stamp(&mut am, Utc::now(), Audience::Internal);
    apply(tx, am, id, expected, Audience::Internal).await
}
