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
//!   sends hash and text, the hash is verified and the text remembered (bounded LRU). Each
//!   replica remembers its own: a miss on another replica simply re-registers.
//! - **Mode**: a document outside the manifest is *free*. `off`: free documents from anyone;
//!   `allow`: from employees and managers only (GraphiQL keeps working for staff); `enforce`:
//!   from nobody. A refused document answers `PERSISTED_QUERY_NOT_FOUND`, as does a manifest
//!   document bound to other roles (to the caller it does not exist).

use std::{
    collections::HashMap,
    num::NonZeroUsize,
    sync::{Arc, Mutex},
};

use async_graphql::Request;
use lru::LruCache;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::{
    config::{OpsConfig, TrustedMode},
    metrics::Metrics,
};
use crate::auth::{Caller, Role};

/// Where a request's `documentId` is kept between body parsing and resolution.
pub const DOCUMENT_ID: &str = "documentId";

/// One manifest entry.
#[derive(Debug)]
struct Trusted {
    body: String,
    /// Roles allowed to run it (`None` inside: anonymous); all when absent.
    roles: Option<Vec<Option<Role>>>,
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

/// The trusted-document store of one gateway.
pub struct Documents {
    mode: TrustedMode,
    by_id: HashMap<String, Arc<Trusted>>,
    by_hash: HashMap<String, Arc<Trusted>>,
    apq: Option<Mutex<LruCache<String, Arc<str>>>>,
}

/// The lower-case hex SHA-256 of a document's text.
pub fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

impl Documents {
    /// Loads the manifest (if any); a manifest that cannot be read or holds a document that
    /// does not parse stops start-up.
    pub fn from_config(config: &OpsConfig) -> Result<Self, String> {
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
        for (id, trusted) in entries {
            async_graphql::parser::parse_query(&trusted.body)
                .map_err(|e| format!("trusted document {id} does not parse: {e}"))?;
            let trusted = Arc::new(trusted);
            by_hash.insert(sha256_hex(&trusted.body), trusted.clone());
            by_id.insert(id, trusted);
        }
        let apq = NonZeroUsize::new(config.apq_cache_size).map(|n| Mutex::new(LruCache::new(n)));
        Ok(Self {
            mode: config.trusted_documents,
            by_id,
            by_hash,
            apq,
        })
    }

    /// Fills in the request's document from its id or hash, or refuses it.
    pub fn resolve(
        &self,
        request: &mut Request,
        caller: &Caller,
        metrics: &Metrics,
    ) -> Result<(), Refusal> {
        let free_allowed = match self.mode {
            TrustedMode::Off => true,
            TrustedMode::Allow => caller.role().is_some_and(|r| r != Role::Client),
            TrustedMode::Enforce => false,
        };
        let allowed = |doc: &Trusted| {
            doc.roles
                .as_ref()
                .is_none_or(|roles| roles.contains(&caller.role()))
        };
        let id = request.extensions.get(DOCUMENT_ID).and_then(|v| match v {
            async_graphql::Value::String(s) => Some(s.clone()),
            _ => None,
        });
        if let Some(id) = id {
            let doc = self.by_id.get(&id).or_else(|| self.by_hash.get(&id));
            return match doc.filter(|d| allowed(d)) {
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
            let Some(hash) = hash else {
                return Ok(()); // no document at all: the schema says so
            };
            if let Some(doc) = self.by_hash.get(&hash).filter(|d| allowed(d)) {
                metrics.persisted("manifest", "hit");
                request.query = doc.body.clone();
                return Ok(());
            }
            let Some(apq) = &self.apq else {
                return Err(Refusal::NotSupported);
            };
            let remembered = apq.lock().ok().and_then(|mut c| c.get(&hash).cloned());
            return match remembered.filter(|_| free_allowed) {
                Some(text) => {
                    metrics.persisted("apq", "hit");
                    request.query = text.to_string();
                    Ok(())
                }
                None => {
                    metrics.persisted("apq", "miss");
                    Err(Refusal::NotFound)
                }
            };
        }
        let actual = sha256_hex(&request.query);
        if hash.as_ref().is_some_and(|h| *h != actual) {
            return Err(Refusal::HashMismatch);
        }
        if self.by_hash.get(&actual).is_some_and(|d| allowed(d)) {
            return Ok(()); // the full text of a trusted document
        }
        if !free_allowed {
            metrics.persisted("manifest", "refused");
            return Err(Refusal::NotFound);
        }
        if let (Some(hash), Some(apq)) = (hash, &self.apq)
            && let Ok(mut cache) = apq.lock()
        {
            cache.put(hash, Arc::from(request.query.as_str()));
            metrics.persisted("apq", "registered");
        }
        Ok(())
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
    })
}
