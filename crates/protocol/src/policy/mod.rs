//! Layer 3, policy: the plain-data policies shared by both clients (retries, timeouts,
//! rate limit, defined here), the adaptive rate limiter that applies the rate limit
//! ([`rate`]) and the whole client configuration ([`config`]).

pub(crate) mod budget;
pub(crate) mod config;
pub(crate) mod rate;

use std::time::Duration;

/// How failed attempts are retried.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// Most failed attempts before a call gives up (1 disables retries). Every failed
    /// request counts, token requests included; a successful token fetch and the one
    /// token refresh after error 110/111 do not.
    pub max_attempts: u32,
    /// First backoff after a transient failure; doubles each retry.
    pub initial_backoff: Duration,
    /// First backoff after a rate-limit error (4, 18, HTTP 429).
    pub throttled_backoff: Duration,
    /// Longest single backoff.
    pub max_backoff: Duration,
    /// Full jitter: each backoff is uniform in `0..=delay` (spreads out clients that
    /// failed together). Off makes delays exact, for tests.
    pub jitter: bool,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 8,
            initial_backoff: Duration::from_millis(100),
            throttled_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(10),
            jitter: true,
        }
    }
}

impl RetryPolicy {
    /// No retries: every failure surfaces at once.
    pub fn disabled() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// Sets [`RetryPolicy::max_attempts`] (at least 1).
    #[must_use]
    pub fn with_max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// Sets [`RetryPolicy::initial_backoff`].
    #[must_use]
    pub fn with_initial_backoff(mut self, delay: Duration) -> Self {
        self.initial_backoff = delay;
        self
    }

    /// Sets [`RetryPolicy::throttled_backoff`].
    #[must_use]
    pub fn with_throttled_backoff(mut self, delay: Duration) -> Self {
        self.throttled_backoff = delay;
        self
    }

    /// Sets [`RetryPolicy::max_backoff`].
    #[must_use]
    pub fn with_max_backoff(mut self, delay: Duration) -> Self {
        self.max_backoff = delay;
        self
    }

    /// Sets [`RetryPolicy::jitter`].
    #[must_use]
    pub fn with_jitter(mut self, jitter: bool) -> Self {
        self.jitter = jitter;
        self
    }

    /// The backoff before retry number `retry` (0 for the first retry). `random` is a
    /// uniform sample in `0..1`, used when jitter is on.
    pub fn backoff(&self, retry: u32, throttled: bool, random: f64) -> Duration {
        let base = if throttled {
            self.throttled_backoff
        } else {
            self.initial_backoff
        };
        let exp = base.saturating_mul(1u32 << retry.min(20));
        let capped = exp.min(self.max_backoff);
        if self.jitter {
            capped.mul_f64(random.clamp(0.0, 1.0))
        } else {
            capped
        }
    }
}

/// Time limits for a call. (The connect timeout is the transport's own setting: the
/// protocol never connects.)
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Timeouts {
    /// Most time for one request/response exchange.
    pub attempt: Duration,
    /// Most time for the whole call, retries and backoff included.
    pub total: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            attempt: Duration::from_secs(60),
            total: Duration::from_secs(180),
        }
    }
}

impl Timeouts {
    /// Sets [`Timeouts::attempt`].
    #[must_use]
    pub fn with_attempt(mut self, d: Duration) -> Self {
        self.attempt = d;
        self
    }

    /// Sets [`Timeouts::total`] (and caps the attempt timeout to it).
    #[must_use]
    pub fn with_total(mut self, d: Duration) -> Self {
        self.total = d;
        self
    }
}

/// Client-side rate limiting.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct RateLimit {
    /// The most requests per second ever sent (`None`: no ceiling).
    pub max_qps: Option<f64>,
    /// On a QPS-limit error, lower the rate (halve it), then creep back up while calls
    /// succeed.
    pub adaptive: bool,
}

impl Default for RateLimit {
    fn default() -> Self {
        Self {
            max_qps: None,
            adaptive: true,
        }
    }
}

impl RateLimit {
    /// At most `qps` requests per second, adapting below it on rate-limit errors.
    pub fn qps(qps: f64) -> Self {
        Self {
            max_qps: (qps.is_finite() && qps > 0.0).then_some(qps),
            adaptive: true,
        }
    }

    /// Sets [`RateLimit::adaptive`].
    #[must_use]
    pub fn with_adaptive(mut self, adaptive: bool) -> Self {
        self.adaptive = adaptive;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps() {
        let p = RetryPolicy::default().with_jitter(false);
        assert_eq!(p.backoff(0, false, 0.0), Duration::from_millis(100));
        assert_eq!(p.backoff(1, false, 0.0), Duration::from_millis(200));
        assert_eq!(p.backoff(3, true, 0.0), Duration::from_secs(4));
        assert_eq!(p.backoff(30, false, 0.0), Duration::from_secs(10));
        let j = RetryPolicy::default();
        assert_eq!(j.backoff(1, false, 0.5), Duration::from_millis(100));
    }
}
