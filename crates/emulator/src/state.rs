//! Shared server state: issued tokens, the QPS bucket, fault injection, log ids.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use baidu_imageprocess_engine::Engine;
use baidu_imageprocess_protocol::ErrorCode;
use tokio::sync::Semaphore;

use crate::config::EmulatorConfig;
use crate::fetch::Fetcher;
use crate::service::LogIds;
use crate::stats::Counters;

/// Most tokens remembered: beyond it the oldest is forgotten (answered 110 like an
/// unknown token) even before it expires, so memory stays bounded.
const MAX_TOKENS: usize = 1_000_000;

pub(crate) struct AppState {
    pub(crate) config: EmulatorConfig,
    pub(crate) counters: Counters,
    pub(crate) engine: Engine,
    pub(crate) workers: Arc<Semaphore>,
    /// Operation requests admitted (see [`EmulatorConfig::queue`]).
    pub(crate) admission: Arc<Semaphore>,
    /// Bodies being read (see [`EmulatorConfig::uploads`]).
    pub(crate) uploads: Arc<Semaphore>,
    tokens: Mutex<TokenStore>,
    /// `qps`, `fail-rate`, `latency-ms`, `deny`: read per request, changeable at run time.
    pub(crate) faults: crate::console::LiveFaults,
    pub(crate) fetcher: Fetcher,
    bucket: Mutex<Bucket>,
    rng: Mutex<fastrand::Rng>,
    log_ids: LogIds,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState").finish_non_exhaustive()
    }
}

struct Bucket {
    tokens: f64,
    updated: Instant,
}

/// Issued tokens, expired in amortised constant time: all share one lifetime, so
/// insertion order is expiry order and expired tokens are popped from the front of a
/// queue, each once.
#[derive(Default)]
struct TokenStore {
    expiry: HashMap<String, Instant>,
    order: VecDeque<(Instant, String)>,
    /// How long a token stays known after it expired (its lifetime).
    grace: std::time::Duration,
    /// Queue entries looked at while expiring (for the complexity test).
    examined: u64,
}

impl TokenStore {
    fn insert(&mut self, token: String, now: Instant, ttl: std::time::Duration) {
        self.grace = ttl;
        self.expire(now);
        while self.order.len() >= MAX_TOKENS {
            if let Some((_, oldest)) = self.order.pop_front() {
                self.expiry.remove(&oldest);
            }
        }
        let expiry = now + ttl;
        self.expiry.insert(token.clone(), expiry);
        self.order.push_back((expiry, token));
    }

    /// Forgets expired tokens. A token is reported expired (111) until it is popped, and
    /// unknown (110) after, as a real service eventually forgets them too.
    fn expire(&mut self, now: Instant) {
        while let Some((expiry, _)) = self.order.front() {
            self.examined += 1;
            // Kept for one extra lifetime, so a client still sees "expired" (111) for a
            // while rather than "unknown" (110).
            if *expiry + self.grace > now {
                break;
            }
            if let Some((_, token)) = self.order.pop_front() {
                self.expiry.remove(&token);
            }
        }
    }

    fn check(&self, token: &str, now: Instant) -> TokenCheck {
        match self.expiry.get(token) {
            None => TokenCheck::Unknown,
            Some(expiry) if now >= *expiry => TokenCheck::Expired,
            Some(_) => TokenCheck::Valid,
        }
    }
}

/// How a presented access token fares.
pub(crate) enum TokenCheck {
    Valid,
    Unknown,
    Expired,
}

/// How many requests the QPS bucket holds: a second's worth, and at least one, so a rate
/// below one a second (0.5: one every two seconds) still lets requests through.
fn bucket_capacity(qps: f64) -> f64 {
    qps.max(1.0)
}

