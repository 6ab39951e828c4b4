//! Start-up: the state every handler shares, serving the router from [`crate::http`], the dev-mode
//! banner and graceful shutdown.

use std::{sync::Arc, time::Duration};

use sea_orm::DatabaseConnection;

use crate::{
    auth::{Caller, CursorKey, TokenIssuer, TokenVerifier, dev_secret},
    config::Config,
    db::replicas::ReadPools,
    graphql::{self, Limits, Served, guard::ReadObserver},
    http::{
        graphiql::DemoIdentities,
        subjects::{self, Subjects},
    },
    ops::{Ops, OpsConfig},
    seed,
    service::{
        audit::{self, AuditEntry},
        events::EventBus,
        write::Writer,
    },
};

pub use crate::http::router;

/// Boxed error for start-up failures, printed once by `main`.
pub type StartError = Box<dyn std::error::Error + Send + Sync>;

/// What every request handler shares.
#[derive(Clone)]
pub struct AppState {
    /// The executable schema.
    pub schema: Served,
    /// The database pool (the primary).
    pub db: DatabaseConnection,
    /// Where reads run: the primary, or a read replica recent enough for the request.
    pub reads: ReadPools,
    /// Bearer-token verification.
    pub verifier: Arc<TokenVerifier>,
    /// Batch loaders' window (WebSocket operations; HTTP requests settle instead).
    pub loader_delay: Duration,
    /// Recently checked token subjects (does the customer exist, and fit the role?).
    pub subjects: crate::http::subjects::Subjects,
    /// Change events and subject lapses, heard from every replica.
    pub events: EventBus,
    /// Metrics, rate limits, the database circuit, the shutdown signal.
    pub ops: Arc<Ops>,
    /// The demo's people for the explorer's role picker: dev mode only.
    pub demo_identities: Option<Arc<DemoIdentities>>,
}

impl AppState {
    /// Builds the state from an open database, a verifier and the cursor key, starting the
    /// access-audit writer; await the returned handle after serving to flush the last audit
    /// entries.
    pub async fn new(
        db: DatabaseConnection,
        verifier: TokenVerifier,
        cursors: CursorKey,
        limits: Limits,
    ) -> Result<(Self, tokio::task::JoinHandle<()>), StartError> {
        Self::new_listening(db, verifier, cursors, limits, None).await
    }

    /// As [`Self::new`], with events heard on a direct session at `listen_url` (required
    /// behind a transaction-mode pooler; see `DATABASE_LISTEN_URL`).
    pub async fn new_listening(
        db: DatabaseConnection,
        verifier: TokenVerifier,
        cursors: CursorKey,
        limits: Limits,
        listen_url: Option<&str>,
    ) -> Result<(Self, tokio::task::JoinHandle<()>), StartError> {
        let bus = EventBus::start_listening(&db, listen_url).await?;
        let subjects = Subjects::new(subjects::DEFAULT_TTL, bus.subscribe_lapses());
        // One writer per process: every write, the audit's included, shares its SQLite queue.
        let writes = Writer::new(db.clone(), bus.clone());
        let (sink, writer) = audit::start(writes.clone());
        let audit_stats = sink.stats();
        let observer: ReadObserver = Arc::new(move |caller: &Caller, operation, fields| {
            if let Some(viewer) = caller.viewer() {
                sink.record(AuditEntry {
                    customer_id: viewer.customer_id,
                    role: viewer.role.as_claim(),
                    operation_name: operation.map(str::to_owned),
                    fields,
                });
            }
        });
        let schema =
            graphql::build_schema(db.clone(), writes, limits, cursors, Some(observer)).await?;
        let runs = |tier, text: &str| schema.runs(tier, text);
        let ops = Ops::new(OpsConfig::unlimited(), db.clone(), audit_stats, &runs)?;
        let state = Self {
            schema,
            ops,
            reads: ReadPools::primary_only(db.clone()),
            db,
            verifier: Arc::new(verifier),
            loader_delay: limits.loader_delay,
            subjects,
            events: bus,
            demo_identities: None,
        };
        Ok((state, writer))
    }

    /// Spreads reads over `reads` (see [`crate::db::connect_replicas`]).
    pub fn with_reads(mut self, reads: ReadPools) -> Self {
        self.reads = reads;
        self
    }

    /// Offers the demo's people (with tokens) to the explorer; only dev mode calls this.
    pub fn with_demo_identities(mut self, identities: DemoIdentities) -> Self {
        self.demo_identities = Some(Arc::new(identities));
        self
    }

    /// Applies the operations settings (rate limits, trusted documents, WebSocket limits…);
    /// without this call the state has every default but no rate limits.
    pub fn configure(mut self, config: &OpsConfig) -> Result<Self, StartError> {
        let audit = self.ops.audit_stats();
        let schema = &self.schema;
        let runs = |tier, text: &str| schema.runs(tier, text);
        self.ops = Ops::new(config.clone(), self.db.clone(), audit, &runs)?;
        self.subjects = Subjects::new(config.subject_ttl(), self.events.subscribe_lapses());
        Ok(self)
    }
}

