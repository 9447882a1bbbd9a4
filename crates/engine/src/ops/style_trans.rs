//! Style transfer: the photo in one of the nine styles of [`crate::filters::styles`].

use image::RgbImage;

use baidu_imageprocess_protocol::Style;

use crate::filters::{npr, styles};

/// The image rendered in `style`.
pub(crate) fn transfer(img: &RgbImage, style: Style) -> RgbImage {
    if img.width() == 0 || img.height() == 0 {
        return img.clone();
    }
    npr::render_capped(img, |img| {
        npr::image_of(&styles::render(&npr::planes_of(img), style))
    })
}
