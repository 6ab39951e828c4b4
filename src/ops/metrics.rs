//! Prometheus metrics through the `metrics` facade and `metrics-exporter-prometheus`. Each
//! gateway owns its recorder (no global), so two gateways in one process — the tests — never
//! mix their numbers. Label values come from closed sets; operation names from
//! [`OperationNames`], which caps how many distinct names ever become labels.

use std::{
    collections::HashSet,
    sync::{Arc, RwLock},
    time::Duration,
};

use metrics::{Key, Label, Level, Metadata, Recorder, Unit};

use crate::policy::Tier;
use metrics_exporter_prometheus::{
    Matcher, PrometheusBuilder, PrometheusHandle, PrometheusRecorder,
};

const META: Metadata<'static> = Metadata::new("crm_gateway", Level::INFO, Some(module_path!()));

/// Label for a document with no operation name.
pub const UNNAMED: &str = "<unnamed>";
/// Label for operation names beyond the cap.
pub const OTHER: &str = "<other>";
/// Label for requests refused before an operation was chosen.
pub const NONE: &str = "<none>";

const REQUESTS: &str = "graphql_requests_total";
const DURATION: &str = "graphql_request_duration_seconds";
const REJECTED_TOKENS: &str = "auth_rejected_tokens_total";
const POOL_SIZE: &str = "db_pool_connections";
const POOL_IDLE: &str = "db_pool_idle_connections";
const DB_UP: &str = "db_up";
const WEBSOCKETS: &str = "websocket_connections";
const SUBSCRIPTIONS: &str = "graphql_subscriptions";
const AUDIT_QUEUE: &str = "audit_queue_length";
const AUDIT_DROPPED: &str = "audit_dropped_total";
const LIMITER_KEYS: &str = "rate_limiter_keys";
const RATE_LIMIT_REDIS_UP: &str = "rate_limit_redis_up";
const PERSISTED: &str = "persisted_documents_total";

/// How a GraphQL request ended, as counted in `graphql_requests_total{outcome}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Data and no errors.
    Ok,
    /// Refused before execution: bad request, token, parse, validation, unknown document.
    RequestError,
    /// Executed, with errors on some fields.
    FieldError,
    /// Refused by the rate limiter.
    RateLimited,
    /// The database was unreachable.
    Unavailable,
}

impl Outcome {
    /// The label value.
    pub fn label(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::RequestError => "request_error",
            Outcome::FieldError => "field_error",
            Outcome::RateLimited => "rate_limited",
            Outcome::Unavailable => "unavailable",
        }
    }
}

/// Which transport carried an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// `POST` or `GET /graphql`.
    Http,
    /// An operation on `/graphql/ws`.
    WebSocket,
}

impl Transport {
    fn label(self) -> &'static str {
        match self {
            Transport::Http => "http",
            Transport::WebSocket => "ws",
        }
    }
}

/// Operation names become labels per tier: each tier (public, employee, manager) has its own
/// share of `cap` (a third, at least one), and its first distinct names get their own label;
/// the rest share [`OTHER`]. So a caller sending random names cannot grow the label set (and
/// Prometheus' memory) for ever, and anonymous callers and clients cannot take the labels
/// staff operations need. Only operations that validated for their caller's tier are named.
pub struct OperationNames {
    share: usize,
    known: [RwLock<HashSet<Arc<str>>>; 3],
}

impl OperationNames {
    /// A registry admitting at most `cap` names, split evenly between the tiers.
    pub fn new(cap: usize) -> Self {
        let share = match cap {
            0 => 0,
            _ => (cap / Tier::ALL.len()).max(1),
        };
        Self {
            share,
            known: Default::default(),
        }
    }

