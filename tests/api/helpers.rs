//! Test helpers: spawn the app on a fresh database, mint tokens, send GraphQL requests.

use std::sync::{
    Arc,
    atomic::{AtomicUsize, Ordering},
};

use axum::{
    Router,
    body::Body,
    http::{HeaderMap, Request, StatusCode},
};
use crm_gateway::{
    app::{AppState, router},
    auth::{CursorKey, Role, TokenIssuer, TokenVerifier},
    config::Config,
    graphql::Limits,
    seed::{self, DemoIds},
};
use http_body_util::BodyExt;
use sea_orm::DatabaseConnection;
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::databases::TestDatabase;

/// The kinds of global id, for [`gid`].
pub use crm_gateway::graphql::types::NodeKind;

/// The shared secret every test app accepts.
pub const SECRET: &str = "test-secret-that-is-long-enough-for-hs256-keys";

/// Which database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs a test body once on SQLite and once on PostgreSQL.
macro_rules! both_backends {
    ($(async fn $name:ident($backend:ident) $body:block)*) => {$(
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn body($backend: $crate::helpers::Backend) $body

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                body($crate::helpers::Backend::Sqlite).await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                body($crate::helpers::Backend::Postgres).await
            }
        }
    )*};
}

/// One running gateway over its own database.
pub struct TestApp {
    pub router: Router,
    /// SELECT statements the app has run so far.
    pub selects: Arc<AtomicUsize>,
    pub db: DatabaseConnection,
    pub config: Config,
    /// The demo identities, when the app was seeded.
    pub demo: Option<DemoIds>,
    /// The database, dropped with the last app (replicas share it); last so the app goes first.
    database: Arc<TestDatabase>,
}

impl TestApp {
    /// The demo company on a fresh database.
    pub async fn seeded(backend: Backend) -> Self {
        Self::build(backend, true, |_| {}).await
    }

    /// The demo company in dev mode: no key configured, so the explorer offers its people.
    pub async fn dev_mode(backend: Backend) -> Self {
        Self::build(backend, true, |c| c.jwt_secret = None).await
    }

    /// An empty, migrated database.
    pub async fn empty(backend: Backend) -> Self {
        Self::build(backend, false, |_| {}).await
    }

    /// The demo company, with configuration changes.
    pub async fn seeded_with(backend: Backend, tweak: impl FnOnce(&mut Config)) -> Self {
        Self::build(backend, true, tweak).await
    }

    /// A second gateway process over the same database (a stateless replica).
    pub async fn replica(&self) -> Self {
        let mut app = Self::build_on(self.database.clone(), false, |_| {}).await;
        app.demo = self.demo;
        app
    }

    /// A second gateway over the same database, with configuration changes (e.g. its own
    /// `CURSOR_KEY`).
    pub async fn replica_with(&self, tweak: impl FnOnce(&mut Config)) -> Self {
        let mut app = Self::build_on(self.database.clone(), false, tweak).await;
        app.demo = self.demo;
        app
    }

    async fn build(backend: Backend, seed_demo: bool, tweak: impl FnOnce(&mut Config)) -> Self {
        let database = Arc::new(TestDatabase::fresh(backend).await);
        Self::build_on(database, seed_demo, tweak).await
    }

    async fn build_on(
        database: Arc<TestDatabase>,
        seed_demo: bool,
        tweak: impl FnOnce(&mut Config),
    ) -> Self {
        let mut config = Config::with_database(database.url.clone());
        config.jwt_secret = Some(SECRET.to_owned());
        config.db_max_connections = 5;
        // Rate limits off unless a test asks for them (the binary's defaults have them on).
        config.ops = crm_gateway::ops::OpsConfig::unlimited();
        tweak(&mut config);
        let mut db = crm_gateway::db::connect(&config)
            .await
            .expect("connect and migrate");
        let selects = Arc::new(AtomicUsize::new(0));
        let counter = selects.clone();
        db.set_metric_callback(move |info| {
            if info
                .statement
                .sql
                .trim_start()
                .to_ascii_uppercase()
                .starts_with("SELECT")
            {
                counter.fetch_add(1, Ordering::SeqCst);
                if std::env::var("PRINT_SQL").is_ok() {
                    eprintln!(
                        "SQL: {}",
                        &info.statement.sql[..info.statement.sql.len().min(150)]
                    );
                }
            }
        });
        let demo = if seed_demo {
            Some(
                seed::seed_if_empty(&db)
                    .await
                    .expect("seed")
                    .expect("fresh database gets seeded"),
            )
        } else {
            None
        };
        // Dev mode (no key configured) signs with the test secret, as the binary would with its
        // own, and offers the demo's people to the explorer.
        let dev_secret = config.is_dev_mode().then_some(SECRET);
        let verifier = TokenVerifier::from_config(&config, dev_secret).expect("verifier");
        let cursors = CursorKey::from_config(&config, dev_secret).expect("cursor key");
        let limits = Limits::from_config(&config);
        let listen_url = config.database_listen_url.as_deref();
        let (state, _audit_writer) =
            AppState::new_listening(db.clone(), verifier, cursors, limits, listen_url)
                .await
                .expect("state");
        let reads = crm_gateway::db::connect_replicas(&config, db.clone())
            .await
            .expect("read replicas");
        let mut state = state
            .configure(&config.ops)
            .expect("operations settings")
            .with_reads(reads);
        if let (Some(secret), Some(ids)) = (dev_secret, demo)
            && let Some(identities) = crm_gateway::app::explorer_identities(&config, secret, ids)
        {
            state = state.with_demo_identities(identities);
        }
        Self {
            selects,
            router: router(state, &config),
            db,
            config,
            demo,
            database,
        }
    }

