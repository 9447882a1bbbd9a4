//! The client side of the wire: a [`Request`] written as the body the operation table
//! names (a form, or JSON for `inpainting`), in one pass into one buffer.

use std::borrow::Cow;
use std::fmt;
use std::io::Write as _;

use base64::Engine as _;

use crate::limits::base64_len;
use crate::optable::ParamValue;
use crate::optable::{BodyKind, spec};
use crate::rect::Rect;
use crate::request::{Input, Request};
use crate::wire::form::{FormWriter, base64_field_capacity, text_field_capacity};

/// An encoded request body and its `Content-Type`.
#[derive(Clone, PartialEq, Eq)]
pub struct Body {
    /// The body's bytes.
    pub bytes: Vec<u8>,
    /// How they are encoded.
    pub kind: BodyKind,
}

impl fmt::Debug for Body {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Body({:?}, <{} bytes>)", self.kind, self.bytes.len())
    }
}

impl Request<'_> {
    /// The request body, in the encoding the operation table names: a form for every
    /// operation but `inpainting`, JSON for it. Written in one pass into one buffer.
    /// Does not validate (see [`Request::validate`]).
    pub fn encode(&self) -> Body {
        self.encode_into(Vec::new())
    }

    /// [`Request::encode`] into `buffer` (emptied first; grown only if it has too little
    /// room), so a caller can reuse one buffer across requests.
    pub fn encode_into(&self, buffer: Vec<u8>) -> Body {
        let kind = spec(self.operation()).body;
        let bytes = match kind {
            BodyKind::Form => self.encode_form(buffer),
            BodyKind::Json => self.encode_json(buffer),
        };
        Body { bytes, kind }
    }

    /// The form fields, in the order the official Python SDK sends them: the input,
    /// then the parameters.
    fn encode_form(&self, buffer: Vec<u8>) -> Vec<u8> {
        let values = self.params().values();
        let mut digits = [[0u8; 20]; 2];
        let mut texts: [Option<(&str, Cow<'_, str>)>; 2] = [None, None];
        let mut capacity = match self.input() {
            Input::Image(bytes) => base64_field_capacity("image", bytes.len()),
            Input::Url(url) => text_field_capacity("url", url.as_str()),
            Input::Pdf { file, .. } => base64_field_capacity("pdf_file", file.len()),
        };
        let mut page_digits = [0u8; 20];
        let page = match self.input() {
            Input::Pdf {
                page: Some(page), ..
            } => Some(decimal(page.get().into(), &mut page_digits)),
            _ => None,
        };
        capacity += page.map_or(0, |p| text_field_capacity("pdf_file_num", p));
        for ((slot, value), digits) in texts.iter_mut().zip(&values).zip(&mut digits) {
            let Some((name, value)) = value else { continue };
            let text = match *value {
                ParamValue::Word(word) => Cow::Borrowed(word),
                ParamValue::Integer(n) => Cow::Borrowed(decimal(n, digits)),
                ParamValue::Rectangles(rects) => Cow::Owned(rectangles_json(rects)),
                ParamValue::Image(bytes) => {
                    capacity += base64_field_capacity(name, bytes.len());
                    continue;
                }
            };
            capacity += text_field_capacity(name, &text);
            *slot = Some((name, text));
        }
        let mut form = FormWriter::into_buffer(buffer, capacity);
        match self.input() {
            Input::Image(bytes) => form.base64("image", bytes),
            Input::Url(url) => form.text("url", url.as_str()),
            Input::Pdf { file, .. } => form.base64("pdf_file", file),
        }
        if let Some(page) = page {
            form.text("pdf_file_num", page);
        }
        for (text, value) in texts.iter().zip(&values) {
            match (text, value) {
                (Some((name, text)), _) => form.text(name, text),
                (None, Some((name, ParamValue::Image(bytes)))) => form.base64(name, bytes),
                (None, _) => {}
            }
        }
        form.finish()
    }

    /// `{"image"|"url": ..., "rectangle": [{"left","top","width","height"}...]}`, the
    /// shape the official Node SDK sends; base64 needs no JSON escaping, so the image is
    /// encoded straight into the body.
    fn encode_json(&self, mut out: Vec<u8>) -> Vec<u8> {
        let values = self.params().values();
        // `{"left":4294967295,"top":…}` is at most 70 bytes a rectangle.
        let input = match self.input() {
            Input::Image(bytes) | Input::Pdf { file: bytes, .. } => base64_len(bytes.len()),
            // ImageUrl holds no control characters: at worst `"` and `\` double.
            Input::Url(url) => 2 * url.as_str().len(),
        };
        let params: usize = values
            .iter()
            .flatten()
            .map(|(name, value)| {
                name.len()
                    + 8
                    + match value {
                        ParamValue::Word(word) => 2 * word.len(),
                        ParamValue::Integer(_) => 20,
                        ParamValue::Rectangles(rects) => rects.len() * 72,
                        ParamValue::Image(bytes) => base64_len(bytes.len()),
                    }
            })
            .sum();
        out.clear();
        out.reserve(32 + input + params);
        match self.input() {
            Input::Image(bytes) | Input::Pdf { file: bytes, .. } => {
                out.extend_from_slice(b"{\"image\":\"");
                push_base64(&mut out, bytes);
                out.push(b'"');
            }
            Input::Url(url) => {
                out.extend_from_slice(b"{\"url\":");
                // Writing JSON into a Vec cannot fail.
                let _ = serde_json::to_writer(&mut out, url.as_str());
            }
        }
        for (name, value) in values.iter().flatten() {
            let _ = write!(out, ",\"{name}\":");
            match *value {
                ParamValue::Word(word) => {
                    let _ = serde_json::to_writer(&mut out, word);
                }
                ParamValue::Integer(n) => {
                    let _ = write!(out, "{n}");
                }
                ParamValue::Rectangles(rects) => write_rectangles(&mut out, rects),
                ParamValue::Image(bytes) => {
                    out.push(b'"');
                    push_base64(&mut out, bytes);
                    out.push(b'"');
                }
            }
        }
        out.push(b'}');
        out
    }
}

/// Appends the base64 of `bytes` (standard alphabet, padded) to `out`.
fn push_base64(out: &mut Vec<u8>, bytes: &[u8]) {
    let start = out.len();
    out.resize(start + base64_len(bytes.len()), 0);
    let engine = &base64::engine::general_purpose::STANDARD;
    let written = engine
        .encode_slice(bytes, out.get_mut(start..).unwrap_or_default())
        .unwrap_or(0);
    out.truncate(start + written);
}

/// `[{"left":…,"top":…,"width":…,"height":…},…]`.
fn write_rectangles(out: &mut Vec<u8>, rects: &[Rect]) {
    out.push(b'[');
    for (i, r) in rects.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        let _ = write!(
            out,
            "{{\"left\":{},\"top\":{},\"width\":{},\"height\":{}}}",
            r.left, r.top, r.width, r.height
        );
    }
    out.push(b']');
}

/// The rectangles as JSON text, for a form (which the decoder reads as JSON text).
fn rectangles_json(rects: &[Rect]) -> String {
    let mut out = Vec::new();
    write_rectangles(&mut out, rects);
    String::from_utf8(out).unwrap_or_default()
}

/// `n` in decimal, written into `digits` (no allocation).
fn decimal(n: i64, digits: &mut [u8; 20]) -> &str {
    let mut cursor = std::io::Cursor::new(&mut digits[..]);
    let _ = write!(cursor, "{n}");
    let len = usize::try_from(cursor.position()).unwrap_or(0);
    std::str::from_utf8(&digits[..len]).unwrap_or("0")
}
