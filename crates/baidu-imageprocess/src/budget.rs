//! Feature `redis`: a QPS budget and an access token shared with other processes
//! through Redis ([`baidu_imageprocess_redis`]). Without a budget, clients are built
//! exactly as before.

use std::sync::Arc;

#[cfg(feature = "async")]
use baidu_imageprocess_protocol::DynAsyncTransport;
#[cfg(feature = "blocking")]
use baidu_imageprocess_protocol::Transport;
use baidu_imageprocess_protocol::{ClientConfig, Session};

#[cfg(feature = "redis")]
use crate::builder::{Builder, Flavor};

/// The budget attached to a builder, if any (always `None` without the feature).
#[cfg(feature = "redis")]
pub(crate) type Attached = Option<baidu_imageprocess_redis::RedisBudget>;
/// The budget attached to a builder, if any (always `None` without the feature).
#[cfg(not(feature = "redis"))]
pub(crate) type Attached = Option<std::convert::Infallible>;

#[cfg(feature = "redis")]
impl<K: Flavor> Builder<K> {
    /// Shares the QPS budget and the access token with every process (on any machine)
    /// that uses the same Redis and the same API key: the client's
    /// [`qps`](Builder::qps) becomes the whole fleet's rate per operation, an error 18
    /// seen by any process slows all of them, and one process fetches the token for all.
    /// If Redis goes away, the client paces itself at its share and no call fails.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use baidu_imageprocess::{Client, RedisBudget};
    ///
    /// let budget = RedisBudget::connect("redis://127.0.0.1:6379/0")?;
    /// let client = Client::builder()
    ///     .api_key("API_KEY", "SECRET_KEY")
    ///     .qps(2.0)
    ///     .budget(budget)
    ///     .build()?;
    /// # let _ = client; Ok(()) }
    /// ```
    pub fn budget(mut self, budget: baidu_imageprocess_redis::RedisBudget) -> Self {
        self.budget = Some(budget);
        self
    }
}

/// The session for `config`, paced by the attached budget if there is one.
// Without the feature, `Attached` is an always-empty `Option`.
#[cfg_attr(not(feature = "redis"), allow(clippy::trivially_copy_pass_by_ref))]
fn session(budget: &Attached, config: ClientConfig) -> Arc<Session> {
    match budget {
        #[cfg(feature = "redis")]
        Some(budget) => Session::with_budget(config, Arc::new(budget.clone())),
        #[allow(unreachable_patterns)]
        _ => Session::new(config),
    }
}

/// The async client's session and transport, sharing the token if a budget is attached.
// Without the feature, `Attached` is an always-empty `Option`.
#[cfg_attr(not(feature = "redis"), allow(clippy::trivially_copy_pass_by_ref))]
#[cfg(feature = "async")]
pub(crate) fn attach_async(
    budget: &Attached,
    config: ClientConfig,
    transport: Arc<dyn DynAsyncTransport>,
) -> (Arc<Session>, Arc<dyn DynAsyncTransport>) {
    match budget {
        #[cfg(feature = "redis")]
        Some(b) => {
            let shared = Arc::new(b.share_token(&config.credentials, transport));
            (session(budget, config), shared)
        }
        #[allow(unreachable_patterns)]
        _ => (session(budget, config), transport),
    }
}

/// The blocking client's session and transport, sharing the token if a budget is
/// attached.
// Without the feature, `Attached` is an always-empty `Option`.
#[cfg_attr(not(feature = "redis"), allow(clippy::trivially_copy_pass_by_ref))]
#[cfg(feature = "blocking")]
pub(crate) fn attach_blocking(
    budget: &Attached,
    config: ClientConfig,
    transport: Arc<dyn Transport + Send + Sync>,
) -> (Arc<Session>, Arc<dyn Transport + Send + Sync>) {
    match budget {
        #[cfg(feature = "redis")]
        Some(b) => {
            let shared = Arc::new(b.share_token(&config.credentials, transport));
            (session(budget, config), shared)
        }
        #[allow(unreachable_patterns)]
        _ => (session(budget, config), transport),
    }
}
