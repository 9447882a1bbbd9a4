//! The call state machine: one [`Call`] per API call, driven by a transport.
//!
//! A driver loops: [`Machine::next`] says send a request, sleep, or stop with a result;
//! the driver performs it and feeds back what happened. All policy (validation, tokens,
//! rate limiting, retries, the deadline) lives here; the clock is an argument.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;

use crate::auth::{Auth, Credentials, Grant, WAIT_POLL};
use crate::code::ErrorClass;
use crate::endpoint::Endpoint;
use crate::error::{AuthError, Error};
use crate::operation::Operation;
use crate::optable::{BodyKind, spec};
use crate::policy::{RateLimit, RetryPolicy, Timeouts};
use crate::rate::RateLimiter;
use crate::reply::{ImageReply, decode_reply};
use crate::request::{Input, Request};
use crate::secret::AccessToken;
use crate::sign::{
    BceCredentials, DEFAULT_EXPIRE_SECS, SigningInput, authorization, format_timestamp,
    host_for_signing,
};
use crate::token::{TokenReply, decode_token_reply};
use crate::transport::{
    AttemptTimeout, HttpRequest, HttpResponse, TransportError, TransportErrorKind,
};

/// Characters left bare in the `access_token` query value: what Python's `urlencode`
/// (the official SDK) leaves bare, so real tokens (`24.xxx.2592000.1485516651.282335-8574074`)
/// appear in the URL exactly as the SDK sends them.
const QUERY_VALUE: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// What the driver must do next.
#[must_use]
pub enum Step<T> {
    /// Send this request, then feed the outcome back.
    Send(HttpRequest),
    /// Wait this long, then ask again.
    Sleep(Duration),
    /// The call is over.
    Done(Result<T, Error>),
}

/// By hand: a request's URL holds `access_token` and a token request's body holds the
/// secret key, so `Send` shows only the method, the URL without its query and the size.
impl<T: fmt::Debug> fmt::Debug for Step<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Send(request) => f
                .debug_struct("Send")
                .field("method", request.method())
                .field("uri", &crate::RedactedUri(request.uri()))
                .field("body_bytes", &request.body().len())
                .finish_non_exhaustive(),
            Self::Sleep(d) => f.debug_tuple("Sleep").field(d).finish(),
            Self::Done(result) => f.debug_tuple("Done").field(result).finish(),
        }
    }
}

/// A state machine a driver can run: [`Call`] and [`TokenCall`].
pub trait Machine {
    /// What the machine produces.
    type Output;
    /// The next thing to do, as of `now`.
    fn next(&mut self, now: Instant) -> Step<Self::Output>;
    /// Feeds the response to the last [`Step::Send`].
    fn handle_response(&mut self, now: Instant, response: HttpResponse);
    /// Feeds the transport failure of the last [`Step::Send`].
    fn handle_transport_error(&mut self, now: Instant, error: TransportError);
}

/// Everything a client is configured with. Plain data; [`Session::new`] turns it into the
/// shared state of a client.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ClientConfig {
    /// Where requests go.
    pub endpoint: Endpoint,
    /// How requests are authenticated.
    pub credentials: Credentials,
    /// Retries.
    pub retry: RetryPolicy,
    /// Time limits.
    pub timeouts: Timeouts,
    /// Client-side rate limit; `None` disables pacing entirely (even adaptive).
    pub rate_limit: Option<RateLimit>,
    /// The `User-Agent` header.
    pub user_agent: String,
    /// The wall clock, for bce-auth-v1 timestamps (injectable for tests).
    pub wall_clock: fn() -> SystemTime,
    /// Seed for backoff jitter (`None`: random).
    pub jitter_seed: Option<u64>,
}

impl ClientConfig {
    /// Defaults for `credentials`: Baidu's endpoint, default retries and timeouts,
    /// adaptive rate limiting without a ceiling.
    pub fn new(credentials: Credentials) -> Self {
        Self {
            endpoint: Endpoint::baidu(),
            credentials,
            retry: RetryPolicy::default(),
            timeouts: Timeouts::default(),
            rate_limit: Some(RateLimit::default()),
            user_agent: concat!("baidu-imageprocess-rs/", env!("CARGO_PKG_VERSION")).to_owned(),
            wall_clock: SystemTime::now,
            jitter_seed: None,
        }
    }

    /// Sets the endpoint.
    #[must_use]
    pub fn with_endpoint(mut self, endpoint: Endpoint) -> Self {
        self.endpoint = endpoint;
        self
    }

