//! Live subscriptions over a real WebSocket (graphql-ws): scoped by the same policy as reads,
//! and carried across gateway replicas by PostgreSQL LISTEN/NOTIFY.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::{
    MaybeTlsStream, WebSocketStream, connect_async,
    tungstenite::{Message, client::IntoClientRequest},
};

use crate::helpers::*;

pub(crate) type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

pub(crate) const SUBSCRIBE: &str =
    "subscription { interactionChanged { change interaction { id subject customer { id } } } }";

/// Connects, sends `connection_init` with the token, and returns the socket and the first reply.
pub(crate) async fn connect(addr: std::net::SocketAddr, token: Option<&str>) -> (Ws, Value) {
    let mut request = format!("ws://{addr}/graphql/ws")
        .into_client_request()
        .unwrap();
    request.headers_mut().insert(
        "sec-websocket-protocol",
        "graphql-transport-ws".parse().unwrap(),
    );
    let (mut ws, _) = connect_async(request).await.expect("websocket handshake");
    let payload = token.map_or(
        json!({}),
        |t| json!({"Authorization": format!("Bearer {t}")}),
    );
    send(
        &mut ws,
        json!({"type": "connection_init", "payload": payload}),
    )
    .await;
    let reply = next(&mut ws).await;
    (ws, reply)
}

pub(crate) async fn send(ws: &mut Ws, message: Value) {
    ws.send(Message::Text(message.to_string().into()))
        .await
        .expect("send");
}

/// The next protocol message (pings answered, close frames reported as `{"type":"close"}`).
pub(crate) async fn next(ws: &mut Ws) -> Value {
    loop {
        let frame = tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .expect("a message within 10 s");
        match frame {
            Some(Ok(Message::Text(text))) => {
                let value: Value = serde_json::from_str(&text).unwrap();
                if value["type"] == "ping" {
                    send(ws, json!({"type": "pong"})).await;
                    continue;
                }
                return value;
            }
            Some(Ok(Message::Close(frame))) => {
                return json!({"type": "close", "code": frame.map(|f| u16::from(f.code))});
            }
            None | Some(Err(_)) => return json!({"type": "close"}),
            Some(Ok(_)) => continue,
        }
    }
}

pub(crate) fn open(department: &str, subject: &str) -> String {
    format!(
        r#"mutation {{ openInteraction(input: {{departmentId: "{department}", channel: CHAT, kind: INQUIRY, subject: "{subject}", summary: "Hello"}}) {{ id version }} }}"#
    )
}

both_backends! {
    async fn a_client_receives_only_its_own_interactions_and_no_internal_events(backend) {
        let app = TestApp::seeded(backend).await;
        let addr = app.serve().await;
        let (mut ws, ack) = connect(addr, Some(&app.client())).await;
        assert_eq!(ack["type"], "connection_ack", "{ack}");
        send(&mut ws, json!({"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIBE}})).await;
        tokio::time::sleep(Duration::from_millis(200)).await;

        let care = department_id(&app, "Customer Care").await;
        // Someone else's interaction: not for this client.
        let other = app.token(crm_gateway::auth::Role::Client, app.ids().client + 1);
        app.data(&open(&care, "Not yours"), Some(&other)).await;
        // Its own.
        let mine = app.data(&open(&care, "Mine"), Some(&app.client())).await;
        let id = mine["openInteraction"]["id"].as_str().unwrap().to_owned();
        let event = next(&mut ws).await;
        assert_eq!(event["type"], "next", "{event}");
        let payload = &event["payload"]["data"]["interactionChanged"];
        assert_eq!(payload["change"], "OPENED");
        assert_eq!(payload["interaction"]["subject"], "Mine");
        assert_eq!(payload["interaction"]["customer"]["id"], gid(NodeKind::Customer, app.ids().client));

        // An internal note makes no event for the client; the public reply after it does.
        app.data(&format!(r#"mutation {{ addInternalNote(interactionId: "{id}", body: "VIP") {{ id }} }}"#), Some(&app.employee())).await;
        app.data(&format!(r#"mutation {{ addReply(interactionId: "{id}", body: "Hi!") {{ id }} }}"#), Some(&app.employee())).await;
        let event = next(&mut ws).await;
        assert_eq!(event["payload"]["data"]["interactionChanged"]["change"], "REPLIED", "{event}");
        assert!(!event.to_string().contains("VIP"));
    }

    async fn employees_can_filter_the_stream_by_department(backend) {
        let app = TestApp::seeded(backend).await;
        let addr = app.serve().await;
        let it = department_id(&app, "IT Support").await;
        let care = department_id(&app, "Customer Care").await;
        let (mut ws, ack) = connect(addr, Some(&app.employee())).await;
        assert_eq!(ack["type"], "connection_ack");
        let query = format!(r#"subscription {{ interactionChanged(departmentId: "{it}") {{ change interaction {{ subject slaDueAt department {{ name }} }} }} }}"#);
        send(&mut ws, json!({"id": "7", "type": "subscribe", "payload": {"query": query}})).await;
        tokio::time::sleep(Duration::from_millis(200)).await;
        app.data(&open(&care, "Care question"), Some(&app.client())).await;
        app.data(&open(&it, "Printer jam"), Some(&app.employee())).await;
        let event = next(&mut ws).await;
        let payload = &event["payload"]["data"]["interactionChanged"];
        assert_eq!(payload["interaction"]["subject"], "Printer jam", "{event}");
        assert_eq!(payload["interaction"]["department"]["name"], "IT Support");
        assert!(payload["interaction"]["slaDueAt"].is_string());
    }

    async fn subscriptions_refuse_hidden_fields_and_bad_tokens(backend) {
        let app = TestApp::seeded(backend).await;
        let addr = app.serve().await;
        let (mut ws, ack) = connect(addr, Some(&app.client())).await;
        assert_eq!(ack["type"], "connection_ack");
        let query = "subscription { interactionChanged { interaction { internalNote } } }";
        send(&mut ws, json!({"id": "1", "type": "subscribe", "payload": {"query": query}})).await;
        let reply = next(&mut ws).await;
        assert!(reply["type"] == "error" || reply["type"] == "next", "{reply}");
        assert!(reply.to_string().contains("Unknown field"), "{reply}");
        assert!(reply["payload"]["data"].is_null(), "{reply}");

        let (mut ws, reply) = connect(addr, Some("not-a-token")).await;
        assert_eq!(reply["type"], "close", "{reply}");
        assert_eq!(reply["code"], 4403);
        drop(ws.close(None).await);

        // Anonymous callers may connect but not subscribe to customer data.
        let (mut ws, ack) = connect(addr, None).await;
        assert_eq!(ack["type"], "connection_ack");
        send(&mut ws, json!({"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIBE}})).await;
        let reply = next(&mut ws).await;
        assert!(reply.to_string().contains("UNAUTHENTICATED"), "{reply}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_written_through_one_replica_reaches_subscribers_of_another() {
    let writer = TestApp::seeded(Backend::Postgres).await;
    let reader = writer.replica().await;
    let addr = reader.serve().await;
    let (mut ws, ack) = connect(addr, Some(&writer.client())).await;
    assert_eq!(ack["type"], "connection_ack");
    send(
        &mut ws,
        json!({"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIBE}}),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let care = department_id(&writer, "Customer Care").await;
    writer
        .data(&open(&care, "Across replicas"), Some(&writer.client()))
        .await;
    let event = next(&mut ws).await;
    assert_eq!(
        event["payload"]["data"]["interactionChanged"]["interaction"]["subject"], "Across replicas",
        "{event}"
    );
}
