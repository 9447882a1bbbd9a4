//! The shared state of one client, which every call started from it holds:
//! configuration, token cache, rate limiter. Starting calls is `session.rs`'s
//! job (the calls depend on this state, and the session on the calls).

use std::collections::HashMap;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, PoisonError};

use crate::auth::token_cache::TokenCache;
use crate::operation::Operation;
use crate::policy::budget::{Budget, Claim, Slot, application_id};
use crate::policy::config::ClientConfig;
use crate::policy::rate::RateLimiter;
use crate::recycle::Recycler;

/// The shared state of one client: configuration, token cache and rate limiter. Every
/// clone of a client holds the same `Arc<Session>`.
#[derive(Debug)]
pub struct Session {
    pub(crate) config: ClientConfig,
    pub(crate) tokens: TokenCache,
    pub(crate) limiter: Option<RateLimiter>,
    pub(crate) seeds: AtomicU64,
    /// The last request body, taken back for the next one once its call is over.
    pub(crate) bodies: Recycler,
    /// The shared budget that paces calls instead of `limiter`, if one is attached.
    shared: Option<SharedBudget>,
}

/// A shared budget and what this process has to tell it.
#[derive(Debug)]
struct SharedBudget {
    budget: Arc<dyn Budget>,
    application: Arc<str>,
    /// Successes per operation since its last claim: they ride on the next claim, so the
    /// shared rate creeps back up for the whole fleet.
    successes: Mutex<HashMap<Operation, u32>>,
}

impl Session {
    /// Builds the shared state for `config`.
    pub fn new(config: ClientConfig) -> Arc<Self> {
        Self::build(config, None)
    }

    /// Builds the shared state for `config`, paced by a budget shared with other
    /// processes instead of the local limiter: calls then ask their driver for a
    /// [`Step::Reserve`](crate::Step::Reserve) before each request.
    pub fn with_budget(config: ClientConfig, budget: Arc<dyn Budget>) -> Arc<Self> {
        let application = Arc::from(application_id(&config.credentials));
        Self::build(
            config,
            Some(SharedBudget {
                budget,
                application,
                successes: Mutex::new(HashMap::new()),
            }),
        )
    }

    fn build(config: ClientConfig, shared: Option<SharedBudget>) -> Arc<Self> {
        let tokens = TokenCache::new(config.credentials.clone(), config.endpoint.clone());
        let limiter = config.rate_limit.clone().map(RateLimiter::new);
        let seed = config.jitter_seed.unwrap_or_else(|| fastrand::u64(..));
        Arc::new(Self {
            config,
            tokens,
            limiter,
            seeds: AtomicU64::new(seed),
            bodies: Recycler::new(),
            shared,
        })
    }

    /// The shared budget, if one is attached.
    pub fn budget(&self) -> Option<&Arc<dyn Budget>> {
        self.shared.as_ref().map(|s| &s.budget)
    }

    /// The claim on the shared budget for the next request of `op`, if a budget is
    /// attached; it carries the successes recorded since the last claim.
    pub(crate) fn claim(&self, op: Operation, throttled: bool) -> Option<Slot> {
        let shared = self.shared.as_ref()?;
        let successes = shared
            .successes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&op)
            .unwrap_or(0);
        let rate = self.config.rate_limit.as_ref();
        Some(Slot {
            budget: Arc::clone(&shared.budget),
            claim: Claim {
                application: Arc::clone(&shared.application),
                operation: op,
                max_qps: rate.and_then(|r| r.max_qps),
                adaptive: rate.is_some_and(|r| r.adaptive),
                throttled,
                successes,
            },
        })
    }

    /// Records a success of `op` for the shared budget (nothing without one).
    pub(crate) fn record_success(&self, op: Operation) {
        if let Some(shared) = &self.shared {
            *shared
                .successes
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .entry(op)
                .or_default() += 1;
        }
    }

    /// The configuration.
    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// The token cache.
    pub fn token_cache(&self) -> &TokenCache {
        &self.tokens
    }

    /// The rate limiter, if pacing is on.
    pub fn rate_limiter(&self) -> Option<&RateLimiter> {
        self.limiter.as_ref()
    }
}
