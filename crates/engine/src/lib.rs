//! Local image engine: the fifteen operations of Baidu's image-process API computed on
//! the CPU, in pure Rust. It backs the emulator and the `bdip` command's offline mode.
//!
//! ```
//! use baidu_imageprocess_engine::{Engine, Request};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let photo = image::RgbImage::from_pixel(320, 240, image::Rgb([120, 130, 140]));
//! let mut png = std::io::Cursor::new(Vec::new());
//! photo.write_to(&mut png, image::ImageFormat::Png)?;
//!
//! let engine = Engine::new();
//! let result = engine.process(&Request::Dehaze, png.get_ref())?; // PNG in, PNG out
//! assert_eq!(image::load_from_memory(&result.image)?.width(), 320);
//! # Ok(()) }
//! ```
//!
//! Output format follows the input: JPEG (quality 92), PNG (8-bit; alpha kept) or BMP
//! (24-bit, or 32-bit with alpha). Greyscale inputs stay greyscale except for colourize.
#![deny(missing_docs)]
#![warn(clippy::unwrap_used, clippy::expect_used)]

use std::fmt;
use std::time::{Duration, Instant};

use image::{GrayImage, RgbImage, imageops::FilterType};

// Decoding inputs and encoding results.
mod codec;
// Building blocks the operations share.
mod filters;
mod model_file;
// The operations, one module each, named by their wire names.
mod ops;

// Direct entry points of the restoration operations on decoded images, for the xtasks.
#[doc(hidden)]
pub mod direct;

// The paths the xtasks (training, quality, benchmarks) use.
pub use codec::jpeg_quality;
#[doc(hidden)]
pub use direct as restoration;
#[doc(hidden)]
pub use filters::planes;
#[doc(hidden)]
pub use ops::colourize;
#[doc(hidden)]
pub use ops::contrast_enhance as contrast;
#[doc(hidden)]
pub use ops::image_quality_enhance as enhance;

#[doc(hidden)]
pub use codec::encode_jpeg_rgb;
pub use codec::{MAX_PIXELS, MAX_SIDE};
pub use ops::customize_stylization::PRESETS;

/// One of the fifteen operations the engine computes, without its parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Operation {
    /// 2x upscale ("image quality enhance").
    Enhance,
    /// Haze removal.
    Dehaze,
    /// Contrast enhancement.
    Contrast,
    /// Black-and-white to colour.
    Colourize,
    /// Undo a horizontal or vertical stretch (changes the output's aspect).
    StretchRestore,
    /// Sharpen a soft, compressed photo ("image definition enhance").
    Definition,
    /// Restore faded colour saturation.
    ColourEnhance,
    /// One of nine painterly styles.
    Style,
    /// Anime look for portraits, optionally with an overlay.
    SelfieAnime,
    /// Fill rectangles from their surroundings.
    Inpaint,
    /// Sky mask and sky probability map.
    SkySeg,
    /// Remove moiré patterns from photographed screens and prints.
    Demoire,
    /// Remove shading and shadows from photographed documents.
    DocRepair,
    /// Remove noise with a strength of 0–200.
    Denoise,
    /// One of thirty style presets, or the look of a given style image.
    Stylize,
}

impl Operation {
    /// All fifteen, the seed's four first.
    pub const ALL: [Operation; 15] = [
        Self::Enhance,
        Self::Dehaze,
        Self::Contrast,
        Self::Colourize,
        Self::StretchRestore,
        Self::Definition,
        Self::ColourEnhance,
        Self::Style,
        Self::SelfieAnime,
        Self::Inpaint,
        Self::SkySeg,
        Self::Demoire,
        Self::DocRepair,
        Self::Denoise,
        Self::Stylize,
    ];

