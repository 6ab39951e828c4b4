//! The suite's reads and writes through Debian's pgbouncer in transaction pool mode, started by
//! this test process (as the `postgres` system user when the tests run as root) on a free port
//! in front of the test PostgreSQL, and stopped when the process exits. Without pgbouncer
//! installed every test here fails with one message saying how to install it.

use std::{
    os::unix::{fs::DirBuilderExt, process::CommandExt},
    process::{Child, Command, Stdio},
    sync::{Mutex, OnceLock},
    time::{Duration, Instant},
};

use crm_gateway::config::{Config, Pooler};
use serde_json::json;

use crate::{databases, helpers::*, live};

/// Where Debian's package puts the binary.
const PGBOUNCER: &str = "/usr/sbin/pgbouncer";

/// The guardian shell that runs pgbouncer; it stops it when our end of its stdin closes
/// (at exit, also after a crash).
static GUARDIAN: Mutex<Option<Child>> = Mutex::new(None);

/// `host:port` of the pgbouncer in front of the test server, started once per process.
fn pgbouncer() -> &'static str {
    static ADDR: OnceLock<Result<String, String>> = OnceLock::new();
    match ADDR.get_or_init(start_pgbouncer) {
        Ok(addr) => addr,
        Err(why) => panic!("{why}"),
    }
}

