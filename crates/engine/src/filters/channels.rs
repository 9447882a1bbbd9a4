//! Conversions between 8-bit RGB images and planar f32 channels in 0..1.

use image::RgbImage;
use rayon::prelude::*;

use crate::filters::planes::Plane;

/// Rec. 601 luma weights.
pub(crate) const LUMA: [f32; 3] = [0.299, 0.587, 0.114];

/// R, G and B planes in 0..1.
pub(crate) fn to_planes(img: &RgbImage) -> [Plane; 3] {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let raw = img.as_raw();
    std::array::from_fn(|c| {
        Plane::from_fn(w, h, |x, y| f32::from(raw[(y * w + x) * 3 + c]) / 255.0)
    })
}

/// Back to 8-bit RGB, rounding and clamping.
pub(crate) fn from_planes(planes: &[Plane; 3]) -> RgbImage {
    let (w, h) = (planes[0].width, planes[0].height);
    let mut out = vec![0u8; w * h * 3];
    out.par_chunks_mut(3).enumerate().for_each(|(i, px)| {
        for (c, v) in px.iter_mut().enumerate() {
            *v = (planes[c].data[i] * 255.0 + 0.5).clamp(0.0, 255.0) as u8;
        }
    });
    RgbImage::from_raw(w as u32, h as u32, out).unwrap_or_default()
}

/// Luma in 0..1.
pub(crate) fn luma(planes: &[Plane; 3]) -> Plane {
    let [r, g, b] = planes;
    let rg = r.zip(g, |r, g| LUMA[0] * r + LUMA[1] * g);
    rg.zip(b, |rg, b| rg + LUMA[2] * b)
}

/// `v / 255` for every byte: the same values as the division, without its cost.
pub(crate) static UNIT: [f32; 256] = {
    let mut t = [0f32; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = i as f32 / 255.0;
        i += 1;
    }
    t
};

/// Luma (BT.601) of an 8-bit RGB image, in 0..1.
pub fn luma_plane(img: &RgbImage) -> Plane {
    // The same arithmetic as `color::luma` of `color::to_planes`, without the planes.
    let raw = img.as_raw();
    let [wr, wg, wb] = LUMA;
    Plane::from_fn(img.width() as usize, img.height() as usize, |x, y| {
        let i = (y * img.width() as usize + x) * 3;
        let [r, g, b] = [raw[i], raw[i + 1], raw[i + 2]].map(|v| UNIT[usize::from(v)]);
        (wr * r + wg * g) + wb * b
    })
}
