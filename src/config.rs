//! Every setting of the gateway, read once at start from flags or environment variables.
//! Secrets are never printed: their `Debug` output is redacted and clap hides their values.

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use clap::{Args, Parser, Subcommand, ValueEnum};

/// The complexity limit when none is configured; [`crate::graphql::EXPORT_COST`] is set from it.
pub const DEFAULT_MAX_QUERY_COMPLEXITY: usize = 10_000;

/// The command line: a configuration plus an optional one-shot command.
#[derive(Debug, Parser)]
#[command(name = "crm-gateway", version, about)]
pub struct Cli {
    /// Settings shared by every command.
    #[command(flatten)]
    pub config: Config,
    /// What to do; serving the gateway when absent.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// One-shot commands besides serving.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print the SDL of the full (manager) schema; `schema.graphql` is this output. With
    /// `--tier`, print what one tier is validated against (`schema/<tier>.graphql`).
    Schema(SchemaArgs),
    /// Mint an HS256 token the gateway accepts (signed with `JWT_SECRET`, or in dev mode with the
    /// secret file beside the SQLite database), for a customer the role fits.
    Token(TokenArgs),
    /// Migrate, seed the demo company into an empty database, then add generated outside
    /// customers with interactions (benchmark data; see README, Benchmark).
    Seed(SeedArgs),
}

/// Arguments of the `seed` command.
#[derive(Debug, Clone, Args)]
pub struct SeedArgs {
    /// Generated outside customers to add besides the demo company.
    #[arg(long, default_value_t = 0)]
    pub customers: usize,
    /// Interactions per generated customer.
    #[arg(long, default_value_t = 10)]
    pub interactions_per: usize,
}

/// Arguments of the `schema` command.
#[derive(Debug, Clone, Args)]
pub struct SchemaArgs {
    /// `public` (anonymous callers and clients) or `employee`; the full schema when absent.
    #[arg(long, value_enum)]
    pub tier: Option<SchemaTier>,
}

/// A tier whose schema is checked into `schema/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
#[value(rename_all = "lower")]
pub enum SchemaTier {
    /// Anonymous callers and clients: `schema/public.graphql`.
    Public,
    /// Employees: `schema/employee.graphql`.
    Employee,
}

/// Arguments of the `token` command.
#[derive(Debug, Clone, Args)]
pub struct TokenArgs {
    /// Role claim: employee, manager or client.
    #[arg(long)]
    pub role: String,
    /// Subject claim: the caller's own customer id.
    #[arg(long)]
    pub sub: i32,
    /// Lifetime, e.g. `90s`, `30m`, `1h`, `7d`.
    #[arg(long, default_value = "1h", value_parser = parse_duration)]
    pub ttl: Duration,
}

/// JWT signature algorithms the gateway accepts; exactly one is configured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
#[value(rename_all = "UPPER")]
pub enum JwtAlgorithm {
    /// HMAC-SHA256 with a shared secret (`JWT_SECRET`).
    Hs256,
    /// RSA PKCS#1 v1.5 with SHA-256 (`JWT_PUBLIC_KEY_FILE`).
    Rs256,
    /// ECDSA P-256 with SHA-256 (`JWT_PUBLIC_KEY_FILE`).
    Es256,
}

