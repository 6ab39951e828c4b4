//! `Customer`: one type for internal and external customers.

use async_graphql::{Context, ID, Object};
use chrono::{DateTime, NaiveDate, Utc};
use entity::customer;

use super::{
    ChurnRisk, CustomerKind, CustomerStatus, Department, Interaction, Purchase, Segment,
    TimelineEntry, money, nested_limit,
};
use crate::{Result, graphql::context::loaders, service::timeline};

/// A customer of the company, internal (employee, owner, partner…) or external.
pub struct Customer(pub customer::Model);

#[Object]
impl Customer {
    /// Stable identifier.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// Internal or external.
    async fn kind(&self) -> CustomerKind {
        self.0.kind.into()
    }
    /// The segment within the kind.
    async fn segment(&self) -> Segment {
        self.0.segment.into()
    }
    /// Full name of the person or contact.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Organisation the customer belongs to, if any.
    async fn organization(&self) -> Option<&str> {
        self.0.organization.as_deref()
    }
    /// Contact e-mail.
    async fn email(&self) -> &str {
        &self.0.email
    }
    /// Contact phone.
    async fn phone(&self) -> Option<&str> {
        self.0.phone.as_deref()
    }
    /// Relationship status.
    async fn status(&self) -> CustomerStatus {
        self.0.status.into()
    }
    /// When the relationship began.
    async fn customer_since(&self) -> DateTime<Utc> {
        self.0.customer_since
    }
    /// Optimistic-locking version; send it back with updates.
    async fn version(&self, ctx: &Context<'_>) -> i32 {
        // Clients are shown the version only public changes move (see `policy::Audience`).
        match crate::policy::audience(crate::graphql::context::caller(ctx)) {
            crate::policy::Audience::Public => self.0.public_version,
            crate::policy::Audience::Internal => self.0.version,
        }
    }
    /// Revenue attributed to this customer, in currency units.
    #[graphql(visible = "crate::policy::visible::internal")]
    async fn lifetime_value(&self) -> f64 {
        money(self.0.lifetime_value_cents)
    }
    /// 0 (about to leave) to 100 (thriving).
    #[graphql(visible = "crate::policy::visible::internal")]
    async fn health_score(&self) -> i32 {
        self.0.health_score
    }
    /// Risk band derived from the health score.
    #[graphql(visible = "crate::policy::visible::internal")]
    async fn churn_risk(&self) -> ChurnRisk {
        ChurnRisk::from_health(self.0.health_score)
    }
    /// Notes employees keep about this customer.
    #[graphql(visible = "crate::policy::visible::internal")]
    async fn internal_notes(&self) -> Option<&str> {
        self.0.internal_notes.as_deref()
    }
    /// Job title, for employees.
    #[graphql(visible = "crate::policy::visible::internal")]
    async fn title(&self) -> Option<&str> {
        self.0.title.as_deref()
    }
    /// Hire date, for employees.
    #[graphql(visible = "crate::policy::visible::internal")]
    async fn hire_date(&self) -> Option<NaiveDate> {
        self.0.hire_date
    }
    /// The department an employee works in.
    #[graphql(visible = "crate::policy::visible::internal")]
    async fn department(&self, ctx: &Context<'_>) -> Result<Option<Department>> {
        let Some(id) = self.0.department_id else {
            return Ok(None);
        };
        Ok(loaders(ctx)?.department.load_one(id).await?.map(Department))
    }
    /// This customer's most recent interactions, newest first.
    #[graphql(complexity = "crate::graphql::nested_cost(first, child_complexity)")]
    async fn interactions(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 10, desc = "How many, at most 100.")] first: i32,
    ) -> Result<Vec<Interaction>> {
        let key = (self.0.id, nested_limit(first)?);
        let rows = loaders(ctx)?.interactions_of_customer.load_one(key).await?;
        Ok(rows
            .unwrap_or_default()
            .into_iter()
            .map(Interaction)
            .collect())
    }
    /// Interactions this employee handles, newest first.
    #[graphql(
        complexity = "crate::graphql::nested_cost(first, child_complexity)",
        visible = "crate::policy::visible::internal"
    )]
    async fn handled_interactions(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 10, desc = "How many, at most 100.")] first: i32,
    ) -> Result<Vec<Interaction>> {
        let key = (self.0.id, nested_limit(first)?);
        let rows = loaders(ctx)?.interactions_of_handler.load_one(key).await?;
        Ok(rows
            .unwrap_or_default()
            .into_iter()
            .map(Interaction)
            .collect())
    }
    /// This customer's most recent purchases, newest first.
    #[graphql(complexity = "crate::graphql::nested_cost(first, child_complexity)")]
    async fn purchases(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 10, desc = "How many, at most 100.")] first: i32,
    ) -> Result<Vec<Purchase>> {
        let key = (self.0.id, nested_limit(first)?);
        let rows = loaders(ctx)?.purchases_of_customer.load_one(key).await?;
        Ok(rows.unwrap_or_default().into_iter().map(Purchase).collect())
    }
    /// Interactions, purchases and ratings in one story, newest first.
    #[graphql(complexity = "crate::graphql::nested_cost(first, child_complexity)")]
    async fn timeline(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20, desc = "How many entries, at most 100.")] first: i32,
    ) -> Result<Vec<TimelineEntry>> {
        let limit = nested_limit(first)?;
        let loaders = loaders(ctx)?;
        let key = (self.0.id, limit);
        let (interactions, purchases) = futures_util::try_join!(
            loaders.interactions_of_customer.load_one(key),
            loaders.purchases_of_customer.load_one(key),
        )?;
        Ok(timeline::merge(
            interactions.unwrap_or_default(),
            purchases.unwrap_or_default(),
            limit as usize,
        )
        .into_iter()
        .map(TimelineEntry)
        .collect())
    }
}
