//! Hostile documents: nesting, size and fragment bombs get a coded error before anything
//! recurses or expands; hidden names are refused exactly like misspelt ones on every path of
//! the language (defaults, variables, fragments, directives); GET never runs a mutation;
//! introspection follows the `INTROSPECTION` setting.

use axum::{
    body::Body,
    http::{HeaderMap, Request, StatusCode},
};
use crm_gateway::config::Introspection;
use serde_json::{Value, json};

use crate::{helpers::*, live};

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

/// `GET /graphql?query=…[&operationName=…]`.
async fn get(
    app: &TestApp,
    query: &str,
    operation: Option<&str>,
    token: Option<&str>,
) -> (StatusCode, HeaderMap, Value) {
    let mut uri = format!("/graphql?query={}", encode(query));
    if let Some(name) = operation {
        uri.push_str(&format!("&operationName={}", encode(name)));
    }
    let mut request = Request::get(uri);
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    app.send(request.body(Body::empty()).unwrap()).await
}

/// 2,500 levels of every kind of nesting the language has.
fn nesting_bombs() -> Vec<String> {
    let n = 2500;
    let list = format!("{}1{}", "[".repeat(n), "]".repeat(n));
    let object = format!("{}1{}", "{a: ".repeat(n), "}".repeat(n));
    let list_type = format!("{}Int{}", "[".repeat(n), "]".repeat(n));
    let selections = format!("{}id{}", "{ a ".repeat(n), " }".repeat(n));
    vec![
        format!("{{ customer(id: {list}) {{ id }} }}"),
        format!("{{ nosuchfield(a: {list}) }}"),
        format!("{{ nosuchfield(a: {object}) }}"),
        format!("{{ products(filter: {object}) {{ totalCount }} }}"),
        format!("query($v: Int = {list}) {{ products(first: $v) {{ totalCount }} }}"),
        format!("query($v: Int = {object}) {{ products(first: $v) {{ totalCount }} }}"),
        format!("query($v: {list_type}) {{ viewer {{ role }} }}"),
        format!("{{ viewer @skip(if: {list}) {{ role }} }}"),
        selections,
        // Unterminated: the limit still answers before the syntax error.
        format!("{{ customer(id: {}", "[".repeat(n)),
    ]
}

/// A subscription whose argument is a list nested `depth` times.
fn deep_list(depth: usize) -> String {
    let list = format!("{}1{}", "[".repeat(depth), "]".repeat(depth));
    format!("subscription {{ interactionChanged(customerId: {list}) {{ change }} }}")
}

/// `F0` selects two fields; each next fragment spreads the previous one twice.
fn fragment_chain(levels: usize) -> String {
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
}

/// Replaces the last character of `name`: a misspelling of the same length, so that error
/// positions after it do not move either.
fn misspell(name: &str) -> String {
    let mut out = name[..name.len() - 1].to_owned();
    out.push(if name.ends_with('x') { 'y' } else { 'x' });
    out
}

/// Asserts that a document naming `hidden` answers byte for byte like the same document naming
/// a misspelling of it, with a coded error and no data.
async fn assert_like_misspelt(
    app: &TestApp,
    doc: &str,
    vars: Value,
    hidden: &str,
    token: Option<&str>,
) {
    let missing = misspell(hidden);
    let with_hidden = without_request_ids(app.gql_vars(doc, vars.clone(), token).await);
    let other_doc = doc.replace(hidden, &missing);
    let other_vars: Value =
        serde_json::from_str(&vars.to_string().replace(hidden, &missing)).unwrap();
    let with_missing = without_request_ids(app.gql_vars(&other_doc, other_vars, token).await);
    assert!(with_hidden.get("data").is_none(), "{doc}: {with_hidden}");
    let code = first_code(&with_hidden);
    assert!(
        code == "GRAPHQL_VALIDATION_FAILED" || code == "BAD_USER_INPUT",
        "{doc}: {with_hidden}"
    );
    assert_eq!(
        with_hidden.to_string().replace(hidden, "<name>"),
        with_missing.to_string().replace(&missing, "<name>"),
        "{doc}"
    );
}

