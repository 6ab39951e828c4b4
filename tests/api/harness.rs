//! The test command works on any machine: it uses `TEST_DATABASE_URL` when set, starts its own
//! throwaway PostgreSQL when not, fails at once with one clear message when it can do neither,
//! and leaves no database, file or server behind — also when a test fails.
//!
//! Each check runs this test binary again in a child process (only the [`fixture`] tests below),
//! with the environment of the case it checks and a temporary directory of its own as `TMPDIR`,
//! then inspects what the child printed and left behind.

use std::{
    os::unix::fs::DirBuilderExt,
    path::{Path, PathBuf},
    process::{Command, Output, Stdio},
};

use crate::databases;

/// Makes [`fixture`]'s failing test fail; unset in normal runs.
const FAIL_ON_PURPOSE: &str = "CRM_TEST_FAIL_ON_PURPOSE";

/// The tests the child processes run; they pass on their own.
mod fixture {
    use super::FAIL_ON_PURPOSE;
    #[allow(unused_imports)]
    use crate::helpers::*;

    both_backends! {
        async fn a_test_database_starts_migrated_and_empty(backend) {
            let app = TestApp::empty(backend).await;
            let data = app.data("{ products { totalCount } }", None).await;
            assert_eq!(data["products"]["totalCount"], 0);
        }

        async fn a_failing_test_still_removes_its_database(backend) {
            let app = TestApp::empty(backend).await;
            let data = app.data("{ products { totalCount } }", None).await;
            assert!(
                std::env::var_os(FAIL_ON_PURPOSE).is_none(),
                "failing on purpose with {data}"
            );
        }
    }
}

/// A directory the child uses as `TMPDIR`, removed afterwards; traversable by the PostgreSQL
/// service user, which owns the throwaway cluster inside it when the tests run as root.
struct ChildTmp(PathBuf);

impl ChildTmp {
    fn new(case: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("crm_harness_{}_{case}", std::process::id()));
        std::fs::remove_dir_all(&dir).ok();
        std::fs::DirBuilder::new()
            .mode(0o755)
            .create(&dir)
            .expect("child temp dir");
        Self(dir)
    }

    /// What the child left behind.
    fn leftovers(&self) -> Vec<String> {
        std::fs::read_dir(&self.0)
            .expect("child temp dir")
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect()
    }
}

impl Drop for ChildTmp {
    fn drop(&mut self) {
        std::fs::remove_dir_all(&self.0).ok();
    }
}

/// Runs the fixture tests in a child process with `env` (`None` removes a variable).
fn run_fixtures(tmp: &ChildTmp, env: &[(&str, Option<&str>)]) -> (u32, Output, String) {
    let mut command = Command::new(std::env::current_exe().expect("test binary"));
    command
        .args(["harness::fixture::", "--nocapture", "--test-threads=2"])
        .env("TMPDIR", &tmp.0)
        .env_remove("RUST_BACKTRACE")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (key, value) in env {
        match value {
            Some(value) => command.env(key, value),
            None => command.env_remove(key),
        };
    }
    let child = command.spawn().expect("spawn the test binary");
    let pid = child.id();
    let output = child.wait_with_output().expect("child output");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (pid, output, text)
}

/// Processes whose command line mentions `path` (a server left running there).
fn processes_using(path: &Path) -> Vec<String> {
    let needle = path.to_string_lossy().into_owned();
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| std::fs::read(e.path().join("cmdline")).ok())
        .map(|raw| String::from_utf8_lossy(&raw).replace('\0', " "))
        .filter(|cmdline| cmdline.contains(&needle))
        .collect()
}

