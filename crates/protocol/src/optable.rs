//! The operation table: each of the fifteen operations described once, as data, with
//! its parameters as a type ([`Params`]).
//!
//! A row holds the wire name (the path derives from it), the CLI name, the body kind, the
//! accepted inputs, each parameter with a typed kind ([`ParamKind`]: a choice of names,
//! an integer range, rectangles, an image; some valid only with another), the limits with
//! their source, and the reply kind. Validation ([`crate::Request::validate`]), encoding
//! ([`crate::Request::encode`]), the server-side decoder ([`crate::decode_request`]), the
//! emulator's routing and console, and the generated `docs/operations.md` ([`markdown`])
//! all read it. [`Params`] and its conversions to and from wire values sit here too, so
//! that an operation's parameters are described in this one file.

use std::borrow::Cow;
use std::fmt::Write as _;

use crate::limits::{Limits, MAX_BASE64_LEN};
use crate::operation::Operation;
use crate::params::{
    AnimeMask, CustomStyle, ImageUrl, PdfPage, RECT_ALLOWED, Strength, Style, StyleId, shown,
};
use crate::rect::Rect;
use crate::violation::LimitViolation;

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

/// What values a parameter takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ParamKind {
    /// One of a list of words, sent as text.
    Choice {
        /// The words, in Baidu's order.
        values: &'static [&'static str],
        /// What the service assumes when the parameter is absent.
        default: Option<&'static str>,
    },
    /// A decimal integer in `min..=max`.
    Integer {
        /// The smallest allowed value.
        min: i64,
        /// The largest allowed value.
        max: i64,
        /// What the service assumes when the parameter is absent.
        default: Option<i64>,
    },
    /// One or more `{left, top, width, height}` rectangles inside the image, as a JSON
    /// array.
    Rectangles,
    /// A second image, as base64, checked against these limits.
    Image(Limits),
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
    /// The values it takes, as a type.
    pub kind: ParamKind,
    /// Valid only when another field has a value: `("type", "anime_mask")` for
    /// `mask_id`; `("input", "pdf_file")` for a parameter of the PDF input.
    pub only_with: Option<(&'static str, &'static str)>,
}

/// Everything about one operation except its behaviour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct OperationSpec {
    /// The operation.
    pub operation: Operation,
    /// The request path.
    pub path: &'static str,
    /// The name of `bdip`'s subcommand.
    pub cli: &'static str,
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
    /// Where the limits come from: the public document that states them.
    pub source: &'static str,
    /// What a success carries.
    pub reply: ReplyKind,
    /// How many times each side of the input the result is (2 for the upscale).
    pub scale: u32,
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
const SEED_SOURCE: &str = "Baidu's API reference for the operation (图像增强与特效 API 文档, request parameters), restated in docs/wire-protocol.md";
const BAIDU_PAGE: &str = "Baidu's API page for the operation (图像增强与特效 API 文档), restated in docs/wire-protocol.md";
const UNCONFIRMED: &str = "Baidu's API page for the operation gives the 10 MB cap; it states the sides and aspect, so they are the sibling operations' (10–5000 px, ≤ 4:1), checked by every path alike";

/// The limits of `customize_stylization`'s `style` image.
pub const STYLE_IMAGE_LIMITS: Limits = Limits::sides(50, 4096, None, 4 * MIB);

/// A row with the common facts: form body, image or url, an image reply of the input's
/// size.
const fn row(
    operation: Operation,
    summary: &'static str,
    params: &'static [ParamSpec],
    limits: Limits,
    source: &'static str,
) -> OperationSpec {
    OperationSpec {
        operation,
        path: operation.path(),
        cli: operation.cli_name(),
        summary,
        body: BodyKind::Form,
        inputs: IMAGE_OR_URL,
        params,
        limits,
        source,
        reply: ReplyKind::Image,
        scale: 1,
    }
}