fn start_pgbouncer() -> Result<String, String> {
    if !std::path::Path::new(PGBOUNCER).is_file() {
        return Err(format!(
            "the pooler tests need pgbouncer at {PGBOUNCER}: `apt-get install pgbouncer` \
             (.ci/run installs it)"
        ));
    }
    let server = databases::postgres_server().map_err(str::to_owned)?;
    let (host, port) = host_port(server).ok_or(format!("no host:port in {server}"))?;
    let dir = std::env::temp_dir().join(format!("crm_test_pgbouncer_{}", std::process::id()));
    std::fs::remove_dir_all(&dir).ok();
    std::fs::DirBuilder::new()
        .mode(0o755)
        .create(&dir)
        .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    // SAFETY: geteuid has no preconditions and cannot fail.
    let root = unsafe { libc::geteuid() } == 0;
    let listen = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| format!("no free port: {e}"))?
        .port();
    // Fewer server connections than the gateway's pool, so clients really share servers.
    let conf = format!(
        "[databases]\n* = host={host} port={port}\n\n[pgbouncer]\nlisten_addr = 127.0.0.1\n\
         listen_port = {listen}\nunix_socket_dir =\nauth_type = trust\nauth_file = {users}\n\
         pool_mode = transaction\ndefault_pool_size = 3\nmax_client_conn = 500\n\
         ignore_startup_parameters = extra_float_digits\nlogfile = {log}\n",
        users = dir.join("users.txt").display(),
        log = dir.join("pgbouncer.log").display(),
    );
    for (name, text) in [
        ("pgbouncer.ini", conf.as_str()),
        ("users.txt", "\"postgres\" \"\"\n"),
    ] {
        std::fs::write(dir.join(name), text).map_err(|e| format!("cannot write {name}: {e}"))?;
    }
    if root {
        let chown = Command::new("chown")
            .args(["-R", "postgres:postgres"])
            .arg(&dir)
            .status();
        if !chown.is_ok_and(|s| s.success()) {
            return Err("cannot hand the pgbouncer directory to the postgres user".to_owned());
        }
    }
    const SCRIPT: &str = r#"$RUN "$PGBOUNCER" "$DIR/pgbouncer.ini" & pid=$!; read _; kill $pid; wait $pid; rm -rf "$DIR""#;
    let guardian = Command::new("sh")
        .args(["-c", SCRIPT])
        .env("RUN", if root { "runuser -u postgres --" } else { "" })
        .env("PGBOUNCER", PGBOUNCER)
        .env("DIR", &dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        // Not a pipe to us: once we have exited, a line written there would kill the shell
        // before it removes the directory. pgbouncer's own messages go to its log file.
        .stderr(Stdio::null())
        // Its own process group, so a signal to the test run's group cannot stop it before it
        // has stopped pgbouncer and removed the directory.
        .process_group(0)
        .spawn()
        .map_err(|e| format!("cannot start pgbouncer: {e}"))?;
    *GUARDIAN.lock().map_err(|_| "guardian lock poisoned")? = Some(guardian);
    let addr = format!("127.0.0.1:{listen}");
    let deadline = Instant::now() + Duration::from_secs(15);
    while Instant::now() < deadline {
        if std::net::TcpStream::connect(&addr).is_ok() {
            eprintln!("tests: pgbouncer (transaction mode) started on {addr}");
            return Ok(addr);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let log = std::fs::read_to_string(dir.join("pgbouncer.log")).unwrap_or_default();
    Err(format!("pgbouncer did not start on {addr}: {log}"))
}

/// `(host, port)` of a `postgres://user@host:port/db` URL.
fn host_port(url: &str) -> Option<(&str, &str)> {
    let after_at = url.rsplit_once('@')?.1;
    let authority = after_at.split('/').next()?;
    authority.rsplit_once(':')
}

/// `config`'s database reached through pgbouncer, with LISTEN and migrations direct.
fn through_pgbouncer(config: &mut Config, pooler: Pooler) {
    let direct = config.database_url.clone();
    let (host, port) = host_port(&direct).expect("test URL has host:port");
    config.database_url = direct.replacen(&format!("{host}:{port}"), pgbouncer(), 1);
    config.database_pooler = pooler;
    config.database_listen_url = (pooler == Pooler::Transaction).then_some(direct);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_writes_and_events_work_through_pgbouncer_in_transaction_mode() {
    let app = TestApp::seeded_with(Backend::Postgres, |c| {
        through_pgbouncer(c, Pooler::Transaction)
    })
    .await;
    assert!(app.config.database_url.contains(pgbouncer()));
    let (client, employee) = (app.client(), app.employee());

    // A subscriber hears a write made through the pooler: LISTEN stays on the direct session.
    let addr = app.serve().await;
    let (mut ws, ack) = live::connect(addr, Some(&client)).await;
    assert_eq!(ack["type"], "connection_ack");
    let subscribe = json!({"id": "1", "type": "subscribe", "payload": {"query": live::SUBSCRIBE}});
    live::send(&mut ws, subscribe).await;
    tokio::time::sleep(Duration::from_millis(300)).await;

    let care = department_id(&app, "Customer Care").await;
    let opened = app
        .data(&live::open(&care, "Through the pooler"), Some(&client))
        .await;
    let event = live::next(&mut ws).await;
    assert_eq!(
        event["payload"]["data"]["interactionChanged"]["interaction"]["subject"],
        "Through the pooler",
        "{event}"
    );
    let id = opened["openInteraction"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    app.data(
        &format!(
            "mutation {{ addReply(interactionId: \"{id}\", body: \"We are on it.\") {{ id }} }}"
        ),
        Some(&employee),
    )
    .await;
    let version = app
        .data(
            &format!("{{ interaction(id: \"{id}\") {{ version }} }}"),
            Some(&employee),
        )
        .await["interaction"]["version"]
        .as_i64()
        .expect("version");
    let stale = app
        .gql(
            &format!(
                "mutation {{ resolveInteraction(id: \"{id}\", expectedVersion: {}) {{ id }} }}",
                version - 1
            ),
            Some(&employee),
        )
        .await;
    assert_eq!(first_code(&stale), "CONFLICT", "{stale}");
    let resolved = app
        .data(
            &format!("mutation {{ resolveInteraction(id: \"{id}\", expectedVersion: {version}) {{ status }} }}"),
            Some(&employee),
        )
        .await;
    assert_eq!(resolved["resolveInteraction"]["status"], "RESOLVED");

    // Many nested reads at once: more gateway connections than pooler servers, so statements
    // of different clients meet on one server (where named statements would collide).
    let nested = "{ customers(first: 20) { totalCount edges { node { id name interactions(first: 5) { edges { node { id subject department { name } } } } } } } }";
    let reads = (0..24).map(|_| app.gql(nested, Some(&employee)));
    for body in futures_util::future::join_all(reads).await {
        assert!(body.get("errors").is_none(), "{body}");
        assert!(
            body["data"]["customers"]["totalCount"].as_i64() > Some(0),
            "{body}"
        );
    }
    let mine = app
        .data(
            &format!("{{ interaction(id: \"{id}\") {{ status }} }}"),
            Some(&client),
        )
        .await;
    assert_eq!(mine["interaction"]["status"], "RESOLVED", "{mine}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_setting_a_transaction_pooler_fails_at_start_naming_it() {
    let database = databases::TestDatabase::fresh(Backend::Postgres).await;
    let mut config = Config::with_database(database.url.clone());
    through_pgbouncer(&mut config, Pooler::None);
    // Two gateways' start-ups: the second meets the named statements the first left on the
    // pooler's server connections (if the first did not already fail on its own).
    let first = crm_gateway::db::connect(&config).await;
    let second = crm_gateway::db::connect(&config).await;
    let failures: Vec<String> = [first.err(), second.err()].into_iter().flatten().collect();
    assert!(
        !failures.is_empty(),
        "named statements went through a transaction pooler"
    );
    for failure in failures {
        assert!(failure.contains("DATABASE_POOLER=transaction"), "{failure}");
        assert!(failure.contains("DATABASE_LISTEN_URL"), "{failure}");
    }
}

#[test]
fn a_transaction_pooler_without_a_direct_url_is_refused_by_name() {
    let mut config = Config::with_database("postgres://postgres@127.0.0.1:1/crm");
    config.database_pooler = Pooler::Transaction;
    let refused = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(crm_gateway::db::connect(&config));
    let Err(refused) = refused else {
        panic!("a transaction pooler without DATABASE_LISTEN_URL was accepted");
    };
    assert!(refused.contains("DATABASE_LISTEN_URL"), "{refused}");
}
