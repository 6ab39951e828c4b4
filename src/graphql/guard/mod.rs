//! The guard: every document is judged against the caller's own schema before async-graphql
//! touches it, on every transport (POST, GET and WebSocket all run through
//! [`super::Served`], which calls [`Guard::admit`] first).
//!
//! async-graphql's `visible` attribute only filters introspection; a hidden field could still
//! be selected, and its recursive parser and validators would run on any input. So, before
//! async-graphql sees a request:
//!
//! 1. the document is parsed by apollo-parser under nesting and token limits, and its fields are
//!    counted with fragments expanded (each fragment counted once): no unbounded recursion or
//!    exponential work ever starts (`QUERY_TOO_COMPLEX`);
//! 2. it is validated by apollo-compiler against the caller's tier schema ([`tiers`]), so a
//!    hidden type, field, argument, input field or enum value — in a selection, a variable
//!    type, a default value, a directive or a fragment — fails exactly like a misspelt one;
//!    the verdict is cached per (tier, document);
//! 3. the operation that will run is chosen as async-graphql chooses it (`operationName`),
//!    refused if it is a mutation or subscription sent over GET, its variables are coerced
//!    against the tier's input types, and the internal-only fields it selects and the
//!    internal-only input fields and enum values it uses (to filter or order, as literals or
//!    through its variables) are reported to the audit.
//!
//! async-graphql then runs in its fast validation mode (depth and complexity limits only) on
//! the document the guard parsed (cached with the verdict), so every validation error a
//! client sees comes from its own tier's schema.

pub mod check;
pub mod codes;
mod diagnostics;
pub mod tiers;
mod used;

use std::{collections::BTreeSet, panic::AssertUnwindSafe, sync::Arc};

use apollo_compiler::{
    ast::OperationType,
    request::coerce_variable_values,
    response::{JsonMap, serde_json_bytes},
};
use async_graphql::{
    Request, ServerError, ServerResult, Variables, parser::types::ExecutableDocument,
};
use sha2::{Digest, Sha256};

use self::{
    check::{Checked, CheckedOperation, TierView, Verdict},
    codes::coded,
    tiers::TierSchemas,
};
use crate::{
    auth::Caller,
    config::Introspection,
    policy::{self, Tier},
};

/// Bounds on a document, checked before anything recurses into it.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Deepest nesting of selections, values and list types.
    pub nesting: usize,
    /// Most lexical tokens.
    pub tokens: usize,
    /// Most fields once fragments are expanded.
    pub fields: usize,
}

/// Which operations a transport may run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Allowed {
    /// Queries, mutations and subscriptions (POST, WebSocket).
    Any,
    /// Queries only: GET must never change anything.
    Queries,
}

/// Callback told which internal-only fields the operation that runs selects, and which
/// internal-only input it uses (the access audit).
pub type ReadObserver = Arc<dyn Fn(&Caller, Option<&str>, Vec<String>) + Send + Sync>;

struct Shared {
    tiers: TierSchemas,
    limits: Limits,
    introspection: Introspection,
    cache: moka::sync::Cache<(Tier, [u8; 32]), Cached>,
    observer: Option<ReadObserver>,
}

/// The guard, shared by every transport; [`Guard::admit`] judges one request.
#[derive(Clone)]
pub struct Guard(Arc<Shared>);

impl Guard {
    /// A guard validating against `tiers` under `limits`, caching verdicts for up to
    /// `cache_kb` kilobytes of document text.
    pub fn new(
        tiers: TierSchemas,
        limits: Limits,
        introspection: Introspection,
        cache_kb: u64,
        observer: Option<ReadObserver>,
    ) -> Self {
        let cache = moka::sync::Cache::builder()
            .max_capacity(cache_kb.saturating_mul(1024))
            .weigher(|_, cached: &Cached| cached.weight)
            .build();
        Self(Arc::new(Shared {
            tiers,
            limits,
            introspection,
            cache,
            observer,
        }))
    }

