//! Baidu's error codes and the one table that classifies them (what to do about each
//! class is [`crate::classify`]'s answer).

use std::fmt;

/// An `error_code` from the service. Unknown codes stay representable; the constants
/// name every code of the spec's table.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ErrorCode(pub u32);

/// What a caller should do about an error code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorClass {
    /// A passing server-side failure: retry with backoff.
    Transient,
    /// A rate limit (QPS or cluster): slow down, back off, then retry.
    Throttled,
    /// The access token was refused: fetch a new one and retry once.
    TokenRejected,
    /// The account lacks permission for the operation: never retried.
    Permission,
    /// A daily or total quota is used up: never retried.
    QuotaExhausted,
    /// The request itself is wrong (bad parameter or image): never retried.
    CallerError,
    /// The account or application is not set up correctly: never retried.
    Account,
    /// A code the table does not know: not retried.
    Unknown,
}

impl ErrorCode {
    /// 1: unknown error (retry).
    pub const UNKNOWN_ERROR: Self = Self(1);
    /// 2: service temporarily unavailable (retry).
    pub const SERVICE_UNAVAILABLE: Self = Self(2);
    /// 3: unsupported openapi method.
    pub const UNSUPPORTED_METHOD: Self = Self(3);
    /// 4: cluster request limit reached.
    pub const CLUSTER_LIMIT: Self = Self(4);
    /// 6: no permission to access data (e.g. colourize not enabled for the account).
    pub const NO_PERMISSION: Self = Self(6);
    /// 13: get service token failed.
    pub const GET_SERVICE_TOKEN_FAILED: Self = Self(13);
    /// 14: IAM certification failed.
    pub const IAM_CERTIFICATION_FAILED: Self = Self(14);
    /// 15: app does not exist or creation failed.
    pub const APP_NOT_EXISTS: Self = Self(15);
    /// 17: daily request limit reached.
    pub const DAILY_LIMIT: Self = Self(17);
    /// 18: QPS limit reached.
    pub const QPS_LIMIT: Self = Self(18);
    /// 19: total request limit reached.
    pub const TOTAL_LIMIT: Self = Self(19);
    /// 100: invalid parameter (usually a missing or malformed `access_token`).
    pub const INVALID_PARAMETER: Self = Self(100);
    /// 110: access token invalid or no longer valid.
    pub const ACCESS_TOKEN_INVALID: Self = Self(110);
    /// 111: access token expired.
    pub const ACCESS_TOKEN_EXPIRED: Self = Self(111);
    /// 216100: invalid parameter (a value the operation does not accept).
    pub const INVALID_PARAM: Self = Self(216_100);
    /// 216101: a required parameter is missing.
    pub const NOT_ENOUGH_PARAM: Self = Self(216_101);
    /// 216200: empty image.
    pub const EMPTY_IMAGE: Self = Self(216_200);
    /// 216201: image format error.
    pub const IMAGE_FORMAT_ERROR: Self = Self(216_201);
    /// 216202: image size error.
    pub const IMAGE_SIZE_ERROR: Self = Self(216_202);
    /// 216630: recognize error (retry).
    pub const RECOGNIZE_ERROR: Self = Self(216_630);
    /// 282000: internal error (retry).
    pub const INTERNAL_ERROR: Self = Self(282_000);
    /// 282111: the `url` is not a valid URL.
    pub const URL_FORMAT_ILLEGAL: Self = Self(282_111);
    /// 282112: downloading the `url` timed out.
    pub const URL_DOWNLOAD_TIMEOUT: Self = Self(282_112);
    /// 282113: the `url`'s server answered something that is not an image.
    pub const URL_RESPONSE_INVALID: Self = Self(282_113);
    /// 282114: the image at the `url` is too large or too small.
    pub const URL_SIZE_ERROR: Self = Self(282_114);

    /// Baidu's general codes for the parameters and `url` inputs of the operations beyond
    /// the spec's four (not in the spec's table).
    pub const GENERAL: [Self; 6] = [
        Self::INVALID_PARAM,
        Self::NOT_ENOUGH_PARAM,
        Self::URL_FORMAT_ILLEGAL,
        Self::URL_DOWNLOAD_TIMEOUT,
        Self::URL_RESPONSE_INVALID,
        Self::URL_SIZE_ERROR,
    ];

    /// Every code of the spec's table, in its order.
    pub const KNOWN: [Self; 19] = [
        Self::UNKNOWN_ERROR,
        Self::SERVICE_UNAVAILABLE,
        Self::UNSUPPORTED_METHOD,
        Self::CLUSTER_LIMIT,
        Self::NO_PERMISSION,
        Self::GET_SERVICE_TOKEN_FAILED,
        Self::IAM_CERTIFICATION_FAILED,
        Self::APP_NOT_EXISTS,
        Self::DAILY_LIMIT,
        Self::QPS_LIMIT,
        Self::TOTAL_LIMIT,
        Self::INVALID_PARAMETER,
        Self::ACCESS_TOKEN_INVALID,
        Self::ACCESS_TOKEN_EXPIRED,
        Self::EMPTY_IMAGE,
        Self::IMAGE_FORMAT_ERROR,
        Self::IMAGE_SIZE_ERROR,
        Self::RECOGNIZE_ERROR,
        Self::INTERNAL_ERROR,
    ];

