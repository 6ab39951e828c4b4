//! What you may ask: the schema, its root objects, output types, loaders and the guard that
//! keeps each caller's schema shaped by its role. Resolvers here only map requests to services.

pub mod batch;
pub mod batching;
pub mod context;
pub mod guard;
pub mod loaders;
pub mod mutation;
pub mod query;
pub mod selection_order;
pub mod subscription;
pub mod types;

use std::sync::Arc;

use apollo_compiler::ast::OperationType;
use async_graphql::{
    Data, Request, Response, Schema, SchemaBuilder, ServerError, ValidationMode, Variables,
    futures_util::stream::{self, BoxStream, StreamExt},
};
use sea_orm::DatabaseConnection;

use crate::{auth::Caller, service::write::Writer};

use self::{
    guard::{Admitted, Allowed, Guard, ReadObserver, codes, tiers::TierSchemas},
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
    /// Batch loaders' window (WebSocket operations; HTTP requests settle instead).
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

/// The schema as every transport runs it: the guard judges each request against its caller's
/// tier, then async-graphql executes what it let through.
#[derive(Clone)]
pub struct Served {
    schema: AppSchema,
    guard: Guard,
}

/// One request's answer and the operation that ran.
pub struct Executed {
    /// The GraphQL response.
    pub response: Response,
    /// The operation that ran (`Some(None)`: an anonymous one); `None` when the request was
    /// refused before execution.
    pub operation: Option<Option<String>>,
}

impl Served {
    /// Runs `request` for `caller` (who is also put into the request's data), if it is an
    /// operation the transport `allowed`.
    pub async fn execute(
        &self,
        caller: Caller,
        allowed: Allowed,
        mut request: Request,
    ) -> Executed {
        let admitted = match self.guard.admit(&caller, allowed, &mut request) {
            Ok(admitted) => admitted,
            Err(errors) => return refused(errors),
        };
        if admitted.kind == OperationType::Subscription {
            let message = "Subscriptions are not supported on this transport: use a WebSocket.";
            let error = codes::coded(ServerError::new(message, None), codes::BAD_REQUEST);
            return refused(vec![error]);
        }
        let variables = request.variables.clone();
        let mut response = limits_coded(self.schema.execute(request.data(caller)).await);
        in_selection_order(&mut response, &admitted, &variables);
        let operation = (!is_request_error(&response)).then_some(admitted.operation_name);
        Executed {
            response,
            operation,
        }
    }

    /// The type and name of the operation `request` would run for `caller`, decided under the
    /// guard's limits (see [`Guard::operation`]).
    pub fn operation(
        &self,
        caller: &Caller,
        request: &Request,
    ) -> Option<(OperationType, Option<String>)> {
        self.guard.operation(caller, request)
    }

    /// Whether callers of `tier` can run `text` (see [`Guard::validates`]): what persisted
    /// documents ask before they store or serve a document.
    pub fn runs(&self, tier: crate::policy::Tier, text: &str) -> bool {
        self.guard.validates(tier, text)
    }

    /// Runs a WebSocket operation for `caller`, whose identity and loaders are in
    /// `session_data`.
    pub fn execute_stream(
        &self,
        caller: &Caller,
        mut request: Request,
        session_data: Arc<Data>,
    ) -> BoxStream<'static, Response> {
        let admitted = match self.guard.admit(caller, Allowed::Any, &mut request) {
            Ok(admitted) => admitted,
            Err(errors) => {
                return stream::once(async move { Response::from_errors(errors) }).boxed();
            }
        };
        let variables = request.variables.clone();
        // Only a first answer can be a refusal before execution; later ones are events.
        self.schema
            .execute_stream_with_session_data(request, session_data)
            .enumerate()
            .map(move |(n, response)| {
                let mut response = match n {
                    0 => limits_coded(response),
                    _ => response,
                };
                in_selection_order(&mut response, &admitted, &variables);
                response
            })
            .boxed()
    }
}

/// Puts the answer's objects back in selection order (see [`selection_order`]).
fn in_selection_order(response: &mut Response, admitted: &Admitted, variables: &Variables) {
    if let Some(document) = admitted.document() {
        let operation = admitted.operation_name.as_deref();
        selection_order::reorder(&mut response.data, document, operation, variables);
    }
}

fn refused(errors: Vec<ServerError>) -> Executed {
    Executed {
        response: Response::from_errors(errors),
        operation: None,
    }
}

/// True when the request stopped before execution: no data, and no error with a path.
pub fn is_request_error(response: &Response) -> bool {
    !response.errors.is_empty()
        && response.data == async_graphql::Value::Null
        && response.errors.iter().all(|e| e.path.is_empty())
}

/// async-graphql refuses an admitted document only for its limits (depth, complexity,
/// recursion, directives per field): those errors get `QUERY_TOO_COMPLEX`.
fn limits_coded(mut response: Response) -> Response {
    if is_request_error(&response) {
        for err in &mut response.errors {
            *err = codes::coded(err.clone(), codes::QUERY_TOO_COMPLEX);
        }
    }
    response
}

/// Builds the schema with its guard: the per-tier schemas are computed first, then the served
/// schema validates every document against its caller's. async-graphql's own validation runs
/// in fast mode (depth and complexity only): the guard has already validated fully. No
/// extension is installed (but OpenTelemetry's, when built with it): with none, async-graphql
/// resolves each field directly instead of through a chain of boxed futures. `cursors` seals and
/// opens every list's cursors.
pub async fn build_schema(
    db: DatabaseConnection,
    writer: Writer,
    limits: Limits,
    cursors: crate::auth::CursorKey,
    observer: Option<ReadObserver>,
) -> Result<Served, String> {
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
    // `types::InOrder` hands fields to async-graphql's executor when this feature is on: it
    // cannot ask whether extensions are installed, so any other extension must be added there.
    #[cfg(feature = "otel")]
    let builder = builder.extension(async_graphql::extensions::Tracing);
    let schema = builder
        .data(writer.bus().clone())
        .data(writer)
        .data(db)
        .data(cursors)
        .data(tiers)
        .validation_mode(ValidationMode::Fast)
        .limit_depth(limits.depth)
        .limit_complexity(limits.complexity)
        .limit_recursive_depth(limits.document.nesting)
        .limit_directives(20)
        .finish();
    Ok(Served { schema, guard })
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