    /// The (cached) verdict on `text` for callers of `tier`.
    pub fn verdict(&self, tier: Tier, text: &str) -> Verdict {
        let key = (tier, Sha256::digest(text.as_bytes()).into());
        let cached = self.0.cache.get_with(key, || {
            let shared = &self.0;
            // Audited: fields only this tier has, and public fields that answer it with
            // internal values.
            let internal_only = |ty: &str, field: &str| {
                shared.tiers.internal_only(tier, ty, field)
                    || policy::answers_with_internal_values(tier, ty, field)
            };
            let internal_input =
                |ty: &str, member: &str| shared.tiers.internal_input(tier, ty, member);
            let internal_argument = |ty: &str, field: &str, arg: &str| {
                shared.tiers.internal_argument(tier, ty, field, arg)
            };
            let view = TierView {
                schema: shared.tiers.of(tier),
                introspection: policy::may_introspect(tier, shared.introspection),
                internal_only: &internal_only,
                internal_input: &internal_input,
                internal_argument: &internal_argument,
            };
            // Defence in depth: a bug in the validator on some input costs that request, coded,
            // never the connection or a worker.
            let verdict = std::panic::catch_unwind(AssertUnwindSafe(|| {
                check::check(text, &view, &shared.limits)
            }))
            .unwrap_or_else(|_| {
                tracing::error!("the document check panicked");
                Verdict::Refused(coded(
                    ServerError::new("internal server error", None),
                    "INTERNAL_SERVER_ERROR",
                ))
            });
            Cached {
                // What an entry holds grows with its document's text.
                weight: u32::try_from(text.len())
                    .unwrap_or(u32::MAX)
                    .saturating_add(256),
                verdict,
            }
        });
        cached.verdict
    }
}

impl Guard {
    /// Whether callers of `tier` can run `text`: it parses within the limits and validates
    /// against the tier's schema. The verdict is cached, so admitting the same text later
    /// costs a lookup.
    pub fn validates(&self, tier: Tier, text: &str) -> bool {
        match self.verdict(tier, text) {
            Verdict::Refused(_) => false,
            Verdict::Parsed(parsed) => parsed
                .outcome
                .as_ref()
                .is_ok_and(|checked| checked.executable.is_ok()),
        }
    }
}

/// A cached verdict and its share of the cache.
#[derive(Clone)]
struct Cached {
    weight: u32,
    verdict: Verdict,
}

/// The operation the guard let through.
#[derive(Debug, Clone)]
pub struct Admitted {
    /// Its name, `None` for an anonymous operation.
    pub operation_name: Option<String>,
    /// Query, mutation or subscription.
    pub kind: OperationType,
    /// The document's cached verdict.
    parsed: Arc<check::Parsed>,
}

impl Admitted {
    /// The admitted document as async-graphql parsed it.
    pub fn document(&self) -> Option<&ExecutableDocument> {
        let checked = self.parsed.outcome.as_ref().ok()?;
        checked.executable.as_ref().ok()
    }
}

impl Guard {
    /// The type and name of the operation `request` would run for `caller`, read from the
    /// document's syntax under the guard's limits (the verdict is cached for `admit`); `None`
    /// when the document is refused, does not validate for the caller's tier (its name never
    /// becomes a metrics label) or names no operation. For transports that must know the
    /// kind before running it: nothing else may parse an unchecked document, since only this
    /// parser stops at the nesting limit instead of recursing as deep as the text goes.
    pub fn operation(
        &self,
        caller: &Caller,
        request: &Request,
    ) -> Option<(OperationType, Option<String>)> {
        match self.verdict(policy::tier(caller), &request.query) {
            Verdict::Parsed(parsed) if parsed.outcome.is_ok() => parsed
                .chosen(request.operation_name.as_deref())
                .map(|(name, kind)| (kind, name.map(str::to_owned))),
            _ => None,
        }
    }

