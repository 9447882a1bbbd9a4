//! The fifteen operations as the emulator serves them: path, body kind, image limits and
//! parameters, and the decoding of a request's fields into an engine job.
//!
//! The seed's four take their limits from the protocol crate's table; the other eleven
//! follow `DESIGN.md` section 3. (When the protocol crate's operation table covers all
//! fifteen, [`Endpoint`] becomes a lookup into it and this module keeps only the
//! server-side decoding.)

use std::borrow::Cow;

use baidu_imageprocess_engine::{self as engine, Rect, Style};
use baidu_imageprocess_protocol::{self as protocol, ErrorCode, LimitViolation};

/// A refusal: the error code and the message the reply carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refusal {
    pub(crate) code: ErrorCode,
    pub(crate) message: Cow<'static, str>,
}

/// Baidu's general code for a parameter with an invalid value.
pub(crate) const INVALID_PARAM: ErrorCode = ErrorCode(216_100);
/// Baidu's general code for a missing required parameter.
pub(crate) const MISSING_PARAM: ErrorCode = ErrorCode(216_101);

impl Refusal {
    pub(crate) fn new(code: ErrorCode, message: impl Into<Cow<'static, str>>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    pub(crate) fn invalid(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(INVALID_PARAM, message)
    }

    pub(crate) fn missing(name: &str) -> Self {
        Self::new(MISSING_PARAM, format!("param[{name}] is required"))
    }

    /// The spec's message for `code`, when there is nothing more specific to say.
    pub(crate) fn plain(code: ErrorCode) -> Self {
        Self::new(code, code.message().unwrap_or("error"))
    }
}

impl From<&LimitViolation> for Refusal {
    fn from(violation: &LimitViolation) -> Self {
        Self::new(violation.code(), violation.to_string())
    }
}

/// How the request body is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodyKind {
    /// `application/x-www-form-urlencoded`.
    Form,
    /// A JSON object (`inpainting`).
    Json,
}

/// The image limits of one operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ImageLimits {
    /// Largest base64 text of the image.
    pub(crate) max_base64: usize,
    pub(crate) min_side: u32,
    pub(crate) max_side: u32,
    /// Largest `long / short`.
    pub(crate) max_aspect: Option<u32>,
    /// Largest `width × height`.
    pub(crate) max_pixels: Option<u64>,
}

const MB: usize = 1024 * 1024;

/// The limits shared by the seven operations of Baidu's "image effects" family.
const EFFECTS: ImageLimits = ImageLimits {
    max_base64: 10 * MB,
    min_side: 10,
    max_side: 5000,
    max_aspect: Some(4),
    max_pixels: None,
};

/// One operation's parameters, as DESIGN.md section 3 lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Params {
    None,
    /// `option`: one of the nine styles, required.
    StyleOption,
    /// `type` (`anime` | `anime_mask`) and `mask_id` 1–8.
    Anime,
    /// `rectangle`: a JSON array of `{left, top, width, height}`, required.
    Rectangles,
    /// `option`: integer 0–200, required.
    Strength,
    /// `style_id` 0–29 or `style` (a base64 image); `style` wins.
    CustomStyle,
}

/// One operation as served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Endpoint {
    /// The last path segment, e.g. `style_trans`.
    pub(crate) wire: &'static str,
    /// The protocol crate's operation, for the seed's four.
    pub(crate) seed: Option<protocol::Operation>,
    pub(crate) engine: engine::Operation,
    pub(crate) body: BodyKind,
    pub(crate) limits: ImageLimits,
    pub(crate) params: Params,
    /// Accepts `pdf_file` (remove_moire).
    pub(crate) pdf: bool,
}

const fn seed_limits(op: protocol::Operation) -> ImageLimits {
    let l = op.limits();
    ImageLimits {
        max_base64: l.max_base64_len,
        min_side: l.min_side,
        max_side: l.max_side,
        max_aspect: l.max_aspect,
        max_pixels: l.max_pixels,
    }
}

const fn seed(op: protocol::Operation, engine: engine::Operation) -> Endpoint {
    Endpoint {
        wire: op.name(),
        seed: Some(op),
        engine,
        body: BodyKind::Form,
        limits: seed_limits(op),
        params: Params::None,
        pdf: false,
    }
}

const fn effect(wire: &'static str, engine: engine::Operation, params: Params) -> Endpoint {
    Endpoint {
        wire,
        seed: None,
        engine,
        body: BodyKind::Form,
        limits: EFFECTS,
        params,
        pdf: false,
    }
}

