//! Privacy duties: a caller's export of the data held about it, and a manager's erasure of a
//! customer's personal data.
//!
//! The export holds what the caller's own scope (from [`crate::policy::export_scope`]) shows of
//! its records, no more: a client's export is what the client could read field by field, so it
//! never carries an internal note, a health score or a service-level flag.
//!
//! Erasure keeps every row and blanks the personal fields: counts, ratings, purchases and
//! response times (every aggregate) stay what they were, while names, contact details, notes
//! and message texts become a tombstone. The e-mail becomes `erased-<random>@erased.invalid`:
//! unique, so the uniqueness rule still holds, and out of every caller's reach. Nobody can
//! guess it (so nobody can take it first and block an erasure, nor probe for it to learn who
//! was erased), and nobody can type it: input e-mails under `.invalid` are refused.

use chrono::{DateTime, Utc};
use entity::{
    customer, department, department_feedback, interaction, interaction_message, internal_note,
    morale_pulse, product, purchase,
};
use sea_orm::{
    ActiveEnum,
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    sea_query::{Expr, ExprTrait, Query, SelectStatement},
};
use serde_json::{Value, json};

use super::{
    department as departments,
    events::{Change, InteractionEvent},
    interaction as interactions, product as products,
    versioned::{self, Counters, Expected},
    write::{Tx, Writer},
};
use crate::{
    Conflict, Error, Result,
    policy::{Audience, ExportScope},
};

/// What replaces erased free text (subjects, summaries, message bodies, notes).
pub const TOMBSTONE: &str = "[erased]";
/// What replaces an erased customer's name.
pub const ERASED_NAME: &str = "Erased customer";
/// Names the export's layout, so a saved file says how to read it.
pub const EXPORT_FORMAT: &str = "crm-gateway.export.v1";

/// A fresh tombstone e-mail: 128 random bits, so unique without naming the customer, and under
/// `.invalid` (reserved, RFC 2606), which [`super::validate::email`] refuses from any input.
pub fn erased_email() -> String {
    format!("erased-{:032x}@erased.invalid", rand::random::<u128>())
}

/// Everything the caller's scope shows about itself, as one JSON document.
pub async fn export(db: &DatabaseConnection, scope: ExportScope) -> Result<Value> {
    let id = scope.customer_id;
    let me = customer::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(Error::NotFound { what: "customer" })?;
    // An erased customer's token names nobody (authentication stops accepting it once its
    // cached subject expires); the export says so at once rather than hand out a tombstone.
    if me.erased_at.is_some() {
        return Err(Error::Unauthenticated(
            "this token's subject no longer exists".into(),
        ));
    }
    let mut document = json!({
        "format": EXPORT_FORMAT,
        "exportedAt": Utc::now(),
        "customer": customer_json(&me, scope.audience),
        "interactions": interactions_json(db, scope).await?,
        "purchases": purchases_json(db, scope).await?,
    });
    if scope.audience == Audience::Internal {
        document["moralePulses"] = pulses_json(db, id).await?;
        document["departmentFeedbackGiven"] = feedback_json(db, id).await?;
    }
    Ok(document)
}

/// Adds the fields only `Audience::Internal` may read to `object`.
fn with_internal(mut object: Value, audience: Audience, internal: Value) -> Value {
    if audience == Audience::Internal
        && let (Some(out), Value::Object(extra)) = (object.as_object_mut(), internal)
    {
        out.extend(extra);
    }
    object
}

fn customer_json(c: &customer::Model, audience: Audience) -> Value {
    let version = match audience {
        Audience::Public => c.public_version,
        Audience::Internal => c.version,
    };
    let public = json!({
        "id": c.id.to_string(), "kind": schema_name(c.kind), "segment": schema_name(c.segment),
        "name": c.name, "organization": c.organization, "email": c.email, "phone": c.phone,
        "status": schema_name(c.status), "customerSince": c.customer_since, "version": version,
    });
    with_internal(
        public,
        audience,
        json!({
            "lifetimeValue": cents(c.lifetime_value_cents), "healthScore": c.health_score,
            "internalNotes": c.internal_notes, "title": c.title, "hireDate": c.hire_date,
            "departmentId": c.department_id.map(|d| d.to_string()),
        }),
    )
}

