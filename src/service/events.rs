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
        let bus = Self {
            tx,
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

    /// The part of publishing that belongs inside the transaction: on PostgreSQL one `NOTIFY`
    /// per event, which the server delivers (to every replica, this one included) only if the
    /// transaction commits. Nothing on SQLite.
    pub(crate) async fn notify_within(
        &self,
        txn: &DatabaseTransaction,
        events: &[InteractionEvent],
    ) -> Result<()> {
        if self.backend != DbBackend::Postgres {
            return Ok(());
        }
        for event in events {
            let payload = serde_json::to_string(event)
                .map_err(|e| crate::Error::internal("event payload", e))?;
            txn.execute_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT pg_notify($1, $2)",
                [CHANNEL.into(), payload.into()],
            ))
            .await?;
        }
        Ok(())
    }

    /// The part of publishing that follows the commit: on SQLite this process's subscribers
    /// hear about `events` now. Nothing on PostgreSQL (the listener delivers them).
    pub(crate) fn deliver_committed(&self, events: Vec<InteractionEvent>) {
        if self.backend == DbBackend::Postgres {
            return;
        }
        for event in events {
            let _ = self.tx.send(event);
        }
    }
}
