//! Change events for live subscriptions. On SQLite a process-local broadcast channel carries
//! them; on PostgreSQL every write sends `NOTIFY` inside its transaction and every gateway
//! replica `LISTEN`s, so an event written through one replica reaches subscribers of all of
//! them — and only once the write has committed.

use std::{sync::Arc, time::Duration};

use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, SqliteTransactionMode,
    Statement, TransactionOptions, TransactionTrait,
};
use serde::{Deserialize, Serialize};
use tokio::sync::{Mutex, OwnedMutexGuard, broadcast};

use crate::Result;

/// The PostgreSQL channel events travel on.
const CHANNEL: &str = "crm_interaction_events";
/// Events a slow subscriber may fall behind by before it skips some.
const CAPACITY: usize = 1024;

/// What happened to an interaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Change {
    /// Opened by a customer or logged by an employee.
    Opened,
    /// Fields changed (status, handler, internal note…).
    Updated,
    /// A public reply was added.
    Replied,
    /// An internal note was added.
    NoteAdded,
    /// The customer rated it.
    Rated,
}

/// One change to one interaction; subscribers re-read the row under their own scope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InteractionEvent {
    /// The interaction.
    pub interaction_id: i32,
    /// Its customer, for filtering.
    pub customer_id: i32,
    /// Its department, for filtering.
    pub department_id: i32,
    /// What happened.
    pub change: Change,
}

/// Publishes and fans out interaction events, and opens the write transactions they follow.
#[derive(Clone)]
pub struct EventBus {
    tx: broadcast::Sender<InteractionEvent>,
    backend: DbBackend,
    /// SQLite has one writer at a time. Write transactions start IMMEDIATE (a deferred one that
    /// reads before it writes fails at once, rather than waiting, when another connection
    /// wrote in between), and queue here first so they wait asleep instead of in SQLite's busy
    /// loop holding a pooled connection.
    sqlite_writes: Arc<Mutex<()>>,
}

/// A write transaction, holding the SQLite write turn while it lives.
pub struct WriteTxn {
    txn: DatabaseTransaction,
    _turn: Option<OwnedMutexGuard<()>>,
}

impl WriteTxn {
    /// The transaction to run statements on.
    pub fn conn(&self) -> &DatabaseTransaction {
        &self.txn
    }
}

impl EventBus {
    /// A bus for `db`; on PostgreSQL it also starts listening for other replicas' events.
    pub async fn start(db: &DatabaseConnection) -> Result<Self> {
        let (tx, _) = broadcast::channel(CAPACITY);
        let bus = Self {
            tx,
            backend: db.get_database_backend(),
            sqlite_writes: Arc::new(Mutex::new(())),
        };
        if bus.backend == DbBackend::Postgres {
            bus.listen(db).await?;
        }
        Ok(bus)
    }

    async fn listen(&self, db: &DatabaseConnection) -> Result<()> {
        use sea_orm::sqlx::postgres::PgListener;
        let pool = db.get_postgres_connection_pool().clone();
        let mut listener = PgListener::connect_with(&pool)
            .await
            .map_err(|e| crate::Error::internal("LISTEN connection", e))?;
        listener
            .listen(CHANNEL)
            .await
            .map_err(|e| crate::Error::internal("LISTEN", e))?;
        // A weak handle: the listener stops once the gateway has dropped its bus.
        let tx = self.tx.downgrade();
        tokio::spawn(async move {
            loop {
                match listener.recv().await {
                    Ok(note) => match serde_json::from_str::<InteractionEvent>(note.payload()) {
                        Ok(event) => match tx.upgrade() {
                            Some(tx) => {
                                let _ = tx.send(event);
                            }
                            None => break,
                        },
                        Err(err) => tracing::warn!(%err, "ignoring a malformed event"),
                    },
                    Err(err) => {
                        // PgListener reconnects on the next recv; events sent meanwhile are lost,
                        // which subscribers see as a gap, never as wrong data.
                        tracing::warn!(%err, "event listener lost its connection, retrying");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                }
            }
        });
        Ok(())
    }

    /// A receiver of every event from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<InteractionEvent> {
        self.tx.subscribe()
    }

    /// Commits `write` and publishes `events`: through `NOTIFY` inside the transaction on
    /// PostgreSQL (delivered by the listener to every replica, this one included), or to this
    /// process's subscribers after the commit on SQLite.
    pub async fn commit(&self, write: WriteTxn, events: Vec<InteractionEvent>) -> Result<()> {
        let WriteTxn { txn, _turn } = write;
        if self.backend == DbBackend::Postgres {
            for event in &events {
                let payload = serde_json::to_string(event)
                    .map_err(|e| crate::Error::internal("event payload", e))?;
                txn.execute_raw(Statement::from_sql_and_values(
                    DbBackend::Postgres,
                    "SELECT pg_notify($1, $2)",
                    [CHANNEL.into(), payload.into()],
                ))
                .await?;
            }
            txn.commit().await?;
        } else {
            txn.commit().await?;
            for event in events {
                let _ = self.tx.send(event);
            }
        }
        Ok(())
    }
}

impl EventBus {
    /// Starts a write transaction (waiting for the write turn on SQLite).
    pub async fn begin(&self, db: &DatabaseConnection) -> Result<WriteTxn> {
        let turn = match self.backend {
            DbBackend::Sqlite => Some(self.sqlite_writes.clone().lock_owned().await),
            _ => None,
        };
        let txn = match self.backend {
            DbBackend::Sqlite => {
                db.begin_with_options(TransactionOptions {
                    sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
                    ..Default::default()
                })
                .await?
            }
            _ => db.begin().await?,
        };
        Ok(WriteTxn { txn, _turn: turn })
    }
}
