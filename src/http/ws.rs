//! `GET /graphql/ws`: subscriptions (and queries) over WebSocket, graphql-ws and the legacy
//! subscriptions-transport-ws. The token comes in the `connection_init` payload
//! (`{"Authorization": "Bearer …"}`) or, for non-browser clients, in the upgrade request's
//! `Authorization` header.

use async_graphql::http::ALL_WEBSOCKET_PROTOCOLS;
use async_graphql_axum::{GraphQLProtocol, GraphQLWebSocket};
use axum::{
    extract::{
        State, WebSocketUpgrade,
        ws::{CloseFrame, Message},
    },
    http::HeaderMap,
    response::Response,
};
use futures_util::{SinkExt, StreamExt};

use super::{Format, Refusal, authenticate, authenticate_value};
use crate::{app::AppState, graphql::loaders::Loaders};

/// Prefix of a refused `connection_init`'s close reason.
const FORBIDDEN: &str = "Forbidden";

/// Upgrades to a GraphQL WebSocket session.
pub async fn upgrade(
    State(state): State<AppState>,
    headers: HeaderMap,
    protocol: GraphQLProtocol,
    upgrade: WebSocketUpgrade,
) -> Response {
    let header_caller = match authenticate(&state, &headers).await {
        Ok(caller) => caller,
        Err(refusal) => return refusal.response(Format::Json),
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
                        Some(value) => authenticate_value(&state, value).await.map_err(|e| {
                            let reason = match e {
                                Refusal::Unauthenticated(message) => message,
                                Refusal::Unavailable => "service temporarily unavailable".into(),
                            };
                            async_graphql::Error::new(format!("{FORBIDDEN}: {reason}"))
                        })?,
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
