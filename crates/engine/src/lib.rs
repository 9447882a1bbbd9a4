//! Local image engine: the four operations of Baidu's image-process API computed on the CPU.
//!
//! (Work in progress: the algorithms land in the engine issues.)
#![deny(missing_docs)]

use std::fmt;

mod colourize;
mod enhance;

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
    /// The bytes are not an image the engine can decode.
    #[error("cannot decode image: {0}")]
    Decode(String),
    /// The result could not be encoded.
    #[error("cannot encode image: {0}")]
    Encode(String),
}

/// The engine. Cheap to clone; share one per process.
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
        let img = image::load_from_memory(input)
            .map_err(|e| EngineError::Decode(e.to_string()))?
            .to_rgb8();
        let out = match op {
            Operation::Enhance => enhance::upscale_2x(&img),
            Operation::Colourize => colourize::colourize(&image::DynamicImage::ImageRgb8(img).to_luma8()),
            Operation::Dehaze | Operation::Contrast => img,
        };
        let mut buf = std::io::Cursor::new(Vec::new());
        let format = image::guess_format(input).map_err(|e| EngineError::Decode(e.to_string()))?;
        out.write_to(&mut buf, format).map_err(|e| EngineError::Encode(e.to_string()))?;
        Ok(buf.into_inner())
    }
}