/// A parameter, valid on its own.
const fn param(
    name: &'static str,
    required: bool,
    kind: ParamKind,
    allowed: &'static str,
    meaning: &'static str,
) -> ParamSpec {
    ParamSpec {
        name,
        required,
        allowed,
        meaning,
        kind,
        only_with: None,
    }
}

const fn integer(min: i64, max: i64, default: Option<i64>) -> ParamKind {
    ParamKind::Integer { min, max, default }
}

/// The table, in [`Operation::ALL`]'s order (a test checks it).
const TABLE: [OperationSpec; Operation::ALL.len()] = [
    OperationSpec {
        scale: 2,
        ..row(
            Operation::ImageQualityEnhance,
            "\"lossless\" 2x upscale",
            &[],
            Limits::sides(1, u32::MAX, None, MAX_BASE64_LEN).with_max_pixels(800 * 800),
            SEED_SOURCE,
        )
    },
    row(
        Operation::Dehaze,
        "haze removal",
        &[],
        Limits::sides(200, 4096, Some(3), MAX_BASE64_LEN),
        SEED_SOURCE,
    ),
    row(
        Operation::ContrastEnhance,
        "contrast enhancement",
        &[],
        Limits::sides(64, 4096, Some(3), MAX_BASE64_LEN),
        SEED_SOURCE,
    ),
    row(
        Operation::Colourize,
        "black-and-white to colour (needs the account's permission, else error 6)",
        &[],
        Limits::sides(64, 800, Some(3), MAX_BASE64_LEN),
        SEED_SOURCE,
    ),
    row(
        Operation::StretchRestore,
        "undo a horizontal or vertical stretch",
        &[],
        RESTORE,
        BAIDU_PAGE,
    ),
    row(
        Operation::ImageDefinitionEnhance,
        "sharpen a soft, compressed photo",
        &[],
        RESTORE,
        UNCONFIRMED,
    ),
    row(
        Operation::ColorEnhance,
        "restore faded colour",
        &[],
        RESTORE,
        UNCONFIRMED,
    ),
    row(
        Operation::StyleTrans,
        "one of nine painterly styles",
        &[param(
            "option",
            true,
            ParamKind::Choice {
                values: &Style::NAMES,
                default: None,
            },
            Style::ALLOWED,
            "the style",
        )],
        RESTORE,
        BAIDU_PAGE,
    ),
    row(
        Operation::SelfieAnime,
        "anime look for portraits, optionally wearing a mask",
        &[
            param(
                "type",
                false,
                ParamKind::Choice {
                    values: &["anime", "anime_mask"],
                    default: Some("anime"),
                },
                "anime (default) or anime_mask",
                "anime_mask adds the mask `mask_id`",
            ),
            ParamSpec {
                only_with: Some(("type", "anime_mask")),
                ..param(
                    "mask_id",
                    false,
                    integer(AnimeMask::MIN as i64, AnimeMask::MAX as i64, None),
                    AnimeMask::ALLOWED,
                    "the mask, only with type=anime_mask (none when absent)",
                )
            },
        ],
        RESTORE,
        BAIDU_PAGE,
    ),
    OperationSpec {
        body: BodyKind::Json,
        ..row(
            Operation::Inpainting,
            "fill rectangles from their surroundings",
            &[param(
                "rectangle",
                true,
                ParamKind::Rectangles,
                RECT_ALLOWED,
                "the areas to fill, a JSON array of {left, top, width, height}",
            )],
            RESTORE,
            UNCONFIRMED,
        )
    },
    OperationSpec {
        reply: ReplyKind::SkySegmentation,
        ..row(
            Operation::SkySeg,
            "sky mask and sky probability map",
            &[],
            RESTORE,
            UNCONFIRMED,
        )
    },
    OperationSpec {
        inputs: &[InputKind::Image, InputKind::Url, InputKind::PdfFile],
        ..row(
            Operation::RemoveMoire,
            "remove moiré from photographed screens and prints",
            &[ParamSpec {
                only_with: Some(("input", "pdf_file")),
                ..param(
                    "pdf_file_num",
                    false,
                    integer(PdfPage::MIN as i64, PdfPage::MAX as i64, Some(1)),
                    PdfPage::ALLOWED,
                    "the page of `pdf_file` to process (1 when absent)",
                )
            }],
            Limits::sides(15, 4096, None, 4 * MIB),
            "https://ai.baidu.com/ai-doc/IMAGEPROCESS/ql4wdlnc0 (linked from the Python SDK)",
        )
    },
    row(
        Operation::DocRepair,
        "remove shading and shadows from photographed documents",
        &[],
        Limits::sides(50, 4096, None, 4 * MIB),
        "https://ai.baidu.com/ai-doc/IMAGEPROCESS/Nl6os53ab (linked from the Python SDK)",
    ),
    row(
        Operation::Denoise,
        "remove noise",
        &[param(
            "option",
            true,
            integer(Strength::MIN as i64, Strength::MAX as i64, None),
            Strength::ALLOWED,
            "the strength (0 leaves the image as it is)",
        )],
        Limits::sides(50, 1999, None, 3 * MIB),
        "https://ai.baidu.com/ai-doc/IMAGEPROCESS/Tl78sby7g (linked from the Python SDK)",
    ),
    row(
        Operation::CustomizeStylization,
        "one of thirty style presets, or the look of a style image",
        &[
            param(
                "style_id",
                false,
                integer(StyleId::MIN as i64, StyleId::MAX as i64, None),
                StyleId::ALLOWED,
                "a preset; one of style_id and style is required",
            ),
            param(
                "style",
                false,
                ParamKind::Image(STYLE_IMAGE_LIMITS),
                "a JPEG, PNG or BMP image as base64, at most 4 MB, sides 50–4096 px",
                "a style image whose look is copied; wins over style_id",
            ),
        ],
        Limits::sides(50, 4096, None, 4 * MIB),
        "https://ai.baidu.com/ai-doc/IMAGEPROCESS/al50vf6bq (linked from the Python SDK)",
    ),
];