    /// The short name used in logs and file names, e.g. `dehaze`.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Enhance => "enhance",
            Self::Dehaze => "dehaze",
            Self::Contrast => "contrast",
            Self::Colourize => "colourize",
            Self::StretchRestore => "stretch-restore",
            Self::Definition => "definition",
            Self::ColourEnhance => "colour-enhance",
            Self::Style => "style",
            Self::SelfieAnime => "anime",
            Self::Inpaint => "inpaint",
            Self::SkySeg => "sky-seg",
            Self::Demoire => "demoire",
            Self::DocRepair => "doc-repair",
            Self::Denoise => "denoise",
            Self::Stylize => "stylize",
        }
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An operation with its parameters: what [`Engine::process`] is asked to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Request<'a> {
    /// 2x upscale.
    Enhance,
    /// Haze removal.
    Dehaze,
    /// Contrast enhancement.
    Contrast,
    /// Black-and-white to colour.
    Colourize,
    /// Undo a stretch.
    StretchRestore,
    /// Sharpen.
    Definition,
    /// Restore saturation.
    ColourEnhance,
    /// Style transfer in one of nine styles.
    Style(Style),
    /// Anime look; `mask` 1–8 adds that overlay.
    SelfieAnime {
        /// The overlay, 1–8, or none.
        mask: Option<u8>,
    },
    /// Fill these rectangles; every other pixel is left bit-identical.
    Inpaint(&'a [Rect]),
    /// Sky segmentation.
    SkySeg,
    /// Moiré removal.
    Demoire,
    /// Document de-shading.
    DocRepair,
    /// Denoise; `strength` 0–200 is tuned for Gaussian noise of σ ≈ strength / 4, and 0
    /// leaves the image untouched.
    Denoise {
        /// 0–200.
        strength: u8,
    },
    /// Custom stylisation.
    Stylize(StyleSource<'a>),
}

impl Request<'_> {
    /// The operation, without its parameters.
    pub const fn operation(&self) -> Operation {
        match self {
            Self::Enhance => Operation::Enhance,
            Self::Dehaze => Operation::Dehaze,
            Self::Contrast => Operation::Contrast,
            Self::Colourize => Operation::Colourize,
            Self::StretchRestore => Operation::StretchRestore,
            Self::Definition => Operation::Definition,
            Self::ColourEnhance => Operation::ColourEnhance,
            Self::Style(_) => Operation::Style,
            Self::SelfieAnime { .. } => Operation::SelfieAnime,
            Self::Inpaint(_) => Operation::Inpaint,
            Self::SkySeg => Operation::SkySeg,
            Self::Demoire => Operation::Demoire,
            Self::DocRepair => Operation::DocRepair,
            Self::Denoise { .. } => Operation::Denoise,
            Self::Stylize(_) => Operation::Stylize,
        }
    }
}

/// The nine styles of style transfer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Style {
    /// Flat colour regions with dark outlines.
    Cartoon,
    /// Grey pencil sketch on paper.
    Pencil,
    /// The pencil sketch tinted with the photo's colours.
    ColorPencil,
    /// A warm grade.
    Warm,
    /// The palette and strong lines of Hokusai's woodcut.
    Wave,
    /// A soft lavender grade.
    Lavender,
    /// Lush, saturated, painterly animation look.
    Mononoke,
    /// Munch's swirling orange-blue strokes.
    Scream,
    /// Dark, cold, high-contrast.
    Gothic,
}

impl Style {
    /// All nine, in the API's order.
    pub const ALL: [Style; 9] = [
        Self::Cartoon,
        Self::Pencil,
        Self::ColorPencil,
        Self::Warm,
        Self::Wave,
        Self::Lavender,
        Self::Mononoke,
        Self::Scream,
        Self::Gothic,
    ];
}

/// What custom stylisation copies the look of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum StyleSource<'a> {
    /// One of the thirty presets, 0–29.
    Preset(u8),
    /// An encoded style image (JPEG, PNG or BMP) whose palette and texture are transferred.
    Image(&'a [u8]),
}

/// A rectangle in pixels, its top-left corner at (`left`, `top`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Rect {
    /// Left edge.
    pub left: u32,
    /// Top edge.
    pub top: u32,
    /// Width.
    pub width: u32,
    /// Height.
    pub height: u32,
}

/// What [`Engine::process`] returns.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Output {
    /// The result image, in the input's format; for sky segmentation, the sky mask
    /// (0/255) as PNG.
    pub image: Vec<u8>,
    /// Sky segmentation only: the sky probability (0–255) as PNG.
    pub scoremap: Option<Vec<u8>>,
}

