//! Decoding the service's replies: `{log_id, image}` or `{error_code, error_msg, log_id}`.

use std::borrow::Cow;
use std::fmt;

use base64::Engine as _;
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use crate::code::ErrorCode;
use crate::error::{DecodeError, DecodeErrorKind, Error};

/// The service's `log_id`: a u64, sent as a JSON number or a string, kept exact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LogId(pub u64);

impl fmt::Display for LogId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl Serialize for LogId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(self.0)
    }
}

impl<'de> Deserialize<'de> for LogId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(U64Visitor).map(LogId)
    }
}

/// Accepts a non-negative integer as a JSON number or a string of digits, without ever
/// going through f64 (log ids exceed 2^53).
struct U64Visitor;

impl Visitor<'_> for U64Visitor {
    type Value = u64;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an unsigned integer as a number or a string")
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<u64, E> {
        Ok(v)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<u64, E> {
        u64::try_from(v).map_err(|_| E::custom("negative integer"))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<u64, E> {
        v.trim()
            .parse()
            .map_err(|_| E::custom("not an unsigned integer"))
    }
}

/// Deserializes an `Option<u64>` leniently (number or string).
fn lenient_u64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    struct Opt;
    impl<'de> Visitor<'de> for Opt {
        type Value = Option<u64>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an unsigned integer, a string of digits, or null")
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_any(U64Visitor).map(Some)
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
            Ok(Some(v))
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
            // A negative id is nonsense, but no reason to throw away the reply with it.
            Ok(u64::try_from(v).ok())
        }
        fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
            // A float log id already lost precision upstream; don't invent one.
            Ok(None)
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            Ok(v.trim().parse().ok())
        }
    }
    // `deserialize_any`, not `deserialize_option`: the leniency must reach the number
    // itself (serde_json hands a non-null value to `visit_some` otherwise).
    d.deserialize_any(Opt)
}

/// Deserializes an optional string, borrowing it from the body when it has no escapes.
/// (Serde's own `Option<Cow<str>>` always copies: the image would be copied whole.)
fn borrowed_str<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Cow<'de, str>>, D::Error> {
    struct Text;
    impl<'de> Visitor<'de> for Text {
        type Value = Option<Cow<'de, str>>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a string or null")
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_str(self)
        }
        fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
            Ok(Some(Cow::Borrowed(v)))
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            Ok(Some(Cow::Owned(v.to_owned())))
        }
        fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
            Ok(Some(Cow::Owned(v)))
        }
    }
    d.deserialize_option(Text)
}

#[derive(Deserialize)]
struct RawReply<'a> {
    #[serde(default, deserialize_with = "lenient_u64")]
    log_id: Option<u64>,
    #[serde(default, borrow, deserialize_with = "borrowed_str")]
    image: Option<Cow<'a, str>>,
    #[serde(default, deserialize_with = "lenient_u64")]
    error_code: Option<u64>,
    #[serde(default, borrow, deserialize_with = "borrowed_str")]
    error_msg: Option<Cow<'a, str>>,
}

/// A successful operation's result.
#[derive(Clone, PartialEq, Eq)]
pub struct ImageReply {
    /// The service's `log_id`.
    pub log_id: LogId,
    /// The result image's bytes (decoded from base64).
    pub image: Vec<u8>,
}

impl fmt::Debug for ImageReply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ImageReply")
            .field("log_id", &self.log_id)
            .field("image", &format_args!("<{} bytes>", self.image.len()))
            .finish()
    }
}

/// Decodes an operation's reply. The body is judged before the status: Baidu reports
/// most errors with HTTP 200, and an `error_code` always wins.
pub fn decode_image_reply(status: u16, body: &[u8]) -> Result<ImageReply, Error> {
    let decode_error = |kind| Error::Decode(DecodeError::new(kind, status, Some(body), body.len()));
    let raw: RawReply<'_> = match serde_json::from_slice(strip_bom(body)) {
        Ok(raw) => raw,
        Err(_) if !(200..300).contains(&status) => {
            return Err(decode_error(DecodeErrorKind::HttpStatus));
        }
        Err(_) => return Err(decode_error(DecodeErrorKind::NotJson)),
    };
    if let Some(code) = raw.error_code.filter(|&c| c != 0) {
        let code = ErrorCode(u32::try_from(code).unwrap_or(u32::MAX));
        let message = raw
            .error_msg
            .map(Cow::into_owned)
            .or_else(|| code.message().map(str::to_owned))
            .unwrap_or_default();
        return Err(Error::Api {
            code,
            message,
            log_id: raw.log_id.map(LogId),
        });
    }
    match raw.image {
        Some(text) if (200..300).contains(&status) => {
            let image = decode_base64(text.as_bytes())
                .ok_or_else(|| decode_error(DecodeErrorKind::BadBase64))?;
            Ok(ImageReply {
                log_id: LogId(raw.log_id.unwrap_or(0)),
                image,
            })
        }
        _ if !(200..300).contains(&status) => Err(decode_error(DecodeErrorKind::HttpStatus)),
        _ => Err(decode_error(DecodeErrorKind::UnexpectedShape)),
    }
}

