//! The real binary as an operator runs it: SIGTERM stops accepting, lets the request in flight
//! finish (its audit row is written), closes WebSockets with 1001 and exits 0; logs written to
//! a file carry no colour codes, and `LOG_FORMAT=json` gives one JSON object per line with the
//! request's id, operation, role, outcome and latency — never the token.

use std::{
    net::SocketAddr,
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::Duration,
};

use axum::http::StatusCode;
use crm_gateway::{
    auth::{Role, TokenIssuer},
    config::Config,
};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, Statement, TransactionTrait};
use serde_json::{Value, json};

use crate::{databases::TestDatabase, helpers::*, live::*, raw_http};

/// One gateway process with its stderr in a file.
pub(crate) struct Gateway {
    pub child: Child,
    pub addr: SocketAddr,
    log: PathBuf,
}

impl Gateway {
    pub async fn start(database_url: &str, env: &[(&str, &str)]) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let log =
            std::env::temp_dir().join(format!("crm_gateway_{port}_{}.log", std::process::id()));
        let mut command = Command::new(env!("CARGO_BIN_EXE_crm-gateway"));
        command
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("LISTEN_ADDR", addr.to_string())
            .env("DATABASE_URL", database_url)
            .env("SEED_DEMO", "true")
            .env("JWT_SECRET", SECRET)
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap());
        for (key, value) in env {
            command.env(key, value);
        }
        let child = command.spawn().expect("start the gateway binary");
        let gateway = Self { child, addr, log };
        for _ in 0..240 {
            if tokio::net::TcpStream::connect(addr).await.is_ok() {
                return gateway;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        panic!("the gateway did not start; its log:\n{}", gateway.logs());
    }

    pub fn logs(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Waits for the process to exit; its exit code.
    pub async fn exit_code(&mut self) -> Option<i32> {
        for _ in 0..240 {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code();
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        panic!("the gateway did not exit; its log:\n{}", self.logs());
    }

    pub async fn post(&self, query: &str, token: &str) -> (StatusCode, Value) {
        let bearer = format!("Bearer {token}");
        let body = json!({ "query": query }).to_string();
        let (status, _, body) = raw_http::request(
            self.addr,
            "POST",
            "/graphql",
            &[("Authorization", &bearer)],
            &body,
        )
        .await;
        (status, body)
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
    }
}

pub(crate) fn token(role: Role, id: i32) -> String {
    let mut config = Config::with_database("sqlite::memory:");
    config.jwt_secret = Some(SECRET.to_owned());
    TokenIssuer::new(SECRET, &config)
        .mint(role, id, Duration::from_secs(600))
        .unwrap()
}

pub(crate) async fn demo_employee(db: &DatabaseConnection) -> i32 {
    crm_gateway::seed::demo_ids(db)
        .await
        .unwrap()
        .expect("seeded")
        .employee
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_the_request_in_flight_finish_closes_sockets_and_flushes_the_audit() {
    let database = TestDatabase::fresh(Backend::Postgres).await;
    let mut gateway = Gateway::start(
        &database.url,
        &[("LOG_FORMAT", "json"), ("SHUTDOWN_GRACE_SECS", "30")],
    )
    .await;
    let db = Database::connect(&database.url).await.unwrap();
    let employee = token(Role::Employee, demo_employee(&db).await);
    let (mut ws, ack) = connect(gateway.addr, Some(&employee)).await;
    assert_eq!(ack["type"], "connection_ack", "{ack}");

    // Hold the customer table so the next request is still running when SIGTERM arrives.
    let lock = db.begin().await.unwrap();
    lock.execute_unprepared("LOCK TABLE customer IN ACCESS EXCLUSIVE MODE")
        .await
        .unwrap();
    let addr = gateway.addr;
    let slow_token = employee.clone();
    let in_flight = tokio::spawn(async move {
        let bearer = format!("Bearer {slow_token}");
        let body = json!({"query": "query SlowPeek { customers(first: 2) { edges { node { name internalNotes } } } }"});
        raw_http::request(
            addr,
            "POST",
            "/graphql",
            &[("Authorization", &bearer)],
            &body.to_string(),
        )
        .await
    });
    let waiting = "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'";
    let mut blocked = false;
    for _ in 0..200 {
        let row = db
            .query_one_raw(Statement::from_string(db.get_database_backend(), waiting))
            .await
            .unwrap()
            .unwrap();
        if row.try_get::<i64>("", "n").unwrap() > 0 {
            blocked = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(blocked, "the request reached the database and waits there");

    gateway.terminate();
    let closed = next(&mut ws).await;
    assert_eq!(closed["code"], 1001, "{closed}");
    let mut refused = false;
    for _ in 0..40 {
        if tokio::net::TcpStream::connect(addr).await.is_err() {
            refused = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(refused, "no new connections once shutdown began");

    lock.commit().await.unwrap();
    let (status, _, body) = in_flight.await.unwrap();
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(nodes(&body["data"]["customers"]).len(), 2, "{body}");
    assert_eq!(gateway.exit_code().await, Some(0), "{}", gateway.logs());

    let audited = "SELECT count(*) AS n FROM access_audit WHERE operation_name = 'SlowPeek'";
    let row = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), audited))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        row.try_get::<i64>("", "n").unwrap(),
        1,
        "the audit row of the last request was written"
    );

    let logs = gateway.logs();
    assert!(!logs.contains(&employee), "no token in the logs");
    let lines: Vec<Value> = logs
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|_| panic!("not JSON: {l}")))
        .collect();
    let access = lines
        .iter()
        .find(|l| l["operation"] == "SlowPeek")
        .unwrap_or_else(|| panic!("an access line for SlowPeek in {logs}"));
    assert_eq!(access["role"], "employee");
    assert_eq!(access["outcome"], "ok");
    assert!(access["latency_ms"].as_f64().is_some());
    assert_eq!(
        access["request_id"].as_str().map(str::len),
        Some(32),
        "{access}"
    );
    db.close().await.ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn text_logs_in_a_file_have_no_colour_codes() {
    let database = TestDatabase::fresh(Backend::Sqlite).await;
    let mut gateway = Gateway::start(&database.url, &[]).await;
    let db = Database::connect(&database.url).await.unwrap();
    let client = crm_gateway::seed::demo_ids(&db)
        .await
        .unwrap()
        .expect("seeded")
        .client;
    let (status, body) = gateway
        .post("query Hello { __typename }", &token(Role::Client, client))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    gateway.terminate();
    assert_eq!(gateway.exit_code().await, Some(0));
    let logs = gateway.logs();
    assert!(
        logs.contains("operation=\"Hello\"") || logs.contains("operation=Hello"),
        "{logs}"
    );
    assert!(
        !logs.contains('\u{1b}'),
        "escape codes in a log file: {logs:?}"
    );
    db.close().await.ok();
}
