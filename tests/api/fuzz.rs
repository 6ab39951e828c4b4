//! Fuzzing the whole request pipeline (the real router, real signed tokens): hostile documents
//! and variables — deep nesting, fragment bombs, hidden, misspelt and meta names in every
//! position, directives, defaults, garbage — must never panic or get a 5xx, every error must
//! carry a code, and for anonymous callers and clients a hidden name must answer exactly like a
//! misspelt one. `FUZZ_CASES` sets the number of cases (a short run by default; CI runs more).

use std::sync::atomic::{AtomicUsize, Ordering};

use axum::{
    body::Body,
    http::{Request, StatusCode},
};
use crm_gateway::auth::Role;
use proptest::{
    prelude::*,
    test_runner::{Config, TestCaseError, TestRunner},
};
use serde_json::{Value, json};

use crate::helpers::*;

/// Names the public schema has.
const PUBLIC: &[&str] = &[
    "viewer",
    "role",
    "customerId",
    "customer",
    "name",
    "email",
    "phone",
    "id",
    "customers",
    "edges",
    "node",
    "cursor",
    "totalCount",
    "products",
    "interactions",
    "messages",
    "subject",
    "department",
    "departments",
    "knowledgeArticles",
    "access",
    "types",
    "fields",
    "first",
    "orderBy",
    "filter",
    "field",
    "direction",
    "NAME",
    "ASC",
    "DESC",
    "CHAT",
    "Customer",
    "Query",
    "Mutation",
    "CustomerOrderBy",
    "InteractionFilter",
    "Int",
    "String",
    "ID",
    "Boolean",
    "updateMyContact",
    "openInteraction",
    "interactionChanged",
    "input",
    "version",
];

/// Names that exist only for employees or managers.
const HIDDEN: &[&str] = &[
    "healthScore",
    "lifetimeValue",
    "internalNotes",
    "internalNote",
    "slaBreached",
    "slaDueAt",
    "handler",
    "handlerId",
    "churnRisk",
    "ChurnRisk",
    "ServiceAgreement",
    "serviceAgreements",
    "HEALTH_SCORE",
    "LIFETIME_VALUE",
    "budget",
    "unitCost",
    "margin",
    "members",
    "audience",
    "DateRange",
    "accessAudit",
    "addInternalNote",
    "moraleSummary",
];

/// Names nothing has, and the meta fields.
const OTHER: &[&str] = &[
    "nope",
    "Nope",
    "NOPE_X",
    "__typename",
    "__schema",
    "__type",
    "x",
];

fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => proptest::sample::select(PUBLIC),
        3 => proptest::sample::select(HIDDEN),
        1 => proptest::sample::select(OTHER),
    ]
    .prop_map(str::to_owned)
}

/// Input values, nested up to a few levels (deep nesting has its own generator).
fn value() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        any::<i32>().prop_map(|i| i.to_string()),
        "-?[0-9]{1,25}(\\.[0-9]{1,5})?(e[0-9]{1,3})?",
        "\"[a-z +@.]{0,8}\"",
        Just("true".to_owned()),
        Just("null".to_owned()),
        name(),
        Just("$v".to_owned()),
    ];
    leaf.prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(|v| format!("[{}]", v.join(", "))),
            prop::collection::vec((name(), inner), 0..4).prop_map(|v| {
                let fields: Vec<String> = v.into_iter().map(|(k, v)| format!("{k}: {v}")).collect();
                format!("{{{}}}", fields.join(", "))
            }),
        ]
    })
}

fn arguments() -> impl Strategy<Value = String> {
    prop::collection::vec((name(), value()), 0..3).prop_map(|args| {
        if args.is_empty() {
            String::new()
        } else {
            let args: Vec<String> = args.into_iter().map(|(k, v)| format!("{k}: {v}")).collect();
            format!("({})", args.join(", "))
        }
    })
}

fn directive() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => Just(String::new()),
        1 => value().prop_map(|v| format!(" @skip(if: {v})")),
        1 => value().prop_map(|v| format!(" @include(if: {v})")),
        1 => (name(), arguments()).prop_map(|(n, a)| format!(" @{n}{a}")),
    ]
}

