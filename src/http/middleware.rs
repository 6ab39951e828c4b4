//! Layers every request passes: the request context (id and client address), the trace
//! span that puts the request id on every log line of the request, and in dev mode the
//! loopback-only `Host` rule.

use std::{
    net::{IpAddr, SocketAddr},
    sync::Arc,
};

use axum::{
    body::Body,
    extract::{ConnectInfo, Request, State},
    http::{HeaderValue, StatusCode, header, uri::Authority},
    middleware::Next,
    response::Response,
};

use super::{Format, request_error};

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

/// Dev mode's gate: a request whose `Host` (or HTTP/2 authority) is not a loopback name or
/// address gets 403 `FORBIDDEN`. A web page the developer visits can point its own name at
/// 127.0.0.1 (DNS rebinding) and then call the gateway as "same origin"; its requests still
/// carry its own name, so refusing every name but `localhost`, 127.0.0.0/8 and `[::1]` keeps
/// dev mode's tokens and database on the developer's machine. A request with no authority at
/// all comes from no browser and passes.
pub async fn loopback_host_only(request: Request, next: Next) -> Response {
    let host = match request.headers().get(header::HOST) {
        Some(value) => value.to_str().ok().map(str::to_owned),
        None => match request.uri().authority() {
            Some(authority) => Some(authority.as_str().to_owned()),
            None => return next.run(request).await,
        },
    };
    if host.as_deref().is_some_and(is_loopback_authority) {
        return next.run(request).await;
    }
    request_error(
        StatusCode::FORBIDDEN,
        Format::from_headers(request.headers()),
        "FORBIDDEN",
        "dev mode answers only loopback hosts (localhost, 127.0.0.1, [::1]); configure a \
         signing key (JWT_SECRET or JWT_PUBLIC_KEY_FILE) to serve other names",
    )
}

/// Whether `authority` (`host[:port]`) names this machine: `localhost` or a loopback address.
fn is_loopback_authority(authority: &str) -> bool {
    let Ok(authority) = authority.parse::<Authority>() else {
        return false;
    };
    let host = authority.host();
    let host = host.strip_suffix('.').unwrap_or(host);
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    let bare = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::is_loopback_authority;

    #[test]
    fn only_loopback_names_and_addresses_pass() {
        for ok in [
            "localhost",
            "LOCALHOST:8000",
            "localhost.:8000",
            "127.0.0.1",
            "127.0.0.1:8000",
            "127.3.2.1:1",
            "[::1]",
            "[::1]:8000",
        ] {
            assert!(is_loopback_authority(ok), "{ok}");
        }
        for refused in [
            "evil.example",
            "evil.example:8000",
            "localhost.evil.example",
            "127.0.0.1.evil.example",
            "10.0.0.1:8000",
            "0.0.0.0:8000",
            "[::]:8000",
            "[::ffff:127.0.0.1]",
            "127.1",
            "",
        ] {
            assert!(!is_loopback_authority(refused), "{refused}");
        }
    }
}
