//! Identity: every kind of bad token is refused with 401 and `UNAUTHENTICATED`, never
//! downgraded to anonymous; good tokens of every supported algorithm and claim layout work.

use axum::http::StatusCode;
use crm_gateway::{auth::Role, config::JwtAlgorithm};
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use serde_json::{Value, json};

use crate::helpers::*;

const VIEWER: &str = "{ viewer { role customerId } }";

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn hs256(claims: Value, secret: &str) -> String {
    encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

fn keys_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/api/keys")
}

fn pem(name: &str) -> Vec<u8> {
    std::fs::read(keys_dir().join(name)).unwrap()
}

/// Asserts a 401 with code UNAUTHENTICATED, no data, and a message containing `hint`.
async fn assert_rejected(app: &TestApp, token: &str, hint: &str) {
    let (status, body) = app.post(json!({ "query": VIEWER }), Some(token)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "body: {body}");
    assert_eq!(first_code(&body), "UNAUTHENTICATED");
    assert!(
        body.get("data").is_none(),
        "no data on a rejected token: {body}"
    );
    let message = first_message(&body);
    assert!(
        message.contains(hint),
        "message {message:?} should mention {hint:?}"
    );
    assert!(
        token.is_empty() || !message.contains(token),
        "the token must not be echoed"
    );
}

