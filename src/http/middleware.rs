//! Layers every request passes: the request context (id and client address) and the trace
//! span that puts the request id on every log line of the request.

use std::{net::SocketAddr, sync::Arc};

use axum::{
    body::Body,
    extract::{ConnectInfo, Request, State},
    http::HeaderValue,
    middleware::Next,
    response::Response,
};

use crate::ops::{
    Ops,
    context::{REQUEST_ID, RequestContext, client_ip, new_request_id, valid_request_id},
};

/// Keeps a valid incoming `x-request-id` (else makes one), finds the client's address, and
/// serves the request inside that context; the id goes back on the response.
///
/// tower-http's request-id layers would keep any incoming value verbatim; ids end up in log
/// lines, so this one accepts only short, plain ones.
pub async fn context(State(ops): State<Arc<Ops>>, mut request: Request, next: Next) -> Response {
    let kept = request
        .headers()
        .get(REQUEST_ID)
        .filter(|v| valid_request_id(v))
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let id = kept.unwrap_or_else(new_request_id);
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|info| info.0);
    let client = client_ip(peer, request.headers(), ops.config.trusted_proxy_hops);
    let value = HeaderValue::from_str(&id).unwrap_or(HeaderValue::from_static("invalid"));
    request.headers_mut().insert(REQUEST_ID, value.clone());
    let context = RequestContext {
        id: id.into(),
        client,
    };
    let mut response = context.scope(next.run(request)).await;
    response.headers_mut().insert(REQUEST_ID, value);
    response
}

/// The span of one HTTP request: method, path (never the query string, which may hold
/// variables) and request id.
pub fn span(request: &axum::http::Request<Body>) -> tracing::Span {
    let id = request
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    tracing::info_span!(
        "request",
        request_id = id,
        method = %request.method(),
        path = request.uri().path(),
    )
}
