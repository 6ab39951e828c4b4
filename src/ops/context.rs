//! What the transport knows about the request being served: its id (kept from a valid
//! `x-request-id`, else generated) and the client's IP address. The HTTP middleware sets both
//! in a task-local scope, so an error built anywhere during the request can carry its id.

use std::{
    net::{IpAddr, SocketAddr},
    sync::Arc,
};

use axum::http::{HeaderMap, HeaderName, HeaderValue};

/// The request-id header, read from requests and set on every response.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The transport facts of one request (or of one WebSocket connection).
#[derive(Debug, Clone)]
pub struct RequestContext {
    /// The request id, echoed in `x-request-id`, logs and `extensions.requestId`.
    pub id: Arc<str>,
    /// The client's address, when known (see [`client_ip`]).
    pub client: Option<IpAddr>,
}

tokio::task_local! {
    static CURRENT: RequestContext;
}

impl RequestContext {
    /// Runs `future` with this context as the current one.
    pub async fn scope<F: Future>(self, future: F) -> F::Output {
        CURRENT.scope(self, future).await
    }

    /// The context of the request being served on this task, if any.
    pub fn current() -> Option<RequestContext> {
        CURRENT.try_with(Clone::clone).ok()
    }
}

/// The id of the request being served on this task, if any.
pub fn current_request_id() -> Option<Arc<str>> {
    CURRENT.try_with(|c| c.id.clone()).ok()
}

/// A caller's id is kept when it is short and plain (so it cannot forge log lines or blow up
/// log storage); anything else is replaced.
pub fn valid_request_id(value: &HeaderValue) -> bool {
    let bytes = value.as_bytes();
    (1..=128).contains(&bytes.len())
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:+=/".contains(b))
}

/// A fresh random request id (128 bits, hex).
pub fn new_request_id() -> String {
    format!("{:032x}", rand::random::<u128>())
}

/// The client's IP: the TCP peer, or — only when `trusted_hops` proxies are configured — the
/// address the outermost trusted proxy saw, taken from the right of `X-Forwarded-For` (the
/// entries further left are written by the client and prove nothing).
pub fn client_ip(
    peer: Option<SocketAddr>,
    headers: &HeaderMap,
    trusted_hops: usize,
) -> Option<IpAddr> {
    if trusted_hops == 0 {
        return peer.map(|p| p.ip());
    }
    let entries: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    let index = entries.len().saturating_sub(trusted_hops);
    entries
        .get(index)
        .and_then(|text| text.parse::<IpAddr>().ok())
        .or(peer.map(|p| p.ip()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn forwarded(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", value.parse().unwrap());
        headers
    }

    #[test]
    fn forwarded_for_is_ignored_unless_proxies_are_trusted() {
        let peer = Some("10.0.0.1:4000".parse().unwrap());
        let headers = forwarded("1.2.3.4, 5.6.7.8");
        assert_eq!(
            client_ip(peer, &headers, 0),
            Some("10.0.0.1".parse().unwrap())
        );
        assert_eq!(
            client_ip(peer, &headers, 1),
            Some("5.6.7.8".parse().unwrap())
        );
        assert_eq!(
            client_ip(peer, &headers, 2),
            Some("1.2.3.4".parse().unwrap())
        );
        assert_eq!(
            client_ip(peer, &headers, 5),
            Some("1.2.3.4".parse().unwrap())
        );
    }

    #[test]
    fn request_ids_are_plain_and_short() {
        assert!(valid_request_id(&HeaderValue::from_static("abc-123_x.y")));
        assert!(!valid_request_id(&HeaderValue::from_static("a b")));
        assert!(!valid_request_id(
            &HeaderValue::from_str(&"a".repeat(129)).unwrap()
        ));
    }
}
