//! Learned deblocking of a JPEG-compressed low-resolution input, before the compressed
//! bank upscales it. A 7 × 7 luma filter per position in the 8 × 8 block grid (64
//! filters) predicts the uncompressed luma; the correction is added to all three channels.
//! Knowing where the block edges are is what lets a linear filter smooth the steps the
//! encoder made without blurring real edges elsewhere, which the bank's hash (blind to
//! the grid) cannot.

use image::RgbImage;
use rayon::prelude::*;

use super::kernel::padded;
use super::{SIDE, TAPS, luma_plane};

/// Block-grid positions, one filter each.
pub const POSITIONS: usize = 64;

/// The position class of a low-resolution pixel.
pub(crate) fn position(x: usize, y: usize) -> usize {
    (y % 8) * 8 + x % 8
}

/// `src` with its luma replaced by the filters' prediction (`filters` is
/// `POSITIONS × TAPS`), chroma untouched.
pub fn deblock(src: &RgbImage, filters: &[f32]) -> RgbImage {
    let (w, h) = (src.width() as usize, src.height() as usize);
    if w == 0 || h == 0 || filters.len() != POSITIONS * TAPS {
        return src.clone();
    }
    let luma = luma_plane(src);
    let (pad, pw) = padded(&luma);
    let mut out = src.as_raw().clone();
    out.par_chunks_mut(w * 3).enumerate().for_each(|(y, row)| {
        let rows: [&[f32]; SIDE] = std::array::from_fn(|r| &pad[(y + r) * pw..][..pw]);
        for (x, px) in row.chunks_exact_mut(3).enumerate() {
            let f = &filters[position(x, y) * TAPS..][..TAPS];
            let mut pred = 0f32;
            for (r, fr) in rows.iter().zip(f.chunks_exact(SIDE)) {
                for (v, k) in r[x..x + SIDE].iter().zip(fr) {
                    pred += v * k;
                }
            }
            let d = (pred - luma.data[y * w + x]) * 255.0;
            for v in px.iter_mut() {
                *v = (f32::from(*v) + d).round().clamp(0.0, 255.0) as u8;
            }
        }
    });
    RgbImage::from_raw(w as u32, h as u32, out).unwrap_or_else(|| src.clone())
}

/// The identity filters (no deblocking).
pub fn identity() -> Vec<f32> {
    let mut f = vec![0f32; POSITIONS * TAPS];
    for p in 0..POSITIONS {
        f[p * TAPS + TAPS / 2] = 1.0;
    }
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_filters_change_nothing() {
        let img = RgbImage::from_fn(19, 11, |x, y| {
            image::Rgb([(x * 13) as u8, (y * 20) as u8, 90])
        });
        assert_eq!(deblock(&img, &identity()), img);
    }
}