    /// The demo identities (panics on an unseeded app).
    pub fn ids(&self) -> DemoIds {
        self.demo.expect("seeded app")
    }

    /// A valid token for `role` and customer `id`.
    pub fn token(&self, role: Role, id: i32) -> String {
        TokenIssuer::new(SECRET, &self.config)
            .mint(role, id, std::time::Duration::from_secs(600))
            .expect("mint")
    }

    /// Tokens of the demo client, employee and manager.
    pub fn client(&self) -> String {
        self.token(Role::Client, self.ids().client)
    }
    pub fn employee(&self) -> String {
        self.token(Role::Employee, self.ids().employee)
    }
    pub fn manager(&self) -> String {
        self.token(Role::Manager, self.ids().manager)
    }

    /// Sends any request; returns status, headers and the body as JSON (or a JSON string).
    pub async fn send(&self, request: Request<Body>) -> (StatusCode, HeaderMap, Value) {
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("router never fails");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        let body = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
        (status, headers, body)
    }

    /// POSTs a GraphQL request with an optional bearer token.
    pub async fn post(&self, body: Value, token: Option<&str>) -> (StatusCode, Value) {
        let mut request = Request::post("/graphql").header("content-type", "application/json");
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        let (status, _, body) = self
            .send(request.body(Body::from(body.to_string())).expect("request"))
            .await;
        (status, body)
    }

    /// Runs `query` and returns the whole response body.
    pub async fn gql(&self, query: &str, token: Option<&str>) -> Value {
        self.gql_vars(query, json!({}), token).await
    }

    /// Runs `query` with variables and returns the whole response body.
    pub async fn gql_vars(&self, query: &str, variables: Value, token: Option<&str>) -> Value {
        let (status, body) = self
            .post(json!({ "query": query, "variables": variables }), token)
            .await;
        assert_eq!(status, StatusCode::OK, "unexpected status, body: {body}");
        body
    }

    /// Runs `query` with variables, asserts it had no errors, and returns `data`.
    pub async fn data_vars(&self, query: &str, variables: Value, token: Option<&str>) -> Value {
        let body = self.gql_vars(query, variables, token).await;
        assert!(body.get("errors").is_none(), "unexpected errors: {body}");
        body["data"].clone()
    }

    /// Runs `query`, asserts it had no errors, and returns `data`.
    pub async fn data(&self, query: &str, token: Option<&str>) -> Value {
        let body = self.gql(query, token).await;
        assert!(body.get("errors").is_none(), "unexpected errors: {body}");
        body["data"].clone()
    }
}

/// The `extensions.code` of the first error.
pub fn first_code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or("<none>")
}

/// The message of the first error.
pub fn first_message(body: &Value) -> &str {
    body["errors"][0]["message"].as_str().unwrap_or("<none>")
}

/// The nodes of a connection.
pub fn nodes(connection: &Value) -> Vec<Value> {
    connection["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| e["node"].clone())
        .collect()
}

impl TestApp {
    /// Serves the app on a real loopback socket; returns its address.
    pub async fn serve(&self) -> std::net::SocketAddr {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let app = self.router.clone();
        tokio::spawn(async move {
            axum::serve(listener, app).await.ok();
        });
        addr
    }

    /// SELECT statements run while `f` runs.
    pub async fn count_selects<F: std::future::Future>(&self, f: F) -> (usize, F::Output) {
        let before = self.selects.load(Ordering::SeqCst);
        let out = f.await;
        (self.selects.load(Ordering::SeqCst) - before, out)
    }
}

/// The id of the department called `name` (read as an employee).
pub async fn department_id(app: &TestApp, name: &str) -> String {
    let data = app
        .data(
            "{ departments { edges { node { id name } } } }",
            Some(&app.employee()),
        )
        .await;
    nodes(&data["departments"])
        .into_iter()
        .find(|d| d["name"] == name)
        .map(|d| d["id"].as_str().unwrap().to_owned())
        .unwrap()
}

/// The body without `extensions.requestId` (unique per request), for comparing two answers.
pub fn without_request_ids(mut body: Value) -> Value {
    if let Some(errors) = body["errors"].as_array_mut() {
        for error in errors {
            if let Some(extensions) = error["extensions"].as_object_mut() {
                extensions.remove("requestId");
            }
        }
    }
    body
}

/// The global id of row `id` of `kind`, as the schema's `id` fields answer it.
pub fn gid(kind: crm_gateway::graphql::types::NodeKind, id: i32) -> String {
    crm_gateway::graphql::types::global_id(kind, id).0
}

/// The row number the global id `id` (a JSON string) names.
pub fn row(id: &Value) -> i64 {
    let id = id.as_str().expect("an id");
    crm_gateway::graphql::types::decode_id(id)
        .map(|(_, n)| i64::from(n))
        .expect("a global id")
}
