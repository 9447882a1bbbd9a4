//! Decoding the service's replies: `{log_id, image}` or `{error_code, error_msg, log_id}`.

use std::borrow::Cow;
use std::fmt;

use base64::Engine as _;
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};

use crate::code::ErrorCode;
use crate::error::{DecodeError, DecodeErrorKind, Error};
use crate::log_id::{LogId, U64Visitor};
use crate::optable::ReplyKind;

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

/// A reply's top-level fields: the four every reply may carry, borrowed where possible,
/// and every other one as JSON (`sky_seg`'s maps, fields Baidu adds later).
#[derive(Default)]
struct RawReply<'a> {
    log_id: Option<u64>,
    image: Option<Cow<'a, str>>,
    error_code: Option<u64>,
    error_msg: Option<Cow<'a, str>>,
    fields: serde_json::Map<String, serde_json::Value>,
}

/// Seeds that run the lenient field readers inside a hand-written map visitor.
struct LenientU64;
impl<'de> de::DeserializeSeed<'de> for LenientU64 {
    type Value = Option<u64>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        lenient_u64(d)
    }
}

struct BorrowedStr;
impl<'de> de::DeserializeSeed<'de> for BorrowedStr {
    type Value = Option<Cow<'de, str>>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        borrowed_str(d)
    }
}

/// A key, borrowed when it has no escapes.
struct Key;
impl<'de> de::DeserializeSeed<'de> for Key {
    type Value = Cow<'de, str>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        borrowed_str(d).map(Option::unwrap_or_default)
    }
}

impl<'de> Deserialize<'de> for RawReply<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Fields;
        impl<'de> Visitor<'de> for Fields {
            type Value = RawReply<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut raw = RawReply::default();
                while let Some(key) = map.next_key_seed(Key)? {
                    match key.as_ref() {
                        "log_id" => raw.log_id = map.next_value_seed(LenientU64)?,
                        "image" => raw.image = map.next_value_seed(BorrowedStr)?,
                        "error_code" => raw.error_code = map.next_value_seed(LenientU64)?,
                        "error_msg" => raw.error_msg = map.next_value_seed(BorrowedStr)?,
                        _ => {
                            let value: serde_json::Value = map.next_value()?;
                            raw.fields.insert(key.into_owned(), value);
                        }
                    }
                }
                Ok(raw)
            }
        }
        d.deserialize_map(Fields)
    }
}

/// A successful operation's result.
#[derive(Clone, PartialEq, Eq)]
pub struct ImageReply {
    /// The service's `log_id`.
    pub log_id: LogId,
    /// The result image's bytes (decoded from base64); empty when the reply has no
    /// `image` (`sky_seg`).
    pub image: Vec<u8>,
    /// Every other top-level field of the reply, as JSON (`sky_seg`'s `labelmap` and
    /// `scoremap`, fields Baidu adds later).
    pub fields: serde_json::Map<String, serde_json::Value>,
}

impl ImageReply {
    /// A reply with `log_id` and `image` and no other field.
    pub fn new(log_id: LogId, image: Vec<u8>) -> Self {
        Self {
            log_id,
            image,
            fields: serde_json::Map::new(),
        }
    }

    /// The top-level field `name`, decoded from base64: `None` when absent or not a
    /// base64 string.
    pub fn base64_field(&self, name: &str) -> Option<Vec<u8>> {
        decode_base64(self.fields.get(name)?.as_str()?.as_bytes())
    }

    /// `sky_seg`'s sky mask (`labelmap`), decoded from base64.
    pub fn labelmap(&self) -> Option<Vec<u8>> {
        self.base64_field("labelmap")
    }

    /// `sky_seg`'s sky probability map (`scoremap`), decoded from base64.
    pub fn scoremap(&self) -> Option<Vec<u8>> {
        self.base64_field("scoremap")
    }
}