both_backends! {
    async fn each_role_is_recognised_from_a_valid_token(backend) {
        let app = TestApp::seeded(backend).await;
        for (role, name, id) in [
            (Role::Client, "CLIENT", app.ids().client),
            (Role::Employee, "EMPLOYEE", app.ids().employee),
            (Role::Manager, "MANAGER", app.ids().manager),
        ] {
            let data = app.data(VIEWER, Some(&app.token(role, id))).await;
            assert_eq!(data["viewer"]["role"], name);
            assert_eq!(data["viewer"]["customerId"], id.to_string());
        }
    }

    async fn no_token_is_anonymous_and_sees_only_the_catalogue(backend) {
        let app = TestApp::seeded(backend).await;
        let data = app.data("{ viewer { role } products { totalCount } }", None).await;
        assert_eq!(data["viewer"], Value::Null);
        assert!(data["products"]["totalCount"].as_i64().unwrap() > 0);
        let body = app.gql("{ customers { totalCount } }", None).await;
        assert_eq!(first_code(&body), "UNAUTHENTICATED");
    }

    async fn hostile_and_broken_tokens_are_refused(backend) {
        let app = TestApp::seeded(backend).await;
        let id = app.ids().client.to_string();
        let exp = now() + 600;
        let cases: Vec<(String, &str)> = vec![
            (hs256(json!({"sub": id, "role": "client", "exp": now() - 3600}), SECRET), "expired"),
            (hs256(json!({"sub": id, "role": "client", "exp": exp, "nbf": now() + 3600}), SECRET), "not valid yet"),
            (hs256(json!({"sub": id, "role": "client", "exp": exp}), "another-secret-of-sufficient-length-000"), "signature"),
            (hs256(json!({"role": "client", "exp": exp}), SECRET), "sub"),
            (hs256(json!({"sub": id, "exp": exp}), SECRET), "role"),
            (hs256(json!({"sub": id, "role": "admin", "exp": exp}), SECRET), "role"),
            (hs256(json!({"sub": id, "role": "CLIENT", "exp": exp}), SECRET), "role"),
            (hs256(json!({"sub": id, "role": ["client"], "exp": exp}), SECRET), "role"),
            (hs256(json!({"sub": id, "role": "client"}), SECRET), "exp"),
            (hs256(json!({"sub": "olivia", "role": "client", "exp": exp}), SECRET), "customer id"),
            (hs256(json!({"sub": "-4", "role": "client", "exp": exp}), SECRET), "customer id"),
            ("not.a.jwt".to_owned(), "malformed"),
            ("".to_owned(), "Bearer"),
        ];
        for (token, hint) in &cases {
            assert_rejected(&app, token, hint).await;
        }
    }

    async fn unsigned_alg_none_tokens_are_refused(backend) {
        let app = TestApp::seeded(backend).await;
        use base64::Engine;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let header = b64.encode(br#"{"alg":"none","typ":"JWT"}"#);
        let claims = b64.encode(
            json!({"sub": app.ids().manager.to_string(), "role": "manager", "exp": now() + 600})
                .to_string(),
        );
        for token in [format!("{header}.{claims}."), format!("{header}.{claims}")] {
            assert_rejected(&app, &token, "").await;
        }
    }

    async fn tampered_claims_break_the_signature(backend) {
        let app = TestApp::seeded(backend).await;
        use base64::Engine;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let token = app.client();
        let parts: Vec<&str> = token.split('.').collect();
        let forged = b64.encode(
            json!({"sub": app.ids().client.to_string(), "role": "manager", "exp": now() + 600})
                .to_string(),
        );
        assert_rejected(&app, &format!("{}.{}.{}", parts[0], forged, parts[2]), "signature").await;
    }

    async fn a_non_bearer_authorization_header_is_refused(backend) {
        let app = TestApp::seeded(backend).await;
        let request = axum::http::Request::post("/graphql")
            .header("content-type", "application/json")
            .header("authorization", format!("Basic {}", app.client()))
            .body(axum::body::Body::from(json!({"query": VIEWER}).to_string()))
            .unwrap();
        let (status, headers, body) = app.send(request).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(first_code(&body), "UNAUTHENTICATED");
        assert!(headers.get("www-authenticate").is_some());
    }

    async fn issuer_and_audience_are_enforced_when_configured(backend) {
        let app = TestApp::seeded_with(backend, |c| {
            c.jwt_issuer = Some("https://id.example".into());
            c.jwt_audience = Some("crm-gateway".into());
        })
        .await;
        let id = app.ids().employee.to_string();
        let good = json!({"sub": id, "role": "employee", "exp": now() + 600,
                          "iss": "https://id.example", "aud": "crm-gateway"});
        app.data(VIEWER, Some(&hs256(good.clone(), SECRET))).await;
        let mut wrong_iss = good.clone();
        wrong_iss["iss"] = json!("https://evil.example");
        assert_rejected(&app, &hs256(wrong_iss, SECRET), "issuer").await;
        let mut wrong_aud = good.clone();
        wrong_aud["aud"] = json!("someone-else");
        assert_rejected(&app, &hs256(wrong_aud, SECRET), "audience").await;
        // RFC 7519: `iss` is a string; an array naming the trusted issuer among others is not.
        let mut listed_iss = good.clone();
        listed_iss["iss"] = json!(["https://evil.example", "https://id.example"]);
        assert_rejected(&app, &hs256(listed_iss, SECRET), "issuer").await;
        let mut only_listed = good.clone();
        only_listed["iss"] = json!(["https://id.example"]);
        assert_rejected(&app, &hs256(only_listed, SECRET), "issuer").await;
        let mut no_aud = good;
        no_aud.as_object_mut().unwrap().remove("aud");
        assert_rejected(&app, &hs256(no_aud, SECRET), "audience").await;
    }

    async fn clock_leeway_is_configurable(backend) {
        let strict = TestApp::seeded_with(backend, |c| c.jwt_leeway_secs = 0).await;
        let just_expired = hs256(
            json!({"sub": strict.ids().client.to_string(), "role": "client", "exp": now() - 10}),
            SECRET,
        );
        assert_rejected(&strict, &just_expired, "expired").await;
        let lenient = TestApp::seeded_with(backend, |c| c.jwt_leeway_secs = 60).await;
        lenient.data(VIEWER, Some(&just_expired)).await;
    }

    async fn namespaced_claims_are_read_from_the_configured_object(backend) {
        let ns = "https://crm.example/claims";
        let app = TestApp::seeded_with(backend, |c| c.jwt_claims_namespace = Some(ns.into())).await;
        let id = app.ids().manager;
        let token = hs256(json!({"sub": "auth0|abc", "exp": now() + 600,
                                 ns: {"role": "manager", "customer_id": id}}), SECRET);
        let data = app.data(VIEWER, Some(&token)).await;
        assert_eq!(data["viewer"]["role"], "MANAGER");
        assert_eq!(data["viewer"]["customerId"], id.to_string());
        // A top-level role is not where this deployment keeps it.
        let top_level = hs256(json!({"sub": id.to_string(), "role": "manager", "exp": now() + 600}), SECRET);
        assert_rejected(&app, &top_level, "namespace").await;
        // Minted tokens follow the namespace too.
        app.data(VIEWER, Some(&app.manager())).await;
    }

    async fn rs256_public_keys_verify_and_hmac_key_confusion_fails(backend) {
        let app = TestApp::seeded_with(backend, |c| {
            c.jwt_secret = None;
            c.jwt_public_key_file = Some(keys_dir().join("rsa_public.pem"));
            // Public-key tokens leave no secret to derive the cursor key from.
            c.cursor_key = Some("00".repeat(32));
            c.jwt_algorithm = Some(JwtAlgorithm::Rs256);
        })
        .await;
        let claims = json!({"sub": app.ids().employee.to_string(), "role": "employee", "exp": now() + 600});
        let good = encode(
            &Header::new(Algorithm::RS256),
            &claims,
            &EncodingKey::from_rsa_pem(&pem("rsa_private.pem")).unwrap(),
        )
        .unwrap();
        assert_eq!(app.data(VIEWER, Some(&good)).await["viewer"]["role"], "EMPLOYEE");
        // The classic confusion attack: HS256 keyed with the server's public key.
        let public = String::from_utf8(pem("rsa_public.pem")).unwrap();
        assert_rejected(&app, &hs256(claims.clone(), &public), "algorithm").await;
        // And a token signed with the shared test secret is worthless here.
        assert_rejected(&app, &hs256(claims, SECRET), "algorithm").await;
    }

    async fn es256_public_keys_verify(backend) {
        let app = TestApp::seeded_with(backend, |c| {
            c.jwt_secret = None;
            c.jwt_public_key_file = Some(keys_dir().join("ec_public.pem"));
            // Public-key tokens leave no secret to derive the cursor key from.
            c.cursor_key = Some("00".repeat(32));
            c.jwt_algorithm = Some(JwtAlgorithm::Es256);
        })
        .await;
        let claims = json!({"sub": app.ids().client.to_string(), "role": "client", "exp": now() + 600});
        let good = encode(
            &Header::new(Algorithm::ES256),
            &claims,
            &EncodingKey::from_ec_pem(&pem("ec_private.pem")).unwrap(),
        )
        .unwrap();
        assert_eq!(app.data(VIEWER, Some(&good)).await["viewer"]["role"], "CLIENT");
        let rs = encode(
            &Header::new(Algorithm::RS256),
            &claims,
            &EncodingKey::from_rsa_pem(&pem("rsa_private.pem")).unwrap(),
        )
        .unwrap();
        assert_rejected(&app, &rs, "algorithm").await;
    }
}

#[test]
fn a_short_hmac_secret_is_refused_at_start() {
    let mut config = crm_gateway::config::Config::with_database("sqlite::memory:");
    config.jwt_secret = Some("short".into());
    assert!(crm_gateway::auth::TokenVerifier::from_config(&config, None).is_err());
}

both_backends! {
    async fn a_jwks_file_selects_the_key_by_kid(backend) {
        let app = TestApp::seeded_with(backend, |c| {
            c.jwt_secret = None;
            c.jwt_public_key_file = Some(keys_dir().join("jwks.json"));
            // Public-key tokens leave no secret to derive the cursor key from.
            c.cursor_key = Some("00".repeat(32));
            c.jwt_algorithm = Some(JwtAlgorithm::Rs256);
        })
        .await;
        let claims = json!({"sub": app.ids().manager.to_string(), "role": "manager", "exp": now() + 600});
        let key = EncodingKey::from_rsa_pem(&pem("rsa_private.pem")).unwrap();
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some("test-key-1".into());
        let good = encode(&header, &claims, &key).unwrap();
        assert_eq!(app.data(VIEWER, Some(&good)).await["viewer"]["role"], "MANAGER");
        header.kid = Some("rotated-away".into());
        assert_rejected(&app, &encode(&header, &claims, &key).unwrap(), "kid").await;
    }
}
