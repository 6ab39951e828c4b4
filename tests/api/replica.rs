//! Read replicas against a real streaming standby: each test starts a throwaway primary
//! (`initdb`, `wal_level = replica`) and a `pg_basebackup -R` hot standby of it on free loopback
//! ports (as the `postgres` system user when the tests run as root), and a guardian shell stops
//! both and removes their directory when the test ends or the process dies. Pausing the
//! standby's replay (`pg_wal_replay_pause()`) makes "served by the standby" visible: a row the
//! primary has and the standby has not yet replayed.

use std::{
    io::Write,
    os::unix::process::CommandExt,
    path::PathBuf,
    process::{Child, Command, Stdio},
    sync::atomic::{AtomicU32, Ordering},
    time::{Duration, Instant},
};

use axum::{body::Body, http::Request};
use sea_orm::sqlx::{AssertSqlSafe, Connection, Row, postgres::PgConnection, raw_sql};
use serde_json::{Value, json};

use crate::{
    databases::{self, Binaries},
    helpers::*,
    live,
};

/// A primary and its hot standby, removed on drop.
struct Pair {
    binaries: Binaries,
    base: PathBuf,
    primary_port: u16,
    standby_port: u16,
    guardian: Child,
}

impl Pair {
    fn start() -> Self {
        Self::try_start()
            .unwrap_or_else(|why| panic!("cannot start a primary and a standby: {why}"))
    }

    fn try_start() -> Result<Self, String> {
        static COUNT: AtomicU32 = AtomicU32::new(0);
        let mut binaries = databases::find_binaries()?;
        // `initdb` on PATH may be a link into the version's directory, which has the rest.
        if let Some(dir) = std::fs::canonicalize(binaries.dir.join("initdb"))
            .ok()
            .and_then(|initdb| initdb.parent().map(ToOwned::to_owned))
        {
            binaries.dir = dir;
        }
        let n = COUNT.fetch_add(1, Ordering::SeqCst);
        let base =
            std::env::temp_dir().join(format!("crm_test_replica_{}_{n}", std::process::id()));
        std::fs::remove_dir_all(&base).ok();
        databases::create_private_dir(&base, binaries.run_as)?;
        let guardian = guardian(&binaries, &base)?;
        let mut pair = Self {
            binaries,
            base,
            primary_port: databases::free_port()?,
            standby_port: 0,
            guardian,
        };
        let primary = pair.base.join("primary");
        databases::run(
            pair.binaries
                .command("initdb")
                .arg("-D")
                .arg(&primary)
                .args(["-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C"])
                .args(["--no-sync", "--no-instructions"]),
        )?;
        // As the suite's own cluster (synchronous_commit off: a commit's WAL may still be in
        // buffers when it returns, which the gateway's commit position must allow for).
        append(
            &primary.join("postgresql.conf"),
            &format!(
                "listen_addresses = '127.0.0.1'\nport = {}\nunix_socket_directories = ''\n\
                 fsync = off\nsynchronous_commit = off\nfull_page_writes = on\n\
                 wal_level = replica\nmax_wal_senders = 4\nmax_connections = 100\n",
                pair.primary_port
            ),
        )?;
        pair.pg_ctl("primary", "start")?;
        let standby = pair.base.join("standby");
        let port = pair.primary_port.to_string();
        databases::run(
            pair.binaries
                .command("pg_basebackup")
                .args(["-h", "127.0.0.1", "-p", &port, "-U", "postgres", "-D"])
                .arg(&standby)
                .args(["-R", "-X", "stream", "--no-sync"]),
        )?;
        pair.standby_port = databases::free_port()?;
        append(
            &standby.join("postgresql.conf"),
            &format!("port = {}\nhot_standby = on\n", pair.standby_port),
        )?;
        pair.start_standby();
        Ok(pair)
    }

    fn pg_ctl(&self, node: &str, action: &str) -> Result<(), String> {
        databases::run(
            self.binaries
                .command("pg_ctl")
                .arg("-D")
                .arg(self.base.join(node))
                .arg("-l")
                .arg(self.base.join(format!("{node}.log")))
                .args(["-m", "fast", "-w", "-t", "60", action]),
        )
    }

