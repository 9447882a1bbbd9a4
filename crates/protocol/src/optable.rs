//! The operation table: each of the fifteen operations described once, as data.
//!
//! Path, body kind, accepted inputs, parameters, limits and reply kind live here and
//! nowhere else. Validation ([`crate::Request::validate`]), encoding
//! ([`crate::Request::encode`]), the server-side decoder ([`crate::decode_request`]), the
//! emulator's routing and the generated `docs/operations.md` ([`markdown`]) all read it.

use std::fmt::Write as _;

use crate::limits::{Limits, MAX_BASE64_LEN};
use crate::operation::Operation;
use crate::params::{AnimeMask, DenoiseStrength, ImageUrl, PdfPage, RECT_ALLOWED, Style, StyleId};

/// How a request body is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BodyKind {
    /// `application/x-www-form-urlencoded` (every operation but `inpainting`).
    Form,
    /// `application/json` (`inpainting`).
    Json,
}

impl BodyKind {
    /// The `Content-Type` header value.
    pub const fn content_type(self) -> &'static str {
        match self {
            Self::Form => "application/x-www-form-urlencoded",
            Self::Json => "application/json",
        }
    }
}

/// What an operation can be given to work on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum InputKind {
    /// Image bytes, sent as base64 in `image`.
    Image,
    /// An image's address, sent in `url` (the service downloads it).
    Url,
    /// A PDF, sent as base64 in `pdf_file`, with the page in `pdf_file_num`.
    PdfFile,
}

impl InputKind {
    /// The wire field that carries the input.
    pub const fn field(self) -> &'static str {
        match self {
            Self::Image => "image",
            Self::Url => "url",
            Self::PdfFile => "pdf_file",
        }
    }
}

/// What a successful reply carries besides `log_id`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ReplyKind {
    /// `image`: the result, base64.
    Image,
    /// `sky_seg`: fields Baidu does not document publicly; the emulator sends `labelmap`
    /// and `scoremap` (base64 PNGs). Every top-level field stays reachable.
    SkySegmentation,
}

/// One parameter of an operation, beside its input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ParamSpec {
    /// The wire name.
    pub name: &'static str,
    /// Whether a request without it is refused (216101).
    pub required: bool,
    /// The allowed values, in words.
    pub allowed: &'static str,
    /// What it does.
    pub meaning: &'static str,
}

/// Everything about one operation except its behaviour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct OperationSpec {
    /// The operation.
    pub operation: Operation,
    /// The request path.
    pub path: &'static str,
    /// What it does, in one line.
    pub summary: &'static str,
    /// How the body is encoded.
    pub body: BodyKind,
    /// What it can be given (image bytes first).
    pub inputs: &'static [InputKind],
    /// Its parameters, in the order they are sent.
    pub params: &'static [ParamSpec],
    /// The image limits.
    pub limits: Limits,
    /// What a success carries.
    pub reply: ReplyKind,
    /// Where the limits come from.
    pub source: &'static str,
}

impl OperationSpec {
    /// Whether the operation takes `input`.
    pub fn accepts(&self, input: InputKind) -> bool {
        self.inputs.contains(&input)
    }

    /// The parameter named `name`, if the operation has it.
    pub fn param(&self, name: &str) -> Option<&'static ParamSpec> {
        self.params.iter().find(|p| p.name == name)
    }
}

const MIB: usize = 1024 * 1024;
const IMAGE_OR_URL: &[InputKind] = &[InputKind::Image, InputKind::Url];
/// The limits Baidu's pages give the operations sold beside the spec's four.
const RESTORE: Limits = Limits::sides(10, 5000, Some(4), 10 * MIB);
const SEED_SOURCE: &str = "the specification (`seed/image-process-api.zh.md`)";
const BAIDU_PAGE: &str = "Baidu's API page for the operation, restated in DESIGN.md section 3";
const UNCONFIRMED: &str = "DESIGN.md section 3 gives the 10 MB cap; no Baidu page at hand confirms the sides and aspect (those of the sibling operations), so the emulator checks them and the client does not";

const fn seed(operation: Operation, summary: &'static str, limits: Limits) -> OperationSpec {
    OperationSpec {
        operation,
        path: concat_path(operation),
        summary,
        body: BodyKind::Form,
        inputs: IMAGE_OR_URL,
        params: &[],
        limits,
        reply: ReplyKind::Image,
        source: SEED_SOURCE,
    }
}

