//! Where test databases come from, and how they go away.
//!
//! Every test gets its own SQLite file or PostgreSQL database, removed when the test's
//! [`TestDatabase`] is dropped (also when the test panics). PostgreSQL is the server at
//! `TEST_DATABASE_URL` when it is set; otherwise this process starts a throwaway cluster from
//! the machine's PostgreSQL binaries (`initdb` + `pg_ctl`, in a temporary directory, on a free
//! loopback port) the first time a test needs it, and removes it when the process exits.
//! When neither exists, every PostgreSQL test fails at once with the same message saying how to
//! get one; an unreachable server fails at once with the connection error, not a pool timeout.

use std::{
    future::Future,
    io::Write,
    os::unix::process::CommandExt,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::{
        Mutex, OnceLock,
        atomic::{AtomicU32, Ordering},
    },
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use sea_orm::sqlx::{AssertSqlSafe, Connection, Executor, Row, postgres::PgConnection, raw_sql};

use crate::helpers::Backend;

/// Names every test database and SQLite file starts with; the pid that follows tells which
/// process owns it, so leftovers of killed runs can be told from databases in use.
const PREFIX: &str = "crm_test_";

/// Where the tests look for `initdb` and `pg_ctl` when `TEST_PG_BINDIR` does not say.
const PACKAGED_BINARIES: &str = "/usr/lib/postgresql";

/// The system user PostgreSQL runs as when the tests run as root (it refuses to run as root).
const SERVICE_USER: &str = "postgres";

/// A database nobody else uses; dropping it removes the database (or file).
pub struct TestDatabase {
    /// The URL the gateway under test connects to.
    pub url: String,
    owned: Owned,
}

enum Owned {
    SqliteFile(PathBuf),
    PostgresDatabase { admin_url: String, name: String },
}

impl TestDatabase {
    /// A fresh, empty database on `backend`.
    pub async fn fresh(backend: Backend) -> Self {
        let name = unique_name();
        match backend {
            Backend::Sqlite => {
                sweep_sqlite_leftovers();
                let path = std::env::temp_dir().join(format!("{name}.db"));
                Self {
                    url: format!("sqlite://{}?mode=rwc", path.display()),
                    owned: Owned::SqliteFile(path),
                }
            }
            Backend::Postgres => {
                let admin_url = match postgres_server() {
                    Ok(url) => url.to_owned(),
                    Err(why) => panic!("{why}"),
                };
                let create = format!("CREATE DATABASE \"{name}\"");
                if let Err(err) = execute(&admin_url, &create).await {
                    panic!("cannot create test database {name}: {err}");
                }
                Self {
                    url: with_database(&admin_url, &name),
                    owned: Owned::PostgresDatabase { admin_url, name },
                }
            }
        }
    }
}

impl Drop for TestDatabase {
    /// Runs during unwinding too, so it reports problems instead of panicking.
    fn drop(&mut self) {
        match &self.owned {
            Owned::SqliteFile(path) => remove_sqlite_file(path),
            Owned::PostgresDatabase { admin_url, name } => {
                // FORCE ends the connections the gateway under test still holds (PostgreSQL 13+).
                let drop = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
                if let Err(err) = on_side_runtime(execute(admin_url, &drop)) {
                    eprintln!("warning: cannot drop test database {name}: {err}");
                }
            }
        }
    }
}

fn remove_sqlite_file(path: &Path) {
    // The dev-mode secret file sits beside the database too (`crm-gateway token` creates it).
    for suffix in ["", "-wal", "-shm", "-journal", ".jwt-secret"] {
        let mut file = path.as_os_str().to_owned();
        file.push(suffix);
        std::fs::remove_file(&file).ok();
    }
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

fn unique_name() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    format!(
        "{PREFIX}{}_{}_{nanos}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// `admin_url` with its database replaced by `name`.
fn with_database(admin_url: &str, name: &str) -> String {
    let (base, query) = admin_url.split_once('?').unwrap_or((admin_url, ""));
    let server = base.rfind('/').map_or(base, |slash| &base[..slash]);
    if query.is_empty() {
        format!("{server}/{name}")
    } else {
        format!("{server}/{name}?{query}")
    }
}

/// Runs one statement on a single direct connection: no pool, so a refused connection is
/// reported as such at once instead of being retried until a pool timeout hides it.
async fn execute(url: &str, sql: &str) -> Result<(), String> {
    let mut conn = connect(url).await?;
    let outcome = raw_sql(AssertSqlSafe(sql.to_owned()))
        .execute(&mut conn)
        .await
        .map(drop)
        .map_err(|e| e.to_string());
    conn.close().await.ok();
    outcome
}

async fn connect(url: &str) -> Result<PgConnection, String> {
    match tokio::time::timeout(Duration::from_secs(10), PgConnection::connect(url)).await {
        Ok(Ok(conn)) => Ok(conn),
        Ok(Err(err)) => Err(err.to_string()),
        Err(_) => Err("no answer within 10 s".to_owned()),
    }
}

/// Runs `future` to completion on a runtime of its own in another thread: usable from `Drop`
/// and from blocking initialisation inside any test's runtime.
fn on_side_runtime<F: Future + Send>(future: F) -> F::Output
where
    F::Output: Send,
{
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("a current-thread runtime")
                    .block_on(future)
            })
            .join()
            .expect("side runtime thread")
    })
}

