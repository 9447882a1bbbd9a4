//! What the two clients share: the handle (session + transport), its construction, and
//! the tracing around each call. The per-operation methods of `Client` and
//! `BlockingClient` are written once, in [`crate::methods`].

use std::sync::Arc;
use std::time::Instant;

use baidu_imageprocess_protocol::{Error, ImageReply, Input, Operation, Request, Session};

use crate::builder::{BuildError, Builder, Flavor};
use crate::observe;

/// A client of either flavour: the shared protocol state and a transport. Use it through
/// its aliases `Client` (async, feature `async`) and `BlockingClient` (feature
/// `blocking`).
pub struct ClientOf<K: Flavor> {
    pub(crate) session: Arc<Session>,
    pub(crate) transport: Arc<K::Transport>,
}

impl<K: Flavor> Clone for ClientOf<K> {
    fn clone(&self) -> Self {
        Self {
            session: Arc::clone(&self.session),
            transport: Arc::clone(&self.transport),
        }
    }
}

impl<K: Flavor> std::fmt::Debug for ClientOf<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct(K::CLIENT_NAME)
            .field("endpoint", &self.session.config().endpoint)
            .finish_non_exhaustive()
    }
}

impl<K: Flavor> ClientOf<K> {
    /// Starts building a client.
    pub fn builder() -> Builder<K> {
        Builder::default()
    }

    /// A builder preset from `BAIDU_API_KEY`, `BAIDU_SECRET_KEY` and
    /// `BAIDU_IMAGEPROCESS_ENDPOINT`.
    pub fn from_env() -> Result<Builder<K>, BuildError> {
        Builder::default().from_env()
    }

    /// The shared protocol state (token cache, rate limiter, configuration).
    pub fn session(&self) -> &Arc<Session> {
        &self.session
    }
}

/// A call about to run: its tracing span and its start.
pub(crate) struct Started {
    pub(crate) span: tracing::Span,
    pub(crate) at: Instant,
}

impl Started {
    pub(crate) fn new(request: &Request<'_>) -> Self {
        Self {
            span: observe::call_span(request.operation(), request.input().len()),
            at: Instant::now(),
        }
    }

    pub(crate) fn finish(self, result: Result<ImageReply, Error>) -> Result<ImageReply, Error> {
        observe::record(&self.span, self.at, &result);
        result
    }
}

/// The request of `op`, which takes no parameter, on image bytes.
pub(crate) fn parameterless(op: Operation, image: &[u8]) -> Result<Request<'_>, Error> {
    Request::of(op, Input::image(image)).map_err(Error::InvalidInput)
}