#[test]
fn without_a_configured_server_the_tests_start_their_own_and_remove_it_even_after_a_failure() {
    let tmp = ChildTmp::new("throwaway");
    let (_, output, text) = run_fixtures(
        &tmp,
        &[("TEST_DATABASE_URL", None), (FAIL_ON_PURPOSE, Some("1"))],
    );

    assert!(
        !output.status.success(),
        "one fixture fails on purpose: {text}"
    );
    assert_eq!(
        text.matches("throwaway PostgreSQL started").count(),
        1,
        "one cluster for the whole process: {text}"
    );
    for test in [
        "a_test_database_starts_migrated_and_empty",
        "a_failing_test_still_removes_its_database",
    ] {
        for backend in ["sqlite", "postgres"] {
            let verdict = if test.starts_with("a_failing") {
                "FAILED"
            } else {
                "ok"
            };
            let line = format!("test harness::fixture::{test}::{backend} ... {verdict}");
            assert!(text.contains(&line), "expected `{line}` in: {text}");
        }
    }
    assert!(
        tmp.leftovers().is_empty(),
        "left behind: {:?}",
        tmp.leftovers()
    );
    assert!(
        processes_using(&tmp.0).is_empty(),
        "still running: {:?}",
        processes_using(&tmp.0)
    );
}

#[tokio::test]
async fn with_a_configured_server_each_test_drops_its_database_even_after_a_failure() {
    let server = databases::postgres_server().unwrap_or_else(|why| panic!("{why}"));
    let tmp = ChildTmp::new("configured");
    let (pid, output, text) = run_fixtures(
        &tmp,
        &[
            ("TEST_DATABASE_URL", Some(server)),
            (FAIL_ON_PURPOSE, Some("1")),
        ],
    );

    assert!(
        !output.status.success(),
        "one fixture fails on purpose: {text}"
    );
    assert!(
        text.contains(
            "test harness::fixture::a_test_database_starts_migrated_and_empty::postgres ... ok"
        ),
        "{text}"
    );
    assert!(!text.contains("throwaway PostgreSQL started"), "{text}");
    let left = databases::databases_of_process(server, pid).await;
    assert_eq!(left, Vec::<String>::new(), "databases left behind");
    assert!(
        tmp.leftovers().is_empty(),
        "left behind: {:?}",
        tmp.leftovers()
    );
}

#[test]
fn an_unreachable_server_fails_at_once_with_the_real_cause() {
    let closed_port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port();
    let url = format!("postgres://postgres@127.0.0.1:{closed_port}/postgres");
    let tmp = ChildTmp::new("unreachable");
    let (_, output, text) = run_fixtures(&tmp, &[("TEST_DATABASE_URL", Some(&url))]);

    assert!(!output.status.success(), "{text}");
    assert!(text.contains("is unreachable"), "{text}");
    assert!(text.to_lowercase().contains("connection refused"), "{text}");
    assert!(!text.contains("pool timed out"), "{text}");
    assert!(
        text.contains("a_test_database_starts_migrated_and_empty::sqlite ... ok"),
        "{text}"
    );
}

#[test]
fn with_neither_a_server_nor_binaries_the_tests_fail_at_once_saying_how_to_get_postgresql() {
    let tmp = ChildTmp::new("neither");
    let empty_bin_dir = tmp.0.join("bin");
    std::fs::create_dir(&empty_bin_dir).expect("empty bin dir");
    let bin_dir = empty_bin_dir.to_string_lossy().into_owned();
    let (_, output, text) = run_fixtures(
        &tmp,
        &[
            ("TEST_DATABASE_URL", None),
            ("TEST_PG_BINDIR", Some(&bin_dir)),
        ],
    );

    assert!(!output.status.success(), "{text}");
    let message = databases::no_postgres_message_for(&bin_dir);
    assert_eq!(
        text.matches(&message).count(),
        2,
        "both PostgreSQL fixtures fail with the one message: {text}"
    );
    assert!(
        message.contains("apt-get install postgresql") && message.contains("TEST_DATABASE_URL")
    );
    std::fs::remove_dir(&empty_bin_dir).ok();
    assert!(
        tmp.leftovers().is_empty(),
        "left behind: {:?}",
        tmp.leftovers()
    );
}