fn selections() -> impl Strategy<Value = String> {
    let field = (prop::option::of(name()), name(), arguments(), directive()).prop_map(
        |(alias, name, args, dir)| match alias {
            Some(alias) => format!("{alias}: {name}{args}{dir}"),
            None => format!("{name}{args}{dir}"),
        },
    );
    field.prop_recursive(5, 40, 5, |inner| {
        prop_oneof![
            (
                name(),
                arguments(),
                prop::collection::vec(inner.clone(), 1..5)
            )
                .prop_map(|(n, a, s)| format!("{n}{a} {{ {} }}", s.join(" "))),
            (name(), prop::collection::vec(inner.clone(), 1..4))
                .prop_map(|(t, s)| format!("... on {t} {{ {} }}", s.join(" "))),
            Just("...F".to_owned()),
        ]
    })
}

fn operation() -> impl Strategy<Value = String> {
    let kind = prop_oneof![
        6 => Just("query"),
        1 => Just("mutation"),
        1 => Just("subscription"),
    ];
    let var = (name(), prop::option::of(value())).prop_map(|(ty, default)| match default {
        Some(d) => format!("$v: {ty} = {d}"),
        None => format!("$v: {ty}"),
    });
    (
        kind,
        prop::option::of(name()),
        prop::option::of(var),
        prop::collection::vec(selections(), 1..4),
    )
        .prop_map(|(kind, op_name, var, body)| {
            let vars = var.map(|v| format!("({v})")).unwrap_or_default();
            format!(
                "{kind} {}{vars} {{ {} }}",
                op_name.unwrap_or_default(),
                body.join(" ")
            )
        })
}

fn structured() -> impl Strategy<Value = String> {
    (
        prop::collection::vec(operation(), 1..3),
        prop::option::of((name(), selections())),
        any::<bool>(),
    )
        .prop_map(|(ops, fragment, shorthand)| {
            let mut doc = if shorthand && ops.len() == 1 {
                ops[0]
                    .split_once('{')
                    .map(|(_, rest)| format!("{{{rest}"))
                    .unwrap_or_default()
            } else {
                ops.join("\n")
            };
            if let Some((on, body)) = fragment {
                doc.push_str(&format!("\nfragment F on {on} {{ {body} }}"));
            }
            doc
        })
}

/// Deep nesting of every kind, around the parser's limit and far beyond it.
fn nesting() -> impl Strategy<Value = String> {
    (0usize..5, prop_oneof![1usize..40, 2000usize..3000]).prop_map(|(kind, n)| match kind {
        0 => format!(
            "{{ customer(id: {}1{}) {{ id }} }}",
            "[".repeat(n),
            "]".repeat(n)
        ),
        1 => format!("{{ nope(a: {}1{}) }}", "{a: ".repeat(n), "}".repeat(n)),
        2 => format!(
            "query($v: {}Int{}) {{ viewer {{ role }} }}",
            "[".repeat(n),
            "]".repeat(n)
        ),
        3 => format!("{}id{}", "{ viewer ".repeat(n), " }".repeat(n)),
        _ => format!(
            "query($v: Int = {}1{}) {{ viewer {{ role }} }}",
            "[".repeat(n),
            "]".repeat(n)
        ),
    })
}

fn fragment_chain() -> impl Strategy<Value = String> {
    (1usize..30).prop_map(|levels| {
        let mut doc = String::from("fragment F0 on Query { viewer { role } }\n");
        for i in 1..=levels {
            doc.push_str(&format!(
                "fragment F{i} on Query {{ ...F{} ...F{} }}\n",
                i - 1,
                i - 1
            ));
        }
        doc.push_str(&format!("{{ ...F{levels} }}"));
        doc
    })
}

fn garbage() -> impl Strategy<Value = String> {
    prop_oneof![
        "[{}()\\[\\]:$@!=.,|&a-zA-Z_0-9 \"#\n\\\\]{0,200}",
        any::<String>(),
        Just("\"\"\"".to_owned()),
    ]
}

