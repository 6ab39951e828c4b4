//! Failing fast while the database is away. The first request that finds the database
//! unreachable (after at most the pool's short acquire timeout) marks it down; from then on
//! requests are answered `SERVICE_UNAVAILABLE` at once instead of each waiting for a connection,
//! while one background probe pings until the database answers and marks it up again — so the
//! gateway recovers by itself, without a restart.

use std::{
    sync::{
        Arc, Weak,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use sea_orm::DatabaseConnection;

/// Time between probes while the database is down.
const PROBE_EVERY: Duration = Duration::from_millis(500);
/// Longest a probe waits for its ping.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// Whether the database is believed reachable.
pub struct DbHealth {
    up: AtomicBool,
    probing: AtomicBool,
    db: DatabaseConnection,
}

impl DbHealth {
    /// Starts optimistic: the database was reachable at start-up (migrations ran).
    pub fn new(db: DatabaseConnection) -> Arc<Self> {
        Arc::new(Self {
            up: AtomicBool::new(true),
            probing: AtomicBool::new(false),
            db,
        })
    }

    /// Whether requests should try the database.
    pub fn is_up(&self) -> bool {
        self.up.load(Ordering::Acquire)
    }

    /// Records that a request found the database unreachable, and starts probing.
    pub fn mark_down(self: &Arc<Self>) {
        if self.up.swap(false, Ordering::AcqRel) {
            tracing::warn!("database unreachable: answering SERVICE_UNAVAILABLE until it is back");
        }
        if !self.probing.swap(true, Ordering::AcqRel) {
            tokio::spawn(probe(Arc::downgrade(self)));
        }
    }

    /// Pings the database (bounded) and records the answer.
    pub async fn check(self: &Arc<Self>) -> bool {
        let ok = matches!(
            tokio::time::timeout(PROBE_TIMEOUT, self.db.ping()).await,
            Ok(Ok(()))
        );
        if ok {
            self.mark_up();
        } else {
            self.mark_down();
        }
        ok
    }

    fn mark_up(&self) {
        if !self.up.swap(true, Ordering::AcqRel) {
            tracing::info!("database reachable again");
        }
    }
}

/// Pings until the database answers; stops early when the gateway is gone.
async fn probe(health: Weak<DbHealth>) {
    loop {
        tokio::time::sleep(PROBE_EVERY).await;
        let Some(health) = health.upgrade() else {
            return;
        };
        let ok = matches!(
            tokio::time::timeout(PROBE_TIMEOUT, health.db.ping()).await,
            Ok(Ok(()))
        );
        if ok {
            health.mark_up();
            health.probing.store(false, Ordering::Release);
            return;
        }
    }
}