/// Settings of the gateway; every field has a flag and an environment variable.
#[derive(Clone, Args)]
pub struct Config {
    /// Address to listen on.
    #[arg(long, env = "LISTEN_ADDR", default_value = "127.0.0.1:8000")]
    pub listen_addr: SocketAddr,
    /// Database URL: `sqlite://FILE?mode=rwc` (default, embedded) or `postgres://…`.
    #[arg(long, env = "DATABASE_URL", default_value = "sqlite://crm.db?mode=rwc")]
    pub database_url: String,
    /// Largest number of pooled database connections.
    #[arg(long, env = "DB_MAX_CONNECTIONS", default_value_t = 10)]
    pub db_max_connections: u32,
    /// What sits between the gateway and PostgreSQL at `DATABASE_URL`: `none` (a direct
    /// connection, or pgbouncer in session mode) or `transaction` (pgbouncer in transaction
    /// mode; needs `DATABASE_LISTEN_URL`).
    #[arg(long, env = "DATABASE_POOLER", value_enum, default_value_t = Pooler::None)]
    pub database_pooler: Pooler,
    /// A direct (unpooled) PostgreSQL URL for `LISTEN` and migrations, which need a session of
    /// their own; `DATABASE_URL` when unset. Required with `DATABASE_POOLER=transaction`.
    #[arg(long, env = "DATABASE_LISTEN_URL", hide_env_values = true)]
    pub database_listen_url: Option<String>,
    /// Read replicas: comma-separated `postgres://` URLs of hot standbys of `DATABASE_URL`.
    /// Queries and subscriptions' re-reads go to one that is recent enough (see
    /// [`crate::db::replicas`]); mutations and everything in a write's transaction to the
    /// primary. PostgreSQL only.
    #[arg(long, env = "DATABASE_READ_URL", hide_env_values = true)]
    pub database_read_url: Option<String>,
    /// Most replication lag, in milliseconds, a replica may have to serve a read that names no
    /// WAL position (`X-Min-Lsn`); a read may be up to this plus one probe interval old.
    #[arg(long, env = "READ_REPLICA_MAX_LAG_MS", default_value_t = 1000)]
    pub read_replica_max_lag_ms: u64,
    /// How often each replica's replay position and lag are probed, in milliseconds.
    #[arg(long, env = "READ_REPLICA_PROBE_MS", default_value_t = 1000,
          value_parser = clap::value_parser!(u64).range(50..=60_000))]
    pub read_replica_probe_ms: u64,
    /// Seed the demo company into an empty database; defaults to true only for the default SQLite file.
    #[arg(long, env = "SEED_DEMO")]
    pub seed_demo: Option<bool>,
    /// Shared secret for HS256 tokens. Without it and without a public key the gateway runs in
    /// dev mode: it signs with a random secret, kept beside a SQLite database
    /// (`<file>.jwt-secret`, mode 0600) and reused, and prints demo tokens.
    #[arg(long, env = "JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,
    /// Key sealing pagination cursors (XChaCha20-Poly1305): 32 random bytes as 64 hex digits or
    /// base64, the same on every replica. Derived from `JWT_SECRET` (or dev mode's secret) when
    /// unset; required with `JWT_PUBLIC_KEY_FILE`.
    #[arg(long, env = "CURSOR_KEY", hide_env_values = true)]
    pub cursor_key: Option<String>,
    /// PEM file with the public key for RS256/ES256 tokens.
    #[arg(long, env = "JWT_PUBLIC_KEY_FILE")]
    pub jwt_public_key_file: Option<PathBuf>,
    /// Accepted algorithm; defaults to HS256 with a secret, RS256 with a public key.
    #[arg(long, env = "JWT_ALGORITHM", value_enum)]
    pub jwt_algorithm: Option<JwtAlgorithm>,
    /// Required `iss` claim, when set.
    #[arg(long, env = "JWT_ISSUER")]
    pub jwt_issuer: Option<String>,
    /// Required `aud` claim, when set.
    #[arg(long, env = "JWT_AUDIENCE")]
    pub jwt_audience: Option<String>,
    /// Clock leeway for `exp` and `nbf`, in seconds (at most a day: a clock that far off is a
    /// fault to fix, and the token library's expiry arithmetic is unchecked past that).
    #[arg(long, env = "JWT_LEEWAY_SECS", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(0..=86_400))]
    pub jwt_leeway_secs: u64,
    /// Claim holding `role` (and optionally `customer_id`) as an object, e.g.
    /// `https://example.com/claims`; top-level claims when unset.
    #[arg(long, env = "JWT_CLAIMS_NAMESPACE")]
    pub jwt_claims_namespace: Option<String>,
    /// Deepest selection nesting a query may have.
    #[arg(long, env = "MAX_QUERY_DEPTH", default_value_t = 16)]
    pub max_query_depth: usize,
    /// Largest query complexity (one per field, lists multiplied by their page size).
    #[arg(long, env = "MAX_QUERY_COMPLEXITY", default_value_t = DEFAULT_MAX_QUERY_COMPLEXITY)]
    pub max_query_complexity: usize,
    /// Batching window in milliseconds for operations over WebSocket: relation keys requested
    /// within it share one SQL statement. HTTP requests need none: their batches go out as
    /// soon as the request has asked for every key of a nesting level.
    #[arg(long, env = "LOADER_BATCH_DELAY_MS", default_value_t = 2)]
    pub loader_batch_delay_ms: u64,
    /// Largest request body, in bytes.
    #[arg(long, env = "MAX_BODY_BYTES", default_value_t = 256 * 1024)]
    pub max_body_bytes: usize,
    /// Time a request may take before it is answered with a timeout.
    #[arg(long, env = "REQUEST_TIMEOUT_SECS", default_value_t = 30)]
    pub request_timeout_secs: u64,
    /// Deepest nesting of a document (selection sets, list and input-object values, list
    /// types), checked while parsing, before anything recurses into it; at most 128, which keeps
    /// every later recursive pass far from the stack's end.
    #[arg(long, env = "MAX_QUERY_NESTING", default_value_t = 32, value_parser = parse_nesting)]
    pub max_query_nesting: usize,
    /// Most lexical tokens (whitespace and comments included) a document may have.
    #[arg(long, env = "MAX_QUERY_TOKENS", default_value_t = 20_000)]
    pub max_query_tokens: usize,
    /// Most fields a document may select once its fragments are expanded (counted without
    /// expanding them).
    #[arg(long, env = "MAX_QUERY_FIELDS", default_value_t = 2_000)]
    pub max_query_fields: usize,
    /// Size of the validation cache (verdicts per role tier and document), in kilobytes of
    /// document text.
    #[arg(long, env = "VALIDATION_CACHE_KB", default_value_t = 4096)]
    pub validation_cache_kb: u64,
    /// Who may introspect the schema (`__schema`, `__type`): `all`, `employees` or `none`.
    /// Everyone sees only their own tier's schema either way; `employees` hides even that from
    /// outsiders, for deployments whose clients use trusted documents only.
    #[arg(long, env = "INTROSPECTION", value_enum, default_value_t = Introspection::All)]
    pub introspection: Introspection,
    /// Operations settings: logs, limits, trusted documents, WebSocket, CORS, shutdown.
    #[command(flatten)]
    pub ops: crate::ops::OpsConfig,
}

