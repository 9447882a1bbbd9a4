//! Local image engine: the four operations of Baidu's image-process API computed on the
//! CPU, in pure Rust. It backs the emulator and the `bdip` command's offline mode.
//!
//! ```
//! use baidu_imageprocess_engine::{Engine, Operation};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let photo = image::RgbImage::from_pixel(320, 240, image::Rgb([120, 130, 140]));
//! let mut png = std::io::Cursor::new(Vec::new());
//! photo.write_to(&mut png, image::ImageFormat::Png)?;
//!
//! let engine = Engine::new();
//! let result = engine.process_bytes(Operation::Dehaze, png.get_ref())?; // PNG in, PNG out
//! assert_eq!(image::load_from_memory(&result)?.width(), 320);
//! # Ok(()) }
//! ```
//!
//! Output format follows the input: JPEG (quality 92), PNG (8-bit; alpha kept) or BMP
//! (24-bit, or 32-bit with alpha). Greyscale inputs stay greyscale except for colourize.
#![deny(missing_docs)]
#![warn(clippy::unwrap_used, clippy::expect_used)]

use std::fmt;

use image::{GrayImage, RgbImage, imageops::FilterType};

mod codec;
mod color;
#[doc(hidden)]
pub mod colourize;
mod contrast;
mod dehaze;
#[doc(hidden)]
pub mod enhance;
mod model_file;
#[doc(hidden)]
pub mod planes;

pub use codec::{MAX_PIXELS, MAX_SIDE};

/// One of the four operations the engine computes.
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
}

impl Operation {
    /// All four, in the API's order.
    pub const ALL: [Operation; 4] = [Self::Enhance, Self::Dehaze, Self::Contrast, Self::Colourize];
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Enhance => "enhance",
            Self::Dehaze => "dehaze",
            Self::Contrast => "contrast",
            Self::Colourize => "colourize",
        })
    }
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

    /// Decodes `input` (JPEG, PNG or BMP), applies `op`, and encodes the result in the
    /// input's format.
    pub fn process_bytes(&self, op: Operation, input: &[u8]) -> Result<Vec<u8>, EngineError> {
        let decoded = codec::decode(input)?;
        let (rgb, alpha) = match op {
            Operation::Enhance => {
                let alpha = decoded.alpha.map(|a| {
                    image::imageops::resize(
                        &a,
                        a.width() * 2,
                        a.height() * 2,
                        FilterType::CatmullRom,
                    )
                });
                (self.enhance(&decoded.rgb), alpha)
            }
            Operation::Dehaze => (self.dehaze(&decoded.rgb), decoded.alpha),
            Operation::Contrast => (self.contrast(&decoded.rgb), decoded.alpha),
            Operation::Colourize => {
                let grey = image::DynamicImage::ImageRgb8(decoded.rgb).to_luma8();
                let coloured = self.colourize(&grey);
                return codec::encode(coloured, decoded.alpha.as_ref(), decoded.format, false);
            }
        };
        codec::encode(rgb, alpha.as_ref(), decoded.format, decoded.grey)
    }

    /// 2x upscale.
    pub fn enhance(&self, img: &RgbImage) -> RgbImage {
        enhance::upscale_2x(img)
    }

    /// Haze removal; a haze-free photo comes back unchanged.
    pub fn dehaze(&self, img: &RgbImage) -> RgbImage {
        dehaze::dehaze(img)
    }

    /// Contrast enhancement.
    pub fn contrast(&self, img: &RgbImage) -> RgbImage {
        contrast::contrast(img)
    }

    /// Colour from luminance.
    pub fn colourize(&self, img: &GrayImage) -> RgbImage {
        colourize::colourize(img)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

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
            let out = image::load_from_memory(&engine.process_bytes(op, &png).unwrap()).unwrap();
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
            let out = engine.process_bytes(Operation::Contrast, &bytes).unwrap();
            assert_eq!(image::guess_format(&out).unwrap(), format);
        }
        let grey = image::DynamicImage::ImageLuma16(image::ImageBuffer::from_fn(64, 64, |x, _| {
            image::Luma([x as u16 * 1000])
        }));
        let out = engine
            .process_bytes(
                Operation::Dehaze,
                &encode_as(&grey, image::ImageFormat::Png),
            )
            .unwrap();
        assert!(!image::load_from_memory(&out).unwrap().color().has_color());
    }

    #[test]
    fn bad_inputs_are_errors() {
        let engine = Engine::new();
        assert!(engine.process_bytes(Operation::Dehaze, b"").is_err());
        assert!(
            engine
                .process_bytes(Operation::Dehaze, b"GIF89a....")
                .is_err()
        );
        assert!(
            engine
                .process_bytes(Operation::Dehaze, b"\x89PNG\r\n\x1a\n\0\0")
                .is_err()
        );
        let mut huge = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
        huge.extend_from_slice(&100_000u32.to_be_bytes());
        huge.extend_from_slice(&100_000u32.to_be_bytes());
        huge.extend_from_slice(&[8, 2, 0, 0, 0, 0, 0, 0, 0]);
        assert!(engine.process_bytes(Operation::Dehaze, &huge).is_err());
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
                let out = engine.process_bytes(op, &png);
                prop_assert!(out.is_ok(), "{op}: {out:?}");
            }
        }
    }
}