/// The path of `op` (a `const` table cannot call `format!`).
const fn concat_path(op: Operation) -> &'static str {
    match op {
        Operation::ImageQualityEnhance => "/rest/2.0/image-process/v1/image_quality_enhance",
        Operation::Dehaze => "/rest/2.0/image-process/v1/dehaze",
        Operation::ContrastEnhance => "/rest/2.0/image-process/v1/contrast_enhance",
        Operation::Colourize => "/rest/2.0/image-process/v1/colourize",
        Operation::StretchRestore => "/rest/2.0/image-process/v1/stretch_restore",
        Operation::ImageDefinitionEnhance => "/rest/2.0/image-process/v1/image_definition_enhance",
        Operation::ColorEnhance => "/rest/2.0/image-process/v1/color_enhance",
        Operation::StyleTrans => "/rest/2.0/image-process/v1/style_trans",
        Operation::SelfieAnime => "/rest/2.0/image-process/v1/selfie_anime",
        Operation::Inpainting => "/rest/2.0/image-process/v1/inpainting",
        Operation::SkySeg => "/rest/2.0/image-process/v1/sky_seg",
        Operation::RemoveMoire => "/rest/2.0/image-process/v1/remove_moire",
        Operation::DocRepair => "/rest/2.0/image-process/v1/doc_repair",
        Operation::Denoise => "/rest/2.0/image-process/v1/denoise",
        Operation::CustomizeStylization => "/rest/2.0/image-process/v1/customize_stylization",
    }
}

const fn restore(
    operation: Operation,
    summary: &'static str,
    params: &'static [ParamSpec],
    limits: Limits,
    source: &'static str,
) -> OperationSpec {
    OperationSpec {
        operation,
        path: concat_path(operation),
        summary,
        body: BodyKind::Form,
        inputs: IMAGE_OR_URL,
        params,
        limits,
        reply: ReplyKind::Image,
        source,
    }
}

const IMAGE_QUALITY_ENHANCE: OperationSpec = seed(
    Operation::ImageQualityEnhance,
    "\"lossless\" 2x upscale",
    Limits::sides(1, u32::MAX, None, MAX_BASE64_LEN).with_max_pixels(800 * 800),
);
const DEHAZE: OperationSpec = seed(
    Operation::Dehaze,
    "haze removal",
    Limits::sides(200, 4096, Some(3), MAX_BASE64_LEN),
);
const CONTRAST_ENHANCE: OperationSpec = seed(
    Operation::ContrastEnhance,
    "contrast enhancement",
    Limits::sides(64, 4096, Some(3), MAX_BASE64_LEN),
);
const COLOURIZE: OperationSpec = seed(
    Operation::Colourize,
    "black-and-white to colour (needs the account's permission, else error 6)",
    Limits::sides(64, 800, Some(3), MAX_BASE64_LEN),
);
const STRETCH_RESTORE: OperationSpec = restore(
    Operation::StretchRestore,
    "undo a horizontal or vertical stretch",
    &[],
    RESTORE,
    BAIDU_PAGE,
);
const IMAGE_DEFINITION_ENHANCE: OperationSpec = restore(
    Operation::ImageDefinitionEnhance,
    "sharpen a soft, compressed photo",
    &[],
    RESTORE.unconfirmed(),
    UNCONFIRMED,
);
const COLOR_ENHANCE: OperationSpec = restore(
    Operation::ColorEnhance,
    "restore faded colour",
    &[],
    RESTORE.unconfirmed(),
    UNCONFIRMED,
);
const STYLE_TRANS: OperationSpec = restore(
    Operation::StyleTrans,
    "one of nine painterly styles",
    &[ParamSpec {
        name: "option",
        required: true,
        allowed: Style::ALLOWED,
        meaning: "the style",
    }],
    RESTORE,
    BAIDU_PAGE,
);
const SELFIE_ANIME: OperationSpec = restore(
    Operation::SelfieAnime,
    "anime look for portraits, optionally wearing a mask",
    &[
        ParamSpec {
            name: "type",
            required: false,
            allowed: "anime (default) or anime_mask",
            meaning: "anime_mask adds the mask `mask_id`",
        },
        ParamSpec {
            name: "mask_id",
            required: false,
            allowed: AnimeMask::ALLOWED,
            meaning: "the mask, only with type=anime_mask (none when absent)",
        },
    ],
    RESTORE,
    BAIDU_PAGE,
);
const INPAINTING: OperationSpec = OperationSpec {
    body: BodyKind::Json,
    ..restore(
        Operation::Inpainting,
        "fill rectangles from their surroundings",
        &[ParamSpec {
            name: "rectangle",
            required: true,
            allowed: RECT_ALLOWED,
            meaning: "the areas to fill, a JSON array of {left, top, width, height}",
        }],
        RESTORE.unconfirmed(),
        UNCONFIRMED,
    )
};
const SKY_SEG: OperationSpec = OperationSpec {
    reply: ReplyKind::SkySegmentation,
    ..restore(
        Operation::SkySeg,
        "sky mask and sky probability map",
        &[],
        RESTORE.unconfirmed(),
        UNCONFIRMED,
    )
};
const REMOVE_MOIRE: OperationSpec = OperationSpec {
    inputs: &[InputKind::Image, InputKind::Url, InputKind::PdfFile],
    ..restore(
        Operation::RemoveMoire,
        "remove moiré from photographed screens and prints",
        &[ParamSpec {
            name: "pdf_file_num",
            required: false,
            allowed: PdfPage::ALLOWED,
            meaning: "the page of `pdf_file` to process (1 when absent)",
        }],
        Limits::sides(15, 4096, None, 4 * MIB),
        "https://ai.baidu.com/ai-doc/IMAGEPROCESS/ql4wdlnc0 (linked from the Python SDK)",
    )
};
const DOC_REPAIR: OperationSpec = restore(
    Operation::DocRepair,
    "remove shading and shadows from photographed documents",
    &[],
    Limits::sides(50, 4096, None, 4 * MIB),
    "https://ai.baidu.com/ai-doc/IMAGEPROCESS/Nl6os53ab (linked from the Python SDK)",
);
const DENOISE: OperationSpec = restore(
    Operation::Denoise,
    "remove noise",
    &[ParamSpec {
        name: "option",
        required: true,
        allowed: DenoiseStrength::ALLOWED,
        meaning: "the strength (0 leaves the image as it is)",
    }],
    Limits::sides(50, 1999, None, 3 * MIB),
    "https://ai.baidu.com/ai-doc/IMAGEPROCESS/Tl78sby7g (linked from the Python SDK)",
);
const CUSTOMIZE_STYLIZATION: OperationSpec = restore(
    Operation::CustomizeStylization,
    "one of thirty style presets, or the look of a style image",
    &[
        ParamSpec {
            name: "style_id",
            required: false,
            allowed: StyleId::ALLOWED,
            meaning: "a preset; one of style_id and style is required",
        },
        ParamSpec {
            name: "style",
            required: false,
            allowed: "a JPEG, PNG or BMP image as base64, at most 4 MB, sides 50–4096 px",
            meaning: "a style image whose look is copied; wins over style_id",
        },
    ],
    Limits::sides(50, 4096, None, 4 * MIB),
    "https://ai.baidu.com/ai-doc/IMAGEPROCESS/al50vf6bq (linked from the Python SDK)",
);

