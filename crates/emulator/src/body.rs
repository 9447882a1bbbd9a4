//! Reading an operation's body: a form body is percent-decoded while it streams in, so
//! the cap applies to what the fields hold (the base64 limit), not to how many escapes
//! the client used; memory stays bounded by the decoded size.

use std::borrow::Cow;

use axum::body::Body;
use futures_util::StreamExt as _;

use baidu_imageprocess_protocol::{
    LimitViolation, ParamFields, percent_decode_prefix, rectangle_from_text,
};

/// Why a body could not be read.
#[derive(Debug)]
pub(crate) enum BodyError {
    /// The fields (or the raw body) exceed the cap.
    TooLarge,
    /// The connection failed mid-body.
    Broken,
}

/// A form body's fields, percent-decoded (`+` stays literal, as base64 needs).
#[derive(Debug, Default)]
pub(crate) struct FormFields {
    pairs: Vec<(Vec<u8>, Vec<u8>)>,
}

impl FormFields {
    /// The value of the first field called `name`.
    pub(crate) fn get(&self, name: &str) -> Option<&[u8]> {
        self.pairs
            .iter()
            .find(|(k, _)| k == name.as_bytes())
            .map(|(_, v)| v.as_slice())
    }

    /// Takes the value of the first field called `name` out.
    pub(crate) fn take(&mut self, name: &str) -> Option<Vec<u8>> {
        self.pairs
            .iter_mut()
            .find(|(k, _)| k == name.as_bytes())
            .map(|(_, v)| std::mem::take(v))
    }
}

impl ParamFields for FormFields {
    fn text(&self, name: &str) -> Option<Cow<'_, str>> {
        self.get(name).map(String::from_utf8_lossy)
    }

    fn rectangle(&self) -> Option<Result<serde_json::Value, LimitViolation>> {
        self.get("rectangle").map(rectangle_from_text)
    }
}

/// The state of a `%XY` escape at the end of a chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Escape {
    Closed,
    /// `%` seen, nothing after it yet.
    Open,
    /// `%` and one byte seen.
    OpenWith(u8),
}

/// Percent-decodes a form body chunk by chunk.
#[derive(Debug)]
pub(crate) struct FormDecoder {
    fields: FormFields,
    name: Vec<u8>,
    value: Vec<u8>,
    in_value: bool,
    /// An escape split across chunks.
    open_escape: Escape,
    decoded: usize,
    cap: usize,
    /// Body bytes announced (`Content-Length`) and not read yet: the room a value that
    /// starts now may need, reserved at once rather than grown by doubling.
    unread: usize,
}

/// Bytes percent-decoded per step of the fast loop (a stack buffer).
const RUN: usize = 16 * 1024;

impl FormDecoder {
    /// A decoder that refuses more than `cap` bytes of decoded names and values, for a
    /// body announced as `size_hint` bytes long (`Content-Length`, 0 if unknown; the hint
    /// only sizes buffers, the cap is what refuses).
    pub(crate) fn new(cap: usize, size_hint: usize) -> Self {
        Self {
            fields: FormFields::default(),
            name: Vec::new(),
            value: Vec::new(),
            in_value: false,
            open_escape: Escape::Closed,
            decoded: 0,
            cap,
            unread: size_hint,
        }
    }

    fn start_value(&mut self) {
        self.in_value = true;
        self.value
            .reserve(self.unread.min(self.cap.saturating_sub(self.decoded)));
    }

    fn emit(&mut self, bytes: &[u8]) -> Result<(), BodyError> {
        self.decoded += bytes.len();
        if self.decoded > self.cap {
            return Err(BodyError::TooLarge);
        }
        let target = if self.in_value {
            &mut self.value
        } else {
            &mut self.name
        };
        target.extend_from_slice(bytes);
        Ok(())
    }

