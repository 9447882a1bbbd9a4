//! Concurrent async reservations of one process share one script call.
//!
//! Whoever reserves while no call of its group is in flight leads: it sends one script
//! call for itself and for everyone who queued behind the previous call, and hands each
//! its turn. The next queued request then leads the next call. A group is one
//! application, operation, ceiling and adaptivity (one Redis bucket, one set of script
//! arguments). Under load each round trip serves the whole queue, so a process's
//! reservations per second are no longer bounded by one round trip per reservation;
//! alone, a request still makes exactly one call, with no added delay.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use baidu_imageprocess_protocol::{Claim, Operation};
use tokio::sync::oneshot;

/// Most requests one script call reserves for. It only bounds one reply's work: turns
/// are consecutive whatever the batch's size, as calls back to back would give them.
pub(crate) const MAX_BATCH: usize = 1024;

/// The requests that can share one script call.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct GroupKey {
    application: Arc<str>,
    operation: Operation,
    /// The ceiling's bits (`f64` is not `Hash`).
    ceiling: Option<u64>,
    adaptive: bool,
}

impl GroupKey {
    pub(crate) fn of(claim: &Claim) -> Self {
        Self {
            application: Arc::clone(&claim.application),
            operation: claim.operation,
            ceiling: claim.max_qps.map(f64::to_bits),
            adaptive: claim.adaptive,
        }
    }
}

/// What a queued request hears from the call it waited for.
pub(crate) enum Message {
    /// Its turn: how long to wait before sending.
    Turn(Duration),
    /// It leads the group's next call.
    Lead(Leading),
}

/// A request queued behind the group's call in flight.
pub(crate) struct Waiter {
    pub(crate) claim: Claim,
    pub(crate) reply: oneshot::Sender<Message>,
}

#[derive(Default)]
struct Group {
    queue: VecDeque<Waiter>,
}

/// The groups with a call in flight (a group is present while it has a leader).
#[derive(Default)]
pub(crate) struct Batches {
    groups: Mutex<HashMap<GroupKey, Group>>,
}

/// A request's part in its group.
pub(crate) enum Role {
    /// No call was in flight: this request makes the next one.
    Lead(Leading),
    /// A call is in flight: wait for its turn, or to lead the next call.
    Wait(oneshot::Receiver<Message>),
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Batches {
    /// Joins `claim`'s group: leads if no call is in flight, queues otherwise.
    pub(crate) fn join(self: &Arc<Self>, claim: &Claim) -> Role {
        let key = GroupKey::of(claim);
        let mut groups = lock(&self.groups);
        if let Some(group) = groups.get_mut(&key) {
            let (reply, receiver) = oneshot::channel();
            group.queue.push_back(Waiter {
                claim: claim.clone(),
                reply,
            });
            return Role::Wait(receiver);
        }
        groups.insert(key.clone(), Group::default());
        Role::Lead(Leading {
            batches: Arc::clone(self),
            key,
            armed: true,
        })
    }

    /// The requests queued for the leader's call (at most [`MAX_BATCH`]).
    fn take(&self, key: &GroupKey) -> Vec<Waiter> {
        let mut groups = lock(&self.groups);
        groups.get_mut(key).map_or_else(Vec::new, |group| {
            let n = group.queue.len().min(MAX_BATCH);
            group.queue.drain(..n).collect()
        })
    }

    /// The leader is done: the first queued request still waiting leads next, or the
    /// group has no call in flight any more.
    fn hand_off(self: &Arc<Self>, key: &GroupKey) {
        let mut groups = lock(&self.groups);
        let Some(group) = groups.get_mut(key) else {
            return;
        };
        while let Some(next) = group.queue.pop_front() {
            let lead = Leading {
                batches: Arc::clone(self),
                key: key.clone(),
                armed: true,
            };
            match next.reply.send(Message::Lead(lead)) {
                Ok(()) => return,
                // That request was dropped: disarm its lead (it must not hand off again
                // while the lock is held) and try the next one.
                Err(Message::Lead(mut lead)) => lead.armed = false,
                Err(Message::Turn(_)) => {}
            }
        }
        groups.remove(key);
    }
}

/// The right to make a group's next call. Dropping it (the call is over, or the
/// leader's future was dropped mid-call, or the request chosen to lead next is gone)
/// hands the lead on, so a group never waits for a leader that will not come.
pub(crate) struct Leading {
    batches: Arc<Batches>,
    key: GroupKey,
    armed: bool,
}

impl Leading {
    /// The requests this leader's call serves besides its own.
    pub(crate) fn take(&self) -> Vec<Waiter> {
        self.batches.take(&self.key)
    }
}

impl Drop for Leading {
    fn drop(&mut self) {
        if self.armed {
            self.batches.hand_off(&self.key);
        }
    }
}

/// The turns one script call reserved: consecutive, `interval` apart, the first
/// starting `start` from when Redis answered.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Turns {
    pub(crate) start_us: i64,
    pub(crate) interval_ns: i64,
    pub(crate) burst: u32,
}

impl Turns {
    /// How long the `j`-th request (from 0) waits: its turn's start, less the burst's
    /// allowance (GCRA), never negative.
    pub(crate) fn wait(&self, j: usize) -> Duration {
        let start = i128::from(self.start_us) * 1000;
        let interval = i128::from(self.interval_ns.max(0));
        let ahead = j as i128 - (i128::from(self.burst.max(1)) - 1);
        let ns = start + ahead * interval;
        Duration::from_nanos(u64::try_from(ns.max(0)).unwrap_or(u64::MAX))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claim() -> Claim {
        Claim::new(
            Arc::from("app"),
            Operation::Dehaze,
            Some(5.0),
            true,
            false,
            0,
        )
    }

    #[test]
    fn turns_are_consecutive_less_the_burst() {
        let t = Turns {
            start_us: 1_000,
            interval_ns: 200_000_000,
            burst: 1,
        };
        assert_eq!(t.wait(0), Duration::from_millis(1));
        assert_eq!(t.wait(2), Duration::from_millis(401));
        let burst = Turns { burst: 3, ..t };
        assert_eq!(burst.wait(0), Duration::ZERO);
        assert_eq!(burst.wait(2), Duration::from_millis(1));
    }

    #[test]
    fn the_lead_passes_to_the_next_request_still_waiting() {
        let batches = Arc::new(Batches::default());
        let Role::Lead(first) = batches.join(&claim()) else {
            panic!("nobody was leading");
        };
        let Role::Wait(gone) = batches.join(&claim()) else {
            panic!("two leaders");
        };
        let Role::Wait(mut next) = batches.join(&claim()) else {
            panic!("two leaders");
        };
        drop(gone);
        // The leader's future is dropped mid-call: the queued request still waiting
        // leads, the one that went away is skipped.
        drop(first);
        let Ok(Message::Lead(second)) = next.try_recv() else {
            panic!("no one leads");
        };
        assert!(second.take().is_empty());
        drop(second);
        assert!(
            matches!(batches.join(&claim()), Role::Lead(_)),
            "group idle"
        );
    }
}
