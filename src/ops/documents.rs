//! Trusted documents and automatic persisted queries, resolved *before* the schema runs (so
//! everything the schema checks — validation per tier, limits, the GET rule — applies to a
//! persisted document exactly as to one sent in full).
//!
//! - **Manifest** (`TRUSTED_DOCUMENTS_FILE`): GraphQL codegen's and Relay's `{"<id>": "<document>"}`,
//!   or Apollo's persisted-query manifest (`{"format": "apollo-persisted-query-manifest",
//!   "operations": [{"id", "body", "name"}]}`). An entry may be an object with `body` (or
//!   `document`/`query`) and `roles` (`anonymous`, `client`, `employee`, `manager`) to bind it to
//!   the roles allowed to run it. Documents are found by manifest id (`documentId`, or Relay's
//!   `id`) or by the SHA-256 of their text (`extensions.persistedQuery.sha256Hash`).
//! - **APQ**: a hash alone is looked up; a miss answers `PERSISTED_QUERY_NOT_FOUND`, the client
//!   sends hash and text, the hash is verified, and the text is remembered only once it
//!   validates for the registering caller's tier, on that caller's role's shelf and within its
//!   share ([`super::apq`]). Each replica remembers its own: a miss on another replica simply
//!   re-registers.
//! - **Per tier**: every manifest entry is validated for every tier at start-up; an entry the
//!   caller's tier cannot run, like an APQ hash another role registered, answers exactly as an
//!   unknown one, so a caller never learns what staff run.
//! - **Mode**: a document outside the manifest is *free*. `off`: free documents from anyone;
//!   `allow`: from employees and managers only (GraphiQL keeps working for staff); `enforce`:
//!   from nobody. A refused document answers `PERSISTED_QUERY_NOT_FOUND`, as does a manifest
//!   document bound to other roles (to the caller it does not exist).

use std::{collections::HashMap, net::IpAddr, num::NonZeroUsize, sync::Arc};

use async_graphql::Request;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::{
    apq::{ApqStore, MemoryApq, Owner},
    config::{OpsConfig, TrustedMode},
    metrics::Metrics,
};
use crate::{
    auth::{Caller, Role},
    policy::{self, Tier},
};

/// Where a request's `documentId` is kept between body parsing and resolution.
pub const DOCUMENT_ID: &str = "documentId";

/// Whether callers of a tier can run a document: it parses within the limits and validates
/// against the tier's schema (the guard's cached verdict).
pub type Runs<'a> = &'a dyn Fn(Tier, &str) -> bool;

/// One manifest entry.
#[derive(Debug)]
struct Trusted {
    body: String,
    /// Roles allowed to run it (`None` inside: anonymous); all when absent.
    roles: Option<Vec<Option<Role>>>,
    /// The tiers whose schema it validates against, decided at start-up.
    tiers: Vec<Tier>,
}

impl Trusted {
    /// Whether `caller` may run it: its role is bound to it and its tier can run it.
    fn runs_for(&self, caller: &Caller) -> bool {
        let role = self
            .roles
            .as_ref()
            .is_none_or(|roles| roles.contains(&caller.role()));
        role && self.tiers.contains(&policy::tier(caller))
    }
}

/// Why a document was not resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Unknown id or hash, or a free document the mode does not accept.
    NotFound,
    /// A hash alone, with APQ off and no manifest entry.
    NotSupported,
    /// The text does not hash to the hash sent with it.
    HashMismatch,
}

impl Refusal {
    /// `extensions.code`.
    pub fn code(self) -> &'static str {
        match self {
            Refusal::NotFound => "PERSISTED_QUERY_NOT_FOUND",
            Refusal::NotSupported => "PERSISTED_QUERY_NOT_SUPPORTED",
            Refusal::HashMismatch => "BAD_REQUEST",
        }
    }

    /// The message; Apollo clients recognise the first two by their exact text.
    pub fn message(self) -> &'static str {
        match self {
            Refusal::NotFound => "PersistedQueryNotFound",
            Refusal::NotSupported => "PersistedQueryNotSupported",
            Refusal::HashMismatch => "provided sha does not match query",
        }
    }
}

/// Who is asking, as resolution needs it.
pub struct Asker<'a> {
    /// The verified caller.
    pub caller: &'a Caller,
    /// The client's address (an anonymous caller's APQ share).
    pub client: Option<IpAddr>,
}

/// The trusted-document store of one gateway.
pub struct Documents {
    mode: TrustedMode,
    by_id: HashMap<String, Arc<Trusted>>,
    by_hash: HashMap<String, Arc<Trusted>>,
    apq: Option<Box<dyn ApqStore>>,
}

