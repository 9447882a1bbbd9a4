//! The call state machine: one [`Call`] per API call, driven by a transport.
//!
//! A driver loops: [`Machine::next`] says send a request, sleep, or stop with a result;
//! the driver performs it and feeds back what happened. All policy (tokens, rate
//! limiting, retries, the deadline) lives here; the clock is an argument, and what to do
//! about a failure is [`crate::classify`]'s answer.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;

use crate::auth::authorize::{Authorization, operation_request};
use crate::auth::token_cache::{Grant, WAIT_POLL};
use crate::classify::{Action, Outcome, classify};
use crate::error::{AuthError, Error};
use crate::machine::shared::Session;
use crate::machine::step::{Machine, Step};
use crate::operation::Operation;
use crate::optable::spec;
use crate::secret::AccessToken;
use crate::transport::{
    AttemptTimeout, HttpRequest, HttpResponse, TransportError, TransportErrorKind,
};
use crate::wire::reply::{ImageReply, decode_reply};
use crate::wire::token::decode_token_reply;

/// Where a call stands: exactly one of these at a time.
enum State {
    /// Deciding what to send; `waited_on` is the fetch another caller was making for us.
    Ready { waited_on: Option<u64> },
    /// This call just fetched a token; its next request uses it.
    TokenFetched { token: AccessToken, generation: u64 },
    /// Another caller is fetching the token.
    WaitingForToken { fetch: u64 },
    /// Our token request is in flight.
    Fetching { id: u64 },
    /// Held back by the rate limiter: this request goes out after the sleep.
    Paced {
        request: Box<HttpRequest>,
        generation: Option<u64>,
    },
    /// The operation request is in flight, authenticated with token `generation`.
    Sending { generation: Option<u64> },
    /// Backing off until then.
    BackingOff { until: Instant },
    /// Decided; the next `next()` returns it.
    Decided(Result<ImageReply, Error>),
    /// Returned; stepping further is misuse.
    Finished,
}

/// One API call in progress. Created by [`Session::call`] or [`Session::request`]; run it
/// with a driver.
pub struct Call {
    session: Arc<Session>,
    op: Operation,
    body: Bytes,
    started: Instant,
    deadline: Instant,
    /// Requests sent so far, token requests included.
    attempts: u32,
    /// Failed attempts so far: the retry budget's count.
    retries: u32,
    /// Whether the one token refresh after 110/111 is spent.
    refreshed: bool,
    /// The last attempt was refused with a QPS-limit error, not yet told to the budget.
    throttled: bool,
    /// The last failure, reported inside a timeout.
    last_error: Option<Error>,
    rng: fastrand::Rng,
    state: State,
}

impl fmt::Debug for Call {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Call")
            .field("op", &self.op)
            .field("body_len", &self.body.len())
            .field("attempts", &self.attempts)
            .finish_non_exhaustive()
    }
}

impl Call {
    pub(crate) fn new(
        session: Arc<Session>,
        op: Operation,
        body: Bytes,
        now: Instant,
        seed: u64,
    ) -> Self {
        let deadline = now + session.config.timeouts.total;
        Self {
            session,
            op,
            body,
            started: now,
            deadline,
            attempts: 0,
            retries: 0,
            refreshed: false,
            throttled: false,
            last_error: None,
            rng: fastrand::Rng::with_seed(seed),
            state: State::Ready { waited_on: None },
        }
    }

    /// The operation.
    pub fn operation(&self) -> Operation {
        self.op
    }

    /// Requests sent so far (token requests included).
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    fn finish(&mut self, result: Result<ImageReply, Error>) -> Step<ImageReply> {
        self.state = State::Finished;
        Step::Done(result)
    }

    fn timeout(&mut self, now: Instant) -> Step<ImageReply> {
        let last = self.last_error.take().map(Box::new);
        self.finish(Err(Error::Timeout {
            elapsed: now.saturating_duration_since(self.started),
            attempts: self.attempts,
            last,
        }))
    }

    /// Sends `request`, bounded by the time left.
    fn send(
        &mut self,
        now: Instant,
        mut request: HttpRequest,
        generation: Option<u64>,
    ) -> Step<ImageReply> {
        self.attempt_timeout(now, &mut request);
        self.state = State::Sending { generation };
        tracing::debug!(op = %self.op, attempt = self.attempts, bytes = self.body.len(), "sending");
        Step::Send(request)
    }

    /// Counts an attempt and bounds it by the call's remaining time.
    fn attempt_timeout(&mut self, now: Instant, request: &mut HttpRequest) {
        let remaining = self.deadline.saturating_duration_since(now);
        let attempt = self.session.config.timeouts.attempt.min(remaining);
        request.extensions_mut().insert(AttemptTimeout(attempt));
        self.attempts += 1;
    }

    fn request(&self, auth: Authorization<'_>) -> HttpRequest {
        operation_request(&self.session.config, self.op, self.body.clone(), auth)
    }

