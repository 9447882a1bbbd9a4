//! Direct entry points of the restoration operations on decoded images, for the quality
//! and benchmark xtasks (the public way in is [`crate::Engine::process`]).

use baidu_imageprocess_protocol::Rect;
use image::RgbImage;

/// Denoise with strength 0–200 (values above 200 are treated as 200).
pub fn denoise(img: &RgbImage, strength: u8) -> RgbImage {
    crate::ops::denoise::denoise(img, strength.min(200))
}

/// Definition enhance.
pub fn definition(img: &RgbImage) -> RgbImage {
    crate::ops::image_definition_enhance::sharpen(img)
}

/// Colour enhance.
pub fn colour_enhance(img: &RgbImage) -> RgbImage {
    crate::ops::color_enhance::enhance(img)
}

/// Stretch restore (the output's dimensions change).
pub fn stretch_restore(img: &RgbImage) -> RgbImage {
    crate::ops::stretch_restore::restore(img)
}

/// Inpainting; rectangles not inside the image are an error.
pub fn inpaint(img: &RgbImage, rects: &[Rect]) -> Result<RgbImage, crate::EngineError> {
    crate::check_rects(rects, img.width(), img.height())?;
    Ok(crate::ops::inpainting::inpaint(img, rects))
}

/// Document de-shading.
pub fn doc_repair(img: &RgbImage) -> RgbImage {
    crate::ops::doc_repair::repair(img)
}

/// Moiré removal.
pub fn demoire(img: &RgbImage) -> RgbImage {
    crate::ops::remove_moire::remove(img)
}

/// Training of the definition-enhance filters (for `cargo xtask train-definition`).
pub mod definition_training {
    pub use crate::ops::image_definition_enhance::training::Accumulator;
    pub use crate::ops::image_definition_enhance::{luma, model_bytes, model_status};
}
