//! Starting calls from a client's shared state: an operation call (validated, encoded,
//! then a [`Call`]) or a token fetch ([`TokenCall`]).

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use bytes::Bytes;

use crate::error::Error;
use crate::machine::call::Call;
use crate::machine::shared::Session;
use crate::machine::token_call::TokenCall;
use crate::operation::Operation;
use crate::request::{Input, Request};

impl Session {
    /// Starts a call of `op`, which takes no parameter, on `image`. The image is checked
    /// against the operation's limits first; a violation is returned at once and nothing
    /// is sent.
    pub fn call(
        self: &Arc<Self>,
        op: Operation,
        image: &[u8],
        now: Instant,
    ) -> Result<Call, Error> {
        let request = Request::of(op, Input::image(image)).map_err(Error::InvalidInput)?;
        self.request(&request, now)
    }

    /// Starts a call of any operation. The request is checked against the operation
    /// table first (input kind, image limits, parameters); a violation is returned at
    /// once and nothing is sent.
    pub fn request(self: &Arc<Self>, request: &Request<'_>, now: Instant) -> Result<Call, Error> {
        request.validate().map_err(Error::InvalidInput)?;
        let body = Bytes::from(request.encode_into(self.bodies.take(0)).bytes);
        self.bodies.keep(&body);
        Ok(self.call_unchecked(request.operation(), body, now))
    }

    /// Starts a call with an already-encoded body (in the encoding the operation table
    /// names), skipping validation (for callers that validated earlier, or want the
    /// server to judge).
    pub fn call_unchecked(self: &Arc<Self>, op: Operation, body: Bytes, now: Instant) -> Call {
        // Each call gets its own jitter stream, reproducible from the configured seed.
        let seed = self
            .seeds
            .fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed);
        Call::new(Arc::clone(self), op, body, now, seed)
    }

    /// Starts a token fetch: always asks the token endpoint anew.
    pub fn token_call(self: &Arc<Self>) -> TokenCall {
        self.tokens.force_refresh();
        TokenCall::new(Arc::clone(self))
    }
}
