//! The HTTP application: shared state, the router (callable in-process by tests), the GraphQL
//! handlers, and serving with graceful shutdown.

use std::{sync::Arc, time::Duration};

use async_graphql::http::ALL_WEBSOCKET_PROTOCOLS;
use async_graphql::{
    http::GraphiQLSource,
    parser::types::{DocumentOperations, OperationType},
};
use async_graphql_axum::{GraphQLProtocol, GraphQLWebSocket};
use axum::{
    Json, Router,
    body::Bytes,
    extract::{
        DefaultBodyLimit, Query, State, WebSocketUpgrade,
        rejection::BytesRejection,
        ws::{CloseFrame, Message},
    },
    http::{HeaderMap, HeaderValue, Method, StatusCode, header},
    response::{Html, IntoResponse, Response},
    routing::get,
};
use futures_util::{SinkExt, StreamExt};
use sea_orm::DatabaseConnection;
use serde::Deserialize;
use serde_json::json;
use tower_http::{cors::CorsLayer, timeout::TimeoutLayer, trace::TraceLayer};

use crate::{
    auth::{Caller, Role, TokenIssuer, TokenVerifier},
    config::Config,
    graphql::{self, AppSchema, Limits, loaders::Loaders, visibility, visibility::ReadObserver},
    seed,
    service::{
        audit::{self, AuditEntry},
        events::EventBus,
    },
};

/// Boxed error for start-up failures, printed once by `main`.
pub type StartError = Box<dyn std::error::Error + Send + Sync>;

/// What every request handler shares.
#[derive(Clone)]
pub struct AppState {
    /// The executable schema.
    pub schema: AppSchema,
    /// The database pool.
    pub db: DatabaseConnection,
    /// Bearer-token verification.
    pub verifier: Arc<TokenVerifier>,
    /// DataLoader batching window.
    pub loader_delay: Duration,
}

impl AppState {
    /// Builds the state from an open database and a verifier, starting the access-audit
    /// writer; await the returned handle after serving to flush the last audit entries.
    pub async fn new(
        db: DatabaseConnection,
        verifier: TokenVerifier,
        limits: Limits,
    ) -> Result<(Self, tokio::task::JoinHandle<()>), StartError> {
        let (sink, writer) = audit::start(db.clone());
        let observer: ReadObserver = Arc::new(move |caller: &Caller, operation, fields| {
            if let Some(viewer) = caller.viewer() {
                sink.record(AuditEntry {
                    customer_id: viewer.customer_id,
                    role: viewer.role.as_claim(),
                    operation_name: operation.map(str::to_owned),
                    fields,
                });
            }
        });
        let bus = EventBus::start(&db).await?;
        let schema = graphql::build_schema(db.clone(), bus, limits, Some(observer)).await?;
        let state = Self {
            schema,
            db,
            verifier: Arc::new(verifier),
            loader_delay: limits.loader_delay,
        };
        Ok((state, writer))
    }
}

/// The router the binary serves and tests drive in-process.
pub fn router(state: AppState, config: &Config) -> Router {
    let cors = CorsLayer::new()
        .allow_origin(tower_http::cors::Any)
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE, header::ACCEPT])
        .max_age(Duration::from_secs(3600));
    Router::new()
        .route("/graphql", get(graphql_get).post(graphql_post))
        .route("/graphql/ws", get(graphql_ws))
        .route("/health", get(health))
        .fallback(not_found)
        .with_state(state)
        .layer(DefaultBodyLimit::max(config.max_body_bytes))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            config.request_timeout(),
        ))
        .layer(cors)
        .layer(TraceLayer::new_for_http())
}

/// How the client wants the response encoded (GraphQL over HTTP).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Format {
    /// `application/graphql-response+json`: request errors get 4xx statuses.
    GraphqlResponse,
    /// Legacy `application/json`: always 200 once the request was understood.
    Json,
}

impl Format {
    fn from_headers(headers: &HeaderMap) -> Self {
        let accept = headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if accept.contains("application/graphql-response+json") {
            Format::GraphqlResponse
        } else {
            Format::Json
        }
    }

    fn content_type(self) -> HeaderValue {
        match self {
            Format::GraphqlResponse => {
                HeaderValue::from_static("application/graphql-response+json; charset=utf-8")
            }
            Format::Json => HeaderValue::from_static("application/json; charset=utf-8"),
        }
    }
}

