//! Bearer tokens: verifying them into a [`Viewer`] and minting HS256 ones for development.
//!
//! The accepted algorithm comes from configuration, never from the token header, so `alg: none`
//! and HS/RS key confusion cannot work. Error messages say what is wrong without echoing the
//! token or any key material.

use std::{
    collections::HashMap,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use jsonwebtoken::{
    Algorithm, DecodingKey, EncodingKey, Header, Validation, errors::ErrorKind, jwk::JwkSet,
};
use serde_json::{Map, Value, json};

use super::{Role, Viewer};
use crate::config::{Config, JwtAlgorithm};

/// Why a bearer token was refused: a message safe to show to the caller, and its class.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct AuthError(pub String, pub Rejection);

/// The class of a refused token, a closed set (it labels the rejected-token metric).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    /// `exp` has passed.
    Expired,
    /// `nbf` lies in the future.
    NotYetValid,
    /// The signature does not verify, or the key is unknown.
    Signature,
    /// Not signed with the configured algorithm.
    Algorithm,
    /// Issuer or audience not accepted.
    IssuerOrAudience,
    /// A required claim is missing or has the wrong type.
    Claims,
    /// Not a bearer token, or not a JWT at all.
    Malformed,
    /// The header lists critical extensions (`crit`), none of which the gateway implements.
    Critical,
    /// The subject names no customer, or one of the wrong kind for the role.
    UnknownSubject,
}

impl Rejection {
    /// The metric label.
    pub fn label(self) -> &'static str {
        match self {
            Rejection::Expired => "expired",
            Rejection::NotYetValid => "not_yet_valid",
            Rejection::Signature => "signature",
            Rejection::Algorithm => "algorithm",
            Rejection::IssuerOrAudience => "issuer_or_audience",
            Rejection::Claims => "claims",
            Rejection::Malformed => "malformed",
            Rejection::Critical => "critical_extension",
            Rejection::UnknownSubject => "unknown_subject",
        }
    }
}

fn reject(message: &str) -> AuthError {
    AuthError(message.to_owned(), Rejection::Claims)
}

fn reject_as(rejection: Rejection, message: &str) -> AuthError {
    AuthError(message.to_owned(), rejection)
}

/// A key configuration the gateway could not use at start-up.
#[derive(Debug, thiserror::Error)]
#[error("JWT configuration: {0}")]
pub struct KeyConfigError(String);

impl KeyConfigError {
    /// A configuration error saying `message`.
    pub fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}

/// The one rule for HS256 secrets, for the server and the `token` command alike: at least 32
/// bytes (RFC 7518 §3.2: a key as long as the hash output).
pub fn check_hmac_secret(secret: &str) -> Result<(), KeyConfigError> {
    if secret.len() < 32 {
        return Err(KeyConfigError::new("JWT_SECRET must be at least 32 bytes"));
    }
    Ok(())
}

enum Keys {
    Single(DecodingKey),
    /// Keys from a JWKS file, by `kid`.
    Set(HashMap<String, DecodingKey>),
}

/// Verifies bearer tokens against the configured key, algorithm and claims.
pub struct TokenVerifier {
    keys: Keys,
    validation: Validation,
    claims_namespace: Option<String>,
}

impl std::fmt::Debug for TokenVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenVerifier")
            .field("algorithms", &self.validation.algorithms)
            .finish_non_exhaustive()
    }
}

fn algorithm(alg: JwtAlgorithm) -> Algorithm {
    match alg {
        JwtAlgorithm::Hs256 => Algorithm::HS256,
        JwtAlgorithm::Rs256 => Algorithm::RS256,
        JwtAlgorithm::Es256 => Algorithm::ES256,
    }
}

impl TokenVerifier {
    /// Builds the verifier from configuration; `dev_secret` is used when no key is configured.
    pub fn from_config(config: &Config, dev_secret: Option<&str>) -> Result<Self, KeyConfigError> {
        let err = |m: String| KeyConfigError(m);
        let (alg, keys) = match (
            config.jwt_secret.as_deref(),
            &config.jwt_public_key_file,
            dev_secret,
        ) {
            (Some(_), Some(_), _) => {
                return Err(err("set JWT_SECRET or JWT_PUBLIC_KEY_FILE, not both".into()));
            }
            (Some(secret), None, _) | (None, None, Some(secret)) => {
                let alg = config.jwt_algorithm.unwrap_or(JwtAlgorithm::Hs256);
                if alg != JwtAlgorithm::Hs256 {
                    return Err(err("JWT_SECRET only works with JWT_ALGORITHM=HS256".into()));
                }
                check_hmac_secret(secret)?;
                (
                    alg,
                    Keys::Single(DecodingKey::from_secret(secret.as_bytes())),
                )
            }
            (None, Some(path), _) => {
                let alg = config.jwt_algorithm.unwrap_or(JwtAlgorithm::Rs256);
                let text = std::fs::read(path)
                    .map_err(|e| err(format!("cannot read {}: {e}", path.display())))?;
                (alg, Self::public_keys(alg, &text)?)
            }
            (None, None, None) => return Err(err("no signing key configured".into())),
        };
        let mut validation = Validation::new(algorithm(alg));
        validation.leeway = config.jwt_leeway_secs;
        validation.validate_nbf = true;
        // A configured issuer or audience must be present, not merely correct when present.
        let mut required = vec!["exp", "sub"];
        match &config.jwt_audience {
            Some(aud) => {
                validation.set_audience(&[aud]);
                required.push("aud");
            }
            None => validation.validate_aud = false,
        }
        if let Some(iss) = &config.jwt_issuer {
            validation.set_issuer(&[iss]);
            required.push("iss");
        }
        validation.set_required_spec_claims(&required);
        Ok(Self {
            keys,
            validation,
            claims_namespace: config.jwt_claims_namespace.clone(),
        })
    }

