//! `Interaction`: one contact between a customer and a department.

use async_graphql::{Context, ID, Object};
use chrono::{DateTime, Utc};
use entity::interaction;

use super::{
    Channel, Conn, Customer, Department, InOrder, InteractionKind, InteractionMessage,
    InteractionStatus, cold, connection,
};
use crate::{
    Result,
    graphql::context::{cursor_key, loaders},
};

/// A request, incident, complaint, purchase, feedback or inquiry.
pub struct Interaction(pub interaction::Model);

#[Object]
impl Interaction {
    /// Stable global id (Relay's `Node`): opaque, unique across types. Arguments that take
    /// this type's id accept it or the plain row number.
    pub async fn id(&self) -> ID {
        super::global_id(super::NodeKind::Interaction, self.0.id)
    }
    /// How it reached the company.
    async fn channel(&self) -> Channel {
        self.0.channel.into()
    }
    /// What it is about.
    async fn kind(&self) -> InteractionKind {
        self.0.kind.into()
    }
    /// One-line subject.
    async fn subject(&self) -> &str {
        &self.0.subject
    }
    /// What the customer sees of it.
    async fn summary(&self) -> &str {
        &self.0.summary
    }
    /// Where it stands.
    async fn status(&self) -> InteractionStatus {
        self.0.status.into()
    }
    /// When it was opened.
    async fn opened_at(&self) -> DateTime<Utc> {
        self.0.opened_at
    }
    /// When it was resolved, if it was.
    async fn resolved_at(&self) -> Option<DateTime<Utc>> {
        self.0.resolved_at
    }
    /// The customer's satisfaction rating (CSAT, 1–5), once given.
    async fn satisfaction(&self) -> Option<i32> {
        self.0.satisfaction
    }
    /// The customer's likelihood to recommend (NPS answer, 0–10), once given.
    async fn nps(&self) -> Option<i32> {
        self.0.nps
    }
    /// Optimistic-locking version; send it back with updates.
    async fn version(&self, ctx: &Context<'_>) -> i32 {
        // Clients are shown the version only public changes move (see `policy::Audience`).
        match crate::policy::audience(crate::graphql::context::caller(ctx)) {
            crate::policy::Audience::Public => self.0.public_version,
            crate::policy::Audience::Internal => self.0.version,
        }
    }
    /// Who opened it.
    async fn customer(&self, ctx: &Context<'_>) -> Result<Option<Box<InOrder<Customer>>>> {
        let row = cold(loaders(ctx)?.customer.load_one(self.0.customer_id)).await?;
        Ok(row.map(|row| Box::new(InOrder(Customer(row)))))
    }
    /// The department handling it.
    async fn department(&self, ctx: &Context<'_>) -> Result<Option<InOrder<Department>>> {
        let department = loaders(ctx)?
            .department
            .load_one(self.0.department_id)
            .await?;
        Ok(department.map(|row| InOrder(Department(row))))
    }
    /// The employee handling it.
    #[graphql(visible = "crate::policy::visible::internal")]
    async fn handler(&self, ctx: &Context<'_>) -> Result<Option<Box<InOrder<Customer>>>> {
        let Some(id) = self.0.handler_id else {
            return Ok(None);
        };
        let row = cold(loaders(ctx)?.customer.load_one(id)).await?;
        Ok(row.map(|row| Box::new(InOrder(Customer(row)))))
    }
    /// What only employees see.
    #[graphql(visible = "crate::policy::visible::internal")]
    async fn internal_note(&self) -> Option<&str> {
        self.0.internal_note.as_deref()
    }
    /// When the service level says it must be resolved.
    #[graphql(visible = "crate::policy::visible::internal")]
    async fn sla_due_at(&self) -> Option<DateTime<Utc>> {
        self.0.sla_due_at
    }
    /// Whether it was (or, still open, now is) past its due time.
    #[graphql(visible = "crate::policy::visible::internal")]
    async fn sla_breached(&self) -> bool {
        crate::service::rules::breached(self.0.sla_due_at, self.0.resolved_at, Utc::now())
    }
    /// The interaction that caused this one (say, the IT incident behind a complaint).
    #[graphql(visible = "crate::policy::visible::internal")]
    async fn related_to(&self, ctx: &Context<'_>) -> Result<Option<Box<InOrder<Interaction>>>> {
        let Some(id) = self.0.related_to_id else {
            return Ok(None);
        };
        let row = cold(loaders(ctx)?.interaction.load_one(id)).await?;
        Ok(row.map(|row| Box::new(InOrder(Interaction(row)))))
    }
    /// Interactions caused by this one, newest first.
    #[graphql(
        complexity = "crate::graphql::nested_cost(first, child_complexity)",
        visible = "crate::policy::visible::internal"
    )]
    async fn caused(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20, desc = "How many, at most 100.")] first: Option<i32>,
        #[graphql(desc = "Rows after this cursor (taken from this same list).")] after: Option<
            String,
        >,
    ) -> Result<Conn<Interaction>> {
        let caused = &loaders(ctx)?.interactions_caused_by;
        let page = cold(caused.page(
            cursor_key(ctx)?,
            self.0.id,
            first.unwrap_or(20),
            after.as_deref(),
        ))
        .await?;
        Ok(connection(cursor_key(ctx)?, page, Interaction))
    }
    /// The external interactions and customers this (internal) incident touched.
    #[graphql(visible = "crate::policy::visible::internal")]
    async fn impact(&self, ctx: &Context<'_>) -> Result<Box<InOrder<super::Impact>>> {
        crate::policy::require_internal(crate::graphql::context::caller(ctx))?;
        let db = crate::graphql::context::db(ctx)?;
        let impact = cold(crate::service::service_level::impact(db, self.0.id)).await?;
        Ok(Box::new(InOrder(super::Impact(impact))))
    }
    /// The messages of the conversation you may read, oldest first.
    #[graphql(complexity = "crate::graphql::nested_cost(first, child_complexity)")]
    async fn messages(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20, desc = "How many, at most 100.")] first: Option<i32>,
        #[graphql(desc = "Rows after this cursor (taken from this same list).")] after: Option<
            String,
        >,
    ) -> Result<Conn<InteractionMessage>> {
        let customer_id = self.0.customer_id;
        let messages = &loaders(ctx)?.messages;
        let page = cold(messages.page(
            cursor_key(ctx)?,
            self.0.id,
            first.unwrap_or(20),
            after.as_deref(),
        ))
        .await?;
        Ok(connection(cursor_key(ctx)?, page, |row| {
            InteractionMessage { row, customer_id }
        }))
    }
}