/// Sizes, never contents: the fields may be megabytes of base64.
impl fmt::Debug for ImageReply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = f.debug_struct("ImageReply");
        s.field("log_id", &self.log_id)
            .field("image", &format_args!("<{} bytes>", self.image.len()));
        for (name, value) in &self.fields {
            match value {
                serde_json::Value::String(text) => {
                    s.field(name, &format_args!("<{} chars>", text.len()))
                }
                other => s.field(name, other),
            };
        }
        s.finish()
    }
}

/// Decodes an operation's reply whose success carries `image`. The body is judged before
/// the status: Baidu reports most errors with HTTP 200, and an `error_code` always wins.
pub fn decode_image_reply(status: u16, body: &[u8]) -> Result<ImageReply, Error> {
    decode_reply(ReplyKind::Image, status, body)
}

/// Decodes an operation's reply of `kind` (see [`crate::optable::OperationSpec::reply`]).
pub fn decode_reply(kind: ReplyKind, status: u16, body: &[u8]) -> Result<ImageReply, Error> {
    decode_reply_around_image(kind, status, strip_bom(body))
        .map_or_else(|| decode_reply_whole(kind, status, body, None), Ok)
}

/// Most of the rest of a reply beside its image: `{"log_id":…,"image":""}` and a few
/// fields. Longer rests take the ordinary path.
const SMALL_REST: usize = 1024;

/// The usual success, `{log_id, image}`, without serde_json scanning the megabytes of
/// base64 for escapes: the image's text is found by skipping strings with `memchr`, the
/// rest is parsed from a copy on the stack with the image left empty. `None` (the
/// ordinary path judges the whole body then) for anything else: an image with escapes,
/// a second `"image"`, a long rest, an error of any kind.
fn decode_reply_around_image(kind: ReplyKind, status: u16, body: &[u8]) -> Option<ImageReply> {
    let (start, end) = image_span(body)?;
    let (before, after) = (body.get(..start)?, body.get(end..)?);
    if memchr::memmem::find(after, b"\"image\"").is_some() {
        return None;
    }
    let mut rest = [0u8; SMALL_REST];
    let rest = rest.get_mut(..before.len() + after.len())?;
    let (head, tail) = rest.split_at_mut(before.len());
    head.copy_from_slice(before);
    tail.copy_from_slice(after);
    decode_reply_whole(kind, status, rest, body.get(start..end)).ok()
}