    /// Paces the request through the shared budget or the rate limiter, then sends it.
    fn pace_and_send(
        &mut self,
        now: Instant,
        request: HttpRequest,
        generation: Option<u64>,
    ) -> Step<ImageReply> {
        if let Some(slot) = self.session.claim(self.op, self.throttled) {
            // The driver asks the budget for our turn and sleeps until then; the next
            // `next()` finds us `Paced` and sends.
            self.throttled = false;
            self.state = State::Paced {
                request: Box::new(request),
                generation,
            };
            return Step::Reserve(slot);
        }
        let wait = self
            .session
            .limiter
            .as_ref()
            .map_or(Duration::ZERO, |l| l.reserve(now));
        if wait.is_zero() {
            return self.send(now, request, generation);
        }
        if now + wait >= self.deadline {
            return self.timeout(now);
        }
        self.state = State::Paced {
            request: Box::new(request),
            generation,
        };
        Step::Sleep(wait)
    }

    /// Retries after a backoff, or gives up with `error` if attempts or time are spent.
    fn retry_or_fail(
        &mut self,
        now: Instant,
        error: Error,
        throttled: bool,
        retry_after: Option<Duration>,
    ) {
        let policy = &self.session.config.retry;
        // The budget counts failed attempts (this one included), so a successful token
        // fetch does not eat one of the operation's attempts.
        if self.retries.saturating_add(1) >= policy.max_attempts {
            self.state = State::Decided(Err(error));
            return;
        }
        let mut delay = policy.backoff(self.retries, throttled, self.rng.f64());
        if let Some(after) = retry_after {
            delay = delay.max(after);
        }
        self.retries += 1;
        tracing::debug!(op = %self.op, attempt = self.attempts, delay_ms = delay.as_millis() as u64, error = %error, "retrying");
        self.last_error = Some(error);
        self.state = State::BackingOff { until: now + delay };
    }

    /// Acts on the classifier's verdict about a failed attempt.
    fn act(
        &mut self,
        now: Instant,
        error: Error,
        outcome: Outcome,
        generation: Option<u64>,
        retry_after: Option<Duration>,
    ) {
        match classify(outcome) {
            Action::RefreshToken => self.refresh_or_fail(error, generation),
            Action::Throttle => {
                self.throttled = true;
                if let Some(l) = &self.session.limiter {
                    l.on_throttled(now);
                }
                self.retry_or_fail(now, error, true, retry_after);
            }
            Action::Retry => self.retry_or_fail(now, error, false, retry_after),
            Action::Fail => self.state = State::Decided(Err(error)),
        }
    }

    /// The token was refused: fetch a new one and retry, once; after that (or with a
    /// token that cannot be refreshed) it is an authentication failure.
    fn refresh_or_fail(&mut self, error: Error, generation: Option<u64>) {
        if self.session.tokens.can_refresh() && !self.refreshed {
            self.refreshed = true;
            if let Some(g) = generation {
                self.session.tokens.invalidate(g);
            }
            self.last_error = Some(error);
            self.state = State::Ready { waited_on: None };
            return;
        }
        self.state = State::Decided(Err(match error {
            Error::Api {
                code,
                message,
                log_id,
                ..
            } => Error::Auth(AuthError::TokenRejected {
                code,
                message,
                log_id,
            }),
            other => other,
        }));
    }
}

impl Machine for Call {
    type Output = ImageReply;

    fn next(&mut self, now: Instant) -> Step<ImageReply> {
        let waited_on = match std::mem::replace(&mut self.state, State::Ready { waited_on: None }) {
            State::Finished => {
                self.state = State::Finished;
                return Step::Done(Err(Error::Misuse("the call already finished")));
            }
            State::Decided(result) => return self.finish(result),
            _ if now >= self.deadline => return self.timeout(now),
            State::Paced {
                request,
                generation,
            } => return self.send(now, *request, generation),
            State::BackingOff { until } if now < until => {
                if until >= self.deadline {
                    return self.timeout(now);
                }
                self.state = State::BackingOff { until };
                return Step::Sleep(until - now);
            }
            State::TokenFetched { token, generation } => {
                let request = self.request(Authorization::Token(&token));
                return self.pace_and_send(now, request, Some(generation));
            }
            State::WaitingForToken { fetch } => Some(fetch),
            State::Ready { waited_on } => waited_on,
            // Stepped again without feeding the outcome: start over.
            State::BackingOff { .. } | State::Fetching { .. } | State::Sending { .. } => None,
        };
        match self.session.tokens.acquire(now, waited_on) {
            Grant::Token { token, generation } => {
                let request = self.request(Authorization::Token(&token));
                self.pace_and_send(now, request, Some(generation))
            }
            Grant::Sign(credentials) => {
                let request = self.request(Authorization::Signature(&credentials));
                self.pace_and_send(now, request, None)
            }
            Grant::Fetch { id, mut request } => {
                self.attempt_timeout(now, &mut request);
                self.state = State::Fetching { id };
                Step::Send(*request)
            }
            Grant::Wait { fetch } => {
                self.state = State::WaitingForToken { fetch };
                Step::Sleep(WAIT_POLL)
            }
            Grant::Rejected { error, description } => {
                self.finish(Err(Error::Auth(AuthError::InvalidClient {
                    error,
                    description,
                })))
            }
        }
    }

