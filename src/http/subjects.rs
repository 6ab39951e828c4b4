//! Whether a verified token's subject names a customer of the kind its role needs (clients are
//! external customers, employees and managers internal ones). Token verification in `auth`
//! stays pure; this lookup sits next to it in the transport, behind a small short-lived cache
//! so that it costs one primary-key read per subject per TTL, not one per request. HTTP
//! requests, WebSocket operations and open sockets' periodic re-checks all ask it.

use std::time::Duration;

use entity::enums::CustomerKind;
use moka::future::Cache;
use sea_orm::DatabaseConnection;

use crate::{auth::Viewer, policy, service};

/// How long a subject's kind is trusted before it is read again by default (an erased
/// customer's token stops working within this time); `SUBJECT_CACHE_SECS` changes it.
pub const DEFAULT_TTL: Duration = Duration::from_secs(30);
/// Most subjects remembered.
const CAPACITY: u64 = 10_000;

/// The cache of subjects' customer kinds (`None`: no such customer).
#[derive(Clone)]
pub struct Subjects {
    cache: Cache<i32, Option<CustomerKind>>,
    ttl: Duration,
}

impl Default for Subjects {
    fn default() -> Self {
        Self::new(DEFAULT_TTL)
    }
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
    /// A cache that trusts what it read for `ttl`.
    pub fn new(ttl: Duration) -> Self {
        Self {
            cache: Cache::builder()
                .max_capacity(CAPACITY)
                .time_to_live(ttl)
                .build(),
            ttl,
        }
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