/// Documents close to what a real front-end sends, with public, hidden and misspelt names
/// dropped into the places the attacks used.
fn templated() -> impl Strategy<Value = String> {
    let customer_field = proptest::sample::select(vec![
        "id",
        "name",
        "email",
        "phone",
        "kind",
        "version",
        "healthScore",
        "lifetimeValue",
        "churnRisk",
        "internalNotes",
        "nope",
        "__typename",
    ]);
    let order = proptest::sample::select(vec![
        "NAME",
        "ID",
        "HEALTH_SCORE",
        "LIFETIME_VALUE",
        "NOPE_X",
    ]);
    let filter = proptest::sample::select(vec![
        "customerId: \"1\"",
        "slaBreached: true",
        "handlerId: \"2\"",
        "statuses: [OPEN]",
        "nope: 1",
        "channels: [CHAT]",
    ]);
    (0usize..7, customer_field.clone(), customer_field, order, filter).prop_map(
        |(shape, a, b, order, filter)| match shape {
            0 => format!("{{ customers(first: 2, orderBy: {{field: {order}}}) {{ edges {{ cursor node {{ {a} {b} }} }} }} }}"),
            1 => format!("query($o: CustomerOrderBy = {{field: {order}}}) {{ customers(first: 1, orderBy: $o) {{ edges {{ cursor }} }} }}"),
            2 => format!("query($f: InteractionFilter = {{{filter}}}) {{ interactions(filter: $f) {{ totalCount }} }}"),
            3 => format!("{{ viewer {{ role customer {{ {a} ...F }} }} }} fragment F on Customer {{ {b} }}"),
            // Typed variables, filled from JSON by `variables()`.
            5 => "query($v: CustomerOrderBy) { customers(first: 1, orderBy: $v) { edges { cursor } } }".to_owned(),
            6 => "query($v: InteractionFilter) { interactions(first: 1, filter: $v) { edges { cursor } } }".to_owned(),
            _ => format!("{{ interactions(first: 3, filter: {{{filter}}}) {{ edges {{ node {{ subject customer {{ {a} }} }} }} }} }}"),
        },
    )
}

