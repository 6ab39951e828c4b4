//! Writes on the org chart, for managers: departments and the service agreements between them.

use chrono::Utc;
use entity::{customer, department, enums::CustomerKind, service_agreement};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
};

use super::{
    validate,
    versioned::{self, Counters, Expected},
    write::{Serial, Writer},
};
use crate::{Conflict, Error, Result, policy::Audience};

/// Fields of a department; on update `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct DepartmentInput {
    /// Name, unique.
    pub name: Option<String>,
    /// What it does.
    pub description: Option<String>,
    /// Parent department.
    pub parent_id: Option<i32>,
    /// Heading employee.
    pub head_id: Option<i32>,
    /// Whether external customers can reach it.
    pub serves_external: Option<bool>,
    /// Yearly budget, in cents.
    pub budget_cents: Option<i64>,
}

/// Fails unless `parent` exists and is not `id` or below it. Run it after taking the
/// [`Serial::OrgChart`] turn: two re-parentings checked side by side could each pass and
/// together close a cycle.
async fn check_parent(db: &impl ConnectionTrait, id: Option<i32>, parent: i32) -> Result<()> {
    // Walk up from the new parent: reaching `id` would make the org chart a cycle.
    let mut cursor = Some(parent);
    let mut steps = 0;
    while let Some(current) = cursor {
        if Some(current) == id {
            return Err(Error::bad_input(
                "input.parentId",
                "would make the department its own ancestor",
            ));
        }
        let row = department::Entity::find_by_id(current)
            .one(db)
            .await?
            .ok_or_else(|| Error::bad_input("input.parentId", "no such department"))?;
        cursor = row.parent_id;
        steps += 1;
        if steps > 1000 {
            return Err(Error::internal("org chart", "parent chain too long"));
        }
    }
    Ok(())
}

async fn check_head(db: &impl ConnectionTrait, head: i32) -> Result<()> {
    let employee = customer::Entity::find_by_id(head).one(db).await?;
    if employee.is_some_and(|e| e.kind == CustomerKind::Internal) {
        Ok(())
    } else {
        Err(Error::bad_input(
            "input.headId",
            "is not an internal customer",
        ))
    }
}

/// Creates a department.
pub async fn create_department(
    writer: &Writer,
    input: DepartmentInput,
) -> Result<department::Model> {
    let name = validate::text("input.name", input.name.as_deref().unwrap_or(""), 120)?;
    let description = validate::text(
        "input.description",
        input.description.as_deref().unwrap_or(""),
        2000,
    )?;
    let row = department::ActiveModel {
        name: Set(name),
        description: Set(description),
        parent_id: Set(input.parent_id),
        head_id: Set(input.head_id),
        serves_external: Set(input.serves_external.unwrap_or(false)),
        budget_cents: Set(input.budget_cents.unwrap_or(0)),
        version: Set(1),
        created_at: Set(Utc::now()),
        ..Default::default()
    };
    writer
        .run(async |tx| {
            let txn = tx.conn();
            if let Some(parent) = input.parent_id {
                tx.serialize(Serial::OrgChart).await?;
                check_parent(txn, None, parent).await?;
            }
            if let Some(head) = input.head_id {
                check_head(txn, head).await?;
            }
            row.insert(txn)
                .await
                .map_err(versioned::duplicate_as(Conflict::DepartmentName))
        })
        .await
}

/// Updates department `id` if it is still at version `expected`.
pub async fn update_department(
    writer: &Writer,
    id: i32,
    expected: i32,
    input: DepartmentInput,
) -> Result<department::Model> {
    let mut am = <department::ActiveModel as Default>::default();
    if let Some(name) = &input.name {
        am.name = Set(validate::text("input.name", name, 120)?);
    }
    if let Some(description) = &input.description {
        am.description = Set(validate::text("input.description", description, 2000)?);
    }
    writer
        .run(async |tx| {
            if input.parent_id.is_some() {
                tx.serialize(Serial::OrgChart).await?;
            }
            update_department_in(tx.conn(), id, expected, input, am).await
        })
        .await
}

async fn update_department_in(
    db: &impl ConnectionTrait,
    id: i32,
    expected: i32,
    input: DepartmentInput,
    mut am: department::ActiveModel,
) -> Result<department::Model> {
    if department::Entity::find_by_id(id).one(db).await?.is_none() {
        return Err(Error::NotFound { what: "department" });
    }
    if let Some(parent) = input.parent_id {
        check_parent(db, Some(id), parent).await?;
        am.parent_id = Set(Some(parent));
    }
    if let Some(head) = input.head_id {
        check_head(db, head).await?;
        am.head_id = Set(Some(head));
    }
    if let Some(external) = input.serves_external {
        am.serves_external = Set(external);
    }
    if let Some(budget) = input.budget_cents {
        am.budget_cents = Set(budget);
    }
    versioned::update::<department::Entity, _>(
        db,
        am,
        Counters {
            id: department::Column::Id,
            version: department::Column::Version,
            public_version: None,
        },
        id,
        Expected::internal(expected),
        Audience::Internal,
        "department",
    )
    .await
    .map_err(versioned::duplicate_as(Conflict::DepartmentName))?;
    department::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(Error::NotFound { what: "department" })
}

