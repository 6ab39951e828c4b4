//! The benchmark's floor: the nested read of `benches/requests/nested.json` served by one axum
//! handler that runs ONE hand-written SQL statement (`nested.sql`), which builds the gateway's
//! JSON answer inside PostgreSQL. No GraphQL parsing, no auth, no per-field work: what is left
//! is HTTP, one pooled round trip and PostgreSQL's own work, so `gateway ÷ baseline` says what
//! the gateway's layers cost for this read. Not part of the gateway binary.
//!
//! Run: `DATABASE_URL=postgres://… cargo run --release --example baseline -- --port 8090`
//! (`benches/run.sh` does this). Any POST to `/graphql` gets the answer, whatever its body.

use std::{net::SocketAddr, time::Duration};

use axum::{
    Router,
    extract::State,
    http::{StatusCode, header},
    response::{IntoResponse, Response},
    routing::post,
};
use clap::Parser;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};

/// The statement: the whole answer as one JSON text.
const NESTED_SQL: &str = include_str!("nested.sql");

/// Where to listen and which database to read.
#[derive(Debug, Parser)]
struct Args {
    /// PostgreSQL URL (the same database the gateway serves).
    #[arg(long, env = "DATABASE_URL")]
    database_url: String,
    /// Port on 127.0.0.1.
    #[arg(long, env = "BASELINE_PORT", default_value_t = 8090)]
    port: u16,
    /// Pooled connections: the gateway's default, so both sides get the same database share.
    #[arg(long, env = "DB_MAX_CONNECTIONS", default_value_t = 10)]
    db_max_connections: u32,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let args = Args::parse();
    let db = crm_gateway::db::connect_with(
        &args.database_url,
        args.db_max_connections,
        Duration::from_secs(10),
    )
    .await?;
    if db.get_database_backend() != DbBackend::Postgres {
        return Err("the baseline's SQL is PostgreSQL's: give a postgres:// URL".into());
    }
    let listener =
        tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], args.port))).await?;
    println!(
        "baseline listening on http://{}/graphql",
        listener.local_addr()?
    );
    axum::serve(listener, router(db)).await?;
    Ok(())
}

/// The baseline's one route.
fn router(db: DatabaseConnection) -> Router {
    Router::new().route("/graphql", post(nested)).with_state(db)
}

/// Answers with the JSON PostgreSQL built, passed through untouched.
async fn nested(State(db): State<DatabaseConnection>) -> Response {
    match answer(&db).await {
        Ok(body) => ([(header::CONTENT_TYPE, "application/json")], body).into_response(),
        Err(err) => {
            eprintln!("baseline query failed: {err}");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "{\"errors\":[{\"message\":\"internal\"}]}",
            )
                .into_response()
        }
    }
}

/// Runs the statement; the answer is its one text column.
async fn answer(db: &DatabaseConnection) -> Result<String, sea_orm::DbErr> {
    let statement = Statement::from_string(DbBackend::Postgres, NESTED_SQL);
    let row = db
        .query_one_raw(statement)
        .await?
        .ok_or_else(|| sea_orm::DbErr::RecordNotFound("the statement returned no row".into()))?;
    row.try_get("", "body")
}