/// The limits of `customize_stylization`'s `style` image.
pub const STYLE_IMAGE_LIMITS: Limits = Limits::sides(50, 4096, None, 4 * MIB);

/// The table row of `op`.
pub const fn spec(op: Operation) -> &'static OperationSpec {
    match op {
        Operation::ImageQualityEnhance => &IMAGE_QUALITY_ENHANCE,
        Operation::Dehaze => &DEHAZE,
        Operation::ContrastEnhance => &CONTRAST_ENHANCE,
        Operation::Colourize => &COLOURIZE,
        Operation::StretchRestore => &STRETCH_RESTORE,
        Operation::ImageDefinitionEnhance => &IMAGE_DEFINITION_ENHANCE,
        Operation::ColorEnhance => &COLOR_ENHANCE,
        Operation::StyleTrans => &STYLE_TRANS,
        Operation::SelfieAnime => &SELFIE_ANIME,
        Operation::Inpainting => &INPAINTING,
        Operation::SkySeg => &SKY_SEG,
        Operation::RemoveMoire => &REMOVE_MOIRE,
        Operation::DocRepair => &DOC_REPAIR,
        Operation::Denoise => &DENOISE,
        Operation::CustomizeStylization => &CUSTOMIZE_STYLIZATION,
    }
}

impl Operation {
    /// The request path, e.g. `/rest/2.0/image-process/v1/dehaze`.
    pub const fn path(self) -> &'static str {
        spec(self).path
    }

    /// The operation's image limits (see [`crate::optable`] for everything else).
    pub const fn limits(self) -> Limits {
        spec(self).limits
    }
}

/// Every row, in [`Operation::ALL`]'s order.
pub fn table() -> impl Iterator<Item = &'static OperationSpec> {
    Operation::ALL.into_iter().map(spec)
}

fn mib(n: usize) -> String {
    if n.is_multiple_of(MIB) {
        format!("{} MiB", n / MIB)
    } else {
        format!("{n} bytes")
    }
}

/// The limits in words, e.g. `base64 ≤ 4 MiB; sides 200–4096 px; aspect ≤ 3:1`.
pub fn describe_limits(limits: &Limits) -> String {
    let mut out = format!("base64 ≤ {}", mib(limits.max_base64_len));
    if let Some(max) = limits.max_pixels {
        let _ = write!(out, "; width × height ≤ {max} px");
    }
    match (limits.min_side, limits.max_side) {
        (1, u32::MAX) => {}
        (min, u32::MAX) => {
            let _ = write!(out, "; sides ≥ {min} px");
        }
        (min, max) => {
            let _ = write!(out, "; sides {min}–{max} px");
        }
    }
    if let Some(max) = limits.max_aspect {
        let _ = write!(out, "; aspect ≤ {max}:1");
    }
    if !limits.dimensions_documented {
        out.push_str(" (sides and aspect unconfirmed: not checked by the client)");
    }
    out
}

