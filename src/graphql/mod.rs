//! What you may ask: the schema, its root objects, output types, loaders and the guard that
//! keeps each caller's schema shaped by its role. Resolvers here only map requests to services.

pub mod context;
pub mod loaders;
pub mod mutation;
pub mod query;
pub mod subscription;
pub mod types;
pub mod visibility;

use async_graphql::{Schema, SchemaBuilder};
use sea_orm::DatabaseConnection;

use crate::service::events::EventBus;

use self::{
    mutation::Mutation,
    query::Query,
    subscription::Subscription,
    visibility::{ReadObserver, Views, VisibilityGuard},
};

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
}

impl Limits {
    /// The limits a configuration asks for.
    pub fn from_config(config: &crate::config::Config) -> Self {
        Self {
            depth: config.max_query_depth,
            complexity: config.max_query_complexity,
            loader_delay: std::time::Duration::from_millis(config.loader_batch_delay_ms),
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

/// Cost of a nested connection field (`first` rows per parent).
pub fn nested_cost(first: Option<i32>, child_complexity: usize) -> usize {
    cost(first, None, child_complexity)
}

fn builder() -> SchemaBuilder<Query, Mutation, Subscription> {
    Schema::build(Query, Mutation, Subscription)
}

/// Builds the schema with its guard: the per-tier views are computed first by introspecting an
/// unguarded copy, then the served schema enforces them.
pub async fn build_schema(
    db: DatabaseConnection,
    bus: EventBus,
    limits: Limits,
    observer: Option<ReadObserver>,
) -> Result<AppSchema, String> {
    let views = Views::compute(&builder().finish()).await?;
    Ok(builder()
        .data(db)
        .data(bus)
        .data(views.clone())
        .extension(VisibilityGuard::new(views, observer))
        .limit_depth(limits.depth)
        .limit_complexity(limits.complexity)
        .limit_recursive_depth(32)
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
