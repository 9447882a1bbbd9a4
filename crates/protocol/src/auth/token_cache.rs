//! The shared token cache: refresh ahead of expiry, invalidate the generation a rejected
//! call used, and single-flight fetches.
//!
//! Sans-IO single-flight: [`TokenCache::acquire`] grants one caller a fetch lease (its next
//! step is the token request); the others are told to wait briefly and ask again, and
//! pick up either the new token or the fetch's rejection.

use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use crate::auth::credentials::Credentials;
use crate::auth::sign::BceCredentials;
use crate::endpoint::Endpoint;
use crate::error::AuthError;
use crate::secret::AccessToken;
use crate::transport::HttpRequest;
use crate::wire::token::{TokenReply, token_request};

/// A refused fetch is remembered this long, so a batch with bad credentials sends one
/// token request, not one per image.
const REJECTION_MEMORY: Duration = Duration::from_secs(10);
/// How often a waiting caller re-checks for the token another caller is fetching.
pub(crate) const WAIT_POLL: Duration = Duration::from_millis(10);
/// A fetch in flight longer than this is presumed abandoned; another caller may take over.
const STALE_FETCH: Duration = Duration::from_secs(120);

/// What a caller should do to authenticate its next request.
#[derive(Debug)]
pub(crate) enum Grant {
    /// Use this token; remember its generation in case it is rejected.
    Token { token: AccessToken, generation: u64 },
    /// Fetch a token: send `request`, then call [`TokenCache::complete_fetch`] with lease `id`.
    Fetch { id: u64, request: Box<HttpRequest> },
    /// Another caller is fetching: wait and ask again, passing `fetch`.
    Wait { fetch: u64 },
    /// Sign the request with these credentials.
    Sign(BceCredentials),
    /// The credentials were refused recently.
    Rejected { error: String, description: String },
}

#[derive(Debug)]
struct Cached {
    token: AccessToken,
    generation: u64,
    refresh_at: Instant,
    expires_at: Instant,
}

#[derive(Debug, Default)]
struct State {
    current: Option<Cached>,
    generations: u64,
    fetch: Option<(u64, Instant)>,
    fetches: u64,
    rejection: Option<Rejection>,
    warned_scope: bool,
}

#[derive(Debug, Clone)]
struct Rejection {
    fetch: u64,
    at: Instant,
    error: String,
    description: String,
}

/// The token cache of one client, shared by all its clones and calls: how requests are
/// authenticated (a cached access token, a fixed one, or a bce-auth-v1 signature).
#[derive(Debug)]
pub struct TokenCache {
    credentials: Credentials,
    endpoint: Endpoint,
    state: Mutex<State>,
}

impl TokenCache {
    /// A cache for `credentials`, fetching tokens from `endpoint`.
    pub fn new(credentials: Credentials, endpoint: Endpoint) -> Self {
        Self {
            credentials,
            endpoint,
            state: Mutex::new(State::default()),
        }
    }

    /// The credentials in use.
    pub fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Decides how the caller authenticates. `waited_on` is the fetch the caller was told
    /// to wait for, if any.
    pub(crate) fn acquire(&self, now: Instant, waited_on: Option<u64>) -> Grant {
        let (api_key, secret_key) = match &self.credentials {
            Credentials::AccessToken(token) => {
                return Grant::Token {
                    token: token.clone(),
                    generation: 0,
                };
            }
            Credentials::BceAuthV1(c) => return Grant::Sign(c.clone()),
            Credentials::ApiKey {
                api_key,
                secret_key,
            } => (api_key, secret_key),
        };
        let mut s = self.lock();
        if let Some(r) = &s.rejection
            && (waited_on == Some(r.fetch) || now.duration_since(r.at) < REJECTION_MEMORY)
        {
            return Grant::Rejected {
                error: r.error.clone(),
                description: r.description.clone(),
            };
        }
        let in_flight = s
            .fetch
            .filter(|&(_, started)| now.duration_since(started) < STALE_FETCH)
            .map(|(id, _)| id);
        match &s.current {
            Some(c) if now < c.refresh_at || (now < c.expires_at && in_flight.is_some()) => {
                return Grant::Token {
                    token: c.token.clone(),
                    generation: c.generation,
                };
            }
            _ => {}
        }
        if let Some(id) = in_flight {
            return Grant::Wait { fetch: id };
        }
        s.fetches += 1;
        let id = s.fetches;
        s.fetch = Some((id, now));
        tracing::debug!(fetch = id, "fetching an access token");
        Grant::Fetch {
            id,
            request: Box::new(token_request(&self.endpoint, api_key, secret_key)),
        }
    }

    /// Stores the outcome of fetch `id`. Returns the new token's generation on success.
    pub(crate) fn complete_fetch(
        &self,
        id: u64,
        outcome: &Result<TokenReply, AuthError>,
        now: Instant,
    ) -> Option<(AccessToken, u64)> {
        let mut s = self.lock();
        if s.fetch.is_some_and(|(f, _)| f == id) {
            s.fetch = None;
        }
        match outcome {
            Ok(reply) => {
                if !reply.has_brain_scope() && !s.warned_scope {
                    s.warned_scope = true;
                    tracing::warn!(
                        scope = %reply.scope,
                        "the access token lacks brain_all_scope; if calls fail with error 6 or 110, \
                         use bce-auth-v1 credentials (Credentials::bce_auth_v1) instead"
                    );
                }
                s.generations += 1;
                let generation = s.generations;
                let margin = (reply.expires_in / 10).min(Duration::from_secs(300));
                s.current = Some(Cached {
                    token: reply.access_token.clone(),
                    generation,
                    refresh_at: now + reply.expires_in.saturating_sub(margin),
                    expires_at: now + reply.expires_in,
                });
                s.rejection = None;
                tracing::debug!(fetch = id, generation, "access token stored");
                Some((reply.access_token.clone(), generation))
            }
            Err(AuthError::InvalidClient { error, description }) => {
                s.rejection = Some(Rejection {
                    fetch: id,
                    at: now,
                    error: error.clone(),
                    description: description.clone(),
                });
                None
            }
            Err(_) => None,
        }
    }

    /// Forgets fetch `id` without a result (its caller gave up or was dropped).
    pub(crate) fn abandon_fetch(&self, id: u64) {
        let mut s = self.lock();
        if s.fetch.is_some_and(|(f, _)| f == id) {
            s.fetch = None;
        }
    }

    /// The service refused the token of `generation`: drop it, unless a newer token has
    /// already replaced it (then another call already refreshed).
    pub(crate) fn invalidate(&self, generation: u64) {
        let mut s = self.lock();
        if s.current
            .as_ref()
            .is_some_and(|c| c.generation == generation)
        {
            tracing::debug!(generation, "access token rejected; it will be refreshed");
            s.current = None;
        }
    }

    /// Whether tokens can be refreshed (false for a fixed token or signing).
    pub(crate) fn can_refresh(&self) -> bool {
        matches!(self.credentials, Credentials::ApiKey { .. })
    }

    /// Drops the cached token so the next call fetches a new one.
    pub fn force_refresh(&self) {
        self.lock().current = None;
    }
}