    /// Sets the retry policy.
    #[must_use]
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Sets the timeouts.
    #[must_use]
    pub fn with_timeouts(mut self, timeouts: Timeouts) -> Self {
        self.timeouts = timeouts;
        self
    }

    /// Sets the rate limit (`None`: never pace).
    #[must_use]
    pub fn with_rate_limit(mut self, rate_limit: Option<RateLimit>) -> Self {
        self.rate_limit = rate_limit;
        self
    }

    /// Sets the `User-Agent`.
    #[must_use]
    pub fn with_user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    /// Sets the wall clock used for signing.
    #[must_use]
    pub fn with_wall_clock(mut self, clock: fn() -> SystemTime) -> Self {
        self.wall_clock = clock;
        self
    }

    /// Seeds backoff jitter, for reproducible runs.
    #[must_use]
    pub fn with_jitter_seed(mut self, seed: u64) -> Self {
        self.jitter_seed = Some(seed);
        self
    }
}

/// The shared state of one client: configuration, token cache and rate limiter. Every
/// clone of a client holds the same `Arc<Session>`.
#[derive(Debug)]
pub struct Session {
    config: ClientConfig,
    auth: Auth,
    limiter: Option<RateLimiter>,
    seeds: std::sync::atomic::AtomicU64,
}

