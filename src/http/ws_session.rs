//! One GraphQL WebSocket session. async-graphql speaks the protocol; this loop stands between
//! it and the socket and enforces what it does not:
//!
//! - `connection_init` within `WS_INIT_TIMEOUT_SECS`, else close 4408;
//! - a socket is as good as its token: an operation started after the token's `exp` (plus the
//!   configured leeway) is answered `UNAUTHENTICATED` and the socket closes with 4403
//!   (subscriptions already end at `exp` by themselves);
//! - and as good as its subject: every operation asks the subject cache HTTP asks, and so does
//!   a timer once per cache TTL, so an erased (or re-kinded) customer's socket is refused and
//!   closed with 4403, subscriptions and all;
//! - per-caller rate limits (the same buckets as HTTP), at most `WS_MAX_OPERATIONS` operations
//!   and `WS_MAX_SUBSCRIPTIONS` subscriptions running at once, duplicate ids closed with 4409;
//! - server pings every `WS_PING_INTERVAL_SECS`; a peer silent for two intervals is closed;
//! - shutdown closes with 1001; metrics count sockets, subscriptions and operations.

use std::{
    collections::{HashMap, VecDeque},
    sync::{Arc, Mutex, OnceLock},
    time::{Duration, Instant},
};

use apollo_compiler::ast::OperationType;
use async_graphql::{
    Data, Executor, Request, Response,
    http::{ClientMessage, WebSocket as Protocol, WebSocketProtocols as Protocols, WsMessage},
};
use axum::extract::ws::{CloseFrame, Message, WebSocket};
use futures_util::{SinkExt, StreamExt, stream::BoxStream};
use serde_json::json;
use tokio::sync::{broadcast, mpsc};

use super::{
    Refusal, gate,
    graphql::code_errors,
    standing,
    ws::{FORBIDDEN, TOO_MANY},
};
use crate::{
    app::AppState,
    auth::Caller,
    graphql::{Served, guard::Allowed},
    ops::{
        Ops,
        context::RequestContext,
        documents::Asker,
        metrics::{self, Outcome, Transport},
    },
    policy,
};

/// How long a closing socket waits for the peer's close frame.
const CLOSE_HANDSHAKE: Duration = Duration::from_secs(1);
/// Messages from the client waiting for the protocol engine, at most.
const QUEUE: usize = 64;

/// What kind of operation a `subscribe` message starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Single,
    Subscription,
}

/// Operations running on one socket, by id.
type Running = Arc<Mutex<HashMap<String, Kind>>>;

/// An admitted operation, handed from the session loop to the executor in start order.
struct Ticket {
    id: String,
    kind: Kind,
    label: Arc<str>,
    role: &'static str,
    started: Instant,
    running: Running,
    ops: Arc<Ops>,
}

impl Drop for Ticket {
    /// The operation's stream is gone (completed, stopped or the socket closed).
    fn drop(&mut self) {
        if let Ok(mut running) = self.running.lock() {
            running.remove(&self.id);
        }
        if self.kind == Kind::Subscription {
            self.ops.metrics.subscriptions(-1.0);
        }
    }
}

/// The schema, metered: each admitted operation's stream carries its ticket, records its
/// first answer in the metrics and codes its errors like HTTP does.
#[derive(Clone)]
struct Metered {
    schema: Served,
    caller: Arc<OnceLock<Caller>>,
    tickets: Arc<Mutex<VecDeque<Ticket>>>,
    request_id: Arc<str>,
}

impl Executor for Metered {
    async fn execute(&self, request: Request) -> Response {
        let caller = self.caller.get().cloned().unwrap_or_default();
        self.schema
            .execute(caller, Allowed::Any, request)
            .await
            .response
    }

    fn execute_stream(
        &self,
        request: Request,
        session_data: Option<Arc<Data>>,
    ) -> BoxStream<'static, Response> {
        let ticket = self.tickets.lock().ok().and_then(|mut t| t.pop_front());
        let request_id = self.request_id.clone();
        let mut ticket = ticket.map(|t| (t, true));
        let anonymous = Caller::default();
        let caller = self.caller.get().unwrap_or(&anonymous);
        self.schema
            .execute_stream(caller, request, session_data.unwrap_or_default())
            .map(move |mut response| {
                let request_failed = code_errors(&mut response);
                for err in &mut response.errors {
                    err.extensions
                        .get_or_insert_with(Default::default)
                        .set("requestId", request_id.as_ref());
                }
                if let Some((ticket, first)) = ticket.as_mut()
                    && std::mem::take(first)
                {
                    let outcome = gate::outcome(&response, request_failed);
                    ticket.ops.metrics.request(
                        Transport::WebSocket,
                        &ticket.label,
                        ticket.role,
                        outcome,
                        ticket.started.elapsed(),
                    );
                }
                response
            })
            .boxed()
    }
}