const fn sized(
    wire: &'static str,
    engine: engine::Operation,
    params: Params,
    max_base64: usize,
    sides: (u32, u32),
) -> Endpoint {
    Endpoint {
        wire,
        seed: None,
        engine,
        body: BodyKind::Form,
        limits: ImageLimits {
            max_base64,
            min_side: sides.0,
            max_side: sides.1,
            max_aspect: None,
            max_pixels: None,
        },
        params,
        pdf: false,
    }
}

use engine::Operation as E;
use protocol::Operation as P;

/// Every operation served, in the order of DESIGN.md.
pub(crate) const ENDPOINTS: [Endpoint; 15] = [
    seed(P::ImageQualityEnhance, E::Enhance),
    seed(P::Dehaze, E::Dehaze),
    seed(P::ContrastEnhance, E::Contrast),
    seed(P::Colourize, E::Colourize),
    effect("stretch_restore", E::StretchRestore, Params::None),
    effect("image_definition_enhance", E::Definition, Params::None),
    effect("color_enhance", E::ColourEnhance, Params::None),
    effect("style_trans", E::Style, Params::StyleOption),
    effect("selfie_anime", E::SelfieAnime, Params::Anime),
    Endpoint {
        body: BodyKind::Json,
        ..effect("inpainting", E::Inpaint, Params::Rectangles)
    },
    effect("sky_seg", E::SkySeg, Params::None),
    Endpoint {
        pdf: true,
        ..sized("remove_moire", E::Demoire, Params::None, 4 * MB, (15, 4096))
    },
    sized("doc_repair", E::DocRepair, Params::None, 4 * MB, (50, 4096)),
    sized("denoise", E::Denoise, Params::Strength, 3 * MB, (50, 1999)),
    sized(
        "customize_stylization",
        E::Stylize,
        Params::CustomStyle,
        4 * MB,
        (50, 4096),
    ),
];

/// The base64 cap of `customize_stylization`'s `style` image.
pub(crate) const MAX_STYLE_BASE64: usize = 4 * MB;

/// The limits of `customize_stylization`'s `style` image.
pub(crate) const STYLE_LIMITS: ImageLimits = ImageLimits {
    max_base64: MAX_STYLE_BASE64,
    min_side: 50,
    max_side: 4096,
    max_aspect: None,
    max_pixels: None,
};

/// The largest body any operation accepts.
pub(crate) const LARGEST_BODY: usize = {
    let mut largest = 0;
    let mut i = 0;
    while i < ENDPOINTS.len() {
        let body = ENDPOINTS[i].max_body();
        if body > largest {
            largest = body;
        }
        i += 1;
    }
    largest
};

/// Room for every field but the images (names, `url`, small parameters, rectangles).
pub(crate) const FIELDS_OVERHEAD: usize = 64 * 1024;

impl Endpoint {
    /// The operation served at `path` (also under the spec's `image-classify` typo).
    pub(crate) fn from_path(path: &str) -> Option<&'static Self> {
        let name = path
            .strip_prefix("/rest/2.0/image-process/v1/")
            .or_else(|| path.strip_prefix("/rest/2.0/image-classify/v1/"))?;
        ENDPOINTS.iter().find(|e| e.wire == name)
    }

    /// Largest sum of decoded field values a request may carry.
    pub(crate) const fn max_fields(&self) -> usize {
        let style = if matches!(self.params, Params::CustomStyle) {
            MAX_STYLE_BASE64
        } else {
            0
        };
        self.limits.max_base64 + style + FIELDS_OVERHEAD
    }

    /// Largest body accepted on the wire: every character of the fields may arrive
    /// percent-encoded (three bytes each), e.g. a white BMP whose base64 is all `/`.
    pub(crate) const fn max_body(&self) -> usize {
        match self.body {
            BodyKind::Form => 3 * self.max_fields(),
            // JSON may escape `/` as `\/`.
            BodyKind::Json => 2 * self.max_fields(),
        }
    }

    /// Checks decoded image bytes against the limits, from the header alone.
    pub(crate) fn check_image(&self, bytes: &[u8]) -> Result<(), Refusal> {
        if let Some(op) = self.seed {
            return protocol::validate(op, bytes)
                .map(|_| ())
                .map_err(|v| Refusal::from(&v));
        }
        let info = protocol::sniff(bytes).map_err(|v| Refusal::from(&v))?;
        check_size(
            self.wire,
            &self.limits,
            bytes.len(),
            info.width,
            info.height,
        )
    }
}

