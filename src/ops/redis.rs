//! One link to a Redis shared by every replica, for state that must be one across them (rate
//! limits, APQ). Every call has a deadline; a call that fails or misses it marks the link down
//! (a warning once, not per request) and the caller decides on its own replica's state. While
//! down, calls are skipped for [`RETRY_AFTER`] so a dead or slow Redis costs nothing per
//! request, then one call probes it again; the first success says it is back.

use std::{
    future::Future,
    sync::{
        Mutex,
        atomic::{AtomicU8, Ordering},
    },
    time::{Duration, Instant},
};

use redis::{
    RedisResult,
    aio::{ConnectionManager, ConnectionManagerConfig},
};

use super::config::RedisUrl;

/// How long calls are skipped after Redis failed one.
pub const RETRY_AFTER: Duration = Duration::from_secs(1);

const UNKNOWN: u8 = 0;
const UP: u8 = 1;
const DOWN: u8 = 2;

/// A lazily connected, self-reconnecting Redis connection with a health flag.
pub struct RedisLink {
    /// What the link serves, for the log (`rate limits`, `APQ`).
    purpose: &'static str,
    conn: ConnectionManager,
    timeout: Duration,
    state: AtomicU8,
    /// While down: when the next call may try again.
    retry_at: Mutex<Option<Instant>>,
}

impl RedisLink {
    /// A link to `url` whose calls wait at most `timeout`; connects on first use, so a Redis
    /// that is away at start-up only means fallback until it comes.
    pub fn new(purpose: &'static str, url: &RedisUrl, timeout: Duration) -> Result<Self, String> {
        let client = redis::Client::open(url.0.as_str())
            .map_err(|e| format!("{purpose}: not a Redis URL: {:?}", e.kind()))?;
        // Connecting and reconnecting run in the background of the manager (a waiter that
        // gives up does not cancel them), so they may take longer than one call's deadline.
        let slow = timeout.max(Duration::from_secs(1));
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(slow))
            .set_response_timeout(Some(slow))
            .set_number_of_retries(2)
            .set_max_delay(slow);
        let conn = ConnectionManager::new_lazy_with_config(client, config)
            .map_err(|e| format!("{purpose}: Redis: {:?}", e.kind()))?;
        Ok(Self {
            purpose,
            conn,
            timeout,
            state: AtomicU8::new(UNKNOWN),
            retry_at: Mutex::new(None),
        })
    }

    /// Whether the last call answered in time.
    pub fn is_up(&self) -> bool {
        self.state.load(Ordering::Relaxed) == UP
    }

    /// Runs `call` on the connection within the deadline; `None` when Redis failed, was too
    /// slow, or is being left alone after a failure.
    pub async fn run<T, F, Fut>(&self, call: F) -> Option<T>
    where
        F: FnOnce(ConnectionManager) -> Fut,
        Fut: Future<Output = RedisResult<T>>,
    {
        if self.resting() {
            return None;
        }
        match tokio::time::timeout(self.timeout, call(self.conn.clone())).await {
            Ok(Ok(value)) => {
                self.mark_up();
                Some(value)
            }
            Ok(Err(e)) => {
                self.mark_down(&format!("{:?}", e.kind()));
                None
            }
            Err(_) => {
                self.mark_down(&format!("no answer within {} ms", self.timeout.as_millis()));
                None
            }
        }
    }

    /// Asks Redis once, so `/metrics` and the log tell its state before the first request.
    pub async fn probe(&self) {
        self.run(|mut conn| async move { redis::cmd("PING").query_async::<()>(&mut conn).await })
            .await;
    }

    fn resting(&self) -> bool {
        if self.state.load(Ordering::Relaxed) != DOWN {
            return false;
        }
        let Ok(mut retry_at) = self.retry_at.lock() else {
            return false;
        };
        match *retry_at {
            Some(at) if Instant::now() < at => true,
            _ => {
                // This call probes; the others keep resting until it has answered.
                *retry_at = Some(Instant::now() + RETRY_AFTER);
                false
            }
        }
    }

    fn mark_up(&self) {
        if self.state.swap(UP, Ordering::Relaxed) != UP {
            tracing::info!(purpose = self.purpose, "Redis reachable: state is shared");
        }
    }

    fn mark_down(&self, why: &str) {
        if let Ok(mut retry_at) = self.retry_at.lock() {
            *retry_at = Some(Instant::now() + RETRY_AFTER);
        }
        if self.state.swap(DOWN, Ordering::Relaxed) != DOWN {
            tracing::warn!(
                purpose = self.purpose,
                error = why,
                "Redis unreachable: falling back to this replica's own state"
            );
        }
    }
}