    fn primary_url(&self) -> String {
        format!(
            "postgres://postgres@127.0.0.1:{}/postgres",
            self.primary_port
        )
    }

    fn standby_url(&self) -> String {
        format!(
            "postgres://postgres@127.0.0.1:{}/postgres",
            self.standby_port
        )
    }

    fn stop_standby(&self) {
        self.pg_ctl("standby", "stop").expect("stop the standby");
    }

    fn start_standby(&self) {
        self.pg_ctl("standby", "start").expect("start the standby");
    }

    /// Runs `sql` on the standby and returns the first column of the first row as text.
    async fn on_standby(&self, sql: &str) -> Option<String> {
        let mut conn = PgConnection::connect(&self.standby_url())
            .await
            .expect("connect to the standby");
        let row = raw_sql(AssertSqlSafe(sql.to_owned()))
            .fetch_one(&mut conn)
            .await
            .expect("standby statement");
        let value = row.try_get::<Option<String>, _>(0).expect("a text column");
        conn.close().await.ok();
        value
    }

    async fn pause_replay(&self) {
        self.on_standby("SELECT 'paused' FROM (SELECT pg_wal_replay_pause()) AS done")
            .await;
    }

    async fn resume_replay(&self) {
        self.on_standby("SELECT 'resumed' FROM (SELECT pg_wal_replay_resume()) AS done")
            .await;
    }