/// The lower-case hex SHA-256 of a document's text.
pub fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

impl Documents {
    /// Loads the manifest (if any) and judges each entry for every tier with `runs`; a
    /// manifest that cannot be read or holds a document that does not parse stops start-up.
    pub fn from_config(config: &OpsConfig, runs: Runs<'_>) -> Result<Self, String> {
        let entries = match &config.trusted_documents_file {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
                let json: Value = serde_json::from_str(&text)
                    .map_err(|e| format!("{} is not JSON: {e}", path.display()))?;
                parse_manifest(&json)?
            }
            None if config.trusted_documents != TrustedMode::Off => {
                return Err(
                    "TRUSTED_DOCUMENTS=allow|enforce needs TRUSTED_DOCUMENTS_FILE".to_owned(),
                );
            }
            None => Vec::new(),
        };
        let mut by_id = HashMap::new();
        let mut by_hash = HashMap::new();
        for (id, mut trusted) in entries {
            async_graphql::parser::parse_query(&trusted.body)
                .map_err(|e| format!("trusted document {id} does not parse: {e}"))?;
            trusted.tiers = Tier::ALL
                .into_iter()
                .filter(|tier| runs(*tier, &trusted.body))
                .collect();
            log_tiers(&id, &trusted);
            let trusted = Arc::new(trusted);
            by_hash.insert(sha256_hex(&trusted.body), trusted.clone());
            by_id.insert(id, trusted);
        }
        let apq = NonZeroUsize::new(config.apq_cache_size)
            .map(|n| Box::new(MemoryApq::new(n, config.apq_caller_share)) as Box<dyn ApqStore>);
        Ok(Self {
            mode: config.trusted_documents,
            by_id,
            by_hash,
            apq,
        })
    }

    /// Fills in the request's document from its id or hash, or refuses it. A document sent
    /// in full with a hash is registered for APQ only if `runs` says the asker's tier can run
    /// it.
    pub fn resolve(
        &self,
        request: &mut Request,
        asker: &Asker<'_>,
        metrics: &Metrics,
        runs: Runs<'_>,
    ) -> Result<(), Refusal> {
        let caller = asker.caller;
        let id = request.extensions.get(DOCUMENT_ID).and_then(|v| match v {
            async_graphql::Value::String(s) => Some(s.clone()),
            _ => None,
        });
        if let Some(id) = id {
            let doc = self.by_id.get(&id).or_else(|| self.by_hash.get(&id));
            return match doc.filter(|d| d.runs_for(caller)) {
                Some(doc) => {
                    metrics.persisted("manifest", "hit");
                    request.query = doc.body.clone();
                    Ok(())
                }
                None => {
                    metrics.persisted("manifest", "miss");
                    Err(Refusal::NotFound)
                }
            };
        }
        let hash = persisted_hash(request);
        if request.query.is_empty() {
            return match hash {
                Some(hash) => self.look_up(request, caller, &hash, metrics),
                None => Ok(()), // no document at all: the schema says so
            };
        }
        let actual = sha256_hex(&request.query);
        if hash.as_ref().is_some_and(|h| *h != actual) {
            return Err(Refusal::HashMismatch);
        }
        if self
            .by_hash
            .get(&actual)
            .is_some_and(|d| d.runs_for(caller))
        {
            return Ok(()); // the full text of a trusted document
        }
        if !self.free_allowed(caller) {
            metrics.persisted("manifest", "refused");
            return Err(Refusal::NotFound);
        }
        if hash.is_some() {
            self.register(request, asker, actual, metrics, runs);
        }
        Ok(())
    }

    /// Whether the mode lets `caller` run a document outside the manifest.
    fn free_allowed(&self, caller: &Caller) -> bool {
        match self.mode {
            TrustedMode::Off => true,
            TrustedMode::Allow => caller.role().is_some_and(|r| r != Role::Client),
            TrustedMode::Enforce => false,
        }
    }

    /// A hash alone: the manifest's entry the caller may run, else what the caller's role
    /// registered. Whatever else the hash may be, the answer is that of a hash never seen.
    fn look_up(
        &self,
        request: &mut Request,
        caller: &Caller,
        hash: &str,
        metrics: &Metrics,
    ) -> Result<(), Refusal> {
        if let Some(doc) = self.by_hash.get(hash).filter(|d| d.runs_for(caller)) {
            metrics.persisted("manifest", "hit");
            request.query = doc.body.clone();
            return Ok(());
        }
        let Some(apq) = &self.apq else {
            return Err(Refusal::NotSupported);
        };
        let remembered = apq.get(caller.role(), hash);
        match remembered.filter(|_| self.free_allowed(caller)) {
            Some(text) => {
                metrics.persisted("apq", "hit");
                request.query = text.to_string();
                Ok(())
            }
            None => {
                metrics.persisted("apq", "miss");
                Err(Refusal::NotFound)
            }
        }
    }

    /// Remembers a verified document for the asker's role, only once it validates for the
    /// asker's tier: a document its sender may not run is answered with its own errors and
    /// never stored, so nobody can plant text for a hash another caller then runs.
    fn register(
        &self,
        request: &Request,
        asker: &Asker<'_>,
        hash: String,
        metrics: &Metrics,
        runs: Runs<'_>,
    ) {
        let Some(apq) = &self.apq else {
            return;
        };
        if !runs(policy::tier(asker.caller), &request.query) {
            metrics.persisted("apq", "refused");
            return;
        }
        let owner = Owner::of(asker.caller, asker.client);
        apq.put(
            asker.caller.role(),
            owner,
            hash,
            Arc::from(request.query.as_str()),
        );
        metrics.persisted("apq", "registered");
    }
}

