//! A typed request of any operation: its input, its parameters, and their validation
//! against the operation table. Writing it as a body is [`crate::wire`]'s job.

use std::borrow::Cow;
use std::fmt;

use crate::format::ImageInfo;
use crate::limits::{check_base64_len, validate, validate_with};
use crate::operation::Operation;
use crate::optable::{InputKind, ParamKind, ParamValue, Params, spec};
use crate::params::{ImageUrl, PdfPage, check_rects};
use crate::violation::LimitViolation;

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

    /// Checks the request against its operation's table row, as the clients do before
    /// sending and the emulator does on receipt: the input is one the operation takes,
    /// the image passes the operation's limits (from its header), the rectangles lie
    /// inside it, the style image passes its own. Returns what the image's header says,
    /// for image inputs.
    pub fn validate(&self) -> Result<Option<ImageInfo>, LimitViolation> {
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
        for (name, value) in self.params.values().into_iter().flatten() {
            match value {
                ParamValue::Rectangles(rects) => match info {
                    Some(info) => check_rects(rects, info.width, info.height)?,
                    // A URL's image is judged by the service; the list must not be empty.
                    None => check_rects(rects, u32::MAX, u32::MAX)?,
                },
                ParamValue::Image(image) => {
                    if let Some(ParamKind::Image(limits)) = row.param(name).map(|p| p.kind) {
                        validate_with(op, limits, image)?;
                    }
                }
                ParamValue::Word(_) | ParamValue::Integer(_) => {}
            }
        }
        Ok(info)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optable::BodyKind;
    use crate::params::AnimeMask;
    use crate::rect::Rect;
    use baidu_imageprocess_test_support::png_header;

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
    fn every_row_limits_are_checked_by_the_client() {
        // 6000 px is over sky_seg's 5000 px (its siblings' sides): refused before sending,
        // as the emulator refuses it.
        let image = png_header(6000, 2000);
        for params in [Params::SkySeg, Params::StretchRestore, Params::ColorEnhance] {
            let request = Request::new(Input::image(&image[..]), params);
            assert!(matches!(
                request.validate(),
                Err(LimitViolation::SideTooLong { .. })
            ));
        }
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
