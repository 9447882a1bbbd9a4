//! Sky segmentation: a 0/255 sky mask and a 0–255 sky probability map.

use image::{GrayImage, RgbImage};

/// (mask, probability), both the input's size.
// Placeholder until the segmenter lands (issue 16): no sky anywhere.
pub(crate) fn segment(img: &RgbImage) -> (GrayImage, GrayImage) {
    let empty = GrayImage::new(img.width(), img.height());
    (empty.clone(), empty)
}