    fn end_pair(&mut self) {
        let name = std::mem::take(&mut self.name);
        let mut value = std::mem::take(&mut self.value);
        // A short value before the image does not keep the image's reservation.
        if value.capacity() > 2 * value.len() + 4096 {
            value.shrink_to_fit();
        }
        if !(name.is_empty() && value.is_empty()) {
            self.fields.pairs.push((name, value));
        }
        self.in_value = false;
    }

    /// Percent-decodes the start of `chunk` into the current value while that is plain
    /// bytes and complete escapes; returns how much of `chunk` it took.
    fn push_value_run(&mut self, chunk: &[u8]) -> Result<usize, BodyError> {
        let mut buf = [0u8; RUN];
        let mut used = 0;
        loop {
            let (read, written) =
                percent_decode_prefix(chunk.get(used..).unwrap_or_default(), &mut buf);
            self.emit(buf.get(..written).unwrap_or_default())?;
            used += read;
            // Stopped by the input (a special byte, its end), not by a full buffer.
            if written + 8 <= RUN || read == 0 {
                return Ok(used);
            }
        }
    }

    /// Feeds the next chunk of the body.
    pub(crate) fn push(&mut self, mut chunk: &[u8]) -> Result<(), BodyError> {
        self.unread = self.unread.saturating_sub(chunk.len());
        // Complete an escape left open by the previous chunk. When it turns out not to be
        // one, `%` is literal and the bytes after it are ordinary input, read again.
        loop {
            let seen = match std::mem::replace(&mut self.open_escape, Escape::Closed) {
                Escape::Closed => break,
                Escape::Open => None,
                Escape::OpenWith(a) => Some(a),
            };
            let (digits, used) = match (seen, chunk) {
                (Some(a), [b, ..]) => ([a, *b], 1),
                (None, [a, b, ..]) => ([*a, *b], 2),
                (None, [a]) => {
                    self.open_escape = Escape::OpenWith(*a);
                    return Ok(());
                }
                (Some(a), []) => {
                    self.open_escape = Escape::OpenWith(a);
                    return Ok(());
                }
                (None, []) => {
                    self.open_escape = Escape::Open;
                    return Ok(());
                }
            };
            if let Some(byte) = hex_pair(digits) {
                self.emit(&[byte])?;
                chunk = chunk.get(used..).unwrap_or_default();
            } else {
                self.emit(b"%")?;
                if let Some(a) = seen {
                    self.push(&[a])?;
                }
            }
        }
        while !chunk.is_empty() {
            if self.in_value {
                let used = self.push_value_run(chunk)?;
                chunk = chunk.get(used..).unwrap_or_default();
                if chunk.is_empty() {
                    break;
                }
            }
            let Some(at) = memchr::memchr3(b'%', b'&', b'=', chunk) else {
                self.emit(chunk)?;
                break;
            };
            let (run, rest) = chunk.split_at(at);
            self.emit(run)?;
            let (&special, rest) = rest.split_first().unwrap_or((&0, &[]));
            chunk = rest;
            match special {
                b'%' => match *chunk {
                    [hi, lo, ref rest @ ..] => {
                        if let Some(byte) = hex_pair([hi, lo]) {
                            self.emit(&[byte])?;
                            chunk = rest;
                        } else {
                            self.emit(b"%")?;
                        }
                    }
                    [one] => {
                        self.open_escape = Escape::OpenWith(one);
                        return Ok(());
                    }
                    [] => {
                        self.open_escape = Escape::Open;
                        return Ok(());
                    }
                },
                b'&' => self.end_pair(),
                _ if !self.in_value => self.start_value(),
                other => self.emit(&[other])?,
            }
        }
        Ok(())
    }

    /// The fields, once the body has ended.
    pub(crate) fn finish(mut self) -> Result<FormFields, BodyError> {
        match std::mem::replace(&mut self.open_escape, Escape::Closed) {
            Escape::OpenWith(b) => self.emit(&[b'%', b])?,
            Escape::Open => self.emit(b"%")?,
            Escape::Closed => {}
        }
        self.end_pair();
        Ok(self.fields)
    }
}