/// Checks an image of `len` bytes and `width × height` against `limits`.
pub(crate) fn check_size(
    what: &str,
    limits: &ImageLimits,
    len: usize,
    width: u32,
    height: u32,
) -> Result<(), Refusal> {
    let size = |message: String| Err(Refusal::new(ErrorCode::IMAGE_SIZE_ERROR, message));
    let b64 = len.div_ceil(3) * 4;
    if b64 > limits.max_base64 {
        return size(format!(
            "the image is {b64} bytes as base64, over the {} byte limit of {what}",
            limits.max_base64
        ));
    }
    let (short, long) = (width.min(height), width.max(height));
    if let Some(max) = limits.max_pixels
        && u64::from(width) * u64::from(height) > max
    {
        return size(format!(
            "{width}×{height} is over the {max} px limit of {what}"
        ));
    }
    if long > limits.max_side {
        return size(format!(
            "longest side {long} px exceeds {} px for {what}",
            limits.max_side
        ));
    }
    if short < limits.min_side {
        return size(format!(
            "shortest side {short} px is under the {} px minimum of {what}",
            limits.min_side
        ));
    }
    if let Some(max) = limits.max_aspect
        && u64::from(long) > u64::from(short) * u64::from(max)
    {
        return size(format!(
            "{width}×{height} is wider than the {max}:1 aspect limit of {what}"
        ));
    }
    Ok(())
}

/// The custom style, owned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CustomStyle {
    Preset(u8),
    Image(Vec<u8>),
}

/// An operation's parameters, decoded and checked (except against the image's size,
/// which the engine checks for rectangles).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Job {
    Plain(engine::Request<'static>),
    Style(Style),
    Anime { mask: Option<u8> },
    Inpaint(Vec<Rect>),
    Denoise { strength: u8 },
    Stylize(CustomStyle),
}

impl Job {
    /// The engine's request for this job.
    pub(crate) fn request(&self) -> engine::Request<'_> {
        match self {
            Self::Plain(request) => *request,
            Self::Style(style) => engine::Request::Style(*style),
            Self::Anime { mask } => engine::Request::SelfieAnime { mask: *mask },
            Self::Inpaint(rects) => engine::Request::Inpaint(rects),
            Self::Denoise { strength } => engine::Request::Denoise {
                strength: *strength,
            },
            Self::Stylize(CustomStyle::Preset(id)) => {
                engine::Request::Stylize(engine::StyleSource::Preset(*id))
            }
            Self::Stylize(CustomStyle::Image(bytes)) => {
                engine::Request::Stylize(engine::StyleSource::Image(bytes))
            }
        }
    }
}

/// The request of an operation without parameters; `None` for the others.
fn plain_request(op: engine::Operation) -> Option<engine::Request<'static>> {
    Some(match op {
        E::Enhance => engine::Request::Enhance,
        E::Dehaze => engine::Request::Dehaze,
        E::Contrast => engine::Request::Contrast,
        E::Colourize => engine::Request::Colourize,
        E::StretchRestore => engine::Request::StretchRestore,
        E::Definition => engine::Request::Definition,
        E::ColourEnhance => engine::Request::ColourEnhance,
        E::SkySeg => engine::Request::SkySeg,
        E::Demoire => engine::Request::Demoire,
        E::DocRepair => engine::Request::DocRepair,
        _ => return None,
    })
}

/// The API's name of each style, in `Style::ALL` order.
pub(crate) const STYLE_NAMES: [&str; 9] = [
    "cartoon",
    "pencil",
    "color_pencil",
    "warm",
    "wave",
    "lavender",
    "mononoke",
    "scream",
    "gothic",
];

/// Read access to a request's parameters, whatever the body kind.
pub(crate) trait Fields {
    /// The text of a scalar parameter (a JSON number is given as its decimal text).
    fn text(&self, name: &str) -> Option<Cow<'_, str>>;
    /// The `rectangle` parameter, parsed; `None` if absent.
    fn rectangles(&self) -> Option<Result<Vec<Rect>, Refusal>>;
}

