//! What you may ask: the schema, its root objects, output types, loaders and the guard that
//! keeps each caller's schema shaped by its role. Resolvers here only map requests to services.

pub mod batching;
pub mod context;
pub mod guard;
pub mod loaders;
pub mod mutation;
pub mod query;
pub mod subscription;
pub mod types;

use async_graphql::{Schema, SchemaBuilder, ValidationMode};
use sea_orm::DatabaseConnection;

use crate::service::write::Writer;

use self::{
    guard::{Guard, ReadObserver, tiers::TierSchemas},
    mutation::Mutation,
    query::Query,
    subscription::Subscription,
};
use crate::config::Introspection;

/// The gateway's schema type.
pub type AppSchema = Schema<Query, Mutation, Subscription>;

/// Limits that keep a single request from exhausting the server.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Deepest selection nesting.
    pub depth: usize,
    /// Largest complexity.
    pub complexity: usize,
    /// DataLoader batching window.
    pub loader_delay: std::time::Duration,
    /// Bounds checked while parsing, before anything recurses into a document.
    pub document: guard::Limits,
    /// Size of the validation cache, in kilobytes of document text.
    pub validation_cache_kb: u64,
    /// Who may introspect.
    pub introspection: Introspection,
}

impl Limits {
    /// The limits a configuration asks for.
    pub fn from_config(config: &crate::config::Config) -> Self {
        Self {
            depth: config.max_query_depth,
            complexity: config.max_query_complexity,
            loader_delay: std::time::Duration::from_millis(config.loader_batch_delay_ms),
            document: guard::Limits {
                nesting: config.max_query_nesting,
                tokens: config.max_query_tokens,
                fields: config.max_query_fields,
            },
            validation_cache_kb: config.validation_cache_kb,
            introspection: config.introspection(),
        }
    }
}

/// Cost of a connection field for the complexity limit: its page size times what each node
/// asks for, so a query's price follows the rows it can touch (an alias bomb of cheap lists
/// is refused before it runs).
pub fn cost(first: Option<i32>, last: Option<i32>, child_complexity: usize) -> usize {
    let rows = first
        .or(last)
        .unwrap_or(crate::service::page::DEFAULT_PAGE_SIZE)
        .clamp(0, crate::service::page::MAX_PAGE_SIZE) as usize;
    5 + rows * child_complexity.max(1)
}

/// Cost of `exportMyData`: more than half the default complexity limit, so one export fits in
/// an operation and a second (an alias) does not. An export reads every row its caller owns;
/// priced like one field, a document of aliases would run thousands of them.
pub const EXPORT_COST: usize = crate::config::DEFAULT_MAX_QUERY_COMPLEXITY / 2 + 1;

/// Cost of a nested connection field (`first` rows per parent).
pub fn nested_cost(first: Option<i32>, child_complexity: usize) -> usize {
    cost(first, None, child_complexity)
}

fn builder() -> SchemaBuilder<Query, Mutation, Subscription> {
    Schema::build(Query, Mutation, Subscription)
}

/// The schema of every tier, derived by introspecting an unguarded copy of the schema.
pub async fn tier_schemas() -> Result<TierSchemas, String> {
    TierSchemas::compute(&builder().finish(), &sdl()).await
}

/// Builds the schema with its guard: the per-tier schemas are computed first, then the served
/// schema validates every document against its caller's. async-graphql's own validation runs
/// in fast mode (depth and complexity only): the guard has already validated fully.
pub async fn build_schema(
    db: DatabaseConnection,
    writer: Writer,
    limits: Limits,
    observer: Option<ReadObserver>,
) -> Result<AppSchema, String> {
    let tiers = tier_schemas().await?;
    let guard = Guard::new(
        tiers.clone(),
        limits.document,
        limits.introspection,
        limits.validation_cache_kb,
        observer,
    );
    let builder = builder();
    // With the `otel` feature: a span per operation, parse, validation and resolver.
    #[cfg(feature = "otel")]
    let builder = builder.extension(async_graphql::extensions::Tracing);
    Ok(builder
        .data(writer.bus().clone())
        .data(writer)
        .data(db)
        .data(tiers)
        .extension(guard)
        .validation_mode(ValidationMode::Fast)
        .extension(crate::ops::operation::RecordOperation)
        .limit_depth(limits.depth)
        .limit_complexity(limits.complexity)
        .limit_recursive_depth(limits.document.nesting)
        .limit_directives(20)
        .finish())
}

/// The SDL of the full (manager) schema; `schema.graphql` is this output.
pub fn sdl() -> String {
    builder().finish().sdl_with_options(
        async_graphql::SDLExportOptions::new()
            .sorted_fields()
            .sorted_enum_items(),
    )
}

/// The SDL the `schema` command prints: the full schema, or one tier's.
pub async fn print_sdl(
    tier: Option<crate::config::SchemaTier>,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    use crate::{config::SchemaTier, policy::Tier};
    let text = match tier {
        None => sdl(),
        Some(SchemaTier::Public) => tier_schemas().await?.sdl(Tier::Public),
        Some(SchemaTier::Employee) => tier_schemas().await?.sdl(Tier::Internal),
    };
    print!("{text}");
    Ok(())
}