/// The admin URL of the PostgreSQL server tests create their databases on, found or started
/// once per process; the error is the one message every PostgreSQL test then fails with.
pub fn postgres_server() -> Result<&'static str, &'static str> {
    static SERVER: OnceLock<Result<String, String>> = OnceLock::new();
    SERVER
        .get_or_init(|| match std::env::var("TEST_DATABASE_URL") {
            Ok(url) => on_side_runtime(probe_configured_server(url)),
            Err(_) => start_throwaway_cluster(),
        })
        .as_deref()
        .map_err(String::as_str)
}

async fn probe_configured_server(url: String) -> Result<String, String> {
    let mut conn = connect(&url).await.map_err(|err| {
        format!(
            "PostgreSQL at TEST_DATABASE_URL ({}) is unreachable: {err}. Start that server, point \
             TEST_DATABASE_URL at one where the tests may create databases, or unset it to let the \
             tests start a throwaway server from the PostgreSQL binaries.",
            crm_gateway::config::redact_url(&url)
        )
    })?;
    sweep_postgres_leftovers(&mut conn).await;
    conn.close().await.ok();
    Ok(url)
}

/// Drops test databases whose process is gone (a run killed before its tests could clean up).
async fn sweep_postgres_leftovers(conn: &mut PgConnection) {
    let like = format!("SELECT datname FROM pg_database WHERE datname LIKE '{PREFIX}%'");
    let Ok(rows) = conn.fetch_all(AssertSqlSafe(like)).await else {
        return;
    };
    for row in rows {
        let Ok(name) = row.try_get::<String, _>(0) else {
            continue;
        };
        if owner_is_gone(&name) {
            let drop = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
            raw_sql(AssertSqlSafe(drop)).execute(&mut *conn).await.ok();
        }
    }
}

/// Removes SQLite files of test processes that are gone, once per process.
fn sweep_sqlite_leftovers() {
    static SWEPT: OnceLock<()> = OnceLock::new();
    SWEPT.get_or_init(|| {
        let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
            return;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with(PREFIX) && name.contains(".db") && owner_is_gone(&name) {
                std::fs::remove_file(entry.path()).ok();
            }
        }
    });
}

/// Whether the process named in `crm_test_<pid>_…` no longer runs (never true off Linux).
fn owner_is_gone(name: &str) -> bool {
    let pid = name
        .strip_prefix(PREFIX)
        .and_then(|rest| rest.split('_').next())
        .and_then(|pid| pid.parse::<u32>().ok());
    match pid {
        Some(pid) => {
            Path::new("/proc/self").exists() && !Path::new(&format!("/proc/{pid}")).exists()
        }
        None => false,
    }
}

// ---------------------------------------------------------------------------------------------
// The throwaway cluster

/// Removes the cluster when the process exits: the guardian shell waits on a pipe only this
/// process holds, so it also cleans up after a crash or Ctrl-C; at a normal exit we close the
/// pipe ourselves and wait, so the cluster is gone before `cargo test` returns.
static GUARDIAN: Mutex<Option<Child>> = Mutex::new(None);

extern "C" fn remove_cluster_at_exit() {
    let guardian = GUARDIAN.lock().ok().and_then(|mut slot| slot.take());
    if let Some(mut guardian) = guardian {
        drop(guardian.stdin.take());
        guardian.wait().ok();
    }
}

/// How to run the PostgreSQL binaries: directly, or as the service user when we are root.
pub struct Binaries {
    pub dir: PathBuf,
    pub run_as: Option<(u32, u32)>,
}

