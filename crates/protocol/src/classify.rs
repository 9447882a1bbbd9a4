//! The retry classifier: the one function that knows which outcomes of an attempt are
//! retried, throttled, answered by a fresh token, or final.
//!
//! Every `is_retryable` of the crate is defined here, next to the function it asks; the
//! call state machine acts on its answer and nothing else.

use crate::code::{ErrorClass, ErrorCode};
use crate::error::{DecodeError, DecodeErrorKind, Error};
use crate::transport::{TransportError, TransportErrorKind};

/// What one attempt ended with, short of success.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// The service answered an `error_code`, with this HTTP status (200 for most: Baidu
    /// reports errors in the body).
    Api {
        /// The code.
        code: ErrorCode,
        /// The HTTP status.
        status: u16,
    },
    /// The HTTP exchange failed.
    Transport(TransportErrorKind),
    /// A reply the API would not send, with its HTTP status (a 429 or 5xx page, a body
    /// cut short, bad base64).
    Malformed {
        /// What was wrong.
        kind: DecodeErrorKind,
        /// The HTTP status.
        status: u16,
    },
}

/// What to do about an [`Outcome`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Action {
    /// A passing failure: back off, then send again.
    Retry,
    /// A rate limit: slow the client down, back off longer, then send again.
    Throttle,
    /// The access token was refused: fetch a new one and send again, once.
    RefreshToken,
    /// Final: sending the same request again cannot help.
    Fail,
}

impl Action {
    /// Whether the same request may succeed if sent again later.
    pub const fn is_retry(self) -> bool {
        matches!(self, Self::Retry | Self::Throttle)
    }
}

/// Classifies an attempt's outcome.
///
/// - API codes: the spec's transient codes (1, 2, 216630, 282000) retry; rate limits (4,
///   18) throttle, as does a transient code sent with HTTP 429; 110 and 111 refresh the
///   token; everything else is final.
/// - Transport: connection, timeout and I/O failures retry (the API's operations are
///   idempotent); TLS and certificate failures, oversized replies and anything else are
///   final (a bad certificate stays bad).
/// - Malformed replies: HTTP 429 throttles; 5xx pages retry, as do bodies cut short or
///   garbled under a 2xx; a well-formed JSON of the wrong shape and any other status
///   are final.
pub const fn classify(outcome: Outcome) -> Action {
    match outcome {
        Outcome::Api { code, status } => match code.class() {
            ErrorClass::Transient if status == 429 => Action::Throttle,
            ErrorClass::Transient => Action::Retry,
            ErrorClass::Throttled => Action::Throttle,
            ErrorClass::TokenRejected => Action::RefreshToken,
            ErrorClass::Permission
            | ErrorClass::QuotaExhausted
            | ErrorClass::CallerError
            | ErrorClass::Account
            | ErrorClass::Unknown => Action::Fail,
        },
        Outcome::Transport(kind) => match kind {
            TransportErrorKind::Connect | TransportErrorKind::Timeout | TransportErrorKind::Io => {
                Action::Retry
            }
            TransportErrorKind::Tls
            | TransportErrorKind::BodyTooLarge
            | TransportErrorKind::Other => Action::Fail,
        },
        Outcome::Malformed { kind, status } => match kind {
            DecodeErrorKind::HttpStatus if status == 429 => Action::Throttle,
            DecodeErrorKind::HttpStatus if status >= 500 => Action::Retry,
            DecodeErrorKind::NotJson | DecodeErrorKind::BadBase64
                if status >= 500 || (status >= 200 && status < 300) =>
            {
                Action::Retry
            }
            DecodeErrorKind::HttpStatus
            | DecodeErrorKind::NotJson
            | DecodeErrorKind::BadBase64
            | DecodeErrorKind::UnexpectedShape => Action::Fail,
        },
    }
}

impl ErrorCode {
    /// Whether the same request may succeed if sent again later, when the code came
    /// with Baidu's usual HTTP 200 (see [`Error::is_retryable`] for a code that came with
    /// another status).
    pub const fn is_retryable(self) -> bool {
        classify(Outcome::Api {
            code: self,
            status: 200,
        })
        .is_retry()
    }
}

impl TransportError {
    /// Whether trying again may help: connection, timeout and I/O failures; never TLS or
    /// certificate failures.
    pub fn is_retryable(&self) -> bool {
        classify(Outcome::Transport(self.kind())).is_retry()
    }
}

