//! Whose token it is: the customer id comes from where configuration says (never from a claim
//! the token adds), a header naming critical extensions is refused, and a subject that names no
//! customer of the kind its role needs is refused with 401 on every transport — never a 5xx.

use axum::{
    body::Body,
    http::{Request, StatusCode},
};
use crm_gateway::auth::Role;
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use serde_json::{Value, json};

use crate::{helpers::*, live};

const VIEWER: &str = "{ viewer { role customerId } }";

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn sign(header: &Header, claims: Value) -> String {
    encode(
        header,
        &claims,
        &EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .unwrap()
}

async fn assert_unauthenticated(app: &TestApp, token: &str) {
    let (status, body) = app.post(json!({"query": VIEWER}), Some(token)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(first_code(&body), "UNAUTHENTICATED", "{body}");
    assert!(body.get("data").is_none(), "{body}");
}

both_backends! {
    async fn a_top_level_customer_id_never_overrides_the_subject(backend) {
        let app = TestApp::seeded(backend).await;
        let (me, other) = (app.ids().client, app.ids().client + 1);
        let token = sign(&Header::new(Algorithm::HS256), json!({
            "sub": me.to_string(), "customer_id": other, "role": "client", "exp": now() + 600,
        }));
        let data = app.data(VIEWER, Some(&token)).await;
        assert_eq!(data["viewer"]["customerId"], me.to_string());
        // With a namespace configured, its customer_id is the identity, and a top-level one is
        // still ignored.
        let ns = "https://crm.example/claims";
        let app = TestApp::seeded_with(backend, |c| c.jwt_claims_namespace = Some(ns.into())).await;
        let token = sign(&Header::new(Algorithm::HS256), json!({
            "sub": "idp|abc", "customer_id": other, "exp": now() + 600,
            ns: {"role": "client", "customer_id": me},
        }));
        let data = app.data(VIEWER, Some(&token)).await;
        assert_eq!(data["viewer"]["customerId"], me.to_string());
    }

    async fn headers_with_critical_extensions_are_refused(backend) {
        let app = TestApp::seeded(backend).await;
        let claims = json!({"sub": app.ids().client.to_string(), "role": "client", "exp": now() + 600});
        for crit in [vec!["exp"], vec!["http://example.com/unknown-extension"]] {
            let mut header = Header::new(Algorithm::HS256);
            header.crit = Some(crit.into_iter().map(String::from).collect());
            let token = sign(&header, claims.clone());
            assert_unauthenticated(&app, &token).await;
            let (status, body) = app.post(json!({"query": VIEWER}), Some(&token)).await;
            assert!(first_message(&body).contains("crit"), "{status} {body}");
        }
        // The same claims without `crit` are fine.
        app.data(VIEWER, Some(&sign(&Header::new(Algorithm::HS256), claims))).await;
    }

    async fn subjects_that_name_no_fitting_customer_are_refused_everywhere(backend) {
        let app = TestApp::seeded(backend).await;
        let ids = app.ids();
        let strangers = [
            app.token(Role::Employee, 999_999),
            app.token(Role::Client, 999_999),
            // A client token for an employee's record, and the other way round.
            app.token(Role::Client, ids.employee),
            app.token(Role::Employee, ids.client),
            app.token(Role::Manager, ids.client),
        ];
        for token in &strangers {
            assert_unauthenticated(&app, token).await;
            // A write that used to reach the database and fail on a foreign key.
            let (status, body) = app
                .post(json!({"query": "mutation { addInternalNote(interactionId: \"1\", body: \"x\") { id } }"}), Some(token))
                .await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
            assert_eq!(first_code(&body), "UNAUTHENTICATED");
            // GET.
            let request = Request::get("/graphql?query=%7Bviewer%7Brole%7D%7D")
                .header("authorization", format!("Bearer {token}"))
                .body(Body::empty())
                .unwrap();
            let (status, _, body) = app.send(request).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
        }
        // WebSocket: connection_init is refused with 4403.
        let addr = app.serve().await;
        let (_, reply) = live::connect(addr, Some(&strangers[0])).await;
        assert_eq!(reply["code"], 4403, "{reply}");
        // The real identities still work.
        for token in [app.client(), app.employee(), app.manager()] {
            app.data(VIEWER, Some(&token)).await;
        }
    }
}
