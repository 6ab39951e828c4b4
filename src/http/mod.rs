//! The HTTP transport: the router and what every endpoint shares (content negotiation,
//! request errors, reading the bearer token). One file per endpoint family:
//! [`graphql`] (POST and GET), [`ws`] (subscriptions), [`graphiql`] (the explorer page)
//! and [`health`].

pub mod graphiql;
pub mod graphql;
pub mod health;
pub mod subjects;
pub mod ws;

use std::time::Duration;

use axum::{
    Json, Router,
    extract::DefaultBodyLimit,
    http::{HeaderMap, HeaderValue, Method, StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use serde_json::json;
use tower_http::{cors::CorsLayer, timeout::TimeoutLayer, trace::TraceLayer};

use self::subjects::SubjectError;
use crate::{app::AppState, auth::Caller, config::Config};

/// The router the binary serves and tests drive in-process.
pub fn router(state: AppState, config: &Config) -> Router {
    let cors = CorsLayer::new()
        .allow_origin(tower_http::cors::Any)
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE, header::ACCEPT])
        .max_age(Duration::from_secs(3600));
    Router::new()
        .route("/graphql", get(graphql::get).post(graphql::post))
        .route("/graphql/ws", get(ws::upgrade))
        .route("/health", get(health::health))
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

/// Why a request's identity was refused.
#[derive(Debug)]
pub enum Refusal {
    /// The token does not verify, or its subject names no customer fitting its role (401).
    Unauthenticated(String),
    /// The subject could not be looked up (503).
    Unavailable,
}

impl Refusal {
    /// The HTTP answer to a refused identity.
    pub fn response(&self, format: Format) -> Response {
        match self {
            Refusal::Unauthenticated(message) => {
                request_error(StatusCode::UNAUTHORIZED, format, "UNAUTHENTICATED", message)
            }
            Refusal::Unavailable => request_error(
                StatusCode::SERVICE_UNAVAILABLE,
                format,
                "SERVICE_UNAVAILABLE",
                "service temporarily unavailable, try again shortly",
            ),
        }
    }
}

/// Decodes the caller from the `Authorization` header: absent is anonymous, invalid is an error.
pub async fn authenticate(state: &AppState, headers: &HeaderMap) -> Result<Caller, Refusal> {
    match headers.get(header::AUTHORIZATION) {
        None => Ok(Caller(None)),
        Some(value) => {
            let value = value.to_str().map_err(|_| {
                Refusal::Unauthenticated("the Authorization header is not valid text".to_owned())
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
        .map_err(|e| Refusal::Unauthenticated(e.0))?;
    match state.subjects.check(&state.db, &viewer).await {
        Ok(()) => Ok(Caller(Some(viewer))),
        Err(SubjectError::Unknown) => Err(Refusal::Unauthenticated(
            "the token's subject is not a customer its role may act as".to_owned(),
        )),
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
