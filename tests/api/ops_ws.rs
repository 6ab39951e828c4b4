//! WebSocket limits through a real WebSocket client: a socket is as good as its token,
//! `connection_init` must come in time, operations and subscriptions per socket are capped and
//! rate limited like HTTP, silent peers are closed, duplicate ids are refused; a socket is as
//! good as its subject too (an erased employee's socket stops and closes 4403), and bad tokens
//! in `connection_init` draw from the address's bucket like HTTP's 401s.

use std::time::Duration;

use crm_gateway::auth::{Role, TokenIssuer};
use serde_json::json;

use crate::{helpers::*, live::*};

const QUERY: &str = "query Me { viewer { customerId } }";
/// What only staff may read: names, e-mails and internal notes of customers.
const STAFF_QUERY: &str = "{ customers(first: 3) { edges { node { name email internalNotes } } } }";

/// Erases customer `id` as the demo manager, over HTTP.
async fn erase(app: &TestApp, id: i32) {
    let read = format!(r#"{{ customer(id: "{id}") {{ version }} }}"#);
    let version = app.data(&read, Some(&app.manager())).await["customer"]["version"].clone();
    let erase =
        format!(r#"mutation {{ eraseCustomer(id: "{id}", expectedVersion: {version}) {{ id }} }}"#);
    app.data(&erase, Some(&app.manager())).await;
}

/// Asserts that HTTP refuses `token` as `UNAUTHENTICATED` within a few seconds (the lapse
/// notice is handled beside the request path, so the first request after the erasure's
/// answer may still race it), far inside the subject cache's 30 s.
async fn assert_http_refuses(app: &TestApp, token: &str) {
    let started = std::time::Instant::now();
    loop {
        let (status, body) = app.post(json!({"query": QUERY}), Some(token)).await;
        if status == axum::http::StatusCode::UNAUTHORIZED {
            assert_eq!(first_code(&body), "UNAUTHENTICATED", "{body}");
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(4),
            "still served: {body}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Reads until the socket closes, skipping `next` messages of subscription `live`; returns the
/// close, or the first other message.
async fn until_closed(ws: &mut Ws) -> serde_json::Value {
    loop {
        let message = next(ws).await;
        if !(message["type"] == "next" && message["id"] == "live") {
            return message;
        }
    }
}

fn subscribe(id: &str, query: &str) -> serde_json::Value {
    json!({"id": id, "type": "subscribe", "payload": {"query": query}})
}

both_backends! {
    async fn bad_tokens_in_connection_init_draw_from_the_addresses_bucket_like_http(backend) {
        let app = TestApp::seeded_with(backend, |c| c.ops.rate_limit_anonymous = "2/m".parse().unwrap()).await;
        let addr = crate::ops_limits::serve_with_peers(&app).await;
        for _ in 0..2 {
            let (_ws, closed) = connect(addr, Some("not.a.token")).await;
            assert_eq!(closed["code"], 4403, "{closed}");
        }
        let (_ws, closed) = connect(addr, Some("not.a.token")).await;
        assert_eq!(closed["code"], 1013, "rate limited: {closed}");
        // The same bucket answers HTTP's bad tokens from that address.
        let (status, _, body) = crate::ops_limits::ask(addr, Some("not.a.token"), None).await;
        assert_eq!(status, axum::http::StatusCode::TOO_MANY_REQUESTS, "{body}");
    }

    async fn an_erased_employees_subscription_is_closed_4403_without_a_further_operation(backend) {
        // The default 30 s cache: the erasure's notice, not the cache expiring, ends the socket.
        let app = TestApp::seeded(backend).await;
        let addr = app.serve().await;
        let employee = app.employee();
        let (mut ws, ack) = connect(addr, Some(&employee)).await;
        assert_eq!(ack["type"], "connection_ack", "{ack}");
        send(&mut ws, subscribe("live", SUBSCRIBE)).await;
        send(&mut ws, subscribe("q1", STAFF_QUERY)).await;
        let answer = next(&mut ws).await;
        assert!(answer["payload"]["data"]["customers"]["edges"][0]["node"]["email"].is_string(), "{answer}");
        assert_eq!(next(&mut ws).await["type"], "complete");

        erase(&app, app.ids().employee).await;
        // Long before the cache would expire the open subscription ends with the socket: 4403.
        let started = std::time::Instant::now();
        let closed = until_closed(&mut ws).await;
        assert_eq!(closed["type"], "close", "{closed}");
        assert_eq!(closed["code"], 4403, "{closed}");
        assert!(started.elapsed() < Duration::from_secs(4), "{:?}", started.elapsed());
        // HTTP refuses the same token by the same rule, also without waiting for the cache.
        assert_http_refuses(&app, &employee).await;
    }

    async fn an_erased_employees_socket_runs_no_further_query(backend) {
        let app = TestApp::seeded_with(backend, |c| c.ops.subject_cache_secs = 1).await;
        let addr = app.serve().await;
        let (mut ws, ack) = connect(addr, Some(&app.employee())).await;
        assert_eq!(ack["type"], "connection_ack", "{ack}");
        erase(&app, app.ids().employee).await;
        // Past the cache's lifetime the next operation is refused — unless the periodic
        // re-check closed the socket first; either way no staff data.
        tokio::time::sleep(Duration::from_millis(1200)).await;
        send(&mut ws, subscribe("q1", STAFF_QUERY)).await;
        let mut answer = next(&mut ws).await;
        if answer["type"] == "error" {
            assert_eq!(answer["id"], "q1", "{answer}");
            assert_eq!(answer["payload"][0]["extensions"]["code"], "UNAUTHENTICATED", "{answer}");
            answer = next(&mut ws).await;
        }
        assert_eq!(answer["type"], "close", "{answer}");
        assert_eq!(answer["code"], 4403, "{answer}");
    }

    async fn an_operation_after_the_token_expired_is_refused_and_the_socket_closes_4403(backend) {
        let app = TestApp::seeded_with(backend, |c| c.jwt_leeway_secs = 0).await;
        let addr = app.serve().await;
        let short = TokenIssuer::new(SECRET, &app.config)
            .mint(Role::Client, app.ids().client, Duration::from_secs(2))
            .unwrap();
        let (mut ws, ack) = connect(addr, Some(&short)).await;
        assert_eq!(ack["type"], "connection_ack", "{ack}");
        send(&mut ws, subscribe("live", SUBSCRIBE)).await;
        send(&mut ws, subscribe("q1", QUERY)).await;
        let answer = next(&mut ws).await;
        assert_eq!(answer["type"], "next", "{answer}");
        assert_eq!(answer["payload"]["data"]["viewer"]["customerId"], app.ids().client.to_string());
        assert_eq!(next(&mut ws).await["type"], "complete");

        // The subscription ends at exp by itself…
        let ended = next(&mut ws).await;
        assert_eq!(ended, json!({"type": "complete", "id": "live"}));
        // …and the next operation after exp is refused, then the socket closes.
        tokio::time::sleep(Duration::from_millis(1100)).await;
        send(&mut ws, subscribe("q2", QUERY)).await;
        let refused = next(&mut ws).await;
        assert_eq!(refused["type"], "error", "{refused}");
        assert_eq!(refused["id"], "q2");
        assert_eq!(refused["payload"][0]["extensions"]["code"], "UNAUTHENTICATED");
        let closed = next(&mut ws).await;
        assert_eq!(closed["code"], 4403, "{closed}");
    }

    async fn expiry_at_the_end_of_time_does_not_overflow_the_sockets_check(backend) {
        // exp = i64::MAX: exp + leeway wraps (or panics in debug) unless the check saturates.
        let app = TestApp::seeded_with(backend, |c| c.jwt_leeway_secs = 60).await;
        let addr = app.serve().await;
        let claims = json!({"sub": app.ids().client.to_string(), "role": "client", "exp": i64::MAX});
        let token = jsonwebtoken::encode(
            &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
            &claims,
            &jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes()),
        )
        .unwrap();
        let (mut ws, ack) = connect(addr, Some(&token)).await;
        assert_eq!(ack["type"], "connection_ack", "{ack}");
        send(&mut ws, subscribe("q1", QUERY)).await;
        let answer = next(&mut ws).await;
        assert_eq!(answer["payload"]["data"]["viewer"]["customerId"], app.ids().client.to_string(), "{answer}");
    }

    async fn a_socket_without_connection_init_is_closed_4408(backend) {
        let app = TestApp::seeded_with(backend, |c| c.ops.ws_init_timeout_secs = 1).await;
        let addr = app.serve().await;
        let mut request = tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(
            format!("ws://{addr}/graphql/ws"),
        )
        .unwrap();
        request.headers_mut().insert("sec-websocket-protocol", "graphql-transport-ws".parse().unwrap());
        let (mut ws, _) = tokio_tungstenite::connect_async(request).await.unwrap();
        let closed = next(&mut ws).await;
        assert_eq!(closed["code"], 4408, "{closed}");
    }

    async fn subscriptions_and_operations_per_socket_are_capped(backend) {
        let app = TestApp::seeded_with(backend, |c| c.ops.ws_max_subscriptions = 2).await;
        let addr = app.serve().await;
        let (mut ws, ack) = connect(addr, Some(&app.client())).await;
        assert_eq!(ack["type"], "connection_ack");
        send(&mut ws, subscribe("a", SUBSCRIBE)).await;
        send(&mut ws, subscribe("b", SUBSCRIBE)).await;
        send(&mut ws, subscribe("c", SUBSCRIBE)).await;
        let refused = next(&mut ws).await;
        assert_eq!(refused["id"], "c", "{refused}");
        assert_eq!(refused["payload"][0]["extensions"]["code"], "RATE_LIMITED");
        // Queries still run beside the two subscriptions.
        send(&mut ws, subscribe("q", QUERY)).await;
        assert_eq!(next(&mut ws).await["type"], "next");
        assert_eq!(next(&mut ws).await["type"], "complete");
        // Completing one frees a place.
        send(&mut ws, json!({"id": "a", "type": "complete"})).await;
        assert_eq!(next(&mut ws).await, json!({"id": "a", "type": "complete"}));
        send(&mut ws, subscribe("d", SUBSCRIBE)).await;
        send(&mut ws, subscribe("q2", QUERY)).await;
        let answer = next(&mut ws).await;
        assert_eq!(answer["id"], "q2", "d was admitted and is silent: {answer}");
        assert_eq!(answer["type"], "next");
        assert_eq!(next(&mut ws).await["type"], "complete");
        // An id already in use closes the socket (graphql-ws: 4409).
        send(&mut ws, subscribe("b", SUBSCRIBE)).await;
        let closed = next(&mut ws).await;
        assert_eq!(closed["code"], 4409, "{closed}");
    }

    async fn websocket_operations_draw_from_the_callers_rate_limit(backend) {
        let app = TestApp::seeded_with(backend, |c| c.ops.rate_limit_client = "2/m".parse().unwrap()).await;
        let addr = app.serve().await;
        let client = app.client();
        let (mut ws, ack) = connect(addr, Some(&client)).await;
        assert_eq!(ack["type"], "connection_ack");
        for id in ["1", "2"] {
            send(&mut ws, subscribe(id, QUERY)).await;
            assert_eq!(next(&mut ws).await["type"], "next");
            assert_eq!(next(&mut ws).await["type"], "complete");
        }
        send(&mut ws, subscribe("3", QUERY)).await;
        let refused = next(&mut ws).await;
        assert_eq!(refused["type"], "error", "{refused}");
        assert_eq!(refused["payload"][0]["extensions"]["code"], "RATE_LIMITED");
        // The same bucket serves HTTP.
        let (status, body) = app.post(json!({"query": QUERY}), Some(&client)).await;
        assert_eq!(status, axum::http::StatusCode::TOO_MANY_REQUESTS, "{body}");
    }

    async fn a_peer_that_answers_no_pings_is_closed_and_one_that_does_stays(backend) {
        let app = TestApp::seeded_with(backend, |c| c.ops.ws_ping_interval_secs = 1).await;
        let addr = app.serve().await;
        // This client reads (and so answers pings) the whole time.
        let (mut alive, ack) = connect(addr, Some(&app.client())).await;
        assert_eq!(ack["type"], "connection_ack");
        let reading = tokio::spawn(async move {
            let _ = tokio::time::timeout(Duration::from_millis(3500), next(&mut alive)).await;
            alive
        });
        // This one says hello and then nothing, not even pongs: a raw socket.
        let close_code = silent_peer(addr, Duration::from_millis(3500)).await;
        assert_eq!(close_code, Some(3008));
        let mut alive = reading.await.unwrap();
        send(&mut alive, subscribe("q", QUERY)).await;
        assert_eq!(next(&mut alive).await["type"], "next");
    }
}

/// Opens a WebSocket by hand, sends `connection_init`, stays silent for `quiet`, then reads
/// what the server sent and returns the code of its close frame.
async fn silent_peer(addr: std::net::SocketAddr, quiet: Duration) -> Option<u16> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let handshake = format!(
        "GET /graphql/ws HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
         Sec-WebSocket-Protocol: graphql-transport-ws\r\n\r\n"
    );
    tcp.write_all(handshake.as_bytes()).await.unwrap();
    let payload = br#"{"type":"connection_init"}"#;
    let mut frame = vec![0x81, 0x80 | payload.len() as u8, 0, 0, 0, 0];
    frame.extend_from_slice(payload); // a zero mask leaves the payload as it is
    tcp.write_all(&frame).await.unwrap();
    tokio::time::sleep(quiet).await;
    let mut received = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), tcp.read_to_end(&mut received)).await;
    let body = &received[received.windows(4).position(|w| w == b"\r\n\r\n")? + 4..];
    // Walk the server's (unmasked, short) frames to the close frame.
    let mut at = 0;
    while at + 2 <= body.len() {
        let (opcode, len) = (body[at] & 0x0f, usize::from(body[at + 1] & 0x7f));
        let (start, len) = match len {
            126 => (
                at + 4,
                usize::from(u16::from_be_bytes([body[at + 2], body[at + 3]])),
            ),
            _ => (at + 2, len),
        };
        if opcode == 0x8 && len >= 2 {
            return Some(u16::from_be_bytes([body[start], body[start + 1]]));
        }
        at = start + len;
    }
    None
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_erasure_through_one_replica_closes_the_subjects_socket_on_another() {
    let writer = TestApp::seeded(Backend::Postgres).await;
    let reader = writer.replica().await;
    let employee = writer.employee();
    // Warm the reader's subject cache over HTTP, then hold a socket open on it.
    let (status, body) = reader.post(json!({"query": QUERY}), Some(&employee)).await;
    assert_eq!(status, axum::http::StatusCode::OK, "{body}");
    let addr = reader.serve().await;
    let (mut ws, ack) = connect(addr, Some(&employee)).await;
    assert_eq!(ack["type"], "connection_ack", "{ack}");
    send(&mut ws, subscribe("live", SUBSCRIBE)).await;
    tokio::time::sleep(Duration::from_millis(300)).await;

    erase(&writer, writer.ids().employee).await;
    let started = std::time::Instant::now();
    let closed = until_closed(&mut ws).await;
    assert_eq!(
        (closed["type"].clone(), closed["code"].clone()),
        (json!("close"), json!(4403)),
        "{closed}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    assert_http_refuses(&reader, &employee).await;
}
