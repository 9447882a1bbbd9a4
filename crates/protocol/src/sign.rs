//! bce-auth-v1 request signing (Baidu Cloud's HMAC-SHA256 scheme), as the official SDKs
//! apply it for accounts whose token lacks `brain_all_scope`.
//!
//! ```text
//! signing_key   = hex(HMAC-SHA256(secret_key, "bce-auth-v1/{ak}/{timestamp}/{expire}"))
//! canonical     = METHOD \n quote(path) \n sorted(urlencoded query pairs) joined by & \n
//!                 sorted("quote(lower(name)):quote(value)") joined by \n
//! signature     = hex(HMAC-SHA256(signing_key, canonical))
//! authorization = bce-auth-v1/{ak}/{timestamp}/{expire}/{signed header names ;-joined}/{signature}
//! ```

use std::fmt::Write as _;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hmac::{Hmac, Mac};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use sha2::Sha256;

use crate::secret::SecretKey;

/// How long a signature stays valid, in seconds (the official SDKs use 1800).
pub const DEFAULT_EXPIRE_SECS: u32 = 1800;

/// Python's `quote(s, safe='')`: everything but ASCII alphanumerics and `_.-~` escaped.
const STRICT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'_')
    .remove(b'.')
    .remove(b'-')
    .remove(b'~');
/// Python's `quote(path)`: like [`STRICT`] but `/` kept.
const PATH: &AsciiSet = &STRICT.remove(b'/');

/// Baidu Cloud credentials for bce-auth-v1: Access Key ID and Secret Access Key.
#[derive(Clone, Debug)]
pub struct BceCredentials {
    /// The Access Key ID (not secret; it appears in the `authorization` header).
    pub access_key: String,
    /// The Secret Access Key.
    pub secret_key: SecretKey,
}

/// Everything a signature covers.
#[derive(Debug, Clone)]
pub struct SigningInput<'a> {
    /// HTTP method, any case.
    pub method: &'a str,
    /// Request path (not encoded).
    pub path: &'a str,
    /// Decoded query parameters.
    pub query: &'a [(String, String)],
    /// Headers to sign, `(name, value)`, in the order they are listed in the header.
    pub headers: &'a [(String, String)],
    /// `YYYY-MM-DDTHH:MM:SSZ` (UTC).
    pub timestamp: &'a str,
    /// Validity in seconds.
    pub expire_secs: u32,
}

fn hmac_hex(key: &[u8], data: &[u8]) -> String {
    // HMAC accepts keys of any length, so `new_from_slice` cannot fail here.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else {
        return String::new();
    };
    mac.update(data);
    hex::encode(mac.finalize().into_bytes())
}

/// The canonical request string that is signed.
pub fn canonical_request(input: &SigningInput<'_>) -> String {
    let mut query: Vec<String> = input
        .query
        .iter()
        .map(|(k, v)| format!("{}={}", quote_plus(k), quote_plus(v)))
        .collect();
    query.sort();
    let mut headers: Vec<String> = input
        .headers
        .iter()
        .map(|(k, v)| {
            format!(
                "{}:{}",
                utf8_percent_encode(k.trim(), STRICT)
                    .to_string()
                    .to_lowercase(),
                utf8_percent_encode(v.trim(), STRICT)
            )
        })
        .collect();
    headers.sort();
    format!(
        "{}\n{}\n{}\n{}",
        input.method.to_uppercase(),
        utf8_percent_encode(input.path, PATH),
        query.join("&"),
        headers.join("\n")
    )
}

/// Python's `urlencode` of one key or value: `quote_plus` (space as `+`).
fn quote_plus(s: &str) -> String {
    s.split(' ')
        .map(|part| utf8_percent_encode(part, STRICT).to_string())
        .collect::<Vec<_>>()
        .join("+")
}

/// The hex signature of `input`.
pub fn signature(credentials: &BceCredentials, input: &SigningInput<'_>) -> String {
    let auth_prefix = format!(
        "bce-auth-v1/{}/{}/{}",
        credentials.access_key, input.timestamp, input.expire_secs
    );
    let signing_key = hmac_hex(
        credentials.secret_key.expose_secret().as_bytes(),
        auth_prefix.as_bytes(),
    );
    hmac_hex(signing_key.as_bytes(), canonical_request(input).as_bytes())
}