/// A response holding only errors, for requests that never reached execution.
fn request_error(status: StatusCode, format: Format, code: &str, message: &str) -> Response {
    let body = json!({ "errors": [{ "message": message, "extensions": { "code": code } }] });
    let mut response = (status, Json(body)).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, format.content_type());
    if status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer error=\"invalid_token\""),
        );
    }
    response
}

/// Decodes the caller from the `Authorization` header: absent is anonymous, invalid is an error.
fn authenticate(state: &AppState, headers: &HeaderMap) -> Result<Caller, String> {
    match headers.get(header::AUTHORIZATION) {
        None => Ok(Caller(None)),
        Some(value) => {
            let value = value
                .to_str()
                .map_err(|_| "the Authorization header is not valid text".to_owned())?;
            state
                .verifier
                .verify_header(value)
                .map(|viewer| Caller(Some(viewer)))
                .map_err(|e| e.0)
        }
    }
}

async fn execute(
    state: AppState,
    headers: HeaderMap,
    request: async_graphql::Request,
    format: Format,
) -> Response {
    let caller = match authenticate(&state, &headers) {
        Ok(caller) => caller,
        Err(message) => {
            return request_error(
                StatusCode::UNAUTHORIZED,
                format,
                "UNAUTHENTICATED",
                &message,
            );
        }
    };
    let loaders = Loaders::new(&state.db, &caller, state.loader_delay);
    let mut response = state
        .schema
        .execute(request.data(caller).data(loaders))
        .await;
    let mut request_failed = false;
    for err in &mut response.errors {
        let code = err.extensions.as_ref().and_then(|e| e.get("code")).cloned();
        match code {
            None => *err = visibility::coded(err.clone(), "BAD_USER_INPUT"),
            Some(async_graphql::Value::String(code))
                if code == visibility::PARSE_FAILED || code == visibility::VALIDATION_FAILED =>
            {
                request_failed = true
            }
            Some(_) => {}
        }
    }
    let status = if request_failed && format == Format::GraphqlResponse {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let body = match serde_json::to_value(&response).and_then(|mut json| {
        // A request that never executed has no `data` entry at all (GraphQL over HTTP).
        if request_failed && let Some(object) = json.as_object_mut() {
            object.remove("data");
        }
        serde_json::to_vec(&json)
    }) {
        Ok(body) => body,
        Err(err) => {
            tracing::error!(%err, "cannot serialise a GraphQL response");
            return request_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                format,
                "INTERNAL_SERVER_ERROR",
                "internal server error",
            );
        }
    };
    let mut http = (status, body).into_response();
    http.headers_mut()
        .insert(header::CONTENT_TYPE, format.content_type());
    http
}

async fn graphql_post(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let format = Format::from_headers(&headers);
    let body = match body {
        Ok(body) => body,
        Err(rejection) => {
            // Too large (413) or unreadable: still a GraphQL-shaped answer with a code.
            let status = rejection.status();
            let message = if status == StatusCode::PAYLOAD_TOO_LARGE {
                "the request body is too large"
            } else {
                "the request body could not be read"
            };
            return request_error(status, format, "BAD_REQUEST", message);
        }
    };
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if essence != "application/json" && essence != "application/graphql-response+json" {
        return request_error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format,
            "BAD_REQUEST",
            "send the request as Content-Type: application/json",
        );
    }
    let request = match parse_body(&body) {
        Ok(request) => request,
        Err(message) => {
            return request_error(StatusCode::BAD_REQUEST, format, "BAD_REQUEST", &message);
        }
    };
    execute(state, headers, request, format).await
}

fn parse_body(body: &[u8]) -> Result<async_graphql::Request, String> {
    let value: serde_json::Value = serde_json::from_slice(body).map_err(|e| {
        format!(
            "the body is not valid JSON (line {}, column {})",
            e.line(),
            e.column()
        )
    })?;
    let Some(object) = value.as_object() else {
        return Err("the body must be a JSON object; batched requests are not supported".into());
    };
    match object.get("query") {
        Some(serde_json::Value::String(_)) => {}
        Some(_) => return Err("`query` must be a string".into()),
        None => return Err("the body has no `query`".into()),
    }
    if let Some(vars) = object.get("variables")
        && !(vars.is_object() || vars.is_null())
    {
        return Err("`variables` must be an object".into());
    }
    if let Some(name) = object.get("operationName")
        && !(name.is_string() || name.is_null())
    {
        return Err("`operationName` must be a string".into());
    }
    serde_json::from_value(value).map_err(|_| "the body is not a GraphQL request".to_owned())
}