/// Why the engine could not process an image.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EngineError {
    /// The bytes are not a decodable image.
    #[error("cannot decode the image: {0}")]
    Decode(String),
    /// A format the engine does not handle.
    #[error("unsupported image format: {0}")]
    Unsupported(String),
    /// The header announces more pixels than the engine will decode.
    #[error(
        "{width}×{height} is too large to decode (at most {MAX_SIDE} px a side and {MAX_PIXELS} px)"
    )]
    TooLarge {
        /// Width from the header.
        width: u32,
        /// Height from the header.
        height: u32,
    },
    /// A parameter does not fit the image (an inpainting rectangle outside it, a
    /// preset id out of range).
    #[error("invalid parameter: {0}")]
    InvalidParameter(String),
    /// The result could not be encoded.
    #[error("cannot encode the result: {0}")]
    Encode(String),
}

/// The engine. Stateless and cheap to clone; share one per process.
#[derive(Debug, Clone, Default)]
pub struct Engine {}

impl Engine {
    /// Creates an engine.
    pub fn new() -> Self {
        Self {}
    }

    /// Decodes `input` (JPEG, PNG or BMP), applies `request`, and encodes the result in
    /// the input's format (sky segmentation: PNG masks). Alpha is kept (resized with the
    /// image where the operation changes its size); greyscale inputs stay greyscale
    /// unless the operation adds colour.
    pub fn process(&self, request: &Request<'_>, input: &[u8]) -> Result<Output, EngineError> {
        self.process_timed(request, input).map(|(output, _)| output)
    }

    /// [`Engine::process`], also saying how long decoding, the operation and encoding
    /// took (for profiles of whole pipelines, such as `bdip`'s `BDIP_PROFILE`).
    pub fn process_timed(
        &self,
        request: &Request<'_>,
        input: &[u8],
    ) -> Result<(Output, StageTimes), EngineError> {
        let started = Instant::now();
        let decoded = codec::decode(input)?;
        let decoded_at = Instant::now();
        let result = self.apply(request, &decoded)?;
        let applied_at = Instant::now();
        let output = match result {
            Applied::Image { rgb, grey } => image_output(rgb, &decoded, grey)?,
            Applied::Encoded(output) => output,
        };
        let times = StageTimes {
            decode: decoded_at.saturating_duration_since(started),
            operation: applied_at.saturating_duration_since(decoded_at),
            encode: applied_at.elapsed(),
        };
        Ok((output, times))
    }

    /// Runs `request` on a decoded input.
    fn apply(
        &self,
        request: &Request<'_>,
        decoded: &codec::Decoded,
    ) -> Result<Applied, EngineError> {
        let rgb = &decoded.rgb;
        let coloured = |rgb| Ok(Applied::Image { rgb, grey: false });
        let result = match *request {
            Request::Enhance => match decoded.jpeg_quality {
                Some(quality) => self.enhance_jpeg(rgb, quality),
                None => self.enhance(rgb),
            },
            Request::Dehaze => self.dehaze(rgb),
            Request::Contrast => self.contrast(rgb),
            Request::Colourize => return coloured(self.colourize(&codec::luma(rgb))),
            Request::StretchRestore => ops::stretch_restore::restore(rgb),
            Request::Definition => ops::image_definition_enhance::sharpen(rgb),
            Request::ColourEnhance => ops::color_enhance::enhance(rgb),
            Request::Style(style) => return coloured(ops::style_trans::transfer(rgb, style)),
            Request::SelfieAnime { mask } => {
                if mask.is_some_and(|m| !(1..=8).contains(&m)) {
                    return Err(EngineError::InvalidParameter(format!(
                        "anime mask {} is not one of 1-8",
                        mask.unwrap_or_default()
                    )));
                }
                return coloured(ops::selfie_anime::selfie_anime(rgb, mask));
            }
            Request::Inpaint(rects) => {
                check_rects(rects, rgb.width(), rgb.height())?;
                ops::inpainting::inpaint(rgb, rects)
            }
            Request::SkySeg => {
                let (labelmap, scoremap) = ops::sky_seg::segment(rgb);
                return Ok(Applied::Encoded(Output {
                    image: codec::encode_grey_png(&labelmap)?,
                    scoremap: Some(codec::encode_grey_png(&scoremap)?),
                }));
            }
            Request::Demoire => ops::remove_moire::remove(rgb),
            Request::DocRepair => ops::doc_repair::repair(rgb),
            Request::Denoise { strength } => {
                if strength > 200 {
                    return Err(EngineError::InvalidParameter(format!(
                        "denoise strength {strength} is not in 0-200"
                    )));
                }
                ops::denoise::denoise(rgb, strength)
            }
            Request::Stylize(StyleSource::Preset(id)) => {
                if id > 29 {
                    return Err(EngineError::InvalidParameter(format!(
                        "style preset {id} is not in 0-29"
                    )));
                }
                return coloured(ops::customize_stylization::preset(rgb, id));
            }
            Request::Stylize(StyleSource::Image(style)) => {
                let style = codec::decode(style)?;
                return coloured(ops::customize_stylization::transfer(rgb, &style.rgb));
            }
        };
        Ok(Applied::Image {
            rgb: result,
            grey: decoded.grey,
        })
    }

