//! `Customer`: one type for internal and external customers.

use async_graphql::{Context, ID, Object, connection::Connection};
use chrono::{DateTime, NaiveDate, Utc};
use entity::{customer, interaction};

use super::{
    ChurnRisk, Conn, CustomerKind, CustomerStatus, Department, EdgeCursor, InOrder, Interaction,
    Purchase, Segment, TimelineEntry, connection, money, plain_connection,
};
use crate::{
    Result,
    graphql::context::{cursor_key, loaders, unshown_in_nodes},
};

/// A customer of the company, internal (employee, owner, partner…) or external.
pub struct Customer(pub customer::Model);

#[Object]
impl Customer {
    /// Stable global id (Relay's `Node`): opaque, unique across types. Arguments that take
    /// this type's id accept it or the plain row number.
    pub async fn id(&self) -> ID {
        super::global_id(super::NodeKind::Customer, self.0.id)
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
    async fn department(&self, ctx: &Context<'_>) -> Result<Option<InOrder<Department>>> {
        let Some(id) = self.0.department_id else {
            return Ok(None);
        };
        let department = loaders(ctx)?.department.load_one(id).await?;
        Ok(department.map(|row| InOrder(Department(row))))
    }
    /// This customer's interactions, newest first.
    #[graphql(complexity = "crate::graphql::nested_cost(first, child_complexity)")]
    async fn interactions(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 10, desc = "How many, at most 100.")] first: Option<i32>,
        #[graphql(desc = "Rows after this cursor (taken from this same list).")] after: Option<
            String,
        >,
    ) -> Result<Conn<Interaction>> {
        let omit = unshown_in_nodes::<interaction::Entity>(ctx);
        let page = loaders(ctx)?
            .interactions_of_customer
            .page_omitting(
                cursor_key(ctx)?,
                self.0.id,
                first.unwrap_or(10),
                after.as_deref(),
                omit,
            )
            .await?;
        Ok(connection(cursor_key(ctx)?, page, Interaction))
    }
    /// Interactions this employee handles, newest first.
    #[graphql(
        complexity = "crate::graphql::nested_cost(first, child_complexity)",
        visible = "crate::policy::visible::internal"
    )]
    async fn handled_interactions(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 10, desc = "How many, at most 100.")] first: Option<i32>,
        #[graphql(desc = "Rows after this cursor (taken from this same list).")] after: Option<
            String,
        >,
    ) -> Result<Conn<Interaction>> {
        let page = loaders(ctx)?
            .interactions_of_handler
            .page(
                cursor_key(ctx)?,
                self.0.id,
                first.unwrap_or(10),
                after.as_deref(),
            )
            .await?;
        Ok(connection(cursor_key(ctx)?, page, Interaction))
    }
    /// This customer's purchases, newest first.
    #[graphql(complexity = "crate::graphql::nested_cost(first, child_complexity)")]
    async fn purchases(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 10, desc = "How many, at most 100.")] first: Option<i32>,
        #[graphql(desc = "Rows after this cursor (taken from this same list).")] after: Option<
            String,
        >,
    ) -> Result<Conn<Purchase>> {
        let page = loaders(ctx)?
            .purchases_of_customer
            .page(
                cursor_key(ctx)?,
                self.0.id,
                first.unwrap_or(10),
                after.as_deref(),
            )
            .await?;
        Ok(connection(cursor_key(ctx)?, page, Purchase))
    }
    /// Interactions opened, purchases made and ratings given, in one story, newest first.
    #[graphql(complexity = "crate::graphql::nested_cost(first, child_complexity)")]
    async fn timeline(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20, desc = "How many, at most 100.")] first: Option<i32>,
        #[graphql(desc = "Rows after this cursor (taken from this same list).")] after: Option<
            String,
        >,
    ) -> Result<InOrder<Connection<EdgeCursor, InOrder<TimelineEntry>>>> {
        let page = loaders(ctx)?
            .timeline
            .page(
                cursor_key(ctx)?,
                self.0.id,
                first.unwrap_or(20),
                after.as_deref(),
            )
            .await?;
        Ok(plain_connection(cursor_key(ctx)?, page, TimelineEntry))
    }
}