    /// The numeric code.
    pub const fn get(self) -> u32 {
        self.0
    }

    /// The workspace's only mapping from code to class.
    pub const fn class(self) -> ErrorClass {
        match self.0 {
            1 | 2 | 216_630 | 282_000 => ErrorClass::Transient,
            4 | 18 => ErrorClass::Throttled,
            110 | 111 => ErrorClass::TokenRejected,
            6 => ErrorClass::Permission,
            17 | 19 => ErrorClass::QuotaExhausted,
            3 | 100 | 216_100 | 216_101 | 216_200..=216_202 | 282_111..=282_114 => {
                ErrorClass::CallerError
            }
            13..=15 => ErrorClass::Account,
            _ => ErrorClass::Unknown,
        }
    }

    /// The spec's `error_msg` for this code, if it is in the table.
    pub const fn message(self) -> Option<&'static str> {
        Some(match self.0 {
            1 => "Unknown error",
            2 => "Service temporarily unavailable",
            3 => "Unsupported openapi method",
            4 => "Open api request limit reached",
            6 => "No permission to access data",
            13 => "Get service token failed",
            14 => "IAM Certification failed",
            15 => "app not exsits or create failed",
            17 => "Open api daily request limit reached",
            18 => "Open api qps request limit reached",
            19 => "Open api total request limit reached",
            100 => "Invalid parameter",
            110 => "Access token invalid or no longer valid",
            111 => "Access token expired",
            216_100 => "invalid param",
            216_101 => "not enough param",
            216_200 => "empty image",
            216_201 => "image format error",
            216_202 => "image size error",
            216_630 => "recognize error",
            282_000 => "internal error",
            282_111 => "url format illegal",
            282_112 => "url download timeout",
            282_113 => "url response invalid",
            282_114 => "url size error",
            _ => return None,
        })
    }

    /// Advice for a person who hit this code: what it means and what to do next.
    pub const fn advice(self) -> &'static str {
        match self.class() {
            ErrorClass::Transient => "a passing failure on Baidu's side; retrying usually helps",
            ErrorClass::Throttled => {
                "too many requests per second for this account; lower the client's request rate or enable billing in the Baidu console"
            }
            ErrorClass::TokenRejected => {
                "the access token was refused; fetch a new one (the clients do this once automatically)"
            }
            ErrorClass::Permission => {
                "this account has no permission for the operation; request access to it in the Baidu AI console (image process, cooperation consultation: the colouring of black-and-white photos needs it) and retry"
            }
            ErrorClass::QuotaExhausted if self.0 == 17 => {
                "the daily quota is used up; wait until tomorrow or enable billing in the Baidu console"
            }
            ErrorClass::QuotaExhausted => {
                "the total request quota is used up; enable billing in the Baidu console"
            }
            ErrorClass::CallerError => {
                "the request was refused as invalid; check the image and parameters"
            }
            ErrorClass::Account => {
                "the application or account is not set up for this API; check the app's API Key and enabled services in the Baidu console"
            }
            ErrorClass::Unknown => {
                "an error code this SDK does not know; see Baidu's error code table"
            }
        }
    }
}

impl fmt::Debug for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ErrorCode({})", self.0)
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl From<u32> for ErrorCode {
    fn from(code: u32) -> Self {
        Self(code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_has_its_class() {
        use ErrorClass::*;
        let expected = [
            (1, Transient),
            (2, Transient),
            (3, CallerError),
            (4, Throttled),
            (6, Permission),
            (13, Account),
            (14, Account),
            (15, Account),
            (17, QuotaExhausted),
            (18, Throttled),
            (19, QuotaExhausted),
            (100, CallerError),
            (110, TokenRejected),
            (111, TokenRejected),
            (216_200, CallerError),
            (216_201, CallerError),
            (216_202, CallerError),
            (216_100, CallerError),
            (216_101, CallerError),
            (282_111, CallerError),
            (282_112, CallerError),
            (282_113, CallerError),
            (282_114, CallerError),
            (216_630, Transient),
            (282_000, Transient),
            (999_999, Unknown),
        ];
        for (code, class) in expected {
            assert_eq!(ErrorCode(code).class(), class, "code {code}");
        }
        for code in ErrorCode::KNOWN.into_iter().chain(ErrorCode::GENERAL) {
            assert!(code.message().is_some());
        }
        assert_eq!(ErrorCode(5).message(), None);
    }

    #[test]
    fn only_transient_and_throttled_retry() {
        let retryable: Vec<u32> = ErrorCode::KNOWN
            .iter()
            .filter(|c| c.is_retryable())
            .map(|c| c.0)
            .collect();
        assert_eq!(retryable, [1, 2, 4, 18, 216_630, 282_000]);
    }
}
