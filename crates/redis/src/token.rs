//! One access token for the whole fleet.
//!
//! A transport wrapper, so the call machine needs no new state: the token request a
//! client's cache sends goes to Redis first. If the fleet's token is there, it is the
//! reply; otherwise one process takes a lock (with an expiry), fetches the token from the
//! real endpoint and stores it, with an expiry ahead of the token's own, so the fleet
//! refreshes before it lapses; the others wait for it and read it. When the service
//! rejects a token (110/111), the first process to see it drops it from Redis (only if it
//! is still the rejected one), so the fleet fetches once.

use std::sync::Arc;
use std::time::{Duration, Instant};

use baidu_imageprocess_protocol::{
    AsyncTransport, Credentials, DynAsyncTransport, ErrorClass, ErrorCode, HttpRequest,
    HttpResponse, TOKEN_PATH, Transport, TransportError, application_id, decode_token_reply,
};
use bytes::Bytes;

use crate::budget::RedisBudget;
use crate::scripts::{DELETE_IF_SCRIPT, DROP_TOKEN_SCRIPT, TokenKeys};

/// How long a fetching process holds the lock; others wait at most this long.
const LOCK_TTL: Duration = Duration::from_secs(15);
/// How often a waiting process looks for the token another is fetching.
const WAIT_POLL: Duration = Duration::from_millis(50);
/// Replies longer than this are images, not a token rejection.
const ERROR_REPLY_MAX: usize = 4096;

/// A transport that shares access tokens through the budget's Redis. Build it with
/// [`RedisBudget::share_token`]; everything other than token requests passes through.
pub struct SharedToken<T: ?Sized> {
    budget: RedisBudget,
    application: Arc<str>,
    inner: Arc<T>,
}

impl<T: ?Sized> std::fmt::Debug for SharedToken<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedToken")
            .field("budget", &self.budget)
            .finish_non_exhaustive()
    }
}

impl RedisBudget {
    /// Wraps `inner` (a [`Transport`] or [`DynAsyncTransport`]) so that every process
    /// with this budget and these credentials shares one access token.
    pub fn share_token<T: ?Sized>(
        &self,
        credentials: &Credentials,
        inner: Arc<T>,
    ) -> SharedToken<T> {
        SharedToken {
            budget: self.clone(),
            application: Arc::from(application_id(credentials)),
            inner,
        }
    }
}

/// The stored token and what is left of its life in Redis.
type Stored = (Option<String>, i64);

impl<T: ?Sized> SharedToken<T> {
    fn keys(&self, request: &HttpRequest) -> TokenKeys {
        let uri = request.uri();
        let endpoint = format!(
            "{}://{}",
            uri.scheme_str().unwrap_or("https"),
            uri.authority().map_or("", |a| a.as_str())
        );
        TokenKeys::new(self.budget.prefix(), &self.application, &endpoint)
    }

    fn read_pipe(keys: &TokenKeys) -> redis::Pipeline {
        let mut pipe = redis::pipe();
        pipe.get(&keys.token).pttl(&keys.token);
        pipe
    }

    fn lock_cmd(keys: &TokenKeys, owner: &str) -> redis::Cmd {
        let mut cmd = redis::cmd("SET");
        cmd.arg(&keys.lock)
            .arg(owner)
            .arg("NX")
            .arg("PX")
            .arg(LOCK_TTL.as_millis() as u64);
        cmd
    }
}

impl<T: Transport + ?Sized> Transport for SharedToken<T> {
    fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        if !is_token_request(&request) {
            // The operation's base URL is the token endpoint's: one endpoint per client.
            let used = access_token_of(&request).map(|t| (t, self.keys(&request)));
            let response = self.inner.send(request)?;
            if let Some((token, keys)) = used.filter(|_| is_token_rejection(&response)) {
                let _ = self.budget.with_blocking(|c| {
                    DROP_TOKEN_SCRIPT
                        .key(&keys.token)
                        .arg(&token)
                        .invoke::<i64>(c)
                });
            }
            return Ok(response);
        }
        if !self.budget.should_try() {
            return self.inner.send(request);
        }
        let keys = self.keys(&request);
        let read = |budget: &RedisBudget| {
            budget.with_blocking(|c| Self::read_pipe(&keys).query::<Stored>(c))
        };
        match read(&self.budget) {
            Ok(stored) => {
                if let Some(reply) = reply_from(stored) {
                    return Ok(reply);
                }
            }
            Err(error) => {
                self.budget.failed(&error);
                return self.inner.send(request);
            }
        }
        let owner = format!("{:016x}", fastrand::u64(..));
        let locked = self
            .budget
            .with_blocking(|c| Self::lock_cmd(&keys, &owner).query::<Option<String>>(c));
        if let Ok(Some(_)) = locked {
            let response = self.inner.send(request);
            if let Ok(r) = &response
                && let Some((value, ttl)) = storable(r)
            {
                let _ = self.budget.with_blocking(|c| {
                    redis::cmd("SET")
                        .arg(&keys.token)
                        .arg(&value)
                        .arg("PX")
                        .arg(ttl)
                        .query::<()>(c)
                });
            }
            let _ = self.budget.with_blocking(|c| {
                DELETE_IF_SCRIPT
                    .key(&keys.lock)
                    .arg(&owner)
                    .invoke::<i64>(c)
            });
            return response;
        }
        // Another process is fetching: wait for its token (bounded by its lock).
        let until = Instant::now() + LOCK_TTL;
        while Instant::now() < until {
            std::thread::sleep(WAIT_POLL);
            match read(&self.budget) {
                Ok(stored) => {
                    if let Some(reply) = reply_from(stored) {
                        return Ok(reply);
                    }
                }
                Err(_) => break,
            }
        }
        self.inner.send(request)
    }
}

