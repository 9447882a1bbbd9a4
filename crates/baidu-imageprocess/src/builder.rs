//! The builder shared by `Client` and `BlockingClient`.

use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use baidu_imageprocess_protocol::{
    AccessToken, ClientConfig, Credentials, Endpoint, InvalidEndpoint, RateLimit, RetryPolicy,
    SecretKey, Timeouts, TransportError,
};

/// Environment variable holding the API Key.
pub const ENV_API_KEY: &str = "BAIDU_API_KEY";
/// Environment variable holding the Secret Key.
pub const ENV_SECRET_KEY: &str = "BAIDU_SECRET_KEY";
/// Environment variable overriding the base URL.
pub const ENV_ENDPOINT: &str = "BAIDU_IMAGEPROCESS_ENDPOINT";

/// The built-in transports' connect timeout unless set.
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a client could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// No credentials were given.
    #[error(
        "no credentials: set BAIDU_API_KEY and BAIDU_SECRET_KEY, or call .api_key(..) / .access_token(..)"
    )]
    MissingCredentials,
    /// The base URL is not usable.
    #[error("invalid endpoint")]
    InvalidEndpoint(#[source] InvalidEndpoint),
    /// The HTTP client could not be created (e.g. a bad proxy URL).
    #[error("cannot create the HTTP client")]
    Transport(#[source] TransportError),
}

/// Which client a [`Builder`] builds; sealed.
pub trait Flavor: sealed::Sealed {
    /// The transport trait object the client holds.
    type Transport: ?Sized + Send + Sync;
    /// The client's name, for `Debug`.
    const CLIENT_NAME: &'static str;
}

mod sealed {
    pub trait Sealed {}
}

/// Marker for the async [`crate::Client`] (feature `async`).
#[cfg(feature = "async")]
#[derive(Debug)]
pub enum Async {}
/// Marker for the [`crate::BlockingClient`] (feature `blocking`).
#[cfg(feature = "blocking")]
#[derive(Debug)]
pub enum Blocking {}

#[cfg(feature = "async")]
impl sealed::Sealed for Async {}
#[cfg(feature = "blocking")]
impl sealed::Sealed for Blocking {}

#[cfg(feature = "async")]
impl Flavor for Async {
    type Transport = dyn baidu_imageprocess_protocol::DynAsyncTransport;
    const CLIENT_NAME: &'static str = "Client";
}

#[cfg(feature = "blocking")]
impl Flavor for Blocking {
    type Transport = dyn baidu_imageprocess_protocol::Transport + Send + Sync;
    const CLIENT_NAME: &'static str = "BlockingClient";
}

/// Builds a `Client` (`ClientBuilder`, feature `async`) or a `BlockingClient`
/// (`BlockingClientBuilder`, feature `blocking`). Setters consume the builder; `build()` is the one fallible
/// step.
#[must_use]
pub struct Builder<K: Flavor> {
    pub(crate) credentials: Option<Credentials>,
    pub(crate) endpoint: Option<String>,
    pub(crate) connect_timeout: Duration,
    pub(crate) timeouts: Timeouts,
    pub(crate) retry: RetryPolicy,
    pub(crate) rate_limit: Option<RateLimit>,
    pub(crate) proxy: Option<String>,
    pub(crate) user_agent: Option<String>,
    pub(crate) transport: Option<Arc<K::Transport>>,
    pub(crate) budget: crate::budget::Attached,
    pub(crate) kind: PhantomData<K>,
}

impl<K: Flavor> std::fmt::Debug for Builder<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Builder")
            .field("credentials", &self.credentials)
            .field("endpoint", &self.endpoint)
            .field("timeouts", &self.timeouts)
            .field("retry", &self.retry)
            .field("rate_limit", &self.rate_limit)
            .field("proxy", &self.proxy.as_ref().map(|_| "<set>"))
            .field("custom_transport", &self.transport.is_some())
            .field("budget", &self.budget)
            .finish_non_exhaustive()
    }
}

impl<K: Flavor> Default for Builder<K> {
    fn default() -> Self {
        Self {
            credentials: None,
            endpoint: None,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            timeouts: Timeouts::default(),
            retry: RetryPolicy::default(),
            rate_limit: Some(RateLimit::default()),
            proxy: None,
            user_agent: None,
            transport: None,
            budget: None,
            kind: PhantomData,
        }
    }
}

