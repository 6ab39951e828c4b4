//! Cursors are sealed: an employee's page ordered by lifetime value hands out cursors that show
//! neither the values nor any JSON, an altered cursor is refused exactly like garbage, replicas
//! sharing a `CURSOR_KEY` open each other's cursors while a gateway with another key refuses
//! them, and start-up refuses a `CURSOR_KEY` it cannot use, naming the setting.

use std::process::{Command, Stdio};

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use serde_json::Value;

use crate::helpers::*;

const KEY: &str = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0";
const OTHER_KEY: &str = "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100";

/// An employee's first page by lifetime value, largest first: cursors and values.
const BY_VALUE: &str = "{ customers(first: 50, orderBy: {field: LIFETIME_VALUE, direction: DESC}) { pageInfo { endCursor } edges { cursor node { id lifetimeValue } } } }";

fn cursors(data: &Value) -> Vec<String> {
    let conn = &data["customers"];
    let mut all: Vec<String> = conn["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["cursor"].as_str().unwrap().to_owned())
        .collect();
    all.push(conn["pageInfo"]["endCursor"].as_str().unwrap().to_owned());
    all
}

/// `after` on the employee's customers by lifetime value: the answer's body.
async fn after(app: &TestApp, cursor: &str) -> Value {
    let query = format!(
        "{{ customers(first: 2, after: \"{cursor}\", orderBy: {{field: LIFETIME_VALUE, direction: DESC}}) {{ edges {{ node {{ id }} }} }} }}"
    );
    app.gql(&query, Some(&app.employee())).await
}

both_backends! {
    async fn an_employees_cursors_by_lifetime_value_show_no_value_and_no_json(backend) {
        let app = TestApp::seeded(backend).await;
        let data = app.data(BY_VALUE, Some(&app.employee())).await;
        // The cursor holds the stored cents; the field shows currency units: neither may show.
        let mut values = Vec::new();
        for node in nodes(&data["customers"]) {
            let units = node["lifetimeValue"].as_f64().unwrap();
            values.push(format!("{}", (units * 100.0).round() as i64));
            values.push(node["lifetimeValue"].to_string());
        }
        let values: Vec<String> = values.into_iter().filter(|v| v.len() >= 4).collect();
        assert!(values.len() >= 10, "the demo has customers with sizeable values: {values:?}");
        let edges = data["customers"]["edges"].as_array().unwrap();
        assert_eq!(data["customers"]["pageInfo"]["endCursor"], edges.last().unwrap()["cursor"], "one cursor per row");
        for cursor in cursors(&data) {
            let bytes = URL_SAFE_NO_PAD.decode(&cursor).expect("URL-safe base64 without padding");
            let text = String::from_utf8_lossy(&bytes);
            for value in &values {
                assert!(!cursor.contains(value.as_str()) && !text.contains(value.as_str()), "{cursor} shows {value}");
            }
            assert!(!text.contains("lifetime") && !cursor.contains("lifetime"), "{text}");
            assert!(serde_json::from_slice::<Value>(&bytes).is_err(), "{text}");
        }
        // And the cursors still page: the next page after the first row is the second row on.
        let first = &cursors(&data)[0];
        let next = app.data(&format!("{{ customers(first: 2, after: \"{first}\", orderBy: {{field: LIFETIME_VALUE, direction: DESC}}) {{ edges {{ node {{ id }} }} }} }}"), Some(&app.employee())).await;
        assert_eq!(nodes(&next["customers"])[0]["id"], edges[1]["node"]["id"], "{next}");
    }

    async fn an_altered_cursor_is_refused_exactly_like_garbage(backend) {
        let app = TestApp::seeded(backend).await;
        let data = app.data(BY_VALUE, Some(&app.employee())).await;
        let cursor = cursors(&data)[3].clone();
        let garbage = after(&app, "not-a-cursor").await;
        assert_eq!(first_code(&garbage), "BAD_USER_INPUT", "{garbage}");
        assert!(first_message(&garbage).contains("is not a cursor returned by this API"), "{garbage}");
        let mut bytes = URL_SAFE_NO_PAD.decode(&cursor).unwrap();
        let mut refusals = vec![after(&app, &cursor[..cursor.len() - 4]).await, after(&app, &"A".repeat(5000)).await];
        // One flipped byte in the version, the nonce, the ciphertext and the tag.
        for i in [0, 5, 30, bytes.len() - 1] {
            bytes[i] ^= 0x01;
            refusals.push(after(&app, &URL_SAFE_NO_PAD.encode(&bytes)).await);
            bytes[i] ^= 0x01;
        }
        for body in refusals {
            assert_eq!(first_code(&body), "BAD_USER_INPUT", "{body}");
            assert_eq!(body["errors"][0]["message"], garbage["errors"][0]["message"], "{body}");
            assert_eq!(body["errors"][0]["extensions"]["field"], "after", "{body}");
            assert_eq!(body["errors"].as_array().unwrap().len(), 1, "{body}");
        }
        // Unaltered, it pages.
        assert!(after(&app, &cursor).await.get("errors").is_none());
    }

    async fn replicas_sharing_cursor_key_open_each_others_cursors_another_key_refuses(backend) {
        let first = TestApp::seeded_with(backend, |c| c.cursor_key = Some(KEY.into())).await;
        let second = first.replica_with(|c| c.cursor_key = Some(KEY.into())).await;
        let stranger = first.replica_with(|c| c.cursor_key = Some(OTHER_KEY.into())).await;
        // Without CURSOR_KEY the key is derived from JWT_SECRET: yet another key.
        let derived = first.replica().await;
        let cursor = cursors(&first.data(BY_VALUE, Some(&first.employee())).await)[2].clone();
        let there = after(&first, &cursor).await;
        assert!(there.get("errors").is_none(), "{there}");
        assert_eq!(after(&second, &cursor).await, there, "the same page on the other replica");
        let theirs = cursors(&second.data(BY_VALUE, Some(&second.employee())).await)[2].clone();
        assert_eq!(theirs, cursor, "both replicas seal the same row alike");
        for other in [&stranger, &derived] {
            let body = after(other, &cursor).await;
            assert_eq!(first_code(&body), "BAD_USER_INPUT", "{body}");
            assert!(first_message(&body).contains("is not a cursor returned by this API"), "{body}");
        }
    }
}

/// Runs the binary with `env` and returns its exit code and stderr (it must stop by itself).
fn start_up(env: &[(&str, &str)]) -> (Option<i32>, String) {
    let dir = std::env::temp_dir().join(format!("crm-cursor-key-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_crm-gateway"));
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("LISTEN_ADDR", "127.0.0.1:0")
        .env(
            "DATABASE_URL",
            format!("sqlite://{}/crm.db?mode=rwc", dir.display()),
        )
        .stdin(Stdio::null())
        .stdout(Stdio::null());
    for (key, value) in env {
        command.env(key, value);
    }
    let output = command.output().expect("run the gateway binary");
    std::fs::remove_dir_all(&dir).ok();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn start_up_refuses_a_malformed_cursor_key_naming_the_setting() {
    for bad in [
        "too-short-to-be-a-key",
        &KEY[..62],
        "zz1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0",
    ] {
        let (code, stderr) = start_up(&[("JWT_SECRET", SECRET), ("CURSOR_KEY", bad)]);
        assert_eq!(code, Some(1), "{stderr}");
        assert!(stderr.contains("CURSOR_KEY"), "{stderr}");
        assert!(!stderr.contains(bad), "the value is never echoed: {stderr}");
    }
    // A public-key algorithm leaves nothing shared to derive from: CURSOR_KEY is required.
    let pem = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/api/keys/rsa_public.pem");
    let (code, stderr) = start_up(&[("JWT_PUBLIC_KEY_FILE", pem)]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains("CURSOR_KEY is required with JWT_PUBLIC_KEY_FILE"),
        "{stderr}"
    );
}
