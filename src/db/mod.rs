//! Opening the database pool (SQLite or PostgreSQL, chosen by URL) and applying migrations,
//! directly or through pgbouncer in transaction mode.
//!
//! Behind a transaction-mode pooler a server connection belongs to the gateway only until the
//! end of a transaction. sqlx sends every statement as two exchanges (Parse/Describe/Sync, then
//! Bind/Execute/Sync), and pgbouncer may hand the second to another server — where the statement
//! is missing, or where another client's statement of the same name (`sqlx_s_1`) waits to be
//! bound to our arguments. Turning the statement cache off (`statement_cache_capacity(0)`) is
//! not enough: sqlx 0.9 still names each statement and never closes it. So with
//! [`Pooler::Transaction`] every pooled connection is inside a transaction whenever it is out of
//! the pool — `BEGIN` when handed out, `COMMIT` when returned — which pins one server for the
//! statement's two exchanges, and `DEALLOCATE ALL` at each `BEGIN` clears the names other
//! clients left on that server. A write's own transaction runs inside the same one (sqlx's
//! `BEGIN` only warns; its `COMMIT` or `ROLLBACK` ends both).
//!
//! Read replicas (`DATABASE_READ_URL`) are opened here too; which one a read uses is decided
//! in [`replicas`].

pub mod replicas;

use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, sqlx::Executor,
};

use crate::config::{Config, Pooler, redact_url};

use self::replicas::ReadPools;

/// Sent when a pooled connection is handed out behind a transaction-mode pooler.
const PIN: &str = "BEGIN; DEALLOCATE ALL";
/// Sent when it is returned: ends the statement's transaction (a warning when a write's
/// transaction has already ended it; a failed statement's transaction rolls back).
const UNPIN: &str = "COMMIT";

/// Connects to `url` and brings its schema up to date (10 s acquire timeout).
pub async fn connect_and_migrate(
    url: &str,
    max_connections: u32,
) -> Result<DatabaseConnection, sea_orm::DbErr> {
    connect_with(url, max_connections, Duration::from_secs(10)).await
}

/// Connects to `url` with a bounded wait for a pooled connection (a request finding the
/// database away fails after `acquire_timeout`, not after minutes), then migrates.
pub async fn connect_with(
    url: &str,
    max_connections: u32,
    acquire_timeout: Duration,
) -> Result<DatabaseConnection, sea_orm::DbErr> {
    let db = Database::connect(options(url, max_connections, acquire_timeout)).await?;
    if db.get_database_backend() == DbBackend::Sqlite {
        // WAL lets readers proceed during a write and is a property of the file, so once is
        // enough. sqlx already turns foreign keys on and sets a busy timeout per connection.
        db.execute_unprepared("PRAGMA journal_mode = WAL").await?;
    }
    Migrator::up(&db, None).await?;
    tracing::info!(database = %redact_url(url), "database ready");
    Ok(db)
}

/// Opens the pool `config` describes: as [`connect_with`] without a pooler; behind a
/// transaction-mode pooler, migrations run over `DATABASE_LISTEN_URL` (they need a session)
/// and the pool pins a server per statement. A pooler the settings do not mention shows as
/// prepared-statement errors at start-up, answered with the setting to fix.
pub async fn connect(config: &Config) -> Result<DatabaseConnection, String> {
    let direct = config.direct_database_url()?;
    let acquire = config.ops.db_acquire_timeout();
    let url = &config.database_url;
    match config.database_pooler {
        Pooler::None => connect_with(url, config.db_max_connections, acquire)
            .await
            .map_err(|err| explain_start_error(url, &err)),
        Pooler::Transaction => {
            let migrated = connect_with(direct, 1, acquire)
                .await
                .map_err(|err| format!("DATABASE_LISTEN_URL ({}): {err}", redact_url(direct)))?;
            migrated.close().await.ok();
            let mut options = options(url, config.db_max_connections, acquire);
            // An idle connection kept open for the minimum would sit in its transaction,
            // holding a server of the pooler's; connections open on demand instead.
            options.min_connections(0);
            pin_per_statement(&mut options);
            let db = Database::connect(options)
                .await
                .map_err(|err| explain_start_error(url, &err))?;
            // One statement through the pooler now, so a wrong URL fails here, not on a request.
            db.execute_unprepared("SELECT 1")
                .await
                .map_err(|err| explain_start_error(url, &err))?;
            tracing::info!(database = %redact_url(url), "database ready behind a transaction-mode pooler");
            Ok(db)
        }
    }
}