impl<K: Flavor> Builder<K> {
    /// Reads `BAIDU_API_KEY`, `BAIDU_SECRET_KEY` and (optionally)
    /// `BAIDU_IMAGEPROCESS_ENDPOINT`. Only when you call it: clients never read the
    /// environment on their own.
    pub fn from_env(mut self) -> Result<Self, BuildError> {
        let var = |name| {
            std::env::var(name)
                .ok()
                .filter(|v: &String| !v.trim().is_empty())
        };
        match (var(ENV_API_KEY), var(ENV_SECRET_KEY)) {
            (Some(ak), Some(sk)) => {
                self.credentials = Some(Credentials::api_key(ak, SecretKey::new(sk)));
            }
            _ => return Err(BuildError::MissingCredentials),
        }
        if let Some(endpoint) = var(ENV_ENDPOINT) {
            self.endpoint = Some(endpoint);
        }
        Ok(self)
    }

    /// How to authenticate.
    pub fn credentials(mut self, credentials: Credentials) -> Self {
        self.credentials = Some(credentials);
        self
    }

    /// API Key + Secret Key (tokens fetched and refreshed automatically).
    pub fn api_key(self, api_key: impl Into<String>, secret_key: impl Into<SecretKey>) -> Self {
        self.credentials(Credentials::api_key(api_key, secret_key))
    }

    /// A fixed access token (never refreshed).
    pub fn access_token(self, token: impl Into<AccessToken>) -> Self {
        self.credentials(Credentials::access_token(token))
    }

    /// Base URL, e.g. the emulator's `http://127.0.0.1:8080` or a proxy. Default:
    /// `https://aip.baidubce.com`.
    pub fn endpoint(mut self, url: impl Into<String>) -> Self {
        self.endpoint = Some(url.into());
        self
    }

    /// Most time to connect. Default 10 s.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Most time for a whole call, retries and backoff included. Default 180 s.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeouts = self.timeouts.with_total(timeout);
        self
    }

    /// Most time for one request/response exchange. Default 60 s.
    pub fn attempt_timeout(mut self, timeout: Duration) -> Self {
        self.timeouts = self.timeouts.with_attempt(timeout);
        self
    }

    /// How failures are retried ([`RetryPolicy::disabled`] to turn retries off).
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// At most `qps` requests per second, shared by all clones; below that the client
    /// adapts to the service's rate-limit errors.
    pub fn qps(mut self, qps: f64) -> Self {
        self.rate_limit = Some(RateLimit::qps(qps));
        self
    }

    /// Full rate-limit settings (`None`: never pace, not even adaptively).
    pub fn rate_limit(mut self, rate_limit: Option<RateLimit>) -> Self {
        self.rate_limit = rate_limit;
        self
    }

    /// Send through this HTTP(S) or SOCKS proxy (built-in transports only).
    pub fn proxy(mut self, url: impl Into<String>) -> Self {
        self.proxy = Some(url.into());
        self
    }

    /// The `User-Agent` header.
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = Some(user_agent.into());
        self
    }

    /// The protocol configuration these settings describe.
    pub(crate) fn protocol_config(&self) -> Result<ClientConfig, BuildError> {
        let credentials = self
            .credentials
            .clone()
            .ok_or(BuildError::MissingCredentials)?;
        let endpoint = match &self.endpoint {
            Some(url) => Endpoint::parse(url).map_err(BuildError::InvalidEndpoint)?,
            None => Endpoint::baidu(),
        };
        let mut config = ClientConfig::new(credentials)
            .with_endpoint(endpoint)
            .with_retry(self.retry.clone())
            .with_timeouts(self.timeouts.clone())
            .with_rate_limit(self.rate_limit.clone());
        if let Some(ua) = &self.user_agent {
            config = config.with_user_agent(ua.clone());
        }
        Ok(config)
    }
}

/// Builder of the async [`crate::Client`].
#[cfg(feature = "async")]
pub type ClientBuilder = Builder<Async>;
/// Builder of the [`crate::BlockingClient`].
#[cfg(feature = "blocking")]
pub type BlockingClientBuilder = Builder<Blocking>;
