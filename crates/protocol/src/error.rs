//! The one error type of every call, organised by what the caller can do about it.

use std::fmt;
use std::time::Duration;

use crate::code::{ErrorClass, ErrorCode};
use crate::log_id::LogId;
use crate::transport::TransportError;
use crate::violation::LimitViolation;

/// Why a call failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The image or a parameter breaks the operation's limits; nothing was sent.
    /// Retrying the same request cannot help: shrink, convert or crop the image, or fix
    /// the parameter the message names.
    #[error("request rejected before sending: {0}")]
    InvalidInput(#[source] LimitViolation),
    /// The service answered with an `error_code`. Retrying helps only when
    /// [`Error::is_retryable`] says so (the clients already retried those).
    #[error("Baidu API error {code}: {message}")]
    Api {
        /// The service's code.
        code: ErrorCode,
        /// The service's `error_msg`.
        message: String,
        /// The service's `log_id`, for Baidu support.
        log_id: Option<LogId>,
        /// The HTTP status the error arrived with: 200 for Baidu's usual error bodies,
        /// but a transient code may come with 429 or 5xx, which changes its handling
        /// (see [`crate::classify`]). A local engine, with no HTTP, reports 200.
        status: u16,
    },
    /// Credentials were refused, or a fresh token was refused too. Check the API key and
    /// secret key; retrying does not help.
    #[error("authentication failed")]
    Auth(#[source] AuthError),
    /// The call's total deadline passed (including retries and backoff).
    #[error("request timed out after {:.1} s ({attempts} attempt{})", elapsed.as_secs_f64(), if *attempts == 1 { "" } else { "s" })]
    Timeout {
        /// Time spent on the call.
        elapsed: Duration,
        /// Requests sent.
        attempts: u32,
        /// The last failure before time ran out, if any.
        #[source]
        last: Option<Box<Error>>,
    },
    /// The HTTP exchange failed (connection, TLS, I/O); retries are already spent.
    #[error("transport failed")]
    Transport(#[source] TransportError),
    /// The reply was not what the API sends (an HTML error page, a truncated body, bad
    /// base64).
    #[error("malformed reply")]
    Decode(#[source] DecodeError),
    /// The state machine was driven against its contract (stepped after it finished, fed
    /// a response with no request outstanding): a bug in the driver, not a failure of the
    /// call.
    #[error("API misuse: {0}")]
    Misuse(&'static str),
}

impl Error {
    /// Whether the failure is about credentials or tokens.
    pub fn is_auth(&self) -> bool {
        matches!(self, Self::Auth(_))
    }

    /// The service's error code, for API errors and refused images.
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            Self::Api { code, .. } | Self::Auth(AuthError::TokenRejected { code, .. }) => {
                Some(*code)
            }
            Self::InvalidInput(v) => Some(v.code()),
            Self::Timeout { last: Some(e), .. } => e.code(),
            _ => None,
        }
    }

    /// The class of the service's error code, if there is one.
    pub fn class(&self) -> Option<ErrorClass> {
        self.code().map(ErrorCode::class)
    }

    /// The service's `log_id`, when the service answered.
    pub fn log_id(&self) -> Option<LogId> {
        match self {
            Self::Api { log_id, .. } | Self::Auth(AuthError::TokenRejected { log_id, .. }) => {
                *log_id
            }
            Self::Timeout { last: Some(e), .. } => e.log_id(),
            _ => None,
        }
    }
}

/// Why authentication failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// The token endpoint refused the API key / secret key pair.
    #[error("credentials refused ({error}: {description}); check the API Key and Secret Key")]
    InvalidClient {
        /// The OAuth `error` field, e.g. `invalid_client`.
        error: String,
        /// The OAuth `error_description` field.
        description: String,
    },
    /// The service refused the access token even after a fresh one was fetched, or a
    /// fixed token was refused.
    #[error(
        "access token refused (error {code}: {message}); check the credentials or supply a new token"
    )]
    TokenRejected {
        /// 110 or 111 (or 100 for a malformed token).
        code: ErrorCode,
        /// The service's message.
        message: String,
        /// The service's `log_id`.
        log_id: Option<LogId>,
    },
    /// The token endpoint's reply could not be understood.
    #[error("the token endpoint sent a malformed reply")]
    MalformedTokenReply(#[source] DecodeError),
}

/// What was wrong with a reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeErrorKind {
    /// The body is not JSON (an HTML error page, a truncated body).
    NotJson,
    /// JSON, but neither a result nor an error of the API's shape.
    UnexpectedShape,
    /// The result image is not valid base64.
    BadBase64,
    /// A non-success HTTP status without an API error body.
    HttpStatus,
}

/// A reply the API would not send. Holds the HTTP status and a short, safe excerpt of the
/// body (never the whole body, never a token).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    kind: DecodeErrorKind,
    status: u16,
    excerpt: String,
    body_len: usize,
}

impl DecodeError {
    /// Builds an error; `body` is cut to a short excerpt. Pass `None` where the body may
    /// hold a secret (the token endpoint).
    pub fn new(kind: DecodeErrorKind, status: u16, body: Option<&[u8]>, body_len: usize) -> Self {
        Self {
            kind,
            status,
            excerpt: body.map(excerpt).unwrap_or_default(),
            body_len,
        }
    }

    /// What was wrong.
    pub fn kind(&self) -> DecodeErrorKind {
        self.kind
    }

    /// The HTTP status of the reply.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The start of the body, at most 160 characters, control characters replaced.
    pub fn excerpt(&self) -> &str {
        &self.excerpt
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            DecodeErrorKind::NotJson => "body is not JSON",
            DecodeErrorKind::UnexpectedShape => "JSON without `image` or `error_code`",
            DecodeErrorKind::BadBase64 => "`image` is not valid base64",
            DecodeErrorKind::HttpStatus => "unexpected HTTP status",
        };
        write!(f, "HTTP {}: {what} ({} bytes)", self.status, self.body_len)?;
        if !self.excerpt.is_empty() {
            write!(f, ", starts {:?}", self.excerpt)?;
        }
        Ok(())
    }
}

impl std::error::Error for DecodeError {}

const EXCERPT_CHARS: usize = 160;

fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(EXCERPT_CHARS * 4)]);
    text.chars()
        .take(EXCERPT_CHARS)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpt_is_short_and_clean() {
        let body = format!("<html>\n<body>{}</body></html>", "x".repeat(10_000));
        let e = DecodeError::new(
            DecodeErrorKind::NotJson,
            502,
            Some(body.as_bytes()),
            body.len(),
        );
        assert!(e.excerpt().chars().count() <= EXCERPT_CHARS);
        assert!(!e.excerpt().contains('\n'));
        assert!(e.is_retryable());
        assert!(e.to_string().starts_with("HTTP 502: body is not JSON"));
    }

    #[test]
    fn errors_are_send_sync_static() {
        fn check<T: Send + Sync + 'static>() {}
        check::<Error>();
    }
}