/// Where the text of the top-level `"image"` string lies in `body` (after its opening
/// quote, up to its closing one), when it holds no escape. Only the top level's
/// structure is followed; strings are skipped with `memchr`.
fn image_span(body: &[u8]) -> Option<(usize, usize)> {
    /// What comes next in the top-level object.
    #[derive(PartialEq)]
    enum Next {
        Key,
        Colon,
        Value,
        Comma,
    }
    let (mut depth, mut next, mut key_is_image) = (0u32, Next::Key, false);
    let mut i = 0;
    while let Some(&c) = body.get(i) {
        match c {
            b'"' => {
                let (end, plain) = string_end(body, i + 1)?;
                if depth == 1 {
                    match next {
                        Next::Key => {
                            key_is_image = plain && body.get(i + 1..end) == Some(b"image");
                            next = Next::Colon;
                        }
                        Next::Value if key_is_image => return plain.then_some((i + 1, end)),
                        Next::Value => next = Next::Comma,
                        Next::Colon | Next::Comma => return None,
                    }
                }
                i = end + 1;
                continue;
            }
            b'{' | b'[' => {
                if depth == 1 {
                    if next != Next::Value || key_is_image {
                        return None;
                    }
                    next = Next::Comma;
                }
                depth += 1;
            }
            b'}' | b']' => depth = depth.checked_sub(1)?,
            b':' if depth == 1 => {
                if next != Next::Colon {
                    return None;
                }
                next = Next::Value;
            }
            b',' if depth == 1 => next = Next::Key,
            // A number or literal at the top level.
            _ if depth == 1 && next == Next::Value && !c.is_ascii_whitespace() => {
                if key_is_image {
                    return None;
                }
                next = Next::Comma;
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// The closing quote of the string whose text starts at `from`, and whether the text has
/// no escape.
fn string_end(body: &[u8], mut from: usize) -> Option<(usize, bool)> {
    let mut plain = true;
    loop {
        let at = from + memchr::memchr2(b'"', b'\\', body.get(from..)?)?;
        if body.get(at) == Some(&b'"') {
            return Some((at, plain));
        }
        plain = false;
        from = at + 2;
    }
}

/// Decodes a reply parsed whole by serde_json; `image_text`, when given, is the image's
/// base64 text, left empty in `body`.
fn decode_reply_whole(
    kind: ReplyKind,
    status: u16,
    body: &[u8],
    image_text: Option<&[u8]>,
) -> Result<ImageReply, Error> {
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
            status,
        });
    }
    let success = (200..300).contains(&status);
    // A reply of an operation without `image` succeeds with any other field.
    let shaped = raw.image.is_some()
        || match kind {
            ReplyKind::Image => false,
            ReplyKind::SkySegmentation => !raw.fields.is_empty(),
        };
    match raw.image {
        _ if !success => Err(decode_error(DecodeErrorKind::HttpStatus)),
        _ if !shaped => Err(decode_error(DecodeErrorKind::UnexpectedShape)),
        Some(text) => {
            let text = match image_text {
                Some(outside) if text.is_empty() => outside,
                _ => text.as_bytes(),
            };
            let image =
                decode_base64(text).ok_or_else(|| decode_error(DecodeErrorKind::BadBase64))?;
            Ok(ImageReply {
                log_id: LogId(raw.log_id.unwrap_or(0)),
                image,
                fields: raw.fields,
            })
        }
        None => Ok(ImageReply {
            log_id: LogId(raw.log_id.unwrap_or(0)),
            image: Vec::new(),
            fields: raw.fields,
        }),
    }
}

/// The body without a leading UTF-8 byte-order mark (some proxies and Windows-based
/// gateways add one; JSON parsers refuse it).
pub(crate) fn strip_bom(body: &[u8]) -> &[u8] {
    body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body)
}

/// Decodes standard base64 (padding optional, ASCII whitespace ignored) straight into a
/// buffer sized up front.
///
/// All but the last few characters go through four lookup tables, eight characters to
/// six bytes a step, with invalid characters OR-ed into a flag checked once at the end
/// (1.2x the `base64` crate's speed on 4 MB, best of 30); the tail, and any text with a character
/// outside the alphabet, go through the crate, so what is accepted does not change.
pub fn decode_base64(text: &[u8]) -> Option<Vec<u8>> {
    // Canonical padded base64, what Baidu and the emulator send: SIMD, about three times
    // the speed of the table decoder below, which handles everything else.
    if let Ok(bytes) = base64_simd::STANDARD.decode_to_vec(text) {
        return Some(bytes);
    }
    // At least one character is left for the tail: that is where padding may be.
    let head_len = text.len().saturating_sub(1) / 8 * 8;
    let (head, tail) = text.split_at(head_len);
    // Filled through a stack block, so the output is never zeroed first: a zeroed
    // multi-megabyte buffer costs a memset (or fresh pages) as large as the image.
    let mut out = Vec::with_capacity(base64::decoded_len_estimate(text.len()));
    let mut invalid = 0;
    let mut block = [0u8; BLOCK_QUANTA * 6];
    for chars in head.chunks(BLOCK_QUANTA * 8) {
        let mut filled = 0;
        for (chars, bytes) in chars.chunks_exact(8).zip(block.chunks_exact_mut(6)) {
            // Indexing chunks of known length: the compiler drops the bounds checks (a
            // destructuring `try_from` here made the loop a third slower).
            let first = quantum([chars[0], chars[1], chars[2], chars[3]]);
            let second = quantum([chars[4], chars[5], chars[6], chars[7]]);
            invalid |= first | second;
            let six = (u64::from(first) << 24 | u64::from(second & 0xFF_FFFF)).to_be_bytes();
            bytes.copy_from_slice(&six[2..]);
            filled += 6;
        }
        out.extend_from_slice(block.get(..filled).unwrap_or_default());
    }
    if invalid & INVALID_CHAR != 0 {
        return decode_base64_slowly(text);
    }
    // The tail is one to eight characters: at most six bytes.
    let mut last = [0u8; 8];
    match lenient_engine().decode_slice(tail, &mut last) {
        Ok(n) => {
            out.extend_from_slice(last.get(..n).unwrap_or_default());
            Some(out)
        }
        // Whitespace in the tail, or an error: the crate judges the whole text.
        Err(_) => decode_base64_slowly(text),
    }
}