/// A connection pooler in front of PostgreSQL, as far as the gateway must know of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
#[value(rename_all = "lower")]
pub enum Pooler {
    /// Every pooled connection is a session of its own (direct, or pgbouncer session mode).
    None,
    /// pgbouncer `pool_mode = transaction`: a server connection is the gateway's only until
    /// the end of a transaction, so every statement runs inside one (see [`crate::db`]).
    Transaction,
}

/// Who may introspect the schema; for the others `__schema` and `__type` do not exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
#[value(rename_all = "lower")]
pub enum Introspection {
    /// Every caller, anonymous ones included.
    All,
    /// Employees and managers.
    Employees,
    /// Nobody.
    None,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("listen_addr", &self.listen_addr)
            .field("database_url", &redact_url(&self.database_url))
            .field("database_pooler", &self.database_pooler)
            .field(
                "database_listen_url",
                &self.database_listen_url.as_deref().map(redact_url),
            )
            .field(
                "database_read_url",
                &self
                    .read_urls()
                    .map(|urls| urls.into_iter().map(redact_url).collect::<Vec<_>>()),
            )
            .field("seed_demo", &self.seed_demo)
            .field(
                "jwt_secret",
                &self.jwt_secret.as_ref().map(|_| "<redacted>"),
            )
            .field(
                "cursor_key",
                &self.cursor_key.as_ref().map(|_| "<redacted>"),
            )
            .field("jwt_public_key_file", &self.jwt_public_key_file)
            .field("jwt_algorithm", &self.jwt_algorithm)
            .field("jwt_issuer", &self.jwt_issuer)
            .field("jwt_audience", &self.jwt_audience)
            .finish_non_exhaustive()
    }
}