async fn interactions_json(db: &DatabaseConnection, scope: ExportScope) -> Result<Value> {
    let rows = interaction::Entity::find()
        .filter(interaction::Column::CustomerId.eq(scope.customer_id))
        .order_by_asc(interaction::Column::Id)
        .all(db)
        .await?;
    let depts = departments::among(
        db,
        scope.departments,
        owned(
            interaction::Column::DepartmentId,
            interaction::Column::CustomerId,
            scope.customer_id,
        ),
    )
    .await?;
    let thread = interactions::messages(scope.notes)
        .select
        .filter(
            entity::interaction_thread::Column::InteractionId
                .in_subquery(interactions_of(scope.customer_id)),
        )
        .order_by_asc(entity::interaction_thread::Column::CreatedAt)
        .order_by_asc(entity::interaction_thread::Column::ThreadKey)
        .all(db)
        .await?;
    let out = rows.iter().map(|row| {
        let dept = depts.iter().find(|d| d.id == row.department_id);
        let messages: Vec<Value> = thread
            .iter()
            .filter(|m| m.interaction_id == row.id)
            .map(|m| {
                with_internal(
                    json!({ "body": m.body, "createdAt": m.created_at,
                            "fromCustomer": m.author_id == row.customer_id }),
                    scope.audience,
                    json!({ "internal": m.internal, "authorId": m.author_id.to_string() }),
                )
            })
            .collect();
        interaction_json(row, dept, messages, scope.audience)
    });
    Ok(Value::Array(out.collect()))
}

fn interaction_json(
    row: &interaction::Model,
    dept: Option<&department::Model>,
    messages: Vec<Value>,
    audience: Audience,
) -> Value {
    let version = match audience {
        Audience::Public => row.public_version,
        Audience::Internal => row.version,
    };
    let public = json!({
        "id": row.id.to_string(), "channel": schema_name(row.channel),
        "kind": schema_name(row.kind), "subject": row.subject, "summary": row.summary,
        "status": schema_name(row.status),
        "openedAt": row.opened_at, "resolvedAt": row.resolved_at,
        "satisfaction": row.satisfaction, "nps": row.nps, "ratedAt": row.rated_at,
        "version": version,
        "department": dept.map(|d| json!({ "id": d.id.to_string(), "name": d.name })),
        "messages": messages,
    });
    with_internal(
        public,
        audience,
        json!({
            "handlerId": row.handler_id.map(|h| h.to_string()),
            "internalNote": row.internal_note, "slaDueAt": row.sla_due_at,
            "relatedToId": row.related_to_id.map(|r| r.to_string()),
        }),
    )
}

async fn purchases_json(db: &DatabaseConnection, scope: ExportScope) -> Result<Value> {
    let rows = purchase::Entity::find()
        .filter(purchase::Column::CustomerId.eq(scope.customer_id))
        .order_by_asc(purchase::Column::Id)
        .all(db)
        .await?;
    let known: Vec<product::Model> = products::among(
        db,
        scope.products,
        owned(
            purchase::Column::ProductId,
            purchase::Column::CustomerId,
            scope.customer_id,
        ),
    )
    .await?;
    Ok(rows
        .iter()
        .map(|p| {
            let product = known.iter().find(|k| k.id == p.product_id);
            json!({
                "id": p.id.to_string(), "quantity": p.quantity,
                "unitPrice": cents(p.unit_price_cents), "total": cents(p.total_cents),
                "purchasedAt": p.purchased_at,
                "product": product.map(|k| json!({ "id": k.id.to_string(), "name": k.name })),
            })
        })
        .collect())
}

