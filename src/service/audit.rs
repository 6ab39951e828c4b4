//! The access audit: requests that read internal-only fields (selected, or used to filter or
//! order) are queued on a bounded channel and written in batches by one background task, so
//! auditing never adds a database round trip to a request. If the queue is full (the database
//! is down or far behind), entries are dropped and counted in the log rather than slowing
//! requests down.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, AtomicUsize, Ordering},
    },
    time::Duration,
};

use chrono::Utc;
use entity::access_audit;
use sea_orm::{ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use tokio::{sync::mpsc, task::JoinHandle};

use super::{
    page::{self, Page, PageRequest},
    write::Writer,
};
use crate::Result;

/// Entries waiting to be written, at most.
const QUEUE: usize = 10_000;
/// Entries written in one statement, at most.
const BATCH: usize = 200;

/// One audited read.
#[derive(Debug, Clone)]
pub struct AuditEntry {
    /// The caller's customer id.
    pub customer_id: i32,
    /// The caller's role claim.
    pub role: &'static str,
    /// The operation's name, if it had one.
    pub operation_name: Option<String>,
    /// `Type.field` names read and `Type.member` names of internal input used.
    pub fields: Vec<String>,
}

/// Where requests drop audit entries.
#[derive(Clone)]
pub struct AuditSink(mpsc::Sender<AuditEntry>, AuditStats);

impl AuditSink {
    /// Queues an entry without waiting.
    pub fn record(&self, entry: AuditEntry) {
        // Counted before sending, so the writer never subtracts an entry not yet added.
        self.1.queued.fetch_add(1, Ordering::Relaxed);
        match self.0.try_send(entry) {
            Ok(()) => {}
            Err(err) => {
                self.1.queued.fetch_sub(1, Ordering::Relaxed);
                self.1.dropped.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(%err, "access audit queue full or closed: entry dropped");
            }
        }
    }

    /// The queue's counters (for metrics), without keeping the writer alive.
    pub fn stats(&self) -> AuditStats {
        self.1.clone()
    }
}

/// Entries waiting and entries dropped, for metrics.
#[derive(Clone, Default)]
pub struct AuditStats {
    queued: Arc<AtomicUsize>,
    dropped: Arc<AtomicU64>,
}

impl AuditStats {
    /// Entries queued and not yet written.
    pub fn queued(&self) -> usize {
        self.queued.load(Ordering::Relaxed)
    }

    /// Entries dropped since start because the queue was full.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

/// Starts the writer; it finishes once every sink is dropped and the queue is written. Each
/// batch is one write through `writes`, so it takes its turn with every other write.
pub fn start(writes: Writer) -> (AuditSink, JoinHandle<()>) {
    let (tx, mut rx) = mpsc::channel::<AuditEntry>(QUEUE);
    let stats = AuditStats::default();
    let queued = stats.queued.clone();
    let handle = tokio::spawn(async move {
        let mut batch = Vec::with_capacity(BATCH);
        while rx.recv_many(&mut batch, BATCH).await > 0 {
            // Give a burst a moment to gather into one insert.
            if batch.len() < BATCH {
                tokio::time::sleep(Duration::from_millis(20)).await;
                while batch.len() < BATCH {
                    match rx.try_recv() {
                        Ok(entry) => batch.push(entry),
                        Err(_) => break,
                    }
                }
            }
            let now = Utc::now();
            let written = batch.len();
            let rows: Vec<access_audit::ActiveModel> = batch
                .drain(..)
                .map(|e| access_audit::ActiveModel {
                    customer_id: Set(e.customer_id),
                    role: Set(e.role.to_owned()),
                    operation_name: Set(e.operation_name.map(|n| n.chars().take(200).collect())),
                    fields: Set(e.fields.join(",")),
                    requested_at: Set(now),
                    ..Default::default()
                })
                .collect();
            let insert = writes
                .run(async |tx| {
                    Ok(access_audit::Entity::insert_many(rows)
                        .exec(tx.conn())
                        .await?)
                })
                .await;
            if let Err(err) = insert {
                tracing::error!(%err, "cannot write access audit entries");
            }
            queued.fetch_sub(written, Ordering::Relaxed);
        }
    });
    (AuditSink(tx, stats), handle)
}

/// A page of audit entries, optionally of one caller.
pub async fn list(
    db: &DatabaseConnection,
    customer_id: Option<i32>,
    page: PageRequest,
) -> Result<Page<access_audit::Model>> {
    let mut select = access_audit::Entity::find();
    if let Some(id) = customer_id {
        select = select.filter(access_audit::Column::CustomerId.eq(id));
    }
    page::fetch(db, select, crate::by_id!(access_audit), page).await
}