    /// The label for an operation name run by a caller of `tier`.
    pub fn label(&self, tier: Tier, name: Option<&str>) -> Arc<str> {
        let Some(name) = name else {
            return Arc::from(UNNAMED);
        };
        let known = match tier {
            Tier::Public => &self.known[0],
            Tier::Internal => &self.known[1],
            Tier::Manager => &self.known[2],
        };
        if let Ok(known) = known.read()
            && let Some(found) = known.get(name)
        {
            return found.clone();
        }
        let Ok(mut known) = known.write() else {
            return Arc::from(OTHER);
        };
        if known.len() >= self.share || name.len() > 100 {
            return Arc::from(OTHER);
        }
        let label: Arc<str> = Arc::from(name);
        known.insert(label.clone());
        label
    }
}

/// Gauges read at scrape time from the parts that own them.
#[derive(Debug, Clone, Copy, Default)]
pub struct Snapshot {
    /// Open pool connections.
    pub pool_size: u32,
    /// Idle pool connections.
    pub pool_idle: usize,
    /// Whether the database answered last time it was asked.
    pub db_up: bool,
    /// Audit entries waiting to be written.
    pub audit_queue: usize,
    /// Audit entries dropped since start.
    pub audit_dropped: u64,
    /// Keys held by the rate limiters.
    pub limiter_keys: usize,
    /// Whether the shared rate-limit Redis answers (`None`: not configured, no gauge).
    pub rate_limit_redis_up: Option<bool>,
}

/// The gateway's metrics.
pub struct Metrics {
    recorder: PrometheusRecorder,
    handle: PrometheusHandle,
    /// Operation-name labels.
    pub names: OperationNames,
    audit_dropped_seen: std::sync::atomic::AtomicU64,
}

impl Metrics {
    /// A fresh recorder with every metric described.
    pub fn new(operation_names: usize) -> Self {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(
                Matcher::Full(DURATION.into()),
                &[
                    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
                ],
            )
            .map(PrometheusBuilder::build_recorder)
            .unwrap_or_else(|_| PrometheusBuilder::new().build_recorder());
        let handle = recorder.handle();
        let metrics = Self {
            recorder,
            handle,
            names: OperationNames::new(operation_names),
            audit_dropped_seen: Default::default(),
        };
        metrics.describe();
        // Present from the first scrape, not only after the first WebSocket.
        metrics.gauge(WEBSOCKETS).set(0.0);
        metrics.gauge(SUBSCRIPTIONS).set(0.0);
        metrics
    }

    fn describe(&self) {
        let r = &self.recorder;
        r.describe_counter(
            REQUESTS.into(),
            None,
            "GraphQL operations by transport, operation name, role and outcome".into(),
        );
        r.describe_histogram(
            DURATION.into(),
            Some(Unit::Seconds),
            "Time from receiving a GraphQL operation to its (first) answer".into(),
        );
        r.describe_counter(
            REJECTED_TOKENS.into(),
            None,
            "Bearer tokens refused, by reason".into(),
        );
        r.describe_gauge(POOL_SIZE.into(), None, "Open database connections".into());
        r.describe_gauge(POOL_IDLE.into(), None, "Idle database connections".into());
        r.describe_gauge(
            DB_UP.into(),
            None,
            "1 when the database is reachable".into(),
        );
        r.describe_gauge(WEBSOCKETS.into(), None, "Open GraphQL WebSockets".into());
        r.describe_gauge(SUBSCRIPTIONS.into(), None, "Active subscriptions".into());
        r.describe_gauge(
            AUDIT_QUEUE.into(),
            None,
            "Access-audit entries waiting".into(),
        );
        r.describe_counter(
            AUDIT_DROPPED.into(),
            None,
            "Access-audit entries dropped because the queue was full".into(),
        );
        r.describe_gauge(
            LIMITER_KEYS.into(),
            None,
            "Callers tracked by the rate limiters".into(),
        );
        r.describe_gauge(
            RATE_LIMIT_REDIS_UP.into(),
            None,
            "1 while the shared rate-limit Redis answers; 0: each replica limits on its own".into(),
        );
        r.describe_counter(
            PERSISTED.into(),
            None,
            "Persisted-document lookups by source and result".into(),
        );
    }

