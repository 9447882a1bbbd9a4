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
    // Per grid row and tap, the weights of the eight grid columns side by side: a row's
    // pixels then take their filters in lanes, eight at a time from a block edge.
    let mut by_lane = vec![[0f32; 8]; 8 * TAPS];
    for (p, f) in filters.chunks_exact(TAPS).enumerate() {
        for (t, &k) in f.iter().enumerate() {
            by_lane[(p / 8) * TAPS + t][p % 8] = k;
        }
    }
    let mut out = src.as_raw().clone();
    out.par_chunks_mut(w * 3).enumerate().for_each_init(
        || vec![0f32; w],
        |pred, (y, row)| {
            let rows: [&[f32]; SIDE] = std::array::from_fn(|r| &pad[(y + r) * pw..][..pw]);
            let weights = &by_lane[(y % 8) * TAPS..][..TAPS];
            let luma = &luma.data[y * w..][..w];
            pulp::Arch::new().dispatch(DeblockRow {
                rows: &rows,
                weights,
                luma,
                pred,
                out: row,
            });
        },
    );
    RgbImage::from_raw(w as u32, h as u32, out).unwrap_or_else(|| src.clone())
}

/// [`deblock_row`] as pulp's unit of dispatch: compiled for each instruction set (AVX2
/// where available), picked at run time.
struct DeblockRow<'a> {
    rows: &'a [&'a [f32]; SIDE],
    weights: &'a [[f32; 8]],
    luma: &'a [f32],
    pred: &'a mut [f32],
    out: &'a mut [u8],
}

impl pulp::WithSimd for DeblockRow<'_> {
    type Output = ();

    #[allow(
        clippy::inline_always,
        reason = "the loops must be inlined into pulp's per-instruction-set function"
    )]
    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _simd: S) {
        deblock_row(self.rows, self.weights, self.luma, self.pred, self.out);
    }
}

/// One row: the prediction of every pixel from the seven padded `rows` around it (each
/// pixel's sum runs over the taps in order, as a plain dot product would), then the
/// correction added to its three channels.
#[allow(
    clippy::inline_always,
    reason = "inlined into pulp's per-instruction-set function, so the loops are compiled for AVX2 where available"
)]
#[inline(always)]
fn deblock_row(
    rows: &[&[f32]; SIDE],
    weights: &[[f32; 8]],
    luma: &[f32],
    pred: &mut [f32],
    out: &mut [u8],
) {
    let w = luma.len();
    pred.fill(0.0);
    for (t, k) in weights.iter().enumerate().take(TAPS) {
        let src = &rows[t / SIDE][t % SIDE..][..w];
        let mut p8 = pred.chunks_exact_mut(8);
        let mut s8 = src.chunks_exact(8);
        for (p, s) in (&mut p8).zip(&mut s8) {
            for l in 0..8 {
                p[l] += s[l] * k[l];
            }
        }
        for (l, (p, s)) in p8
            .into_remainder()
            .iter_mut()
            .zip(s8.remainder())
            .enumerate()
        {
            *p += s * k[l];
        }
    }
    for ((px, &p), &l) in out.chunks_exact_mut(3).zip(pred.iter()).zip(luma) {
        let d = (p - l) * 255.0;
        for v in px.iter_mut() {
            *v = round_to_byte(f32::from(*v) + d);
        }
    }
}

/// `v.round().clamp(0.0, 255.0) as u8` (halves away from zero), without `roundf`, which
/// the compiler calls as a function on x86.
#[inline]
fn round_to_byte(v: f32) -> u8 {
    // Truncation and the fraction are exact below 2^24; above, `v` is an integer and
    // the saturating conversion clamps it as the rounding would.
    let t = v as i32;
    let fraction = v - t as f32;
    let r = if fraction >= 0.5 {
        t.saturating_add(1)
    } else if fraction <= -0.5 {
        t.saturating_sub(1)
    } else {
        t
    };
    r.clamp(0, 255) as u8
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
    fn rounding_to_a_byte_matches_round_and_clamp() {
        let mut values = vec![f32::NAN, f32::INFINITY, -f32::INFINITY, 3e9, -3e9, 2.5e7];
        for i in -3000..3000 {
            let v = i as f32 * 0.125;
            values.extend([v, v.next_up(), v.next_down()]);
        }
        values.extend([
            0.5f32.next_down(),
            254.5f32.next_down(),
            255.5f32.next_down(),
        ]);
        for v in values {
            assert_eq!(round_to_byte(v), v.round().clamp(0.0, 255.0) as u8, "{v}");
        }
    }

    #[test]
    fn identity_filters_change_nothing() {
        let img = RgbImage::from_fn(19, 11, |x, y| {
            image::Rgb([(x * 13) as u8, (y * 20) as u8, 90])
        });
        assert_eq!(deblock(&img, &identity()), img);
    }
}