/// Decodes the parameters of `endpoint` from `fields`; `style_image` decodes the base64
/// of a custom style image (with its limits).
pub(crate) fn decode_job(
    endpoint: &Endpoint,
    fields: &dyn Fields,
    style_image: impl FnOnce(&[u8]) -> Result<Vec<u8>, Refusal>,
) -> Result<Job, Refusal> {
    let present = |name: &str| fields.text(name).filter(|v| !v.trim().is_empty());
    Ok(match endpoint.params {
        Params::None => Job::Plain(
            plain_request(endpoint.engine)
                .ok_or_else(|| Refusal::plain(ErrorCode::INTERNAL_ERROR))?,
        ),
        Params::StyleOption => {
            let value = present("option").ok_or_else(|| Refusal::missing("option"))?;
            let value = value.trim();
            let index = STYLE_NAMES
                .iter()
                .position(|n| *n == value)
                .ok_or_else(|| {
                    Refusal::invalid(format!(
                        "param[option] `{value}` is not one of {}",
                        STYLE_NAMES.join(", ")
                    ))
                })?;
            Job::Style(Style::ALL.get(index).copied().unwrap_or(Style::Cartoon))
        }
        Params::Anime => {
            let kind = present("type");
            match kind.as_deref().map(str::trim) {
                None | Some("anime") => Job::Anime { mask: None },
                Some("anime_mask") => {
                    let mask = match present("mask_id") {
                        None => None,
                        Some(v) => Some(integer_in(&v, "mask_id", 1, 8)? as u8),
                    };
                    Job::Anime { mask }
                }
                Some(other) => {
                    return Err(Refusal::invalid(format!(
                        "param[type] `{other}` is not one of anime, anime_mask"
                    )));
                }
            }
        }
        Params::Rectangles => {
            let rects = fields
                .rectangles()
                .ok_or_else(|| Refusal::missing("rectangle"))??;
            if rects.is_empty() {
                return Err(Refusal::invalid("param[rectangle] holds no rectangle"));
            }
            Job::Inpaint(rects)
        }
        Params::Strength => {
            let value = present("option").ok_or_else(|| Refusal::missing("option"))?;
            Job::Denoise {
                strength: integer_in(&value, "option", 0, 200)? as u8,
            }
        }
        Params::CustomStyle => {
            if let Some(style) = present("style") {
                Job::Stylize(CustomStyle::Image(style_image(style.trim().as_bytes())?))
            } else if let Some(id) = present("style_id") {
                Job::Stylize(CustomStyle::Preset(
                    integer_in(&id, "style_id", 0, 29)? as u8
                ))
            } else {
                return Err(Refusal::new(
                    MISSING_PARAM,
                    "param[style_id] or param[style] is required",
                ));
            }
        }
    })
}

fn integer_in(text: &str, name: &str, min: i64, max: i64) -> Result<i64, Refusal> {
    text.trim()
        .parse::<i64>()
        .ok()
        .filter(|v| (min..=max).contains(v))
        .ok_or_else(|| {
            Refusal::invalid(format!(
                "param[{name}] `{}` is not an integer from {min} to {max}",
                text.trim()
            ))
        })
}