/// The `authorization` header value for `input`.
pub fn authorization(credentials: &BceCredentials, input: &SigningInput<'_>) -> String {
    let names: Vec<String> = input
        .headers
        .iter()
        .map(|(k, _)| k.to_lowercase())
        .collect();
    format!(
        "bce-auth-v1/{}/{}/{}/{}/{}",
        credentials.access_key,
        input.timestamp,
        input.expire_secs,
        names.join(";"),
        signature(credentials, input)
    )
}

/// A parsed `authorization: bce-auth-v1/...` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedAuthorization {
    /// The Access Key ID.
    pub access_key: String,
    /// The signing timestamp.
    pub timestamp: String,
    /// Validity in seconds.
    pub expire_secs: u32,
    /// The signed header names, lower case.
    pub signed_headers: Vec<String>,
    /// The hex signature.
    pub signature: String,
}

/// Parses an `authorization` header of the bce-auth-v1 form.
pub fn parse_authorization(value: &str) -> Option<ParsedAuthorization> {
    let mut parts = value.trim().split('/');
    if parts.next()? != "bce-auth-v1" {
        return None;
    }
    let access_key = parts.next()?.to_owned();
    let timestamp = parts.next()?.to_owned();
    let expire_secs = parts.next()?.parse().ok()?;
    let signed_headers = parts
        .next()?
        .split(';')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    let signature = parts.next()?.to_owned();
    if parts.next().is_some() {
        return None;
    }
    Some(ParsedAuthorization {
        access_key,
        timestamp,
        expire_secs,
        signed_headers,
        signature,
    })
}

/// Formats `time` as bce-auth-v1's `YYYY-MM-DDTHH:MM:SSZ`.
pub fn format_timestamp(time: SystemTime) -> String {
    let secs = time
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days as i64);
    let mut out = String::with_capacity(20);
    let _ = write!(
        out,
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    );
    out
}

/// Parses `YYYY-MM-DDTHH:MM:SSZ` back to a time (for verifying signature expiry).
pub fn parse_timestamp(text: &str) -> Option<SystemTime> {
    let b = text.as_bytes();
    if b.len() != 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[19] != b'Z' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| text.get(r)?.parse::<i64>().ok();
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, s) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || s > 60 {
        return None;
    }
    let days = days_from_civil(y, mo, d);
    let secs = u64::try_from(days * 86_400 + h * 3600 + mi * 60 + s).ok()?;
    Some(UNIX_EPOCH + Duration::from_secs(secs))
}

// Howard Hinnant's civil-calendar algorithms.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_round_trip() {
        let t = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(format_timestamp(t), "2023-11-14T22:13:20Z");
        assert_eq!(parse_timestamp("2023-11-14T22:13:20Z"), Some(t));
        assert_eq!(format_timestamp(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        assert_eq!(
            parse_timestamp("2024-02-29T00:00:00Z")
                .map(format_timestamp)
                .as_deref(),
            Some("2024-02-29T00:00:00Z")
        );
        assert_eq!(parse_timestamp("2023-13-01T00:00:00Z"), None);
    }

    #[test]
    fn authorization_parses_back() {
        let creds = BceCredentials {
            access_key: "ak".into(),
            secret_key: SecretKey::new("sk"),
        };
        let headers = vec![
            ("host".to_owned(), "aip.baidubce.com".to_owned()),
            ("x-bce-date".to_owned(), "2023-11-14T22:13:20Z".to_owned()),
        ];
        let input = SigningInput {
            method: "post",
            path: "/rest/2.0/image-process/v1/dehaze",
            query: &[],
            headers: &headers,
            timestamp: "2023-11-14T22:13:20Z",
            expire_secs: 1800,
        };
        assert_eq!(
            canonical_request(&input),
            "POST\n/rest/2.0/image-process/v1/dehaze\n\nhost:aip.baidubce.com\nx-bce-date:2023-11-14T22%3A13%3A20Z"
        );
        let header = authorization(&creds, &input);
        let parsed = parse_authorization(&header).unwrap();
        assert_eq!(parsed.access_key, "ak");
        assert_eq!(parsed.signed_headers, ["host", "x-bce-date"]);
        assert_eq!(parsed.signature, signature(&creds, &input));
        assert_eq!(parsed.signature.len(), 64);
    }
}
