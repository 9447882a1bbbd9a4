//! Reading an operation's body: a form body is percent-decoded while it streams in, so
//! the cap applies to what the fields hold (the base64 limit), not to how many escapes
//! the client used; memory stays bounded by the decoded size.

use std::borrow::Cow;

use axum::body::Body;
use baidu_imageprocess_engine::Rect;
use futures_util::StreamExt as _;

use crate::ops::{Fields, Refusal, rectangles_from_json};

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

impl Fields for FormFields {
    fn text(&self, name: &str) -> Option<Cow<'_, str>> {
        self.get(name).map(String::from_utf8_lossy)
    }

    fn rectangles(&self) -> Option<Result<Vec<Rect>, Refusal>> {
        let text = self.get("rectangle")?;
        Some(
            serde_json::from_slice::<serde_json::Value>(text)
                .map_err(|_| {
                    Refusal::invalid(
                        "param[rectangle] must be a JSON array of {left, top, width, height}",
                    )
                })
                .and_then(|v| rectangles_from_json(&v)),
        )
    }
}

/// Percent-decodes a form body chunk by chunk.
#[derive(Debug)]
pub(crate) struct FormDecoder {
    fields: FormFields,
    name: Vec<u8>,
    value: Vec<u8>,
    in_value: bool,
    /// An escape split across chunks: `%` and the hex digits seen so far.
    escape: Vec<u8>,
    decoded: usize,
    cap: usize,
}

impl FormDecoder {
    /// A decoder that refuses more than `cap` bytes of decoded names and values.
    pub(crate) fn new(cap: usize) -> Self {
        Self {
            fields: FormFields::default(),
            name: Vec::new(),
            value: Vec::new(),
            in_value: false,
            escape: Vec::with_capacity(3),
            decoded: 0,
            cap,
        }
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
        let value = std::mem::take(&mut self.value);
        if !(name.is_empty() && value.is_empty()) {
            self.fields.pairs.push((name, value));
        }
        self.in_value = false;
    }

    /// Feeds the next chunk of the body.
    pub(crate) fn push(&mut self, mut chunk: &[u8]) -> Result<(), BodyError> {
        while !chunk.is_empty() {
            if !self.escape.is_empty() {
                let (&byte, rest) = chunk.split_first().unwrap_or((&0, &[]));
                chunk = rest;
                self.escape.push(byte);
                if self.escape.len() == 3 {
                    self.finish_escape()?;
                }
                continue;
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
                b'%' => self.escape.push(b'%'),
                b'&' => self.end_pair(),
                _ if !self.in_value => self.in_value = true,
                other => self.emit(&[other])?,
            }
        }
        Ok(())
    }

    /// Resolves a complete `%XY`: the byte it encodes, or the three characters literally
    /// when they are not an escape.
    fn finish_escape(&mut self) -> Result<(), BodyError> {
        let hex = |c: u8| (c as char).to_digit(16);
        let escape = std::mem::take(&mut self.escape);
        match (
            escape.get(1).copied().and_then(hex),
            escape.get(2).copied().and_then(hex),
        ) {
            (Some(hi), Some(lo)) => self.emit(&[(hi * 16 + lo) as u8]),
            _ => {
                // Not an escape: `%` is literal and the two bytes are ordinary input
                // (which may be specials themselves).
                self.emit(b"%")?;
                let rest: Vec<u8> = escape.get(1..).unwrap_or_default().to_vec();
                self.push(&rest)
            }
        }
    }

    /// The fields, once the body has ended.
    pub(crate) fn finish(mut self) -> Result<FormFields, BodyError> {
        if !self.escape.is_empty() {
            let rest: Vec<u8> = std::mem::take(&mut self.escape);
            self.emit(&rest)?;
        }
        self.end_pair();
        Ok(self.fields)
    }
}

/// Streams `body` through a [`FormDecoder`]; refuses more than `raw_cap` bytes on the wire
/// or `cap` bytes of decoded fields.
pub(crate) async fn read_form(
    body: Body,
    raw_cap: usize,
    cap: usize,
) -> Result<FormFields, BodyError> {
    let mut decoder = FormDecoder::new(cap);
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

impl Fields for JsonFields {
    fn text(&self, name: &str) -> Option<Cow<'_, str>> {
        match self.0.get(name)? {
            serde_json::Value::String(s) => Some(Cow::Borrowed(s)),
            serde_json::Value::Number(n) => Some(Cow::Owned(n.to_string())),
            serde_json::Value::Bool(b) => Some(Cow::Owned(b.to_string())),
            _ => None,
        }
    }

    fn rectangles(&self) -> Option<Result<Vec<Rect>, Refusal>> {
        let value = self.0.get("rectangle")?;
        Some(match value {
            // Some clients send the array as a JSON string.
            serde_json::Value::String(s) => serde_json::from_str(s)
                .map_err(|_| Refusal::invalid("param[rectangle] is not a JSON array"))
                .and_then(|v| rectangles_from_json(&v)),
            other => rectangles_from_json(other),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(chunks: &[&[u8]], cap: usize) -> Result<FormFields, BodyError> {
        let mut d = FormDecoder::new(cap);
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
    fn the_cap_counts_decoded_bytes() {
        // 4 bytes of value, sent as 12 escaped characters.
        let body = b"image=%2F%2F%2F%2F";
        assert!(decode(&[body], 9).is_ok());
        assert!(matches!(decode(&[body], 8), Err(BodyError::TooLarge)));
    }
}
