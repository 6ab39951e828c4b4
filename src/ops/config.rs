//! The operations settings (logs, rate limits, trusted documents, WebSocket limits, CORS,
//! database fail-fast, shutdown), flattened into [`crate::config::Config`] so every one is a
//! flag and an environment variable listed by `--help`.

use std::{path::PathBuf, time::Duration};

use clap::{Args, ValueEnum};

/// How log lines are written to stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines; colours only when stderr is a terminal (and `NO_COLOR` is unset).
    Text,
    /// One JSON object per line, with the request's span fields (request id, operation…).
    Json,
}

/// Which GraphQL documents the gateway runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TrustedMode {
    /// Any document from anyone; the manifest (if any) and APQ only save bytes.
    Off,
    /// Manifest documents for everyone; free documents (sent in full or registered through
    /// APQ) only from employees and managers, so GraphiQL keeps working for staff.
    Allow,
    /// Manifest documents only, for everyone.
    Enforce,
}

/// A token-bucket quota: `N/s`, `N/m` or `N/h` (a burst of N, refilled evenly over the
/// window), or `off`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quota {
    /// No limit.
    Off,
    /// `burst` operations per `window`.
    Every {
        /// Operations allowed in a burst (and per window).
        burst: u32,
        /// The window over which the bucket refills completely.
        window: Duration,
    },
}

impl std::str::FromStr for Quota {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        if text.eq_ignore_ascii_case("off") {
            return Ok(Quota::Off);
        }
        let (count, unit) = text
            .split_once('/')
            .ok_or_else(|| format!("'{text}' is not a quota like 300/m or off"))?;
        let burst: u32 = count
            .trim()
            .parse()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| format!("'{count}' is not a positive count"))?;
        let window = match unit.trim() {
            "s" => Duration::from_secs(1),
            "m" => Duration::from_secs(60),
            "h" => Duration::from_secs(3600),
            other => return Err(format!("unknown window '{other}' (use s, m or h)")),
        };
        Ok(Quota::Every { burst, window })
    }
}

/// A Redis URL, checked at start-up; its `Debug` output hides the password.
#[derive(Clone)]
pub struct RedisUrl(pub String);

impl std::str::FromStr for RedisUrl {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        redis::Client::open(text).map_err(|e| format!("not a Redis URL: {:?}", e.kind()))?;
        Ok(Self(text.to_owned()))
    }
}

impl std::fmt::Debug for RedisUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&crate::config::redact_url(&self.0))
    }
}

