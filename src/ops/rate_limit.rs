//! Per-caller rate limits: one keyed token bucket (`governor`, GCRA) per role, keyed by the
//! token's subject, or by client IP for anonymous callers (IPv6 by /64, since one host owns a
//! whole /64). HTTP requests and WebSocket operations draw from the same bucket.
//!
//! Memory stays bounded: idle keys are evicted every [`SWEEP_EVERY`], and once a limiter holds
//! [`MAX_KEYS`] callers, new anonymous addresses share one overflow bucket until the next
//! sweep, so a flood from many addresses slows itself down instead of growing the table.
//!
//! With `RATE_LIMIT_REDIS_URL`, a caller's bucket is one across replicas: the same GCRA runs
//! as one Lua script in Redis ([`super::rate_limit_redis`]), and a check Redis cannot answer in time falls back
//! to this replica's own bucket for that check. Otherwise limits hold per replica (see README).

use std::{net::IpAddr, num::NonZeroU32, sync::Arc, time::Duration};

use axum::http::{HeaderMap, HeaderValue};
use governor::{
    Quota as Gcra, RateLimiter, clock::Clock, clock::DefaultClock,
    middleware::StateInformationMiddleware, state::keyed::DefaultKeyedStateStore,
};

use super::config::{OpsConfig, Quota};
use super::rate_limit_redis::SharedBuckets;
use crate::auth::{Caller, Role};

/// How often idle keys are evicted.
pub const SWEEP_EVERY: Duration = Duration::from_secs(10);
/// Callers a limiter tracks before new anonymous addresses share one bucket.
pub const MAX_KEYS: usize = 100_000;

/// Who a bucket belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) enum Key {
    /// A signed-in caller, by subject.
    Subject(i32),
    /// An anonymous caller, by address (IPv6 truncated to its /64).
    Address(IpAddr),
    /// Anonymous callers whose address is unknown, or who arrive while the table is full.
    Shared,
}

type Keyed =
    RateLimiter<Key, DefaultKeyedStateStore<Key>, DefaultClock, StateInformationMiddleware>;

/// One role's quota and this replica's buckets for it.
pub(super) struct Limiter {
    keyed: Keyed,
    /// The bucket size.
    pub(super) burst: u32,
    /// The time a full bucket takes to refill.
    pub(super) window: Duration,
}

/// What the limiter said about one request: its headers go on every response.
#[derive(Debug, Clone)]
pub struct Decision {
    /// Whether the request may proceed.
    pub allowed: bool,
    /// The bucket size.
    pub limit: u32,
    /// Requests left in the bucket.
    pub remaining: u32,
    /// Seconds until the bucket is full again (or, when refused, until the next request fits).
    pub reset_secs: u64,
    /// The window of the policy, in seconds.
    pub window_secs: u64,
}

impl Decision {
    /// Adds `RateLimit-Limit`, `-Remaining`, `-Reset` and `-Policy` (IETF draft
    /// `ratelimit-headers`), plus `Retry-After` when refused.
    pub fn apply(&self, headers: &mut HeaderMap) {
        let mut set = |name: &'static str, value: String| {
            if let Ok(value) = HeaderValue::from_str(&value) {
                headers.insert(name, value);
            }
        };
        set("ratelimit-limit", self.limit.to_string());
        set("ratelimit-remaining", self.remaining.to_string());
        set("ratelimit-reset", self.reset_secs.to_string());
        set(
            "ratelimit-policy",
            format!("{};w={}", self.limit, self.window_secs),
        );
        if !self.allowed {
            set("retry-after", self.reset_secs.max(1).to_string());
        }
    }
}

/// The rate limiters of one gateway, one per role.
#[derive(Clone)]
pub struct RateLimits {
    /// Anonymous, client, employee, manager.
    by_role: Arc<[Option<Limiter>; 4]>,
    /// The buckets every replica shares, when configured.
    shared: Option<Arc<SharedBuckets>>,
}

impl Limiter {
    /// One check on this replica's own bucket.
    fn check_local(&self, key: Key) -> Decision {
        let key = match key {
            Key::Address(_) if self.keyed.len() >= MAX_KEYS => Key::Shared,
            key => key,
        };
        match self.keyed.check_key(&key) {
            Ok(snapshot) => self.allowed(snapshot.remaining_burst_capacity()),
            Err(not_until) => self.refused(not_until.wait_time_from(self.keyed.clock().now())),
        }
    }

    /// The answer for an allowed request that leaves `remaining` tokens.
    pub(super) fn allowed(&self, remaining: u32) -> Decision {
        let missing = self.burst.saturating_sub(remaining);
        let per_token = self.window.as_secs_f64() / f64::from(self.burst);
        Decision {
            allowed: true,
            limit: self.burst,
            remaining,
            reset_secs: (f64::from(missing) * per_token).ceil() as u64,
            window_secs: self.window.as_secs().max(1),
        }
    }