    fn handle_response(&mut self, now: Instant, response: HttpResponse) {
        let status = response.status().as_u16();
        let retry_after = retry_after(&response);
        match std::mem::replace(&mut self.state, State::Ready { waited_on: None }) {
            State::Fetching { id } => {
                let outcome = decode_token_reply(status, response.body());
                let stored = self.session.tokens.complete_fetch(id, &outcome, now);
                match outcome {
                    Ok(_) => {
                        if let Some((token, generation)) = stored {
                            self.state = State::TokenFetched { token, generation };
                        }
                    }
                    Err(AuthError::MalformedTokenReply(d)) if classify(d.outcome()).is_retry() => {
                        let error = Error::Auth(AuthError::MalformedTokenReply(d));
                        self.retry_or_fail(now, error, false, retry_after);
                    }
                    Err(e) => self.state = State::Decided(Err(Error::Auth(e))),
                }
            }
            State::Sending { generation } => {
                match decode_reply(spec(self.op).reply, status, response.body()) {
                    Ok(reply) => {
                        if let Some(l) = &self.session.limiter {
                            l.on_success();
                        }
                        self.session.record_success(self.op);
                        tracing::debug!(op = %self.op, log_id = reply.log_id.0, bytes = reply.image.len(), "done");
                        self.state = State::Decided(Ok(reply));
                    }
                    Err(error) => match error.outcome() {
                        Some(outcome) => self.act(now, error, outcome, generation, retry_after),
                        None => self.state = State::Decided(Err(error)),
                    },
                }
            }
            other => self.misuse(&other, "a response arrived with no request outstanding"),
        }
    }

    fn handle_transport_error(&mut self, now: Instant, error: TransportError) {
        match std::mem::replace(&mut self.state, State::Ready { waited_on: None }) {
            State::Fetching { id } => self.session.tokens.abandon_fetch(id),
            State::Sending { .. } => {}
            other => {
                return self.misuse(
                    &other,
                    "a transport error arrived with no request outstanding",
                );
            }
        }
        if error.kind() == TransportErrorKind::Timeout && now >= self.deadline {
            // `next()` turns this into a timeout carrying the transport error.
            self.last_error = Some(Error::Transport(error));
            return;
        }
        let outcome = Outcome::Transport(error.kind());
        self.act(now, Error::Transport(error), outcome, None, None);
    }
}

impl Call {
    /// Records a feed the call did not ask for: the next step reports it (a finished
    /// call stays finished).
    fn misuse(&mut self, state: &State, what: &'static str) {
        self.state = match state {
            State::Finished => State::Finished,
            _ => State::Decided(Err(Error::Misuse(what))),
        };
    }
}

impl Drop for Call {
    fn drop(&mut self) {
        if let State::Fetching { id } = self.state {
            self.session.tokens.abandon_fetch(id);
        }
    }
}

/// The `Retry-After` header in seconds, if present and sane (at most an hour).
fn retry_after(response: &HttpResponse) -> Option<Duration> {
    let secs: u64 = response
        .headers()
        .get(http::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    (secs <= 3600).then(|| Duration::from_secs(secs))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::credentials::Credentials;
    use crate::policy::config::ClientConfig;

    fn png() -> Vec<u8> {
        let mut v = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
        v.extend_from_slice(&[0, 0, 1, 64, 0, 0, 0, 240, 8, 2, 0, 0, 0, 0, 0, 0, 0]);
        v
    }

    fn ok() -> HttpResponse {
        HttpResponse::new(Bytes::from_static(br#"{"log_id":1,"image":"aGk="}"#))
    }

    #[test]
    fn misuse_is_its_own_error() {
        let session = Session::new(ClientConfig::new(Credentials::access_token("t")));
        let now = Instant::now();
        // A response nobody asked for.
        let mut call = session.call(Operation::Dehaze, &png(), now).unwrap();
        call.handle_response(now, ok());
        assert!(matches!(call.next(now), Step::Done(Err(Error::Misuse(_)))));
        // Stepping a finished call.
        let mut call = session.call(Operation::Dehaze, &png(), now).unwrap();
        assert!(matches!(call.next(now), Step::Send(_)));
        call.handle_response(now, ok());
        assert!(matches!(call.next(now), Step::Done(Ok(_))));
        assert!(matches!(call.next(now), Step::Done(Err(Error::Misuse(_)))));
        call.handle_transport_error(now, TransportError::new(TransportErrorKind::Io, "x"));
        let Step::Done(Err(error)) = call.next(now) else {
            panic!("a finished call stepped again");
        };
        assert!(!error.is_retryable() && error.to_string().starts_with("API misuse"));
    }
}
