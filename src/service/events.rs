//! Change events for live subscriptions. On SQLite a process-local broadcast channel carries
//! them; on PostgreSQL every write sends `NOTIFY` inside its transaction and every gateway
//! replica `LISTEN`s, so an event written through one replica reaches subscribers of all of
//! them — and only once the write has committed.

use std::time::Duration;

use sea_orm::{ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, Statement};
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

use crate::{Result, policy::Audience};

/// The PostgreSQL channel events travel on.
const CHANNEL: &str = "crm_interaction_events";
/// The PostgreSQL channel that says a token subject stopped standing (its customer was
/// erased): every replica forgets what it cached about that subject at once, instead of
/// trusting it, and keeping its sockets open, until the cache entry expires.
const LAPSE_CHANNEL: &str = "crm_subject_lapses";
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
    /// Its customer's personal data was erased (the texts are now a tombstone).
    Erased,
}

/// One change to one interaction; subscribers re-read the row under their own scope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InteractionEvent {
    /// Who may hear of it (an event from a replica that predates this field is internal).
    #[serde(default = "internal_only")]
    pub visible_to: Audience,
    /// The interaction.
    pub interaction_id: i32,
    /// Its customer, for filtering.
    pub customer_id: i32,
    /// Its department, for filtering.
    pub department_id: i32,
    /// What happened.
    pub change: Change,
}

fn internal_only() -> Audience {
    Audience::Internal
}

/// Fans interaction events out to subscribers. Writes hand their events to the bus through
/// [`super::write::Writer`], which publishes them only once the write has committed.
#[derive(Clone)]
pub struct EventBus {
    tx: broadcast::Sender<InteractionEvent>,
    lapses: broadcast::Sender<i32>,
    backend: DbBackend,
}

impl EventBus {
    /// A bus for `db`; on PostgreSQL it also starts listening for other replicas' events.
    pub async fn start(db: &DatabaseConnection) -> Result<Self> {
        Self::start_listening(db, None).await
    }

    /// As [`Self::start`], listening on a session of its own at `listen_url` when given: behind
    /// a transaction-mode pooler a `LISTEN` through the pool would hear nothing.
    pub async fn start_listening(
        db: &DatabaseConnection,
        listen_url: Option<&str>,
    ) -> Result<Self> {
        let (tx, _) = broadcast::channel(CAPACITY);
        let (lapses, _) = broadcast::channel(CAPACITY);
        let bus = Self {
            tx,
            lapses,
            backend: db.get_database_backend(),
        };
        if bus.backend == DbBackend::Postgres {
            bus.listen(db, listen_url).await?;
        }
        Ok(bus)
    }

    async fn listen(&self, db: &DatabaseConnection, listen_url: Option<&str>) -> Result<()> {
        use sea_orm::sqlx::postgres::PgListener;
        let connected = match listen_url {
            Some(url) => PgListener::connect(url).await,
            None => PgListener::connect_with(db.get_postgres_connection_pool()).await,
        };
        let mut listener = connected.map_err(|e| crate::Error::internal("LISTEN connection", e))?;
        listener
            .listen_all([CHANNEL, LAPSE_CHANNEL])
            .await
            .map_err(|e| crate::Error::internal("LISTEN", e))?;
        // Weak handles: the listener stops once the gateway has dropped its bus.
        let tx = self.tx.downgrade();
        let lapses = self.lapses.downgrade();
        tokio::spawn(async move {
            loop {
                match listener.recv().await {
                    Ok(note) => {
                        let delivered = if note.channel() == LAPSE_CHANNEL {
                            deliver(&lapses, note.payload().parse::<i32>().ok())
                        } else {
                            deliver(&tx, serde_json::from_str(note.payload()).ok())
                        };
                        if !delivered {
                            break;
                        }
                    }
                    Err(err) => {
                        // PgListener reconnects on the next recv; events sent meanwhile are lost,
                        // which subscribers see as a gap, never as wrong data (and a lapse
                        // missed here still takes effect when the subject cache expires).
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

    /// A receiver of every subject lapse from now on: the id of a customer whose tokens
    /// stopped standing (erased), heard from every replica.
    pub fn subscribe_lapses(&self) -> broadcast::Receiver<i32> {
        self.lapses.subscribe()
    }

    /// The part of publishing that belongs inside the transaction: on PostgreSQL one `NOTIFY`
    /// per event, which the server delivers (to every replica, this one included) only if the
    /// transaction commits. Nothing on SQLite.
    pub(crate) async fn notify_within(
        &self,
        txn: &DatabaseTransaction,
        events: &[InteractionEvent],
        lapses: &[i32],
    ) -> Result<()> {
        if self.backend != DbBackend::Postgres {
            return Ok(());
        }
        for event in events {
            let payload = serde_json::to_string(event)
                .map_err(|e| crate::Error::internal("event payload", e))?;
            notify(txn, CHANNEL, payload).await?;
        }
        for subject in lapses {
            notify(txn, LAPSE_CHANNEL, subject.to_string()).await?;
        }
        Ok(())
    }

    /// The part of publishing that follows the commit: on SQLite this process's subscribers
    /// hear about `events` now. Nothing on PostgreSQL (the listener delivers them).
    pub(crate) fn deliver_committed(&self, events: Vec<InteractionEvent>, lapses: Vec<i32>) {
        if self.backend == DbBackend::Postgres {
            return;
        }
        for event in events {
            let _ = self.tx.send(event);
        }
        for subject in lapses {
            let _ = self.lapses.send(subject);
        }
    }
}

/// `SELECT pg_notify(channel, payload)` inside `txn`: delivered only if it commits.
async fn notify(txn: &DatabaseTransaction, channel: &str, payload: String) -> Result<()> {
    txn.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "SELECT pg_notify($1, $2)",
        [channel.into(), payload.into()],
    ))
    .await?;
    Ok(())
}

/// Hands a heard notification to this process's receivers; a payload that did not parse is
/// logged and skipped. `false` once the bus is gone, which ends the listener.
fn deliver<T>(to: &broadcast::WeakSender<T>, heard: Option<T>) -> bool {
    let Some(tx) = to.upgrade() else {
        return false;
    };
    match heard {
        Some(value) => {
            // No receivers is not an error: nobody is subscribed right now.
            let _ = tx.send(value);
        }
        None => tracing::warn!("ignoring a malformed notification"),
    }
    true
}