    /// Waits until the standby has replayed `lsn`.
    async fn replayed(&self, lsn: &str) {
        let sql = format!("SELECT (pg_last_wal_replay_lsn() >= '{lsn}'::pg_lsn)::text");
        let deadline = Instant::now() + Duration::from_secs(20);
        while self.on_standby(&sql).await.as_deref() != Some("true") {
            assert!(
                Instant::now() < deadline,
                "the standby never replayed {lsn}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Pair {
    fn drop(&mut self) {
        drop(self.guardian.stdin.take());
        self.guardian.wait().ok();
    }
}

/// A shell that stops both servers and removes their directory once our end of its stdin
/// closes: at the end of the test, or when the test process dies.
fn guardian(binaries: &Binaries, base: &std::path::Path) -> Result<Child, String> {
    const SCRIPT: &str = r#"read _; for node in standby primary; do $RUN "$PG_CTL" -D "$DIR/$node" -m immediate stop >/dev/null 2>&1; done; rm -rf "$DIR""#;
    Command::new("sh")
        .args(["-c", SCRIPT])
        .env(
            "RUN",
            if binaries.run_as.is_some() {
                "runuser -u postgres --"
            } else {
                ""
            },
        )
        .env("PG_CTL", binaries.dir.join("pg_ctl"))
        .env("DIR", base)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        // Its own process group: a Ctrl-C aimed at the tests must not stop the cleanup.
        .process_group(0)
        .spawn()
        .map_err(|e| format!("cannot start sh: {e}"))
}

fn append(file: &std::path::Path, text: &str) -> Result<(), String> {
    std::fs::OpenOptions::new()
        .append(true)
        .open(file)
        .and_then(|mut f| writeln!(f, "\n{text}"))
        .map_err(|e| format!("cannot write {}: {e}", file.display()))
}

/// A seeded gateway over `pair`'s primary, reading on its standby.
async fn gateway(pair: &Pair, max_lag_ms: u64) -> TestApp {
    let (primary, standby) = (pair.primary_url(), pair.standby_url());
    let app = TestApp::seeded_with(Backend::Postgres, |c| {
        c.database_url = primary;
        c.database_read_url = Some(standby);
        c.read_replica_max_lag_ms = max_lag_ms;
        c.read_replica_probe_ms = 100;
    })
    .await;
    // Within a generous lag bound the standby may serve reads before it has the demo company.
    let mut conn = PgConnection::connect(&pair.primary_url())
        .await
        .expect("connect to the primary");
    let seeded: String = raw_sql(AssertSqlSafe(
        "SELECT pg_current_wal_insert_lsn()::text".to_owned(),
    ))
    .fetch_one(&mut conn)
    .await
    .and_then(|row| row.try_get(0))
    .expect("the primary's position");
    conn.close().await.ok();
    pair.replayed(&seeded).await;
    wait_for_status(&app, "ok").await;
    app
}

/// The standby as `/ready` reports it.
async fn replica_on_ready(app: &TestApp) -> Value {
    let request = Request::get("/ready").body(Body::empty()).expect("request");
    let (status, _, body) = app.send(request).await;
    assert_eq!(status, 200, "{body}");
    body["replicas"][0].clone()
}

async fn wait_for_status(app: &TestApp, status: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let replica = replica_on_ready(app).await;
        if replica["status"] == status {
            return replica;
        }
        assert!(
            Instant::now() < deadline,
            "the replica never became {status}: {replica}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// POSTs `query` with an optional `X-Min-Lsn`; returns the status and body.
async fn post(app: &TestApp, query: &str, token: &str, min_lsn: Option<&str>) -> (u16, Value) {
    let mut request = Request::post("/graphql")
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {token}"));
    if let Some(lsn) = min_lsn {
        request = request.header("x-min-lsn", lsn);
    }
    let body = Body::from(json!({ "query": query }).to_string());
    let (status, _, body) = app.send(request.body(body).expect("request")).await;
    (status.as_u16(), body)
}

/// Opens an interaction as `token`; returns its id and the commit's `extensions.lsn`.
async fn open(app: &TestApp, token: &str, subject: &str) -> (String, String) {
    let care = department_id(app, "Customer Care").await;
    let (status, body) = post(app, &live::open(&care, subject), token, None).await;
    assert_eq!(status, 200, "{body}");
    let id = body["data"]["openInteraction"]["id"].as_str().expect("id");
    let lsn = body["extensions"]["lsn"].as_str().expect("extensions.lsn");
    (id.to_owned(), lsn.to_owned())
}

fn subjects_query(ids: &[&str]) -> String {
    let fields: Vec<String> = ids
        .iter()
        .enumerate()
        .map(|(n, id)| format!("i{n}: interaction(id: \"{id}\") {{ subject }}"))
        .collect();
    format!("{{ {} }}", fields.join(" "))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_go_to_the_standby_and_a_write_is_seen_through_its_lsn() {
    let pair = Pair::start();
    let app = gateway(&pair, 600_000).await;
    let client = app.client();
    let ready = replica_on_ready(&app).await;
    assert!(
        ready["name"]
            .as_str()
            .is_some_and(|n| n.contains(&pair.standby_port.to_string())),
        "{ready}"
    );
    assert!(
        ready["lag_ms"].is_u64() && ready["replay_lsn"].is_string(),
        "{ready}"
    );

    let (first, first_lsn) = open(&app, &client, "Replayed before the pause").await;
    pair.replayed(&first_lsn).await;
    pair.pause_replay().await;
    let (second, second_lsn) = open(&app, &client, "Written during the pause").await;
    let both = subjects_query(&[&first, &second]);

    // Without the header, a standby within the lag bound serves the read: it has the first
    // interaction and not yet the second, which the primary has.
    let (_, stale) = post(&app, &both, &client, None).await;
    assert_eq!(
        stale["data"]["i0"]["subject"], "Replayed before the pause",
        "{stale}"
    );
    assert_eq!(
        stale["data"]["i1"],
        Value::Null,
        "the primary served the read: {stale}"
    );

    // The first write's position: the standby has it, and still serves.
    let (_, first_seen) = post(&app, &both, &client, Some(&first_lsn)).await;
    assert_eq!(first_seen["data"]["i1"], Value::Null, "{first_seen}");
    // The second write's position: the standby has not replayed it, so the primary answers.
    let (_, fresh) = post(&app, &both, &client, Some(&second_lsn)).await;
    assert_eq!(
        fresh["data"]["i1"]["subject"], "Written during the pause",
        "{fresh}"
    );

    // Once the standby has replayed it, a read with that position is the standby's again.
    pair.resume_replay().await;
    pair.replayed(&second_lsn).await;
    pair.pause_replay().await;
    let (third, _) = open(&app, &client, "Written during the second pause").await;
    let all = subjects_query(&[&first, &second, &third]);
    let (_, replayed) = post(&app, &all, &client, Some(&second_lsn)).await;
    assert_eq!(
        replayed["data"]["i1"]["subject"], "Written during the pause",
        "{replayed}"
    );
    assert_eq!(replayed["data"]["i2"], Value::Null, "{replayed}");
    pair.resume_replay().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_min_lsn_header_is_a_coded_bad_request() {
    let pair = Pair::start();
    let app = gateway(&pair, 600_000).await;
    for bad in ["soon", "1/", "G/0", "123456789/0", "0/1, 0/2"] {
        let (status, body) = post(&app, "{ __typename }", &app.client(), Some(bad)).await;
        assert_eq!(status, 400, "{bad}: {body}");
        assert_eq!(first_code(&body), "BAD_REQUEST", "{bad}: {body}");
    }
    let (status, body) = post(&app, "{ __typename }", &app.client(), Some("0/0")).await;
    assert_eq!(
        (status, &body["data"]["__typename"]),
        (200, &json!("Query")),
        "{body}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_standby_past_the_lag_bound_is_skipped_until_it_catches_up() {
    let pair = Pair::start();
    let app = gateway(&pair, 500).await;
    let client = app.client();
    pair.pause_replay().await;
    let (id, _) = open(&app, &client, "While the standby lags").await;
    let lagging = wait_for_status(&app, "lagging").await;
    assert!(lagging["lag_ms"].as_u64() >= Some(500), "{lagging}");
    // No header: too far behind, so the primary answers (and has the write).
    let (_, body) = post(&app, &subjects_query(&[&id]), &client, None).await;
    assert_eq!(
        body["data"]["i0"]["subject"], "While the standby lags",
        "{body}"
    );
    pair.resume_replay().await;
    wait_for_status(&app, "ok").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_standby_is_skipped_and_used_again_once_it_is_back() {
    let pair = Pair::start();
    let app = gateway(&pair, 600_000).await;
    let client = app.client();
    pair.stop_standby();
    wait_for_status(&app, "unreachable").await;
    let (id, _) = open(&app, &client, "While the standby is away").await;
    for _ in 0..5 {
        let (status, body) = post(&app, &subjects_query(&[&id]), &client, None).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(
            body["data"]["i0"]["subject"], "While the standby is away",
            "{body}"
        );
    }

    pair.start_standby();
    wait_for_status(&app, "ok").await;
    pair.pause_replay().await;
    let (later, _) = open(&app, &client, "After it came back").await;
    for _ in 0..5 {
        let (status, body) = post(&app, &subjects_query(&[&id, &later]), &client, None).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(
            body["data"]["i1"],
            Value::Null,
            "not read on the standby: {body}"
        );
    }
    pair.resume_replay().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_hears_a_write_the_standby_has_not_replayed_yet() {
    let pair = Pair::start();
    let app = gateway(&pair, 600_000).await;
    let client = app.client();
    let addr = app.serve().await;
    let (mut ws, ack) = live::connect(addr, Some(&client)).await;
    assert_eq!(ack["type"], "connection_ack");
    let subscribe = json!({"id": "1", "type": "subscribe", "payload": {"query": live::SUBSCRIBE}});
    live::send(&mut ws, subscribe).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    pair.pause_replay().await;
    open(&app, &client, "Heard although not replayed").await;
    // The re-read runs where the commit is visible (here the primary), not on the paused
    // standby, where it would find nothing and the event would be lost.
    let event = live::next(&mut ws).await;
    assert_eq!(
        event["payload"]["data"]["interactionChanged"]["interaction"]["subject"],
        "Heard although not replayed",
        "{event}"
    );
    pair.resume_replay().await;
}
