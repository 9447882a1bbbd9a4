//! Document de-shading: flattens uneven illumination and shadows on photographed pages.

use image::RgbImage;

/// The page with shading removed.
// Placeholder until the algorithm lands (issue 15): returns the input unchanged.
pub(crate) fn repair(img: &RgbImage) -> RgbImage {
    img.clone()
}