impl DecodeError {
    /// Whether the same request may succeed later: server errors, rate limiting (429),
    /// and bodies cut short or replaced by a proxy's error page.
    pub fn is_retryable(&self) -> bool {
        classify(self.outcome()).is_retry()
    }

    /// The outcome to classify.
    pub fn outcome(&self) -> Outcome {
        Outcome::Malformed {
            kind: self.kind(),
            status: self.status(),
        }
    }
}

impl Error {
    /// Whether sending the same request again later may succeed: a call that ran out of
    /// time, or an attempt outcome [`classify`] retries.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Timeout { .. } => true,
            Self::InvalidInput(_) | Self::Auth(_) | Self::Misuse(_) => false,
            Self::Api { .. } | Self::Transport(_) | Self::Decode(_) => {
                self.outcome().is_some_and(|o| classify(o).is_retry())
            }
        }
    }

    /// The attempt outcome this error reports, for [`classify`] (none for errors that
    /// are not about one attempt). An API error reports the HTTP status it came with.
    pub fn outcome(&self) -> Option<Outcome> {
        match self {
            Self::Api { code, status, .. } => Some(Outcome::Api {
                code: *code,
                status: *status,
            }),
            Self::Transport(e) => Some(Outcome::Transport(e.kind())),
            Self::Decode(e) => Some(e.outcome()),
            Self::InvalidInput(_) | Self::Auth(_) | Self::Timeout { .. } | Self::Misuse(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One row for every error code of the spec and Baidu's general codes, every
    /// transport error kind, and the malformed replies at the statuses that matter.
    #[test]
    fn the_table() {
        use Action::*;
        let api = [
            (1, Retry),
            (2, Retry),
            (3, Fail),
            (4, Throttle),
            (6, Fail),
            (13, Fail),
            (14, Fail),
            (15, Fail),
            (17, Fail),
            (18, Throttle),
            (19, Fail),
            (100, Fail),
            (110, RefreshToken),
            (111, RefreshToken),
            (216_100, Fail),
            (216_101, Fail),
            (216_200, Fail),
            (216_201, Fail),
            (216_202, Fail),
            (216_630, Retry),
            (282_000, Retry),
            (282_111, Fail),
            (282_112, Fail),
            (282_113, Fail),
            (282_114, Fail),
            (999_999, Fail),
        ];
        for code in ErrorCode::KNOWN.into_iter().chain(ErrorCode::GENERAL) {
            assert!(
                api.iter().any(|(c, _)| *c == code.get()),
                "no row for {code}"
            );
        }
        for (code, action) in api {
            let outcome = Outcome::Api {
                code: ErrorCode(code),
                status: 200,
            };
            assert_eq!(classify(outcome), action, "code {code}");
        }
        // HTTP 429 turns a transient code into a rate limit, and nothing else.
        for (code, action) in [
            (1, Throttle),
            (282_000, Throttle),
            (18, Throttle),
            (110, RefreshToken),
            (6, Fail),
        ] {
            let outcome = Outcome::Api {
                code: ErrorCode(code),
                status: 429,
            };
            assert_eq!(classify(outcome), action, "code {code} with 429");
        }
        let transport = [
            (TransportErrorKind::Connect, Retry),
            (TransportErrorKind::Timeout, Retry),
            (TransportErrorKind::Io, Retry),
            (TransportErrorKind::Tls, Fail),
            (TransportErrorKind::BodyTooLarge, Fail),
            (TransportErrorKind::Other, Fail),
        ];
        for (kind, action) in transport {
            assert_eq!(classify(Outcome::Transport(kind)), action, "{kind:?}");
        }
        use DecodeErrorKind::*;
        let malformed = [
            (HttpStatus, 429, Throttle),
            (NotJson, 429, Fail),
            (HttpStatus, 500, Retry),
            (HttpStatus, 502, Retry),
            (HttpStatus, 404, Fail),
            (HttpStatus, 302, Fail),
            (NotJson, 200, Retry),
            (NotJson, 503, Retry),
            (NotJson, 403, Fail),
            (BadBase64, 200, Retry),
            (BadBase64, 400, Fail),
            (UnexpectedShape, 200, Fail),
            (UnexpectedShape, 500, Fail),
        ];
        for (kind, status, action) in malformed {
            assert_eq!(
                classify(Outcome::Malformed { kind, status }),
                action,
                "{kind:?} {status}"
            );
        }
    }
}
