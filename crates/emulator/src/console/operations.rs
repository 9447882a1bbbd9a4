//! `GET /__emulator/operations`: the operation table as JSON, with each parameter's kind
//! so the page can build a control for it.

use axum::response::{IntoResponse, Response};
use baidu_imageprocess_protocol::optable::{self, OperationSpec};
use baidu_imageprocess_protocol::{
    AnimeMask, InputKind, Limits, Operation, PdfPage, ReplyKind, Strength, Style, StyleId,
};
use serde::Serialize;

/// How the page asks for a parameter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
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
    /// Free text: a parameter the table has that the console does not know yet (a test
    /// keeps this list empty).
    Text,
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
    /// The facade's method for it.
    rust_method: &'static str,
}

fn kind_of(op: Operation, name: &str) -> (ParamKind, Option<(&'static str, &'static str)>) {
    match (op, name) {
        (Operation::StyleTrans, "option") => (
            ParamKind::Choice {
                values: Style::ALL.iter().map(|s| s.name()).collect(),
                default: None,
            },
            None,
        ),
        (Operation::SelfieAnime, "type") => (
            ParamKind::Choice {
                values: vec!["anime", "anime_mask"],
                default: Some("anime"),
            },
            None,
        ),
        (Operation::SelfieAnime, "mask_id") => (
            ParamKind::Integer {
                min: AnimeMask::MIN.into(),
                max: AnimeMask::MAX.into(),
                default: AnimeMask::MIN.into(),
            },
            Some(("type", "anime_mask")),
        ),
        (Operation::Inpainting, "rectangle") => (ParamKind::Rectangles, None),
        (Operation::RemoveMoire, "pdf_file_num") => (
            ParamKind::Integer {
                min: PdfPage::MIN.into(),
                max: PdfPage::MAX.into(),
                default: 1,
            },
            // Only with a PDF input, which the page does not send.
            Some(("input", "pdf_file")),
        ),
        (Operation::Denoise, "option") => (
            ParamKind::Integer {
                min: Strength::MIN.into(),
                max: Strength::MAX.into(),
                default: 50,
            },
            None,
        ),
        (Operation::CustomizeStylization, "style_id") => (
            ParamKind::Integer {
                min: StyleId::MIN.into(),
                max: StyleId::MAX.into(),
                default: StyleId::MIN.into(),
            },
            None,
        ),
        (Operation::CustomizeStylization, "style") => (ParamKind::Image, None),
        _ => (ParamKind::Text, None),
    }
}

/// The facade's method for `op` (the wire name, but for `inpaint`).
fn rust_method(op: Operation) -> &'static str {
    match op {
        Operation::Inpainting => "inpaint",
        other => other.name(),
    }
}

fn view(spec: &OperationSpec) -> OperationView {
    let op = spec.operation;
    OperationView {
        name: op.name(),
        path: spec.path,
        summary: spec.summary,
        body: spec.body.content_type(),
        inputs: spec.inputs.iter().map(|i: &InputKind| i.field()).collect(),
        params: spec
            .params
            .iter()
            .map(|p| {
                let (kind, only_with) = kind_of(op, p.name);
                ParamView {
                    name: p.name,
                    required: p.required,
                    kind,
                    allowed: p.allowed.to_owned(),
                    meaning: p.meaning.to_owned(),
                    only_with,
                }
            })
            .collect(),
        limits: LimitsView::from(&spec.limits),
        reply: match spec.reply {
            ReplyKind::Image => "image",
            ReplyKind::SkySegmentation => "sky_segmentation",
            // A kind added to the protocol later: the page shows whatever image it finds.
            _ => "other",
        },
        rust_method: rust_method(op),
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
    use baidu_imageprocess_protocol::BodyKind;

    #[test]
    fn every_parameter_of_the_table_has_a_control() {
        let mut seen = 0;
        for row in optable::table() {
            for p in row.params {
                let (kind, _) = kind_of(row.operation, p.name);
                assert_ne!(
                    kind,
                    ParamKind::Text,
                    "{}.{} has no control",
                    row.operation,
                    p.name
                );
                seen += 1;
            }
        }
        assert!(seen >= 8, "the table lost its parameters: {seen}");
    }

    #[test]
    fn choices_and_ranges_come_from_the_typed_parameters() {
        let ops = table();
        let style = &ops.iter().find(|o| o.name == "style_trans").unwrap().params[0];
        let ParamKind::Choice { values, .. } = &style.kind else {
            panic!("style_trans option is a choice");
        };
        assert_eq!(values.len(), Style::ALL.len());
        for v in values {
            assert!(v.parse::<Style>().is_ok(), "{v}");
        }
        let denoise = &ops.iter().find(|o| o.name == "denoise").unwrap().params[0];
        let ParamKind::Integer { min, max, default } = denoise.kind else {
            panic!("denoise option is an integer");
        };
        assert!(Strength::new(min).is_ok() && Strength::new(max).is_ok());
        assert!(Strength::new(max + 1).is_err() && Strength::new(default).is_ok());
        let inpainting = ops.iter().find(|o| o.name == "inpainting").unwrap();
        assert_eq!(inpainting.body, BodyKind::Json.content_type());
        assert_eq!(inpainting.params[0].kind, ParamKind::Rectangles);
        assert_eq!(inpainting.rust_method, "inpaint");
    }
}