/// `docs/operations.md`, generated from the table (a test keeps the file in step).
pub fn markdown() -> String {
    let mut out = String::from(
        "# Operations\n\n\
         Generated from the operation table (`crates/protocol/src/optable.rs`) by\n\
         `UPDATE_DOCS=1 cargo test -p baidu-imageprocess-protocol --test operations_doc`;\n\
         a test fails when this file and the table disagree. Every operation is a `POST` to\n\
         `https://aip.baidubce.com<path>?access_token=<token>` and accepts JPEG, PNG and BMP\n\
         images without a `data:` header. When both `image` and `url` are sent, `image` wins.\n\n\
         | operation | path | body | inputs | parameters | limits | reply |\n\
         |---|---|---|---|---|---|---|\n",
    );
    for row in table() {
        let inputs: Vec<&str> = row.inputs.iter().map(|i| i.field()).collect();
        let params = if row.params.is_empty() {
            "—".to_owned()
        } else {
            row.params
                .iter()
                .map(|p| {
                    format!(
                        "`{}`{}: {}",
                        p.name,
                        if p.required { " (required)" } else { "" },
                        p.allowed
                    )
                })
                .collect::<Vec<_>>()
                .join("<br>")
        };
        let reply = match row.reply {
            ReplyKind::Image => "`log_id`, `image`",
            ReplyKind::SkySegmentation => "`log_id`, `labelmap`, `scoremap` (see below)",
        };
        let body = match row.body {
            BodyKind::Form => "form",
            BodyKind::Json => "JSON",
        };
        let _ = writeln!(
            out,
            "| `{}`: {} | `{}` | {body} | {} | {params} | {} | {reply} |",
            row.operation.name(),
            row.summary,
            row.path,
            inputs.join(", "),
            describe_limits(&row.limits),
        );
    }
    out.push_str("\n## Parameters\n\n");
    for row in table().filter(|r| !r.params.is_empty()) {
        let _ = writeln!(out, "`{}`:", row.operation.name());
        for p in row.params {
            let _ = writeln!(
                out,
                "- `{}`{}: {}. Allowed: {}.",
                p.name,
                if p.required { " (required)" } else { "" },
                p.meaning,
                p.allowed
            );
        }
        out.push('\n');
    }
    let _ = writeln!(out, "`url` (every operation): {}.\n", ImageUrl::ALLOWED);
    out.push_str("## Where the limits come from\n\n");
    for row in table() {
        let _ = writeln!(out, "- `{}`: {}", row.operation.name(), row.source);
    }
    out.push_str(
        "\n## Replies\n\n\
         A success is `{\"log_id\": <u64, number or string>, \"image\": \"<base64>\"}`; an error is\n\
         `{\"error_code\": N, \"error_msg\": \"...\", \"log_id\": ...}`. Every other top-level field of a\n\
         success stays reachable (`ImageReply::fields`). `sky_seg`'s fields are not documented\n\
         publicly; the emulator answers `labelmap` (a 0/255 sky mask) and `scoremap` (a 0–255 sky\n\
         probability), both base64 PNGs, the shape of Baidu's other segmentation replies.\n",
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_row_is_its_operation() {
        for op in Operation::ALL {
            let row = spec(op);
            assert_eq!(row.operation, op);
            assert_eq!(
                row.path,
                format!("/rest/2.0/image-process/v1/{}", op.name())
            );
            assert!(row.accepts(InputKind::Image) && row.accepts(InputKind::Url));
            assert_eq!(
                row.accepts(InputKind::PdfFile),
                op == Operation::RemoveMoire
            );
            assert_eq!(row.body == BodyKind::Json, op == Operation::Inpainting);
        }
    }

    #[test]
    fn seed_limits_are_the_spec_table() {
        assert_eq!(Operation::Dehaze.limits().min_side, 200);
        assert_eq!(Operation::Colourize.limits().max_side, 800);
        assert_eq!(
            Operation::ImageQualityEnhance.limits().max_pixels,
            Some(640_000)
        );
        for op in &Operation::ALL[..4] {
            assert_eq!(op.limits().max_base64_len, MAX_BASE64_LEN);
            assert!(op.limits().dimensions_documented);
        }
        assert_eq!(Operation::Denoise.limits().max_base64_len, 3 * MIB);
        assert_eq!(Operation::StyleTrans.limits().max_base64_len, 10 * MIB);
    }
}
