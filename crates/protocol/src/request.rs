//! A typed request of any operation: its input, its parameters, their validation against
//! the operation table, and the request body, written in one pass.

use std::borrow::Cow;
use std::fmt;
use std::io::Write as _;

use base64::Engine as _;

use crate::form::{FormWriter, base64_field_capacity, text_field_capacity};
use crate::limits::{
    ImageInfo, LimitViolation, base64_len, check_base64_len, validate, validate_with,
};
use crate::operation::Operation;
use crate::optable::{BodyKind, InputKind, STYLE_IMAGE_LIMITS, spec};
use crate::params::{
    AnimeMask, DenoiseStrength, ImageUrl, PdfPage, Rect, Style, StyleId, check_rects,
};

/// What an operation works on.
/// Not `#[non_exhaustive]`, on purpose: the set is Baidu's, and a new member must be a
/// compile error in every `match` of the workspace (and a new major version), never a
/// silent fallback arm.
#[derive(Clone, PartialEq, Eq)]
pub enum Input<'a> {
    /// Image bytes (JPEG, PNG or BMP), sent as base64 in `image`.
    Image(Cow<'a, [u8]>),
    /// An image's address, sent in `url`; the service downloads it.
    Url(ImageUrl),
    /// A PDF, for `remove_moire` only: sent as base64 in `pdf_file`, the page in
    /// `pdf_file_num` (the first when `None`).
    Pdf {
        /// The PDF's bytes.
        file: Cow<'a, [u8]>,
        /// The page to process.
        page: Option<PdfPage>,
    },
}

impl<'a> Input<'a> {
    /// Image bytes.
    pub fn image(bytes: impl Into<Cow<'a, [u8]>>) -> Self {
        Self::Image(bytes.into())
    }

    /// An image URL, checked (http or https, at most 1024 bytes).
    pub fn url(url: impl Into<String>) -> Result<Self, LimitViolation> {
        ImageUrl::new(url).map(Self::Url)
    }

    /// A PDF page (for `remove_moire`).
    pub fn pdf(file: impl Into<Cow<'a, [u8]>>, page: Option<PdfPage>) -> Self {
        Self::Pdf {
            file: file.into(),
            page,
        }
    }

    /// Which kind of input this is.
    pub fn kind(&self) -> InputKind {
        match self {
            Self::Image(_) => InputKind::Image,
            Self::Url(_) => InputKind::Url,
            Self::Pdf { .. } => InputKind::PdfFile,
        }
    }

    /// Bytes this input adds to the request before encoding (the URL's length for `url`).
    pub fn len(&self) -> usize {
        match self {
            Self::Image(bytes) | Self::Pdf { file: bytes, .. } => bytes.len(),
            Self::Url(url) => url.as_str().len(),
        }
    }

    /// Whether [`Input::len`] is zero.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The same input, owning its bytes.
    pub fn into_owned(self) -> Input<'static> {
        match self {
            Self::Image(bytes) => Input::Image(Cow::Owned(bytes.into_owned())),
            Self::Url(url) => Input::Url(url),
            Self::Pdf { file, page } => Input::Pdf {
                file: Cow::Owned(file.into_owned()),
                page,
            },
        }
    }
}

/// Never the bytes; a URL without its query.
impl fmt::Debug for Input<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Image(bytes) => write!(f, "Image(<{} bytes>)", bytes.len()),
            Self::Url(url) => fmt::Debug::fmt(url, f),
            Self::Pdf { file, page } => write!(f, "Pdf(<{} bytes>, page {page:?})", file.len()),
        }
    }
}

/// Anything a client's per-operation method takes as input: image bytes (anything that
/// is `AsRef<[u8]>`: `Vec<u8>`, `&[u8]`, `bytes::Bytes`…), an [`ImageUrl`], or an
/// [`Input`].
pub trait AsInput {
    /// The input, borrowing from `self`.
    fn as_input(&self) -> Input<'_>;
}

impl<T: AsRef<[u8]> + ?Sized> AsInput for T {
    fn as_input(&self) -> Input<'_> {
        Input::Image(Cow::Borrowed(self.as_ref()))
    }
}

impl AsInput for ImageUrl {
    fn as_input(&self) -> Input<'_> {
        Input::Url(self.clone())
    }
}

impl AsInput for &ImageUrl {
    fn as_input(&self) -> Input<'_> {
        Input::Url((*self).clone())
    }
}

impl AsInput for &Input<'_> {
    fn as_input(&self) -> Input<'_> {
        (*self).as_input()
    }
}

impl AsInput for Input<'_> {
    fn as_input(&self) -> Input<'_> {
        match self {
            Self::Image(bytes) => Input::Image(Cow::Borrowed(bytes)),
            Self::Url(url) => Input::Url(url.clone()),
            Self::Pdf { file, page } => Input::Pdf {
                file: Cow::Borrowed(file),
                page: *page,
            },
        }
    }
}

