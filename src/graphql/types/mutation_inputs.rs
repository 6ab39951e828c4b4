//! Inputs of mutations. Each converts into a service input; validation of values happens in
//! the service so that every entry point applies the same rules.

use async_graphql::{ID, InputObject};
use chrono::NaiveDate;

use super::{Channel, CustomerStatus, InteractionKind, NodeKind, Segment, money_in, parse_id};
use crate::{
    Result,
    service::{
        customer_write::{CustomerPatch, NewCustomer},
        org_write::{AgreementInput, DepartmentInput},
    },
};

fn id(kind: NodeKind, field: &str, id: Option<ID>) -> Result<Option<i32>> {
    id.map(|id| parse_id(kind, field, &id)).transpose()
}

/// A request to a department.
#[derive(InputObject)]
pub struct OpenInteractionInput {
    /// The department asked.
    pub department_id: ID,
    /// How it is asked.
    pub channel: Channel,
    /// What it is.
    pub kind: InteractionKind,
    /// One line (at most 200 characters).
    pub subject: String,
    /// The request itself (at most 5000 characters).
    pub summary: String,
}

/// An employee logs an interaction for any customer.
#[derive(InputObject)]
pub struct LogInteractionInput {
    /// Whose interaction it is.
    pub customer_id: ID,
    /// The department handling it.
    pub department_id: ID,
    /// The employee handling it.
    pub handler_id: Option<ID>,
    /// How it arrived.
    pub channel: Channel,
    /// What it is.
    pub kind: InteractionKind,
    /// One line (at most 200 characters).
    pub subject: String,
    /// What the customer sees (at most 5000 characters).
    pub summary: String,
    /// What only employees see.
    pub internal_note: Option<String>,
    /// When it must be resolved; from the service agreement when absent.
    pub sla_due_at: Option<chrono::DateTime<chrono::Utc>>,
    /// The interaction that caused this one.
    pub related_to_id: Option<ID>,
}

/// The caller's own contact details; absent fields stay as they are.
#[derive(InputObject)]
pub struct UpdateMyContactInput {
    /// The version you read; a stale one is refused with CONFLICT.
    pub expected_version: i32,
    /// New e-mail: not applied at once, but sent a confirmation (see `confirmMyEmail`).
    pub email: Option<String>,
    /// New phone (empty clears it).
    pub phone: Option<String>,
    /// New organisation (empty clears it).
    pub organization: Option<String>,
}

/// A new customer.
#[derive(InputObject)]
pub struct CreateCustomerInput {
    /// Segment; the kind follows from it.
    pub segment: Segment,
    /// Full name.
    pub name: String,
    /// Organisation.
    pub organization: Option<String>,
    /// Contact e-mail (unique).
    pub email: String,
    /// Contact phone.
    pub phone: Option<String>,
    /// Status; ACTIVE when absent.
    pub status: Option<CustomerStatus>,
    /// Notes for employees.
    pub internal_notes: Option<String>,
    /// Department, for employees.
    pub department_id: Option<ID>,
    /// Job title, for employees.
    pub title: Option<String>,
    /// Hire date, for employees.
    pub hire_date: Option<NaiveDate>,
}

impl CreateCustomerInput {
    /// Converts to the service's input.
    pub fn into_new(self) -> Result<NewCustomer> {
        Ok(NewCustomer {
            segment: self.segment.into(),
            name: self.name,
            organization: self.organization,
            email: self.email,
            phone: self.phone,
            status: self.status.unwrap_or(CustomerStatus::Active).into(),
            internal_notes: self.internal_notes,
            department_id: id(
                NodeKind::Department,
                "input.departmentId",
                self.department_id,
            )?,
            title: self.title,
            hire_date: self.hire_date,
        })
    }
}

/// Changes to a customer; absent fields stay as they are, empty texts clear optional ones.
#[derive(InputObject)]
pub struct UpdateCustomerInput {
    /// New segment (within the same kind).
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
    /// New department (employees only).
    pub department_id: Option<ID>,
    /// New title.
    pub title: Option<String>,
}

impl UpdateCustomerInput {
    /// Converts to the service's patch.
    pub fn into_patch(self) -> Result<CustomerPatch> {
        Ok(CustomerPatch {
            segment: self.segment.map(Into::into),
            name: self.name,
            organization: self.organization,
            email: self.email,
            phone: self.phone,
            status: self.status.map(Into::into),
            internal_notes: self.internal_notes,
            department_id: id(
                NodeKind::Department,
                "input.departmentId",
                self.department_id,
            )?,
            title: self.title,
        })
    }
}

/// A department's fields; on update absent fields stay as they are.
#[derive(InputObject)]
#[graphql(name = "DepartmentInput")]
pub struct DepartmentFields {
    /// Name (unique).
    pub name: Option<String>,
    /// What it does.
    pub description: Option<String>,
    /// Parent department.
    pub parent_id: Option<ID>,
    /// Heading employee.
    pub head_id: Option<ID>,
    /// Whether external customers can reach it.
    pub serves_external: Option<bool>,
    /// Yearly budget, in currency units.
    pub budget: Option<f64>,
}

impl DepartmentFields {
    /// Converts to the service's input.
    pub fn into_input(self) -> Result<DepartmentInput> {
        Ok(DepartmentInput {
            name: self.name,
            description: self.description,
            parent_id: id(NodeKind::Department, "input.parentId", self.parent_id)?,
            head_id: id(NodeKind::Customer, "input.headId", self.head_id)?,
            serves_external: self.serves_external,
            budget_cents: self
                .budget
                .map(|b| money_in("input.budget", b))
                .transpose()?,
        })
    }
}

/// A service agreement's fields; on update absent fields stay as they are.
#[derive(InputObject)]
pub struct ServiceAgreementInput {
    /// The providing department.
    pub provider_id: Option<ID>,
    /// The consuming department (the internal customer).
    pub consumer_id: Option<ID>,
    /// The service promised.
    pub service: Option<String>,
    /// Promised turnaround, in hours (1–8760).
    pub target_turnaround_hours: Option<i32>,
    /// Promised mean CSAT (1–5).
    pub quality_target: Option<f64>,
}

impl ServiceAgreementInput {
    /// Converts to the service's input.
    pub fn into_input(self) -> Result<AgreementInput> {
        Ok(AgreementInput {
            provider_id: id(NodeKind::Department, "input.providerId", self.provider_id)?,
            consumer_id: id(NodeKind::Department, "input.consumerId", self.consumer_id)?,
            service: self.service,
            target_turnaround_hours: self.target_turnaround_hours,
            quality_target: self.quality_target,
        })
    }
}