    /// A PEM public key, or a JWKS document (`{"keys": [...]}`) keyed by `kid`.
    fn public_keys(alg: JwtAlgorithm, text: &[u8]) -> Result<Keys, KeyConfigError> {
        if let Ok(set) = serde_json::from_slice::<JwkSet>(text) {
            let mut keys = HashMap::new();
            for jwk in &set.keys {
                let kid = jwk.common.key_id.clone().unwrap_or_default();
                let key = DecodingKey::from_jwk(jwk)
                    .map_err(|e| KeyConfigError(format!("unusable JWK '{kid}': {e}")))?;
                keys.insert(kid, key);
            }
            if keys.is_empty() {
                return Err(KeyConfigError("the JWKS file holds no keys".into()));
            }
            return Ok(Keys::Set(keys));
        }
        let key = match alg {
            JwtAlgorithm::Rs256 => DecodingKey::from_rsa_pem(text),
            JwtAlgorithm::Es256 => DecodingKey::from_ec_pem(text),
            JwtAlgorithm::Hs256 => {
                return Err(KeyConfigError(
                    "HS256 needs JWT_SECRET, not a public key file".into(),
                ));
            }
        }
        .map_err(|e| KeyConfigError(format!("the public key is not a valid PEM key: {e}")))?;
        Ok(Keys::Single(key))
    }

    /// The clock leeway granted on `exp` and `nbf`, in seconds.
    pub fn leeway_secs(&self) -> u64 {
        self.validation.leeway
    }

    /// Verifies the value of an `Authorization` header.
    pub fn verify_header(&self, header: &str) -> Result<Viewer, AuthError> {
        let (scheme, token) = header.trim().split_once(' ').unwrap_or((header, ""));
        if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
            return Err(reject_as(
                Rejection::Malformed,
                "the Authorization header must be 'Bearer <token>'",
            ));
        }
        self.verify(token.trim())
    }

    /// Verifies a compact JWT and turns its claims into a [`Viewer`].
    pub fn verify(&self, token: &str) -> Result<Viewer, AuthError> {
        let header = jsonwebtoken::decode_header(token)
            .map_err(|_| reject_as(Rejection::Malformed, "the token is malformed"))?;
        // RFC 7515 §4.1.11: a recipient MUST reject a token whose `crit` names an extension it
        // does not implement — and the gateway implements none.
        if header.crit.is_some() {
            return Err(reject_as(
                Rejection::Critical,
                "the token's header lists critical extensions (crit) the gateway does not implement",
            ));
        }
        let key = match &self.keys {
            Keys::Single(key) => key,
            Keys::Set(keys) => {
                let kid = header.kid.unwrap_or_default();
                match keys.get(&kid) {
                    Some(key) => key,
                    None if keys.len() == 1 && kid.is_empty() => {
                        keys.values().next().ok_or_else(|| reject("no key"))?
                    }
                    None => {
                        return Err(reject_as(
                            Rejection::Signature,
                            "the token's key id (kid) is not known",
                        ));
                    }
                }
            }
        };
        let data = jsonwebtoken::decode::<Map<String, Value>>(token, key, &self.validation)
            .map_err(|e| describe(e.kind()))?;
        // RFC 7519 §4.1.1: `iss` is a string. jsonwebtoken also accepts an array holding the
        // configured issuer among others; such a token names issuers we do not trust.
        if self.validation.iss.is_some()
            && !matches!(data.claims.get("iss"), Some(Value::String(_)))
        {
            return Err(reject_as(
                Rejection::IssuerOrAudience,
                "the token's issuer is not accepted",
            ));
        }
        self.viewer_from_claims(&data.claims)
    }

    fn viewer_from_claims(&self, claims: &Map<String, Value>) -> Result<Viewer, AuthError> {
        let scoped = match &self.claims_namespace {
            None => claims,
            Some(ns) => claims
                .get(ns)
                .and_then(Value::as_object)
                .ok_or_else(|| reject("the token lacks the configured claims namespace"))?,
        };
        let role = match scoped.get("role") {
            None => return Err(reject("the token has no role claim")),
            Some(Value::String(role)) => role
                .parse::<Role>()
                .map_err(|_| reject("the token's role is not one of employee, manager, client"))?,
            Some(_) => return Err(reject("the token's role claim must be a string")),
        };
        // The customer id is `sub`, unless a configured namespace carries a `customer_id` (identity
        // providers often own `sub` themselves). A top-level `customer_id` is never read: where
        // the identity comes from is configuration, not the token's choice.
        let namespaced = self
            .claims_namespace
            .as_ref()
            .and_then(|_| scoped.get("customer_id"));
        let customer_id = match namespaced {
            Some(id) => id_from(id),
            None => claims.get("sub").and_then(id_from),
        }
        .ok_or_else(|| reject("the token's subject must be a customer id (a positive integer)"))?;
        let expires_at = claims
            .get("exp")
            .and_then(Value::as_i64)
            .ok_or_else(|| reject("the token's exp claim must be a number"))?;
        Ok(Viewer {
            role,
            customer_id,
            expires_at,
        })
    }
}

