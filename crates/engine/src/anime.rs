//! Selfie anime: smooth regions, clean outlines and flat bright shading, with one of
//! eight optional procedural overlays.

use image::RgbImage;

/// The anime rendering; `mask` (1–8, checked by the caller) adds that overlay.
// Placeholder until the renderer lands (issue 16): returns the input unchanged.
pub(crate) fn selfie_anime(img: &RgbImage, _mask: Option<u8>) -> RgbImage {
    img.clone()
}