/// What the loop does with one client message.
enum Step {
    /// Hand it to the protocol engine.
    Forward(Box<ClientMessage>),
    /// Answer the operation with an error and keep the socket.
    Refuse(String, &'static str, String),
    /// Answer the operation with an error, then close.
    RefuseAndClose(String, &'static str, String, u16, String),
    /// Close the socket.
    Close(u16, String),
}

/// The session's state outside the protocol engine.
struct Session {
    state: AppState,
    protocol: Protocols,
    context: RequestContext,
    caller: Arc<OnceLock<Caller>>,
    running: Running,
    tickets: Arc<Mutex<VecDeque<Ticket>>>,
    initialised: bool,
    acked: bool,
}

/// Serves one upgraded socket until either side closes or the gateway shuts down.
pub async fn serve(
    state: AppState,
    socket: WebSocket,
    protocol: Protocols,
    header_caller: Caller,
    context: RequestContext,
) {
    let ops = state.ops.clone();
    ops.metrics.websockets(1.0);
    let caller = Arc::new(OnceLock::new());
    let tickets = Arc::new(Mutex::new(VecDeque::new()));
    let executor = Metered {
        schema: state.schema.clone(),
        caller: caller.clone(),
        tickets: tickets.clone(),
        request_id: context.id.clone(),
    };
    let (to_engine, from_session) = mpsc::channel::<serde_json::Result<ClientMessage>>(QUEUE);
    let input = futures_util::stream::unfold(from_session, |mut rx| async move {
        rx.recv().await.map(|message| (message, rx))
    });
    let engine = Protocol::from_message_stream(executor, input, protocol).on_connection_init(
        super::ws::on_init(state.clone(), header_caller, caller.clone(), context.client),
    );
    let session = Session {
        state,
        protocol,
        context,
        caller,
        running: Arc::default(),
        tickets,
        initialised: false,
        acked: false,
    };
    session.run(socket, Box::pin(engine), to_engine).await;
    ops.metrics.websockets(-1.0);
}

impl Session {
    async fn run(
        mut self,
        socket: WebSocket,
        mut engine: std::pin::Pin<Box<impl futures_util::Stream<Item = WsMessage>>>,
        to_engine: mpsc::Sender<serde_json::Result<ClientMessage>>,
    ) {
        let config = &self.state.ops.config;
        let (mut sink, mut stream) = socket.split();
        let init_deadline = tokio::time::sleep(Duration::from_secs(config.ws_init_timeout_secs));
        let interval = Duration::from_secs(config.ws_ping_interval_secs.max(1));
        let mut ping = tokio::time::interval_at(tokio::time::Instant::now() + interval, interval);
        // Re-asking the subject cache once per TTL costs a lookup per socket (and at most one
        // primary-key read per subject, shared with HTTP) and ends a lapsed identity's
        // subscriptions within two TTLs of the change.
        let ttl = self.state.subjects.ttl();
        let mut recheck = tokio::time::interval_at(tokio::time::Instant::now() + ttl, ttl);
        recheck.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // A lapse announced by any replica re-checks at once, not at the next tick.
        let mut forgotten = self.state.subjects.forgotten();
        let mut hearing = true;
        let shutdown = self.state.ops.shutdown.clone();
        let stopping = shutdown.triggered();
        tokio::pin!(init_deadline, stopping);
        let mut last_heard = Instant::now();
        let close = loop {
            tokio::select! {
                frame = stream.next() => {
                    let text = match frame {
                        None | Some(Err(_)) | Some(Ok(Message::Close(_))) => break None,
                        Some(Ok(Message::Text(text))) => text.as_bytes().to_vec(),
                        Some(Ok(Message::Binary(bytes))) => bytes.to_vec(),
                        Some(Ok(Message::Ping(_) | Message::Pong(_))) => {
                            last_heard = Instant::now();
                            continue;
                        }
                    };
                    last_heard = Instant::now();
                    match self.incoming(&text).await {
                        Step::Forward(message) => {
                            if to_engine.try_send(Ok(*message)).is_err() {
                                break Some((1008, "too many messages in flight".to_owned()));
                            }
                        }
                        Step::Refuse(id, code, message) => {
                            if sink.send(self.error_message(&id, code, &message)).await.is_err() {
                                break None;
                            }
                        }
                        Step::RefuseAndClose(id, code, message, close, reason) => {
                            let _ = sink.send(self.error_message(&id, code, &message)).await;
                            break Some((close, reason));
                        }
                        Step::Close(code, reason) => break Some((code, reason)),
                    }
                }
                out = engine.next() => match out {
                    None => break None,
                    Some(WsMessage::Text(text)) => {
                        if text.starts_with(r#"{"type":"connection_ack""#) {
                            self.acked = true;
                        }
                        if sink.send(Message::Text(text.into())).await.is_err() {
                            break None;
                        }
                    }
                    Some(WsMessage::Close(code, reason)) => break Some(recode_close(code, reason)),
                },
                () = &mut init_deadline, if !self.initialised => {
                    break Some((4408, "Connection initialisation timeout".to_owned()));
                }
                _ = ping.tick() => {
                    if last_heard.elapsed() > interval * 2 {
                        break Some((3008, "no answer to pings".to_owned()));
                    }
                    if sink.send(Message::Ping(Default::default())).await.is_err() {
                        break None;
                    }
                }
                _ = recheck.tick(), if self.acked => {
                    if let Some(close) = self.lapsed().await {
                        break Some(close);
                    }
                }
                lapse = forgotten.recv(), if self.acked && hearing => {
                    hearing = !matches!(lapse, Err(broadcast::error::RecvError::Closed));
                    if self.concerns(lapse)
                        && let Some(close) = self.lapsed().await
                    {
                        break Some(close);
                    }
                }
                () = &mut stopping => break Some((1001, "server shutting down".to_owned())),
            }
        };
        if let Some((code, reason)) = close {
            let frame = CloseFrame {
                code,
                reason: reason.into(),
            };
            if sink.send(Message::Close(Some(frame))).await.is_ok() {
                // The closing handshake: give the peer a moment to read the frame and answer,
                // so the close code is not lost to a reset connection.
                let answered = async {
                    while let Some(Ok(message)) = stream.next().await {
                        if matches!(message, Message::Close(_)) {
                            break;
                        }
                    }
                };
                let _ = tokio::time::timeout(CLOSE_HANDSHAKE, answered).await;
            }
        }
        let _ = sink.close().await;
    }

    /// Decides what to do with one client message.
    async fn incoming(&mut self, bytes: &[u8]) -> Step {
        match ClientMessage::from_bytes(bytes) {
            Ok(ClientMessage::Start { id, payload }) => self.start(id, payload).await,
            Ok(message @ ClientMessage::ConnectionInit { .. }) => {
                self.initialised = true;
                Step::Forward(Box::new(message))
            }
            Ok(message) => Step::Forward(Box::new(message)),
            Err(err) => Step::Close(4400, format!("invalid message: {err}")),
        }
    }

    /// Admits a new operation, or says why not.
    async fn start(&mut self, id: String, mut request: Request) -> Step {
        if !self.acked {
            return Step::Close(4401, "Unauthorized".to_owned());
        }
        let caller = self.caller.get().cloned().unwrap_or_default();
        if let Some(refusal) = self.refuse_unless_standing(&id, &caller).await {
            return refusal;
        }
        let ops = self.state.ops.clone();
        let role = gate::role_label(&caller);
        let refuse = |id: String, message: String| {
            ops.metrics.request(
                Transport::WebSocket,
                metrics::NONE,
                role,
                Outcome::RateLimited,
                Duration::ZERO,
            );
            Step::Refuse(id, "RATE_LIMITED", message)
        };
        // Drawn before the table is locked (a shared bucket answers over the network).
        let decision = ops.limits.check(&caller, self.context.client).await;
        let Ok(mut running) = self.running.lock() else {
            return Step::Close(1011, "internal error".to_owned());
        };
        if running.contains_key(&id) {
            return Step::Close(4409, format!("Subscriber for {id} already exists"));
        }
        if let Some(decision) = decision
            && !decision.allowed
        {
            let message = format!("too many requests: try again in {} s", decision.reset_secs);
            return refuse(id, message);
        }
        let config = &ops.config;
        if running.len() >= config.ws_max_operations {
            let message = format!(
                "at most {} operations may run at once on one connection",
                config.ws_max_operations
            );
            return refuse(id, message);
        }
        let asker = Asker {
            caller: &caller,
            client: self.context.client,
        };
        let runs = |tier, text: &str| self.state.schema.runs(tier, text);
        if let Err(refusal) = ops
            .documents
            .resolve(&mut request, &asker, &ops.metrics, &runs)
        {
            return Step::Refuse(id, refusal.code(), refusal.message().to_owned());
        }
        let (kind, name) = describe(&self.state.schema, &caller, &request);
        let subscriptions = running
            .values()
            .filter(|k| **k == Kind::Subscription)
            .count();
        if kind == Kind::Subscription && subscriptions >= config.ws_max_subscriptions {
            let message = format!(
                "at most {} subscriptions may be open on one connection",
                config.ws_max_subscriptions
            );
            return refuse(id, message);
        }
        running.insert(id.clone(), kind);
        drop(running);
        if kind == Kind::Subscription {
            ops.metrics.subscriptions(1.0);
        }
        let ticket = Ticket {
            id: id.clone(),
            kind,
            label: ops
                .metrics
                .names
                .label(policy::tier(&caller), name.as_deref()),
            role,
            started: Instant::now(),
            running: self.running.clone(),
            ops: ops.clone(),
        };
        if let Ok(mut tickets) = self.tickets.lock() {
            tickets.push_back(ticket);
        }
        Step::Forward(Box::new(ClientMessage::Start {
            id,
            payload: request,
        }))
    }

    /// Why operation `id` may not start on behalf of `caller`, if it may not: its token has
    /// expired, or its subject no longer stands (erased, or no longer of the kind its role
    /// needs; the same cached check HTTP makes). Either closes the socket with 4403.
    async fn refuse_unless_standing(&self, id: &str, caller: &Caller) -> Option<Step> {
        let viewer = caller.viewer()?;
        let leeway = i64::try_from(self.state.verifier.leeway_secs()).unwrap_or(i64::MAX);
        if chrono::Utc::now().timestamp() > viewer.expires_at.saturating_add(leeway) {
            return Some(Step::RefuseAndClose(
                id.to_owned(),
                "UNAUTHENTICATED",
                "the token has expired: reconnect with a fresh one".to_owned(),
                4403,
                format!("{FORBIDDEN}: the token has expired"),
            ));
        }
        match standing(&self.state, viewer).await {
            Ok(()) => None,
            Err(Refusal::Token(err)) => Some(Step::RefuseAndClose(
                id.to_owned(),
                "UNAUTHENTICATED",
                err.0.clone(),
                4403,
                format!("{FORBIDDEN}: {}", err.0),
            )),
            Err(Refusal::Unavailable) => Some(Step::Refuse(
                id.to_owned(),
                "SERVICE_UNAVAILABLE",
                "service temporarily unavailable, try again shortly".to_owned(),
            )),
        }
    }

    /// Whether a lapse notice may be about this socket's subject (a missed notice may be).
    fn concerns(&self, lapse: Result<Option<i32>, broadcast::error::RecvError>) -> bool {
        let Some(viewer) = self.caller.get().and_then(|caller| caller.viewer()) else {
            return false;
        };
        match lapse {
            Ok(Some(id)) => id == viewer.customer_id,
            Ok(None) | Err(broadcast::error::RecvError::Lagged(_)) => true,
            // The gateway is going away; shutdown closes the socket.
            Err(broadcast::error::RecvError::Closed) => false,
        }
    }

    /// The close for a socket whose subject stopped standing since it was last checked. An
    /// outage ends no session: the next operation is refused on its own until it is over.
    async fn lapsed(&self) -> Option<(u16, String)> {
        let viewer = self.caller.get()?.viewer()?;
        match standing(&self.state, viewer).await {
            Err(Refusal::Token(err)) => Some((4403, format!("{FORBIDDEN}: {}", err.0))),
            Ok(()) | Err(Refusal::Unavailable) => None,
        }
    }

    /// A protocol `error` message for operation `id`.
    fn error_message(&self, id: &str, code: &str, message: &str) -> Message {
        let error = json!({
            "message": message,
            "extensions": { "code": code, "requestId": self.context.id.as_ref() },
        });
        let payload = match self.protocol {
            Protocols::GraphQLWS => json!([error]),
            Protocols::SubscriptionsTransportWS => error,
        };
        let text = json!({ "type": "error", "id": id, "payload": payload }).to_string();
        Message::Text(text.into())
    }
}

/// The operation a request runs: its kind and name, read by the guard under its limits (an
/// unchecked document is never parsed here). A document that is refused or names no operation
/// counts as a single answer; the schema then reports why.
fn describe(schema: &Served, caller: &Caller, request: &Request) -> (Kind, Option<String>) {
    match schema.operation(caller, request) {
        Some((OperationType::Subscription, name)) => (Kind::Subscription, name),
        Some((_, name)) => (Kind::Single, name),
        None => (Kind::Single, None),
    }
}

/// graphql-ws says a refused `connection_init` closes with 4403 Forbidden; async-graphql
/// closes with a generic 1002, so refusals are marked and re-coded. A rate-limited one gets
/// 1013 "Try Again Later" (RFC 6455's registry), which graphql-ws clients retry with backoff;
/// graphql-ws's own 4429 means a second `connection_init`, not a limit.
fn recode_close(code: u16, reason: String) -> (u16, String) {
    match code {
        1002 if reason.starts_with(FORBIDDEN) => (4403, reason),
        1002 if reason.starts_with(TOO_MANY) => (1013, reason),
        _ => (code, reason),
    }
}
