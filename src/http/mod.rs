//! The HTTP transport: the router and what every endpoint shares (content negotiation,
//! request errors, reading the bearer token). One file per endpoint family:
//! [`graphql`] (POST and GET), [`ws`] (subscriptions), [`graphiql`] (the explorer page)
//! and [`health`].

pub mod gate;
pub mod graphiql;
pub mod graphql;
pub mod health;
pub mod middleware;
pub mod subjects;
pub mod ws;
pub mod ws_session;

use std::time::Duration;

use axum::{
    Json, Router,
    extract::DefaultBodyLimit,
    http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use serde_json::json;
use tower_http::{
    cors::{AllowOrigin, CorsLayer},
    timeout::TimeoutLayer,
    trace::TraceLayer,
};

use self::subjects::SubjectError;
use crate::{
    app::AppState,
    auth::{AuthError, Caller},
    config::Config,
    ops::context::{REQUEST_ID, current_request_id},
};

/// The router the binary serves and tests drive in-process.
pub fn router(state: AppState, config: &Config) -> Router {
    let ops = state.ops.clone();
    let api = Router::new()
        .route("/", get(graphiql::root))
        .route("/graphiql/{*path}", get(graphiql::asset))
        .route("/graphql", get(graphql::get).post(graphql::post))
        .route("/graphql/ws", get(ws::upgrade))
        .route("/health", get(health::health))
        .route("/ready", get(health::ready))
        .route("/metrics", get(health::metrics))
        .fallback(not_found)
        .layer(cors(config));
    // The explorer's identities (bearer tokens in dev mode) sit outside the CORS layer: no
    // other origin may ever read them, nor be told by a preflight that it could.
    let app = Router::new()
        .route("/graphiql/identities", get(graphiql::identities))
        .merge(api)
        .with_state(state)
        .layer(DefaultBodyLimit::max(config.max_body_bytes))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            config.request_timeout(),
        ))
        .layer(TraceLayer::new_for_http().make_span_with(middleware::span));
    // Dev mode signs tokens for anyone who asks the explorer: only the developer's own
    // machine may, so a name that resolves elsewhere (DNS rebinding) is refused.
    let app = if config.is_dev_mode() {
        app.layer(axum::middleware::from_fn(middleware::loopback_host_only))
    } else {
        app
    };
    app.layer(axum::middleware::from_fn_with_state(
        ops,
        middleware::context,
    ))
}

/// Which browser origins may call the API: `CORS_ORIGINS` when set (`*` for any); otherwise
/// any origin in dev mode and none in production (no CORS headers, so browsers refuse).
fn cors(config: &Config) -> CorsLayer {
    let origins = &config.ops.cors_origins;
    let allow = if origins.iter().any(|o| o.trim() == "*")
        || (origins.is_empty() && config.is_dev_mode())
    {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(
            origins
                .iter()
                .filter_map(|o| HeaderValue::from_str(o.trim()).ok()),
        )
    };
    CorsLayer::new()
        .allow_origin(allow)
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::ACCEPT,
            REQUEST_ID,
        ])
        .expose_headers([
            REQUEST_ID,
            header::RETRY_AFTER,
            HeaderName::from_static("ratelimit-limit"),
            HeaderName::from_static("ratelimit-remaining"),
            HeaderName::from_static("ratelimit-reset"),
            HeaderName::from_static("ratelimit-policy"),
        ])
        .max_age(Duration::from_secs(3600))
}

/// How the client wants the response encoded (GraphQL over HTTP).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `application/graphql-response+json`: request errors get 4xx statuses.
    GraphqlResponse,
    /// Legacy `application/json`: always 200 once the request was understood.
    Json,
}

impl Format {
    /// The format the `Accept` header asks for.
    pub fn from_headers(headers: &HeaderMap) -> Self {
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

    /// The `Content-Type` of a response in this format.
    pub fn content_type(self) -> HeaderValue {
        match self {
            Format::GraphqlResponse => {
                HeaderValue::from_static("application/graphql-response+json; charset=utf-8")
            }
            Format::Json => HeaderValue::from_static("application/json; charset=utf-8"),
        }
    }
}

/// A response holding only errors, for requests that never reached execution.
pub fn request_error(status: StatusCode, format: Format, code: &str, message: &str) -> Response {
    let mut extensions = json!({ "code": code });
    if let Some(id) = current_request_id() {
        extensions["requestId"] = json!(id.as_ref());
    }
    let body = json!({ "errors": [{ "message": message, "extensions": extensions }] });
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

/// Why a request's identity was refused.
#[derive(Debug)]
pub enum Refusal {
    /// The token does not verify, or its subject names no customer fitting its role (401).
    Token(AuthError),
    /// The subject could not be looked up (503).
    Unavailable,
}

/// The answer to a request whose subject could not be looked up.
pub fn subject_unavailable(format: Format) -> Response {
    request_error(
        StatusCode::SERVICE_UNAVAILABLE,
        format,
        "SERVICE_UNAVAILABLE",
        "service temporarily unavailable, try again shortly",
    )
}

/// Decodes the caller from the `Authorization` header: absent is anonymous, invalid is an error.
pub async fn authenticate(state: &AppState, headers: &HeaderMap) -> Result<Caller, Refusal> {
    match headers.get(header::AUTHORIZATION) {
        None => Ok(Caller(None)),
        Some(value) => {
            let value = value.to_str().map_err(|_| {
                Refusal::Token(AuthError(
                    "the Authorization header is not valid text".to_owned(),
                    crate::auth::Rejection::Malformed,
                ))
            })?;
            authenticate_value(state, value).await
        }
    }
}

/// Verifies an `Authorization` value (`Bearer …`) and checks that its subject is a customer
/// of the kind its role needs.
pub async fn authenticate_value(state: &AppState, value: &str) -> Result<Caller, Refusal> {
    let viewer = state
        .verifier
        .verify_header(value)
        .map_err(Refusal::Token)?;
    standing(state, &viewer).await?;
    Ok(Caller(Some(viewer)))
}

/// Whether a verified viewer's subject still stands: the customer exists, is not erased and
/// fits the role. The one rule for HTTP requests, `connection_init` and every operation (and
/// periodic re-check) of an open socket, answered from the subject cache.
pub async fn standing(state: &AppState, viewer: &crate::auth::Viewer) -> Result<(), Refusal> {
    match state.subjects.check(&state.db, viewer).await {
        Ok(()) => Ok(()),
        Err(SubjectError::Unknown) => Err(Refusal::Token(AuthError(
            "the token's subject is not a customer its role may act as".to_owned(),
            crate::auth::Rejection::UnknownSubject,
        ))),
        Err(SubjectError::Unavailable) => Err(Refusal::Unavailable),
    }
}

async fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(json!({ "errors": [{ "message": "not found: the API lives at /graphql", "extensions": { "code": "NOT_FOUND" } }] })),
    )
        .into_response()
}