/// The byte two hex digits encode.
fn hex_pair(digits: [u8; 2]) -> Option<u8> {
    let hex = |c: u8| (c as char).to_digit(16);
    Some((hex(digits[0])? * 16 + hex(digits[1])?) as u8)
}

/// Streams `body` through a [`FormDecoder`]; refuses more than `raw_cap` bytes on the wire
/// or `cap` bytes of decoded fields.
pub(crate) async fn read_form(
    body: Body,
    raw_cap: usize,
    cap: usize,
    size_hint: usize,
) -> Result<FormFields, BodyError> {
    let mut decoder = FormDecoder::new(cap, size_hint.min(raw_cap));
    let mut raw = 0usize;
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|_| BodyError::Broken)?;
        raw += chunk.len();
        if raw > raw_cap {
            return Err(BodyError::TooLarge);
        }
        decoder.push(&chunk)?;
    }
    decoder.finish()
}

/// Reads a body of at most `cap` bytes whole.
pub(crate) async fn read_all(body: Body, cap: usize) -> Result<Vec<u8>, BodyError> {
    let mut out = Vec::new();
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|_| BodyError::Broken)?;
        if out.len() + chunk.len() > cap {
            return Err(BodyError::TooLarge);
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

/// A JSON body's fields (inpainting).
#[derive(Debug)]
pub(crate) struct JsonFields(pub(crate) serde_json::Map<String, serde_json::Value>);

impl ParamFields for JsonFields {
    fn text(&self, name: &str) -> Option<Cow<'_, str>> {
        match self.0.get(name)? {
            serde_json::Value::String(s) => Some(Cow::Borrowed(s)),
            serde_json::Value::Number(n) => Some(Cow::Owned(n.to_string())),
            serde_json::Value::Bool(b) => Some(Cow::Owned(b.to_string())),
            _ => None,
        }
    }

    fn rectangle(&self) -> Option<Result<serde_json::Value, LimitViolation>> {
        Some(match self.0.get("rectangle")? {
            // Some clients send the array as a JSON string.
            serde_json::Value::String(s) => rectangle_from_text(s.as_bytes()),
            other => Ok(other.clone()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(chunks: &[&[u8]], cap: usize) -> Result<FormFields, BodyError> {
        let mut d = FormDecoder::new(cap, 0);
        for c in chunks {
            d.push(c)?;
        }
        d.finish()
    }

    #[test]
    fn escapes_split_anywhere_decode_the_same() {
        let body = b"image=%2F%2Fw%3D%3D+x&option=a%26b&k&empty=&%zz=%4";
        for split in 0..=body.len() {
            for split2 in split..=body.len() {
                let f = decode(
                    &[&body[..split], &body[split..split2], &body[split2..]],
                    1000,
                )
                .unwrap();
                assert_eq!(f.get("image"), Some(&b"//w==+x"[..]), "{split}/{split2}");
                assert_eq!(f.get("option"), Some(&b"a&b"[..]));
                assert_eq!(f.get("k"), Some(&b""[..]));
                assert_eq!(f.get("empty"), Some(&b""[..]));
                assert_eq!(f.get("%zz"), Some(&b"%4"[..]));
            }
        }
    }

    #[test]
    fn agrees_with_the_protocols_parser_however_split() {
        let bodies: [&[u8]; 5] = [
            b"a=%%41&b=%z%41%&c=%4%41=&%%%2F",
            b"image=%2B%2F%3D&x=%&y=%2",
            b"%&%=%%&=%41=%",
            b"k=v%",
            b"%4",
        ];
        for body in bodies {
            let expected: Vec<(Vec<u8>, Vec<u8>)> = baidu_imageprocess_protocol::parse_pairs(body)
                .map(|(k, v)| (k.into_bytes(), v))
                .filter(|(k, v)| !(k.is_empty() && v.is_empty()))
                .collect();
            for a in 0..=body.len() {
                for b in a..=body.len() {
                    let f = decode(&[&body[..a], &body[a..b], &body[b..]], 1000).unwrap();
                    assert_eq!(
                        f.pairs,
                        expected,
                        "{} split at {a}/{b}",
                        String::from_utf8_lossy(body)
                    );
                }
            }
        }
    }

    #[test]
    fn long_bodies_decode_the_same_in_any_chunks_with_or_without_a_size_hint() {
        let mut rng = fastrand::Rng::with_seed(5);
        for round in 0..40 {
            let image: Vec<u8> = (0..rng.usize(0..5000)).map(|_| rng.u8(..)).collect();
            let mut body = baidu_imageprocess_protocol::encode_image_form(
                &image,
                &[("option", "a&b=c%d"), ("k", "")],
            );
            if round % 2 == 1 {
                // Short fields first, then the image, and stray escapes.
                body.splice(0..0, b"x=%4%zz%41&".iter().copied());
            }
            let expected: Vec<(Vec<u8>, Vec<u8>)> = baidu_imageprocess_protocol::parse_pairs(&body)
                .map(|(k, v)| (k.into_bytes(), v))
                .filter(|(k, v)| !(k.is_empty() && v.is_empty()))
                .collect();
            for hint in [0, body.len()] {
                let mut d = FormDecoder::new(usize::MAX, hint);
                let mut rest = &body[..];
                while !rest.is_empty() {
                    let (chunk, tail) = rest.split_at(rng.usize(1..=rest.len().min(3000)));
                    d.push(chunk).unwrap();
                    rest = tail;
                }
                assert_eq!(d.finish().unwrap().pairs, expected, "round {round}");
            }
        }
    }

    #[test]
    fn the_cap_counts_decoded_bytes() {
        // 4 bytes of value, sent as 12 escaped characters.
        let body = b"image=%2F%2F%2F%2F";
        assert!(decode(&[body], 9).is_ok());
        assert!(matches!(decode(&[body], 8), Err(BodyError::TooLarge)));
    }
}

#[cfg(test)]
mod throughput {
    use super::*;

    /// Decoding speed against the protocol's whole-body parser (run with --release --ignored).
    #[test]
    #[ignore = "a measurement, not a check"]
    fn streaming_decoder_against_parse_pairs() {
        let mut rng = 1u64;
        let image: Vec<u8> = (0..3 * 1024 * 1024)
            .map(|_| {
                rng = rng.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                (rng >> 56) as u8
            })
            .collect();
        let body = baidu_imageprocess_protocol::encode_image_form(&image, &[]);
        let (mut best_streaming, mut best_whole) = (f64::MAX, f64::MAX);
        for _ in 0..20 {
            let t = std::time::Instant::now();
            let mut d = FormDecoder::new(usize::MAX, body.len());
            for chunk in body.chunks(16 * 1024) {
                d.push(chunk).unwrap();
            }
            let f = d.finish().unwrap();
            let streaming = t.elapsed();
            let t = std::time::Instant::now();
            let pairs: Vec<_> = baidu_imageprocess_protocol::parse_pairs(&body).collect();
            let whole = t.elapsed();
            assert_eq!(f.get("image").unwrap(), pairs[0].1.as_slice());
            best_streaming = best_streaming.min(streaming.as_secs_f64());
            best_whole = best_whole.min(whole.as_secs_f64());
        }
        println!(
            "{} MB body, best of 20: streaming {:.2} ms ({:.2} GB/s), parse_pairs {:.2} ms ({:.2} GB/s)",
            body.len() / 1_000_000,
            best_streaming * 1e3,
            body.len() as f64 / best_streaming / 1e9,
            best_whole * 1e3,
            body.len() as f64 / best_whole / 1e9
        );
    }
}