/// Seconds since the Unix epoch (signed tokens carry their expiry in it, so every
/// instance reads them alike).
fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The scope of the emulators' shared bucket in the budget's Redis.
const ADMIT_SCOPE: &str = "emulator";

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl AppState {
    pub(crate) fn new(mut config: EmulatorConfig) -> Arc<Self> {
        if !(0.0..=1.0).contains(&config.fail_rate) {
            // NaN or out of range from the builder: the command line refuses these.
            tracing::warn!(
                fail_rate = config.fail_rate,
                "fail rate outside 0..=1; using 0"
            );
            config.fail_rate = 0.0;
        }
        let seed = config.seed.unwrap_or_else(|| fastrand::u64(..));
        // Semaphores panic above `MAX_PERMITS`; nobody needs that many.
        let cap = |n: usize| n.clamp(1, Semaphore::MAX_PERMITS / 2);
        let workers = cap(config.workers);
        let admitted = cap(config.admitted());
        let uploads = cap(config.uploads);
        Arc::new(Self {
            counters: Counters::default(),
            engine: Engine::new(),
            workers: Arc::new(Semaphore::new(workers)),
            admission: Arc::new(Semaphore::new(admitted)),
            uploads: Arc::new(Semaphore::new(uploads)),
            tokens: Mutex::new(TokenStore::default()),
            faults: crate::console::LiveFaults::from_config(&config),
            fetcher: Fetcher::new(config.fetch_any_url),
            bucket: Mutex::new(Bucket {
                tokens: config.qps.map_or(0.0, bucket_capacity),
                updated: Instant::now(),
            }),
            rng: Mutex::new(fastrand::Rng::with_seed(seed)),
            log_ids: LogIds::new(),
            config,
        })
    }

    pub(crate) fn next_log_id(&self) -> u64 {
        self.log_ids.next_id()
    }

    /// Issues a new random token (signed, if `token_secret` is set).
    pub(crate) fn issue_token(&self) -> String {
        let (a, b) = {
            let mut rng = lock(&self.rng);
            (rng.u64(..), rng.u64(..))
        };
        let ttl = self.config.token_ttl.as_secs().max(1);
        if let Some(secret) = &self.config.token_secret {
            self.counters.token_issued();
            return crate::signed_token::issue(secret, a, unix_now() + ttl, ttl);
        }
        let token = format!("24.{a:016x}{b:016x}.{ttl}.emulator");
        lock(&self.tokens).insert(token.clone(), Instant::now(), self.config.token_ttl);
        self.counters.token_issued();
        token
    }

    pub(crate) fn check_token(&self, token: &str) -> TokenCheck {
        if let Some(secret) = &self.config.token_secret
            && let Some(check) = crate::signed_token::check(secret, token, unix_now())
        {
            return check;
        }
        lock(&self.tokens).check(token, Instant::now())
    }

    /// Takes one request from the QPS bucket: the one shared through Redis if a budget is
    /// set and answers, otherwise this instance's own.
    pub(crate) async fn admit(&self) -> bool {
        let Some(rate) = self.faults.qps() else {
            return true;
        };
        if let Some(budget) = &self.config.budget {
            if let Some(admitted) = budget.admit(ADMIT_SCOPE, rate).await {
                return admitted;
            }
            // Redis is lost: this instance's part of the shared QPS (the instances last
            // seen through the budget's heartbeats), so together they keep to --qps.
            return self.admit_local_at(budget.share(ADMIT_SCOPE, rate));
        }
        self.admit_local_at(rate)
    }

    /// Takes one request from this instance's QPS bucket at the full `--qps`.
    #[cfg(test)]
    pub(crate) fn admit_local(&self) -> bool {
        match self.faults.qps() {
            Some(rate) => self.admit_local_at(rate),
            None => true,
        }
    }

    /// Takes one request from this instance's QPS bucket (refilled at `rate`; holds
    /// `rate`, at least 1).
    fn admit_local_at(&self, rate: f64) -> bool {
        let mut b = lock(&self.bucket);
        let now = Instant::now();
        b.tokens = (b.tokens + now.duration_since(b.updated).as_secs_f64() * rate)
            .min(bucket_capacity(rate));
        b.updated = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// An injected failure, if this request draws one.
    pub(crate) fn injected_failure(&self) -> Option<ErrorCode> {
        let fail_rate = self.faults.fail_rate();
        if fail_rate <= 0.0 {
            return None;
        }
        let mut rng = lock(&self.rng);
        if rng.f64() >= fail_rate {
            return None;
        }
        Some(match rng.u8(0..3) {
            0 => ErrorCode::UNKNOWN_ERROR,
            1 => ErrorCode::SERVICE_UNAVAILABLE,
            _ => ErrorCode::INTERNAL_ERROR,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn a_fractional_qps_admits_one_request_then_refuses_until_refilled() {
        let state = AppState::new(EmulatorConfig {
            qps: Some(0.5),
            ..EmulatorConfig::default()
        });
        assert!(state.admit_local(), "the bucket starts with one request");
        assert!(
            !state.admit_local(),
            "0.5 a second: the next one waits two seconds"
        );
        let unlimited = AppState::new(EmulatorConfig::default());
        assert!((0..100).all(|_| unlimited.admit_local()));
    }

    #[test]
    fn tokens_expire_in_amortised_constant_time() {
        let mut store = TokenStore::default();
        let ttl = Duration::from_secs(10);
        let start = Instant::now();
        let n = 300_000u64;
        for i in 0..n {
            // One token per millisecond: after 20 s of them the first ones are forgotten.
            let now = start + Duration::from_millis(i);
            store.insert(format!("t{i}"), now, ttl);
        }
        // Each queue entry is examined at most once when popped, plus once per insert
        // for the entry that stops the scan: linear in total, not quadratic.
        assert!(
            store.examined <= 2 * n,
            "{} entries examined",
            store.examined
        );
        let end = start + Duration::from_millis(n - 1);
        assert!(store.order.len() <= 20_001, "{} kept", store.order.len());
        assert!(matches!(store.check("t0", end), TokenCheck::Unknown));
        assert!(matches!(
            store.check(&format!("t{}", n - 15_000), end),
            TokenCheck::Expired
        ));
        assert!(matches!(
            store.check(&format!("t{}", n - 1), end),
            TokenCheck::Valid
        ));
    }
}
