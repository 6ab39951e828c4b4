//! Read replicas: the one place that decides which connection a read runs on. Writes, and
//! every read inside a write's transaction, stay on the primary ([`crate::service::write`]
//! holds only the primary); a read goes to a hot standby that is recent enough for it, else to
//! the primary. "Recent enough" is one of two rules:
//!
//! - the request names a WAL position (a mutation's `extensions.lsn`, sent back in
//!   [`MIN_LSN_HEADER`]): a standby that has not replayed that far is skipped, so a caller
//!   never reads older than its own write, through whichever gateway replica it reaches;
//! - otherwise the standby's replication lag must be at most `READ_REPLICA_MAX_LAG_MS`.
//!
//! Lag and replay position come from a background probe per standby (every
//! `READ_REPLICA_PROBE_MS`), never from the request path; only a request whose position the
//! last probe had not yet seen asks that standby once more, with one tiny statement. A standby
//! that does not answer the probe is skipped until it answers again.

use std::{
    collections::VecDeque,
    str::FromStr,
    sync::{
        Arc, Mutex, Weak,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement,
};
use serde::Serialize;

/// The request header that carries a mutation's `extensions.lsn` back: reads of that request
/// see at least that write.
pub const MIN_LSN_HEADER: &str = "x-min-lsn";

/// The primary's WAL insert position. Taken after a commit it is at or past the commit's
/// record even with `synchronous_commit = off` (`pg_current_wal_lsn()`, the write position,
/// may still be before it then).
const PRIMARY_LSN: &str = "SELECT pg_current_wal_insert_lsn()::text AS lsn";
/// What the probe asks a standby: is it one, how far has it replayed, and how old is the
/// newest transaction it has replayed.
const STANDBY_PROBE: &str = "SELECT pg_is_in_recovery() AS standby, \
     pg_last_wal_replay_lsn()::text AS replay, \
     (EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()) * 1000)::float8 AS lag_ms";
/// The one statement a request may send a standby: how far has it replayed by now.
const STANDBY_REPLAY: &str = "SELECT pg_last_wal_replay_lsn()::text AS lsn";
/// Primary positions kept to date a standby's replay position (see [`Inner::caught_up_at`]).
const HISTORY: usize = 64;
/// Longest a request waits for a standby's replay position before reading on the primary.
const LIVE_CHECK_TIMEOUT: Duration = Duration::from_millis(200);

/// A WAL position (`pg_lsn`), written as PostgreSQL does: `16/B374D848`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Lsn(u64);

impl FromStr for Lsn {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let malformed = || format!("`{text}` is not a WAL position like 16/B374D848");
        let (high, low) = text.trim().split_once('/').ok_or_else(malformed)?;
        let half = |part: &str| {
            let hex = !part.is_empty() && part.len() <= 8;
            let hex = hex && part.bytes().all(|b| b.is_ascii_hexdigit());
            hex.then(|| u32::from_str_radix(part, 16).ok()).flatten()
        };
        match (half(high), half(low)) {
            (Some(high), Some(low)) => Ok(Self((u64::from(high) << 32) | u64::from(low))),
            _ => Err(malformed()),
        }
    }
}

impl std::fmt::Display for Lsn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:X}/{:X}", self.0 >> 32, self.0 & 0xFFFF_FFFF)
    }
}

/// The primary and the read replicas, with what the probe last saw of each replica. Cheap to
/// clone; the probe stops once the last clone is dropped.
#[derive(Clone)]
pub struct ReadPools {
    inner: Arc<Inner>,
}

struct Inner {
    primary: DatabaseConnection,
    replicas: Vec<Replica>,
    max_lag: Duration,
    probe_every: Duration,
    /// Round-robin start among the replicas.
    turn: AtomicUsize,
    /// The primary's recent positions, oldest first, with when each was read.
    history: Mutex<VecDeque<(Lsn, Instant)>>,
}

/// One read replica.
struct Replica {
    /// Its URL without the password, for logs and `/ready`.
    name: String,
    /// Its pool, replaced by a fresh one when it answers again after an outage: idle
    /// connections from before a restart are dead, and would each fail one request.
    db: Mutex<DatabaseConnection>,
    options: ConnectOptions,
    seen: Mutex<Seen>,
}

