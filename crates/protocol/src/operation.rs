//! The four operations of the API and their image limits, as data.

use std::fmt;
use std::str::FromStr;

/// One of the API's operations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Operation {
    /// "Lossless" 2x upscale (`image_quality_enhance`).
    ImageQualityEnhance,
    /// Haze removal (`dehaze`).
    Dehaze,
    /// Contrast enhancement (`contrast_enhance`).
    ContrastEnhance,
    /// Black-and-white to colour (`colourize`); needs the account's permission.
    Colourize,
}

/// The image limits of one operation, from the spec's request-parameter tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Largest `width × height`, if the operation bounds the pixel count.
    pub max_pixels: Option<u64>,
    /// Smallest allowed shortest side, in pixels.
    pub min_side: u32,
    /// Largest allowed longest side, in pixels.
    pub max_side: u32,
    /// Largest allowed `longest / shortest` ratio, if bounded.
    pub max_aspect: Option<u32>,
    /// Largest base64 text of the image, in bytes.
    pub max_base64_len: usize,
}

/// The spec's size cap on the base64 text of any image: 4 MiB.
pub const MAX_BASE64_LEN: usize = 4 * 1024 * 1024;

impl Operation {
    /// Every operation, in the spec's order.
    pub const ALL: [Operation; 4] = [
        Operation::ImageQualityEnhance,
        Operation::Dehaze,
        Operation::ContrastEnhance,
        Operation::Colourize,
    ];

    /// The path segment and wire name, e.g. `image_quality_enhance`.
    pub const fn name(self) -> &'static str {
        match self {
            Self::ImageQualityEnhance => "image_quality_enhance",
            Self::Dehaze => "dehaze",
            Self::ContrastEnhance => "contrast_enhance",
            Self::Colourize => "colourize",
        }
    }

    /// The request path, e.g. `/rest/2.0/image-process/v1/dehaze`.
    pub const fn path(self) -> &'static str {
        match self {
            Self::ImageQualityEnhance => "/rest/2.0/image-process/v1/image_quality_enhance",
            Self::Dehaze => "/rest/2.0/image-process/v1/dehaze",
            Self::ContrastEnhance => "/rest/2.0/image-process/v1/contrast_enhance",
            Self::Colourize => "/rest/2.0/image-process/v1/colourize",
        }
    }

    /// The operation served at `path`, if any (also accepts the spec's `image-classify`
    /// typo in its curl examples).
    pub fn from_path(path: &str) -> Option<Self> {
        let name = path
            .strip_prefix("/rest/2.0/image-process/v1/")
            .or_else(|| path.strip_prefix("/rest/2.0/image-classify/v1/"))?;
        Self::ALL.into_iter().find(|op| op.name() == name)
    }

    /// The operation's image limits.
    pub const fn limits(self) -> Limits {
        match self {
            Self::ImageQualityEnhance => Limits {
                max_pixels: Some(800 * 800),
                min_side: 1,
                max_side: u32::MAX,
                max_aspect: None,
                max_base64_len: MAX_BASE64_LEN,
            },
            Self::Dehaze => Limits {
                max_pixels: None,
                min_side: 200,
                max_side: 4096,
                max_aspect: Some(3),
                max_base64_len: MAX_BASE64_LEN,
            },
            Self::ContrastEnhance => Limits {
                max_pixels: None,
                min_side: 64,
                max_side: 4096,
                max_aspect: Some(3),
                max_base64_len: MAX_BASE64_LEN,
            },
            Self::Colourize => Limits {
                max_pixels: None,
                min_side: 64,
                max_side: 800,
                max_aspect: Some(3),
                max_base64_len: MAX_BASE64_LEN,
            },
        }
    }

    /// Output size for an input of `width × height` (enhance doubles both sides).
    pub const fn output_dimensions(self, width: u32, height: u32) -> (u32, u32) {
        match self {
            Self::ImageQualityEnhance => (width.saturating_mul(2), height.saturating_mul(2)),
            _ => (width, height),
        }
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The text did not name an operation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown operation `{0}`: expected enhance, dehaze, contrast or colourize")]
pub struct UnknownOperation(pub String);

impl FromStr for Operation {
    type Err = UnknownOperation;

    /// Accepts the wire names and the CLI's short names (`enhance`, `contrast`, and the
    /// American `colorize`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "image_quality_enhance" | "enhance" | "image-quality-enhance" => {
                Ok(Self::ImageQualityEnhance)
            }
            "dehaze" => Ok(Self::Dehaze),
            "contrast_enhance" | "contrast" | "contrast-enhance" => Ok(Self::ContrastEnhance),
            "colourize" | "colorize" => Ok(Self::Colourize),
            _ => Err(UnknownOperation(s.to_owned())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_paths_and_parsing_agree() {
        for op in Operation::ALL {
            assert_eq!(Operation::from_path(op.path()), Some(op));
            assert_eq!(op.name().parse::<Operation>(), Ok(op));
            assert!(op.path().ends_with(op.name()));
        }
        assert_eq!(
            Operation::from_path("/rest/2.0/image-classify/v1/dehaze"),
            Some(Operation::Dehaze)
        );
        assert_eq!(
            Operation::from_path("/rest/2.0/image-process/v1/nope"),
            None
        );
        assert!("sharpen".parse::<Operation>().is_err());
    }
}
