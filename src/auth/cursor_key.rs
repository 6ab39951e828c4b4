//! The key that seals pagination cursors. A cursor names a row's place in a list by its sort
//! value — for `orderBy: {field: LIFETIME_VALUE}` a customer's lifetime value — so it leaves the
//! gateway encrypted and authenticated (XChaCha20-Poly1305): a caller reads nothing out of it and
//! cannot forge one. Every replica behind a load balancer must open the others' cursors, so the
//! key comes from configuration: `CURSOR_KEY`, else derived from the HS256 `JWT_SECRET` (or dev
//! mode's signing secret) with HKDF-SHA-256. With a public-key algorithm there is no shared
//! secret to derive from, and a per-process random key would break paging between replicas
//! without a word, so start-up refuses instead.
//!
//! A sealed cursor is URL-safe base64 (no padding) of `version || nonce || ciphertext`. The nonce
//! is synthetic: an HMAC of the plaintext under a subkey of its own (the SIV construction), so
//! the same row of the same list always gets the same cursor — Relay and Apollo clients match
//! `pageInfo.endCursor` against the edges' cursors, and tests check that an internal write changes
//! no cursor a client sees — while two different plaintexts never share a nonce (a random nonce
//! would differ on every read; a counter cannot be shared by replicas). Equal cursors reveal only
//! that they name the same row of the same list and ordering, which the caller already knows.

use std::sync::Arc;

use base64::{
    Engine,
    engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD},
};
use chacha20poly1305::{
    KeyInit, XChaCha20Poly1305, XNonce,
    aead::{Aead, Payload},
};
use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::config::Config;

/// The format of sealed cursors; also their associated data, so a future format cannot be
/// passed off as this one.
const VERSION: u8 = 1;
const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;
/// Longest cursor text [`CursorKey::open`] looks at (about 730 bytes of plaintext); longer input
/// is refused before it is decoded.
pub const MAX_CURSOR_LEN: usize = 1024;
/// HKDF's `info` when the key is derived from the JWT signing secret: the same secret signs
/// tokens, so the cursor key must be a different, independent value.
const DERIVED_INFO: &[u8] = b"crm-gateway cursor key v1";

const MALFORMED: &str = "CURSOR_KEY must be 32 random bytes, written as 64 hexadecimal digits \
                         or in base64 (e.g. `openssl rand -hex 32`)";
const NEEDED: &str = "CURSOR_KEY is required with JWT_PUBLIC_KEY_FILE (RS256/ES256): cursors are \
                      sealed with a key every replica shares, and a public key is no secret to \
                      derive one from; set CURSOR_KEY to 32 random bytes (64 hex digits) on every \
                      replica";
const NOTHING: &str = "CURSOR_KEY: no key configured to seal cursors with (set CURSOR_KEY or \
                       JWT_SECRET)";

/// A cursor key the gateway could not use at start-up; its message names `CURSOR_KEY` and never
/// repeats the value.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct CursorKeyError(&'static str);

/// Seals and opens cursors; cheap to clone (one per selected edge cursor).
#[derive(Clone)]
pub struct CursorKey(Arc<Subkeys>);

struct Subkeys {
    cipher: XChaCha20Poly1305,
    nonce: Hmac<Sha256>,
}

impl std::fmt::Debug for CursorKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CursorKey(<redacted>)")
    }
}

impl CursorKey {
    /// The key the configuration asks for: `CURSOR_KEY`, else derived from `JWT_SECRET` or, in
    /// dev mode, from `dev_secret`. Refused when malformed, or when tokens use a public key and
    /// `CURSOR_KEY` is unset.
    pub fn from_config(config: &Config, dev_secret: Option<&str>) -> Result<Self, CursorKeyError> {
        match (
            config.cursor_key.as_deref(),
            config.jwt_secret.as_deref(),
            &config.jwt_public_key_file,
            dev_secret,
        ) {
            (Some(text), ..) => Ok(Self::from_bytes(parse(text)?)),
            (None, Some(secret), ..) => Ok(Self::derived_from(secret)),
            (None, None, Some(_), _) => Err(CursorKeyError(NEEDED)),
            (None, None, None, Some(secret)) => Ok(Self::derived_from(secret)),
            (None, None, None, None) => Err(CursorKeyError(NOTHING)),
        }
    }

    /// A key from a signing secret (HKDF-SHA-256 with its own `info`).
    fn derived_from(secret: &str) -> Self {
        let mut master = [0u8; 32];
        expand(
            &Hkdf::<Sha256>::new(None, secret.as_bytes()),
            DERIVED_INFO,
            &mut master,
        );
        Self::from_bytes(master)
    }

    /// A key from its 32 bytes: independent subkeys for the cipher and the synthetic nonces.
    pub fn from_bytes(master: [u8; 32]) -> Self {
        let hkdf = Hkdf::<Sha256>::new(None, &master);
        let (mut cipher, mut nonce) = ([0u8; 32], [0u8; 32]);
        expand(&hkdf, b"cursor encryption", &mut cipher);
        expand(&hkdf, b"cursor nonce", &mut nonce);
        Self(Arc::new(Subkeys {
            cipher: XChaCha20Poly1305::new(&cipher.into()),
            // HMAC takes a key of any length: this cannot fail.
            nonce: <Hmac<Sha256> as Mac>::new_from_slice(&nonce)
                .expect("HMAC accepts a 32-byte key"),
        }))
    }

