//! The blocking client.

use std::sync::Arc;
use std::time::Instant;

use baidu_imageprocess_protocol::{
    Error, ImageReply, Operation, Session, TokenInfo, Transport, drive,
};

use crate::builder::{BlockingClientBuilder, BuildError};
use crate::observe;

/// The blocking client. Cheap to clone: clones share one token cache, one rate limiter
/// and one connection pool.
#[derive(Clone)]
pub struct BlockingClient {
    session: Arc<Session>,
    transport: Arc<dyn Transport + Send + Sync>,
}

impl std::fmt::Debug for BlockingClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlockingClient")
            .field("endpoint", &self.session.config().endpoint)
            .finish_non_exhaustive()
    }
}

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
        Ok(BlockingClient {
            session: Session::new(config),
            transport,
        })
    }
}

#[cfg(feature = "blocking")]
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

#[cfg(not(feature = "blocking"))]
fn default_transport(
    _proxy: Option<&str>,
    _connect_timeout: std::time::Duration,
) -> Result<Arc<dyn Transport + Send + Sync>, BuildError> {
    Err(BuildError::NoTransport("blocking"))
}

impl BlockingClient {
    /// Starts building a client.
    pub fn builder() -> BlockingClientBuilder {
        BlockingClientBuilder::default()
    }

    /// A builder preset from `BAIDU_API_KEY`, `BAIDU_SECRET_KEY` and
    /// `BAIDU_IMAGEPROCESS_ENDPOINT`.
    pub fn from_env() -> Result<BlockingClientBuilder, BuildError> {
        BlockingClientBuilder::default().from_env()
    }

    /// Runs `op` on `image` (JPEG, PNG or BMP bytes). The image is checked against the
    /// operation's limits before anything is sent.
    pub fn process(&self, op: Operation, image: impl AsRef<[u8]>) -> Result<ImageReply, Error> {
        let image = image.as_ref();
        let span = observe::call_span(op, image.len());
        let _entered = span.enter();
        let started = Instant::now();
        let result = self
            .session
            .call(op, image, started)
            .and_then(|call| drive(&*self.transport, call));
        observe::record(&span, started, &result);
        result
    }

    /// 2x "lossless" upscale (input at most 800 × 800 pixels in area).
    pub fn image_quality_enhance(&self, image: impl AsRef<[u8]>) -> Result<ImageReply, Error> {
        self.process(Operation::ImageQualityEnhance, image)
    }

    /// Haze removal (sides 200..=4096 px, aspect ≤ 3:1).
    pub fn dehaze(&self, image: impl AsRef<[u8]>) -> Result<ImageReply, Error> {
        self.process(Operation::Dehaze, image)
    }

    /// Contrast enhancement (sides 64..=4096 px, aspect ≤ 3:1).
    pub fn contrast_enhance(&self, image: impl AsRef<[u8]>) -> Result<ImageReply, Error> {
        self.process(Operation::ContrastEnhance, image)
    }

    /// Black-and-white to colour (sides 64..=800 px, aspect ≤ 3:1; needs the account's
    /// permission, else error 6).
    pub fn colourize(&self, image: impl AsRef<[u8]>) -> Result<ImageReply, Error> {
        self.process(Operation::Colourize, image)
    }

    /// Fetches a fresh access token (and caches it for later calls).
    pub fn token(&self) -> Result<TokenInfo, Error> {
        drive(&*self.transport, self.session.token_call())
    }

    /// The shared protocol state (token cache, rate limiter, configuration).
    pub fn session(&self) -> &Arc<Session> {
        &self.session
    }
}
