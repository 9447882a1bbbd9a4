//! Local image engine: the fifteen operations of Baidu's image-process API computed on
//! the CPU, in pure Rust. It backs the emulator and the `bdip` command's offline mode.
//!
//! ```
//! use baidu_imageprocess_engine::Engine;
//! use baidu_imageprocess_protocol::Params;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let photo = image::RgbImage::from_pixel(320, 240, image::Rgb([120, 130, 140]));
//! let mut png = std::io::Cursor::new(Vec::new());
//! photo.write_to(&mut png, image::ImageFormat::Png)?;
//!
//! let engine = Engine::new();
//! let result = engine.process(&Params::Dehaze, png.get_ref())?; // PNG in, PNG out
//! assert_eq!(image::load_from_memory(&result.image)?.width(), 320);
//! # Ok(()) }
//! ```
//!
//! Output format follows the input: JPEG (quality 92), PNG (8-bit; alpha kept) or BMP
//! (24-bit, or 32-bit with alpha). Greyscale inputs stay greyscale except for colourize.
#![deny(missing_docs)]
#![warn(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use baidu_imageprocess_protocol::{Params, Rect};
use image::{RgbImage, imageops::FilterType};

// Decoding inputs and encoding results.
mod codec;
// Building blocks the operations share.
mod filters;
mod model_file;
// The operations, one module each, named by their wire names, and their dispatch table
// (public only to xtask, through the `training` feature).
#[cfg(feature = "training")]
#[doc(hidden)]
#[allow(rustdoc::private_intra_doc_links)] // written for the engine's own readers
pub mod ops;
#[cfg(not(feature = "training"))]
mod ops;

#[cfg(feature = "training")]
pub mod training;

pub use codec::jpeg_quality;
pub use codec::{MAX_PIXELS, MAX_SIDE};
pub use ops::PRESETS;

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

    /// Decodes `input` (JPEG, PNG or BMP), runs the operation of `params`, and encodes the result in
    /// the input's format (sky segmentation: PNG masks). Alpha is kept (resized with the
    /// image where the operation changes its size); greyscale inputs stay greyscale
    /// unless the operation adds colour.
    pub fn process(&self, params: &Params<'_>, input: &[u8]) -> Result<Output, EngineError> {
        self.process_timed(params, input).map(|(output, _)| output)
    }

    /// [`Engine::process`], also saying how long decoding, the operation and encoding
    /// took (for profiles of whole pipelines, such as `bdip`'s `BDIP_PROFILE`).
    pub fn process_timed(
        &self,
        params: &Params<'_>,
        input: &[u8],
    ) -> Result<(Output, StageTimes), EngineError> {
        let started = Instant::now();
        let decoded = codec::decode(input)?;
        let decoded_at = Instant::now();
        let output = Self::apply(params, &decoded)?;
        let applied_at = Instant::now();
        let times = StageTimes {
            decode: decoded_at.saturating_duration_since(started),
            operation: applied_at.saturating_duration_since(decoded_at),
            encode: applied_at.elapsed(),
        };
        Ok((output, times))
    }

    /// Runs `params` on a decoded input: its entry of the dispatch table.
    fn apply(params: &Params<'_>, decoded: &codec::Decoded) -> Result<Output, EngineError> {
        let entry = ops::entry(params.operation())?;
        match (entry.run)(decoded, params)? {
            ops::Produced::Image(rgb) => {
                image_output(rgb, decoded, decoded.grey && entry.grey_stays_grey)
            }
            ops::Produced::Encoded(output) => Ok(output),
        }
    }
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
        if !r.fits_in(width, height) {
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

    use baidu_imageprocess_protocol::{
        AnimeMask, CustomStyle, Operation, Strength, Style, StyleId,
    };

    /// The parameters of each operation, typical ones where it takes some.
    fn sample(op: Operation) -> Params<'static> {
        match op {
            Operation::StyleTrans => Params::StyleTrans(Style::Cartoon),
            Operation::SelfieAnime => Params::SelfieAnime {
                mask: AnimeMask::new(3).ok(),
            },
            // Fits any image, however small.
            Operation::Inpainting => Params::Inpainting(vec![Rect::new(0, 0, 1, 1)].into()),
            Operation::Denoise => Params::Denoise(Strength::new(60).unwrap()),
            Operation::CustomizeStylization => {
                Params::CustomizeStylization(CustomStyle::Preset(StyleId::new(7).unwrap()))
            }
            other => Params::defaults(other).unwrap(),
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
            let scale = if op == Operation::ImageQualityEnhance {
                2
            } else {
                1
            };
            assert_eq!(
                (out.width(), out.height()),
                (80 * scale, 70 * scale),
                "{op}"
            );
        }
        let rgb = image::DynamicImage::ImageRgb8(rgba.to_rgb8());
        for format in [image::ImageFormat::Jpeg, image::ImageFormat::Bmp] {
            let bytes = encode_as(&rgb, format);
            let out = run(&engine, Operation::ContrastEnhance, &bytes).unwrap();
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
        assert!(engine.process(&Params::Dehaze, b"GIF89a....").is_err());
        assert!(
            engine
                .process(&Params::Dehaze, b"\x89PNG\r\n\x1a\n\0\0")
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
