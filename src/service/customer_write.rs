//! Writes on customers: employees create and update any customer; every signed-in caller
//! updates its own contact details. Updates are optimistic-locked.

use chrono::{NaiveDate, Utc};
use entity::{
    customer, department,
    enums::{CustomerKind, CustomerStatus, Segment},
};
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::{self, Set},
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
};

use super::{
    customer::{Author, author, refuse_erased},
    email_change, validate,
    versioned::{self, Counters, Expected},
    write::Writer,
};
use crate::{Conflict, Error, Result, policy::Audience};

/// Fields of a new customer.
#[derive(Debug, Clone)]
pub struct NewCustomer {
    /// Segment; the kind follows from it.
    pub segment: Segment,
    /// Full name.
    pub name: String,
    /// Organisation.
    pub organization: Option<String>,
    /// Contact e-mail, unique.
    pub email: String,
    /// Contact phone.
    pub phone: Option<String>,
    /// Relationship status.
    pub status: CustomerStatus,
    /// Notes for employees.
    pub internal_notes: Option<String>,
    /// Department, for employees.
    pub department_id: Option<i32>,
    /// Job title, for employees.
    pub title: Option<String>,
    /// Hire date, for employees.
    pub hire_date: Option<NaiveDate>,
}

/// Changes to a customer; `None` leaves a field as it is, an empty text clears it.
#[derive(Debug, Clone, Default)]
pub struct CustomerPatch {
    /// New segment (must keep the kind).
    pub segment: Option<Segment>,
    /// New name.
    pub name: Option<String>,
    /// New organisation.
    pub organization: Option<String>,
    /// New e-mail.
    pub email: Option<String>,
    /// New phone.
    pub phone: Option<String>,
    /// New status.
    pub status: Option<CustomerStatus>,
    /// New internal notes.
    pub internal_notes: Option<String>,
    /// New department.
    pub department_id: Option<i32>,
    /// New title.
    pub title: Option<String>,
}

async fn check_department(db: &impl ConnectionTrait, id: Option<i32>, field: &str) -> Result<()> {
    if let Some(id) = id
        && department::Entity::find_by_id(id).one(db).await?.is_none()
    {
        return Err(Error::bad_input(field, "no such department"));
    }
    Ok(())
}

/// Creates a customer.
pub async fn create(writer: &Writer, input: NewCustomer) -> Result<customer::Model> {
    let kind = input.segment.kind();
    if kind == CustomerKind::External && input.department_id.is_some() {
        return Err(Error::bad_input(
            "input.departmentId",
            "only internal customers belong to a department",
        ));
    }
    let now = Utc::now();
    let row = customer::ActiveModel {
        kind: Set(kind),
        segment: Set(input.segment),
        name: Set(validate::text("input.name", &input.name, 200)?),
        organization: Set(validate::optional_text(
            "input.organization",
            input.organization.as_deref(),
            200,
        )?),
        email: Set(validate::email("input.email", &input.email)?),
        phone: Set(validate::optional_text(
            "input.phone",
            input.phone.as_deref(),
            40,
        )?),
        status: Set(input.status),
        customer_since: Set(now),
        lifetime_value_cents: Set(0),
        health_score: Set(70),
        internal_notes: Set(validate::optional_text(
            "input.internalNotes",
            input.internal_notes.as_deref(),
            5000,
        )?),
        department_id: Set(input.department_id),
        title: Set(validate::optional_text(
            "input.title",
            input.title.as_deref(),
            120,
        )?),
        hire_date: Set(input
            .hire_date
            .map(|d| validate::date("input.hireDate", d))
            .transpose()?),
        version: Set(1),
        public_version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    };
    writer
        .run(async |tx| {
            check_department(tx.conn(), input.department_id, "input.departmentId").await?;
            row.insert(tx.conn())
                .await
                .map_err(versioned::duplicate_as(Conflict::EmailUnavailable))
        })
        .await
}

/// Who edits a customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Editor {
    /// The customer itself (its contact details).
    Itself,
    /// An employee.
    Employee,
}

/// An employee updates customer `id` if it is still at (internal) version `expected`.
pub async fn update(
    writer: &Writer,
    id: i32,
    expected: i32,
    patch: CustomerPatch,
) -> Result<customer::Model> {
    let expected = Expected::internal(expected);
    writer
        .run(async |tx| update_in(tx.conn(), Editor::Employee, id, expected, patch).await)
        .await
}