/// The body without a leading UTF-8 byte-order mark (some proxies and Windows-based
/// gateways add one; JSON parsers refuse it).
pub(crate) fn strip_bom(body: &[u8]) -> &[u8] {
    body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body)
}

/// Decodes standard base64 (padding optional, ASCII whitespace ignored) straight into a
/// buffer sized up front.
pub fn decode_base64(text: &[u8]) -> Option<Vec<u8>> {
    let engine = &base64::engine::general_purpose::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
    );
    let mut out = vec![0; base64::decoded_len_estimate(text.len())];
    // Whitespace is rare: try the text as it is, and strip it only if that fails.
    let n = match engine.decode_slice_unchecked(text, &mut out) {
        Ok(n) => n,
        Err(_) if text.iter().any(u8::is_ascii_whitespace) => {
            let cleaned: Vec<u8> = text
                .iter()
                .copied()
                .filter(|b| !b.is_ascii_whitespace())
                .collect();
            engine.decode_slice_unchecked(&cleaned, &mut out).ok()?
        }
        Err(_) => return None,
    };
    out.truncate(n);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn success_with_numeric_log_id() {
        let r = decode_image_reply(200, br#"{"log_id":739539874,"image":"aGVsbG8="}"#).unwrap();
        assert_eq!(r.log_id, LogId(739_539_874));
        assert_eq!(r.image, b"hello");
    }

    #[test]
    fn log_id_as_string_and_above_2_pow_53() {
        let r = decode_image_reply(
            200,
            br#"{"log_id": "6876747463538438254", "image": "aGk="}"#,
        )
        .unwrap();
        assert_eq!(r.log_id, LogId(6_876_747_463_538_438_254));
        let r = decode_image_reply(200, br#"{"log_id":18446744073709551615,"image":""}"#).unwrap();
        assert_eq!(r.log_id, LogId(u64::MAX));
        let r = decode_image_reply(200, br#"{"log_id":9007199254740993,"image":"aGk"}"#).unwrap();
        assert_eq!(r.log_id, LogId(9_007_199_254_740_993));
        assert_eq!(r.image, b"hi");
    }

    #[test]
    fn escaped_slashes_in_base64() {
        let r = decode_image_reply(200, br#"{"log_id":1,"image":"\/\/8="}"#).unwrap();
        assert_eq!(r.image, [0xFF, 0xFF]);
    }

    #[test]
    fn error_body_with_http_200() {
        let e = decode_image_reply(
            200,
            br#"{"error_code":110,"error_msg":"Access token invalid or no longer valid","log_id":"42"}"#,
        )
        .unwrap_err();
        match e {
            Error::Api {
                code,
                message,
                log_id,
            } => {
                assert_eq!(code, ErrorCode::ACCESS_TOKEN_INVALID);
                assert_eq!(message, "Access token invalid or no longer valid");
                assert_eq!(log_id, Some(LogId(42)));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn html_pages_and_truncated_bodies() {
        let e = decode_image_reply(502, b"<html><body>Bad Gateway</body></html>").unwrap_err();
        assert!(
            matches!(&e, Error::Decode(d) if d.kind() == DecodeErrorKind::HttpStatus && d.status() == 502)
        );
        assert!(e.is_retryable());
        let e = decode_image_reply(200, br#"{"log_id":1,"image":"aGVsb"#).unwrap_err();
        assert!(matches!(&e, Error::Decode(d) if d.kind() == DecodeErrorKind::NotJson));
        assert!(e.is_retryable());
        let e = decode_image_reply(200, br#"{"log_id":1,"image":"!!!"}"#).unwrap_err();
        assert!(matches!(&e, Error::Decode(d) if d.kind() == DecodeErrorKind::BadBase64));
        let e = decode_image_reply(200, br#"{"hello":1}"#).unwrap_err();
        assert!(matches!(&e, Error::Decode(d) if d.kind() == DecodeErrorKind::UnexpectedShape));
        assert!(!e.is_retryable());
    }

    #[test]
    fn base64_whitespace_tolerated() {
        assert_eq!(decode_base64(b"aGVs\r\nbG8=").unwrap(), b"hello");
        assert_eq!(decode_base64(b"aGVsbG8").unwrap(), b"hello");
        assert!(decode_base64(b"aGVsbG8*").is_none());
    }
}
