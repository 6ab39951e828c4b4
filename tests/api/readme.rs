//! README's examples are promises: every ```graphql block of README.md runs, example by example
//! and in order, on a fresh demo company, as the person its `# As …` line names, and must tell
//! something — every field it selects holds a value somewhere in the answer — or fail with the
//! error code it announces ("refused with CODE").

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::{helpers::*, live};

/// One example: the lines from its `# As …` line up to the next one.
#[derive(Debug)]
struct Example {
    /// 1-based line of the `# As …` line in README.md.
    line: usize,
    /// The `# As …` line itself.
    heading: String,
    who: Who,
    /// The error code it announces, if it is meant to be refused.
    refused_with: Option<String>,
    document: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    Anyone,
    Client,
    Employee,
    Manager,
}

/// Marks the cursor a reader pastes from an earlier answer.
const CURSOR_PLACEHOLDER: &str = "\"…endCursor…\"";

fn readme() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/README.md");
    std::fs::read_to_string(path).expect("README.md")
}

/// Every example of every ```graphql block; panics on a block or example that does not say who
/// runs it, so no example can escape the test.
fn examples(readme: &str) -> Vec<Example> {
    let mut examples: Vec<Example> = Vec::new();
    let mut in_block = false;
    // Whether the current block has reached its first `# As …` line.
    let mut block_started = false;
    for (index, line) in readme.lines().enumerate() {
        let trimmed = line.trim();
        if !in_block {
            in_block = trimmed == "```graphql";
            block_started = false;
            continue;
        }
        if trimmed == "```" {
            in_block = false;
        } else if let Some(rest) = trimmed.strip_prefix("# As ") {
            block_started = true;
            examples.push(Example {
                line: index + 1,
                heading: trimmed.to_owned(),
                who: who(rest).unwrap_or_else(|| {
                    panic!(
                        "README.md:{}: say who runs it: `# As anyone`, `# As a client`, \
                         `# As an employee` or `# As a manager`",
                        index + 1
                    )
                }),
                refused_with: refused_with(rest),
                document: String::new(),
            });
        } else if block_started && let Some(example) = examples.last_mut() {
            example.document.push_str(line);
            example.document.push('\n');
        } else if !trimmed.is_empty() {
            panic!(
                "README.md:{}: a graphql block must start with `# As …` saying who runs it",
                index + 1
            );
        }
    }
    examples
}

fn who(rest: &str) -> Option<Who> {
    [
        ("anyone", Who::Anyone),
        ("a client", Who::Client),
        ("an employee", Who::Employee),
        ("a manager", Who::Manager),
    ]
    .into_iter()
    .find(|(phrase, _)| {
        rest.strip_prefix(phrase)
            .is_some_and(|after| after.is_empty() || after.starts_with([' ', ',', ':', '(']))
    })
    .map(|(_, who)| who)
}

fn refused_with(rest: &str) -> Option<String> {
    let (_, after) = rest.split_once("refused with ")?;
    let code: String = after
        .chars()
        .take_while(|c| c.is_ascii_uppercase() || *c == '_')
        .collect();
    (!code.is_empty()).then_some(code)
}

/// Whether a value tells nothing: null, an empty list, object or string.
fn blank(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Array(items) => items.is_empty(),
        Value::Object(fields) => fields.is_empty(),
        Value::String(text) => text.is_empty(),
        _ => false,
    }
}

/// For each response path (list indices left out), whether any occurrence holds a value.
fn told(value: &Value, path: &str, paths: &mut BTreeMap<String, bool>) {
    match value {
        Value::Object(fields) => {
            for (key, field) in fields {
                let path = format!("{path}.{key}");
                *paths.entry(path.clone()).or_default() |= !blank(field);
                told(field, &path, paths);
            }
        }
        Value::Array(items) => items.iter().for_each(|item| told(item, path, paths)),
        _ => {}
    }
}

/// Fails unless every field the answer selects holds a value somewhere.
fn assert_tells_something(example: &Example, data: &Value, body: &Value) {
    assert!(!blank(data), "{}: no data: {body}", example.heading);
    let mut paths = BTreeMap::new();
    told(data, "data", &mut paths);
    let empty: Vec<&String> = paths
        .iter()
        .filter(|(_, any)| !**any)
        .map(|(p, _)| p)
        .collect();
    assert!(
        empty.is_empty(),
        "README.md:{} `{}`: {empty:?} empty in every answer on the demo: {body}",
        example.line,
        example.heading
    );
}

/// The last `endCursor` anywhere in `value`.
fn last_end_cursor(value: &Value) -> Option<String> {
    match value {
        Value::Object(fields) => fields
            .get("endCursor")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .or_else(|| fields.values().rev().find_map(last_end_cursor)),
        Value::Array(items) => items.iter().rev().find_map(last_end_cursor),
        _ => None,
    }
}

fn token(app: &TestApp, who: Who) -> Option<String> {
    match who {
        Who::Anyone => None,
        Who::Client => Some(app.client()),
        Who::Employee => Some(app.employee()),
        Who::Manager => Some(app.manager()),
    }
}