/// Fields of a service agreement; on update `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct AgreementInput {
    /// Providing department.
    pub provider_id: Option<i32>,
    /// Consuming department.
    pub consumer_id: Option<i32>,
    /// The service.
    pub service: Option<String>,
    /// Promised turnaround, hours.
    pub target_turnaround_hours: Option<i32>,
    /// Promised mean CSAT.
    pub quality_target: Option<f64>,
}

fn check_quality(q: f64) -> Result<f64> {
    if q.is_finite() && (1.0..=5.0).contains(&q) {
        Ok(q)
    } else {
        Err(Error::bad_input(
            "input.qualityTarget",
            "must be between 1 and 5",
        ))
    }
}

async fn check_departments(db: &impl ConnectionTrait, provider: i32, consumer: i32) -> Result<()> {
    if provider == consumer {
        return Err(Error::bad_input(
            "input.consumerId",
            "a department cannot be its own supplier",
        ));
    }
    for (field, id) in [
        ("input.providerId", provider),
        ("input.consumerId", consumer),
    ] {
        if department::Entity::find_by_id(id).one(db).await?.is_none() {
            return Err(Error::bad_input(field, "no such department"));
        }
    }
    Ok(())
}

/// Creates a service agreement.
pub async fn create_agreement(
    writer: &Writer,
    input: AgreementInput,
) -> Result<service_agreement::Model> {
    let provider = input
        .provider_id
        .ok_or_else(|| Error::bad_input("input.providerId", "is required"))?;
    let consumer = input
        .consumer_id
        .ok_or_else(|| Error::bad_input("input.consumerId", "is required"))?;
    let hours = input
        .target_turnaround_hours
        .ok_or_else(|| Error::bad_input("input.targetTurnaroundHours", "is required"))?;
    let row = service_agreement::ActiveModel {
        provider_department_id: Set(provider),
        consumer_department_id: Set(consumer),
        service: Set(validate::text(
            "input.service",
            input.service.as_deref().unwrap_or(""),
            200,
        )?),
        target_turnaround_hours: Set(validate::within(
            "input.targetTurnaroundHours",
            hours,
            1,
            8760,
        )?),
        quality_target: Set(check_quality(input.quality_target.unwrap_or(4.0))?),
        version: Set(1),
        created_at: Set(Utc::now()),
        ..Default::default()
    };
    writer
        .run(async |tx| {
            check_departments(tx.conn(), provider, consumer).await?;
            Ok(row.insert(tx.conn()).await?)
        })
        .await
}

/// Updates agreement `id` if it is still at version `expected`.
pub async fn update_agreement(
    writer: &Writer,
    id: i32,
    expected: i32,
    input: AgreementInput,
) -> Result<service_agreement::Model> {
    let mut am = <service_agreement::ActiveModel as Default>::default();
    if let Some(service) = &input.service {
        am.service = Set(validate::text("input.service", service, 200)?);
    }
    if let Some(hours) = input.target_turnaround_hours {
        am.target_turnaround_hours = Set(validate::within(
            "input.targetTurnaroundHours",
            hours,
            1,
            8760,
        )?);
    }
    if let Some(q) = input.quality_target {
        am.quality_target = Set(check_quality(q)?);
    }
    writer
        .run(async |tx| update_agreement_in(tx.conn(), id, expected, input, am).await)
        .await
}

async fn update_agreement_in(
    db: &impl ConnectionTrait,
    id: i32,
    expected: i32,
    input: AgreementInput,
    mut am: service_agreement::ActiveModel,
) -> Result<service_agreement::Model> {
    let current = agreement(db, id).await?;
    let provider = input.provider_id.unwrap_or(current.provider_department_id);
    let consumer = input.consumer_id.unwrap_or(current.consumer_department_id);
    check_departments(db, provider, consumer).await?;
    am.provider_department_id = Set(provider);
    am.consumer_department_id = Set(consumer);
    versioned::update::<service_agreement::Entity, _>(
        db,
        am,
        Counters {
            id: service_agreement::Column::Id,
            version: service_agreement::Column::Version,
            public_version: None,
        },
        id,
        Expected::internal(expected),
        Audience::Internal,
        "service agreement",
    )
    .await?;
    agreement(db, id).await
}

async fn agreement(db: &impl ConnectionTrait, id: i32) -> Result<service_agreement::Model> {
    service_agreement::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(Error::NotFound {
            what: "service agreement",
        })
}

/// Deletes agreement `id` if it is still at version `expected`.
pub async fn delete_agreement(writer: &Writer, id: i32, expected: i32) -> Result<()> {
    writer
        .run(async |tx| {
            let txn = tx.conn();
            agreement(txn, id).await?;
            let result = service_agreement::Entity::delete_many()
                .filter(service_agreement::Column::Id.eq(id))
                .filter(service_agreement::Column::Version.eq(expected))
                .exec(txn)
                .await?;
            if result.rows_affected == 0 {
                return Err(versioned::stale("service agreement", id, expected));
            }
            Ok(())
        })
        .await
}