async fn update_in(
    db: &impl ConnectionTrait,
    editor: Editor,
    id: i32,
    expected: Expected,
    patch: CustomerPatch,
) -> Result<customer::Model> {
    let current = match editor {
        Editor::Itself => author(db, id, Author::Customer).await?,
        Editor::Employee => customer::Entity::find_by_id(id)
            .one(db)
            .await?
            .ok_or(Error::NotFound { what: "customer" })?,
    };
    // No lock needed: a concurrent erasure bumps both versions, so this update then fails as
    // stale.
    refuse_erased(&current)?;
    // A stale version is answered before anything else is looked at, so the answer to a
    // request that was never going to be applied says nothing about other customers' data.
    let read = match expected.audience {
        Audience::Public => current.public_version,
        Audience::Internal => current.version,
    };
    if read != expected.version {
        return Err(versioned::stale("customer", id, expected.version));
    }
    let mut am = customer::ActiveModel {
        updated_at: Set(Utc::now()),
        ..Default::default()
    };
    if let Some(segment) = patch.segment {
        if segment.kind() != current.kind {
            return Err(Error::bad_input(
                "input.segment",
                "must belong to the customer's kind",
            ));
        }
        am.segment = Set(segment);
    }
    if let Some(name) = &patch.name {
        am.name = Set(validate::text("input.name", name, 200)?);
    }
    if let Some(org) = &patch.organization {
        am.organization = Set(validate::optional_text(
            "input.organization",
            Some(org),
            200,
        )?);
    }
    if let Some(email) = &patch.email {
        let email = validate::email("input.email", email)?;
        match editor {
            // The customer's own change waits for the new address to confirm it, so the
            // answer is the same whether or not the address is someone else's.
            Editor::Itself if email != current.email => {
                email_change::request(db, id, &email, Utc::now()).await?;
            }
            Editor::Itself => {}
            Editor::Employee => {
                refuse_taken(db, id, &email).await?;
                am.email = Set(email);
            }
        }
    }
    if let Some(phone) = &patch.phone {
        am.phone = Set(validate::optional_text("input.phone", Some(phone), 40)?);
    }
    if let Some(status) = patch.status {
        am.status = Set(status);
    }
    if let Some(notes) = &patch.internal_notes {
        am.internal_notes = Set(validate::optional_text(
            "input.internalNotes",
            Some(notes),
            5000,
        )?);
    }
    if let Some(dept) = patch.department_id {
        if current.kind == CustomerKind::External {
            return Err(Error::bad_input(
                "input.departmentId",
                "only internal customers belong to a department",
            ));
        }
        check_department(db, Some(dept), "input.departmentId").await?;
        am.department_id = Set(Some(dept));
    }
    if let Some(title) = &patch.title {
        am.title = Set(validate::optional_text("input.title", Some(title), 120)?);
    }
    let visible_to = if touches_public(&current, &am) {
        Audience::Public
    } else {
        Audience::Internal
    };
    versioned::update::<customer::Entity, _>(
        db,
        am,
        Counters {
            id: customer::Column::Id,
            version: customer::Column::Version,
            public_version: Some(customer::Column::PublicVersion),
        },
        id,
        expected,
        visible_to,
        "customer",
    )
    .await
    .map_err(versioned::duplicate_as(Conflict::EmailUnavailable))?;
    customer::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(Error::NotFound { what: "customer" })
}

/// Refuses an address another customer holds (employees only: they may see every customer).
async fn refuse_taken(db: &impl ConnectionTrait, id: i32, email: &str) -> Result<()> {
    let taken = customer::Entity::find()
        .filter(customer::Column::Email.eq(email))
        .filter(customer::Column::Id.ne(id))
        .one(db)
        .await?;
    match taken {
        Some(_) => Err(Error::Conflict(Conflict::EmailUnavailable)),
        None => Ok(()),
    }
}

/// Whether `changes` alter a field the customer itself sees (its version is then bumped).
fn touches_public(current: &customer::Model, changes: &customer::ActiveModel) -> bool {
    fn differs<T>(change: &ActiveValue<T>, current: &T) -> bool
    where
        T: PartialEq + Into<sea_orm::Value>,
    {
        matches!(change, ActiveValue::Set(new) if new != current)
    }
    differs(&changes.segment, &current.segment)
        || differs(&changes.name, &current.name)
        || differs(&changes.organization, &current.organization)
        || differs(&changes.email, &current.email)
        || differs(&changes.phone, &current.phone)
        || differs(&changes.status, &current.status)
}

/// Updates the caller's own contact details: the only customer fields a client may change.
/// `expected` is the version the caller read, in its own audience's numbering. A new e-mail
/// is not applied here but asked for ([`email_change`]): it takes effect when confirmed.
pub async fn update_contact(
    writer: &Writer,
    own_id: i32,
    expected: Expected,
    email: Option<String>,
    phone: Option<String>,
    organization: Option<String>,
) -> Result<customer::Model> {
    let patch = CustomerPatch {
        email,
        phone,
        organization,
        ..Default::default()
    };
    writer
        .run(async |tx| update_in(tx.conn(), Editor::Itself, own_id, expected, patch).await)
        .await
}