/// Runs a query or mutation over HTTP; returns the whole answer.
async fn run_over_http(app: &TestApp, example: &Example, document: &str) -> Value {
    let token = token(app, example.who);
    let (_, body) = app
        .post(json!({ "query": document }), token.as_deref())
        .await;
    match &example.refused_with {
        Some(code) => assert_eq!(
            first_code(&body),
            code,
            "README.md:{} `{}` should be refused with {code}: {body}",
            example.line,
            example.heading
        ),
        None => {
            assert!(
                body.get("errors").is_none(),
                "README.md:{} `{}` failed: {body}",
                example.line,
                example.heading
            );
            assert_tells_something(example, &body["data"], &body);
        }
    }
    body
}

/// Runs a subscription over a real WebSocket and makes a change it should hear about: an
/// employee opens an interaction in the department it names (IT Support by default).
async fn run_subscription(app: &TestApp, example: &Example, document: &str) -> Value {
    let addr = app.serve().await;
    let token = token(app, example.who);
    let (mut ws, ack) = live::connect(addr, token.as_deref()).await;
    assert_eq!(ack["type"], "connection_ack", "{}: {ack}", example.heading);
    let subscribe = json!({"id": "readme", "type": "subscribe", "payload": {"query": document}});
    live::send(&mut ws, subscribe).await;
    let department = document
        .split_once("departmentId: \"")
        .and_then(|(_, rest)| rest.split('"').next())
        .unwrap_or("3")
        .to_owned();
    let open = format!(
        r#"mutation {{ openInteraction(input: {{departmentId: "{department}", channel: CHAT, kind: INQUIRY, subject: "README check", summary: "Does the stream work?"}}) {{ id }} }}"#
    );
    // The subscription starts asynchronously: repeat the change until the stream hears one.
    for _ in 0..20 {
        app.data(&open, Some(&app.employee())).await;
        let heard =
            tokio::time::timeout(std::time::Duration::from_millis(500), live::next(&mut ws));
        if let Ok(event) = heard.await {
            assert_eq!(event["type"], "next", "{}: {event}", example.heading);
            assert_tells_something(example, &event["payload"]["data"], &event);
            return event["payload"].clone();
        }
    }
    panic!("README.md:{} `{}`: no event", example.line, example.heading);
}

both_backends! {
    async fn every_readme_example_tells_its_part_of_the_story(backend) {
        let readme = readme();
        let examples = examples(&readme);
        assert_eq!(
            examples.iter().filter(|e| e.document.trim().is_empty()).count(),
            0,
            "an example without a document"
        );
        assert!(examples.len() >= 15, "only {} examples found", examples.len());

        let app = TestApp::seeded(backend).await;
        let mut previous = Value::Null;
        for example in &examples {
            let mut document = example.document.clone();
            if document.contains(CURSOR_PLACEHOLDER) {
                let cursor = last_end_cursor(&previous)
                    .unwrap_or_else(|| panic!("{}: no endCursor in the answer before", example.heading));
                document = document.replace(CURSOR_PLACEHOLDER, &format!("\"{cursor}\""));
            }
            let operation = document
                .lines()
                .map(str::trim)
                .find(|l| !l.is_empty() && !l.starts_with('#'))
                .unwrap_or_default();
            previous = if operation.starts_with("subscription") {
                run_subscription(&app, example, &document).await
            } else {
                run_over_http(&app, example, &document).await
            };
        }
    }
}

#[test]
fn examples_say_who_runs_them_and_what_error_they_expect() {
    let readme = "text\n```graphql\n# As a client (Olivia Hart): mine\n{ viewer { role } }\n\n\
                  # As an employee, refused with CONFLICT: stale\nmutation { x }\n```\n\
                  ```json\n# As nobody\n```\n";
    let found = examples(readme);
    assert_eq!(found.len(), 2);
    assert_eq!(
        (found[0].who, found[0].refused_with.as_deref()),
        (Who::Client, None)
    );
    assert_eq!(found[0].document.trim(), "{ viewer { role } }");
    assert_eq!(
        (
            found[1].who,
            found[1].refused_with.as_deref(),
            found[1].line
        ),
        (Who::Employee, Some("CONFLICT"), 6)
    );
    assert_eq!(who("anyone: products"), Some(Who::Anyone));
    assert_eq!(who("a clientele"), None);
}

#[test]
#[should_panic(expected = "must start with `# As")]
fn a_block_without_a_role_fails() {
    examples("```graphql\n{ viewer { role } }\n```\n");
}

#[test]
fn blank_fields_are_found_wherever_they_are_nested() {
    let mut paths = BTreeMap::new();
    told(
        &json!({"a": [{"b": null, "c": 1}, {"b": [], "c": 2}], "d": {"e": "x"}}),
        "data",
        &mut paths,
    );
    assert!(!paths["data.a.b"]);
    assert!(paths["data.a.c"]);
    assert!(paths["data.d.e"]);
}
