//! Opening the database pool (SQLite or PostgreSQL, chosen by URL) and applying migrations.

use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend};

use crate::config::redact_url;

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
    let db = Database::connect(options).await?;
    if db.get_database_backend() == DbBackend::Sqlite {
        // WAL lets readers proceed during a write and is a property of the file, so once is
        // enough. sqlx already turns foreign keys on and sets a busy timeout per connection.
        db.execute_unprepared("PRAGMA journal_mode = WAL").await?;
    }
    Migrator::up(&db, None).await?;
    tracing::info!(database = %redact_url(url), "database ready");
    Ok(db)
}
