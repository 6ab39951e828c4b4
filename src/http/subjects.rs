//! Whether a verified token's subject names a customer of the kind its role needs (clients are
//! external customers, employees and managers internal ones). Token verification in `auth`
//! stays pure; this lookup sits next to it in the transport, behind a small short-lived cache
//! so that it costs one primary-key read per subject per TTL, not one per request. HTTP
//! requests, WebSocket operations and open sockets' periodic re-checks all ask it. A lapse
//! announced on the event bus (a customer erased, through any replica) drops that subject's
//! entry at once and tells open sockets to re-check, so the TTL bounds only a missed notice.

use std::time::Duration;

use entity::enums::CustomerKind;
use moka::future::Cache;
use sea_orm::DatabaseConnection;
use tokio::sync::broadcast;

use crate::{auth::Viewer, policy, service};

/// How long a subject's kind is trusted before it is read again by default (an erased
/// customer's token stops working within this time); `SUBJECT_CACHE_SECS` changes it.
pub const DEFAULT_TTL: Duration = Duration::from_secs(30);
/// Most subjects remembered.
const CAPACITY: u64 = 10_000;

/// Sockets that may fall behind this many lapses before they simply re-check.
const LAPSE_BACKLOG: usize = 256;

/// The cache of subjects' customer kinds (`None`: no such customer).
#[derive(Clone)]
pub struct Subjects {
    cache: Cache<i32, Option<CustomerKind>>,
    ttl: Duration,
    /// Re-announces a lapse once its entry is gone (`None`: many lapsed, everyone re-checks).
    forgotten: broadcast::Sender<Option<i32>>,
}

/// Why a verified token still cannot be used.
#[derive(Debug)]
pub enum SubjectError {
    /// The subject names no customer, or one of the wrong kind for the role.
    Unknown,
    /// The database could not be asked.
    Unavailable,
}

impl Subjects {
    /// A cache that trusts what it read for `ttl`, or until `lapses` names the subject.
    pub fn new(ttl: Duration, lapses: broadcast::Receiver<i32>) -> Self {
        let subjects = Self {
            cache: Cache::builder()
                .max_capacity(CAPACITY)
                .time_to_live(ttl)
                .build(),
            ttl,
            forgotten: broadcast::channel(LAPSE_BACKLOG).0,
        };
        subjects.follow(lapses);
        subjects
    }

    /// Forgets each lapsed subject as it is announced, then tells sockets. The entry goes
    /// first so that a socket re-checking on the notice reads the database, not the cache.
    fn follow(&self, mut lapses: broadcast::Receiver<i32>) {
        let cache = self.cache.clone();
        let forgotten = self.forgotten.downgrade();
        tokio::spawn(async move {
            loop {
                let lapsed = match lapses.recv().await {
                    Ok(id) => {
                        cache.invalidate(&id).await;
                        Some(id)
                    }
                    // Fell behind: which subjects lapsed is unknown, so none is trusted.
                    Err(broadcast::error::RecvError::Lagged(_)) => {
                        cache.invalidate_all();
                        None
                    }
                    Err(broadcast::error::RecvError::Closed) => break,
                };
                let Some(forgotten) = forgotten.upgrade() else {
                    break;
                };
                let _ = forgotten.send(lapsed);
            }
        });
    }

    /// Lapses from now on, each after its entry was dropped: `Some(id)` for one subject,
    /// `None` when any subject may have lapsed.
    pub fn forgotten(&self) -> broadcast::Receiver<Option<i32>> {
        self.forgotten.subscribe()
    }

    /// How long an answer is trusted: the granularity at which open sockets re-check.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// Checks that `viewer`'s subject exists and fits its role.
    pub async fn check(
        &self,
        db: &DatabaseConnection,
        viewer: &Viewer,
    ) -> Result<(), SubjectError> {
        let id = viewer.customer_id;
        let kind = self
            .cache
            .try_get_with(id, service::customer::kind_of(db, id))
            .await
            // Any failure to read is an outage for this purpose (the cause is logged by `Error`).
            .map_err(|_| SubjectError::Unavailable)?;
        match kind {
            Some(kind) if policy::role_fits(viewer.role, kind) => Ok(()),
            _ => Err(SubjectError::Unknown),
        }
    }
}
