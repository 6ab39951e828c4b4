//! Tokens that work in one step: dev mode keeps its secret beside the SQLite database and reuses
//! it, so printed tokens survive a restart; `crm-gateway token` signs with the same secret (or
//! `JWT_SECRET`) under the server's rules, and only for a customer its role fits. These tests
//! run the real binary.

use std::{
    io::{BufRead, BufReader, Read, Write},
    os::unix::fs::PermissionsExt,
    path::{Path, PathBuf},
    process::{Child, Command, Output, Stdio},
    sync::mpsc,
    time::Duration,
};

use crm_gateway::{auth::TokenVerifier, config::Config};
use serde_json::{Value, json};

use crate::helpers::*;

const BINARY: &str = env!("CARGO_BIN_EXE_crm-gateway");

/// Runs `crm-gateway token …` with no key in the environment unless `env` sets one.
fn token_command(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(BINARY);
    command
        .arg("token")
        .args(args)
        .env_remove("JWT_SECRET")
        .env_remove("JWT_PUBLIC_KEY_FILE")
        .env("RUST_LOG", "warn");
    for (key, value) in env {
        command.env(key, value);
    }
    command.output().expect("run crm-gateway token")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// A gateway process on a free port, killed when dropped.
struct Gateway {
    child: Child,
    addr: String,
    /// What it printed on stdout before it was ready: the dev-mode banner.
    banner: String,
}

impl Gateway {
    /// Starts the binary in dev mode on `database` and waits until it is ready.
    fn start(database: &Path) -> Self {
        let child = Command::new(BINARY)
            .env_remove("JWT_SECRET")
            .env_remove("JWT_PUBLIC_KEY_FILE")
            .env(
                "DATABASE_URL",
                format!("sqlite://{}?mode=rwc", database.display()),
            )
            .env("SEED_DEMO", "true")
            .env("LISTEN_ADDR", "127.0.0.1:0")
            .env("RUST_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the gateway");
        // Owned from here on, so a panic below still kills and reaps the process.
        let mut gateway = Self {
            child,
            addr: String::new(),
            banner: String::new(),
        };
        let (lines, received) = mpsc::channel();
        for stream in [
            Box::new(gateway.child.stdout.take().expect("stdout")) as Box<dyn Read + Send>,
            Box::new(gateway.child.stderr.take().expect("stderr")),
        ] {
            let lines = lines.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    if lines.send(line).is_err() {
                        break;
                    }
                }
            });
        }
        // Standard output (the banner) and standard error (the logs) are separate pipes read by
        // separate threads: wait for both the ready line and the banner's three tokens.
        while gateway.addr.is_empty() || gateway.banner.matches("Bearer ey").count() < 3 {
            let line = received
                .recv_timeout(Duration::from_secs(60))
                .unwrap_or_else(|_| {
                    panic!(
                        "the gateway never got ready; it printed:\n{}",
                        gateway.banner
                    )
                });
            if line.contains("endpoint are ready") {
                let start = line.find("http://").expect("url") + "http://".len();
                gateway.addr = line[start..]
                    .chars()
                    .take_while(|c| *c != '/' && *c != '"')
                    .collect();
            }
            gateway.banner.push_str(&line);
            gateway.banner.push('\n');
        }
        gateway
    }

    /// The bearer token the banner printed for `role`.
    fn printed_token(&self, role: &str) -> String {
        let mut lines = self.banner.lines();
        while let Some(line) = lines.next() {
            if line.trim_start().starts_with(role) {
                let next = lines.next().unwrap_or_default();
                if let Some(token) = next.trim().strip_prefix("Bearer ") {
                    return token.to_owned();
                }
            }
        }
        panic!("no {role} token in the banner:\n{}", self.banner)
    }

    /// POSTs `query` with `token` over a real socket; returns the JSON body.
    fn query(&self, query: &str, token: &str) -> Value {
        let body = json!({ "query": query }).to_string();
        let mut stream = std::net::TcpStream::connect(&self.addr).expect("connect");
        write!(
            stream,
            "POST /graphql HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\n\
             Authorization: Bearer {token}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            self.addr,
            body.len()
        )
        .expect("send");
        let mut response = String::new();
        stream.read_to_string(&mut response).expect("read");
        let (_, body) = response.split_once("\r\n\r\n").expect("HTTP response");
        serde_json::from_str(body).unwrap_or_else(|_| panic!("not JSON: {response}"))
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

/// A private directory for one test, removed afterwards.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("crm_tokens_{}_{name}", std::process::id()));
        std::fs::remove_dir_all(&dir).ok();
        std::fs::create_dir_all(&dir).expect("scratch dir");
        Self(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        std::fs::remove_dir_all(&self.0).ok();
    }
}

const WHO_AM_I: &str = "{ viewer { role customer { name } } }";