/// Eight-character groups decoded per stack block by [`decode_base64`].
const BLOCK_QUANTA: usize = 64;

/// The `base64` crate's decoder as [`decode_base64`] configures it: padding optional.
fn lenient_engine() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
    )
}

/// [`decode_base64`] through the `base64` crate alone, retrying without whitespace.
fn decode_base64_slowly(text: &[u8]) -> Option<Vec<u8>> {
    let engine = lenient_engine();
    let mut out = vec![0; base64::decoded_len_estimate(text.len())];
    // Whitespace is rare: try the text as it is, and strip it only if that fails.
    let n = match engine.decode_slice(text, &mut out) {
        Ok(n) => n,
        Err(_) if text.iter().any(u8::is_ascii_whitespace) => {
            let cleaned: Vec<u8> = text
                .iter()
                .copied()
                .filter(|b| !b.is_ascii_whitespace())
                .collect();
            engine.decode_slice(&cleaned, &mut out).ok()?
        }
        Err(_) => return None,
    };
    out.truncate(n);
    Some(out)
}

/// Set in a table entry for a character outside the alphabet.
const INVALID_CHAR: u32 = 1 << 31;

/// Four base64 characters as 24 bits, [`INVALID_CHAR`] set if one is not base64.
fn quantum(chars: [u8; 4]) -> u32 {
    DECODE[0][usize::from(chars[0])]
        | DECODE[1][usize::from(chars[1])]
        | DECODE[2][usize::from(chars[2])]
        | DECODE[3][usize::from(chars[3])]
}

