//! The adaptive client-side rate limiter (AIMD), shared by every clone of a client.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::policy::RateLimit;

/// Lowest rate the limiter falls to, in requests per second.
const FLOOR_QPS: f64 = 0.2;
/// Above this rate with no ceiling, the limiter stops pacing again.
const UNLIMITED_ABOVE_QPS: f64 = 1000.0;

/// Paces requests to a rate that halves on each QPS-limit error (at most once per
/// second) and creeps back up, by a twentieth of a request per second per success, to the
/// configured ceiling.
#[derive(Debug)]
pub struct RateLimiter {
    config: RateLimit,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    /// Current rate; `None` while unpaced.
    rate: Option<f64>,
    next_slot: Option<Instant>,
    last_decrease: Option<Instant>,
    /// Send times over the last second, to estimate the rate when first throttled.
    recent: std::collections::VecDeque<Instant>,
}

impl RateLimiter {
    /// A limiter with `config`.
    pub fn new(config: RateLimit) -> Self {
        Self {
            state: Mutex::new(State {
                rate: config.max_qps,
                next_slot: None,
                last_decrease: None,
                recent: std::collections::VecDeque::new(),
            }),
            config,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Reserves the next send slot and returns how long to wait for it.
    pub fn reserve(&self, now: Instant) -> Duration {
        let mut s = self.lock();
        while s
            .recent
            .front()
            .is_some_and(|&t| now.duration_since(t) > Duration::from_secs(1))
        {
            s.recent.pop_front();
        }
        let Some(rate) = s.rate else {
            if self.config.adaptive {
                s.recent.push_back(now);
            }
            return Duration::ZERO;
        };
        let slot = s.next_slot.map_or(now, |t| t.max(now));
        s.next_slot = Some(slot + Duration::from_secs_f64(1.0 / rate));
        s.recent.push_back(slot);
        slot - now
    }

    /// Records a QPS-limit error: halves the rate, at most once a second.
    pub fn on_throttled(&self, now: Instant) {
        if !self.config.adaptive {
            return;
        }
        let mut s = self.lock();
        if s.last_decrease
            .is_some_and(|t| now.duration_since(t) < Duration::from_secs(1))
        {
            return;
        }
        let observed = s.recent.len().max(1) as f64;
        let current = s.rate.unwrap_or(observed).min(observed.max(1.0));
        s.rate = Some((current / 2.0).max(FLOOR_QPS));
        s.last_decrease = Some(now);
        tracing::debug!(qps = s.rate, "rate limited by the service; slowing down");
    }

    /// Records a success: the rate creeps back towards the ceiling.
    pub fn on_success(&self) {
        if !self.config.adaptive {
            return;
        }
        let mut s = self.lock();
        let Some(rate) = s.rate else { return };
        let raised = rate + 0.05;
        s.rate = match self.config.max_qps {
            Some(max) => Some(raised.min(max)),
            None if raised > UNLIMITED_ABOVE_QPS => None,
            None => Some(raised),
        };
    }

    /// The current paced rate, if any.
    pub fn current_qps(&self) -> Option<f64> {
        self.lock().rate
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paces_at_the_ceiling() {
        let l = RateLimiter::new(RateLimit::qps(5.0));
        let t0 = Instant::now();
        let waits: Vec<Duration> = (0..5).map(|_| l.reserve(t0)).collect();
        assert_eq!(waits[0], Duration::ZERO);
        assert_eq!(waits[4], Duration::from_millis(800));
    }

    #[test]
    fn halves_then_recovers_to_the_ceiling() {
        let l = RateLimiter::new(RateLimit::qps(10.0));
        let t0 = Instant::now();
        l.on_throttled(t0);
        assert!(l.current_qps().unwrap() <= 5.0);
        l.on_throttled(t0 + Duration::from_millis(10)); // same burst: no second halving
        assert!(l.current_qps().unwrap() >= 0.5);
        for _ in 0..1000 {
            l.on_success();
        }
        assert_eq!(l.current_qps(), Some(10.0));
    }

    #[test]
    fn unlimited_until_throttled() {
        let l = RateLimiter::new(RateLimit::default());
        let t0 = Instant::now();
        for _ in 0..20 {
            assert_eq!(l.reserve(t0), Duration::ZERO);
        }
        l.on_throttled(t0);
        assert_eq!(l.current_qps(), Some(10.0));
        assert!(l.reserve(t0) <= Duration::from_millis(100));
    }
}