/// What the last probe saw of a replica.
#[derive(Debug, Clone, Copy, Default)]
struct Seen {
    state: State,
    replay: Option<Lsn>,
    lag: Option<Duration>,
    at: Option<Instant>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum State {
    /// Not probed yet.
    #[default]
    Starting,
    /// Answered the last probe as a standby.
    Up,
    /// Did not answer the last probe.
    Unreachable,
    /// Answered, but is not in recovery (promoted, or a primary by mistake).
    NotStandby,
}

/// Where one request's reads run: the primary, or one replica.
#[derive(Clone)]
pub struct Reader {
    db: DatabaseConnection,
    replica: Option<usize>,
}

impl Reader {
    /// The connection to read on.
    pub fn conn(&self) -> &DatabaseConnection {
        &self.db
    }

    /// Whether the reads go to a replica (an outage they meet is the replica's, not the
    /// primary's).
    pub fn on_replica(&self) -> bool {
        self.replica.is_some()
    }
}

/// One replica as `/ready` reports it.
#[derive(Debug, Clone, Serialize)]
pub struct ReplicaReport {
    /// Its URL without the password.
    pub name: String,
    /// `ok`, `lagging`, `unreachable`, `not_standby` or `starting`.
    pub status: &'static str,
    /// Its replication lag at the last probe, in milliseconds, when known.
    pub lag_ms: Option<u64>,
    /// How far it had replayed at the last probe.
    pub replay_lsn: Option<String>,
}

impl ReadPools {
    /// Every read on the primary: no replicas configured (or SQLite).
    pub fn primary_only(primary: DatabaseConnection) -> Self {
        Self::new(primary, Vec::new(), Duration::ZERO, Duration::from_secs(1))
    }

    /// Reads spread over `replicas` (name, options of a lazily connecting pool), within
    /// `max_lag`, probed every `probe_every`. Probes once before returning, so the first
    /// requests can use them.
    pub async fn start(
        primary: DatabaseConnection,
        replicas: Vec<(String, ConnectOptions)>,
        max_lag: Duration,
        probe_every: Duration,
    ) -> Result<Self, sea_orm::DbErr> {
        let mut opened = Vec::with_capacity(replicas.len());
        for (name, options) in replicas {
            let db = Database::connect(options.clone()).await?;
            opened.push(Replica {
                name,
                db: Mutex::new(db),
                options,
                seen: Mutex::new(Seen::default()),
            });
        }
        let pools = Self::new(primary, opened, max_lag, probe_every);
        if !pools.inner.replicas.is_empty() {
            pools.inner.probe_all().await;
            tokio::spawn(probe(Arc::downgrade(&pools.inner), probe_every));
        }
        Ok(pools)
    }

    fn new(
        primary: DatabaseConnection,
        replicas: Vec<Replica>,
        max_lag: Duration,
        probe_every: Duration,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                primary,
                replicas,
                max_lag,
                probe_every,
                turn: AtomicUsize::new(0),
                history: Mutex::new(VecDeque::with_capacity(HISTORY)),
            }),
        }
    }

    /// The primary, for writes and for whatever must see the latest state.
    pub fn primary(&self) -> Reader {
        Reader {
            db: self.inner.primary.clone(),
            replica: None,
        }
    }

    /// Whether any replica is configured.
    pub fn has_replicas(&self) -> bool {
        !self.inner.replicas.is_empty()
    }

    /// Where a read runs: a replica that has replayed `min` (when given) or lags at most the
    /// configured bound (when not), taking turns among those that qualify; else the primary.
    pub async fn reader(&self, min: Option<Lsn>) -> Reader {
        let replicas = &self.inner.replicas;
        let start = self
            .inner
            .turn
            .fetch_add(1, Ordering::Relaxed)
            .checked_rem(replicas.len())
            .unwrap_or(0);
        let mut behind = None;
        let turns = replicas.iter().enumerate().cycle().skip(start);
        for (index, replica) in turns.take(replicas.len()) {
            let seen = replica.seen();
            if !self.inner.current(&seen) {
                continue;
            }
            let fits = match min {
                Some(min) => seen.replay >= Some(min),
                None => seen.lag.is_some_and(|lag| lag <= self.inner.max_lag),
            };
            if fits {
                return self.replica(index);
            }
            behind = behind.or(Some(index));
        }
        // The probe may be up to an interval old: ask one standby where it is now.
        if let (Some(min), Some(index)) = (min, behind)
            && self.inner.replayed_now(index, min).await
        {
            return self.replica(index);
        }
        self.primary()
    }

    /// Where a re-read after an event runs: somewhere that has every commit so far (the
    /// event was heard after its commit), so a replica only once it has replayed the primary's
    /// current position.
    pub async fn reader_after_commits(&self) -> Reader {
        if !self.has_replicas() {
            return self.primary();
        }
        match self.commit_lsn().await {
            Some(lsn) => self.reader(Some(lsn)).await,
            None => self.primary(),
        }
    }

    /// The primary's WAL position now: after a commit, at or past it. `None` without replicas
    /// (nothing to compare it with), on SQLite, or when the primary does not answer.
    pub async fn commit_lsn(&self) -> Option<Lsn> {
        if !self.has_replicas() {
            return None;
        }
        match lsn_of(&self.inner.primary, PRIMARY_LSN).await {
            Ok(lsn) => lsn,
            Err(err) => {
                tracing::warn!(%err, "cannot read the primary's WAL position");
                None
            }
        }
    }

    /// Records that a request found `reader`'s replica unreachable: it is skipped until the
    /// probe hears from it again.
    pub fn failed(&self, reader: &Reader) {
        if let Some(replica) = reader.replica.and_then(|i| self.inner.replicas.get(i)) {
            replica.update(|seen| Seen {
                state: State::Unreachable,
                ..seen
            });
        }
    }

    /// Each replica as the last probe saw it, for `/ready`.
    pub fn report(&self) -> Vec<ReplicaReport> {
        self.inner
            .replicas
            .iter()
            .map(|replica| {
                let seen = replica.seen();
                let status = match seen.state {
                    State::Starting => "starting",
                    State::Unreachable => "unreachable",
                    State::NotStandby => "not_standby",
                    State::Up if !self.inner.current(&seen) => "unreachable",
                    State::Up if seen.lag.is_some_and(|lag| lag <= self.inner.max_lag) => "ok",
                    State::Up => "lagging",
                };
                ReplicaReport {
                    name: replica.name.clone(),
                    status,
                    lag_ms: seen
                        .lag
                        .map(|lag| u64::try_from(lag.as_millis()).unwrap_or(u64::MAX)),
                    replay_lsn: seen.replay.map(|lsn| lsn.to_string()),
                }
            })
            .collect()
    }

    fn replica(&self, index: usize) -> Reader {
        match self.inner.replicas.get(index) {
            Some(replica) => Reader {
                db: replica.db(),
                replica: Some(index),
            },
            None => self.primary(),
        }
    }
}

