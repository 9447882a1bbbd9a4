//! Shared server state: issued tokens, the QPS bucket, fault injection, log ids.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use baidu_imageprocess_engine::Engine;
use baidu_imageprocess_protocol::ErrorCode;
use tokio::sync::Semaphore;

use crate::config::EmulatorConfig;
use crate::fetch::Fetcher;
use crate::stats::Counters;

/// Most tokens remembered; the oldest expired ones are dropped beyond this.
const MAX_TOKENS: usize = 100_000;

pub(crate) struct AppState {
    pub(crate) config: EmulatorConfig,
    pub(crate) counters: Counters,
    pub(crate) engine: Engine,
    pub(crate) workers: Arc<Semaphore>,
    pub(crate) waiting: AtomicUsize,
    pub(crate) fetcher: Fetcher,
    tokens: Mutex<HashMap<String, Instant>>,
    bucket: Mutex<Bucket>,
    rng: Mutex<fastrand::Rng>,
    log_ids: AtomicU64,
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

/// How a presented access token fares.
pub(crate) enum TokenCheck {
    Valid,
    Unknown,
    Expired,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl AppState {
    pub(crate) fn new(config: EmulatorConfig) -> Arc<Self> {
        let seed = config.seed.unwrap_or_else(|| fastrand::u64(..));
        // Log ids: start time in the high bits, a counter below, so ids stay unique
        // across restarts and exceed 2^53 like Baidu's.
        let start = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let workers = config.workers.max(1);
        Arc::new(Self {
            counters: Counters::default(),
            engine: Engine::new(),
            workers: Arc::new(Semaphore::new(workers)),
            waiting: AtomicUsize::new(0),
            fetcher: Fetcher::new(config.fetch_any_url),
            tokens: Mutex::new(HashMap::new()),
            bucket: Mutex::new(Bucket {
                tokens: f64::from(config.qps.unwrap_or(0)),
                updated: Instant::now(),
            }),
            rng: Mutex::new(fastrand::Rng::with_seed(seed)),
            log_ids: AtomicU64::new((start & 0x7FFF_FFFF) << 32),
            config,
        })
    }

    pub(crate) fn next_log_id(&self) -> u64 {
        self.log_ids.fetch_add(1, Ordering::Relaxed) | (1 << 62)
    }

    /// Issues a new random token.
    pub(crate) fn issue_token(&self) -> String {
        let (a, b) = {
            let mut rng = lock(&self.rng);
            (rng.u64(..), rng.u64(..))
        };
        let ttl = self.config.token_ttl.as_secs().max(1);
        let token = format!("24.{a:016x}{b:016x}.{ttl}.emulator");
        let now = Instant::now();
        let mut tokens = lock(&self.tokens);
        if tokens.len() >= MAX_TOKENS {
            tokens.retain(|_, expiry| *expiry > now);
        }
        tokens.insert(token.clone(), now + self.config.token_ttl);
        self.counters.token_issued();
        token
    }

    pub(crate) fn check_token(&self, token: &str) -> TokenCheck {
        match lock(&self.tokens).get(token) {
            None => TokenCheck::Unknown,
            Some(expiry) if Instant::now() >= *expiry => TokenCheck::Expired,
            Some(_) => TokenCheck::Valid,
        }
    }

    /// Takes one request from the QPS bucket (capacity = rate = `qps`).
    pub(crate) fn admit(&self) -> bool {
        let Some(qps) = self.config.qps.filter(|&q| q > 0) else {
            return true;
        };
        let rate = f64::from(qps);
        let mut b = lock(&self.bucket);
        let now = Instant::now();
        b.tokens = (b.tokens + now.duration_since(b.updated).as_secs_f64() * rate).min(rate);
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
        if self.config.fail_rate <= 0.0 {
            return None;
        }
        let mut rng = lock(&self.rng);
        if rng.f64() >= self.config.fail_rate {
            return None;
        }
        Some(match rng.u8(0..3) {
            0 => ErrorCode::UNKNOWN_ERROR,
            1 => ErrorCode::SERVICE_UNAVAILABLE,
            _ => ErrorCode::INTERNAL_ERROR,
        })
    }
}
