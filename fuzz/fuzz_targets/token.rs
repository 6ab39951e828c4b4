//! Fuzz target: bearer-token decoding, as `Authorization` headers reach it. Two shapes of input:
//! raw header text (mode byte even), and claims signed with the configured key (mode byte odd),
//! so that the fuzzer reaches claim parsing and checking behind the signature — the part a
//! forger cannot reach but a holder of a real token shapes. Neither may panic; a verified token
//! must carry a role and a positive customer id.
#![no_main]

use std::sync::LazyLock;

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use crm_gateway::{auth::TokenVerifier, config::Config};
use jsonwebtoken::{Algorithm, EncodingKey, crypto};
use libfuzzer_sys::fuzz_target;

const SECRET: &str = "fuzzing-secret-fuzzing-secret-fuzzing-secret";

static VERIFIER: LazyLock<TokenVerifier> = LazyLock::new(|| {
    let mut config = Config::with_database("sqlite::memory:");
    config.jwt_secret = Some(SECRET.to_owned());
    config.jwt_issuer = Some("https://issuer.example".to_owned());
    config.jwt_audience = Some("crm-gateway".to_owned());
    TokenVerifier::from_config(&config, None).expect("a verifier")
});

fuzz_target!(|data: &[u8]| {
    let Some((mode, rest)) = data.split_first() else {
        return;
    };
    let verdict = if mode % 2 == 0 {
        let header = String::from_utf8_lossy(rest);
        VERIFIER.verify_header(&header)
    } else {
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
        let message = format!("{header}.{}", URL_SAFE_NO_PAD.encode(rest));
        let key = EncodingKey::from_secret(SECRET.as_bytes());
        let Ok(signature) = crypto::sign(message.as_bytes(), &key, Algorithm::HS256) else {
            return;
        };
        VERIFIER.verify(&format!("{message}.{signature}"))
    };
    if let Ok(viewer) = verdict {
        assert!(viewer.customer_id > 0, "verified a token for {viewer:?}");
    }
});
