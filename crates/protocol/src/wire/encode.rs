//! The client side of the wire: a [`Request`] written as the body the operation table
//! names (a form, or JSON for `inpainting`), in one pass into one buffer.

use std::borrow::Cow;
use std::fmt;
use std::io::Write as _;

use base64::Engine as _;

use crate::limits::base64_len;
use crate::optable::{BodyKind, spec};
use crate::rect::Rect;
use crate::request::{CustomStyle, Input, Params, Request};
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
        let mut texts: [(&str, Cow<'_, str>); 2] =
            [("", Cow::Borrowed("")), ("", Cow::Borrowed(""))];
        let mut style_image: Option<&[u8]> = None;
        match self.params() {
            Params::StyleTrans(style) => texts[0] = ("option", Cow::Borrowed(style.name())),
            Params::SelfieAnime { mask: Some(mask) } => {
                texts = [
                    ("type", Cow::Borrowed("anime_mask")),
                    ("mask_id", Cow::Owned(mask.get().to_string())),
                ];
            }
            Params::Denoise(strength) => {
                texts[0] = ("option", Cow::Owned(strength.get().to_string()));
            }
            Params::CustomizeStylization(CustomStyle::Preset(id)) => {
                texts[0] = ("style_id", Cow::Owned(id.get().to_string()));
            }
            Params::CustomizeStylization(CustomStyle::Image(bytes)) => style_image = Some(bytes),
            Params::ImageQualityEnhance
            | Params::Dehaze
            | Params::ContrastEnhance
            | Params::Colourize
            | Params::StretchRestore
            | Params::ImageDefinitionEnhance
            | Params::ColorEnhance
            | Params::SelfieAnime { mask: None }
            | Params::Inpainting(_)
            | Params::SkySeg
            | Params::RemoveMoire
            | Params::DocRepair => {}
        }
        let page = match self.input() {
            Input::Pdf {
                page: Some(page), ..
            } => Some(page.get().to_string()),
            _ => None,
        };
        let mut capacity = match self.input() {
            Input::Image(bytes) => base64_field_capacity("image", bytes.len()),
            Input::Url(url) => text_field_capacity("url", url.as_str()),
            Input::Pdf { file, .. } => base64_field_capacity("pdf_file", file.len()),
        };
        capacity += page
            .as_deref()
            .map_or(0, |p| text_field_capacity("pdf_file_num", p));
        capacity += texts
            .iter()
            .map(|(name, value)| text_field_capacity(name, value))
            .sum::<usize>();
        capacity += style_image.map_or(0, |s| base64_field_capacity("style", s.len()));
        let mut form = FormWriter::into_buffer(buffer, capacity);
        match self.input() {
            Input::Image(bytes) => form.base64("image", bytes),
            Input::Url(url) => form.text("url", url.as_str()),
            Input::Pdf { file, .. } => form.base64("pdf_file", file),
        }
        if let Some(page) = &page {
            form.text("pdf_file_num", page);
        }
        for (name, value) in &texts {
            if !name.is_empty() {
                form.text(name, value);
            }
        }
        if let Some(style) = style_image {
            form.base64("style", style);
        }
        form.finish()
    }

    /// `{"image"|"url": ..., "rectangle": [{"left","top","width","height"}...]}`, the
    /// shape the official Node SDK sends; base64 needs no JSON escaping, so the image is
    /// encoded straight into the body.
    fn encode_json(&self, mut out: Vec<u8>) -> Vec<u8> {
        let rects: &[Rect] = match self.params() {
            Params::Inpainting(rects) => rects,
            _ => &[],
        };
        // `{"left":4294967295,"top":…}` is at most 70 bytes a rectangle.
        let input = match self.input() {
            Input::Image(bytes) | Input::Pdf { file: bytes, .. } => base64_len(bytes.len()),
            // ImageUrl holds no control characters: at worst `"` and `\` double.
            Input::Url(url) => 2 * url.as_str().len(),
        };
        let capacity = 32 + input + rects.len() * 72;
        out.clear();
        out.reserve(capacity);
        match self.input() {
            Input::Image(bytes) | Input::Pdf { file: bytes, .. } => {
                out.extend_from_slice(b"{\"image\":\"");
                let start = out.len();
                out.resize(start + base64_len(bytes.len()), 0);
                let engine = &base64::engine::general_purpose::STANDARD;
                let written = engine
                    .encode_slice(bytes, out.get_mut(start..).unwrap_or_default())
                    .unwrap_or(0);
                out.truncate(start + written);
                out.push(b'"');
            }
            Input::Url(url) => {
                out.extend_from_slice(b"{\"url\":");
                // Writing JSON into a Vec cannot fail.
                let _ = serde_json::to_writer(&mut out, url.as_str());
            }
        }
        out.extend_from_slice(b",\"rectangle\":[");
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
        out.extend_from_slice(b"]}");
        out
    }
}
