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
        || (vec![0f32; w], vec![0f32; 3 * w]),
        |(pred, spread), (y, row)| {
            let rows: [&[f32]; SIDE] = std::array::from_fn(|r| &pad[(y + r) * pw..][..pw]);
            let weights = &by_lane[(y % 8) * TAPS..][..TAPS];
            let luma = &luma.data[y * w..][..w];
            pulp::Arch::new().dispatch(DeblockRow {
                rows: &rows,
                weights,
                luma,
                pred,
                spread,
                out: row,
            });
        },
    );
    RgbImage::from_raw(w as u32, h as u32, out).unwrap_or_else(|| src.clone())
}

/// One row of [`deblock`], as pulp's unit of dispatch (compiled for each instruction
/// set, AVX2 where available): the prediction of every pixel from the seven padded
/// `rows` around it, each pixel's sum running over the taps in order as a plain dot
/// product would, then the correction added to its three channels.
struct DeblockRow<'a> {
    rows: &'a [&'a [f32]; SIDE],
    weights: &'a [[f32; 8]],
    luma: &'a [f32],
    pred: &'a mut [f32],
    spread: &'a mut [f32],
    out: &'a mut [u8],
}

impl pulp::WithSimd for DeblockRow<'_> {
    type Output = ();

    #[allow(
        clippy::inline_always,
        reason = "the loops must be inlined into pulp's per-instruction-set function"
    )]
    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, simd: S) {
        let Self {
            rows,
            weights,
            luma,
            pred,
            spread,
            out,
        } = self;
        let w = luma.len();
        // Eight pixels from a block edge per vector, their filters in lanes; with other
        // vector widths (or none), pixel by pixel.
        let full = if S::F32_LANES == 8 { w / 8 * 8 } else { 0 };
        for x0 in (0..full).step_by(8) {
            let mut acc = simd.splat_f32s(0.0);
            for (row, k) in rows.iter().zip(weights.chunks_exact(SIDE)) {
                let row = &row[x0..x0 + SIDE + 7];
                for (c, k) in k.iter().enumerate() {
                    let v = S::as_simd_f32s(&row[c..c + 8]).0[0];
                    let k = S::as_simd_f32s(k).0[0];
                    acc = simd.add_f32s(acc, simd.mul_f32s(v, k));
                }
            }
            S::as_mut_simd_f32s(&mut pred[x0..x0 + 8]).0[0] = acc;
        }
        for (x, p) in pred.iter_mut().enumerate().take(w).skip(full) {
            let mut sum = 0f32;
            for (row, k) in rows.iter().zip(weights.chunks_exact(SIDE)) {
                for (&v, k) in row[x..x + SIDE].iter().zip(k) {
                    sum += v * k[x % 8];
                }
            }
            *p = sum;
        }
        correct(pred, luma, spread, out);
    }
}

/// Adds each pixel's luma correction (its prediction `pred` minus its `luma`) to its
/// three channels in `out`.
#[allow(
    clippy::inline_always,
    reason = "inlined into pulp's per-instruction-set function, so the loops are compiled for AVX2 where available"
)]
#[inline(always)]
fn correct(pred: &[f32], luma: &[f32], spread: &mut [f32], out: &mut [u8]) {
    // The corrections spread over the three channels, then one flat loop (it vectorises).
    let spread = &mut spread[..out.len()];
    for (s, (&p, &l)) in spread.chunks_exact_mut(3).zip(pred.iter().zip(luma)) {
        let d = (p - l) * 255.0;
        s[0] = d;
        s[1] = d;
        s[2] = d;
    }
    for (v, &d) in out.iter_mut().zip(spread.iter()) {
        *v = round_to_byte(f32::from(*v) + d);
    }
}

/// `v.round().clamp(0.0, 255.0) as u8` (halves away from zero), without `roundf`, which
/// the compiler calls as a function on x86, and without branches, so loops over it
/// vectorise.
#[inline]
fn round_to_byte(v: f32) -> u8 {
    // `v - t` is exact; above 2^23 `v` is an integer and the fraction zero.
    let t = v.trunc();
    let fraction = v - t;
    let r = if fraction >= 0.5 {
        t + 1.0
    } else if fraction <= -0.5 {
        t - 1.0
    } else {
        t
    };
    super::byte_of_integer(r.clamp(0.0, 255.0))
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
    fn deblocking_is_the_filters_dot_products_exactly() {
        // The vectorised rows (eight grid columns per vector) and the per-pixel tail
        // must give what each pixel's own filter gives, summed tap by tap.
        let mut rng = fastrand::Rng::with_seed(3);
        let filters: Vec<f32> = (0..POSITIONS * TAPS)
            .map(|_| rng.f32() * 0.06 - 0.01)
            .collect();
        let img = RgbImage::from_fn(29, 13, |x, y| {
            image::Rgb([(x * 9 + y) as u8, (y * 17) as u8, ((x * y) % 251) as u8])
        });
        let ours = deblock(&img, &filters);
        let luma = luma_plane(&img);
        let (pad, pw) = padded(&luma);
        for y in 0..13 {
            for x in 0..29 {
                let f = &filters[position(x, y) * TAPS..][..TAPS];
                let mut pred = 0f32;
                for r in 0..SIDE {
                    for c in 0..SIDE {
                        pred += pad[(y + r) * pw + x + c] * f[r * SIDE + c];
                    }
                }
                let d = (pred - luma.data[y * 29 + x]) * 255.0;
                let src = img.get_pixel(x as u32, y as u32).0;
                let expected = src.map(|v| (f32::from(v) + d).round().clamp(0.0, 255.0) as u8);
                assert_eq!(ours.get_pixel(x as u32, y as u32).0, expected, "({x}, {y})");
            }
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
