//! Denoising with the API's strength parameter: `strength` 0–200 is tuned for Gaussian
//! noise of σ ≈ strength / 4; 0 leaves the image untouched.

use image::RgbImage;

/// The denoised image; `strength` is 0–200 (checked by the caller).
// Placeholder until the algorithm lands (issue 15): returns the input unchanged.
pub(crate) fn denoise(img: &RgbImage, _strength: u8) -> RgbImage {
    img.clone()
}