both_backends! {
    async fn deeply_nested_documents_get_a_coded_error_not_a_stack_overflow(backend) {
        let app = TestApp::seeded(backend).await;
        for doc in nesting_bombs() {
            for token in [None, Some(app.client()), Some(app.manager())] {
                let body = app.gql(&doc, token.as_deref()).await;
                assert_eq!(first_code(&body), "QUERY_TOO_COMPLEX", "{}: {body}", &doc[..40]);
                assert!(body.get("data").is_none(), "{body}");
            }
        }
        // Over GET as well.
        let (status, _, body) = get(&app, &nesting_bombs()[1], None, None).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(first_code(&body), "QUERY_TOO_COMPLEX");
        // The same depth inside a JSON variable is refused by the JSON parser's own limit.
        let deep_json: Value = serde_json::from_str(&format!("{}1{}", "[".repeat(100), "]".repeat(100))).unwrap();
        let body = app.gql_vars("query($v: [Int]) { viewer { role } }", json!({"v": deep_json}), None).await;
        assert!(body["errors"][0]["extensions"]["code"].is_string(), "{body}");
        // The process is still serving.
        app.data("{ products { totalCount } }", None).await;
    }

    async fn the_largest_nesting_setting_is_still_safe_for_valid_documents(backend) {
        let app = TestApp::seeded_with(backend, |c| c.max_query_nesting = 128).await;
        // Valid at every level, so it reaches async-graphql's own parser and validators.
        let n = 126;
        let doc = format!("{{ {}__typename{} }}", "... on Query { ".repeat(n), " }".repeat(n));
        let body = app.gql(&doc, Some(&app.client())).await;
        assert!(body["errors"][0]["extensions"]["code"].is_string() || body["data"]["__typename"] == "Query", "{body}");
        let body = app.gql(&format!("{{ {}__typename{} }}", "... on Query { ".repeat(200), " }".repeat(200)), None).await;
        assert_eq!(first_code(&body), "QUERY_TOO_COMPLEX", "{body}");
    }

    async fn oversized_documents_are_refused_by_token_count(backend) {
        let app = TestApp::seeded(backend).await;
        let doc = format!("{{ viewer {{ role }} {} }}", ", ".repeat(20_000));
        let body = app.gql(&doc, None).await;
        assert_eq!(first_code(&body), "QUERY_TOO_COMPLEX", "{body}");
        assert!(first_message(&body).contains("tokens"), "{body}");
    }

    async fn fragment_chains_are_counted_without_expanding_them(backend) {
        let app = TestApp::seeded(backend).await;
        // 2^25 fields once expanded; counted in 25 steps and refused.
        let bomb = fragment_chain(24);
        let body = app.gql(&bomb, None).await;
        assert_eq!(first_code(&body), "QUERY_TOO_COMPLEX", "{body}");
        assert!(first_message(&body).contains("fields"), "{body}");
        // Many at once do not stall the workers: the next request is served normally.
        let bombs: Vec<_> = (0..8).map(|_| app.gql(&bomb, None)).collect();
        for body in futures_util::future::join_all(bombs).await {
            assert_eq!(first_code(&body), "QUERY_TOO_COMPLEX");
        }
        // A chain that fits the limit runs: 2^7 = 128 fields.
        let data = app.data(&fragment_chain(6), Some(&app.client())).await;
        assert_eq!(data["viewer"]["role"], "CLIENT");
        // Configurable.
        let strict = TestApp::seeded_with(backend, |c| c.max_query_fields = 100).await;
        let body = strict.gql(&fragment_chain(6), Some(&strict.client())).await;
        assert_eq!(first_code(&body), "QUERY_TOO_COMPLEX", "{body}");
    }

    async fn hidden_names_in_defaults_variables_fragments_and_arguments_fail_like_misspelt_ones(backend) {
        let app = TestApp::seeded(backend).await;
        let cases: &[(&str, Value, &str)] = &[
            // Variable default values (the reported bypass).
            ("query($o: CustomerOrderBy = {field: HEALTH_SCORE}) { customers(first: 1, orderBy: $o) { edges { cursor } } }", json!({}), "HEALTH_SCORE"),
            ("query($o: CustomerOrderBy = {field: LIFETIME_VALUE}) { customers(first: 1, orderBy: $o) { edges { cursor } } }", json!({}), "LIFETIME_VALUE"),
            ("query($f: InteractionFilter = {slaBreached: true}) { interactions(filter: $f) { totalCount } }", json!({}), "slaBreached"),
            ("query($f: InteractionFilter = {handlerId: \"20\"}) { interactions(filter: $f) { totalCount } }", json!({}), "handlerId"),
            ("query($f: KnowledgeArticleFilter = {audience: INTERNAL}) { knowledgeArticles(filter: $f) { totalCount } }", json!({}), "audience"),
            // Runtime JSON variables.
            ("query($o: CustomerOrderBy) { customers(orderBy: $o) { totalCount } }", json!({"o": {"field": "HEALTH_SCORE"}}), "HEALTH_SCORE"),
            ("query($f: InteractionFilter) { interactions(filter: $f) { totalCount } }", json!({"f": {"slaBreached": true}}), "slaBreached"),
            ("query($f: [InteractionFilter]) { viewer { role } n: interactions(filter: {customerId: \"1\"}) { totalCount } }", json!({"f": [{"handlerId": "2"}]}), "handlerId"),
            // Literal arguments, fragments, inline fragments, directives, variable types.
            ("{ customers(orderBy: {field: HEALTH_SCORE}) { totalCount } }", json!({}), "HEALTH_SCORE"),
            ("{ customers { edges { node { ...F } } } } fragment F on Customer { healthScore }", json!({}), "healthScore"),
            ("{ viewer { customer { ... on Customer { lifetimeValue } } } }", json!({}), "lifetimeValue"),
            ("{ viewer { customer { name @include(if: true) churnRisk @skip(if: false) } } }", json!({}), "churnRisk"),
            ("query($d: DateRange) { viewer { role } }", json!({}), "DateRange"),
            ("{ products { edges { node { ... on ServiceAgreement { id } } } } }", json!({}), "ServiceAgreement"),
            // A hidden name next to another error: the errors are the same, in the same order.
            ("query($unused: Int) { customers(orderBy: {field: HEALTH_SCORE}) { nope } }", json!({}), "HEALTH_SCORE"),
        ];
        for token in [None, Some(app.client())] {
            for (doc, vars, hidden) in cases {
                assert_like_misspelt(&app, doc, vars.clone(), hidden, token.as_deref()).await;
            }
        }
        // The names exist: employees may use them, so the tests above are not vacuous.
        app.data("query($o: CustomerOrderBy = {field: HEALTH_SCORE}) { customers(first: 1, orderBy: $o) { edges { cursor } } }", Some(&app.employee())).await;
        app.data_vars("query($f: InteractionFilter) { interactions(filter: $f) { totalCount } }", json!({"f": {"slaBreached": true}}), Some(&app.employee())).await;
    }

    async fn errors_read_like_async_graphql_and_never_suggest(backend) {
        let app = TestApp::seeded(backend).await;
        let body = app.gql("{ customers { edges { node { lifetimeValue } } } }", Some(&app.client())).await;
        assert_eq!(first_message(&body), "Unknown field \"lifetimeValue\" on type \"Customer\".");
        assert_eq!(body["errors"][0]["locations"], json!([{"line": 1, "column": 30}]));
        let body = app.gql("{ viewer { customer } }", Some(&app.client())).await;
        assert_eq!(first_code(&body), "GRAPHQL_VALIDATION_FAILED");
        assert!(!body.to_string().contains("Did you mean"), "{body}");
    }

    async fn get_never_runs_a_mutation_or_subscription(backend) {
        let app = TestApp::seeded(backend).await;
        let client = app.client();
        let phone = "{ viewer { customer { phone version } } }";
        let before = app.data(phone, Some(&client)).await;
        let version = &before["viewer"]["customer"]["version"];
        let update = format!("mutation M {{ updateMyContact(input: {{phone: \"+1 555 0100\", expectedVersion: {version}}}) {{ phone }} }}");
        let update = update.as_str();
        for (doc, operation) in [
            (update.to_owned(), None),
            (update.to_owned(), Some("M")),
            (format!("# a comment\n{update}"), None),
            (format!("query Q {{ viewer {{ role }} }} {update}"), Some("M")),
            (format!("{update} query Q {{ viewer {{ role }} }}"), Some("M")),
            ("subscription { interactionChanged { change } }".to_owned(), None),
            ("mutation { __typename }".to_owned(), None),
        ] {
            let (status, headers, body) = get(&app, &doc, operation, Some(&client)).await;
            assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{doc}: {body}");
            assert_eq!(headers["allow"], "POST");
            assert_eq!(first_code(&body), "METHOD_NOT_ALLOWED", "{body}");
        }
        assert_eq!(app.data(phone, Some(&client)).await, before, "nothing was written");
        // The query of the same document runs when it is the one asked for.
        let (status, _, body) = get(&app, &format!("query Q {{ viewer {{ role }} }} {update}"), Some("Q"), Some(&client)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(body.get("errors").is_none(), "{body}");
        assert_eq!(body["data"]["viewer"]["role"], "CLIENT");
        // POST still writes.
        app.data(update, Some(&client)).await;
        assert_ne!(app.data(phone, Some(&client)).await, before);
    }

    async fn introspection_follows_the_setting_and_answers_like_an_unknown_field(backend) {
        // An operator who closes introspection to outsiders.
        let app = TestApp::seeded_with(backend, |c| c.introspection = Introspection::Employees).await;
        let pairs = [
            ("{ __schema { queryType { name } } }", "__schema"),
            ("{ __type(name: \"Customer\") { name } }", "__type"),
            ("{ ...F } fragment F on Query { __schema { types { name } } }", "__schema"),
            ("{ viewer { role } a: __schema { nosuch } }", "__schema"),
        ];
        for token in [None, Some(app.client())] {
            for (doc, hidden) in pairs {
                assert_like_misspelt(&app, doc, json!({}), hidden, token.as_deref()).await;
            }
            let data = app.data("{ __typename viewer { __typename } }", token.as_deref()).await;
            assert_eq!(data["__typename"], "Query");
        }
        for token in [app.employee(), app.manager()] {
            let data = app.data("{ __schema { queryType { name } } }", Some(&token)).await;
            assert_eq!(data["__schema"]["queryType"]["name"], "Query");
        }
        let closed = TestApp::seeded_with(backend, |c| c.introspection = Introspection::None).await;
        let body = closed.gql("{ __schema { queryType { name } } }", Some(&closed.manager())).await;
        assert_eq!(first_message(&body), "Unknown field \"__schema\" on type \"Query\".");
        let open = TestApp::seeded_with(backend, |c| c.introspection = Introspection::All).await;
        open.data("{ __schema { queryType { name } } }", None).await;
    }

    async fn websocket_documents_pass_the_same_guard(backend) {
        let app = TestApp::seeded_with(backend, |c| c.introspection = Introspection::Employees).await;
        let addr = app.serve().await;
        let (mut ws, ack) = live::connect(addr, Some(&app.client())).await;
        assert_eq!(ack["type"], "connection_ack", "{ack}");
        for (id, doc, code) in [
            ("1", nesting_bombs()[1].clone(), "QUERY_TOO_COMPLEX"),
            ("2", fragment_chain(24), "QUERY_TOO_COMPLEX"),
            ("3", "{ customers { edges { node { healthScore } } } }".to_owned(), "GRAPHQL_VALIDATION_FAILED"),
            ("4", "{ __schema { queryType { name } } }".to_owned(), "GRAPHQL_VALIDATION_FAILED"),
            // Deep enough to overflow any stack a recursive parser runs on, and still under the
            // message limit: the socket reads the operation's kind through the guard's limits.
            ("6", deep_list(100_000), "QUERY_TOO_COMPLEX"),
        ] {
            live::send(&mut ws, json!({"id": id, "type": "subscribe", "payload": {"query": doc}})).await;
            // async-graphql answers a request error with `next` (errors, null data).
            let reply = live::next(&mut ws).await;
            assert_eq!(reply["type"], "next", "{reply}");
            assert_eq!(reply["payload"]["data"], Value::Null, "{reply}");
            assert_eq!(reply["payload"]["errors"][0]["extensions"]["code"], code, "{reply}");
            assert_eq!(live::next(&mut ws).await["type"], "complete");
        }
        // The socket still works.
        live::send(&mut ws, json!({"id": "5", "type": "subscribe", "payload": {"query": "{ viewer { role } }"}})).await;
        let reply = live::next(&mut ws).await;
        assert_eq!(reply["payload"]["data"]["viewer"]["role"], "CLIENT", "{reply}");
    }
}