/// Operations settings; each has a flag and an environment variable.
#[derive(Debug, Clone, Args)]
pub struct OpsConfig {
    /// Log line format: `text` or `json`.
    #[arg(long, env = "LOG_FORMAT", value_enum, default_value = "text")]
    pub log_format: LogFormat,
    /// How long a request waits for a pooled database connection before it is answered with
    /// `SERVICE_UNAVAILABLE`, in milliseconds.
    #[arg(long, env = "DB_ACQUIRE_TIMEOUT_MS", default_value_t = 2000)]
    pub db_acquire_timeout_ms: u64,
    /// Rate limit per anonymous client IP (IPv6 per /64), e.g. `300/m`, or `off`.
    #[arg(long, env = "RATE_LIMIT_ANONYMOUS", default_value = "300/s")]
    pub rate_limit_anonymous: Quota,
    /// Rate limit per client (token subject).
    #[arg(long, env = "RATE_LIMIT_CLIENT", default_value = "600/s")]
    pub rate_limit_client: Quota,
    /// Rate limit per employee (token subject).
    #[arg(long, env = "RATE_LIMIT_EMPLOYEE", default_value = "5000/s")]
    pub rate_limit_employee: Quota,
    /// Rate limit per manager (token subject).
    #[arg(long, env = "RATE_LIMIT_MANAGER", default_value = "5000/s")]
    pub rate_limit_manager: Quota,
    /// Redis that holds every replica's rate-limit buckets, so a caller's quota is one across
    /// replicas (e.g. `redis://127.0.0.1:6379`); unset: each replica keeps its own. While it
    /// cannot be reached, each replica falls back to its own buckets.
    #[arg(long, env = "RATE_LIMIT_REDIS_URL", hide_env_values = true)]
    pub rate_limit_redis_url: Option<RedisUrl>,
    /// Prefix of the rate-limit keys in Redis (gateways sharing a Redis with other users, or
    /// tests running side by side, keep apart by it).
    #[arg(long, env = "RATE_LIMIT_REDIS_PREFIX", default_value = "crm:rl:")]
    pub rate_limit_redis_prefix: String,
    /// How long a rate-limit check waits for Redis before it decides on this replica's own
    /// bucket instead, in milliseconds.
    #[arg(long, env = "RATE_LIMIT_REDIS_TIMEOUT_MS", default_value_t = 50)]
    pub rate_limit_redis_timeout_ms: u64,
    /// Reverse proxies in front of the gateway that append to `X-Forwarded-For`. 0 (default):
    /// the header is ignored and the TCP peer is the client; N: the N-th address from the right
    /// is the client.
    #[arg(long, env = "TRUSTED_PROXY_HOPS", default_value_t = 0)]
    pub trusted_proxy_hops: usize,
    /// Trusted documents: `off`, `allow` (free documents for staff only) or `enforce`.
    #[arg(long, env = "TRUSTED_DOCUMENTS", value_enum, default_value = "off")]
    pub trusted_documents: TrustedMode,
    /// Manifest of trusted documents (GraphQL codegen / Relay `{"hash": "document"}`, or
    /// Apollo's persisted-query manifest); entries may name the `roles` allowed to run them.
    #[arg(long, env = "TRUSTED_DOCUMENTS_FILE")]
    pub trusted_documents_file: Option<PathBuf>,
    /// Documents remembered for Apollo automatic persisted queries, per role (least recently
    /// used are forgotten first); 0 turns APQ off.
    #[arg(long, env = "APQ_CACHE_SIZE", default_value_t = 1000)]
    pub apq_cache_size: usize,
    /// Of each role's APQ documents, how many one caller (a token's subject, an anonymous
    /// caller's address) may hold; past it, it forgets its own oldest, never anyone else's.
    #[arg(long, env = "APQ_CALLER_SHARE", default_value_t = 100)]
    pub apq_caller_share: usize,
    /// Operations one WebSocket may have running at once (subscriptions included).
    #[arg(long, env = "WS_MAX_OPERATIONS", default_value_t = 50)]
    pub ws_max_operations: usize,
    /// Subscriptions one WebSocket may have open at once.
    #[arg(long, env = "WS_MAX_SUBSCRIPTIONS", default_value_t = 10)]
    pub ws_max_subscriptions: usize,
    /// Largest WebSocket message, in bytes.
    #[arg(long, env = "WS_MAX_MESSAGE_BYTES", default_value_t = 256 * 1024)]
    pub ws_max_message_bytes: usize,
    /// Seconds a new WebSocket has to send `connection_init` before it is closed with 4408.
    #[arg(long, env = "WS_INIT_TIMEOUT_SECS", default_value_t = 10)]
    pub ws_init_timeout_secs: u64,
    /// Seconds between the server's WebSocket pings; a peer silent for two intervals is closed.
    #[arg(long, env = "WS_PING_INTERVAL_SECS", default_value_t = 30)]
    pub ws_ping_interval_secs: u64,
    /// Seconds a token subject's standing (the customer exists, is not erased, fits the role)
    /// is trusted before it is read again; open WebSockets re-check it as often.
    #[arg(long, env = "SUBJECT_CACHE_SECS", default_value_t = 30)]
    pub subject_cache_secs: u64,
    /// Origins allowed to call the API from a browser, comma-separated, or `*`. Default: none
    /// when a signing key is configured (production), any in dev mode.
    #[arg(long, env = "CORS_ORIGINS", value_delimiter = ',')]
    pub cors_origins: Vec<String>,
    /// Seconds in-flight requests get to finish after SIGTERM before the process exits anyway.
    #[arg(long, env = "SHUTDOWN_GRACE_SECS", default_value_t = 20)]
    pub shutdown_grace_secs: u64,
    /// Distinct operation names that get their own metrics label; later names share `<other>`.
    #[arg(long, env = "METRICS_OPERATION_NAMES", default_value_t = 100)]
    pub metrics_operation_names: usize,
    /// GraphQL operations over HTTP executed at once; later ones wait their turn. Default: 3
    /// per CPU (at least 4). Each running operation holds its rows and values in memory, and
    /// more at once than the CPUs can serve only raises peak memory, not throughput.
    #[arg(long, env = "MAX_CONCURRENT_OPERATIONS")]
    pub max_concurrent_operations: Option<usize>,
}

impl OpsConfig {
    /// The pool's acquire timeout.
    pub fn db_acquire_timeout(&self) -> Duration {
        Duration::from_millis(self.db_acquire_timeout_ms)
    }

    /// How many HTTP operations may execute at once.
    pub fn concurrent_operations(&self) -> usize {
        self.max_concurrent_operations
            .unwrap_or_else(|| {
                let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
                (cpus * 3).max(4)
            })
            .max(1)
    }

    /// How long a subject's standing is trusted (at least a second).
    pub fn subject_ttl(&self) -> Duration {
        Duration::from_secs(self.subject_cache_secs.max(1))
    }

    /// The grace period after SIGTERM.
    pub fn shutdown_grace(&self) -> Duration {
        Duration::from_secs(self.shutdown_grace_secs)
    }

    /// Every default with rate limits off: what in-process tests and embedders get unless
    /// they configure the operations layer themselves.
    pub fn unlimited() -> Self {
        let mut config = crate::config::Config::with_database("sqlite::memory:").ops;
        config.rate_limit_anonymous = Quota::Off;
        config.rate_limit_client = Quota::Off;
        config.rate_limit_employee = Quota::Off;
        config.rate_limit_manager = Quota::Off;
        config
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotas_parse() {
        assert_eq!("off".parse::<Quota>(), Ok(Quota::Off));
        assert_eq!(
            "300/m".parse::<Quota>(),
            Ok(Quota::Every {
                burst: 300,
                window: Duration::from_secs(60)
            })
        );
        assert!("0/s".parse::<Quota>().is_err());
        assert!("5/d".parse::<Quota>().is_err());
        assert!("5".parse::<Quota>().is_err());
    }
}
