//! `Department`: a node of the org chart and a provider of internal services.

use std::sync::Arc;

use async_graphql::{Context, ID, Object};
use entity::department;

use super::{Conn, Customer, InOrder, Interaction, ServiceAgreement, cold, connection, money};
use crate::{
    Result,
    graphql::context::{cursor_key, loaders},
};

/// A department of the company. Shared: a list of interactions names the same few departments
/// hundreds of times, and each answer takes its row from the department loader without a copy.
pub struct Department(pub Arc<department::Model>);

impl From<department::Model> for Department {
    fn from(row: department::Model) -> Self {
        Department(Arc::new(row))
    }
}

impl Department {
    /// The other side of each agreement where this department is on the `side` returned first.
    async fn partners(
        &self,
        ctx: &Context<'_>,
        side: fn(&entity::service_agreement::Model) -> (i32, i32),
    ) -> Result<Vec<InOrder<Department>>> {
        let loaders = loaders(ctx)?;
        let agreements = loaders
            .agreements
            .load_one(self.0.id)
            .await?
            .unwrap_or_default();
        let mut ids: Vec<i32> = agreements
            .iter()
            .map(side)
            .filter(|(this, _)| *this == self.0.id)
            .map(|(_, other)| other)
            .collect();
        ids.sort_unstable();
        ids.dedup();
        let found = loaders.department.load_many(ids.iter().copied()).await?;
        Ok(ids
            .into_iter()
            .filter_map(|id| found.get(&id).cloned().map(|row| InOrder(Department(row))))
            .collect())
    }
}

#[Object]
impl Department {
    /// Stable global id (Relay's `Node`): opaque, unique across types. Arguments that take
    /// this type's id accept it or the plain row number.
    pub async fn id(&self) -> ID {
        super::global_id(super::NodeKind::Department, self.0.id)
    }
    /// Name, e.g. "IT Support".
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// What the department does.
    async fn description(&self) -> &str {
        &self.0.description
    }
    /// Whether external customers can reach it.
    async fn serves_external(&self) -> bool {
        self.0.serves_external
    }
    /// The department above it in the org chart.
    #[graphql(visible = "crate::policy::visible::internal")]
    async fn parent(&self, ctx: &Context<'_>) -> Result<Option<InOrder<Department>>> {
        let Some(id) = self.0.parent_id else {
            return Ok(None);
        };
        let row = cold(loaders(ctx)?.department.load_one(id)).await?;
        Ok(row.map(|row| InOrder(Department(row))))
    }
    /// Departments directly below it.
    #[graphql(visible = "crate::policy::visible::internal")]
    async fn children(&self, ctx: &Context<'_>) -> Result<Vec<Department>> {
        let rows = loaders(ctx)?.children.load_one(self.0.id).await?;
        Ok(rows
            .unwrap_or_default()
            .into_iter()
            .map(Department::from)
            .collect())
    }
    /// The employee heading it.
    #[graphql(visible = "crate::policy::visible::internal")]
    async fn head(&self, ctx: &Context<'_>) -> Result<Option<Box<InOrder<Customer>>>> {
        let Some(id) = self.0.head_id else {
            return Ok(None);
        };
        let row = cold(loaders(ctx)?.customer.load_one(id)).await?;
        Ok(row.map(|row| Box::new(InOrder(Customer(row)))))
    }
    /// The employees working in it, by name.
    #[graphql(
        complexity = "crate::graphql::nested_cost(first, child_complexity)",
        visible = "crate::policy::visible::internal"
    )]
    async fn members(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20, desc = "How many, at most 100.")] first: Option<i32>,
        #[graphql(desc = "Rows after this cursor (taken from this same list).")] after: Option<
            String,
        >,
    ) -> Result<Conn<Customer>> {
        let members = &loaders(ctx)?.members;
        let page = cold(members.page(
            cursor_key(ctx)?,
            self.0.id,
            first.unwrap_or(20),
            after.as_deref(),
        ))
        .await?;
        Ok(connection(cursor_key(ctx)?, page, Customer))
    }
    /// Departments this one provides services to (its internal customers).
    #[graphql(visible = "crate::policy::visible::internal")]
    async fn serves(&self, ctx: &Context<'_>) -> Result<Vec<InOrder<Department>>> {
        cold(self.partners(ctx, |a| {
            (a.provider_department_id, a.consumer_department_id)
        }))
        .await
    }
    /// Departments this one depends on (its internal suppliers).
    #[graphql(visible = "crate::policy::visible::internal")]
    async fn served_by(&self, ctx: &Context<'_>) -> Result<Vec<InOrder<Department>>> {
        cold(self.partners(ctx, |a| {
            (a.consumer_department_id, a.provider_department_id)
        }))
        .await
    }
    /// Optimistic-locking version; send it back with updates.
    #[graphql(visible = "crate::policy::visible::internal")]
    async fn version(&self) -> i32 {
        self.0.version
    }
    /// Open interactions, oldest first: the work waiting for this department.
    #[graphql(
        complexity = "crate::graphql::nested_cost(first, child_complexity)",
        visible = "crate::policy::visible::internal"
    )]
    async fn queue(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20, desc = "How many, at most 100.")] first: Option<i32>,
        #[graphql(desc = "Rows after this cursor (taken from this same list).")] after: Option<
            String,
        >,
    ) -> Result<Conn<Interaction>> {
        let queue = &loaders(ctx)?.queue;
        let page = cold(queue.page(
            cursor_key(ctx)?,
            self.0.id,
            first.unwrap_or(20),
            after.as_deref(),
        ))
        .await?;
        Ok(connection(cursor_key(ctx)?, page, Interaction))
    }
    /// Yearly budget, in currency units.
    #[graphql(visible = "crate::policy::visible::manager")]
    async fn budget(&self) -> f64 {
        money(self.0.budget_cents)
    }
    /// Service agreements it provides or consumes.
    #[graphql(visible = "crate::policy::visible::internal")]
    async fn service_agreements(&self, ctx: &Context<'_>) -> Result<Vec<ServiceAgreement>> {
        let rows = cold(loaders(ctx)?.agreements.load_one(self.0.id)).await?;
        Ok(rows
            .unwrap_or_default()
            .into_iter()
            .map(ServiceAgreement)
            .collect())
    }
    /// Its interactions, newest first.
    #[graphql(
        complexity = "crate::graphql::nested_cost(first, child_complexity)",
        visible = "crate::policy::visible::internal"
    )]
    async fn interactions(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 10, desc = "How many, at most 100.")] first: Option<i32>,
        #[graphql(desc = "Rows after this cursor (taken from this same list).")] after: Option<
            String,
        >,
    ) -> Result<Conn<Interaction>> {
        let interactions = &loaders(ctx)?.interactions_of_department;
        let first = first.unwrap_or(10);
        let page =
            cold(interactions.page(cursor_key(ctx)?, self.0.id, first, after.as_deref())).await?;
        Ok(connection(cursor_key(ctx)?, page, Interaction))
    }
}