impl Binaries {
    pub fn command(&self, program: &str) -> Command {
        let path = self.dir.join(program);
        match self.run_as {
            Some(_) => {
                let mut command = Command::new("runuser");
                command.args(["-u", SERVICE_USER, "--"]).arg(path);
                command
            }
            None => Command::new(path),
        }
    }

    fn argv(&self, program: &str, args: &[&std::ffi::OsStr]) -> Vec<std::ffi::OsString> {
        let command = self.command(program);
        std::iter::once(command.get_program().to_owned())
            .chain(command.get_args().map(ToOwned::to_owned))
            .chain(args.iter().map(|a| (*a).to_owned()))
            .collect()
    }
}

fn start_throwaway_cluster() -> Result<String, String> {
    let binaries = find_binaries()?;
    let base = std::env::temp_dir().join(format!("{PREFIX}pg_{}", std::process::id()));
    std::fs::remove_dir_all(&base).ok();
    create_private_dir(&base, binaries.run_as)?;
    let data = base.join("data");
    start_guardian(&binaries, &base, &data)?;
    run(binaries
        .command("initdb")
        .arg("-D")
        .arg(&data)
        .args(["-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C"])
        .args(["--no-sync", "--no-instructions"]))?;
    let mut last_error = String::new();
    // A free port can be taken between choosing it and the server binding it: try a few.
    for _ in 0..3 {
        let port = free_port()?;
        configure(&data, port)?;
        match run(binaries
            .command("pg_ctl")
            .arg("-D")
            .arg(&data)
            .arg("-l")
            .arg(base.join("server.log"))
            .args(["-w", "-t", "60", "start"]))
        {
            Ok(()) => {
                let url = format!("postgres://postgres@127.0.0.1:{port}/postgres");
                eprintln!("tests: throwaway PostgreSQL started in {}", base.display());
                on_side_runtime(execute(&url, "SELECT 1"))?;
                return Ok(url);
            }
            Err(err) => last_error = err,
        }
    }
    let log = std::fs::read_to_string(base.join("server.log")).unwrap_or_default();
    Err(format!(
        "the throwaway PostgreSQL did not start: {last_error}\n{log}"
    ))
}

/// `initdb` and `pg_ctl` from `TEST_PG_BINDIR`, else `PATH`, else the newest packaged version.
pub fn find_binaries() -> Result<Binaries, String> {
    let candidates: Vec<PathBuf> = match std::env::var_os("TEST_PG_BINDIR") {
        Some(dir) => vec![PathBuf::from(dir)],
        None => std::env::var_os("PATH")
            .map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
            .unwrap_or_default()
            .into_iter()
            .chain(packaged_binary_dirs())
            .collect(),
    };
    let dir = candidates
        .into_iter()
        .find(|dir| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file())
        .ok_or_else(no_postgres_message)?;
    // SAFETY: geteuid has no preconditions and cannot fail.
    let root = unsafe { libc::geteuid() } == 0;
    let run_as = if root { Some(service_user()?) } else { None };
    Ok(Binaries { dir, run_as })
}

/// `/usr/lib/postgresql/<version>/bin`, newest version first.
fn packaged_binary_dirs() -> Vec<PathBuf> {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir(PACKAGED_BINARIES)
        .map(|entries| {
            entries
                .flatten()
                .filter_map(|e| {
                    let version = e.file_name().to_string_lossy().parse::<u32>().ok()?;
                    Some((version, e.path().join("bin")))
                })
                .collect()
        })
        .unwrap_or_default();
    versions.sort_by_key(|(version, _)| std::cmp::Reverse(*version));
    versions.into_iter().map(|(_, dir)| dir).collect()
}

/// The one message every PostgreSQL test fails with when there is no way to get a server.
fn no_postgres_message() -> String {
    match std::env::var_os("TEST_PG_BINDIR") {
        Some(dir) => no_postgres_message_for(&PathBuf::from(dir).to_string_lossy()),
        None => no_postgres_message_in(&format!("PATH or {PACKAGED_BINARIES}/*/bin")),
    }
}

/// [`no_postgres_message`] when `TEST_PG_BINDIR` names `dir`.
pub fn no_postgres_message_for(dir: &str) -> String {
    no_postgres_message_in(&format!("TEST_PG_BINDIR ({dir})"))
}

