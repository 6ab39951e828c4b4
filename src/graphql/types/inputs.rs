//! Input types: filters and orderings. Internal-only filters and sort keys carry the same
//! `visible` functions as internal fields, so they do not exist for outsiders either.

use async_graphql::{Enum, ID, InputObject};
use chrono::{DateTime, Utc};

use super::{
    Audience, Channel, CustomerKind, CustomerStatus, InteractionKind, InteractionStatus, NodeKind,
    Segment, parse_id,
};
use crate::{
    Error, Result,
    service::{
        customer::{CustomerFilter as CustomerQuery, CustomerOrder},
        interaction::{InteractionFilter as InteractionQuery, InteractionOrder},
    },
};

/// Longest accepted search text.
const MAX_SEARCH: usize = 100;

/// Validates a free-text search.
pub(crate) fn search_text(field: &str, text: Option<String>) -> Result<Option<String>> {
    match text.map(|t| t.trim().to_owned()) {
        Some(t) if t.chars().count() > MAX_SEARCH => Err(Error::bad_input(
            field,
            format!("must be at most {MAX_SEARCH} characters"),
        )),
        Some(t) if t.is_empty() => Ok(None),
        other => Ok(other),
    }
}

fn range<T: PartialOrd>(field: &str, from: &Option<T>, to: &Option<T>) -> Result<()> {
    match (from, to) {
        (Some(a), Some(b)) if a > b => {
            Err(Error::bad_input(field, "the range ends before it starts"))
        }
        _ => Ok(()),
    }
}

/// Sort direction.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum SortDirection {
    /// Smallest first.
    #[default]
    Asc,
    /// Largest first.
    Desc,
}

/// Narrows a list of customers; every field given must match.
#[derive(InputObject, Default)]
pub struct CustomerFilter {
    /// Only this kind.
    pub kind: Option<CustomerKind>,
    /// Only these segments.
    pub segments: Option<Vec<Segment>>,
    /// Only this status.
    pub status: Option<CustomerStatus>,
    /// Case-insensitive text in name, organisation or e-mail (at most 100 characters).
    pub search: Option<String>,
    /// Customers since this instant or later.
    pub customer_since_from: Option<DateTime<Utc>>,
    /// Customers since before this instant.
    pub customer_since_to: Option<DateTime<Utc>>,
}

impl CustomerFilter {
    /// Validates and converts to the service's filter.
    pub fn into_query(self) -> Result<CustomerQuery> {
        range(
            "filter.customerSinceFrom",
            &self.customer_since_from,
            &self.customer_since_to,
        )?;
        Ok(CustomerQuery {
            kind: self.kind.map(Into::into),
            segments: self
                .segments
                .unwrap_or_default()
                .into_iter()
                .map(Into::into)
                .collect(),
            status: self.status.map(Into::into),
            search: search_text("filter.search", self.search)?,
            since_from: self.customer_since_from,
            since_to: self.customer_since_to,
        })
    }
}

/// Keys a customer list can be sorted by; ties are broken by id.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum CustomerOrderField {
    /// Creation order.
    #[default]
    Id,
    /// Name.
    Name,
    /// Start of the relationship.
    CustomerSince,
    /// Lifetime value.
    #[graphql(visible = "crate::policy::visible::internal")]
    LifetimeValue,
    /// Health score.
    #[graphql(visible = "crate::policy::visible::internal")]
    HealthScore,
}

/// How to sort customers.
#[derive(InputObject)]
pub struct CustomerOrderBy {
    /// The key.
    pub field: CustomerOrderField,
    /// The direction.
    #[graphql(default)]
    pub direction: SortDirection,
}

impl CustomerOrderBy {
    /// The service's ordering; by id ascending when absent.
    pub fn resolve(order: Option<Self>) -> (CustomerOrder, bool) {
        let order = order.unwrap_or(CustomerOrderBy {
            field: CustomerOrderField::Id,
            direction: SortDirection::Asc,
        });
        let field = match order.field {
            CustomerOrderField::Id => CustomerOrder::Id,
            CustomerOrderField::Name => CustomerOrder::Name,
            CustomerOrderField::CustomerSince => CustomerOrder::CustomerSince,
            CustomerOrderField::LifetimeValue => CustomerOrder::LifetimeValue,
            CustomerOrderField::HealthScore => CustomerOrder::HealthScore,
        };
        (field, order.direction == SortDirection::Desc)
    }
}

