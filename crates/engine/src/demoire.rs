//! Moiré removal: suppresses the interference patterns of photographed screens and
//! halftone prints.

use image::RgbImage;

/// The image with moiré suppressed.
// Placeholder until the algorithm lands (issue 15): returns the input unchanged.
pub(crate) fn remove(img: &RgbImage) -> RgbImage {
    img.clone()
}
