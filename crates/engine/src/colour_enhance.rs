//! Colour enhance: restores faded saturation without pushing vivid photos into clipping.

use image::RgbImage;

/// The image with its colour restored.
// Placeholder until the algorithm lands (issue 15): returns the input unchanged.
pub(crate) fn enhance(img: &RgbImage) -> RgbImage {
    img.clone()
}