impl Session {
    /// Builds the shared state for `config`.
    pub fn new(config: ClientConfig) -> Arc<Self> {
        let auth = Auth::new(config.credentials.clone(), config.endpoint.clone());
        let limiter = config.rate_limit.clone().map(RateLimiter::new);
        let seed = config.jitter_seed.unwrap_or_else(|| fastrand::u64(..));
        Arc::new(Self {
            config,
            auth,
            limiter,
            seeds: std::sync::atomic::AtomicU64::new(seed),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// The token cache.
    pub fn auth(&self) -> &Auth {
        &self.auth
    }

    /// The rate limiter, if pacing is on.
    pub fn rate_limiter(&self) -> Option<&RateLimiter> {
        self.limiter.as_ref()
    }

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
        let body = request.encode();
        Ok(self.call_unchecked(request.operation(), Bytes::from(body.bytes), now))
    }

    /// Starts a call with an already-encoded body (in the encoding the operation table
    /// names), skipping validation (for callers that validated earlier, or want the
    /// server to judge).
    pub fn call_unchecked(self: &Arc<Self>, op: Operation, body: Bytes, now: Instant) -> Call {
        let seed = self
            .seeds
            .fetch_add(0x9E37_79B9_7F4A_7C15, std::sync::atomic::Ordering::Relaxed);
        Call {
            session: Arc::clone(self),
            op,
            body,
            started: now,
            deadline: now + self.config.timeouts.total,
            attempts: 0,
            retries: 0,
            refreshed: false,
            phase: Phase::Ready { waited_on: None },
            fresh: None,
            pending: None,
            last_error: None,
            verdict: None,
            rng: fastrand::Rng::with_seed(seed),
            finished: false,
        }
    }

    /// Starts a token fetch (for `bdip token`): always asks the token endpoint anew.
    pub fn token_call(self: &Arc<Self>) -> TokenCall {
        self.auth.force_refresh();
        TokenCall {
            session: Arc::clone(self),
            fetch: None,
            result: None,
            done: false,
        }
    }
}

enum Phase {
    /// Deciding; `waited_on` is the fetch another caller was making for us.
    Ready { waited_on: Option<u64> },
    /// Another caller is fetching the token.
    WaitingForToken { fetch: u64 },
    /// Our token request is in flight.
    Fetching { id: u64 },
    /// The operation request is in flight, authenticated with token `generation`.
    Sending { generation: Option<u64> },
    /// Backing off until then.
    BackingOff { until: Instant },
}

/// One API call in progress. Created by [`Session::call`]; run it with a driver.
pub struct Call {
    session: Arc<Session>,
    op: Operation,
    body: Bytes,
    started: Instant,
    deadline: Instant,
    attempts: u32,
    retries: u32,
    refreshed: bool,
    phase: Phase,
    fresh: Option<(AccessToken, u64)>,
    pending: Option<(HttpRequest, Option<u64>)>,
    last_error: Option<Error>,
    /// Set by a handler when the call is decided; returned by the next `next()`.
    verdict: Option<Result<ImageReply, Error>>,
    rng: fastrand::Rng,
    finished: bool,
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
    /// The operation.
    pub fn operation(&self) -> Operation {
        self.op
    }

    /// Requests sent so far (token requests included).
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    fn finish(&mut self, result: Result<ImageReply, Error>) -> Step<ImageReply> {
        self.finished = true;
        self.phase = Phase::Ready { waited_on: None };
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

    fn send(
        &mut self,
        now: Instant,
        mut request: HttpRequest,
        generation: Option<u64>,
    ) -> Step<ImageReply> {
        let remaining = self.deadline.saturating_duration_since(now);
        let attempt = self.session.config.timeouts.attempt.min(remaining);
        request.extensions_mut().insert(AttemptTimeout(attempt));
        self.attempts += 1;
        self.phase = Phase::Sending { generation };
        tracing::debug!(op = %self.op, attempt = self.attempts, bytes = self.body.len(), "sending");
        Step::Send(request)
    }

    /// Builds the operation request, authenticated with a token or a signature.
    fn operation_request(
        &self,
        token: Option<&AccessToken>,
        signer: Option<&BceCredentials>,
    ) -> HttpRequest {
        let config = &self.session.config;
        let query = token.map(|t| {
            format!(
                "access_token={}",
                percent_encoding::utf8_percent_encode(t.expose_secret(), QUERY_VALUE)
            )
        });
        let mut request = crate::token::form_post(
            config.endpoint.uri(self.op.path(), query.as_deref()),
            self.body.clone(),
        );
        let headers = request.headers_mut();
        if spec(self.op).body == BodyKind::Json {
            headers.insert(
                http::header::CONTENT_TYPE,
                http::HeaderValue::from_static(BodyKind::Json.content_type()),
            );
        }
        if let Ok(ua) = http::HeaderValue::from_str(&config.user_agent) {
            headers.insert(http::header::USER_AGENT, ua);
        }
        if let Some(credentials) = signer {
            let timestamp = format_timestamp((config.wall_clock)());
            // As the official SDK: sign the host name without its port, and send that
            // same `Host` so the server sees exactly what was signed.
            let host = host_for_signing(config.endpoint.host());
            let signed = [
                ("host".to_owned(), host.clone()),
                ("x-bce-date".to_owned(), timestamp.clone()),
            ];
            let path = config.endpoint.full_path(self.op.path());
            let value = authorization(
                credentials,
                &SigningInput {
                    method: "POST",
                    path: &path,
                    query: &[],
                    headers: &signed,
                    timestamp: &timestamp,
                    expire_secs: DEFAULT_EXPIRE_SECS,
                },
            );
            for (name, value) in [
                ("host", host),
                ("x-bce-date", timestamp),
                ("authorization", value),
            ] {
                if let Ok(v) = http::HeaderValue::from_str(&value) {
                    headers.insert(name, v);
                }
            }
        }
        request
    }

    /// Paces the request through the rate limiter, then sends it.
    fn pace_and_send(
        &mut self,
        now: Instant,
        request: HttpRequest,
        generation: Option<u64>,
    ) -> Step<ImageReply> {
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
        self.pending = Some((request, generation));
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
            self.verdict = Some(Err(error));
            return;
        }
        let mut delay = policy.backoff(self.retries, throttled, self.rng.f64());
        if let Some(after) = retry_after {
            delay = delay.max(after);
        }
        self.retries += 1;
        tracing::debug!(op = %self.op, attempt = self.attempts, delay_ms = delay.as_millis() as u64, error = %error, "retrying");
        self.last_error = Some(error);
        self.phase = Phase::BackingOff { until: now + delay };
    }
}

impl Machine for Call {
    type Output = ImageReply;

    fn next(&mut self, now: Instant) -> Step<ImageReply> {
        if self.finished {
            return Step::Done(Err(Error::Transport(TransportError::new(
                TransportErrorKind::Other,
                "the call already finished",
            ))));
        }
        if let Some(verdict) = self.verdict.take() {
            return self.finish(verdict);
        }
        if now >= self.deadline {
            return self.timeout(now);
        }
        if let Some((request, generation)) = self.pending.take() {
            return self.send(now, request, generation);
        }
        let waited_on = match self.phase {
            Phase::BackingOff { until } if now < until => {
                if until >= self.deadline {
                    return self.timeout(now);
                }
                return Step::Sleep(until - now);
            }
            Phase::WaitingForToken { fetch } => Some(fetch),
            Phase::Ready { waited_on } => waited_on,
            _ => None,
        };
        self.phase = Phase::Ready { waited_on: None };
        if let Some((token, generation)) = self.fresh.take() {
            let request = self.operation_request(Some(&token), None);
            return self.pace_and_send(now, request, Some(generation));
        }
        match self.session.auth.acquire(now, waited_on) {
            Grant::Token { token, generation } => {
                let request = self.operation_request(Some(&token), None);
                self.pace_and_send(now, request, Some(generation))
            }
            Grant::Sign(credentials) => {
                let request = self.operation_request(None, Some(&credentials));
                self.pace_and_send(now, request, None)
            }
            Grant::Fetch { id, mut request } => {
                let remaining = self.deadline.saturating_duration_since(now);
                let attempt = self.session.config.timeouts.attempt.min(remaining);
                request.extensions_mut().insert(AttemptTimeout(attempt));
                self.attempts += 1;
                self.phase = Phase::Fetching { id };
                Step::Send(*request)
            }
            Grant::Wait { fetch } => {
                self.phase = Phase::WaitingForToken { fetch };
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
        match std::mem::replace(&mut self.phase, Phase::Ready { waited_on: None }) {
            Phase::Fetching { id } => {
                let outcome = decode_token_reply(status, response.body());
                let stored = self.session.auth.complete_fetch(id, &outcome, now);
                match outcome {
                    Ok(_) => self.fresh = stored,
                    Err(AuthError::MalformedTokenReply(d)) if d.is_retryable() => {
                        self.retry_or_fail(
                            now,
                            Error::Auth(AuthError::MalformedTokenReply(d)),
                            false,
                            retry_after,
                        );
                    }
                    Err(e) => self.verdict = Some(Err(Error::Auth(e))),
                }
            }
            Phase::Sending { generation } => {
                match decode_reply(spec(self.op).reply, status, response.body()) {
                    Ok(reply) => {
                        if let Some(l) = &self.session.limiter {
                            l.on_success();
                        }
                        tracing::debug!(op = %self.op, log_id = reply.log_id.0, bytes = reply.image.len(), "done");
                        self.verdict = Some(Ok(reply));
                    }
                    Err(error) => self.handle_error(now, error, generation, retry_after, status),
                }
            }
            other => self.phase = other,
        }
    }

    fn handle_transport_error(&mut self, now: Instant, error: TransportError) {
        match std::mem::replace(&mut self.phase, Phase::Ready { waited_on: None }) {
            Phase::Fetching { id } => self.session.auth.abandon_fetch(id),
            Phase::Sending { .. } => {}
            other => {
                self.phase = other;
                return;
            }
        }
        if error.kind() == TransportErrorKind::Timeout && now >= self.deadline {
            // `next()` turns this into a timeout carrying the transport error.
            self.last_error = Some(Error::Transport(error));
        } else if error.is_retryable() {
            self.retry_or_fail(now, Error::Transport(error), false, None);
        } else {
            self.verdict = Some(Err(Error::Transport(error)));
        }
    }
}

impl Call {
    /// Decides what an error reply means: refresh the token once, slow down, retry, or
    /// give up.
    fn handle_error(
        &mut self,
        now: Instant,
        error: Error,
        generation: Option<u64>,
        retry_after: Option<Duration>,
        status: u16,
    ) {
        let class = match &error {
            Error::Api { code, .. } => Some(code.class()),
            _ => None,
        };
        match (class, error) {
            (
                Some(ErrorClass::TokenRejected),
                Error::Api {
                    code,
                    message,
                    log_id,
                },
            ) => {
                if self.session.auth.can_refresh() && !self.refreshed {
                    self.refreshed = true;
                    if let Some(g) = generation {
                        self.session.auth.invalidate(g);
                    }
                    self.last_error = Some(Error::Api {
                        code,
                        message,
                        log_id,
                    });
                } else {
                    self.verdict = Some(Err(Error::Auth(AuthError::TokenRejected {
                        code,
                        message,
                        log_id,
                    })));
                }
            }
            (Some(ErrorClass::Throttled), error) => {
                if let Some(l) = &self.session.limiter {
                    l.on_throttled(now);
                }
                self.retry_or_fail(now, error, true, retry_after);
            }
            (_, error) if error.is_retryable() => {
                let throttled = status == 429;
                if throttled && let Some(l) = &self.session.limiter {
                    l.on_throttled(now);
                }
                self.retry_or_fail(now, error, throttled, retry_after);
            }
            (_, error) => self.verdict = Some(Err(error)),
        }
    }
}

impl Drop for Call {
    fn drop(&mut self) {
        if let Phase::Fetching { id } = self.phase {
            self.session.auth.abandon_fetch(id);
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

/// What `bdip token` reports about a fetched token (never the token itself unless asked).
#[derive(Clone)]
pub struct TokenInfo {
    /// The token.
    pub access_token: AccessToken,
    /// Its lifetime.
    pub expires_in: Duration,
    /// Its scopes.
    pub scope: String,
}

impl fmt::Debug for TokenInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenInfo")
            .field("access_token", &self.access_token)
            .field("expires_in", &self.expires_in)
            .field("scope", &self.scope)
            .finish()
    }
}

impl From<TokenReply> for TokenInfo {
    fn from(r: TokenReply) -> Self {
        Self {
            access_token: r.access_token,
            expires_in: r.expires_in,
            scope: r.scope,
        }
    }
}

/// A one-shot token fetch, storing the new token in the client's cache.
pub struct TokenCall {
    session: Arc<Session>,
    fetch: Option<u64>,
    result: Option<Result<TokenInfo, Error>>,
    done: bool,
}

impl fmt::Debug for TokenCall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenCall").finish_non_exhaustive()
    }
}

impl Machine for TokenCall {
    type Output = TokenInfo;

    fn next(&mut self, now: Instant) -> Step<TokenInfo> {
        if let Some(result) = self.result.take() {
            self.done = true;
            return Step::Done(result);
        }
        if self.done {
            return Step::Done(Err(Error::Transport(TransportError::new(
                TransportErrorKind::Other,
                "the token call already finished",
            ))));
        }
        match self.session.auth.acquire(now, self.fetch) {
            Grant::Fetch { id, mut request } => {
                request
                    .extensions_mut()
                    .insert(AttemptTimeout(self.session.config.timeouts.attempt));
                self.fetch = Some(id);
                Step::Send(*request)
            }
            Grant::Wait { fetch } => {
                self.fetch = Some(fetch);
                Step::Sleep(WAIT_POLL)
            }
            Grant::Token { token, .. } => {
                self.done = true;
                Step::Done(Ok(TokenInfo {
                    access_token: token,
                    expires_in: Duration::ZERO,
                    scope: String::new(),
                }))
            }
            Grant::Sign(_) => {
                self.done = true;
                Step::Done(Err(Error::Auth(AuthError::TokenRejected {
                    code: crate::code::ErrorCode::INVALID_PARAMETER,
                    message: "bce-auth-v1 credentials sign each request and use no access token"
                        .into(),
                    log_id: None,
                })))
            }
            Grant::Rejected { error, description } => {
                self.done = true;
                Step::Done(Err(Error::Auth(AuthError::InvalidClient {
                    error,
                    description,
                })))
            }
        }
    }

    fn handle_response(&mut self, now: Instant, response: HttpResponse) {
        let Some(id) = self.fetch else { return };
        let outcome = decode_token_reply(response.status().as_u16(), response.body());
        self.session.auth.complete_fetch(id, &outcome, now);
        self.result = Some(outcome.map(TokenInfo::from).map_err(Error::Auth));
    }

    fn handle_transport_error(&mut self, _now: Instant, error: TransportError) {
        if let Some(id) = self.fetch {
            self.session.auth.abandon_fetch(id);
        }
        self.result = Some(Err(Error::Transport(error)));
    }
}

#[cfg(test)]
mod step_debug_tests {
    use super::*;

    #[test]
    fn send_steps_never_show_the_secret_key_or_the_token() {
        let secret = "sk-sentinel-7c1e";
        let session = Session::new(ClientConfig::new(Credentials::api_key("ak", secret)));
        let mut token_call = session.token_call();
        let token_step = token_call.next(Instant::now());
        assert!(matches!(token_step, Step::Send(_)));
        let fixed = Session::new(ClientConfig::new(Credentials::access_token(secret)));
        let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
        png.extend_from_slice(&[0, 0, 1, 64, 0, 0, 0, 240, 8, 2, 0, 0, 0, 0, 0, 0, 0]);
        let Ok(mut call) = fixed.call(Operation::Dehaze, &png, Instant::now()) else {
            panic!("a valid PNG header was rejected");
        };
        let call_step = call.next(Instant::now());
        let text = format!("{token_step:?} {token_step:#?} {call_step:?} {call_step:#?}");
        assert!(!text.contains(secret), "{text}");
        assert!(
            text.contains("/oauth/2.0/token") && text.contains("/dehaze?<redacted>"),
            "{text}"
        );
    }
}