fn id_from(value: &Value) -> Option<i32> {
    let id = match value {
        Value::String(s) => s.parse::<i32>().ok(),
        Value::Number(n) => n.as_i64().and_then(|n| i32::try_from(n).ok()),
        _ => None,
    }?;
    (id > 0).then_some(id)
}

fn describe(kind: &ErrorKind) -> AuthError {
    use Rejection::*;
    let (rejection, message) = match kind {
        ErrorKind::ExpiredSignature => (Expired, "the token has expired"),
        ErrorKind::ImmatureSignature => (NotYetValid, "the token is not valid yet (nbf)"),
        ErrorKind::InvalidSignature => (Signature, "the token's signature does not verify"),
        ErrorKind::InvalidAlgorithm | ErrorKind::MissingAlgorithm => (
            Algorithm,
            "the token is not signed with the accepted algorithm",
        ),
        ErrorKind::InvalidIssuer => (IssuerOrAudience, "the token's issuer is not accepted"),
        ErrorKind::InvalidAudience => (IssuerOrAudience, "the token's audience is not accepted"),
        ErrorKind::MissingRequiredClaim(claim) if claim == "exp" => {
            (Claims, "the token has no exp claim")
        }
        ErrorKind::MissingRequiredClaim(claim) if claim == "sub" => {
            (Claims, "the token has no sub claim")
        }
        ErrorKind::MissingRequiredClaim(claim) if claim == "aud" => {
            (IssuerOrAudience, "the token has no audience (aud)")
        }
        ErrorKind::MissingRequiredClaim(claim) if claim == "iss" => {
            (IssuerOrAudience, "the token has no issuer (iss)")
        }
        ErrorKind::MissingRequiredClaim(_) => (Claims, "the token lacks a required claim"),
        ErrorKind::InvalidClaimFormat(_) => (Claims, "a claim of the token has the wrong type"),
        _ => (Malformed, "the token is malformed"),
    };
    reject_as(rejection, message)
}

/// Signs HS256 tokens: dev-mode demo tokens and the `token` command.
pub struct TokenIssuer {
    key: EncodingKey,
    issuer: Option<String>,
    audience: Option<String>,
    claims_namespace: Option<String>,
}

impl TokenIssuer {
    /// An issuer for the given secret, stamping the configured `iss`, `aud` and claim namespace.
    pub fn new(secret: &str, config: &Config) -> Self {
        Self {
            key: EncodingKey::from_secret(secret.as_bytes()),
            issuer: config.jwt_issuer.clone(),
            audience: config.jwt_audience.clone(),
            claims_namespace: config.jwt_claims_namespace.clone(),
        }
    }

    /// Mints a token for `customer_id` with `role`, valid for `ttl`.
    pub fn mint(&self, role: Role, customer_id: i32, ttl: Duration) -> Result<String, AuthError> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_err(|_| reject("system clock before 1970"))?
            .as_secs();
        let mut claims = json!({
            "sub": customer_id.to_string(),
            "iat": now,
            "exp": now.saturating_add(ttl.as_secs()),
        });
        if let Value::Object(map) = &mut claims {
            match &self.claims_namespace {
                Some(ns) => {
                    map.insert(ns.clone(), json!({ "role": role.as_claim() }));
                }
                None => {
                    map.insert("role".into(), json!(role.as_claim()));
                }
            }
            if let Some(iss) = &self.issuer {
                map.insert("iss".into(), json!(iss));
            }
            if let Some(aud) = &self.audience {
                map.insert("aud".into(), json!(aud));
            }
        }
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.key)
            .map_err(|e| AuthError(format!("cannot sign token: {e}"), Rejection::Malformed))
    }
}