    /// `plaintext` sealed into cursor text.
    pub fn seal(&self, plaintext: &[u8]) -> String {
        let mut mac = self.0.nonce.clone();
        mac.update(&[VERSION]);
        mac.update(plaintext);
        let digest = mac.finalize().into_bytes();
        let mut nonce = [0u8; NONCE_LEN];
        nonce.copy_from_slice(&digest[..NONCE_LEN]);
        let nonce = XNonce::from(nonce);
        let payload = Payload {
            msg: plaintext,
            aad: &[VERSION],
        };
        // Encryption fails only past 256 GiB of plaintext; a cursor holds a few dozen bytes. An
        // empty cursor would be refused like any other that is not ours.
        let Ok(sealed) = self.0.cipher.encrypt(&nonce, payload) else {
            return String::new();
        };
        let mut bytes = Vec::with_capacity(1 + NONCE_LEN + sealed.len());
        bytes.push(VERSION);
        bytes.extend_from_slice(&nonce);
        bytes.extend_from_slice(&sealed);
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// The plaintext of a cursor this key sealed; `None` for anything else (too long, not
    /// base64, too short, another version, altered, sealed by another key), all alike.
    pub fn open(&self, text: &str) -> Option<Vec<u8>> {
        if text.len() > MAX_CURSOR_LEN {
            return None;
        }
        let bytes = URL_SAFE_NO_PAD.decode(text).ok()?;
        let (&version, rest) = bytes.split_first()?;
        let (nonce, sealed) = rest.split_first_chunk::<NONCE_LEN>()?;
        if version != VERSION || sealed.len() < TAG_LEN {
            return None;
        }
        let payload = Payload {
            msg: sealed,
            aad: &[VERSION],
        };
        self.0.cipher.decrypt(&XNonce::from(*nonce), payload).ok()
    }
}

/// `CURSOR_KEY`'s 32 bytes: 64 hex digits, or base64 (standard or URL-safe, padded or not).
fn parse(text: &str) -> Result<[u8; 32], CursorKeyError> {
    let text = text.trim();
    let bytes = if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
        hex::decode(text).ok()
    } else {
        [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD]
            .iter()
            .find_map(|engine| engine.decode(text).ok())
    };
    bytes
        .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
        .ok_or(CursorKeyError(MALFORMED))
}

/// HKDF-expand into `out`; 32 bytes are far below HKDF-SHA-256's limit (8160), so this cannot fail.
fn expand(hkdf: &Hkdf<Sha256>, info: &[u8], out: &mut [u8; 32]) {
    hkdf.expand(info, out)
        .expect("32 bytes are within HKDF-SHA-256's output");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(edit: impl FnOnce(&mut Config)) -> Config {
        let mut config = Config::with_database("sqlite::memory:");
        edit(&mut config);
        config
    }

    #[test]
    fn a_sealed_cursor_opens_with_its_key_only_and_not_once_altered() {
        let key = CursorKey::from_bytes([7; 32]);
        let text = key.seal(br#"["lifetimeValue",624200,59]"#);
        assert!(!text.contains("624200") && !text.contains('='), "{text}");
        assert_eq!(
            key.open(&text).as_deref(),
            Some(&br#"["lifetimeValue",624200,59]"#[..])
        );
        assert_eq!(
            text,
            key.seal(br#"["lifetimeValue",624200,59]"#),
            "deterministic"
        );
        assert_ne!(text, key.seal(br#"["lifetimeValue",624201,59]"#));
        assert_eq!(CursorKey::from_bytes([8; 32]).open(&text), None);
        let mut bytes = URL_SAFE_NO_PAD.decode(&text).unwrap();
        for i in 0..bytes.len() {
            bytes[i] ^= 1;
            assert_eq!(key.open(&URL_SAFE_NO_PAD.encode(&bytes)), None, "byte {i}");
            bytes[i] ^= 1;
        }
        for garbage in ["", "zz", "AQ", &"A".repeat(MAX_CURSOR_LEN + 4), "6375"] {
            assert_eq!(key.open(garbage), None, "{garbage}");
        }
    }

    #[test]
    fn the_key_comes_from_cursor_key_or_an_hs256_secret_never_a_public_key() {
        let hex = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
        let secret = "a-secret-that-is-long-enough-for-hs256";
        let set = CursorKey::from_config(&config(|c| c.cursor_key = Some(hex.into())), None);
        let sealed = set.unwrap().seal(b"x");
        let base64 = STANDARD.encode(hex::decode(hex).unwrap());
        let same = CursorKey::from_config(&config(|c| c.cursor_key = Some(base64)), None);
        assert_eq!(same.unwrap().open(&sealed).as_deref(), Some(&b"x"[..]));

        let derived = CursorKey::from_config(&config(|c| c.jwt_secret = Some(secret.into())), None);
        let dev = CursorKey::from_config(&config(|_| {}), Some(secret));
        let sealed = derived.unwrap().seal(b"y");
        assert_eq!(dev.unwrap().open(&sealed).as_deref(), Some(&b"y"[..]));
        assert_eq!(
            CursorKey::from_bytes(hex::decode(hex).unwrap().try_into().unwrap()).open(&sealed),
            None
        );

        for bad in [
            "short",
            &hex[..62],
            &format!("{hex}00"),
            "not base64 at all!",
        ] {
            let refused =
                CursorKey::from_config(&config(|c| c.cursor_key = Some(bad.into())), None);
            let message = refused.unwrap_err().to_string();
            assert!(
                message.contains("CURSOR_KEY") && !message.contains(bad),
                "{message}"
            );
        }
        let public = config(|c| c.jwt_public_key_file = Some("key.pem".into()));
        let refused = CursorKey::from_config(&public, None)
            .unwrap_err()
            .to_string();
        assert!(refused.contains("CURSOR_KEY"), "{refused}");
    }
}