impl Inner {
    /// Up at a probe recent enough to trust (three intervals: a probe stuck on a standby that
    /// no longer answers must not keep it in use).
    fn current(&self, seen: &Seen) -> bool {
        let recent = seen
            .at
            .is_some_and(|at| at.elapsed() <= self.probe_every.saturating_mul(3));
        seen.state == State::Up && recent
    }

    /// Asks replica `index` how far it has replayed now; true when past `min`.
    async fn replayed_now(&self, index: usize, min: Lsn) -> bool {
        let Some(replica) = self.replicas.get(index) else {
            return false;
        };
        let db = replica.db();
        let asked = tokio::time::timeout(LIVE_CHECK_TIMEOUT, lsn_of(&db, STANDBY_REPLAY));
        match asked.await {
            Ok(Ok(Some(replay))) => {
                replica.update(|seen| Seen {
                    replay: seen.replay.max(Some(replay)),
                    ..seen
                });
                replay >= min
            }
            _ => false,
        }
    }

    async fn probe_all(&self) {
        let sampled = Instant::now();
        let timeout = self.probe_every.max(Duration::from_millis(500));
        if let Ok(Ok(Some(lsn))) =
            tokio::time::timeout(timeout, lsn_of(&self.primary, PRIMARY_LSN)).await
            && let Ok(mut history) = self.history.lock()
        {
            if history.len() == HISTORY {
                history.pop_front();
            }
            history.push_back((lsn, sampled));
        }
        let probes = self.replicas.iter().map(|r| self.probe_one(r, timeout));
        futures_util::future::join_all(probes).await;
    }

