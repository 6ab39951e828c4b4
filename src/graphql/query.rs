//! The root `Query`: each resolver turns arguments into a service call under the caller's scope.

use async_graphql::{Context, ID, Object};
use chrono::{DateTime, NaiveDate};

use super::{
    context::{caller, cursor_key, db, signed_in, unshown_in_nodes},
    guard::tiers::TierSchemas,
    types::*,
};
use crate::{
    Error, Result, policy,
    service::{self, page::PageRequest, sentiment::Voice},
};

/// Root of every read.
pub struct Query;

/// A root list's page request, its cursor opened with the schema's key.
fn page(
    ctx: &Context<'_>,
    first: Option<i32>,
    after: Option<String>,
    last: Option<i32>,
    before: Option<String>,
) -> Result<PageRequest> {
    PageRequest::new(
        cursor_key(ctx)?,
        first,
        after.as_deref(),
        last,
        before.as_deref(),
    )
}

#[Object]
impl Query {
    /// The signed-in caller; null for anonymous requests.
    async fn viewer(&self, ctx: &Context<'_>) -> Option<ViewerInfo> {
        caller(ctx).viewer().cloned().map(ViewerInfo)
    }

    /// What the caller's token lets it see, and why.
    async fn access(&self, ctx: &Context<'_>) -> Result<Access> {
        let caller = caller(ctx);
        let tiers = ctx
            .data::<TierSchemas>()
            .map_err(|_| Error::internal("schema data", "tier schemas missing"))?;
        let types = tiers
            .object_fields(policy::tier(caller))
            .into_iter()
            .map(|(name, fields)| TypeAccess { name, fields })
            .collect();
        let viewer = caller.viewer();
        Ok(Access {
            authenticated: viewer.is_some(),
            role: viewer.map(|v| v.role.into()),
            subject: viewer.map(|v| ID(v.customer_id.to_string())),
            expires_at: viewer.and_then(|v| DateTime::from_timestamp(v.expires_at, 0)),
            types,
            row_scopes: policy::describe_row_scopes(caller)
                .into_iter()
                .map(|(collection, scope)| RowScopeInfo {
                    collection: collection.into(),
                    scope: scope.into(),
                })
                .collect(),
        })
    }

    /// Everything held about the signed-in caller that it may see, as one JSON document to
    /// save as a file: its customer record, its interactions with their conversations, its
    /// purchases and the ratings it gave. Anonymous callers have nothing to export. One export
    /// per operation: its cost is more than half the complexity limit.
    #[graphql(complexity = "super::EXPORT_COST")]
    async fn export_my_data(
        &self,
        ctx: &Context<'_>,
    ) -> Result<async_graphql::Json<serde_json::Value>> {
        let scope = policy::export_scope(caller(ctx))?;
        Ok(async_graphql::Json(
            service::privacy::export(db(ctx)?, scope).await?,
        ))
    }

    /// The object a global id names, for Relay's refetch; null when it names nothing the
    /// caller may see: a missing record, someone else's, a type hidden from the caller or a
    /// string that is no global id are all the same null.
    async fn node(&self, ctx: &Context<'_>, id: ID) -> Result<Option<NodeAnswer>> {
        Ok(find_node(ctx, &id).await?.map(NodeAnswer))
    }

    /// The objects global ids name, in order, each null where `node` would be; at most 100.
    #[graphql(complexity = "nodes_cost(ids.len(), child_complexity)")]
    async fn nodes(&self, ctx: &Context<'_>, ids: Vec<ID>) -> Result<Vec<Option<NodeAnswer>>> {
        let found = find_nodes(ctx, &ids).await?;
        Ok(found.into_iter().map(|node| node.map(NodeAnswer)).collect())
    }

    /// Customers the caller may see (a client: only itself).
    #[allow(clippy::too_many_arguments)]
    #[graphql(complexity = "super::cost(first, last, child_complexity)")]
    async fn customers(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        filter: Option<CustomerFilter>,
        order_by: Option<CustomerOrderBy>,
    ) -> Result<Conn<Customer>> {
        let scope = signed_in(policy::owner_scope(caller(ctx)))?;
        let filter = filter.unwrap_or_default().into_query()?;
        let order = CustomerOrderBy::resolve(order_by);
        let page = page(ctx, first, after, last, before)?;
        let omit = unshown_in_nodes::<entity::customer::Entity>(ctx);
        let page =
            service::customer::list_omitting(db(ctx)?, scope, &filter, order, page, omit).await?;
        Ok(connection(cursor_key(ctx)?, page, Customer))
    }

