//! One write path. Every write of the gateway runs inside [`Writer::run`]: it begins the
//! transaction, takes the write turn where the database needs one, hands the work a [`Tx`],
//! commits, and only then lets subscribers hear about what changed. On any error the
//! transaction rolls back and its events are dropped.
//!
//! A write function takes a `&Writer`, never a connection, so it has no way to write outside a
//! transaction:
//!
//! ```text
//! pub async fn rename(writer: &Writer, id: i32, name: String) -> Result<thing::Model> {
//!     writer
//!         .run(async |tx| {
//!             let row = thing::ActiveModel { id: Set(id), name: Set(name), ..Default::default() }
//!                 .update(tx.conn())
//!                 .await?;
//!             tx.publish(event_about(&row)); // heard by subscribers after the commit only
//!             Ok(row)
//!         })
//!         .await
//! }
//! ```
//!
//! Reads a write depends on belong inside the closure too (on `tx.conn()`), so they see the
//! same state the write commits against.

use std::sync::{Arc, Mutex as SyncMutex};

use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, SqliteTransactionMode,
    Statement, TransactionOptions, TransactionTrait,
};
use tokio::sync::Mutex;

use super::events::{EventBus, InteractionEvent};
use crate::Result;

/// Opens write transactions and publishes their events after commit. Cheap to clone; clones
/// share one SQLite write queue.
#[derive(Clone)]
pub struct Writer {
    db: DatabaseConnection,
    bus: EventBus,
    /// SQLite has one writer at a time. Write transactions start IMMEDIATE (a deferred one that
    /// reads before it writes fails at once with BUSY when another connection wrote in between),
    /// and queue here first so they wait asleep instead of in SQLite's busy loop holding a
    /// pooled connection.
    sqlite_turn: Arc<Mutex<()>>,
}

/// A rule spanning many rows, whose writers must take turns even where the database lets
/// writers run side by side (PostgreSQL). See [`Tx::serialize`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Serial {
    /// The org chart has no cycles: two concurrent re-parentings that are each fine alone
    /// (A under B, B under A) must not both commit.
    OrgChart,
}

impl Serial {
    /// The PostgreSQL advisory lock key; distinct per rule, stable across releases.
    fn key(self) -> i64 {
        match self {
            Serial::OrgChart => 0x6372_6d5f_6f72_6701, // "crm_org" + 1
        }
    }
}

/// One open write transaction, as seen by the work inside [`Writer::run`].
pub struct Tx {
    txn: DatabaseTransaction,
    backend: DbBackend,
    events: SyncMutex<Vec<InteractionEvent>>,
    lapses: SyncMutex<Vec<i32>>,
}

impl Tx {
    /// The transaction to run statements on (reads included).
    pub fn conn(&self) -> &DatabaseTransaction {
        &self.txn
    }

    /// Announces `event` to subscribers once (and only if) the transaction commits.
    pub fn publish(&self, event: InteractionEvent) {
        match self.events.lock() {
            Ok(mut events) => events.push(event),
            Err(poisoned) => poisoned.into_inner().push(event),
        }
    }

    /// Announces, once (and only if) the transaction commits, that customer `id`'s tokens no
    /// longer stand (it was erased): every replica forgets its cached standing and closes
    /// that subject's sockets at once rather than when the subject cache next expires.
    pub fn lapse_subject(&self, id: i32) {
        match self.lapses.lock() {
            Ok(mut lapses) => lapses.push(id),
            Err(poisoned) => poisoned.into_inner().push(id),
        }
    }

    /// Waits until no other transaction is writing under `rule`, and keeps the turn until this
    /// one ends. Call it before reading the rows the rule is checked against: on PostgreSQL
    /// (READ COMMITTED) every later statement then sees what the previous holder committed. On
    /// SQLite every write transaction already holds the database's single write lock.
    pub async fn serialize(&self, rule: Serial) -> Result<()> {
        if self.backend == DbBackend::Postgres {
            self.txn
                .execute_raw(Statement::from_sql_and_values(
                    DbBackend::Postgres,
                    "SELECT pg_advisory_xact_lock($1)",
                    [rule.key().into()],
                ))
                .await?;
        }
        Ok(())
    }

    fn take_events(&self) -> (Vec<InteractionEvent>, Vec<i32>) {
        (take(&self.events), take(&self.lapses))
    }
}

impl Writer {
    /// A writer over `db` that publishes through `bus`. One per process (its clones share the
    /// SQLite write queue).
    pub fn new(db: DatabaseConnection, bus: EventBus) -> Self {
        Self {
            db,
            bus,
            sqlite_turn: Arc::new(Mutex::new(())),
        }
    }

    /// The bus its events are published on (subscriptions listen there).
    pub fn bus(&self) -> &EventBus {
        &self.bus
    }

    /// Runs `work` in one write transaction: commits if it returns `Ok`, rolls back if it
    /// returns `Err` (the error is passed on), and publishes the events it queued with
    /// [`Tx::publish`] only after the commit.
    pub async fn run<T>(&self, work: impl AsyncFnOnce(&Tx) -> Result<T>) -> Result<T> {
        let backend = self.db.get_database_backend();
        let _turn = match backend {
            DbBackend::Sqlite => Some(self.sqlite_turn.lock().await),
            _ => None,
        };
        let txn = match backend {
            DbBackend::Sqlite => {
                self.db
                    .begin_with_options(TransactionOptions {
                        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
                        ..Default::default()
                    })
                    .await?
            }
            _ => self.db.begin().await?,
        };
        let tx = Tx {
            txn,
            backend,
            events: SyncMutex::new(Vec::new()),
            lapses: SyncMutex::new(Vec::new()),
        };
        let outcome = work(&tx).await;
        let (events, lapses) = tx.take_events();
        let Tx { txn, .. } = tx;
        match outcome {
            Ok(value) => {
                self.bus.notify_within(&txn, &events, &lapses).await?;
                txn.commit().await?;
                self.bus.deliver_committed(events, lapses);
                Ok(value)
            }
            Err(err) => {
                if let Err(cause) = txn.rollback().await {
                    // The connection goes back to the pool only after the rollback, so this
                    // is worth a line in the log but changes nothing for the caller.
                    tracing::warn!(%cause, "rolling back a failed write");
                }
                Err(err)
            }
        }
    }
}

impl std::fmt::Debug for Writer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Writer").finish_non_exhaustive()
    }
}

/// Empties a queue a (possibly poisoned) mutex guards: a panic elsewhere must not lose events.
fn take<T>(queue: &SyncMutex<Vec<T>>) -> Vec<T> {
    match queue.lock() {
        Ok(mut items) => std::mem::take(&mut *items),
        Err(poisoned) => std::mem::take(&mut *poisoned.into_inner()),
    }
}
