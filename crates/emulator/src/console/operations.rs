//! `GET /__emulator/operations`: the operation table as JSON, with each parameter's kind
//! so the page can build a control for it.

use axum::response::{IntoResponse, Response};
use baidu_imageprocess_protocol::{Limits, Operation};
use serde::Serialize;

/// How the page asks for a parameter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[allow(dead_code)] // until the fifteen-operation table lands
pub(crate) enum ParamKind {
    /// One of a list of words (`values`); `default` is sent when the user picks none.
    Choice {
        values: Vec<&'static str>,
        default: Option<&'static str>,
    },
    /// An integer from `min` to `max`.
    Integer { min: i64, max: i64, default: i64 },
    /// Rectangles drawn on the input image (inpainting's `rectangle`).
    Rectangles,
    /// A second image, sent as base64.
    Image,
}

/// One parameter.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ParamView {
    name: &'static str,
    required: bool,
    #[serde(flatten)]
    kind: ParamKind,
    allowed: String,
    meaning: String,
    /// Sent only when another parameter has this value, e.g. `mask_id` needs
    /// `type=anime_mask`: `["type", "anime_mask"]`.
    only_with: Option<(&'static str, &'static str)>,
}

/// The limits, as the page checks them before sending (as the SDK does).
#[derive(Debug, Clone, Serialize)]
pub(crate) struct LimitsView {
    max_base64_len: usize,
    min_side: u32,
    /// `null` when unbounded.
    max_side: Option<u32>,
    max_aspect: Option<u32>,
    max_pixels: Option<u64>,
    /// Whether Baidu documents the side, aspect and pixel limits (when not, the SDK
    /// checks only the size cap, the emulator all of them).
    dimensions_documented: bool,
}

impl LimitsView {
    fn new(limits: &Limits, dimensions_documented: bool) -> Self {
        Self {
            max_base64_len: limits.max_base64_len,
            min_side: limits.min_side,
            max_side: (limits.max_side != u32::MAX).then_some(limits.max_side),
            max_aspect: limits.max_aspect,
            max_pixels: limits.max_pixels,
            dimensions_documented,
        }
    }
}

/// One operation.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct OperationView {
    name: &'static str,
    path: &'static str,
    summary: &'static str,
    /// `form` or `json`.
    body: &'static str,
    /// `image`, `url`, `pdf_file`.
    inputs: Vec<&'static str>,
    params: Vec<ParamView>,
    limits: LimitsView,
    /// `image`, or `sky_segmentation` (`labelmap` and `scoremap`).
    reply: &'static str,
    /// The facade's method for it.
    rust_method: &'static str,
}

fn summary(op: Operation) -> &'static str {
    match op {
        Operation::ImageQualityEnhance => "\"lossless\" 2x upscale",
        Operation::Dehaze => "haze removal",
        Operation::ContrastEnhance => "contrast enhancement",
        _ => "black-and-white to colour",
    }
}

/// Every operation, in the table's order.
pub(crate) fn table() -> Vec<OperationView> {
    Operation::ALL
        .into_iter()
        .map(|op| OperationView {
            name: op.name(),
            path: op.path(),
            summary: summary(op),
            body: "form",
            inputs: vec!["image", "url"],
            params: Vec::new(),
            limits: LimitsView::new(&op.limits(), true),
            reply: "image",
            rust_method: op.name(),
        })
        .collect()
}

pub(crate) async fn list() -> Response {
    axum::Json(serde_json::json!({ "operations": table() })).into_response()
}