    async fn probe_one(&self, replica: &Replica, timeout: Duration) {
        let statement = Statement::from_string(DbBackend::Postgres, STANDBY_PROBE);
        let answer = tokio::time::timeout(timeout, replica.db().query_one_raw(statement)).await;
        let now = Instant::now();
        let (state, replay, lag_ms) = match answer {
            Ok(Ok(Some(row))) => {
                let standby = row.try_get::<bool>("", "standby").unwrap_or(false);
                let replay = row.try_get::<Option<String>>("", "replay").ok().flatten();
                let lag_ms = row.try_get::<Option<f64>>("", "lag_ms").ok().flatten();
                let state = if standby {
                    State::Up
                } else {
                    State::NotStandby
                };
                (state, replay.and_then(|t| t.parse::<Lsn>().ok()), lag_ms)
            }
            _ => (State::Unreachable, None, None),
        };
        let by_timestamp =
            lag_ms.and_then(|ms| Duration::try_from_secs_f64(ms.max(0.0) / 1e3).ok());
        let by_position = replay
            .and_then(|replay| self.caught_up_at(replay))
            .map(|at| now.saturating_duration_since(at));
        // Both are upper bounds of how stale the standby is; the timestamp alone grows without
        // end while the primary is idle, the position alone while it is busy.
        let lag = match (by_timestamp, by_position) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let before = replica.seen().state;
        if before == State::Unreachable && state != State::Unreachable {
            replica.renew().await;
        }
        replica.update(|_| Seen {
            state,
            replay,
            lag: lag.filter(|_| state == State::Up),
            at: Some(now),
        });
        log_change(&replica.name, before, state);
    }

    /// When the primary was last no further than `replay`: the standby has everything the
    /// primary had then.
    fn caught_up_at(&self, replay: Lsn) -> Option<Instant> {
        let history = self.history.lock().ok()?;
        history
            .iter()
            .rev()
            .find(|(lsn, _)| *lsn <= replay)
            .map(|(_, at)| *at)
    }
}

impl Replica {
    fn db(&self) -> DatabaseConnection {
        match self.db.lock() {
            Ok(db) => db.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// A fresh pool in place of one whose idle connections may have died with the server.
    async fn renew(&self) {
        let fresh = match Database::connect(self.options.clone()).await {
            Ok(fresh) => fresh,
            Err(err) => {
                tracing::warn!(replica = %self.name, %err, "cannot open a fresh pool");
                return;
            }
        };
        let old = match self.db.lock() {
            Ok(mut db) => std::mem::replace(&mut *db, fresh),
            Err(poisoned) => std::mem::replace(&mut *poisoned.into_inner(), fresh),
        };
        // Requests still holding the old pool finish on it; it closes once they have.
        tokio::spawn(async move { old.close().await.ok() });
    }

    fn seen(&self) -> Seen {
        match self.seen.lock() {
            Ok(seen) => *seen,
            Err(poisoned) => *poisoned.into_inner(),
        }
    }

    fn update(&self, change: impl FnOnce(Seen) -> Seen) {
        let mut seen = match self.seen.lock() {
            Ok(seen) => seen,
            Err(poisoned) => poisoned.into_inner(),
        };
        *seen = change(*seen);
    }
}

fn log_change(name: &str, before: State, now: State) {
    match (before, now) {
        (a, b) if a == b => {}
        (_, State::Up) => tracing::info!(replica = name, "read replica answering: reads use it"),
        (_, State::Unreachable) => tracing::warn!(
            replica = name,
            "read replica unreachable: its reads go to other replicas or the primary until it answers"
        ),
        (_, State::NotStandby) => tracing::warn!(
            replica = name,
            "read replica is not in recovery (promoted?): skipped until it is a standby again"
        ),
        (_, State::Starting) => {}
    }
}

/// Runs a one-column statement that answers a `pg_lsn` as text.
async fn lsn_of(db: &DatabaseConnection, sql: &str) -> Result<Option<Lsn>, sea_orm::DbErr> {
    if db.get_database_backend() != DbBackend::Postgres {
        return Ok(None);
    }
    let row = db
        .query_one_raw(Statement::from_string(DbBackend::Postgres, sql))
        .await?;
    Ok(row
        .and_then(|row| row.try_get::<Option<String>>("", "lsn").ok().flatten())
        .and_then(|text| text.parse().ok()))
}

/// Probes every replica each `every` until the gateway drops its pools.
async fn probe(pools: Weak<Inner>, every: Duration) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await; // the first tick is immediate; `start` has just probed
    loop {
        tick.tick().await;
        let Some(inner) = pools.upgrade() else {
            return;
        };
        inner.probe_all().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wal_positions_parse_and_print_as_postgresql_writes_them() {
        let lsn: Lsn = "16/B374D848".parse().unwrap();
        assert_eq!(lsn.to_string(), "16/B374D848");
        assert!("0/3000060".parse::<Lsn>().unwrap() < lsn);
        assert!("1/0".parse::<Lsn>().unwrap() > "0/FFFFFFFF".parse::<Lsn>().unwrap());
        for bad in [
            "",
            "16",
            "/1",
            "1/",
            "G/1",
            "1/2/3",
            "123456789/0",
            "+1/0",
            "1 /0",
        ] {
            assert!(bad.parse::<Lsn>().is_err(), "{bad} was accepted");
        }
    }
}
