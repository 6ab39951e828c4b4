//! Start-up: the state every handler shares, serving the router from [`crate::http`], the dev-mode
//! banner and graceful shutdown.

use std::{sync::Arc, time::Duration};

use sea_orm::DatabaseConnection;

use crate::{
    auth::{Caller, Role, TokenIssuer, TokenVerifier},
    config::Config,
    graphql::{self, AppSchema, Limits, guard::ReadObserver},
    seed,
    service::{
        audit::{self, AuditEntry},
        events::EventBus,
    },
};

pub use crate::http::router;

/// Boxed error for start-up failures, printed once by `main`.
pub type StartError = Box<dyn std::error::Error + Send + Sync>;

/// What every request handler shares.
#[derive(Clone)]
pub struct AppState {
    /// The executable schema.
    pub schema: AppSchema,
    /// The database pool.
    pub db: DatabaseConnection,
    /// Bearer-token verification.
    pub verifier: Arc<TokenVerifier>,
    /// DataLoader batching window.
    pub loader_delay: Duration,
    /// Recently checked token subjects (does the customer exist, and fit the role?).
    pub subjects: crate::http::subjects::Subjects,
}

impl AppState {
    /// Builds the state from an open database and a verifier, starting the access-audit
    /// writer; await the returned handle after serving to flush the last audit entries.
    pub async fn new(
        db: DatabaseConnection,
        verifier: TokenVerifier,
        limits: Limits,
    ) -> Result<(Self, tokio::task::JoinHandle<()>), StartError> {
        let (sink, writer) = audit::start(db.clone());
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
        let bus = EventBus::start(&db).await?;
        let schema = graphql::build_schema(db.clone(), bus, limits, Some(observer)).await?;
        let state = Self {
            schema,
            db,
            verifier: Arc::new(verifier),
            loader_delay: limits.loader_delay,
            subjects: Default::default(),
        };
        Ok((state, writer))
    }
}

/// Starts logging; `RUST_LOG` overrides the default level.
pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| "info,sqlx=warn,sea_orm=warn,sea_orm_migration=warn".into());
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

/// Serves the gateway until Ctrl-C or SIGTERM.
pub async fn run(config: Config) -> Result<(), StartError> {
    let db =
        crate::db::connect_and_migrate(&config.database_url, config.db_max_connections).await?;
    let demo = if config.should_seed() {
        seed::seed_if_empty(&db).await?
    } else {
        None
    };
    let dev_secret = config.is_dev_mode().then(random_secret);
    let verifier = TokenVerifier::from_config(&config, dev_secret.as_deref())?;
    let limits = Limits::from_config(&config);
    let (state, audit_writer) = AppState::new(db.clone(), verifier, limits).await?;
    let listener = tokio::net::TcpListener::bind(config.listen_addr).await?;
    let url = format!("http://{}/graphql", listener.local_addr()?);
    if let Some(secret) = &dev_secret {
        tracing::warn!(
            "no JWT_SECRET or JWT_PUBLIC_KEY_FILE configured: dev mode with a random secret; \
             tokens stop working when the process restarts"
        );
        print_demo_tokens(&config, secret, &db, demo).await;
    }
    tracing::info!(%url, "GraphiQL and the GraphQL endpoint are ready");
    axum::serve(listener, router(state, &config))
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    // The router (and with it the last audit sink) is gone: let the writer drain its queue.
    if tokio::time::timeout(Duration::from_secs(5), audit_writer)
        .await
        .is_err()
    {
        tracing::warn!("access audit writer did not finish within 5 s");
    }
    tracing::info!("shut down cleanly");
    Ok(())
}

fn random_secret() -> String {
    use rand::{Rng, distr::Alphanumeric};
    rand::rng()
        .sample_iter(&Alphanumeric)
        .take(48)
        .map(char::from)
        .collect()
}

async fn print_demo_tokens(
    config: &Config,
    secret: &str,
    db: &DatabaseConnection,
    seeded: Option<seed::DemoIds>,
) {
    let ids = match seeded {
        Some(ids) => Some(ids),
        None => seed::demo_ids(db).await.ok().flatten(),
    };
    let Some(ids) = ids else {
        tracing::warn!("no demo customers found: mint tokens with `crm-gateway token`");
        return;
    };
    let issuer = TokenIssuer::new(secret, config);
    let ttl = Duration::from_secs(12 * 3600);
    println!(
        "\nDemo bearer tokens (valid 12 h, paste into GraphiQL's Headers as {{\"Authorization\": \"Bearer …\"}}):"
    );
    for (label, role, id) in [
        ("employee", Role::Employee, ids.employee),
        ("manager ", Role::Manager, ids.manager),
        ("client  ", Role::Client, ids.client),
    ] {
        match issuer.mint(role, id, ttl) {
            Ok(token) => println!("  {label} (customer {id}): Bearer {token}"),
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