/// Says at start-up which tiers can run a manifest entry (and which roles it is bound to).
fn log_tiers(id: &str, trusted: &Trusted) {
    let tiers: Vec<&str> = trusted.tiers.iter().map(|t| tier_name(*t)).collect();
    let roles = match &trusted.roles {
        None => "any".to_owned(),
        Some(roles) => roles
            .iter()
            .map(|r| r.map_or("anonymous", Role::as_claim))
            .collect::<Vec<_>>()
            .join(","),
    };
    if tiers.is_empty() {
        tracing::warn!(
            id,
            roles,
            "trusted document validates for no tier: nobody can run it"
        );
    } else {
        tracing::info!(id, roles, tiers = tiers.join(","), "trusted document");
    }
}

fn tier_name(tier: Tier) -> &'static str {
    match tier {
        Tier::Public => "public",
        Tier::Internal => "employee",
        Tier::Manager => "manager",
    }
}

/// `extensions.persistedQuery.sha256Hash`, lower-cased.
fn persisted_hash(request: &Request) -> Option<String> {
    let persisted = request.extensions.get("persistedQuery")?;
    let async_graphql::Value::Object(fields) = persisted else {
        return None;
    };
    match fields.get("sha256Hash") {
        Some(async_graphql::Value::String(hash)) => Some(hash.to_ascii_lowercase()),
        _ => None,
    }
}

/// Manifest entries as `(id, document)`.
fn parse_manifest(json: &Value) -> Result<Vec<(String, Trusted)>, String> {
    if let Some(operations) = json.get("operations").and_then(Value::as_array) {
        return operations
            .iter()
            .map(|op| {
                let id = op
                    .get("id")
                    .and_then(Value::as_str)
                    .ok_or("an operation has no id")?;
                Ok((id.to_owned(), entry(id, op)?))
            })
            .collect();
    }
    let Some(map) = json.as_object() else {
        return Err("a manifest is a JSON object".to_owned());
    };
    map.iter()
        .map(|(id, value)| Ok((id.clone(), entry(id, value)?)))
        .collect()
}

fn entry(id: &str, value: &Value) -> Result<Trusted, String> {
    if let Some(body) = value.as_str() {
        return Ok(Trusted {
            body: body.to_owned(),
            roles: None,
            tiers: Vec::new(),
        });
    }
    let body = ["body", "document", "query", "text"]
        .iter()
        .find_map(|key| value.get(key).and_then(Value::as_str))
        .ok_or_else(|| format!("trusted document {id} has no text"))?;
    let roles = match value.get("roles") {
        None | Some(Value::Null) => None,
        Some(Value::Array(names)) => Some(
            names
                .iter()
                .map(|name| match name.as_str() {
                    Some("anonymous") => Ok(None),
                    Some(role) => role
                        .parse::<Role>()
                        .map(Some)
                        .map_err(|_| format!("trusted document {id}: unknown role {role}")),
                    None => Err(format!("trusted document {id}: roles are strings")),
                })
                .collect::<Result<_, _>>()?,
        ),
        Some(_) => return Err(format!("trusted document {id}: roles is a list")),
    };
    Ok(Trusted {
        body: body.to_owned(),
        roles,
        tiers: Vec::new(),
    })
}