/// `customize_stylization`'s style: a preset or a style image.
/// Not `#[non_exhaustive]`, on purpose: the set is Baidu's, and a new member must be a
/// compile error in every `match` of the workspace (and a new major version), never a
/// silent fallback arm.
#[derive(Clone, PartialEq, Eq)]
pub enum CustomStyle<'a> {
    /// A preset, 0–29 (`style_id`).
    Preset(StyleId),
    /// A style image whose look is copied (`style`; JPEG, PNG or BMP, at most 4 MB as
    /// base64, sides 50–4096 px).
    Image(Cow<'a, [u8]>),
}

impl fmt::Debug for CustomStyle<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Preset(id) => f.debug_tuple("Preset").field(id).finish(),
            Self::Image(bytes) => write!(f, "Image(<{} bytes>)", bytes.len()),
        }
    }
}

/// An operation with its parameters.
/// Not `#[non_exhaustive]`, on purpose: the set is Baidu's, and a new member must be a
/// compile error in every `match` of the workspace (and a new major version), never a
/// silent fallback arm.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Params<'a> {
    /// `image_quality_enhance`.
    ImageQualityEnhance,
    /// `dehaze`.
    Dehaze,
    /// `contrast_enhance`.
    ContrastEnhance,
    /// `colourize`.
    Colourize,
    /// `stretch_restore`.
    StretchRestore,
    /// `image_definition_enhance`.
    ImageDefinitionEnhance,
    /// `color_enhance`.
    ColorEnhance,
    /// `style_trans` in a style.
    StyleTrans(Style),
    /// `selfie_anime`, with a mask or without.
    SelfieAnime {
        /// The mask (`type=anime_mask&mask_id=N`); `None` sends no parameter.
        mask: Option<AnimeMask>,
    },
    /// `inpainting` of these rectangles.
    Inpainting(Cow<'a, [Rect]>),
    /// `sky_seg`.
    SkySeg,
    /// `remove_moire`.
    RemoveMoire,
    /// `doc_repair`.
    DocRepair,
    /// `denoise` at a strength.
    Denoise(DenoiseStrength),
    /// `customize_stylization` in a style.
    CustomizeStylization(CustomStyle<'a>),
}

impl Params<'_> {
    /// The operation.
    pub const fn operation(&self) -> Operation {
        match self {
            Self::ImageQualityEnhance => Operation::ImageQualityEnhance,
            Self::Dehaze => Operation::Dehaze,
            Self::ContrastEnhance => Operation::ContrastEnhance,
            Self::Colourize => Operation::Colourize,
            Self::StretchRestore => Operation::StretchRestore,
            Self::ImageDefinitionEnhance => Operation::ImageDefinitionEnhance,
            Self::ColorEnhance => Operation::ColorEnhance,
            Self::StyleTrans(_) => Operation::StyleTrans,
            Self::SelfieAnime { .. } => Operation::SelfieAnime,
            Self::Inpainting(_) => Operation::Inpainting,
            Self::SkySeg => Operation::SkySeg,
            Self::RemoveMoire => Operation::RemoveMoire,
            Self::DocRepair => Operation::DocRepair,
            Self::Denoise(_) => Operation::Denoise,
            Self::CustomizeStylization(_) => Operation::CustomizeStylization,
        }
    }

    /// The parameters of `op` when it needs none (`selfie_anime` without a mask counts);
    /// refused for the operations with a required parameter.
    pub fn defaults(op: Operation) -> Result<Self, LimitViolation> {
        let missing = |name| {
            let allowed = spec(op).param(name).map_or("", |p| p.allowed);
            Err(LimitViolation::MissingParameter { op, name, allowed })
        };
        Ok(match op {
            Operation::ImageQualityEnhance => Self::ImageQualityEnhance,
            Operation::Dehaze => Self::Dehaze,
            Operation::ContrastEnhance => Self::ContrastEnhance,
            Operation::Colourize => Self::Colourize,
            Operation::StretchRestore => Self::StretchRestore,
            Operation::ImageDefinitionEnhance => Self::ImageDefinitionEnhance,
            Operation::ColorEnhance => Self::ColorEnhance,
            Operation::SelfieAnime => Self::SelfieAnime { mask: None },
            Operation::SkySeg => Self::SkySeg,
            Operation::RemoveMoire => Self::RemoveMoire,
            Operation::DocRepair => Self::DocRepair,
            Operation::StyleTrans | Operation::Denoise => return missing("option"),
            Operation::Inpainting => return missing("rectangle"),
            Operation::CustomizeStylization => return missing("style_id"),
        })
    }

    /// The same parameters, owning their data.
    pub fn into_owned(self) -> Params<'static> {
        match self {
            Self::ImageQualityEnhance => Params::ImageQualityEnhance,
            Self::Dehaze => Params::Dehaze,
            Self::ContrastEnhance => Params::ContrastEnhance,
            Self::Colourize => Params::Colourize,
            Self::StretchRestore => Params::StretchRestore,
            Self::ImageDefinitionEnhance => Params::ImageDefinitionEnhance,
            Self::ColorEnhance => Params::ColorEnhance,
            Self::StyleTrans(style) => Params::StyleTrans(style),
            Self::SelfieAnime { mask } => Params::SelfieAnime { mask },
            Self::Inpainting(rects) => Params::Inpainting(Cow::Owned(rects.into_owned())),
            Self::SkySeg => Params::SkySeg,
            Self::RemoveMoire => Params::RemoveMoire,
            Self::DocRepair => Params::DocRepair,
            Self::Denoise(strength) => Params::Denoise(strength),
            Self::CustomizeStylization(CustomStyle::Preset(id)) => {
                Params::CustomizeStylization(CustomStyle::Preset(id))
            }
            Self::CustomizeStylization(CustomStyle::Image(bytes)) => {
                Params::CustomizeStylization(CustomStyle::Image(Cow::Owned(bytes.into_owned())))
            }
        }
    }
}

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

