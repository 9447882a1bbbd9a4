//! The shared state of one client, which every call started from it holds:
//! configuration, token cache, rate limiter. Starting calls is `session.rs`'s
//! job (the calls depend on this state, and the session on the calls).

use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use crate::auth::token_cache::TokenCache;
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
}

impl Session {
    /// Builds the shared state for `config`.
    pub fn new(config: ClientConfig) -> Arc<Self> {
        let tokens = TokenCache::new(config.credentials.clone(), config.endpoint.clone());
        let limiter = config.rate_limit.clone().map(RateLimiter::new);
        let seed = config.jitter_seed.unwrap_or_else(|| fastrand::u64(..));
        Arc::new(Self {
            config,
            tokens,
            limiter,
            seeds: AtomicU64::new(seed),
            bodies: Recycler::new(),
        })
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
