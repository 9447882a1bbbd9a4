//! Custom stylisation: thirty presets built from the style-transfer building blocks, or
//! the palette and texture statistics of a style image.

use image::RgbImage;

/// Preset `id` (0–29, checked by the caller).
// Placeholder until the presets land (issue 16): returns the input unchanged.
pub(crate) fn preset(img: &RgbImage, _id: u8) -> RgbImage {
    img.clone()
}

/// The look of `style` transferred onto `img`.
// Placeholder until the transfer lands (issue 16): returns the input unchanged.
pub(crate) fn transfer(img: &RgbImage, _style: &RgbImage) -> RgbImage {
    img.clone()
}