fn no_postgres_message_in(looked: &str) -> String {
    format!(
        "the PostgreSQL tests need PostgreSQL: TEST_DATABASE_URL is unset and no initdb/pg_ctl \
         were found in {looked}. Either install PostgreSQL so the tests can start a throwaway \
         server of their own (Debian/Ubuntu: `apt-get install postgresql`; Fedora: `dnf install \
         postgresql-server`; macOS: `brew install postgresql`), or set \
         TEST_DATABASE_URL=postgres://USER@HOST:PORT/postgres to a server where the tests may \
         create databases."
    )
}

/// The test databases on the server at `admin_url` that process `pid` created and left.
pub async fn databases_of_process(admin_url: &str, pid: u32) -> Vec<String> {
    let owned_prefix = format!("{PREFIX}{pid}_");
    let mut conn = connect(admin_url)
        .await
        .expect("connect to the test server");
    let rows = conn
        .fetch_all("SELECT datname FROM pg_database")
        .await
        .expect("list databases");
    conn.close().await.ok();
    rows.iter()
        .filter_map(|row| row.try_get::<String, _>(0).ok())
        .filter(|name| name.starts_with(&owned_prefix))
        .collect()
}

/// The uid and gid of the service user, from `/etc/passwd`.
fn service_user() -> Result<(u32, u32), String> {
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    passwd
        .lines()
        .map(|line| line.split(':').collect::<Vec<_>>())
        .find(|fields| fields.first() == Some(&SERVICE_USER) && fields.len() > 3)
        .and_then(|fields| Some((fields[2].parse().ok()?, fields[3].parse().ok()?)))
        .ok_or_else(|| {
            format!(
                "the tests run as root, and PostgreSQL refuses to: they start it as the \
                 `{SERVICE_USER}` system user, which does not exist (installing PostgreSQL \
                 creates it), or set TEST_DATABASE_URL"
            )
        })
}

pub fn create_private_dir(dir: &Path, owner: Option<(u32, u32)>) -> Result<(), String> {
    use std::os::unix::fs::DirBuilderExt;
    let failed = |e: std::io::Error| format!("cannot create {}: {e}", dir.display());
    std::fs::DirBuilder::new()
        .mode(0o700)
        .create(dir)
        .map_err(failed)?;
    if let Some((uid, gid)) = owner {
        std::os::unix::fs::chown(dir, Some(uid), Some(gid)).map_err(failed)?;
    }
    Ok(())
}

fn start_guardian(binaries: &Binaries, base: &Path, data: &Path) -> Result<(), String> {
    const SCRIPT: &str = r#"read _; "$@" >/dev/null 2>&1; rm -rf "$CRM_TEST_PG_DIR""#;
    let stop = binaries.argv(
        "pg_ctl",
        &[
            "-D".as_ref(),
            data.as_os_str(),
            "-m".as_ref(),
            "immediate".as_ref(),
        ],
    );
    let guardian = Command::new("sh")
        .args(["-c", SCRIPT, "guardian"])
        .args(stop)
        .arg("stop")
        .env("CRM_TEST_PG_DIR", base)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        // Its own process group: a Ctrl-C aimed at the tests must not stop the cleanup.
        .process_group(0)
        .spawn()
        .map_err(|e| format!("cannot start sh: {e}"))?;
    *GUARDIAN.lock().map_err(|_| "guardian lock poisoned")? = Some(guardian);
    // SAFETY: registering a plain `extern "C" fn` with no captured state.
    unsafe { libc::atexit(remove_cluster_at_exit) };
    Ok(())
}

fn configure(data: &Path, port: u16) -> Result<(), String> {
    let conf = data.join("postgresql.conf");
    // Appending keeps the file's owner; later settings override earlier ones.
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(&conf)
        .map_err(|e| format!("cannot open {}: {e}", conf.display()))?;
    // Durability is pointless for a cluster deleted at exit; no Unix socket keeps the path short.
    writeln!(
        file,
        "\nlisten_addresses = '127.0.0.1'\nport = {port}\nunix_socket_directories = ''\n\
         fsync = off\nsynchronous_commit = off\nfull_page_writes = off\nmax_connections = 300"
    )
    .map_err(|e| format!("cannot write {}: {e}", conf.display()))
}

pub fn free_port() -> Result<u16, String> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("no free port: {e}"))
}

pub fn run(command: &mut Command) -> Result<(), String> {
    let output = command
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {:?}: {e}", command.get_program()))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{:?} failed ({}): {}{}",
            command.get_program(),
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}