/// Query-string form of a GraphQL request (`GET /graphql?query=…`).
#[derive(Deserialize)]
struct GetParams {
    query: Option<String>,
    #[serde(rename = "operationName")]
    operation_name: Option<String>,
    variables: Option<String>,
}

async fn graphql_get(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(params): Query<GetParams>,
) -> Response {
    let format = Format::from_headers(&headers);
    let Some(query) = params.query else {
        return Html(
            GraphiQLSource::build()
                .endpoint("/graphql")
                .subscription_endpoint("/graphql/ws")
                .title("CRM gateway")
                .finish(),
        )
        .into_response();
    };
    // GET must never change anything: mutations only travel by POST.
    if let Ok(doc) = async_graphql::parser::parse_query(&query) {
        let is_mutation = match &doc.operations {
            DocumentOperations::Single(op) => op.node.ty == OperationType::Mutation,
            DocumentOperations::Multiple(ops) => params
                .operation_name
                .as_deref()
                .and_then(|name| ops.get(name))
                .is_some_and(|op| op.node.ty == OperationType::Mutation),
        };
        if is_mutation {
            let mut response = request_error(
                StatusCode::METHOD_NOT_ALLOWED,
                format,
                "BAD_REQUEST",
                "mutations must be sent with POST",
            );
            response
                .headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static("POST"));
            return response;
        }
    }
    let mut request = async_graphql::Request::new(query);
    if let Some(name) = params.operation_name {
        request = request.operation_name(name);
    }
    if let Some(vars) = params.variables {
        match serde_json::from_str::<serde_json::Value>(&vars) {
            Ok(value @ serde_json::Value::Object(_)) => {
                request = request.variables(async_graphql::Variables::from_json(value));
            }
            _ => {
                return request_error(
                    StatusCode::BAD_REQUEST,
                    format,
                    "BAD_REQUEST",
                    "`variables` must be a JSON object",
                );
            }
        }
    }
    execute(state, headers, request, format).await
}

/// Live subscriptions over WebSocket (graphql-ws, and the legacy subscriptions-transport-ws).
/// The token comes in the `connection_init` payload (`{"Authorization": "Bearer …"}`) or, for
/// non-browser clients, in the upgrade request's `Authorization` header.
async fn graphql_ws(
    State(state): State<AppState>,
    headers: HeaderMap,
    protocol: GraphQLProtocol,
    upgrade: WebSocketUpgrade,
) -> Response {
    let header_caller = match authenticate(&state, &headers) {
        Ok(caller) => caller,
        Err(message) => {
            return request_error(
                StatusCode::UNAUTHORIZED,
                Format::Json,
                "UNAUTHENTICATED",
                &message,
            );
        }
    };
    upgrade
        .protocols(ALL_WEBSOCKET_PROTOCOLS)
        .on_upgrade(move |socket| {
            let schema = state.schema.clone();
            let (sink, stream) = socket.split();
            // graphql-ws says a refused connection_init closes with 4403 Forbidden;
            // async-graphql closes with a generic 1002, so refusals are marked and re-coded.
            let sink = sink.with(|message: Message| async move {
                Ok::<_, axum::Error>(match message {
                    Message::Close(Some(frame))
                        if frame.code == 1002 && frame.reason.starts_with(FORBIDDEN) =>
                    {
                        Message::Close(Some(CloseFrame {
                            code: 4403,
                            reason: frame.reason,
                        }))
                    }
                    other => other,
                })
            });
            GraphQLWebSocket::new_with_pair(sink, stream, schema, protocol)
                .on_connection_init(move |payload| async move {
                    let caller = match bearer_from_payload(&payload) {
                        Some(value) => {
                            Caller(Some(state.verifier.verify_header(value).map_err(|e| {
                                async_graphql::Error::new(format!("{FORBIDDEN}: {e}"))
                            })?))
                        }
                        None => header_caller,
                    };
                    let mut data = async_graphql::Data::default();
                    data.insert(Loaders::new(&state.db, &caller, state.loader_delay));
                    data.insert(caller);
                    Ok(data)
                })
                .serve()
        })
}

