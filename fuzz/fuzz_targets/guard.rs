//! Fuzz target: the guard, which every document meets before async-graphql does — the parser
//! under its nesting, token and field limits, validation against each tier's schema, the choice
//! of operation and the coercion of variables. Whatever the input, for every kind of caller and
//! both transports' rules, the guard must answer (no panic, no stall: libFuzzer's timeout) and
//! every refusal must carry a client-facing code, never the internal error the guard's own
//! panic net (`catch_unwind`) turns a validator bug into.
//!
//! Input: `document \0 variables-json \0 operationName`, each part optional.
#![no_main]

use std::sync::LazyLock;

use async_graphql::{Request, ServerError, Variables};
use crm_gateway::{
    auth::{Caller, Role, Viewer},
    config::Config,
    graphql::{
        self, Limits,
        guard::{Allowed, Guard},
    },
};
use libfuzzer_sys::fuzz_target;

/// The guard exactly as the binary builds it with default settings, but with no verdict cache:
/// every input is judged, none answered from memory.
static GUARD: LazyLock<Guard> = LazyLock::new(|| {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime to compute the tier schemas");
    let tiers = runtime
        .block_on(graphql::tier_schemas())
        .expect("the tier schemas");
    let limits = Limits::from_config(&Config::with_database("sqlite::memory:"));
    Guard::new(tiers, limits.document, limits.introspection, 0, None)
});

/// Anonymous, then one caller of each role.
static CALLERS: LazyLock<Vec<Caller>> = LazyLock::new(|| {
    let mut callers = vec![Caller(None)];
    callers.extend(Role::ALL.map(|role| {
        Caller(Some(Viewer {
            role,
            customer_id: 1,
            expires_at: i64::MAX,
        }))
    }));
    callers
});

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut parts = text.splitn(3, '\0');
    let document = parts.next().unwrap_or_default();
    let variables = parts
        .next()
        .and_then(|json| serde_json::from_str::<serde_json::Value>(json).ok());
    let name = parts.next();
    // async-graphql's `Request` is not `Clone`: one per judgement, as each HTTP request has.
    let request = || {
        let mut request = Request::new(document);
        if let Some(json) = &variables {
            request = request.variables(Variables::from_json(json.clone()));
        }
        match name {
            Some(name) => request.operation_name(name),
            None => request,
        }
    };
    for caller in CALLERS.iter() {
        let _ = GUARD.operation(caller, &request());
        for allowed in [Allowed::Any, Allowed::Queries] {
            if let Err(errors) = GUARD.admit(caller, allowed, &mut request()) {
                errors.iter().for_each(assert_client_facing);
            }
        }
    }
});

/// A refusal names what the client did wrong, with a code; an internal error here is a bug.
fn assert_client_facing(error: &ServerError) {
    let code = error
        .extensions
        .as_ref()
        .and_then(|extensions| extensions.get("code"))
        .map(|code| code.to_string());
    let Some(code) = code else {
        panic!("a refusal without a code: {error:?}");
    };
    assert!(
        !code.contains("INTERNAL_SERVER_ERROR"),
        "the guard failed internally: {error:?}"
    );
}