async fn pulses_json(db: &DatabaseConnection, employee: i32) -> Result<Value> {
    let rows = morale_pulse::Entity::find()
        .filter(morale_pulse::Column::EmployeeId.eq(employee))
        .order_by_asc(morale_pulse::Column::Week)
        .all(db)
        .await?;
    Ok(rows
        .iter()
        .map(|p| json!({ "week": p.week, "score": p.score, "comment": p.comment }))
        .collect())
}

async fn feedback_json(db: &DatabaseConnection, author: i32) -> Result<Value> {
    let rows = department_feedback::Entity::find()
        .filter(department_feedback::Column::AuthorId.eq(author))
        .order_by_asc(department_feedback::Column::Id)
        .all(db)
        .await?;
    Ok(rows
        .iter()
        .map(|f| {
            json!({ "toDepartmentId": f.to_department_id.to_string(), "score": f.score,
                    "comment": f.comment, "givenAt": f.created_at })
        })
        .collect())
}

/// `SELECT column FROM <its table> WHERE owner = customer_id`: the ids a customer's rows point
/// at, as a subquery. A customer may own any number of rows, more than a statement can bind as
/// parameters (65 535 on PostgreSQL), so lists of its ids are never sent back to the database.
fn owned<C: ColumnTrait>(column: C, owner: C, customer_id: i32) -> SelectStatement {
    Query::select()
        .column(column)
        .from(column.entity_name())
        .and_where(owner.eq(customer_id))
        .to_owned()
}

/// The ids of customer `customer_id`'s interactions, as a subquery.
fn interactions_of(customer_id: i32) -> SelectStatement {
    owned(
        interaction::Column::Id,
        interaction::Column::CustomerId,
        customer_id,
    )
}

/// An enum value as the schema spells it (`IN_PROGRESS`, not the Rust `InProgress`): the stored
/// value, which every enum of the schema shares, so the export reads like the API.
fn schema_name<E: ActiveEnum<Value = String>>(value: E) -> String {
    value.to_value()
}

/// Money as the schema shows it: units, not cents.
fn cents(value: i64) -> f64 {
    value as f64 / 100.0
}

/// What an erasure changed, for the caller and the audit.
#[derive(Debug, Clone)]
pub struct Erasure {
    /// The customer, as it is now (tombstoned).
    pub customer: customer::Model,
    /// How many of its interactions were blanked.
    pub interactions: usize,
}

/// Replaces customer `id`'s personal data with a tombstone if it is still at (internal)
/// version `expected`; `manager` is recorded in the access audit as the one who erased it.
/// Erasing an erased customer is refused with `CONFLICT` (`ERASED`): the first erasure is
/// final and a second one would change nothing.
pub async fn erase(writer: &Writer, manager: i32, id: i32, expected: i32) -> Result<Erasure> {
    writer
        .run(async |tx| erase_in(tx, manager, id, expected).await)
        .await
}

async fn erase_in(tx: &Tx, manager: i32, id: i32, expected: i32) -> Result<Erasure> {
    let txn = tx.conn();
    let current = customer::Entity::find_by_id(id)
        .one(txn)
        .await?
        .ok_or(Error::NotFound { what: "customer" })?;
    if current.erased_at.is_some() {
        return Err(Error::Conflict(Conflict::Erased));
    }
    let now = Utc::now();
    let tombstone = customer::ActiveModel {
        name: Set(ERASED_NAME.into()),
        organization: Set(None),
        email: Set(erased_email()),
        phone: Set(None),
        internal_notes: Set(None),
        title: Set(None),
        hire_date: Set(None),
        erased_at: Set(Some(now)),
        updated_at: Set(now),
        ..Default::default()
    };
    let counters = Counters {
        id: customer::Column::Id,
        version: customer::Column::Version,
        public_version: Some(customer::Column::PublicVersion),
    };
    versioned::update(
        txn,
        tombstone,
        counters,
        id,
        Expected::internal(expected),
        Audience::Public,
        "customer",
    )
    .await?;
    let blanked = blank_interactions(txn, id, now).await?;
    blank_voice(txn, id).await?;
    super::email_change::forget(txn, id).await?;
    record(txn, manager, id, now).await?;
    // An erased customer's tokens stop working everywhere as soon as this commits.
    tx.lapse_subject(id);
    for row in &blanked {
        // Ids only: subscribers re-read the (tombstoned) row under their own scope.
        tx.publish(InteractionEvent {
            visible_to: Audience::Internal,
            interaction_id: row.id,
            customer_id: row.customer_id,
            department_id: row.department_id,
            change: Change::Erased,
        });
    }
    let customer = customer::Entity::find_by_id(id)
        .one(txn)
        .await?
        .ok_or(Error::NotFound { what: "customer" })?;
    Ok(Erasure {
        customer,
        interactions: blanked.len(),
    })
}

