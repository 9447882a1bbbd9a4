//! Why a request is refused before (or instead of) being processed: the whole "request
//! refused" error, with the API error code the service answers for each reason.

use crate::code::ErrorCode;
use crate::format::ImageFormat;
use crate::operation::Operation;
use crate::rect::Rect;

/// What `url` allows, for messages and docs.
pub(crate) const URL_ALLOWED: &str = "an http:// or https:// URL of at most 1024 bytes";

/// Why an image would be (or was) refused. Each carries the error code the service
/// returns for it (216200, 216201 or 216202).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LimitViolation {
    /// No image bytes at all.
    #[error("the image is empty: send the bytes of a JPEG, PNG or BMP file")]
    Empty,
    /// The bytes are a known format the API does not accept.
    #[error("{detected} images are not accepted: convert to JPEG, PNG or BMP")]
    UnsupportedFormat {
        /// The format that was recognised, e.g. `GIF`.
        detected: &'static str,
    },
    /// The bytes are not a recognisable image.
    #[error("not a JPEG, PNG or BMP image (unrecognised leading bytes)")]
    NotAnImage,
    /// The header is cut short or inconsistent.
    #[error("the {format} header is truncated or corrupt: re-export the image")]
    CorruptHeader {
        /// The format the magic bytes announced.
        format: ImageFormat,
    },
    /// The image field is not valid base64 (server side).
    #[error("the image field is not valid base64")]
    NotBase64,
    /// The image field starts with a `data:...;base64,` header, which the API forbids.
    #[error("the image field starts with a data: URI header; send bare base64")]
    DataUriPrefix,
    /// The base64 text would exceed the 4 MiB cap.
    #[error(
        "the image is {base64_len} bytes as base64, over the {max} byte limit: compress or shrink it"
    )]
    TooLarge {
        /// Length of the image's base64 text.
        base64_len: usize,
        /// The cap.
        max: usize,
    },
    /// `width × height` exceeds the operation's pixel cap.
    #[error("{width}×{height} is {} px, over the {max} px limit of {op}: shrink the image", u64::from(*width) * u64::from(*height))]
    TooManyPixels {
        /// The operation.
        op: Operation,
        /// Image width.
        width: u32,
        /// Image height.
        height: u32,
        /// The cap.
        max: u64,
    },
    /// The shortest side is below the operation's minimum.
    #[error("shortest side {side} px is under the {min} px minimum of {op}: use a larger image")]
    SideTooShort {
        /// The operation.
        op: Operation,
        /// The shortest side.
        side: u32,
        /// The minimum.
        min: u32,
    },
    /// The longest side exceeds the operation's maximum.
    #[error("longest side {side} px exceeds {max} px for {op}: shrink the image")]
    SideTooLong {
        /// The operation.
        op: Operation,
        /// The longest side.
        side: u32,
        /// The maximum.
        max: u32,
    },
    /// The `url` input is not an http(s) URL of at most 1024 bytes (282111).
    #[error("invalid `url`: {got:?}; allowed: {}", URL_ALLOWED)]
    InvalidUrl {
        /// The refused URL (shortened).
        got: String,
    },
    /// A parameter has a value the operation does not accept (216100).
    #[error("invalid `{name}`: {got:?}; allowed: {allowed}")]
    InvalidParameter {
        /// The parameter's wire name.
        name: &'static str,
        /// The refused value (shortened).
        got: String,
        /// The allowed values.
        allowed: &'static str,
    },
    /// A required parameter is missing (216101).
    #[error("{op} needs `{name}`: {allowed}")]
    MissingParameter {
        /// The operation.
        op: Operation,
        /// The parameter's wire name.
        name: &'static str,
        /// The allowed values.
        allowed: &'static str,
    },
    /// The operation does not take this kind of input, e.g. a PDF for dehaze (216100).
    #[error("{op} does not take {input} input: send an image{}", if *url_accepted { " or a url" } else { "" })]
    InputNotAccepted {
        /// The operation.
        op: Operation,
        /// The input's wire name (`pdf_file`).
        input: &'static str,
        /// Whether the operation takes `url`.
        url_accepted: bool,
    },
    /// An `inpainting` rectangle is empty or reaches outside the image (216100).
    #[error("rectangle {} ({rect}) is empty or reaches outside the {width}×{height} image", .index + 1)]
    RectOutsideImage {
        /// Its position in the list, from 0 (messages number the rectangles from 1).
        index: usize,
        /// The rectangle.
        rect: Rect,
        /// Image width.
        width: u32,
        /// Image height.
        height: u32,
    },
    /// The `pdf_file` input is not a PDF (216201).
    #[error("the pdf_file input is not a PDF (it does not start with %PDF)")]
    NotAPdf,
    /// The aspect ratio exceeds the operation's maximum.
    #[error(
        "{width}×{height} is wider than the {max}:1 aspect limit of {op}: crop or pad the image"
    )]
    AspectTooWide {
        /// The operation.
        op: Operation,
        /// Image width.
        width: u32,
        /// Image height.
        height: u32,
        /// The maximum ratio (`max`:1).
        max: u32,
    },
}

impl LimitViolation {
    /// The error code the service answers for this violation.
    pub const fn code(&self) -> ErrorCode {
        match self {
            Self::Empty => ErrorCode::EMPTY_IMAGE,
            Self::InvalidUrl { .. } => ErrorCode::URL_FORMAT_ILLEGAL,
            Self::InvalidParameter { .. }
            | Self::InputNotAccepted { .. }
            | Self::RectOutsideImage { .. } => ErrorCode::INVALID_PARAM,
            Self::MissingParameter { .. } => ErrorCode::NOT_ENOUGH_PARAM,
            Self::NotAPdf
            | Self::UnsupportedFormat { .. }
            | Self::NotAnImage
            | Self::CorruptHeader { .. }
            | Self::NotBase64
            | Self::DataUriPrefix => ErrorCode::IMAGE_FORMAT_ERROR,
            Self::TooLarge { .. }
            | Self::TooManyPixels { .. }
            | Self::SideTooShort { .. }
            | Self::SideTooLong { .. }
            | Self::AspectTooWide { .. } => ErrorCode::IMAGE_SIZE_ERROR,
        }
    }
}