    /// The answer for a refused request that would fit after `wait`.
    pub(super) fn refused(&self, wait: Duration) -> Decision {
        Decision {
            allowed: false,
            limit: self.burst,
            remaining: 0,
            reset_secs: wait.as_secs_f64().ceil().max(1.0) as u64,
            window_secs: self.window.as_secs().max(1),
        }
    }
}

fn limiter(quota: Quota) -> Option<Limiter> {
    let Quota::Every { burst, window } = quota else {
        return None;
    };
    let burst_nz = NonZeroU32::new(burst)?;
    let period = window.checked_div(burst)?.max(Duration::from_nanos(1));
    let gcra = Gcra::with_period(period)?.allow_burst(burst_nz);
    Some(Limiter {
        keyed: RateLimiter::dashmap(gcra).with_middleware::<StateInformationMiddleware>(),
        burst,
        window,
    })
}

fn slot(role: Option<Role>) -> usize {
    match role {
        None => 0,
        Some(Role::Client) => 1,
        Some(Role::Employee) => 2,
        Some(Role::Manager) => 3,
    }
}

impl RateLimits {
    /// The limiters a configuration asks for (the shared ones connect on first use).
    pub fn from_config(config: &OpsConfig) -> Result<Self, String> {
        let shared = match &config.rate_limit_redis_url {
            Some(url) => Some(Arc::new(SharedBuckets::new(url, config)?)),
            None => None,
        };
        Ok(Self {
            by_role: Arc::new([
                limiter(config.rate_limit_anonymous),
                limiter(config.rate_limit_client),
                limiter(config.rate_limit_employee),
                limiter(config.rate_limit_manager),
            ]),
            shared,
        })
    }

    /// Takes one token from the caller's bucket (the shared one when Redis answers in time,
    /// else this replica's); `None` when the caller's role is unlimited.
    pub async fn check(&self, caller: &Caller, client: Option<IpAddr>) -> Option<Decision> {
        let role = caller.role();
        let limiter = self.by_role[slot(role)].as_ref()?;
        let key = match caller.viewer() {
            Some(viewer) => Key::Subject(viewer.customer_id),
            None => client.map_or(Key::Shared, |ip| Key::Address(network_of(ip))),
        };
        if let Some(shared) = &self.shared
            && let Some(decision) = shared.check(role, &key, limiter).await
        {
            return Some(decision);
        }
        Some(limiter.check_local(key))
    }

    /// Whether the shared buckets' Redis answers (`None`: none configured).
    pub fn redis_up(&self) -> Option<bool> {
        self.shared.as_ref().map(|shared| shared.is_up())
    }

    /// Asks the shared buckets' Redis once (at start-up), so its state is known early.
    pub async fn probe(&self) {
        if let Some(shared) = &self.shared {
            shared.probe().await;
        }
    }

    /// Forgets callers whose buckets are full again (they would start fresh anyway).
    pub fn sweep(&self) {
        for limiter in self.by_role.iter().flatten() {
            limiter.keyed.retain_recent();
            limiter.keyed.shrink_to_fit();
        }
    }

    /// Callers currently tracked, over every role.
    pub fn keys(&self) -> usize {
        self.by_role.iter().flatten().map(|l| l.keyed.len()).sum()
    }
}

/// The unit of an anonymous bucket: the address itself for IPv4, its /64 for IPv6.
pub(crate) fn network_of(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return IpAddr::V4(v4);
            }
            let bits = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(bits.into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_callers_share_their_slash_64() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::2".parse().unwrap();
        assert_eq!(network_of(a), network_of(b));
        let v4: IpAddr = "192.0.2.7".parse().unwrap();
        assert_eq!(network_of(v4), v4);
    }

    #[tokio::test]
    async fn a_burst_is_allowed_then_refused_with_a_wait() {
        let mut config = OpsConfig::unlimited();
        config.rate_limit_anonymous = "3/m".parse().unwrap();
        let limits = RateLimits::from_config(&config).unwrap();
        let ip = Some("192.0.2.7".parse().unwrap());
        let caller = Caller(None);
        let mut remaining = Vec::new();
        for _ in 0..3 {
            remaining.push(limits.check(&caller, ip).await.unwrap().remaining);
        }
        assert_eq!(remaining, vec![2, 1, 0]);
        let refused = limits.check(&caller, ip).await.unwrap();
        assert!(!refused.allowed);
        assert!(refused.reset_secs >= 1 && refused.reset_secs <= 20);
        let other = limits
            .check(&caller, Some("192.0.2.8".parse().unwrap()))
            .await
            .unwrap();
        assert!(other.allowed, "another address has its own bucket");
    }
}
