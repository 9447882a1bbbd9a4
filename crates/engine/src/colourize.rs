//! Black-and-white to colour.
//!
//! Fallback until the learned model lands: a neutral grey output (no chroma).

use image::{GrayImage, RgbImage};

/// Predicts a colour image from luminance `src`.
pub(crate) fn colourize(src: &GrayImage) -> RgbImage {
    RgbImage::from_fn(src.width(), src.height(), |x, y| {
        let l = src.get_pixel(x, y).0[0];
        image::Rgb([l, l, l])
    })
}