/// The SQLite file used when nothing is configured: the only database seeded by default.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://crm.db?mode=rwc";

impl Config {
    /// A configuration with every default, for tests and embedding.
    pub fn with_database(database_url: impl Into<String>) -> Self {
        let mut config = Cli::parse_from(["crm-gateway"]).config;
        config.database_url = database_url.into();
        config
    }

    /// Whether the demo company should be seeded into an empty database.
    pub fn should_seed(&self) -> bool {
        self.seed_demo
            .unwrap_or(self.database_url == DEFAULT_DATABASE_URL)
    }

    /// Whether no signing key is configured, so the gateway invents one (dev mode).
    pub fn is_dev_mode(&self) -> bool {
        self.jwt_secret.is_none() && self.jwt_public_key_file.is_none()
    }

    /// Who may introspect. Every caller's introspection shows only its own tier's schema, so
    /// the default (`all`) reveals nothing hidden; front-ends and GraphiQL need it to work.
    pub fn introspection(&self) -> Introspection {
        self.introspection
    }

    /// The URL of a direct session for `LISTEN` and migrations: `DATABASE_LISTEN_URL`, else
    /// `DATABASE_URL`. Refuses a pooler setting that cannot work, naming the setting to fix.
    pub fn direct_database_url(&self) -> Result<&str, String> {
        let postgres = self.database_url.starts_with("postgres");
        match (self.database_pooler, self.database_listen_url.as_deref()) {
            (Pooler::Transaction, _) if !postgres => Err(
                "DATABASE_POOLER=transaction is for PostgreSQL behind pgbouncer, but DATABASE_URL \
                 is not a postgres:// URL"
                    .to_owned(),
            ),
            (Pooler::Transaction, None) => Err(
                "DATABASE_POOLER=transaction needs DATABASE_LISTEN_URL: a direct PostgreSQL URL \
                 (not through the pooler) for LISTEN and migrations, which need a session"
                    .to_owned(),
            ),
            (_, Some(url)) if !url.starts_with("postgres") => Err(
                "DATABASE_LISTEN_URL must be a postgres:// URL (it is used for LISTEN and \
                 migrations)"
                    .to_owned(),
            ),
            (_, Some(url)) => Ok(url),
            (Pooler::None, None) => Ok(&self.database_url),
        }
    }

    /// The read replicas' URLs (`DATABASE_READ_URL`, comma-separated; none when unset or
    /// empty). Refused on SQLite, which has no replicas, and for anything but `postgres://`.
    pub fn read_urls(&self) -> Result<Vec<&str>, String> {
        let urls: Vec<&str> = self
            .database_read_url
            .as_deref()
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|url| !url.is_empty())
            .collect();
        if !urls.is_empty() && !self.database_url.starts_with("postgres") {
            return Err(
                "DATABASE_READ_URL names PostgreSQL read replicas, but DATABASE_URL is \
                        not a postgres:// URL (SQLite has no replicas): unset DATABASE_READ_URL"
                    .to_owned(),
            );
        }
        match urls.iter().find(|url| !url.starts_with("postgres")) {
            Some(url) => Err(format!(
                "DATABASE_READ_URL: {} is not a postgres:// URL",
                redact_url(url)
            )),
            None => Ok(urls),
        }
    }

    /// The request timeout as a duration.
    pub fn request_timeout(&self) -> Duration {
        Duration::from_secs(self.request_timeout_secs)
    }
}

/// Hides the password of a database URL for logging.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            let user = userinfo.split(':').next().unwrap_or_default();
            format!("{}{}:***{}", &url[..scheme_end + 3], user, &url[at..])
        }
        _ => url.to_owned(),
    }
}

/// A nesting limit between 1 and 128.
fn parse_nesting(text: &str) -> Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(n) if (1..=128).contains(&n) => Ok(n),
        _ => Err(format!("'{text}' is not a nesting limit between 1 and 128")),
    }
}