    /// 2x upscale.
    pub fn enhance(&self, img: &RgbImage) -> RgbImage {
        ops::image_quality_enhance::upscale_2x(img)
    }

    /// 2x enhance of pixels decoded from a JPEG of libjpeg `quality` (as
    /// [`jpeg_quality::estimated_quality`] reads it from the file): the quality, not the
    /// look of the pixels, says whether the filters for compressed inputs apply.
    /// [`Engine::process`] does this for every JPEG input.
    pub fn enhance_jpeg(&self, img: &RgbImage, quality: u8) -> RgbImage {
        ops::image_quality_enhance::upscale_2x_in(
            img,
            Some(ops::image_quality_enhance::bank_for_jpeg(quality)),
        )
    }

    /// Haze removal; a haze-free photo comes back unchanged.
    pub fn dehaze(&self, img: &RgbImage) -> RgbImage {
        ops::dehaze::dehaze(img)
    }

    /// Contrast enhancement.
    pub fn contrast(&self, img: &RgbImage) -> RgbImage {
        ops::contrast_enhance::contrast(img)
    }

    /// Colour from luminance.
    pub fn colourize(&self, img: &GrayImage) -> RgbImage {
        ops::colourize::colourize(img)
    }
}

/// What an operation produced: an image still to encode like the input (greyscale when
/// `grey`), or the finished output (sky segmentation's masks).
enum Applied {
    Image { rgb: RgbImage, grey: bool },
    Encoded(Output),
}

/// How long each stage of [`Engine::process_timed`] took.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct StageTimes {
    /// Decoding the input (and applying its EXIF orientation).
    pub decode: Duration,
    /// The operation itself (for sky segmentation, encoding its masks too).
    pub operation: Duration,
    /// Encoding the result in the input's format.
    pub encode: Duration,
}

/// Encodes `rgb` like the input: same format, alpha resized to `rgb`'s size if the
/// operation changed it, greyscale when `grey`.
fn image_output(
    rgb: RgbImage,
    decoded: &codec::Decoded,
    grey: bool,
) -> Result<Output, EngineError> {
    let alpha = decoded.alpha.as_ref().map(|a| {
        if a.dimensions() == rgb.dimensions() {
            a.clone()
        } else {
            image::imageops::resize(a, rgb.width(), rgb.height(), FilterType::CatmullRom)
        }
    });
    Ok(Output {
        image: codec::encode(rgb, alpha.as_ref(), decoded.format, grey)?,
        scoremap: None,
    })
}

