//! Pacing while Redis is lost: each process takes its share of the budget (the shared
//! rate last seen, divided by the processes last seen) with the local adaptive limiter.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use baidu_imageprocess_protocol::{Claim, Operation, RateLimit, RateLimiter};

/// What one operation looked like when Redis last answered, and the local limiter that
/// stands in while it does not.
#[derive(Debug, Default)]
struct View {
    /// The shared rate Redis last reported (`None`: unpaced, or never heard).
    rate: Option<f64>,
    /// Processes sharing the budget when Redis last answered.
    members: u64,
    /// Created at the first reservation after Redis is lost; dropped when it answers.
    local: Option<RateLimiter>,
}

/// The fallback limiters of one budget, per operation.
#[derive(Debug, Default)]
pub(crate) struct Fallback {
    views: Mutex<HashMap<Operation, View>>,
    /// Processes last seen, whatever the operation (for the warning).
    members: Mutex<Option<(u64, Option<f64>)>>,
    /// Instances last seen per admission scope (servers sharing a refusing bucket).
    scopes: Mutex<HashMap<String, u64>>,
}

/// The part of a claim the fallback needs.
pub(crate) struct Reservation {
    operation: Operation,
    max_qps: Option<f64>,
    adaptive: bool,
    throttled: bool,
    successes: u32,
}

impl Reservation {
    pub(crate) fn of(claim: &Claim) -> Self {
        Self {
            operation: claim.operation,
            max_qps: claim.max_qps,
            adaptive: claim.adaptive,
            throttled: claim.throttled,
            successes: claim.successes,
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Fallback {
    /// Redis answered for `op`: remember the fleet, drop any local stand-in.
    pub(crate) fn joined(&self, op: Operation, rate: Option<f64>, members: u64) {
        let mut views = lock(&self.views);
        let view = views.entry(op).or_default();
        view.rate = rate;
        view.members = members;
        view.local = None;
        *lock(&self.members) = Some((members, rate));
    }

    /// Paces one request locally at this process's share.
    pub(crate) fn reserve(&self, r: &Reservation, now: Instant) -> Duration {
        let mut views = lock(&self.views);
        let view = views.entry(r.operation).or_default();
        let local = view.local.get_or_insert_with(|| {
            let members = view.members.max(1) as f64;
            let max_qps = view.rate.or(r.max_qps).map(|rate| rate / members);
            let mut limit = RateLimit::default().with_adaptive(r.adaptive);
            limit.max_qps = max_qps;
            RateLimiter::new(limit)
        });
        if r.throttled {
            local.on_throttled(now);
        }
        for _ in 0..r.successes.min(1000) {
            local.on_success();
        }
        local.reserve(now)
    }

    /// Redis answered an admission in `scope` shared by `members` instances at `rate`.
    pub(crate) fn seen_in(&self, scope: &str, rate: f64, members: u64) {
        let mut scopes = lock(&self.scopes);
        match scopes.get_mut(scope) {
            Some(seen) => *seen = members,
            None => {
                scopes.insert(scope.to_owned(), members);
            }
        }
        *lock(&self.members) = Some((members, Some(rate)));
    }

    /// Instances last seen in `scope` (1 if never heard).
    pub(crate) fn members_in(&self, scope: &str) -> u64 {
        lock(&self.scopes).get(scope).copied().unwrap_or(1).max(1)
    }

    /// "1/3 of the budget (1.33 QPS)", for the warning.
    pub(crate) fn describe_share(&self) -> String {
        match *lock(&self.members) {
            Some((members, Some(rate))) => format!(
                "1/{members} of the budget ({:.2} QPS per operation)",
                rate / members.max(1) as f64
            ),
            Some((members, None)) => format!("1/{members} of the budget"),
            None => "the budget's full rate (no other process seen yet)".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn claim(throttled: bool) -> Reservation {
        Reservation::of(&Claim::new(
            Arc::from("app"),
            Operation::Dehaze,
            Some(6.0),
            true,
            throttled,
            0,
        ))
    }

    #[test]
    fn paces_at_the_share_of_the_last_fleet() {
        let f = Fallback::default();
        f.joined(Operation::Dehaze, Some(6.0), 3);
        let t0 = Instant::now();
        let waits: Vec<Duration> = (0..3).map(|_| f.reserve(&claim(false), t0)).collect();
        // 6 QPS shared by 3 processes: 2 QPS here, one request every 500 ms.
        assert_eq!(
            waits,
            [
                Duration::ZERO,
                Duration::from_millis(500),
                Duration::from_secs(1)
            ]
        );
        assert!(f.describe_share().contains("1/3"));
        // Redis answers again: the stand-in goes.
        f.joined(Operation::Dehaze, Some(6.0), 3);
        assert_eq!(f.reserve(&claim(false), t0), Duration::ZERO);
    }
}
