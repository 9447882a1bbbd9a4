//! The async client.

use std::sync::Arc;

use baidu_imageprocess_protocol::{
    AsyncTransport, DynAsyncTransport, Error, ImageReply, Request, TokenInfo,
};
use tracing::Instrument as _;

use crate::builder::{Async, BuildError, ClientBuilder};
use crate::client::{ClientOf, Started};

/// The async client. Cheap to clone: clones share one token cache, one rate limiter and
/// one connection pool.
///
/// Every operation has a method taking image bytes or an [`ImageUrl`](crate::ImageUrl)
/// (anything [`AsInput`](crate::AsInput)) and its typed parameters; [`Client::call`] takes any
/// [`Request`].
pub type Client = ClientOf<Async>;

impl ClientBuilder {
    /// Sends requests with your own HTTP client instead of reqwest.
    pub fn transport(mut self, transport: impl AsyncTransport + 'static) -> Self {
        self.transport = Some(Arc::new(transport));
        self
    }

    /// Builds the client.
    pub fn build(self) -> Result<Client, BuildError> {
        let config = self.protocol_config()?;
        let transport: Arc<dyn DynAsyncTransport> = match self.transport {
            Some(t) => t,
            None => default_transport(self.proxy.as_deref(), self.connect_timeout)?,
        };
        let (session, transport) = crate::budget::attach_async(&self.budget, config, transport);
        Ok(Client { session, transport })
    }
}

fn default_transport(
    proxy: Option<&str>,
    connect_timeout: std::time::Duration,
) -> Result<Arc<dyn DynAsyncTransport>, BuildError> {
    use baidu_imageprocess_transport_async::{ReqwestConfig, ReqwestTransport};
    let mut config = ReqwestConfig::default().with_connect_timeout(connect_timeout);
    if let Some(p) = proxy {
        config = config.with_proxy(p);
    }
    Ok(Arc::new(
        ReqwestTransport::new(&config).map_err(BuildError::Transport)?,
    ))
}

// The per-operation methods take their input by value, as the `impl AsRef<[u8]>` methods
// they grew from did, so `client.dehaze(std::fs::read(path)?)` reads naturally.
#[allow(clippy::needless_pass_by_value)]
impl Client {
    /// Runs any request: checked against the operation table before anything is sent
    /// (input kind, image limits from the header, parameters), then sent with retries.
    pub async fn call(&self, request: &Request<'_>) -> Result<ImageReply, Error> {
        let started = Started::new(request);
        let result = async {
            let call = self.session.request(request, started.at)?;
            baidu_imageprocess_transport_async::run(&*self.transport, call).await
        }
        .instrument(started.span.clone())
        .await;
        started.finish(result)
    }

    crate::methods::operation_methods!({async} {.await});

    /// Fetches a fresh access token (and caches it for later calls).
    pub async fn token(&self) -> Result<TokenInfo, Error> {
        baidu_imageprocess_transport_async::run(&*self.transport, self.session.token_call()).await
    }
}
