//! A one-shot token fetch, for callers that want the token itself.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::auth::token_cache::{Grant, WAIT_POLL};
use crate::code::ErrorCode;
use crate::error::{AuthError, Error};
use crate::machine::shared::Session;
use crate::machine::step::{Machine, Step};
use crate::secret::AccessToken;
use crate::transport::{AttemptTimeout, HttpResponse, TransportError};
use crate::wire::token::{TokenReply, decode_token_reply};

/// A fetched token and what the endpoint said about it (never shown unless asked).
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

/// Where a token fetch stands.
enum State {
    /// Not started.
    Start,
    /// Another caller is fetching; ask again after a short sleep.
    Waiting { fetch: u64 },
    /// Our token request is in flight.
    Fetching { id: u64 },
    /// Decided; the next `next()` returns it.
    Decided(Result<TokenInfo, Error>),
    /// Returned; stepping further is misuse.
    Finished,
}

/// A one-shot token fetch, storing the new token in the client's cache.
pub struct TokenCall {
    session: Arc<Session>,
    state: State,
}

impl fmt::Debug for TokenCall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenCall").finish_non_exhaustive()
    }
}

impl TokenCall {
    pub(crate) fn new(session: Arc<Session>) -> Self {
        Self {
            session,
            state: State::Start,
        }
    }

    fn finish(&mut self, result: Result<TokenInfo, Error>) -> Step<TokenInfo> {
        self.state = State::Finished;
        Step::Done(result)
    }
}

impl Machine for TokenCall {
    type Output = TokenInfo;

    fn next(&mut self, now: Instant) -> Step<TokenInfo> {
        let waited_on = match std::mem::replace(&mut self.state, State::Start) {
            State::Finished => {
                self.state = State::Finished;
                return Step::Done(Err(Error::Misuse("the token call already finished")));
            }
            State::Decided(result) => return self.finish(result),
            State::Start => None,
            State::Waiting { fetch } => Some(fetch),
            // Stepped again without feeding the outcome: ask as the fetch's waiter.
            State::Fetching { id } => Some(id),
        };
        match self.session.tokens.acquire(now, waited_on) {
            Grant::Fetch { id, mut request } => {
                request
                    .extensions_mut()
                    .insert(AttemptTimeout(self.session.config.timeouts.attempt));
                self.state = State::Fetching { id };
                Step::Send(*request)
            }
            Grant::Wait { fetch } => {
                self.state = State::Waiting { fetch };
                Step::Sleep(WAIT_POLL)
            }
            Grant::Token { token, .. } => self.finish(Ok(TokenInfo {
                access_token: token,
                expires_in: Duration::ZERO,
                scope: String::new(),
            })),
            Grant::Sign(_) => self.finish(Err(Error::Auth(AuthError::TokenRejected {
                code: ErrorCode::INVALID_PARAMETER,
                message: "bce-auth-v1 credentials sign each request and use no access token".into(),
                log_id: None,
            }))),
            Grant::Rejected { error, description } => {
                self.finish(Err(Error::Auth(AuthError::InvalidClient {
                    error,
                    description,
                })))
            }
        }
    }

    fn handle_response(&mut self, now: Instant, response: HttpResponse) {
        self.state = match std::mem::replace(&mut self.state, State::Start) {
            State::Fetching { id } => {
                let outcome = decode_token_reply(response.status().as_u16(), response.body());
                self.session.tokens.complete_fetch(id, &outcome, now);
                State::Decided(outcome.map(TokenInfo::from).map_err(Error::Auth))
            }
            State::Finished => State::Finished,
            _ => State::Decided(Err(Error::Misuse(
                "a response arrived with no token request outstanding",
            ))),
        };
    }

    fn handle_transport_error(&mut self, _now: Instant, error: TransportError) {
        self.state = match std::mem::replace(&mut self.state, State::Start) {
            State::Fetching { id } => {
                self.session.tokens.abandon_fetch(id);
                State::Decided(Err(Error::Transport(error)))
            }
            State::Finished => State::Finished,
            _ => State::Decided(Err(Error::Misuse(
                "a transport error arrived with no token request outstanding",
            ))),
        };
    }
}

impl Drop for TokenCall {
    fn drop(&mut self) {
        if let State::Fetching { id } = self.state {
            self.session.tokens.abandon_fetch(id);
        }
    }
}