/// Parses `90s`, `30m`, `1h`, `7d` or a bare number of seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (digits, unit) = match text.find(|c: char| !c.is_ascii_digit()) {
        Some(split) => text.split_at(split),
        None => (text, "s"),
    };
    let amount: u64 = digits
        .parse()
        .map_err(|_| format!("'{text}' is not a duration like 90s, 30m, 1h or 7d"))?;
    let seconds = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(format!("unknown unit '{unit}' (use s, m, h or d)")),
    };
    amount
        .checked_mul(seconds)
        .map(Duration::from_secs)
        .ok_or_else(|| "duration too large".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_with_units() {
        assert_eq!(parse_duration("90").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("30m").unwrap(), Duration::from_secs(1800));
        assert_eq!(parse_duration("1h").unwrap(), Duration::from_secs(3600));
        assert!(parse_duration("1y").is_err());
        assert!(parse_duration("h").is_err());
    }

    #[test]
    fn introspection_is_open_unless_an_operator_closes_it() {
        let mut config = Config::with_database(DEFAULT_DATABASE_URL);
        assert_eq!(config.introspection(), Introspection::All);
        config.jwt_secret = Some("a-secret-that-is-long-enough-for-hs256".into());
        assert_eq!(config.introspection(), Introspection::All);
        config.introspection = Introspection::None;
        assert_eq!(config.introspection(), Introspection::None);
    }

    #[test]
    fn nesting_limits_stay_within_what_the_stack_affords() {
        assert_eq!(parse_nesting("64"), Ok(64));
        assert!(parse_nesting("0").is_err());
        assert!(parse_nesting("2500").is_err());
    }

    #[test]
    fn a_transaction_pooler_needs_a_direct_url_for_listen() {
        let mut config = Config::with_database("postgres://app@pooler:6432/crm");
        assert_eq!(
            config.direct_database_url(),
            Ok("postgres://app@pooler:6432/crm")
        );
        config.database_pooler = Pooler::Transaction;
        let refused = config.direct_database_url().unwrap_err();
        assert!(refused.contains("DATABASE_LISTEN_URL"), "{refused}");
        config.database_listen_url = Some("postgres://app@db:5432/crm".into());
        assert_eq!(
            config.direct_database_url(),
            Ok("postgres://app@db:5432/crm")
        );
        let sqlite = Config {
            database_pooler: Pooler::Transaction,
            ..Config::with_database(DEFAULT_DATABASE_URL)
        };
        assert!(
            sqlite
                .direct_database_url()
                .unwrap_err()
                .contains("DATABASE_POOLER")
        );
    }

    #[test]
    fn read_replicas_are_a_postgresql_list_refused_on_sqlite() {
        let mut config = Config::with_database("postgres://app@db:5432/crm");
        assert_eq!(config.read_urls(), Ok(vec![]));
        config.database_read_url = Some(" postgres://a@r1/crm, ,postgres://a@r2/crm ".into());
        assert_eq!(
            config.read_urls(),
            Ok(vec!["postgres://a@r1/crm", "postgres://a@r2/crm"])
        );
        config.database_read_url = Some("mysql://r1/crm".into());
        assert!(
            config
                .read_urls()
                .unwrap_err()
                .contains("DATABASE_READ_URL")
        );
        let sqlite = Config {
            database_read_url: Some("postgres://a@r1/crm".into()),
            ..Config::with_database(DEFAULT_DATABASE_URL)
        };
        let refused = sqlite.read_urls().unwrap_err();
        assert!(refused.contains("SQLite"), "{refused}");
    }

    #[test]
    fn database_passwords_are_redacted() {
        assert_eq!(
            redact_url("postgres://app:s3cret@db:5432/crm"),
            "postgres://app:***@db:5432/crm"
        );
        assert_eq!(
            redact_url("sqlite://crm.db?mode=rwc"),
            "sqlite://crm.db?mode=rwc"
        );
    }
}
