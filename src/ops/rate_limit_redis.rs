//! Rate-limit buckets shared by every replica (`RATE_LIMIT_REDIS_URL`): the GCRA `governor`
//! runs in-process, as one Lua script in Redis, so read, decide and write are one atomic step
//! and the clock is Redis's own (replicas' clocks never disagree about a bucket).
//!
//! A key is `<prefix><role>:<digest>`, the digest a SHA-256 of the caller's identity as the
//! in-process limiter keys it (subject, or address by /64): Redis never holds a token, and a
//! look at its keys does not list client addresses. Each key expires when its bucket would be
//! full again, so Redis holds only callers seen within their window.

use std::time::Duration;

use redis::Script;
use sha2::{Digest, Sha256};

use super::{
    config::{OpsConfig, RedisUrl},
    rate_limit::{Decision, Key, Limiter},
    redis::RedisLink,
};
use crate::auth::Role;

/// GCRA as `governor` runs it, in microseconds of Redis's clock. ARGV: the period `t` (one
/// token) and `tau` (`t` × (burst − 1)). Answers `{1, capacity left}` (divide by `t` for
/// tokens left) or `{0, wait until a token fits}`.
const GCRA: &str = r"
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) * 1000000 + tonumber(now_parts[2])
local t = tonumber(ARGV[1])
local tau = tonumber(ARGV[2])
local stored = redis.call('GET', KEYS[1])
local tat = now
if stored then tat = tonumber(stored) end
local earliest = tat - tau
if now < earliest then
  return {0, earliest - now}
end
local next_tat = math.max(tat, now) + t
redis.call('SET', KEYS[1], string.format('%d', next_tat), 'PX', math.ceil((next_tat - now) / 1000) + 1)
return {1, t + tau - (next_tat - now)}
";

/// The shared buckets: the script and the link it runs on.
pub struct SharedBuckets {
    link: RedisLink,
    script: Script,
    prefix: String,
}

impl SharedBuckets {
    /// Buckets in the Redis at `url`, under the configured prefix and deadline.
    pub fn new(url: &RedisUrl, config: &OpsConfig) -> Result<Self, String> {
        let timeout = Duration::from_millis(config.rate_limit_redis_timeout_ms.max(1));
        Ok(Self {
            link: RedisLink::new("rate limits", url, timeout)?,
            // EVALSHA, loading the script on NOSCRIPT (a restarted or new Redis).
            script: Script::new(GCRA),
            prefix: config.rate_limit_redis_prefix.clone(),
        })
    }

    /// One token from `key`'s shared bucket under `limiter`'s quota; `None` when Redis did not
    /// answer in time (the caller decides on this replica's bucket instead).
    pub(super) async fn check(
        &self,
        role: Option<Role>,
        key: &Key,
        limiter: &Limiter,
    ) -> Option<Decision> {
        let t = micros(limiter.window) / u64::from(limiter.burst.max(1));
        let t = t.max(1);
        let tau = t.saturating_mul(u64::from(limiter.burst.saturating_sub(1)));
        let name = self.key(role, key);
        let script = &self.script;
        let (allowed, micros_left): (i64, i64) = self
            .link
            .run(|mut conn| async move {
                script
                    .key(name)
                    .arg(t)
                    .arg(tau)
                    .invoke_async(&mut conn)
                    .await
            })
            .await?;
        let micros_left = u64::try_from(micros_left).unwrap_or(0);
        Some(if allowed == 1 {
            let remaining = u32::try_from(micros_left / t).unwrap_or(limiter.burst);
            limiter.allowed(remaining.min(limiter.burst))
        } else {
            limiter.refused(Duration::from_micros(micros_left))
        })
    }

    /// Whether Redis answered the last check in time.
    pub fn is_up(&self) -> bool {
        self.link.is_up()
    }

    /// Asks Redis once.
    pub async fn probe(&self) {
        self.link.probe().await;
    }

    /// The Redis key of a bucket: role in the clear, identity digested.
    fn key(&self, role: Option<Role>, key: &Key) -> String {
        let identity = match key {
            Key::Subject(id) => format!("subject:{id}"),
            Key::Address(ip) => format!("address:{ip}"),
            Key::Shared => "shared".to_owned(),
        };
        let digest = Sha256::digest(identity.as_bytes());
        let role = role.map_or("anonymous", Role::as_claim);
        format!("{}{role}:{}", self.prefix, hex::encode(&digest[..16]))
    }
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}
