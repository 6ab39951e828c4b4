//! A customer's own e-mail change: the answer never says whether an address is someone's; the
//! change applies only with the token the mail relay sent to the new address.

use crm_gateway::auth::Role;
use entity::{customer, email_change, enums::CustomerKind};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
use serde_json::Value;

use crate::helpers::*;

fn change_email(version: i64, email: &str) -> String {
    format!(
        r#"mutation {{ updateMyContact(input: {{expectedVersion: {version}, email: "{email}"}}) {{ id email phone version }} }}"#
    )
}

fn confirm(token: &str) -> String {
    format!(r#"mutation {{ confirmMyEmail(token: "{token}") {{ email version }} }}"#)
}

async fn own(app: &TestApp, token: &str) -> Value {
    app.data("{ viewer { customer { email version } } }", Some(token))
        .await["viewer"]["customer"]
        .clone()
}

/// An answer without its per-request id, to compare two answers.
fn answer(mut body: Value) -> String {
    if let Some(errors) = body["errors"].as_array_mut() {
        for error in errors {
            if let Some(extensions) = error["extensions"].as_object_mut() {
                extensions.remove("requestId");
            }
        }
    }
    body.to_string()
}

/// The caller's pending, unconfirmed changes, as the relay's outbox holds them.
async fn pending(app: &TestApp, id: i32) -> Vec<email_change::Model> {
    email_change::Entity::find()
        .filter(email_change::Column::CustomerId.eq(id))
        .filter(email_change::Column::ConfirmedAt.is_null())
        .all(&app.db)
        .await
        .unwrap()
}

/// Another outside customer than the demo client, with its token.
async fn other_client(app: &TestApp) -> (i32, String) {
    let other = customer::Entity::find()
        .filter(customer::Column::Kind.eq(CustomerKind::External))
        .filter(customer::Column::Id.ne(app.ids().client))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    (other.id, app.token(Role::Client, other.id))
}

both_backends! {
    async fn a_taken_address_and_a_free_one_get_the_same_answer(backend) {
        let app = TestApp::seeded(backend).await;
        let client = app.client();
        let before = own(&app, &client).await;
        let v = before["version"].as_i64().unwrap();
        let (other_id, _) = other_client(&app).await;
        let taken = customer::Entity::find_by_id(other_id).one(&app.db).await.unwrap().unwrap().email;

        let (taken_status, taken_body) = app.post(serde_json::json!({"query": change_email(v, &taken)}), Some(&client)).await;
        let outbox = pending(&app, app.ids().client).await;
        assert_eq!(outbox.len(), 1);
        assert!(outbox[0].address_in_use && outbox[0].outgoing_token.is_none(), "a notice, no token: {outbox:?}");

        let (free_status, free_body) = app.post(serde_json::json!({"query": change_email(v, "olivia.new@brightpaws.example")}), Some(&client)).await;
        assert_eq!(taken_status, free_status);
        assert_eq!(answer(taken_body.clone()), answer(free_body), "the answer must not depend on whose the address is");
        assert!(taken_body.get("errors").is_none(), "{taken_body}");
        // Nothing applied yet: the address and the version the client reads are as before.
        assert_eq!(own(&app, &client).await, before);
        let outbox = pending(&app, app.ids().client).await;
        assert_eq!(outbox.len(), 1, "a new request replaces the earlier one");
        assert!(!outbox[0].address_in_use && outbox[0].outgoing_token.is_some(), "{outbox:?}");
    }

    async fn only_the_token_sent_to_the_new_address_applies_it_once(backend) {
        let app = TestApp::seeded(backend).await;
        let client = app.client();
        let v = own(&app, &client).await["version"].as_i64().unwrap();
        app.data(&change_email(v, "Olivia.New@BrightPaws.example"), Some(&client)).await;
        let token = pending(&app, app.ids().client).await[0].outgoing_token.clone().unwrap();

        // Someone else's token, a made-up one and the right one for another caller: one answer.
        let (_, stranger) = other_client(&app).await;
        let refusals = [
            app.gql(&confirm(&token), Some(&stranger)).await,
            app.gql(&confirm("not-a-token"), Some(&client)).await,
        ];
        for refusal in &refusals {
            assert_eq!(first_code(refusal), "BAD_USER_INPUT", "{refusal}");
            assert_eq!(answer(refusal.clone()), answer(refusals[0].clone()));
        }
        let anonymous = app.gql(&confirm(&token), None).await;
        assert_eq!(first_code(&anonymous), "UNAUTHENTICATED", "{anonymous}");

        let confirmed = app.data(&confirm(&token), Some(&client)).await;
        assert_eq!(confirmed["confirmMyEmail"]["email"], "olivia.new@brightpaws.example");
        assert_eq!(confirmed["confirmMyEmail"]["version"], v + 1, "a public change bumps the client's version");
        let again = app.gql(&confirm(&token), Some(&client)).await;
        assert_eq!(answer(again), answer(refusals[0].clone()), "a token confirms once");
        let row = email_change::Entity::find().filter(email_change::Column::CustomerId.eq(app.ids().client)).one(&app.db).await.unwrap().unwrap();
        assert!(row.outgoing_token.is_none() && row.confirmed_at.is_some(), "{row:?}");
    }

    async fn an_expired_token_confirms_nothing_and_erasure_forgets_the_request(backend) {
        let app = TestApp::seeded(backend).await;
        let client = app.client();
        let before = own(&app, &client).await;
        let v = before["version"].as_i64().unwrap();
        app.data(&change_email(v, "late@brightpaws.example"), Some(&client)).await;
        let row = pending(&app, app.ids().client).await.remove(0);
        let token = row.outgoing_token.clone().unwrap();
        let mut expired: email_change::ActiveModel = row.into();
        expired.expires_at = Set(chrono::Utc::now() - chrono::TimeDelta::minutes(1));
        expired.update(&app.db).await.unwrap();
        let late = app.gql(&confirm(&token), Some(&client)).await;
        assert_eq!(first_code(&late), "BAD_USER_INPUT", "{late}");
        assert_eq!(own(&app, &client).await, before);

        let version = app.data(&format!(r#"{{ customer(id: "{}") {{ version }} }}"#, app.ids().client), Some(&app.employee())).await["customer"]["version"].as_i64().unwrap();
        let erased = app.gql(&format!(r#"mutation {{ eraseCustomer(id: "{}", expectedVersion: {version}) {{ id }} }}"#, app.ids().client), Some(&app.manager())).await;
        assert!(erased.get("errors").is_none(), "{erased}");
        let left = email_change::Entity::find().filter(email_change::Column::CustomerId.eq(app.ids().client)).all(&app.db).await.unwrap();
        assert!(left.is_empty(), "the requested address is personal data: {left:?}");
    }
}