/// Parses inpainting rectangles from JSON: an array of objects with non-negative integer
/// `left`, `top`, `width`, `height`.
pub(crate) fn rectangles_from_json(value: &serde_json::Value) -> Result<Vec<Rect>, Refusal> {
    let shape =
        || Refusal::invalid("param[rectangle] must be an array of {left, top, width, height}");
    let items = value.as_array().ok_or_else(shape)?;
    items
        .iter()
        .map(|item| {
            let field = |name: &str| {
                item.get(name)
                    .and_then(|v| {
                        v.as_u64()
                            .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
                    })
                    .and_then(|v| u32::try_from(v).ok())
                    .ok_or_else(|| {
                        Refusal::invalid(format!(
                            "param[rectangle] needs a non-negative integer `{name}` in every rectangle"
                        ))
                    })
            };
            Ok(Rect {
                left: field("left")?,
                top: field("top")?,
                width: field("width")?,
                height: field("height")?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Map(Vec<(&'static str, &'static str)>);

    impl Fields for Map {
        fn text(&self, name: &str) -> Option<Cow<'_, str>> {
            self.0
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| Cow::Borrowed(*v))
        }
        fn rectangles(&self) -> Option<Result<Vec<Rect>, Refusal>> {
            let text = self.text("rectangle")?;
            Some(
                serde_json::from_str(&text)
                    .map_err(|_| Refusal::invalid("not JSON"))
                    .and_then(|v| rectangles_from_json(&v)),
            )
        }
    }

    fn job(wire: &str, fields: &[(&'static str, &'static str)]) -> Result<Job, Refusal> {
        let endpoint = ENDPOINTS.iter().find(|e| e.wire == wire).unwrap();
        decode_job(endpoint, &Map(fields.to_vec()), |b| Ok(b.to_vec()))
    }

    #[test]
    fn paths_are_unique_and_found() {
        for e in &ENDPOINTS {
            let found = Endpoint::from_path(&format!("/rest/2.0/image-process/v1/{}", e.wire));
            assert_eq!(found, Some(e));
        }
        assert_eq!(Endpoint::from_path("/rest/2.0/image-process/v1/nope"), None);
        let engines: std::collections::HashSet<_> = ENDPOINTS.iter().map(|e| e.engine).collect();
        assert_eq!(engines.len(), 15);
    }

    #[test]
    fn parameters_decode_or_name_the_problem() {
        assert_eq!(
            job("style_trans", &[("option", "gothic")]),
            Ok(Job::Style(Style::Gothic))
        );
        assert_eq!(job("style_trans", &[]).unwrap_err().code, MISSING_PARAM);
        let bad = job("style_trans", &[("option", "sepia")]).unwrap_err();
        assert_eq!(bad.code, INVALID_PARAM);
        assert!(bad.message.contains("color_pencil"), "{}", bad.message);
        assert_eq!(
            job("selfie_anime", &[("mask_id", "3")]),
            Ok(Job::Anime { mask: None })
        );
        assert_eq!(
            job("selfie_anime", &[("type", "anime_mask"), ("mask_id", "8")]),
            Ok(Job::Anime { mask: Some(8) })
        );
        for bad in ["0", "9", "x", "-1"] {
            let fields = [("type", "anime_mask"), ("mask_id", bad)];
            assert_eq!(
                job("selfie_anime", &fields).unwrap_err().code,
                INVALID_PARAM
            );
        }
        assert_eq!(
            job("denoise", &[("option", "200")]),
            Ok(Job::Denoise { strength: 200 })
        );
        assert_eq!(
            job("denoise", &[("option", "201")]).unwrap_err().code,
            INVALID_PARAM
        );
        assert_eq!(job("denoise", &[]).unwrap_err().code, MISSING_PARAM);
        assert_eq!(
            job("customize_stylization", &[("style_id", "29")]),
            Ok(Job::Stylize(CustomStyle::Preset(29)))
        );
        assert_eq!(
            job(
                "customize_stylization",
                &[("style_id", "3"), ("style", "abc")]
            ),
            Ok(Job::Stylize(CustomStyle::Image(b"abc".to_vec())))
        );
        assert_eq!(
            job("customize_stylization", &[("style_id", "30")])
                .unwrap_err()
                .code,
            INVALID_PARAM
        );
        assert_eq!(
            job("customize_stylization", &[]).unwrap_err().code,
            MISSING_PARAM
        );
        assert_eq!(
            job(
                "inpainting",
                &[(
                    "rectangle",
                    r#"[{"left":1,"top":2,"width":3,"height":"4"}]"#
                )]
            ),
            Ok(Job::Inpaint(vec![Rect {
                left: 1,
                top: 2,
                width: 3,
                height: 4
            }]))
        );
        for bad in [
            "[]",
            r#"[{"left":1}]"#,
            r#"{"left":1}"#,
            r#"[{"left":-1,"top":0,"width":1,"height":1}]"#,
        ] {
            assert_eq!(
                job("inpainting", &[("rectangle", bad)]).unwrap_err().code,
                INVALID_PARAM,
                "{bad}"
            );
        }
        assert_eq!(job("inpainting", &[]).unwrap_err().code, MISSING_PARAM);
    }

    #[test]
    fn limits_of_the_new_operations() {
        let denoise = Endpoint::from_path("/rest/2.0/image-process/v1/denoise").unwrap();
        assert!(check_size("denoise", &denoise.limits, 1000, 1999, 50).is_ok());
        assert!(check_size("denoise", &denoise.limits, 1000, 2000, 50).is_err());
        assert!(check_size("denoise", &denoise.limits, 1000, 100, 49).is_err());
        assert!(check_size("denoise", &denoise.limits, 3 * MB / 4 * 3 + 3, 100, 100).is_err());
        let anime = Endpoint::from_path("/rest/2.0/image-process/v1/selfie_anime").unwrap();
        assert!(check_size("x", &anime.limits, 100, 400, 100).is_ok());
        assert!(check_size("x", &anime.limits, 100, 401, 100).is_err());
        // A white 1000×1000 BMP, every base64 character escaped, fits the seed's body cap.
        let dehaze = Endpoint::from_path("/rest/2.0/image-process/v1/dehaze").unwrap();
        assert!(dehaze.max_body() >= 3 * 4_000_072 + 6);
    }
}
