//! The operations gate around one GraphQL request over HTTP: the rate limit and the database
//! circuit before it runs, then metrics, the access-log line and the `RateLimit-*` headers
//! after. [`super::graphql`] calls it at three small hooks, so the request path stays readable.

use std::time::{Duration, Instant};

use axum::{
    http::{HeaderValue, StatusCode, header},
    response::Response,
};

use super::{Format, request_error};
use crate::{
    app::AppState,
    auth::{AuthError, Caller},
    ops::{
        context::RequestContext,
        metrics::{self, Outcome, Transport},
        rate_limit::Decision,
    },
};

/// A request that passed the gate; finish it with [`Admitted::finish`].
pub struct Admitted {
    started: Instant,
    role: &'static str,
    decision: Option<Decision>,
    /// Whether an outage this request meets is the primary's (false when it read on a replica).
    on_primary: bool,
}

/// The role label of a caller.
pub fn role_label(caller: &Caller) -> &'static str {
    caller.role().map_or("anonymous", |r| r.as_claim())
}

/// Answers a request whose token was refused (401), counting the reason. The refusal draws
/// from the anonymous bucket of its address, so bad tokens cannot dodge the rate limit.
pub async fn unauthenticated(state: &AppState, format: Format, err: AuthError) -> Response {
    let started = Instant::now();
    state.ops.metrics.token_rejected(err.1.label());
    let decision = check_limit(state, &Caller(None)).await;
    if let Some(decision) = decision.as_ref().filter(|d| !d.allowed) {
        return rate_limited(state, format, "anonymous", decision.clone(), started);
    }
    let response = request_error(StatusCode::UNAUTHORIZED, format, "UNAUTHENTICATED", &err.0);
    Admitted {
        started,
        role: "anonymous",
        decision,
        on_primary: true,
    }
    .finish(state, response, metrics::NONE, Outcome::RequestError)
}

async fn check_limit(state: &AppState, caller: &Caller) -> Option<Decision> {
    let client = RequestContext::current().and_then(|c| c.client);
    state.ops.limits.check(caller, client).await
}

fn rate_limited(
    state: &AppState,
    format: Format,
    role: &'static str,
    decision: Decision,
    started: Instant,
) -> Response {
    let message = format!(
        "too many requests: try again in {} s",
        decision.reset_secs.max(1)
    );
    let response = request_error(
        StatusCode::TOO_MANY_REQUESTS,
        format,
        "RATE_LIMITED",
        &message,
    );
    Admitted {
        started,
        role,
        decision: Some(decision),
        on_primary: true,
    }
    .finish(state, response, metrics::NONE, Outcome::RateLimited)
}

/// Admits a request (rate limit, then the database circuit) or answers it at once.
pub async fn admit(
    state: &AppState,
    caller: &Caller,
    format: Format,
) -> Result<Admitted, Box<Response>> {
    let started = Instant::now();
    let role = role_label(caller);
    let decision = check_limit(state, caller).await;
    if let Some(decision) = decision.as_ref().filter(|d| !d.allowed) {
        return Err(Box::new(rate_limited(
            state,
            format,
            role,
            decision.clone(),
            started,
        )));
    }
    let admitted = Admitted {
        started,
        role,
        decision,
        on_primary: true,
    };
    if !state.ops.db_health.is_up() {
        let response = request_error(
            StatusCode::SERVICE_UNAVAILABLE,
            format,
            "SERVICE_UNAVAILABLE",
            "service temporarily unavailable, try again shortly",
        );
        return Err(Box::new(admitted.finish(
            state,
            response,
            metrics::NONE,
            Outcome::Unavailable,
        )));
    }
    Ok(admitted)
}

/// How an executed GraphQL response ended.
pub fn outcome(response: &async_graphql::Response, request_failed: bool) -> Outcome {
    let code_is = |code: &str| {
        response.errors.iter().any(|e| {
            e.extensions
                .as_ref()
                .and_then(|x| x.get("code"))
                .is_some_and(|c| matches!(c, async_graphql::Value::String(s) if s == code))
        })
    };
    if response.errors.is_empty() {
        Outcome::Ok
    } else if request_failed {
        Outcome::RequestError
    } else if code_is("SERVICE_UNAVAILABLE") {
        Outcome::Unavailable
    } else {
        Outcome::FieldError
    }
}

/// Adds the request id to every error of a response, so a bug report can be found in the logs.
pub fn stamp_request_id(response: &mut async_graphql::Response) {
    let Some(context) = RequestContext::current() else {
        return;
    };
    for err in &mut response.errors {
        err.extensions
            .get_or_insert_with(Default::default)
            .set("requestId", context.id.as_ref());
    }
}

impl Admitted {
    /// Marks a request whose reads ran on a replica: an outage it meets leaves the primary's
    /// circuit alone (the caller marks the replica instead).
    pub fn read_on_replica(mut self) -> Self {
        self.on_primary = false;
        self
    }

    /// Records the request (metrics, one access-log line) and adds the rate-limit headers;
    /// an unavailable database also trips the circuit and gets 503 with `Retry-After`.
    pub fn finish(
        self,
        state: &AppState,
        mut response: Response,
        operation: &str,
        outcome: Outcome,
    ) -> Response {
        let latency = self.started.elapsed();
        state
            .ops
            .metrics
            .request(Transport::Http, operation, self.role, outcome, latency);
        if outcome == Outcome::Unavailable {
            if self.on_primary {
                state.ops.db_health.mark_down();
            }
            *response.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        if let Some(decision) = &self.decision {
            decision.apply(response.headers_mut());
        }
        access_log(operation, self.role, outcome, latency, response.status());
        response
    }
}

fn access_log(
    operation: &str,
    role: &'static str,
    outcome: Outcome,
    latency: Duration,
    status: StatusCode,
) {
    let request_id = RequestContext::current().map(|c| c.id);
    tracing::info!(
        target: "access",
        request_id = request_id.as_deref().unwrap_or_default(),
        operation,
        role,
        outcome = outcome.label(),
        status = status.as_u16(),
        latency_ms = latency.as_secs_f64() * 1000.0,
        "graphql request"
    );
}