    /// Judges `request` for `caller` before async-graphql sees it (the steps in this module's
    /// header); `read_only` marks a request that came over GET. An admitted request carries
    /// its document already parsed, so async-graphql only runs its depth and complexity
    /// limits and then executes. `allowed` says which operations the transport may run.
    ///
    /// The guard is called by the transports rather than installed as a schema extension: an
    /// extension turns every resolved field into a chain of boxed futures, a third of a nested
    /// read's CPU.
    pub fn admit(
        &self,
        caller: &Caller,
        allowed: Allowed,
        request: &mut Request,
    ) -> Result<Admitted, Vec<ServerError>> {
        let tier = policy::tier(caller);
        let parsed = match self.verdict(tier, &request.query) {
            Verdict::Refused(err) => return Err(vec![err]),
            Verdict::Parsed(parsed) => parsed,
        };
        let name = request.operation_name.as_deref();
        // Decided from syntax alone, before validation: GET never runs anything but a query.
        if allowed == Allowed::Queries
            && parsed
                .kind_of(name)
                .is_some_and(|kind| kind != OperationType::Query)
        {
            return Err(vec![coded(
                ServerError::new("mutations and subscriptions must be sent with POST", None),
                codes::METHOD_NOT_ALLOWED,
            )]);
        }
        let checked = parsed.outcome.as_ref().map_err(Clone::clone)?;
        let operation = select(checked, name).map_err(|e| vec![e])?;
        coerce_variables(self.0.tiers.of(tier), operation, &request.variables)
            .map_err(|e| vec![e])?;
        let executable = checked.executable.as_ref().map_err(|e| vec![e.clone()])?;
        let operation_name = operation.operation.name.as_ref().map(|n| n.to_string());
        let kind = operation.operation.operation_type;
        if let Some(observer) = &self.0.observer {
            let read = self.internal_reads(tier, operation, &request.variables);
            if !read.is_empty() {
                observer(caller, operation_name.as_deref(), read);
            }
        }
        request.set_parsed_query(executable.clone());
        Ok(Admitted {
            operation_name,
            kind,
            parsed: parsed.clone(),
        })
    }
}

impl Guard {
    /// What the audit records for `operation`: the cached fields and literal input, plus what
    /// this request's variables (already coerced) use.
    fn internal_reads(
        &self,
        tier: Tier,
        operation: &CheckedOperation,
        variables: &Variables,
    ) -> Vec<String> {
        if operation.audited_variables.is_empty() {
            return operation.internal_fields.clone();
        }
        let mut read: BTreeSet<String> = operation.internal_fields.iter().cloned().collect();
        let internal = |ty: &str, member: &str| self.0.tiers.internal_input(tier, ty, member);
        used::sent(
            self.0.tiers.of(tier),
            &internal,
            &operation.audited_variables,
            variables,
            &mut read,
        );
        read.into_iter().collect()
    }
}

/// The operation async-graphql will run: the named one, or the only one.
fn select<'a>(checked: &'a Checked, name: Option<&str>) -> ServerResult<&'a CheckedOperation> {
    let found = match name {
        Some(name) => checked
            .operations
            .iter()
            .find(|(key, _)| key.as_ref().is_some_and(|k| k.as_str() == name))
            .map(|(_, op)| op)
            .ok_or_else(|| format!("Unknown operation named \"{name}\"")),
        None if checked.operations.len() == 1 => checked
            .operations
            .values()
            .next()
            .ok_or_else(|| "The document has no operation.".to_owned()),
        None => Err("Operation name required in request.".to_owned()),
    };
    found.map_err(|message| coded(ServerError::new(message, None), codes::BAD_REQUEST))
}

/// Coerces the request's variables against the tier's input types: an input-object key or
/// enum value the tier does not have is refused like one that does not exist.
fn coerce_variables(
    schema: &apollo_compiler::validation::Valid<apollo_compiler::Schema>,
    operation: &CheckedOperation,
    variables: &Variables,
) -> ServerResult<()> {
    let json = serde_json::to_value(variables).map_err(|_| {
        diagnostics::variable_error("the variables are not a JSON object".to_owned())
    })?;
    let values: JsonMap = match serde_json_bytes::Value::from(json) {
        serde_json_bytes::Value::Object(map) => map,
        _ => JsonMap::new(),
    };
    coerce_variable_values(schema, &operation.operation, &values)
        .map(|_| ())
        .map_err(|e| diagnostics::variable_error(e.message().to_string()))
}