fn document() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => templated(),
        8 => structured(),
        2 => nesting(),
        1 => fragment_chain(),
        2 => garbage(),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        name().prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 20, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::btree_map(name(), inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// JSON variables: random ones, and ones shaped like the typed templates' inputs.
fn variables() -> impl Strategy<Value = Value> {
    let key = proptest::sample::select(vec![
        "slaBreached",
        "handlerId",
        "customerId",
        "nope",
        "field",
    ]);
    let enum_value =
        proptest::sample::select(vec!["NAME", "HEALTH_SCORE", "LIFETIME_VALUE", "NOPE_X"]);
    prop_oneof![
        json_value().prop_map(|v| json!({ "v": v })),
        enum_value.prop_map(|e| json!({ "v": {"field": e} })),
        (key, json_value()).prop_map(|(k, v)| json!({ "v": { k: v } })),
    ]
}

#[derive(Debug, Clone)]
struct Case {
    document: String,
    variables: Option<Value>,
    operation_name: Option<String>,
    /// 0 anonymous, 1 client, 2 employee, 3 manager.
    caller: usize,
    over_get: bool,
}

fn case() -> impl Strategy<Value = Case> {
    (
        document(),
        prop::option::of(variables()),
        prop::option::of(name()),
        0usize..4,
        prop::bool::weighted(0.2),
    )
        .prop_map(
            |(document, variables, operation_name, caller, over_get)| Case {
                document,
                variables,
                operation_name,
                caller,
                over_get,
            },
        )
}

/// Percent-encodes a query-string value.
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

async fn send(app: &TestApp, case: &Case, token: Option<&str>) -> (StatusCode, Value) {
    let mut request = if case.over_get {
        let mut uri = format!("/graphql?query={}", encode(&case.document));
        if let Some(vars) = &case.variables {
            uri.push_str(&format!("&variables={}", encode(&vars.to_string())));
        }
        if let Some(name) = &case.operation_name {
            uri.push_str(&format!("&operationName={}", encode(name)));
        }
        Request::get(uri)
    } else {
        Request::post("/graphql").header("content-type", "application/json")
    };
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let body = if case.over_get {
        Body::empty()
    } else {
        let mut body = json!({ "query": case.document });
        if let Some(vars) = &case.variables {
            body["variables"] = vars.clone();
        }
        if let Some(name) = &case.operation_name {
            body["operationName"] = json!(name);
        }
        Body::from(body.to_string())
    };
    let (status, _, json) = app.send(request.body(body).expect("request")).await;
    (status, without_request_ids(json))
}

/// The same-length misspelling the indistinguishability check swaps in.
fn misspell(name: &str) -> String {
    let mut out = name[..name.len() - 1].to_owned();
    out.push(if name.ends_with('x') { 'y' } else { 'x' });
    out
}

/// Replaces each `from` name (longest first, so that `handler` does not eat into `handlerId`)
/// by a placeholder, then each placeholder by the matching `to` name.
fn swap(text: &str, pairs: &[(String, String)]) -> String {
    let placeholder = |i: usize| format!("\u{1}{i}\u{1}");
    let mut order: Vec<usize> = (0..pairs.len()).collect();
    order.sort_by_key(|i| std::cmp::Reverse(pairs[*i].0.len()));
    let marked = order.iter().fold(text.to_owned(), |t, i| {
        t.replace(&pairs[*i].0, &placeholder(*i))
    });
    (0..pairs.len()).fold(marked, |t, i| t.replace(&placeholder(i), &pairs[i].1))
}

/// How many cases ran, answered with data, and were compared with their misspelt twin.
#[derive(Debug, Default)]
struct Tally {
    ran: AtomicUsize,
    with_data: AtomicUsize,
    compared: AtomicUsize,
}

async fn check(
    app: &TestApp,
    tokens: &[Option<String>],
    case: &Case,
    tally: &Tally,
) -> Result<(), TestCaseError> {
    tally.ran.fetch_add(1, Ordering::Relaxed);
    let token = tokens[case.caller].as_deref();
    let (status, body) = send(app, case, token).await;
    prop_assert!(!status.is_server_error(), "{status} for {case:?}: {body}");
    let errors = body["errors"].as_array().cloned().unwrap_or_default();
    for error in &errors {
        prop_assert!(
            error["extensions"]["code"].is_string(),
            "uncoded error for {case:?}: {body}"
        );
    }
    // For the public tier, swap every hidden name for a misspelling and compare.
    let text = format!(
        "{}{}",
        case.document,
        case.variables.clone().unwrap_or_default()
    );
    let pairs: Vec<(String, String)> = HIDDEN
        .iter()
        .filter(|h| text.contains(**h))
        .map(|h| (h.to_string(), misspell(h)))
        .collect();
    let refused = body.get("data").is_none_or(Value::is_null) && !errors.is_empty();
    if !refused {
        tally.with_data.fetch_add(1, Ordering::Relaxed);
    }
    // A leak answers with data where the misspelt twin is refused, so the twin is compared
    // whatever the answer — except for documents that may write (a second run differs).
    if case.caller <= 1 && !pairs.is_empty() && !case.document.contains("mutation") {
        let twin = Case {
            document: swap(&case.document, &pairs),
            variables: case
                .variables
                .as_ref()
                .map(|v| serde_json::from_str(&swap(&v.to_string(), &pairs)).unwrap_or_default()),
            operation_name: case.operation_name.as_ref().map(|n| swap(n, &pairs)),
            ..case.clone()
        };
        let (twin_status, twin_body) = send(app, &twin, token).await;
        tally.compared.fetch_add(1, Ordering::Relaxed);
        let neutral: Vec<(String, String)> = pairs
            .iter()
            .map(|(h, _)| (h.clone(), format!("<{h}>")))
            .collect();
        let back: Vec<(String, String)> = pairs
            .iter()
            .map(|(h, m)| (m.clone(), format!("<{h}>")))
            .collect();
        prop_assert_eq!(status, twin_status, "{:?}", case);
        prop_assert_eq!(
            swap(&body.to_string(), &neutral),
            swap(&twin_body.to_string(), &back),
            "{:?}",
            case
        );
    }
    Ok(())
}

#[test]
fn hostile_documents_never_crash_leak_or_go_uncoded() {
    let cases = std::env::var("FUZZ_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(64);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let app = runtime.block_on(TestApp::seeded(Backend::Sqlite));
    let tokens = vec![
        None,
        Some(app.token(Role::Client, app.ids().client)),
        Some(app.token(Role::Employee, app.ids().employee)),
        Some(app.token(Role::Manager, app.ids().manager)),
    ];
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let tally = Tally::default();
    runner
        .run(&case(), |case| {
            runtime.block_on(check(&app, &tokens, &case, &tally))
        })
        .unwrap();
    eprintln!("fuzz: {tally:?}");
    // The generator reaches both sides: documents that run, and hidden names to compare.
    assert!(tally.compared.load(Ordering::Relaxed) > 0, "{tally:?}");
    assert!(tally.with_data.load(Ordering::Relaxed) > 0, "{tally:?}");
}
