//! A client's configuration, as plain data.

use std::time::SystemTime;

use crate::auth::credentials::Credentials;
use crate::endpoint::Endpoint;
use crate::policy::{RateLimit, RetryPolicy, Timeouts};

/// Everything a client is configured with. Plain data; [`Session::new`](crate::Session::new) turns it into the
/// shared state of a client.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ClientConfig {
    /// Where requests go.
    pub endpoint: Endpoint,
    /// How requests are authenticated.
    pub credentials: Credentials,
    /// Retries.
    pub retry: RetryPolicy,
    /// Time limits.
    pub timeouts: Timeouts,
    /// Client-side rate limit; `None` disables pacing entirely (even adaptive).
    pub rate_limit: Option<RateLimit>,
    /// The `User-Agent` header.
    pub user_agent: String,
    /// The wall clock, for bce-auth-v1 timestamps (injectable for tests).
    pub wall_clock: fn() -> SystemTime,
    /// Seed for backoff jitter (`None`: random).
    pub jitter_seed: Option<u64>,
}

impl ClientConfig {
    /// Defaults for `credentials`: Baidu's endpoint, default retries and timeouts,
    /// adaptive rate limiting without a ceiling.
    pub fn new(credentials: Credentials) -> Self {
        Self {
            endpoint: Endpoint::baidu(),
            credentials,
            retry: RetryPolicy::default(),
            timeouts: Timeouts::default(),
            rate_limit: Some(RateLimit::default()),
            user_agent: concat!("baidu-imageprocess-rs/", env!("CARGO_PKG_VERSION")).to_owned(),
            wall_clock: SystemTime::now,
            jitter_seed: None,
        }
    }

    /// Sets the endpoint.
    #[must_use]
    pub fn with_endpoint(mut self, endpoint: Endpoint) -> Self {
        self.endpoint = endpoint;
        self
    }

    /// Sets the retry policy.
    #[must_use]
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Sets the timeouts.
    #[must_use]
    pub fn with_timeouts(mut self, timeouts: Timeouts) -> Self {
        self.timeouts = timeouts;
        self
    }

    /// Sets the rate limit (`None`: never pace).
    #[must_use]
    pub fn with_rate_limit(mut self, rate_limit: Option<RateLimit>) -> Self {
        self.rate_limit = rate_limit;
        self
    }

    /// Sets the `User-Agent`.
    #[must_use]
    pub fn with_user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    /// Sets the wall clock used for signing.
    #[must_use]
    pub fn with_wall_clock(mut self, clock: fn() -> SystemTime) -> Self {
        self.wall_clock = clock;
        self
    }

    /// Seeds backoff jitter, for reproducible runs.
    #[must_use]
    pub fn with_jitter_seed(mut self, seed: u64) -> Self {
        self.jitter_seed = Some(seed);
        self
    }
}
