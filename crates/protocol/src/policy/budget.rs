//! A rate budget shared with other processes: the hook the drivers consult.
//!
//! The call machine does no I/O, so it cannot ask a shared store (Redis, say) when its
//! request may go. With a [`Budget`] attached to the [`Session`](crate::Session), the
//! machine answers [`Step::Reserve`](crate::Step::Reserve) instead of pacing locally: the
//! driver hands the [`Slot`] to the budget, sleeps for the wait it returns, and steps the
//! machine again, which then sends. Without a budget nothing changes.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use sha2::{Digest as _, Sha256};

use crate::auth::credentials::Credentials;
use crate::operation::Operation;
use crate::transport::BoxFuture;

/// A shared pacing budget: says how long a request must wait for its turn.
///
/// Implementations talk to a shared store, so they block ([`Budget::reserve`]) or await
/// ([`Budget::reserve_async`]); drivers call them, the call machine never does. A budget
/// must not fail a call: when its store is unreachable it paces locally instead.
pub trait Budget: Send + Sync + fmt::Debug {
    /// Reserves the next slot for `claim`, blocking for the round trip, and returns how
    /// long to wait before sending (zero: send now).
    fn reserve(&self, claim: &Claim) -> Duration;

    /// Reserves the next slot for `claim` without blocking the thread.
    fn reserve_async<'a>(&'a self, claim: &'a Claim) -> BoxFuture<'a, Duration>;
}

/// What a request asks of the budget: which bucket, at what ceiling, and what the
/// service said since the last claim (so the shared rate adapts for every process).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Claim {
    /// The application: a hex SHA-256 of the API key (never the key itself).
    pub application: Arc<str>,
    /// The operation: Baidu's limit is per application and operation.
    pub operation: Operation,
    /// The client's QPS ceiling (`None`: unpaced until the service refuses a call).
    pub max_qps: Option<f64>,
    /// Whether the rate adapts to the service's rate-limit errors.
    pub adaptive: bool,
    /// The last attempt of this call was refused with a QPS-limit error (18, 4, HTTP 429).
    pub throttled: bool,
    /// Calls of this operation that succeeded in this process since its last claim.
    pub successes: u32,
}

impl Claim {
    /// A claim (for budgets' own tests; calls make theirs).
    pub fn new(
        application: Arc<str>,
        operation: Operation,
        max_qps: Option<f64>,
        adaptive: bool,
        throttled: bool,
        successes: u32,
    ) -> Self {
        Self {
            application,
            operation,
            max_qps,
            adaptive,
            throttled,
            successes,
        }
    }
}

/// A request's turn to take from the budget, handed to the driver by
/// [`Step::Reserve`](crate::Step::Reserve).
pub struct Slot {
    pub(crate) budget: Arc<dyn Budget>,
    pub(crate) claim: Claim,
}

impl Slot {
    /// What is asked.
    pub fn claim(&self) -> &Claim {
        &self.claim
    }

    /// Asks the budget (blocking) and returns how long to sleep before stepping again.
    pub fn reserve(&self) -> Duration {
        self.budget.reserve(&self.claim)
    }

    /// Asks the budget (async) and returns how long to sleep before stepping again.
    pub async fn reserve_async(&self) -> Duration {
        self.budget.reserve_async(&self.claim).await
    }
}

impl fmt::Debug for Slot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Slot")
            .field("budget", &self.budget)
            .field("claim", &self.claim)
            .finish()
    }
}

/// The application's name in a shared store: a hex SHA-256 of the API key (of the access
/// key id for bce-auth-v1, of the token for a fixed token), so no secret and not even the
/// API key is stored.
pub fn application_id(credentials: &Credentials) -> String {
    let identity: &[u8] = match credentials {
        Credentials::ApiKey { api_key, .. } => api_key.as_bytes(),
        Credentials::AccessToken(token) => token.expose_secret().as_bytes(),
        Credentials::BceAuthV1(c) => c.access_key.as_bytes(),
    };
    let mut hasher = Sha256::new();
    hasher.update(b"baidu-imageprocess application\0");
    hasher.update(identity);
    hex::encode(hasher.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_application_id_hides_the_key() {
        let id = application_id(&Credentials::api_key("my-api-key", "sk"));
        assert_eq!(id.len(), 64);
        assert!(!id.contains("my-api-key"));
        assert_eq!(
            id,
            application_id(&Credentials::api_key("my-api-key", "other"))
        );
        assert_ne!(
            id,
            application_id(&Credentials::api_key("my-api-key2", "sk"))
        );
    }
}