impl<T: DynAsyncTransport + ?Sized> AsyncTransport for SharedToken<T> {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        if !is_token_request(&request) {
            let used = access_token_of(&request).map(|t| (t, self.keys(&request)));
            let response = self.inner.send_boxed(request).await?;
            if let Some((token, keys)) = used.filter(|_| is_token_rejection(&response))
                && let Ok(mut conn) = self.budget.multiplexed().await
            {
                let _ = DROP_TOKEN_SCRIPT
                    .key(&keys.token)
                    .arg(&token)
                    .invoke_async::<i64>(&mut conn)
                    .await;
            }
            return Ok(response);
        }
        if !self.budget.should_try() {
            return self.inner.send_boxed(request).await;
        }
        let keys = self.keys(&request);
        let mut conn = match self.budget.multiplexed().await {
            Ok(conn) => conn,
            Err(error) => {
                self.budget.failed(&error);
                return self.inner.send_boxed(request).await;
            }
        };
        match Self::read_pipe(&keys)
            .query_async::<Stored>(&mut conn)
            .await
        {
            Ok(stored) => {
                if let Some(reply) = reply_from(stored) {
                    return Ok(reply);
                }
            }
            Err(error) => {
                self.budget.drop_multiplexed().await;
                self.budget.failed(&error);
                return self.inner.send_boxed(request).await;
            }
        }
        let owner = format!("{:016x}", fastrand::u64(..));
        let locked = Self::lock_cmd(&keys, &owner)
            .query_async::<Option<String>>(&mut conn)
            .await;
        if let Ok(Some(_)) = locked {
            let response = self.inner.send_boxed(request).await;
            if let Ok(r) = &response
                && let Some((value, ttl)) = storable(r)
            {
                let _ = redis::cmd("SET")
                    .arg(&keys.token)
                    .arg(&value)
                    .arg("PX")
                    .arg(ttl)
                    .query_async::<()>(&mut conn)
                    .await;
            }
            let _ = DELETE_IF_SCRIPT
                .key(&keys.lock)
                .arg(&owner)
                .invoke_async::<i64>(&mut conn)
                .await;
            return response;
        }
        let until = Instant::now() + LOCK_TTL;
        while Instant::now() < until {
            tokio::time::sleep(WAIT_POLL).await;
            match Self::read_pipe(&keys)
                .query_async::<Stored>(&mut conn)
                .await
            {
                Ok(stored) => {
                    if let Some(reply) = reply_from(stored) {
                        return Ok(reply);
                    }
                }
                Err(_) => break,
            }
        }
        self.inner.send_boxed(request).await
    }
}

fn is_token_request(request: &HttpRequest) -> bool {
    request.uri().path().ends_with(TOKEN_PATH)
}

/// The `access_token` query parameter of an operation request, if any.
fn access_token_of(request: &HttpRequest) -> Option<String> {
    request.uri().query()?.split('&').find_map(|pair| {
        pair.strip_prefix("access_token=").map(|v| {
            percent_encoding::percent_decode_str(v)
                .decode_utf8_lossy()
                .into_owned()
        })
    })
}

/// Whether the service said the token is invalid or expired (the errors that make a
/// client fetch a new one).
fn is_token_rejection(response: &HttpResponse) -> bool {
    let body = response.body();
    if body.len() > ERROR_REPLY_MAX {
        return false;
    }
    let code = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("error_code").and_then(serde_json::Value::as_u64));
    code.and_then(|c| u32::try_from(c).ok())
        .is_some_and(|c| ErrorCode(c).class() == ErrorClass::TokenRejected)
}

/// A token reply built from the fleet's stored token, with the life it has left.
fn reply_from((value, pttl): Stored) -> Option<HttpResponse> {
    let value = value?;
    let stored: serde_json::Value = serde_json::from_str(&value).ok()?;
    let token = stored.get("access_token")?.as_str()?;
    // Less than a second left: treat as gone, so someone fetches a fresh one.
    let expires_in = u64::try_from(pttl).ok()? / 1000;
    if expires_in == 0 {
        return None;
    }
    let body = serde_json::json!({
        "access_token": token,
        "expires_in": expires_in,
        "scope": stored.get("scope").and_then(serde_json::Value::as_str).unwrap_or(""),
    });
    let mut response = HttpResponse::new(Bytes::from(body.to_string()));
    *response.status_mut() = http::StatusCode::OK;
    Some(response)
}

/// What to store from a real token reply: the token and its scope, and for how long (ms)
/// — a tenth of its life (at most five minutes) short of its expiry, so the fleet
/// refreshes it before any request can carry an expired token.
fn storable(response: &HttpResponse) -> Option<(String, u64)> {
    let reply = decode_token_reply(response.status().as_u16(), response.body()).ok()?;
    let margin = (reply.expires_in / 10).min(Duration::from_secs(300));
    let ttl = reply.expires_in.saturating_sub(margin).as_millis() as u64;
    if ttl == 0 {
        return None;
    }
    let value = serde_json::json!({
        "access_token": reply.access_token.expose_secret(),
        "scope": reply.scope,
    });
    Some((value.to_string(), ttl))
}