    /// Counts one finished operation and its latency.
    pub fn request(
        &self,
        transport: Transport,
        operation: &str,
        role: &'static str,
        outcome: Outcome,
        latency: Duration,
    ) {
        let labels = vec![
            Label::new("transport", transport.label()),
            Label::new("operation", operation.to_owned()),
            Label::new("role", role),
            Label::new("outcome", outcome.label()),
        ];
        self.recorder
            .register_counter(&Key::from_parts(REQUESTS, labels), &META)
            .increment(1);
        let labels = vec![
            Label::new("transport", transport.label()),
            Label::new("operation", operation.to_owned()),
        ];
        self.recorder
            .register_histogram(&Key::from_parts(DURATION, labels), &META)
            .record(latency.as_secs_f64());
    }

    /// Counts a refused token.
    pub fn token_rejected(&self, reason: &'static str) {
        self.recorder
            .register_counter(
                &Key::from_parts(REJECTED_TOKENS, vec![Label::new("reason", reason)]),
                &META,
            )
            .increment(1);
    }

    /// Counts a persisted-document lookup (`source`: manifest or apq; `result`: hit, miss,
    /// registered, refused).
    pub fn persisted(&self, source: &'static str, result: &'static str) {
        let labels = vec![Label::new("source", source), Label::new("result", result)];
        self.recorder
            .register_counter(&Key::from_parts(PERSISTED, labels), &META)
            .increment(1);
    }

    fn gauge(&self, name: &'static str) -> metrics::Gauge {
        self.recorder.register_gauge(&Key::from_name(name), &META)
    }

    /// A WebSocket opened (`+1`) or closed (`-1`).
    pub fn websockets(&self, delta: f64) {
        self.gauge(WEBSOCKETS).increment(delta);
    }

    /// A subscription started (`+1`) or ended (`-1`).
    pub fn subscriptions(&self, delta: f64) {
        self.gauge(SUBSCRIPTIONS).increment(delta);
    }

    /// The exposition text, after setting the scrape-time gauges from `snapshot`.
    pub fn render(&self, snapshot: Snapshot) -> String {
        self.gauge(POOL_SIZE).set(snapshot.pool_size);
        self.gauge(POOL_IDLE).set(snapshot.pool_idle as f64);
        self.gauge(DB_UP)
            .set(if snapshot.db_up { 1.0 } else { 0.0 });
        self.gauge(AUDIT_QUEUE).set(snapshot.audit_queue as f64);
        self.gauge(LIMITER_KEYS).set(snapshot.limiter_keys as f64);
        if let Some(up) = snapshot.rate_limit_redis_up {
            self.gauge(RATE_LIMIT_REDIS_UP)
                .set(if up { 1.0 } else { 0.0 });
        }
        let seen = self
            .audit_dropped_seen
            .swap(snapshot.audit_dropped, std::sync::atomic::Ordering::Relaxed);
        self.recorder
            .register_counter(&Key::from_name(AUDIT_DROPPED), &META)
            .increment(snapshot.audit_dropped.saturating_sub(seen));
        self.handle.render()
    }

    /// Folds recorded histogram samples into their buckets; run periodically so samples do
    /// not pile up between scrapes (or when nobody scrapes).
    pub fn upkeep(&self) {
        self.handle.run_upkeep();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_names_are_capped_per_tier() {
        let names = OperationNames::new(6);
        assert_eq!(&*names.label(Tier::Public, Some("A")), "A");
        assert_eq!(&*names.label(Tier::Public, Some("B")), "B");
        assert_eq!(&*names.label(Tier::Public, Some("C")), OTHER);
        assert_eq!(&*names.label(Tier::Public, Some("A")), "A");
        assert_eq!(&*names.label(Tier::Internal, Some("Staff")), "Staff");
        assert_eq!(&*names.label(Tier::Manager, Some("C")), "C");
        assert_eq!(&*names.label(Tier::Public, None), UNNAMED);
        assert_eq!(
            &*OperationNames::new(0).label(Tier::Manager, Some("A")),
            OTHER
        );
    }
}
