//! 2x upscale ("image quality enhance").
//!
//! Fallback until the learned model lands: plain bicubic (Catmull-Rom) 2x.

use image::{RgbImage, imageops::FilterType};

/// Upscales `src` by exactly 2x in each direction.
pub(crate) fn upscale_2x(src: &RgbImage) -> RgbImage {
    image::imageops::resize(
        src,
        src.width() * 2,
        src.height() * 2,
        FilterType::CatmullRom,
    )
}