/// Blanks the texts of the customer's interactions, their messages and the notes on them;
/// statuses, times and ratings stay, so every figure computed from them does too.
async fn blank_interactions(
    txn: &impl ConnectionTrait,
    customer_id: i32,
    now: DateTime<Utc>,
) -> Result<Vec<interaction::Model>> {
    let rows = interaction::Entity::find()
        .filter(interaction::Column::CustomerId.eq(customer_id))
        .all(txn)
        .await?;
    if rows.is_empty() {
        return Ok(rows);
    }
    interaction::Entity::update_many()
        .col_expr(interaction::Column::Subject, Expr::value(TOMBSTONE))
        .col_expr(interaction::Column::Summary, Expr::value(TOMBSTONE))
        .col_expr(
            interaction::Column::InternalNote,
            Expr::value(Option::<String>::None),
        )
        .col_expr(
            interaction::Column::Version,
            Expr::col(interaction::Column::Version).add(1),
        )
        .col_expr(
            interaction::Column::PublicVersion,
            Expr::col(interaction::Column::PublicVersion).add(1),
        )
        .col_expr(interaction::Column::UpdatedAt, Expr::value(now))
        .col_expr(interaction::Column::PublicUpdatedAt, Expr::value(now))
        .filter(interaction::Column::CustomerId.eq(customer_id))
        .exec(txn)
        .await?;
    interaction_message::Entity::update_many()
        .col_expr(interaction_message::Column::Body, Expr::value(TOMBSTONE))
        .filter(
            interaction_message::Column::InteractionId.in_subquery(interactions_of(customer_id)),
        )
        .exec(txn)
        .await?;
    internal_note::Entity::update_many()
        .col_expr(internal_note::Column::Body, Expr::value(TOMBSTONE))
        .filter(internal_note::Column::InteractionId.in_subquery(interactions_of(customer_id)))
        .exec(txn)
        .await?;
    Ok(rows)
}

/// Blanks the comments an employee left in pulses and feedback; the scores stay (they are
/// only ever shown as anonymous aggregates).
async fn blank_voice(txn: &impl ConnectionTrait, author: i32) -> Result<()> {
    morale_pulse::Entity::update_many()
        .col_expr(
            morale_pulse::Column::Comment,
            Expr::value(Option::<String>::None),
        )
        .filter(morale_pulse::Column::EmployeeId.eq(author))
        .exec(txn)
        .await?;
    department_feedback::Entity::update_many()
        .col_expr(
            department_feedback::Column::Comment,
            Expr::value(Option::<String>::None),
        )
        .filter(department_feedback::Column::AuthorId.eq(author))
        .exec(txn)
        .await?;
    Ok(())
}

/// The access-audit entry of an erasure, written in the erasure's own transaction so that it
/// exists exactly when the erasure does.
async fn record(
    txn: &impl ConnectionTrait,
    manager: i32,
    erased: i32,
    at: DateTime<Utc>,
) -> Result<()> {
    let entry = entity::access_audit::ActiveModel {
        customer_id: Set(manager),
        role: Set(crate::auth::Role::Manager.as_claim().to_owned()),
        operation_name: Set(Some("eraseCustomer".into())),
        fields: Set(format!("Mutation.eraseCustomer,Customer:{erased}")),
        requested_at: Set(at),
        ..Default::default()
    };
    entity::access_audit::Entity::insert(entry)
        .exec(txn)
        .await?;
    Ok(())
}