/// Every rectangle must be non-empty and lie inside the image.
fn check_rects(rects: &[Rect], width: u32, height: u32) -> Result<(), EngineError> {
    for r in rects {
        let inside = r.width > 0
            && r.height > 0
            && u64::from(r.left) + u64::from(r.width) <= u64::from(width)
            && u64::from(r.top) + u64::from(r.height) <= u64::from(height);
        if !inside {
            return Err(EngineError::InvalidParameter(format!(
                "rectangle {}x{} at ({}, {}) is not inside the {width}x{height} image",
                r.width, r.height, r.left, r.top
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A request of each operation, with typical parameters.
    fn sample(op: Operation) -> Request<'static> {
        // Fits any image, however small.
        const RECTS: &[Rect] = &[Rect {
            left: 0,
            top: 0,
            width: 1,
            height: 1,
        }];
        match op {
            Operation::Enhance => Request::Enhance,
            Operation::Dehaze => Request::Dehaze,
            Operation::Contrast => Request::Contrast,
            Operation::Colourize => Request::Colourize,
            Operation::StretchRestore => Request::StretchRestore,
            Operation::Definition => Request::Definition,
            Operation::ColourEnhance => Request::ColourEnhance,
            Operation::Style => Request::Style(Style::Cartoon),
            Operation::SelfieAnime => Request::SelfieAnime { mask: Some(3) },
            Operation::Inpaint => Request::Inpaint(RECTS),
            Operation::SkySeg => Request::SkySeg,
            Operation::Demoire => Request::Demoire,
            Operation::DocRepair => Request::DocRepair,
            Operation::Denoise => Request::Denoise { strength: 60 },
            Operation::Stylize => Request::Stylize(StyleSource::Preset(7)),
        }
    }

    fn run(engine: &Engine, op: Operation, input: &[u8]) -> Result<Vec<u8>, EngineError> {
        engine.process(&sample(op), input).map(|out| out.image)
    }

    fn encode_as(img: &image::DynamicImage, format: image::ImageFormat) -> Vec<u8> {
        let mut out = std::io::Cursor::new(Vec::new());
        img.write_to(&mut out, format).unwrap();
        out.into_inner()
    }

    #[test]
    fn formats_and_alpha_round_trip() {
        let engine = Engine::new();
        let rgba = image::DynamicImage::ImageRgba8(image::RgbaImage::from_fn(80, 70, |x, y| {
            image::Rgba([(x * 3) as u8, (y * 3) as u8, 90, (x + y) as u8])
        }));
        let png = encode_as(&rgba, image::ImageFormat::Png);
        for op in Operation::ALL {
            if matches!(op, Operation::SkySeg | Operation::StretchRestore) {
                continue; // masks have no alpha; stretch restore changes the aspect
            }
            let out = image::load_from_memory(&run(&engine, op, &png).unwrap()).unwrap();
            assert!(out.color().has_alpha(), "{op}");
            let scale = if op == Operation::Enhance { 2 } else { 1 };
            assert_eq!(
                (out.width(), out.height()),
                (80 * scale, 70 * scale),
                "{op}"
            );
        }
        let rgb = image::DynamicImage::ImageRgb8(rgba.to_rgb8());
        for format in [image::ImageFormat::Jpeg, image::ImageFormat::Bmp] {
            let bytes = encode_as(&rgb, format);
            let out = run(&engine, Operation::Contrast, &bytes).unwrap();
            assert_eq!(image::guess_format(&out).unwrap(), format);
        }
        let grey = image::DynamicImage::ImageLuma16(image::ImageBuffer::from_fn(64, 64, |x, _| {
            image::Luma([x as u16 * 1000])
        }));
        let out = run(
            &engine,
            Operation::Dehaze,
            &encode_as(&grey, image::ImageFormat::Png),
        )
        .unwrap();
        assert!(!image::load_from_memory(&out).unwrap().color().has_color());
    }

    #[test]
    fn bad_inputs_are_errors() {
        let engine = Engine::new();
        assert!(run(&engine, Operation::Dehaze, b"").is_err());
        assert!(engine.process(&Request::Dehaze, b"GIF89a....").is_err());
        assert!(
            engine
                .process(&Request::Dehaze, b"\x89PNG\r\n\x1a\n\0\0")
                .is_err()
        );
        let mut huge = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
        huge.extend_from_slice(&100_000u32.to_be_bytes());
        huge.extend_from_slice(&100_000u32.to_be_bytes());
        huge.extend_from_slice(&[8, 2, 0, 0, 0, 0, 0, 0, 0]);
        assert!(run(&engine, Operation::Dehaze, &huge).is_err());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]
        #[test]
        fn any_size_and_pixels_never_panic(w in 1u32..70, h in 1u32..70, seed in any::<u64>()) {
            let mut rng = seed;
            let img = RgbImage::from_fn(w, h, |_, _| {
                rng = rng.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
                let v = (rng >> 33) as u8;
                image::Rgb([v, v.wrapping_mul(3), v.wrapping_add(77)])
            });
            let engine = Engine::new();
            for op in Operation::ALL {
                let png = encode_as(&image::DynamicImage::ImageRgb8(img.clone()), image::ImageFormat::Png);
                let out = run(&engine, op, &png);
                prop_assert!(out.is_ok(), "{op}: {out:?}");
            }
        }
    }
}