/// Prefix of a refused `connection_init`'s close reason.
const FORBIDDEN: &str = "Forbidden";

/// The `Authorization` value of a `connection_init` payload, in the spellings clients use.
fn bearer_from_payload(payload: &serde_json::Value) -> Option<&str> {
    ["Authorization", "authorization"]
        .iter()
        .find_map(|key| payload.get(key).and_then(|v| v.as_str()))
        .or_else(|| {
            payload
                .get("headers")
                .and_then(|h| h.get("Authorization").or_else(|| h.get("authorization")))
                .and_then(|v| v.as_str())
        })
}

async fn health(State(state): State<AppState>) -> Response {
    match state.db.ping().await {
        Ok(()) => Json(json!({ "status": "ok", "database": "ok" })).into_response(),
        Err(err) => {
            tracing::warn!(%err, "health check: database unreachable");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({ "status": "unavailable", "database": "unreachable" })),
            )
                .into_response()
        }
    }
}

async fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(json!({ "errors": [{ "message": "not found: the API lives at /graphql", "extensions": { "code": "NOT_FOUND" } }] })),
    )
        .into_response()
}

/// Starts logging; `RUST_LOG` overrides the default level.
pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| "info,sqlx=warn,sea_orm=warn,sea_orm_migration=warn".into());
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

/// Serves the gateway until Ctrl-C or SIGTERM.
pub async fn run(config: Config) -> Result<(), StartError> {
    let db =
        crate::db::connect_and_migrate(&config.database_url, config.db_max_connections).await?;
    let demo = if config.should_seed() {
        seed::seed_if_empty(&db).await?
    } else {
        None
    };
    let dev_secret = config.is_dev_mode().then(random_secret);
    let verifier = TokenVerifier::from_config(&config, dev_secret.as_deref())?;
    let limits = Limits::from_config(&config);
    let (state, audit_writer) = AppState::new(db.clone(), verifier, limits).await?;
    let listener = tokio::net::TcpListener::bind(config.listen_addr).await?;
    let url = format!("http://{}/graphql", listener.local_addr()?);
    if let Some(secret) = &dev_secret {
        tracing::warn!(
            "no JWT_SECRET or JWT_PUBLIC_KEY_FILE configured: dev mode with a random secret; \
             tokens stop working when the process restarts"
        );
        print_demo_tokens(&config, secret, &db, demo).await;
    }
    tracing::info!(%url, "GraphiQL and the GraphQL endpoint are ready");
    axum::serve(listener, router(state, &config))
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    // The router (and with it the last audit sink) is gone: let the writer drain its queue.
    if tokio::time::timeout(Duration::from_secs(5), audit_writer)
        .await
        .is_err()
    {
        tracing::warn!("access audit writer did not finish within 5 s");
    }
    tracing::info!("shut down cleanly");
    Ok(())
}

fn random_secret() -> String {
    use rand::{Rng, distr::Alphanumeric};
    rand::rng()
        .sample_iter(&Alphanumeric)
        .take(48)
        .map(char::from)
        .collect()
}

async fn print_demo_tokens(
    config: &Config,
    secret: &str,
    db: &DatabaseConnection,
    seeded: Option<seed::DemoIds>,
) {
    let ids = match seeded {
        Some(ids) => Some(ids),
        None => seed::demo_ids(db).await.ok().flatten(),
    };
    let Some(ids) = ids else {
        tracing::warn!("no demo customers found: mint tokens with `crm-gateway token`");
        return;
    };
    let issuer = TokenIssuer::new(secret, config);
    let ttl = Duration::from_secs(12 * 3600);
    println!(
        "\nDemo bearer tokens (valid 12 h, paste into GraphiQL's Headers as {{\"Authorization\": \"Bearer …\"}}):"
    );
    for (label, role, id) in [
        ("employee", Role::Employee, ids.employee),
        ("manager ", Role::Manager, ids.manager),
        ("client  ", Role::Client, ids.client),
    ] {
        match issuer.mint(role, id, ttl) {
            Ok(token) => println!("  {label} (customer {id}): Bearer {token}"),
            Err(err) => tracing::error!(%err, "cannot mint a demo token"),
        }
    }
    println!();
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(err) = tokio::signal::ctrl_c().await {
            tracing::error!(%err, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut sig) => {
                sig.recv().await;
            }
            Err(err) => {
                tracing::error!(%err, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