/// The table row of `op`.
pub const fn spec(op: Operation) -> &'static OperationSpec {
    // `TABLE` is in `Operation::ALL`'s order, which is the enum's.
    &TABLE[op as usize]
}

/// Every row, in [`Operation::ALL`]'s order.
pub fn table() -> impl Iterator<Item = &'static OperationSpec> {
    TABLE.iter()
}

impl Operation {
    /// The operation's image limits (see [`crate::optable`] for everything else).
    pub const fn limits(self) -> Limits {
        spec(self).limits
    }

    /// Output size for an input of `width × height`: the input's, but twice each side
    /// for the upscale. `stretch_restore` changes the aspect ratio by an amount only the
    /// result tells, so this is its input size.
    pub const fn output_dimensions(self, width: u32, height: u32) -> (u32, u32) {
        let scale = spec(self).scale;
        (width.saturating_mul(scale), height.saturating_mul(scale))
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
    Denoise(Strength),
    /// `customize_stylization` in a style.
    CustomizeStylization(CustomStyle<'a>),
}

/// One parameter's value as the wire carries it, borrowed from [`Params`].
#[derive(Debug, Clone, Copy)]
pub(crate) enum ParamValue<'a> {
    /// A word of a [`ParamKind::Choice`].
    Word(&'static str),
    /// A [`ParamKind::Integer`].
    Integer(i64),
    /// [`ParamKind::Rectangles`].
    Rectangles(&'a [Rect]),
    /// A [`ParamKind::Image`]'s bytes (before base64).
    Image(&'a [u8]),
}

/// A parameter's value read from a request, before it is typed: text for choices and
/// integers, the rectangles and image already decoded from their wire forms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum WireValue {
    /// The trimmed, non-empty text of a choice or an integer.
    Text(String),
    /// The rectangles.
    Rectangles(Vec<Rect>),
    /// The image's bytes.
    Image(Vec<u8>),
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
    /// refused, naming the parameter, for the operations with a required one.
    pub fn defaults(op: Operation) -> Result<Self, LimitViolation> {
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
            Operation::StyleTrans | Operation::Denoise => return Err(missing(op, "option")),
            Operation::Inpainting => return Err(missing(op, "rectangle")),
            Operation::CustomizeStylization => return Err(missing(op, "style_id")),
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
            Self::CustomizeStylization(style) => Params::CustomizeStylization(style.into_owned()),
        }
    }

    /// The values to send, by wire name, in the order they are sent (at most two).
    pub(crate) fn values(&self) -> [Option<(&'static str, ParamValue<'_>)>; 2] {
        let one = |name, value| [Some((name, value)), None];
        match self {
            Self::StyleTrans(style) => one("option", ParamValue::Word(style.name())),
            Self::SelfieAnime { mask: Some(mask) } => [
                Some(("type", ParamValue::Word("anime_mask"))),
                Some(("mask_id", ParamValue::Integer(mask.get().into()))),
            ],
            Self::Inpainting(rects) => one("rectangle", ParamValue::Rectangles(rects)),
            Self::Denoise(strength) => one("option", ParamValue::Integer(strength.get().into())),
            Self::CustomizeStylization(CustomStyle::Preset(id)) => {
                one("style_id", ParamValue::Integer(id.get().into()))
            }
            Self::CustomizeStylization(CustomStyle::Image(bytes)) => {
                one("style", ParamValue::Image(bytes))
            }
            Self::ImageQualityEnhance
            | Self::Dehaze
            | Self::ContrastEnhance
            | Self::Colourize
            | Self::StretchRestore
            | Self::ImageDefinitionEnhance
            | Self::ColorEnhance
            | Self::SelfieAnime { mask: None }
            | Self::SkySeg
            | Self::RemoveMoire
            | Self::DocRepair => [None, None],
        }
    }
}

impl Params<'static> {
    /// The typed parameters of `op` from the values a request carried (see
    /// [`WireValue`]), checked as the service checks them: 216101 for a missing required
    /// one, 216100 for an invalid one. Wire values are exact (no aliases).
    pub(crate) fn from_values(
        op: Operation,
        mut take: impl FnMut(&'static str) -> Option<WireValue>,
    ) -> Result<Self, LimitViolation> {
        let mut text = |name| match take(name) {
            Some(WireValue::Text(text)) => Some(text),
            _ => None,
        };
        Ok(match op {
            Operation::StyleTrans => Self::StyleTrans(Style::from_wire(
                &text("option").ok_or(missing(op, "option"))?,
            )?),
            Operation::Denoise => {
                Self::Denoise(text("option").ok_or(missing(op, "option"))?.parse()?)
            }
            Operation::SelfieAnime => {
                let mask = match text("type").as_deref() {
                    None | Some("anime") => None,
                    Some("anime_mask") => text("mask_id").map(|m| m.parse()).transpose()?,
                    Some(other) => {
                        return Err(LimitViolation::InvalidParameter {
                            name: "type",
                            got: shown(other),
                            allowed: "anime or anime_mask",
                        });
                    }
                };
                Self::SelfieAnime { mask }
            }
            Operation::CustomizeStylization => match take("style") {
                Some(WireValue::Image(bytes)) => {
                    Self::CustomizeStylization(CustomStyle::Image(Cow::Owned(bytes)))
                }
                _ => match take("style_id") {
                    Some(WireValue::Text(id)) => {
                        Self::CustomizeStylization(CustomStyle::Preset(id.parse()?))
                    }
                    _ => return Err(missing(op, "style_id")),
                },
            },
            Operation::Inpainting => match take("rectangle") {
                Some(WireValue::Rectangles(rects)) => Self::Inpainting(Cow::Owned(rects)),
                _ => return Err(missing(op, "rectangle")),
            },
            Operation::ImageQualityEnhance
            | Operation::Dehaze
            | Operation::ContrastEnhance
            | Operation::Colourize
            | Operation::StretchRestore
            | Operation::ImageDefinitionEnhance
            | Operation::ColorEnhance
            | Operation::SkySeg
            | Operation::RemoveMoire
            | Operation::DocRepair => Self::defaults(op)?,
        })
    }
}

/// `op` was sent without its required parameter `name`.
fn missing(op: Operation, name: &'static str) -> LimitViolation {
    let allowed = spec(op).param(name).map_or("", |p| p.allowed);
    LimitViolation::MissingParameter { op, name, allowed }
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

    /// Every variant (the match has no catch-all, so a new one fails to compile here) is
    /// in `Operation::ALL` once, and the table has its row at the same place.
    #[test]
    fn every_operation_is_in_all_and_in_the_table() {
        let every = |op: Operation| match op {
            Operation::ImageQualityEnhance
            | Operation::Dehaze
            | Operation::ContrastEnhance
            | Operation::Colourize
            | Operation::StretchRestore
            | Operation::ImageDefinitionEnhance
            | Operation::ColorEnhance
            | Operation::StyleTrans
            | Operation::SelfieAnime
            | Operation::Inpainting
            | Operation::SkySeg
            | Operation::RemoveMoire
            | Operation::DocRepair
            | Operation::Denoise
            | Operation::CustomizeStylization => op,
        };
        for (i, op) in Operation::ALL.into_iter().enumerate() {
            assert_eq!(
                every(op) as usize,
                i,
                "{op} is out of the enum's order in ALL"
            );
            assert_eq!(TABLE[i].operation, op, "row {i} is not {op}'s");
            assert_eq!(spec(op).operation, op);
        }
        assert_eq!(table().count(), Operation::ALL.len());
        let mut names: Vec<&str> = Operation::ALL.iter().map(|op| op.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Operation::ALL.len());
    }

    /// Each parameter's kind agrees with its typed values: the encoder writes, and the
    /// decoder reads, only parameters the row lists.
    #[test]
    fn every_sent_parameter_is_in_the_row() {
        let samples = [
            Params::StyleTrans(Style::ColorPencil),
            Params::SelfieAnime {
                mask: AnimeMask::new(2).ok(),
            },
            Params::Inpainting(Cow::Owned(vec![Rect::new(0, 0, 1, 1)])),
            Params::Denoise(Strength::new(7).unwrap()),
            Params::CustomizeStylization(CustomStyle::Preset(StyleId::new(3).unwrap())),
            Params::CustomizeStylization(CustomStyle::Image(Cow::Borrowed(b"img"))),
        ];
        for params in samples {
            let row = spec(params.operation());
            for (name, value) in params.values().into_iter().flatten() {
                let kind = row.param(name).map(|p| p.kind);
                let agrees = matches!(
                    (value, kind),
                    (ParamValue::Word(w), Some(ParamKind::Choice { values, .. })) if values.contains(&w)
                ) || matches!(
                    (value, kind),
                    (ParamValue::Integer(n), Some(ParamKind::Integer { min, max, .. })) if (min..=max).contains(&n)
                ) || matches!(
                    (value, kind),
                    (ParamValue::Rectangles(_), Some(ParamKind::Rectangles))
                        | (ParamValue::Image(_), Some(ParamKind::Image(_)))
                );
                assert!(agrees, "{name} of {}: {value:?} vs {kind:?}", row.operation);
            }
        }
    }

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
        }
        assert_eq!(Operation::Denoise.limits().max_base64_len, 3 * MIB);
        assert_eq!(Operation::StyleTrans.limits().max_base64_len, 10 * MIB);
    }
}