/// Serves the gateway until Ctrl-C or SIGTERM.
pub async fn run(config: Config) -> Result<(), StartError> {
    // Refused before anything is opened: a SQLite file with read replicas, a non-PostgreSQL URL,
    // a malformed CURSOR_KEY or none where nothing can stand in for it.
    config.read_urls()?;
    let dev_secret = if config.is_dev_mode() {
        Some(dev_mode_secret(&config)?)
    } else {
        None
    };
    let cursors = CursorKey::from_config(&config, dev_secret.as_deref())?;
    let db = crate::db::connect(&config).await?;
    let demo = if config.should_seed() {
        seed::seed_if_empty(&db).await?
    } else {
        None
    };
    let verifier = TokenVerifier::from_config(&config, dev_secret.as_deref())?;
    let limits = Limits::from_config(&config);
    let listen_url = config.database_listen_url.as_deref();
    let (state, audit_writer) =
        AppState::new_listening(db.clone(), verifier, cursors, limits, listen_url).await?;
    let reads = crate::db::connect_replicas(&config, db.clone()).await?;
    let mut state = state.configure(&config.ops)?.with_reads(reads);
    let ops = state.ops.clone();
    let listener = tokio::net::TcpListener::bind(config.listen_addr).await?;
    let url = format!("http://{}/graphql", listener.local_addr()?);
    if let Some(secret) = &dev_secret
        && let Some(identities) = dev_mode_people(&config, secret, &db, demo).await
    {
        state = state.with_demo_identities(identities);
    }
    tracing::info!(%url, "GraphiQL and the GraphQL endpoint are ready");
    let app = router(state, &config).into_make_service_with_connect_info::<std::net::SocketAddr>();
    let stopping = ops.shutdown.clone();
    let server = axum::serve(listener, app).with_graceful_shutdown(async move {
        shutdown_signal().await;
        tracing::info!("shutting down: no new connections, finishing in-flight requests");
        // WebSockets close with 1001; HTTP requests in flight run to their end.
        stopping.trigger();
    });
    let grace = config.ops.shutdown_grace();
    let stopping = ops.shutdown.clone();
    tokio::select! {
        served = server => served?,
        () = async { stopping.triggered().await; tokio::time::sleep(grace).await } => {
            tracing::warn!(?grace, "requests still running after the grace period: leaving them");
        }
    }
    drop(ops);
    // The router (and with it the last audit sink) is gone: let the writer drain its queue.
    if tokio::time::timeout(grace.max(Duration::from_secs(1)), audit_writer)
        .await
        .is_err()
    {
        tracing::warn!("access audit writer did not finish in time");
    }
    tracing::info!("shut down cleanly");
    Ok(())
}

/// Dev mode's secret: kept in a file beside a SQLite database, in memory otherwise.
fn dev_mode_secret(config: &Config) -> Result<String, StartError> {
    match dev_secret::file_for(&config.database_url) {
        Some(file) => {
            let secret = dev_secret::load_or_create(&file)?;
            tracing::warn!(
                secret_file = %file.display(),
                "no JWT_SECRET or JWT_PUBLIC_KEY_FILE configured: dev mode, signing with the \
                 secret kept in this file (reused at every start; `crm-gateway token` signs with it)"
            );
            Ok(secret)
        }
        None => {
            tracing::warn!(
                "no JWT_SECRET or JWT_PUBLIC_KEY_FILE configured: dev mode with a random secret \
                 held in memory (no SQLite file to keep it beside): tokens stop working when the \
                 process restarts and other replicas refuse them; set JWT_SECRET"
            );
            Ok(dev_secret::random_secret())
        }
    }
}

/// Dev mode's welcome: the banner with the demo people's tokens, and the same people for the
/// explorer's role picker (see [`explorer_identities`]).
async fn dev_mode_people(
    config: &Config,
    secret: &str,
    db: &DatabaseConnection,
    seeded: Option<seed::DemoIds>,
) -> Option<DemoIdentities> {
    let ids = match seeded {
        Some(ids) => Some(ids),
        None => seed::demo_ids(db).await.ok().flatten(),
    };
    let Some(ids) = ids else {
        tracing::warn!("no demo customers found: mint tokens with `crm-gateway token`");
        return None;
    };
    print_demo_tokens(&TokenIssuer::new(secret, config), ids);
    let identities = explorer_identities(config, secret, ids);
    if identities.is_none() {
        tracing::warn!(
            listen_addr = %config.listen_addr,
            "not a loopback address: the explorer offers no demo tokens (paste them by hand)"
        );
    }
    identities
}

/// The demo's people for the explorer, signed with dev mode's `secret` — only while the gateway
/// listens on a loopback address, so the page never hands demo tokens to another machine.
pub fn explorer_identities(
    config: &Config,
    secret: &str,
    ids: seed::DemoIds,
) -> Option<DemoIdentities> {
    config.listen_addr.ip().is_loopback().then(|| {
        DemoIdentities::new(
            seed::COMPANY,
            TokenIssuer::new(secret, config),
            ids.people(),
        )
    })
}

fn print_demo_tokens(issuer: &TokenIssuer, ids: seed::DemoIds) {
    let ttl = Duration::from_secs(12 * 3600);
    println!(
        "\nThe demo company is {}. Its people's bearer tokens (valid 12 h; pick one in the \
         explorer's \"Explore as\", or paste it into GraphiQL's Headers as \
         {{\"Authorization\": \"Bearer …\"}}):",
        seed::COMPANY
    );
    for person in ids.people() {
        match issuer.mint(person.role, person.customer_id, ttl) {
            Ok(token) => println!(
                "  {:<8} {}, {} (customer {}):\n           Bearer {token}",
                person.role.as_claim(),
                person.name,
                person.about,
                person.customer_id
            ),
            Err(err) => tracing::error!(%err, "cannot mint a demo token"),
        }
    }
    println!();
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(err) = tokio::signal::ctrl_c().await {
            tracing::error!(%err, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut sig) => {
                sig.recv().await;
            }
            Err(err) => {
                tracing::error!(%err, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