/// The read replicas `config` names, beside `primary` (the pool [`connect`] opened). Their
/// pools connect lazily: a replica that is down at start-up is reported and skipped, not a
/// reason to refuse to start. They are read-only, so nothing is migrated there; behind a
/// transaction-mode pooler they are pinned per statement like the primary.
pub async fn connect_replicas(
    config: &Config,
    primary: DatabaseConnection,
) -> Result<ReadPools, String> {
    let urls = config.read_urls()?;
    if urls.is_empty() {
        return Ok(ReadPools::primary_only(primary));
    }
    let acquire = config.ops.db_acquire_timeout();
    let mut replicas = Vec::with_capacity(urls.len());
    for url in urls {
        let mut options = options(url, config.db_max_connections, acquire);
        options.min_connections(0).connect_lazy(true);
        let pinned = config.database_pooler == Pooler::Transaction;
        if pinned {
            pin_per_statement(&mut options);
        }
        // Named, so a DBA can tell the gateway's reads in the standby's pg_stat_activity.
        options.map_sqlx_postgres_opts(move |opts| {
            let opts = opts.application_name("crm-gateway read");
            if pinned {
                opts.statement_cache_capacity(0)
            } else {
                opts
            }
        });
        replicas.push((redact_url(url), options));
    }
    let max_lag = Duration::from_millis(config.read_replica_max_lag_ms);
    let probe_every = Duration::from_millis(config.read_replica_probe_ms);
    let pools = ReadPools::start(primary, replicas, max_lag, probe_every)
        .await
        .map_err(|err| format!("DATABASE_READ_URL: {err}"))?;
    for replica in pools.report() {
        tracing::info!(replica = %replica.name, status = replica.status, "read replica configured");
    }
    Ok(pools)
}

fn options(url: &str, max_connections: u32, acquire_timeout: Duration) -> ConnectOptions {
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .max_connections(max_connections)
        .min_connections(1)
        .connect_timeout(acquire_timeout)
        .acquire_timeout(acquire_timeout)
        // sqlx pings a pooled connection on every checkout by default: one more round trip per
        // statement. A connection back within the last few seconds is trusted; one idle longer
        // (which a server restart, proxy or firewall may have dropped) is still pinged first.
        .test_before_acquire_if_idle_for(Duration::from_secs(5))
        .sqlx_logging(false);
    options
}

/// Every pooled connection holds a transaction while it is out of the pool (module docs).
fn pin_per_statement(options: &mut ConnectOptions) {
    options
        // No cached statement survives a transaction: each is prepared where it runs.
        .map_sqlx_postgres_opts(|opts| opts.statement_cache_capacity(0))
        // Runs after the idle ping, on every checkout of a pooled connection.
        .map_sqlx_postgres_before_acquire(|conn, _| {
            Box::pin(async move { conn.execute(PIN).await.map(|_| true) })
        })
        .map_sqlx_postgres_pool_opts(|pool| {
            pool
                // A new connection is handed out without `before_acquire`.
                .after_connect(|conn, _| Box::pin(async move { conn.execute(PIN).await.map(drop) }))
                // sqlx flushes a dropped transaction's queued ROLLBACK before this COMMIT.
                .after_release(|conn, _| {
                    Box::pin(async move { conn.execute(UNPIN).await.map(|_| true) })
                })
        });
}

/// A start-up failure as the operator should read it: prepared-statement errors at start mean
/// a transaction-mode pooler the settings do not mention.
fn explain_start_error(url: &str, err: &sea_orm::DbErr) -> String {
    // PostgreSQL's own text (42P05 duplicate / 26000 missing prepared statement); sea-orm does
    // not expose the SQLSTATE of every error kind.
    let text = err.to_string();
    if text.contains("prepared statement") {
        format!(
            "{} ({text}): this looks like pgbouncer in transaction mode; set \
             DATABASE_POOLER=transaction and DATABASE_LISTEN_URL (a direct URL for LISTEN and \
             migrations), or use session mode",
            redact_url(url)
        )
    } else {
        format!("{}: {text}", redact_url(url))
    }
}
