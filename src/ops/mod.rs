//! Running the gateway in production: settings, logs, request ids, metrics, rate limits,
//! trusted documents, failing fast while the database is away, and graceful shutdown. The
//! HTTP glue for these lives in [`crate::http`]; here are the mechanisms.

pub mod apq;
pub mod config;
pub mod context;
pub mod db_health;
pub mod documents;
pub mod logging;
pub mod metrics;
#[cfg(feature = "otel")]
pub mod otel;
pub mod rate_limit;
mod rate_limit_redis;
pub mod redis;
pub mod shutdown;

use std::sync::{Arc, Weak};

use sea_orm::DatabaseConnection;

pub use config::OpsConfig;

use self::{
    db_health::DbHealth,
    documents::Documents,
    metrics::{Metrics, Snapshot},
    rate_limit::RateLimits,
    shutdown::Shutdown,
};
use crate::service::audit::AuditStats;

/// Everything the operations layer keeps for one gateway.
pub struct Ops {
    /// The settings it was built from.
    pub config: OpsConfig,
    /// Prometheus metrics.
    pub metrics: Metrics,
    /// Per-caller rate limits.
    pub limits: RateLimits,
    /// The database circuit.
    pub db_health: Arc<DbHealth>,
    /// The shutdown signal WebSockets watch.
    pub shutdown: Shutdown,
    /// Trusted documents and APQ.
    pub documents: Documents,
    /// Turns for executing an HTTP operation (`MAX_CONCURRENT_OPERATIONS`).
    pub executions: Arc<tokio::sync::Semaphore>,
    db: DatabaseConnection,
    audit: AuditStats,
}

impl Ops {
    /// Builds the layer and starts its housekeeping (histogram upkeep, idle-key eviction),
    /// which stops by itself once the gateway is dropped. `runs` judges manifest entries per
    /// tier.
    pub fn new(
        config: OpsConfig,
        db: DatabaseConnection,
        audit: AuditStats,
        runs: documents::Runs<'_>,
    ) -> Result<Arc<Self>, String> {
        let ops = Arc::new(Self {
            documents: Documents::from_config(&config, runs)?,
            metrics: Metrics::new(config.metrics_operation_names),
            limits: RateLimits::from_config(&config)?,
            db_health: DbHealth::new(db.clone()),
            shutdown: Shutdown::default(),
            executions: Arc::new(tokio::sync::Semaphore::new(config.concurrent_operations())),
            config,
            db,
            audit,
        });
        tokio::spawn(housekeeping(Arc::downgrade(&ops)));
        let limits = ops.limits.clone();
        tokio::spawn(async move { limits.probe().await });
        Ok(ops)
    }

    /// The audit queue's counters.
    pub fn audit_stats(&self) -> AuditStats {
        self.audit.clone()
    }

    /// The exposition text of `/metrics`.
    pub fn render_metrics(&self) -> String {
        let (pool_size, pool_idle) = pool_stats(&self.db);
        self.metrics.render(Snapshot {
            pool_size,
            pool_idle,
            db_up: self.db_health.is_up(),
            audit_queue: self.audit.queued(),
            audit_dropped: self.audit.dropped(),
            limiter_keys: self.limits.keys(),
            rate_limit_redis_up: self.limits.redis_up(),
        })
    }
}

fn pool_stats(db: &DatabaseConnection) -> (u32, usize) {
    match db.get_database_backend() {
        sea_orm::DbBackend::Postgres => {
            let pool = db.get_postgres_connection_pool();
            (pool.size(), pool.num_idle())
        }
        sea_orm::DbBackend::Sqlite => {
            let pool = db.get_sqlite_connection_pool();
            (pool.size(), pool.num_idle())
        }
        _ => (0, 0),
    }
}

async fn housekeeping(ops: Weak<Ops>) {
    let mut tick = tokio::time::interval(rate_limit::SWEEP_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let Some(ops) = ops.upgrade() else {
            return;
        };
        ops.metrics.upkeep();
        ops.limits.sweep();
    }
}
