//! `GET /graphql/ws`: subscriptions (and queries) over WebSocket, graphql-ws and the legacy
//! subscriptions-transport-ws. The token comes in the `connection_init` payload
//! (`{"Authorization": "Bearer …"}`) or, for non-browser clients, in the upgrade request's
//! `Authorization` header. The session itself — limits, expiry, keep-alive, shutdown — is in
//! [`super::ws_session`].

use std::{
    net::IpAddr,
    sync::{Arc, OnceLock},
};

use async_graphql::http::{ALL_WEBSOCKET_PROTOCOLS, WebSocketProtocols};
use axum::{
    extract::{State, WebSocketUpgrade},
    http::{HeaderMap, StatusCode, header},
    response::Response,
};

use super::{
    Format, Refusal, authenticate, authenticate_value, gate, request_error, subject_unavailable,
    ws_session,
};
use crate::{
    app::AppState,
    auth::{AuthError, Caller},
    graphql::{batching::Batching, loaders::Loaders},
    ops::context::{RequestContext, new_request_id},
};

/// Prefix of a refused `connection_init`'s close reason.
pub const FORBIDDEN: &str = "Forbidden";
/// Prefix of the close reason of a `connection_init` refused by the rate limit.
pub const TOO_MANY: &str = "Too many requests";

/// Upgrades to a GraphQL WebSocket session.
pub async fn upgrade(
    State(state): State<AppState>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Response {
    let Some(protocol) = protocol(&headers) else {
        return request_error(
            StatusCode::BAD_REQUEST,
            Format::Json,
            "BAD_REQUEST",
            "ask for the graphql-transport-ws (or legacy graphql-ws) subprotocol",
        );
    };
    let header_caller = match authenticate(&state, &headers).await {
        Ok(caller) => caller,
        Err(Refusal::Unavailable) => return subject_unavailable(Format::Json),
        // As over HTTP: 401, drawn from the address's anonymous bucket (429 once it is empty).
        Err(Refusal::Token(err)) => {
            return gate::unauthenticated(&state, Format::Json, err).await;
        }
    };
    let context = RequestContext::current().unwrap_or_else(|| RequestContext {
        id: new_request_id().into(),
        client: None,
    });
    let max = state.ops.config.ws_max_message_bytes;
    upgrade
        .max_message_size(max)
        .max_frame_size(max)
        .protocols(ALL_WEBSOCKET_PROTOCOLS)
        .on_upgrade(move |socket| {
            ws_session::serve(state, socket, protocol, header_caller, context)
        })
}

/// The `connection_init` handler: decides the socket's caller (the payload's token wins over
/// the upgrade header's), records it in `caller_cell` for the session's expiry checks, and
/// returns the connection data every operation of the socket runs with. A token that fails
/// draws from `client`'s anonymous bucket, as a 401 over HTTP does, so sockets are no way
/// around the limit on guessing tokens.
pub fn on_init(
    state: AppState,
    header_caller: Caller,
    caller_cell: Arc<OnceLock<Caller>>,
    client: Option<IpAddr>,
) -> impl FnOnce(
    serde_json::Value,
) -> futures_util::future::BoxFuture<'static, async_graphql::Result<async_graphql::Data>>
+ Send
+ 'static {
    move |payload| {
        Box::pin(async move {
            let caller = match bearer_from_payload(&payload) {
                Some(value) => match authenticate_value(&state, value).await {
                    Ok(caller) => caller,
                    Err(Refusal::Token(e)) => {
                        state.ops.metrics.token_rejected(e.1.label());
                        return Err(async_graphql::Error::new(refusal(&state, client, &e).await));
                    }
                    Err(Refusal::Unavailable) => {
                        return Err(async_graphql::Error::new(format!(
                            "{FORBIDDEN}: service temporarily unavailable"
                        )));
                    }
                },
                None => header_caller,
            };
            let _ = caller_cell.set(caller.clone());
            let mut data = async_graphql::Data::default();
            data.insert(Loaders::new(
                &state.db,
                &caller,
                &Batching::Window(state.loader_delay),
            ));
            data.insert(caller);
            // Subscriptions re-read each event where it is already visible (replica or primary).
            data.insert(state.reads.clone());
            Ok(data)
        })
    }
}

/// The close reason for a refused token: `Forbidden…`, or `Too many requests…` once the
/// address's anonymous bucket is empty (recoded to 4403 and 1013 by the session).
async fn refusal(state: &AppState, client: Option<IpAddr>, err: &AuthError) -> String {
    match state.ops.limits.check(&Caller(None), client).await {
        Some(decision) if !decision.allowed => {
            format!("{TOO_MANY}: try again in {} s", decision.reset_secs.max(1))
        }
        _ => format!("{FORBIDDEN}: {err}"),
    }
}

/// The first GraphQL subprotocol the client offers.
fn protocol(headers: &HeaderMap) -> Option<WebSocketProtocols> {
    headers
        .get(header::SEC_WEBSOCKET_PROTOCOL)
        .and_then(|value| value.to_str().ok())?
        .split(',')
        .find_map(|p| p.trim().parse().ok())
}

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