    /// One customer; null when it does not exist or is not the caller's to see.
    async fn customer(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Customer>> {
        let scope = signed_in(policy::owner_scope(caller(ctx)))?;
        let id = parse_id(NodeKind::Customer, "id", &id)?;
        Ok(service::customer::get(db(ctx)?, scope, id)
            .await?
            .map(Customer))
    }

    /// Departments the caller may see (a client: customer-facing ones).
    #[graphql(complexity = "super::cost(first, last, child_complexity)")]
    async fn departments(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Conn<Department>> {
        let scope = signed_in(policy::department_scope(caller(ctx)))?;
        let page =
            service::department::list(db(ctx)?, scope, page(ctx, first, after, last, before)?)
                .await?;
        Ok(connection(cursor_key(ctx)?, page, Department::from))
    }

    /// One department; null when it does not exist or is not the caller's to see.
    async fn department(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Department>> {
        let scope = signed_in(policy::department_scope(caller(ctx)))?;
        let id = parse_id(NodeKind::Department, "id", &id)?;
        Ok(service::department::get(db(ctx)?, scope, id)
            .await?
            .map(Department::from))
    }

    /// Interactions the caller may see (a client: its own).
    #[allow(clippy::too_many_arguments)]
    #[graphql(complexity = "super::cost(first, last, child_complexity)")]
    async fn interactions(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        filter: Option<InteractionFilter>,
        order_by: Option<InteractionOrderBy>,
    ) -> Result<Conn<Interaction>> {
        let scope = signed_in(policy::owner_scope(caller(ctx)))?;
        let filter = filter.unwrap_or_default().into_query()?;
        let order = InteractionOrderBy::resolve(order_by);
        let page = page(ctx, first, after, last, before)?;
        let audience = policy::audience(caller(ctx));
        let page =
            service::interaction::list(db(ctx)?, scope, audience, &filter, order, page).await?;
        Ok(connection(cursor_key(ctx)?, page, Interaction))
    }

    /// One interaction; null when it does not exist or is not the caller's to see.
    async fn interaction(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Interaction>> {
        let scope = signed_in(policy::owner_scope(caller(ctx)))?;
        let id = parse_id(NodeKind::Interaction, "id", &id)?;
        Ok(service::interaction::get(db(ctx)?, scope, id)
            .await?
            .map(Interaction))
    }

    /// Purchases the caller may see (a client: its own).
    #[graphql(complexity = "super::cost(first, last, child_complexity)")]
    async fn purchases(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        #[graphql(desc = "Only this customer's.")] customer_id: Option<ID>,
    ) -> Result<Conn<Purchase>> {
        let scope = signed_in(policy::owner_scope(caller(ctx)))?;
        let customer_id = customer_id
            .map(|id| parse_id(NodeKind::Customer, "customerId", &id))
            .transpose()?;
        let page = service::purchase::list(
            db(ctx)?,
            scope,
            customer_id,
            page(ctx, first, after, last, before)?,
        )
        .await?;
        Ok(connection(cursor_key(ctx)?, page, Purchase))
    }

    /// The product catalogue; open to everyone.
    #[graphql(complexity = "super::cost(first, last, child_complexity)")]
    async fn products(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        #[graphql(desc = "Case-insensitive text in name, SKU or description.")] search: Option<
            String,
        >,
    ) -> Result<Conn<Product>> {
        let scope = policy::product_scope(caller(ctx));
        let search = search_text("search", search)?;
        let page = page(ctx, first, after, last, before)?;
        let page = service::product::list(db(ctx)?, scope, search.as_deref(), page).await?;
        Ok(connection(cursor_key(ctx)?, page, Product))
    }

    /// One product; null when it does not exist or is not the caller's to see.
    async fn product(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Product>> {
        let scope = policy::product_scope(caller(ctx));
        let id = parse_id(NodeKind::Product, "id", &id)?;
        Ok(service::product::get(db(ctx)?, scope, id)
            .await?
            .map(Product))
    }

    /// The knowledge articles the caller may read.
    #[graphql(complexity = "super::cost(first, last, child_complexity)")]
    async fn knowledge_articles(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        filter: Option<KnowledgeArticleFilter>,
    ) -> Result<Conn<KnowledgeArticle>> {
        let scope = policy::article_scope(caller(ctx));
        let filter = filter.unwrap_or_default();
        let department_id = filter
            .department_id
            .map(|id| parse_id(NodeKind::Department, "filter.departmentId", &id))
            .transpose()?;
        let audience = filter.audience.map(Into::into);
        let page = page(ctx, first, after, last, before)?;
        let page = service::knowledge::list(db(ctx)?, scope, department_id, audience, page).await?;
        Ok(connection(cursor_key(ctx)?, page, KnowledgeArticle))
    }

    /// One knowledge article; null when it does not exist or is not the caller's to see.
    async fn knowledge_article(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> Result<Option<KnowledgeArticle>> {
        let scope = policy::article_scope(caller(ctx));
        let id = parse_id(NodeKind::KnowledgeArticle, "id", &id)?;
        Ok(service::knowledge::get(db(ctx)?, scope, id)
            .await?
            .map(KnowledgeArticle))
    }

    /// Internal service agreements between departments.
    #[graphql(
        complexity = "super::cost(first, last, child_complexity)",
        visible = "crate::policy::visible::internal"
    )]
    async fn service_agreements(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Conn<ServiceAgreement>> {
        signed_in(policy::agreement_scope(caller(ctx)))?;
        let page =
            service::agreement::list(db(ctx)?, page(ctx, first, after, last, before)?).await?;
        Ok(connection(cursor_key(ctx)?, page, ServiceAgreement))
    }

    /// Requests that read internal-only fields, oldest first (managers only).
    #[graphql(
        complexity = "super::cost(first, last, child_complexity)",
        visible = "crate::policy::visible::manager"
    )]
    async fn access_audit(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        #[graphql(desc = "Only this caller's requests.")] customer_id: Option<ID>,
    ) -> Result<Conn<AccessAuditEntry>> {
        signed_in(policy::audit_scope(caller(ctx)))?;
        let customer_id = customer_id
            .map(|id| parse_id(NodeKind::Customer, "customerId", &id))
            .transpose()?;
        let page = service::audit::list(
            db(ctx)?,
            customer_id,
            page(ctx, first, after, last, before)?,
        )
        .await?;
        Ok(connection(cursor_key(ctx)?, page, AccessAuditEntry))
    }

    /// External satisfaction (NPS, CSAT, response and resolution times, retention, revenue)
    /// over a range, grouped.
    #[graphql(visible = "crate::policy::visible::internal")]
    async fn external_satisfaction(
        &self,
        ctx: &Context<'_>,
        range: DateRange,
        #[graphql(default)] group_by: SatisfactionGrouping,
    ) -> Result<Vec<ExternalSatisfaction>> {
        policy::require_internal(caller(ctx))?;
        let rows =
            service::satisfaction::external(db(ctx)?, range.resolve()?, group_by.into()).await?;
        Ok(rows.into_iter().map(ExternalSatisfaction).collect())
    }

    /// How each service agreement was honoured over a range (employees: those of their own
    /// department; managers: all).
    #[graphql(visible = "crate::policy::visible::internal")]
    async fn service_levels(
        &self,
        ctx: &Context<'_>,
        range: DateRange,
    ) -> Result<Vec<AgreementServiceLevel>> {
        let scope = signed_in(policy::service_level_scope(caller(ctx)))?;
        let range = range.resolve()?;
        let db = db(ctx)?;
        let agreements = service::service_level::agreements_in_scope(db, scope).await?;
        let ids: Vec<i32> = agreements.iter().map(|a| a.id).collect();
        let mut levels = service::service_level::per_agreement(db, &ids, range).await?;
        Ok(agreements
            .into_iter()
            .map(|a| AgreementServiceLevel {
                level: ServiceLevel(levels.remove(&a.id).unwrap_or_default()),
                agreement: ServiceAgreement(a),
            })
            .collect())
    }

    /// How each department served its internal customers over a range (employees: their
    /// own department; managers: all).
    #[graphql(visible = "crate::policy::visible::internal")]
    async fn department_service_levels(
        &self,
        ctx: &Context<'_>,
        range: DateRange,
    ) -> Result<Vec<DepartmentServiceLevel>> {
        let scope = signed_in(policy::service_level_scope(caller(ctx)))?;
        let rows = service::service_level::per_provider(db(ctx)?, scope, range.resolve()?).await?;
        Ok(rows
            .into_iter()
            .map(|(d, level)| DepartmentServiceLevel {
                department: Department::from(d),
                level: ServiceLevel(level),
            })
            .collect())
    }

    /// Walks from a (customer-facing) department back through every internal supplier it
    /// depends on, with each link's service level over the range.
    #[graphql(visible = "crate::policy::visible::manager")]
    async fn service_chain(
        &self,
        ctx: &Context<'_>,
        department_id: ID,
        range: DateRange,
    ) -> Result<ServiceChain> {
        policy::require_manager(caller(ctx))?;
        let scope = signed_in(policy::department_scope(caller(ctx)))?;
        let id = parse_id(NodeKind::Department, "departmentId", &department_id)?;
        let db = db(ctx)?;
        let links = service::service_level::chain(db, id, range.resolve()?).await?;
        let department = service::department::get(db, scope, id)
            .await?
            .ok_or(Error::NotFound { what: "department" })?;
        Ok(ServiceChain {
            department: Department::from(department),
            links: links.into_iter().map(ServiceChainLink).collect(),
        })
    }

    /// Anonymous morale per department, for `count` consecutive fixed buckets (weeks, or the
    /// weeks starting in a month) from the one `from` falls in. Figures are withheld where they
    /// could single anyone out.
    #[graphql(visible = "crate::policy::visible::internal")]
    async fn morale_summary(
        &self,
        ctx: &Context<'_>,
        period: SummaryPeriod,
        #[graphql(desc = "A day in the first bucket (for MONTH: its calendar month).")]
        from: NaiveDate,
        #[graphql(default = 1, desc = "How many buckets, 1–60.")] count: i32,
    ) -> Result<Vec<SentimentPeriod>> {
        sentiment(ctx, Voice::Morale, period, from, count).await
    }

    /// Anonymous feedback each department received from others, for `count` consecutive fixed
    /// buckets from the one `from` falls in. Figures are withheld where they could single
    /// anyone out.
    #[graphql(visible = "crate::policy::visible::internal")]
    async fn department_feedback_summary(
        &self,
        ctx: &Context<'_>,
        period: SummaryPeriod,
        #[graphql(desc = "A day in the first bucket (for MONTH: its calendar month).")]
        from: NaiveDate,
        #[graphql(default = 1, desc = "How many buckets, 1–60.")] count: i32,
    ) -> Result<Vec<SentimentPeriod>> {
        sentiment(ctx, Voice::Feedback, period, from, count).await
    }

    /// Individual morale answers for the weeks starting in the range.
    #[graphql(visible = "crate::policy::visible::manager")]
    async fn morale_pulses(&self, ctx: &Context<'_>, range: DateRange) -> Result<Vec<MoralePulse>> {
        policy::require_manager(caller(ctx))?;
        let rows = service::pulse::pulses(db(ctx)?, range.resolve()?).await?;
        Ok(rows.into_iter().map(MoralePulse).collect())
    }

    /// Individual inter-department feedback given in the range.
    #[graphql(visible = "crate::policy::visible::manager")]
    async fn department_feedback(
        &self,
        ctx: &Context<'_>,
        range: DateRange,
    ) -> Result<Vec<DepartmentFeedbackEntry>> {
        policy::require_manager(caller(ctx))?;
        let rows = service::pulse::feedback(db(ctx)?, range.resolve()?).await?;
        Ok(rows.into_iter().map(DepartmentFeedbackEntry).collect())
    }
}

async fn sentiment(
    ctx: &Context<'_>,
    voice: Voice,
    period: SummaryPeriod,
    from: NaiveDate,
    count: i32,
) -> Result<Vec<SentimentPeriod>> {
    policy::require_internal(caller(ctx))?;
    let rows = service::sentiment::summary(db(ctx)?, voice, period.into(), from, count).await?;
    Ok(rows.into_iter().map(SentimentPeriod).collect())
}
