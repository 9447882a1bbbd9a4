//! The blocking client.

use std::sync::Arc;

use baidu_imageprocess_protocol::{Error, ImageReply, Request, TokenInfo, Transport, drive};

use crate::builder::{Blocking, BlockingClientBuilder, BuildError};
use crate::client::{ClientOf, Started};

/// The blocking client. Cheap to clone: clones share one token cache, one rate limiter
/// and one connection pool.
///
/// Every operation has a method taking image bytes or an [`ImageUrl`](crate::ImageUrl)
/// (anything [`AsInput`](crate::AsInput)) and its typed parameters; [`BlockingClient::call`] takes any
/// [`Request`].
pub type BlockingClient = ClientOf<Blocking>;

impl BlockingClientBuilder {
    /// Sends requests with your own HTTP client instead of ureq (a closure works).
    pub fn transport(mut self, transport: impl Transport + Send + Sync + 'static) -> Self {
        self.transport = Some(Arc::new(transport));
        self
    }

    /// Builds the client.
    pub fn build(self) -> Result<BlockingClient, BuildError> {
        let config = self.protocol_config()?;
        let transport = match self.transport {
            Some(t) => t,
            None => default_transport(self.proxy.as_deref(), self.connect_timeout)?,
        };
        let (session, transport) = crate::budget::attach_blocking(&self.budget, config, transport);
        Ok(BlockingClient { session, transport })
    }
}

fn default_transport(
    proxy: Option<&str>,
    connect_timeout: std::time::Duration,
) -> Result<Arc<dyn Transport + Send + Sync>, BuildError> {
    use baidu_imageprocess_transport_blocking::{UreqConfig, UreqTransport};
    let mut config = UreqConfig::default().with_connect_timeout(connect_timeout);
    if let Some(p) = proxy {
        config = config.with_proxy(p);
    }
    Ok(Arc::new(
        UreqTransport::new(&config).map_err(BuildError::Transport)?,
    ))
}

// The per-operation methods take their input by value, as the `impl AsRef<[u8]>` methods
// they grew from did, so `client.dehaze(std::fs::read(path)?)` reads naturally.
#[allow(clippy::needless_pass_by_value)]
impl BlockingClient {
    /// Runs any request: checked against the operation table before anything is sent
    /// (input kind, image limits from the header, parameters), then sent with retries.
    pub fn call(&self, request: &Request<'_>) -> Result<ImageReply, Error> {
        let started = Started::new(request);
        let result = {
            let _entered = started.span.enter();
            self.session
                .request(request, started.at)
                .and_then(|call| drive(&*self.transport, call))
        };
        started.finish(result)
    }

    crate::methods::operation_methods!({} {});

    /// Fetches a fresh access token (and caches it for later calls).
    pub fn token(&self) -> Result<TokenInfo, Error> {
        drive(&*self.transport, self.session.token_call())
    }
}
