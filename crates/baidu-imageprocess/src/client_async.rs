//! The async client.

use std::sync::Arc;
use std::time::Instant;

use baidu_imageprocess_protocol::{
    AsyncTransport, DynAsyncTransport, Error, ImageReply, Operation, Session, TokenInfo,
};
use tracing::Instrument as _;

use crate::builder::{BuildError, ClientBuilder};
use crate::observe;

/// The async client. Cheap to clone: clones share one token cache, one rate limiter and
/// one connection pool.
#[derive(Clone)]
pub struct Client {
    session: Arc<Session>,
    transport: Arc<dyn DynAsyncTransport>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("endpoint", &self.session.config().endpoint)
            .finish_non_exhaustive()
    }
}

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
        Ok(Client {
            session: Session::new(config),
            transport,
        })
    }
}

#[cfg(feature = "async")]
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

impl Client {
    /// Starts building a client.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// A builder preset from `BAIDU_API_KEY`, `BAIDU_SECRET_KEY` and
    /// `BAIDU_IMAGEPROCESS_ENDPOINT`.
    pub fn from_env() -> Result<ClientBuilder, BuildError> {
        ClientBuilder::default().from_env()
    }

    /// Runs `op` on `image` (JPEG, PNG or BMP bytes). The image is checked against the
    /// operation's limits before anything is sent.
    pub async fn process(
        &self,
        op: Operation,
        image: impl AsRef<[u8]>,
    ) -> Result<ImageReply, Error> {
        let image = image.as_ref();
        let span = observe::call_span(op, image.len());
        let started = Instant::now();
        let result = async {
            let call = self.session.call(op, image, started)?;
            baidu_imageprocess_transport_async::run(&*self.transport, call).await
        }
        .instrument(span.clone())
        .await;
        observe::record(&span, started, &result);
        result
    }

    /// 2x "lossless" upscale (input at most 800 × 800 pixels in area).
    pub async fn image_quality_enhance(
        &self,
        image: impl AsRef<[u8]>,
    ) -> Result<ImageReply, Error> {
        self.process(Operation::ImageQualityEnhance, image).await
    }

    /// Haze removal (sides 200..=4096 px, aspect ≤ 3:1).
    pub async fn dehaze(&self, image: impl AsRef<[u8]>) -> Result<ImageReply, Error> {
        self.process(Operation::Dehaze, image).await
    }

    /// Contrast enhancement (sides 64..=4096 px, aspect ≤ 3:1).
    pub async fn contrast_enhance(&self, image: impl AsRef<[u8]>) -> Result<ImageReply, Error> {
        self.process(Operation::ContrastEnhance, image).await
    }

    /// Black-and-white to colour (sides 64..=800 px, aspect ≤ 3:1; needs the account's
    /// permission, else error 6).
    pub async fn colourize(&self, image: impl AsRef<[u8]>) -> Result<ImageReply, Error> {
        self.process(Operation::Colourize, image).await
    }

    /// Fetches a fresh access token (and caches it for later calls).
    pub async fn token(&self) -> Result<TokenInfo, Error> {
        baidu_imageprocess_transport_async::run(&*self.transport, self.session.token_call()).await
    }

    /// The shared protocol state (token cache, rate limiter, configuration).
    pub fn session(&self) -> &Arc<Session> {
        &self.session
    }
}