/// A request of any operation: an input and the operation's parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request<'a> {
    input: Input<'a>,
    params: Params<'a>,
}

impl<'a> Request<'a> {
    /// A request; [`Request::validate`] checks it against the operation table.
    pub fn new(input: Input<'a>, params: Params<'a>) -> Self {
        Self { input, params }
    }

    /// A request of `op` with no parameters (refused for the operations that need one).
    pub fn of(op: Operation, input: Input<'a>) -> Result<Self, LimitViolation> {
        Ok(Self::new(input, Params::defaults(op)?))
    }

    /// The operation.
    pub fn operation(&self) -> Operation {
        self.params.operation()
    }

    /// The input.
    pub fn input(&self) -> &Input<'a> {
        &self.input
    }

    /// The parameters.
    pub fn params(&self) -> &Params<'a> {
        &self.params
    }

    /// Splits the request into its input and parameters.
    pub fn into_parts(self) -> (Input<'a>, Params<'a>) {
        (self.input, self.params)
    }

    /// The same request, owning its data.
    pub fn into_owned(self) -> Request<'static> {
        Request {
            input: self.input.into_owned(),
            params: self.params.into_owned(),
        }
    }

    /// Checks the request as a client does before sending: the input is one the
    /// operation takes, the image passes the operation's limits (from its header), the
    /// rectangles lie inside it, the style image passes its own. Returns what the
    /// image's header says, for image inputs.
    pub fn validate(&self) -> Result<Option<ImageInfo>, LimitViolation> {
        self.check(false)
    }

    /// Checks the request as the service does: every limit, documented or not.
    pub fn validate_as_service(&self) -> Result<Option<ImageInfo>, LimitViolation> {
        self.check(true)
    }

    fn check(&self, as_service: bool) -> Result<Option<ImageInfo>, LimitViolation> {
        let op = self.operation();
        let row = spec(op);
        if !row.accepts(self.input.kind()) {
            return Err(LimitViolation::InputNotAccepted {
                op,
                input: self.input.kind().field(),
                url_accepted: row.accepts(InputKind::Url),
            });
        }
        let info = match &self.input {
            Input::Image(bytes) if as_service => {
                Some(crate::limits::validate_as_service(op, bytes)?)
            }
            Input::Image(bytes) => Some(validate(op, bytes)?),
            Input::Url(_) => None,
            Input::Pdf { file, .. } => {
                if file.is_empty() {
                    return Err(LimitViolation::Empty);
                }
                if !file.starts_with(b"%PDF") {
                    return Err(LimitViolation::NotAPdf);
                }
                check_base64_len(file.len(), row.limits.max_base64_len)?;
                None
            }
        };
        match &self.params {
            Params::Inpainting(rects) => match info {
                Some(info) => check_rects(rects, info.width, info.height)?,
                // A URL's image is judged by the service; the list must not be empty.
                None => check_rects(rects, u32::MAX, u32::MAX)?,
            },
            Params::CustomizeStylization(CustomStyle::Image(style)) => {
                validate_with(op, STYLE_IMAGE_LIMITS, style, true)?;
            }
            Params::ImageQualityEnhance
            | Params::Dehaze
            | Params::ContrastEnhance
            | Params::Colourize
            | Params::StretchRestore
            | Params::ImageDefinitionEnhance
            | Params::ColorEnhance
            | Params::StyleTrans(_)
            | Params::SelfieAnime { .. }
            | Params::SkySeg
            | Params::RemoveMoire
            | Params::DocRepair
            | Params::Denoise(_)
            | Params::CustomizeStylization(CustomStyle::Preset(_)) => {}
        }
        Ok(info)
    }

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
        match &self.params {
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
        let page = match &self.input {
            Input::Pdf {
                page: Some(page), ..
            } => Some(page.get().to_string()),
            _ => None,
        };
        let mut capacity = match &self.input {
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
        match &self.input {
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
        let rects: &[Rect] = match &self.params {
            Params::Inpainting(rects) => rects,
            _ => &[],
        };
        // `{"left":4294967295,"top":…}` is at most 70 bytes a rectangle.
        let input = match &self.input {
            Input::Image(bytes) | Input::Pdf { file: bytes, .. } => base64_len(bytes.len()),
            // ImageUrl holds no control characters: at worst `"` and `\` double.
            Input::Url(url) => 2 * url.as_str().len(),
        };
        let capacity = 32 + input + rects.len() * 72;
        out.clear();
        out.reserve(capacity);
        match &self.input {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::tests::png_header;

    #[test]
    fn inputs_an_operation_does_not_take_are_refused() {
        let pdf = Request::new(Input::pdf(&b"%PDF-1.4"[..], None), Params::Dehaze);
        assert!(matches!(
            pdf.validate(),
            Err(LimitViolation::InputNotAccepted {
                input: "pdf_file",
                ..
            })
        ));
        let moire = Request::new(Input::pdf(&b"%PDF-1.4"[..], None), Params::RemoveMoire);
        assert_eq!(moire.validate(), Ok(None));
        let not_pdf = Request::new(Input::pdf(&b"GIF89a"[..], None), Params::RemoveMoire);
        assert_eq!(not_pdf.validate(), Err(LimitViolation::NotAPdf));
    }

    #[test]
    fn required_parameters_are_named() {
        let err = Request::of(Operation::StyleTrans, Input::image(&b""[..])).unwrap_err();
        assert_eq!(err.code(), crate::ErrorCode::NOT_ENOUGH_PARAM);
        assert!(err.to_string().contains("option") && err.to_string().contains("gothic"));
        assert!(Request::of(Operation::SelfieAnime, Input::image(&b""[..])).is_ok());
    }

    #[test]
    fn rectangles_are_checked_against_the_header() {
        let image = png_header(100, 50);
        let inside = [Rect::new(0, 0, 100, 50)];
        let outside = [Rect::new(0, 1, 100, 50)];
        let ok = Request::new(
            Input::image(&image[..]),
            Params::Inpainting(Cow::Borrowed(&inside)),
        );
        assert!(ok.validate().is_ok());
        let bad = Request::new(
            Input::image(&image[..]),
            Params::Inpainting(Cow::Borrowed(&outside)),
        );
        assert!(matches!(
            bad.validate(),
            Err(LimitViolation::RectOutsideImage { .. })
        ));
    }

    #[test]
    fn unconfirmed_limits_are_left_to_the_service() {
        // 6000 px is over sky_seg's assumed 5000 px: the client sends, the service refuses.
        let image = png_header(6000, 2000);
        let request = Request::new(Input::image(&image[..]), Params::SkySeg);
        assert!(request.validate().is_ok());
        assert!(request.validate_as_service().is_err());
        let documented = Request::new(Input::image(&image[..]), Params::StretchRestore);
        assert!(documented.validate().is_err());
    }

    #[test]
    fn form_field_order_and_json_shape() {
        let image = [0xFBu8, 0xFF];
        let r = Request::new(
            Input::image(&image[..]),
            Params::SelfieAnime {
                mask: AnimeMask::new(3).ok(),
            },
        );
        assert_eq!(
            r.encode().bytes,
            b"image=%2B%2F8%3D&type=anime_mask&mask_id=3"
        );
        let rects = [Rect::new(1, 2, 3, 4), Rect::new(5, 6, 7, 8)];
        let r = Request::new(
            Input::image(&image[..]),
            Params::Inpainting(Cow::Borrowed(&rects)),
        );
        let body = r.encode();
        assert_eq!(body.kind, BodyKind::Json);
        assert_eq!(
            std::str::from_utf8(&body.bytes).unwrap(),
            r#"{"image":"+/8=","rectangle":[{"left":1,"top":2,"width":3,"height":4},{"left":5,"top":6,"width":7,"height":8}]}"#
        );
        let url = Input::url("https://e.com/a\"b.jpg").unwrap();
        let r = Request::new(url, Params::Inpainting(Cow::Borrowed(&rects[..1])));
        assert_eq!(
            std::str::from_utf8(&r.encode().bytes).unwrap(),
            r#"{"url":"https://e.com/a\"b.jpg","rectangle":[{"left":1,"top":2,"width":3,"height":4}]}"#
        );
    }
}