/// For each position in a quantum, every byte's 6-bit value shifted into place.
static DECODE: [[u32; 256]; 4] = {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut tables = [[INVALID_CHAR; 256]; 4];
    let mut position = 0;
    while position < 4 {
        let mut value = 0;
        while value < 64 {
            tables[position][ALPHABET[value] as usize] = (value as u32) << (18 - 6 * position);
            value += 1;
        }
        position += 1;
    }
    tables
};

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// The SIMD fast path and the table decoder accept exactly what the `base64`
        /// crate accepts (padding optional, whitespace ignored), and decode it to the same bytes: canonical
        /// text, text with its last character altered (non-zero trailing bits, a character
        /// outside the alphabet) and text with its padding dropped.
        #[test]
        fn decode_base64_agrees_with_the_base64_crate(
            bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..200),
            last in proptest::num::u8::ANY,
            drop_padding in proptest::bool::ANY,
        ) {
            use base64::Engine as _;
            let mut text = base64::engine::general_purpose::STANDARD.encode(&bytes).into_bytes();
            proptest::prop_assert_eq!(decode_base64(&text), Some(bytes));
            if drop_padding {
                while text.last() == Some(&b'=') {
                    text.pop();
                }
            }
            let at = text.iter().rposition(|&c| c != b'=');
            if let Some(at) = at {
                text[at] = last;
            }
            // ASCII whitespace is ignored wherever it stands (line-wrapped replies).
            let stripped: Vec<u8> =
                text.iter().copied().filter(|c| !c.is_ascii_whitespace()).collect();
            let expected = lenient_engine().decode(&stripped).ok();
            proptest::prop_assert_eq!(decode_base64(&text), expected);
        }
    }

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
                status,
            } => {
                assert_eq!(status, 200);
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
    fn other_fields_stay_reachable() {
        let body = br#"{"log_id":7,"labelmap":"aGk=","scoremap":"b2s=","extra":{"n":1}}"#;
        assert!(decode_image_reply(200, body).is_err());
        let r = decode_reply(ReplyKind::SkySegmentation, 200, body).unwrap();
        assert_eq!((r.log_id, r.image.len()), (LogId(7), 0));
        assert_eq!(r.labelmap().unwrap(), b"hi");
        assert_eq!(r.scoremap().unwrap(), b"ok");
        assert_eq!(r.fields["extra"]["n"], 1);
        let r = decode_image_reply(200, br#"{"log_id":1,"image":"aGk=","new":"x"}"#).unwrap();
        assert_eq!(r.fields["new"], "x");
        assert!(decode_reply(ReplyKind::SkySegmentation, 200, br#"{"log_id":7}"#).is_err());
    }

    #[test]
    fn the_table_decoder_accepts_and_refuses_what_the_crate_does() {
        let mut rng = fastrand::Rng::with_seed(3);
        let b64 = &base64::engine::general_purpose::STANDARD;
        for _ in 0..3000 {
            let data: Vec<u8> = (0..rng.usize(0..200)).map(|_| rng.u8(..)).collect();
            let mut text = b64.encode(&data).into_bytes();
            match rng.u8(0..6) {
                // Unpadded.
                0 => text.retain(|&c| c != b'='),
                // A character outside the alphabet, or whitespace, anywhere.
                1 | 2 if !text.is_empty() => {
                    let at = rng.usize(..text.len());
                    text[at] = [b'*', b'=', b'-', b'\n', b' ', 0x80][rng.usize(..6)];
                }
                // A character cut off.
                3 => {
                    text.pop();
                }
                _ => {}
            }
            assert_eq!(
                decode_base64(&text),
                decode_base64_slowly(&text),
                "{}",
                String::from_utf8_lossy(&text)
            );
        }
    }

    #[test]
    fn skipping_the_image_gives_what_parsing_it_gives() {
        let bodies: [&[u8]; 14] = [
            br#"{"log_id":1,"image":"aGVsbG8="}"#,
            br#" { "log_id" : "2" , "image" : "aGk=" , "extra" : [1, {"image": "x"}] } "#,
            br#"{"nested":{"image":"aGk="},"image":"aGVsbG8=","log_id":3}"#,
            br#"{"image":"aGk=","image":"aGVsbG8="}"#,
            br#"{"image":"aGk=","image":""}"#,
            br#"{"image":"\/\/8=","log_id":4}"#,
            br#"{"image":null,"log_id":5}"#,
            br#"{"image":"","log_id":6}"#,
            br#"{"error_code":17,"error_msg":"Open api daily request limit reached","image":"aGk="}"#,
            br#"{"log_id":7,"labelmap":"aGk=","scoremap":"aGVsbG8="}"#,
            br#"{"log_id":8,"image":"aGk*"}"#,
            br#"{"log_id":9,"image":"aGk="#,
            b"\xEF\xBB\xBF{\"log_id\":10,\"image\":\"aGk=\"}",
            br#"{"msg":"an \"image\": \"x\"","image":"aGk="}"#,
        ];
        for body in bodies {
            for kind in [ReplyKind::Image, ReplyKind::SkySegmentation] {
                for status in [200, 500] {
                    let whole = decode_reply_whole(kind, status, body, None);
                    assert_eq!(
                        format!("{:?}", decode_reply(kind, status, body)),
                        format!("{whole:?}"),
                        "{}",
                        String::from_utf8_lossy(body)
                    );
                }
            }
        }
        // The usual reply does take the short path, and finds the image.
        let body = br#"{"log_id":11,"image":"aGVsbG8="}"#;
        assert_eq!(
            decode_reply_around_image(ReplyKind::Image, 200, body).map(|r| r.image),
            Some(b"hello".to_vec())
        );
    }

    #[test]
    fn base64_whitespace_tolerated() {
        assert_eq!(decode_base64(b"aGVs\r\nbG8=").unwrap(), b"hello");
        assert_eq!(decode_base64(b"aGVsbG8").unwrap(), b"hello");
        assert!(decode_base64(b"aGVsbG8*").is_none());
    }
}