#[test]
fn dev_mode_keeps_its_secret_beside_the_database_so_tokens_survive_a_restart() {
    let scratch = Scratch::new("restart");
    let database = scratch.0.join("crm.db");
    let secret_file = scratch.0.join("crm.db.jwt-secret");

    let first = Gateway::start(&database);
    for name in [
        "Northwind Clinics",
        "Olivia Hart",
        "Noah Berg",
        "Maria Lopez",
    ] {
        assert!(
            first.banner.contains(name),
            "the banner names {name}:\n{}",
            first.banner
        );
    }
    let mode = std::fs::metadata(&secret_file)
        .expect("secret file")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let secret = std::fs::read_to_string(&secret_file).unwrap();
    let client = first.printed_token("client");
    let answer = first.query(WHO_AM_I, &client);
    assert_eq!(
        answer["data"]["viewer"]["customer"]["name"], "Olivia Hart",
        "{answer}"
    );

    // One step: the token command finds the same secret through DATABASE_URL alone.
    let url = format!("sqlite://{}?mode=rwc", database.display());
    let minted = token_command(
        &["--role", "employee", "--sub", "6"],
        &[("DATABASE_URL", &url)],
    );
    assert!(minted.status.success(), "{}", stderr(&minted));
    let answer = first.query(WHO_AM_I, &stdout(&minted));
    assert_eq!(
        answer["data"]["viewer"]["customer"]["name"], "Noah Berg",
        "{answer}"
    );
    drop(first);

    let second = Gateway::start(&database);
    assert_eq!(
        std::fs::read_to_string(&secret_file).unwrap(),
        secret,
        "reused, not replaced"
    );
    let answer = second.query(WHO_AM_I, &client);
    assert_eq!(
        answer["data"]["viewer"]["role"], "CLIENT",
        "the first run's token still works: {answer}"
    );
}

#[test]
fn the_token_command_applies_the_servers_secret_rules() {
    let short = token_command(
        &["--role", "client", "--sub", "33"],
        &[("JWT_SECRET", "short")],
    );
    assert!(!short.status.success());
    assert!(
        stderr(&short).contains("at least 32 bytes"),
        "{}",
        stderr(&short)
    );

    let unknown_role = token_command(
        &["--role", "admin", "--sub", "1"],
        &[("JWT_SECRET", SECRET)],
    );
    assert!(!unknown_role.status.success());

    let postgres_without_key = token_command(
        &["--role", "client", "--sub", "33"],
        &[("DATABASE_URL", "postgres://postgres@127.0.0.1:1/crm")],
    );
    assert!(!postgres_without_key.status.success());
    assert!(
        stderr(&postgres_without_key).contains("set JWT_SECRET"),
        "{}",
        stderr(&postgres_without_key)
    );
}

both_backends! {
    async fn the_token_command_mints_only_for_a_customer_the_role_fits(backend) {
        let app = TestApp::seeded(backend).await;
        let ids = app.ids();
        let env = [("DATABASE_URL", app.config.database_url.as_str()), ("JWT_SECRET", SECRET)];
        let mint = |role: &str, sub: i32| token_command(&["--role", role, "--sub", &sub.to_string(), "--ttl", "5m"], &env);

        for (role, sub, fits) in [
            ("client", ids.client, true),
            ("employee", ids.employee, true),
            ("manager", ids.manager, true),
            ("client", ids.employee, false),
            ("employee", ids.client, false),
            ("manager", ids.client, false),
        ] {
            let output = mint(role, sub);
            assert_eq!(output.status.success(), fits, "{role} for {sub}: {}", stderr(&output));
            if fits {
                let verifier = TokenVerifier::from_config(&app.config, None).unwrap();
                let viewer = verifier.verify(&stdout(&output)).unwrap();
                assert_eq!((viewer.role.as_claim(), viewer.customer_id), (role, sub));
            } else {
                assert!(stderr(&output).contains("does not fit"), "{}", stderr(&output));
            }
        }
        let missing = mint("client", 999_999);
        assert!(!missing.status.success());
        assert!(stderr(&missing).contains("does not exist"), "{}", stderr(&missing));

        // Without a key, SQLite uses dev mode's secret file beside the database; PostgreSQL
        // has none to share between replicas and asks for JWT_SECRET.
        let no_key = token_command(
            &["--role", "client", "--sub", &ids.client.to_string()],
            &[("DATABASE_URL", app.config.database_url.as_str())],
        );
        match backend {
            Backend::Sqlite => {
                assert!(no_key.status.success(), "{}", stderr(&no_key));
                let file = crm_gateway::auth::dev_secret::file_for(&app.config.database_url).unwrap();
                let secret = std::fs::read_to_string(&file).unwrap();
                let mut config = Config::with_database(app.config.database_url.clone());
                config.jwt_secret = Some(secret.trim().to_owned());
                let verifier = TokenVerifier::from_config(&config, None).unwrap();
                assert_eq!(verifier.verify(&stdout(&no_key)).unwrap().customer_id, ids.client);
            }
            Backend::Postgres => {
                assert!(!no_key.status.success());
                assert!(stderr(&no_key).contains("set JWT_SECRET"), "{}", stderr(&no_key));
            }
        }
    }
}
