//! `GET /__emulator/operations`: the operation table as JSON, with each parameter's kind
//! so the page can build a control for it.

use axum::response::{IntoResponse, Response};
use baidu_imageprocess_protocol::optable::{self, OperationSpec, ParamSpec};
use baidu_imageprocess_protocol::{InputKind, Limits, ReplyKind};
use serde::Serialize;

/// How the page asks for a parameter: the table's [`optable::ParamKind`], as JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub(crate) enum ParamKind {
    /// One of a list of words (`values`); `default` is what the service assumes when
    /// the parameter is absent.
    Choice {
        values: Vec<&'static str>,
        default: Option<&'static str>,
    },
    /// An integer from `min` to `max`; `default` as for a choice, and `start` the value
    /// the control starts at.
    Integer {
        min: i64,
        max: i64,
        default: Option<i64>,
        start: i64,
    },
    /// Rectangles drawn on the input image.
    Rectangles,
    /// A second image, sent as base64, checked against `limits`.
    Image { limits: LimitsView },
    /// Free text: a kind the protocol gained after this console (a test keeps every
    /// row's parameters off it).
    Text,
}

impl ParamKind {
    fn of(param: &ParamSpec) -> Self {
        match param.kind {
            optable::ParamKind::Choice { values, default } => Self::Choice {
                values: values.to_vec(),
                default,
            },
            optable::ParamKind::Integer { min, max, default } => Self::Integer {
                min,
                max,
                default,
                start: default.unwrap_or_else(|| start_of(param.required, min, max)),
            },
            optable::ParamKind::Rectangles => Self::Rectangles,
            optable::ParamKind::Image(limits) => Self::Image {
                limits: LimitsView::from(&limits),
            },
            _ => Self::Text,
        }
    }
}

/// Where an integer control without a default starts: a required one mid-range, so the
/// first try shows an effect (denoise at 100 of 0–200), an optional one at its minimum
/// (the first mask, the first preset). The page sends an optional one only when asked.
pub(crate) fn start_of(required: bool, min: i64, max: i64) -> i64 {
    if required { min + (max - min) / 2 } else { min }
}

/// One parameter.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ParamView {
    name: &'static str,
    required: bool,
    #[serde(flatten)]
    kind: ParamKind,
    allowed: &'static str,
    meaning: &'static str,
    /// Sent only when another field has this value, e.g. `mask_id` needs
    /// `type=anime_mask`: `["type", "anime_mask"]`.
    only_with: Option<(&'static str, &'static str)>,
}

impl From<&ParamSpec> for ParamView {
    fn from(param: &ParamSpec) -> Self {
        Self {
            name: param.name,
            required: param.required,
            kind: ParamKind::of(param),
            allowed: param.allowed,
            meaning: param.meaning,
            only_with: param.only_with,
        }
    }
}

/// The limits, as the page checks them before sending (as the SDK does).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct LimitsView {
    max_base64_len: usize,
    min_side: u32,
    /// `null` when unbounded.
    max_side: Option<u32>,
    max_aspect: Option<u32>,
    max_pixels: Option<u64>,
}

impl From<&Limits> for LimitsView {
    fn from(limits: &Limits) -> Self {
        Self {
            max_base64_len: limits.max_base64_len,
            min_side: limits.min_side,
            max_side: (limits.max_side != u32::MAX).then_some(limits.max_side),
            max_aspect: limits.max_aspect,
            max_pixels: limits.max_pixels,
        }
    }
}

/// One operation.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct OperationView {
    name: &'static str,
    path: &'static str,
    summary: &'static str,
    /// The body's `Content-Type`: `application/x-www-form-urlencoded` or
    /// `application/json`.
    body: &'static str,
    /// `image`, `url`, `pdf_file`.
    inputs: Vec<&'static str>,
    params: Vec<ParamView>,
    limits: LimitsView,
    /// `image`, or `sky_segmentation` (`labelmap` and `scoremap`).
    reply: &'static str,
}

fn view(spec: &OperationSpec) -> OperationView {
    let op = spec.operation;
    OperationView {
        name: op.name(),
        path: spec.path,
        summary: spec.summary,
        body: spec.body.content_type(),
        inputs: spec.inputs.iter().map(|i: &InputKind| i.field()).collect(),
        params: spec.params.iter().map(ParamView::from).collect(),
        limits: LimitsView::from(&spec.limits),
        reply: match spec.reply {
            ReplyKind::Image => "image",
            ReplyKind::SkySegmentation => "sky_segmentation",
            // A kind added to the protocol later: the page shows whatever image it finds.
            _ => "other",
        },
    }
}

/// Every operation, in the table's order.
pub(crate) fn table() -> Vec<OperationView> {
    optable::table().map(view).collect()
}

pub(crate) async fn list() -> Response {
    axum::Json(serde_json::json!({ "operations": table() })).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_parameter_of_the_table_has_a_control() {
        let mut seen = 0;
        for row in optable::table() {
            for p in row.params {
                assert_ne!(
                    ParamKind::of(p),
                    ParamKind::Text,
                    "{}.{}",
                    row.operation,
                    p.name
                );
                seen += 1;
            }
        }
        assert!(seen >= 8, "the table lost its parameters: {seen}");
    }

    #[test]
    fn integer_controls_start_inside_their_range() {
        assert_eq!(start_of(true, 0, 200), 100);
        assert_eq!(start_of(false, 1, 8), 1);
        assert_eq!(start_of(true, 1, 1), 1);
    }
}