/// Narrows a list of interactions; every field given must match.
#[derive(InputObject, Default)]
pub struct InteractionFilter {
    /// Only this customer's.
    pub customer_id: Option<ID>,
    /// Only this department's.
    pub department_id: Option<ID>,
    /// Only those handled by this employee.
    #[graphql(visible = "crate::policy::visible::internal")]
    pub handler_id: Option<ID>,
    /// Only these channels.
    pub channels: Option<Vec<Channel>>,
    /// Only these kinds.
    pub kinds: Option<Vec<InteractionKind>>,
    /// Only these statuses.
    pub statuses: Option<Vec<InteractionStatus>>,
    /// Opened at or after this instant.
    pub opened_from: Option<DateTime<Utc>>,
    /// Opened before this instant.
    pub opened_to: Option<DateTime<Utc>>,
    /// Only breached (true) or only met (false) service levels.
    #[graphql(visible = "crate::policy::visible::internal")]
    pub sla_breached: Option<bool>,
    /// Rated at least this (CSAT 1–5).
    pub min_satisfaction: Option<i32>,
    /// Rated at most this (CSAT 1–5).
    pub max_satisfaction: Option<i32>,
}

impl InteractionFilter {
    /// Validates and converts to the service's filter.
    pub fn into_query(self) -> Result<InteractionQuery> {
        range("filter.openedFrom", &self.opened_from, &self.opened_to)?;
        range(
            "filter.minSatisfaction",
            &self.min_satisfaction,
            &self.max_satisfaction,
        )?;
        for (field, value) in [
            ("filter.minSatisfaction", self.min_satisfaction),
            ("filter.maxSatisfaction", self.max_satisfaction),
        ] {
            if value.is_some_and(|v| !(1..=5).contains(&v)) {
                return Err(Error::bad_input(field, "must be between 1 and 5"));
            }
        }
        let id = |kind: NodeKind, field: &str, id: Option<ID>| {
            id.map(|id| parse_id(kind, field, &id)).transpose()
        };
        let list = |v: Option<Vec<_>>| v.unwrap_or_default().into_iter().map(Into::into).collect();
        Ok(InteractionQuery {
            customer_id: id(NodeKind::Customer, "filter.customerId", self.customer_id)?,
            department_id: id(
                NodeKind::Department,
                "filter.departmentId",
                self.department_id,
            )?,
            handler_id: id(NodeKind::Customer, "filter.handlerId", self.handler_id)?,
            channels: self
                .channels
                .unwrap_or_default()
                .into_iter()
                .map(Into::into)
                .collect(),
            kinds: self
                .kinds
                .unwrap_or_default()
                .into_iter()
                .map(Into::into)
                .collect(),
            statuses: list(self.statuses),
            opened_from: self.opened_from,
            opened_to: self.opened_to,
            sla_breached: self.sla_breached,
            min_satisfaction: self.min_satisfaction,
            max_satisfaction: self.max_satisfaction,
        })
    }
}

/// Keys an interaction list can be sorted by; ties are broken by id.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum InteractionOrderField {
    /// Creation order.
    #[default]
    Id,
    /// Opening time.
    OpenedAt,
    /// Last change.
    UpdatedAt,
}

/// How to sort interactions.
#[derive(InputObject)]
pub struct InteractionOrderBy {
    /// The key.
    pub field: InteractionOrderField,
    /// The direction.
    #[graphql(default)]
    pub direction: SortDirection,
}

impl InteractionOrderBy {
    /// The service's ordering; by id ascending when absent.
    pub fn resolve(order: Option<Self>) -> (InteractionOrder, bool) {
        let order = order.unwrap_or(InteractionOrderBy {
            field: InteractionOrderField::Id,
            direction: SortDirection::Asc,
        });
        let field = match order.field {
            InteractionOrderField::Id => InteractionOrder::Id,
            InteractionOrderField::OpenedAt => InteractionOrder::OpenedAt,
            InteractionOrderField::UpdatedAt => InteractionOrder::UpdatedAt,
        };
        (field, order.direction == SortDirection::Desc)
    }
}

/// Narrows a list of knowledge articles.
#[derive(InputObject, Default)]
pub struct KnowledgeArticleFilter {
    /// Only this department's.
    pub department_id: Option<ID>,
    /// Only this audience.
    #[graphql(visible = "crate::policy::visible::internal")]
    pub audience: Option<Audience>,
}
