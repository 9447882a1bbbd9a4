//! Applying a bank: for each low-resolution pixel, four 7 × 7 dot products (one per output
//! phase) over its neighbourhood, giving the four output pixels' residuals over
//! Catmull-Rom.
//!
//! Layout for speed: the plane is padded (edges replicated) so every window is seven row
//! slices with no bounds checks, and each filter row is stored in eight lanes (the eighth
//! weight zero), so a window row is one 8-wide load and the dot product runs in SIMD
//! registers; the seven row loads are shared by the four phases.

use rayon::prelude::*;

use super::{BUCKETS, PHASES, RADIUS, SIDE, TAPS, bicubic_filter};
use crate::filters::planes::Plane;

/// Lanes of a stored filter row.
pub(crate) const LANES: usize = 8;

/// One bank's filters as residuals over Catmull-Rom, laid out for [`residual_row`]:
/// per bucket, per phase, seven rows of eight lanes.
#[derive(Debug, Clone)]
pub(crate) struct Bank {
    rows: Vec<[f32; LANES]>,
}

impl Bank {
    /// From `BUCKETS × PHASES × TAPS` full filters (missing ones act as bicubic).
    pub(crate) fn new(filters: &[f32]) -> Self {
        let priors: [[f32; TAPS]; PHASES] = std::array::from_fn(bicubic_filter);
        let mut rows = vec![[0f32; LANES]; BUCKETS * PHASES * SIDE];
        for (i, (filter, out)) in filters
            .chunks_exact(TAPS)
            .zip(rows.chunks_exact_mut(SIDE))
            .enumerate()
        {
            let prior = &priors[i % PHASES];
            for (r, lanes) in out.iter_mut().enumerate() {
                for (c, v) in lanes.iter_mut().take(SIDE).enumerate() {
                    *v = filter[r * SIDE + c] - prior[r * SIDE + c];
                }
            }
        }
        Self { rows }
    }
}

/// `luma` with `RADIUS` replicated pixels on every side plus the spare lane on the right;
/// returns the samples and the padded width.
pub(crate) fn padded(luma: &Plane) -> (Vec<f32>, usize) {
    let (w, h) = (luma.width, luma.height);
    let pw = w + 2 * RADIUS + (LANES - SIDE);
    let ph = h + 2 * RADIUS;
    let mut pad = vec![0f32; pw * ph];
    if w == 0 || h == 0 {
        return (pad, pw);
    }
    pad.par_chunks_mut(pw).enumerate().for_each(|(py, out)| {
        let y = py.saturating_sub(RADIUS).min(h - 1);
        let row = &luma.data[y * w..(y + 1) * w];
        out[RADIUS..RADIUS + w].copy_from_slice(row);
        out[..RADIUS].fill(row[0]);
        out[RADIUS + w..].fill(row[w - 1]);
    });
    (pad, pw)
}

/// The four phase sums of one bucket (`PHASES × SIDE` weight rows) over a window of
/// seven 8-lane rows. The accumulators stay in registers; the loops vectorise.
#[inline]
fn phase_sums(window: &[&[f32; LANES]; SIDE], weights: &[[f32; LANES]]) -> [f32; PHASES] {
    let mut sums = [0f32; PHASES];
    for (sum, filter) in sums.iter_mut().zip(weights.chunks_exact(SIDE)) {
        // One phase at a time keeps the accumulator in one register (no spills); the
        // window rows are reloaded from L1, which costs less than spilling.
        let mut a = [0f32; LANES];
        for (win, f) in window.iter().zip(filter) {
            for l in 0..LANES {
                a[l] += win[l] * f[l];
            }
        }
        *sum = ((a[0] + a[4]) + (a[1] + a[5])) + ((a[2] + a[6]) + (a[3] + a[7]));
    }
    sums
}

/// [`residual_row`] for one row, with the AVX2 kernel where the machine has it.
pub(crate) fn residual_row_fastest(
    pad: &[f32],
    pw: usize,
    y: usize,
    buckets: &[u16],
    bank: &Bank,
    out: &mut [f32],
) {
    #[cfg(target_arch = "x86_64")]
    if let Some(simd) = pulp::x86::V3::try_new() {
        return simd.vectorize(ResidualRowAvx2 {
            simd,
            pad,
            pw,
            y,
            buckets,
            bank,
            out,
        });
    }
    residual_row(pad, pw, y, buckets, bank, out);
}

/// [`residual_row`] with AVX2: one 8-lane register per window row and per phase, the
/// same products and sums in the same order (so the same results), and the four
/// phases' lanes reduced together by horizontal adds.
#[cfg(target_arch = "x86_64")]
struct ResidualRowAvx2<'a> {
    simd: pulp::x86::V3,
    pad: &'a [f32],
    pw: usize,
    y: usize,
    buckets: &'a [u16],
    bank: &'a Bank,
    out: &'a mut [f32],
}

#[cfg(target_arch = "x86_64")]
impl pulp::NullaryFnOnce for ResidualRowAvx2<'_> {
    type Output = ();

    #[allow(
        clippy::inline_always,
        reason = "the loop must be inlined into pulp's AVX2 function to be compiled for it"
    )]
    #[inline(always)]
    fn call(self) {
        use pulp::{cast, f32x4, f32x8};
        let Self {
            simd,
            pad,
            pw,
            y,
            buckets,
            bank,
            out,
        } = self;
        let w = buckets.len();
        let (top, bottom) = out.split_at_mut(2 * w);
        let mut rows = [&pad[..0]; SIDE];
        for (r, row) in rows.iter_mut().enumerate() {
            *row = &pad[(y + r) * pw..][..pw];
        }
        let per_bucket = PHASES * SIDE;
        for (x, (&b, (t, d))) in buckets
            .iter()
            .zip(top.chunks_exact_mut(2).zip(bottom.chunks_exact_mut(2)))
            .enumerate()
        {
            let b = usize::from(b).min(BUCKETS - 1);
            let weights = &bank.rows[b * per_bucket..][..per_bucket];
            let mut window = [simd.splat_f32x8(0.0); SIDE];
            for (win, row) in window.iter_mut().zip(&rows) {
                let lanes: [f32; LANES] = row[x..x + LANES].try_into().unwrap_or([0.0; LANES]);
                *win = cast(lanes);
            }
            // Lane sums of each phase, then (a0 + a4, a1 + a5, a2 + a6, a3 + a7).
            let mut halves = [simd.splat_f32x4(0.0); PHASES];
            for (half, filter) in halves.iter_mut().zip(weights.chunks_exact(SIDE)) {
                let mut a = simd.splat_f32x8(0.0);
                for (&win, &f) in window.iter().zip(filter) {
                    a = simd.add_f32x8(a, simd.mul_f32x8(win, cast::<[f32; LANES], f32x8>(f)));
                }
                let [lo, hi]: [f32x4; 2] = cast(a);
                *half = simd.add_f32x4(lo, hi);
            }
            // ((a0 + a4) + (a1 + a5)) + ((a2 + a6) + (a3 + a7)) of each phase.
            let sums = simd.horizontal_add_pack_f32x4(
                simd.horizontal_add_pack_f32x4(halves[0], halves[1]),
                simd.horizontal_add_pack_f32x4(halves[2], halves[3]),
            );
            let s: [f32; PHASES] = cast(sums);
            t.copy_from_slice(&s[..2]);
            d.copy_from_slice(&s[2..]);
        }
    }
}

/// The residuals over Catmull-Rom of the two output rows of low-resolution row `y`:
/// `out` is `2 × 2w` (top row, then bottom row). `pad`/`pw` come from [`padded`],
/// `buckets` is row `y`'s buckets.
pub(crate) fn residual_row(
    pad: &[f32],
    pw: usize,
    y: usize,
    buckets: &[u16],
    bank: &Bank,
    out: &mut [f32],
) {
    let w = buckets.len();
    let ow = 2 * w;
    let (top, bottom) = out.split_at_mut(ow);
    let rows: [&[f32]; SIDE] = std::array::from_fn(|r| &pad[(y + r) * pw..][..pw]);
    let per_bucket = PHASES * SIDE;
    for (x, (&b, (t, d))) in buckets
        .iter()
        .zip(top.chunks_exact_mut(2).zip(bottom.chunks_exact_mut(2)))
        .enumerate()
    {
        let b = usize::from(b).min(BUCKETS - 1);
        let weights = &bank.rows[b * per_bucket..(b + 1) * per_bucket];
        let mut window = [&[0f32; LANES]; SIDE];
        for (win, row) in window.iter_mut().zip(&rows) {
            *win = row[x..x + LANES].try_into().unwrap_or(&[0.0; LANES]);
        }
        let s = phase_sums(&window, weights);
        t[0] = s[0];
        t[1] = s[1];
        d[0] = s[2];
        d[1] = s[3];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fastest_residual_row_is_the_portable_one_exactly() {
        let mut rng = fastrand::Rng::with_seed(7);
        let filters: Vec<f32> = (0..BUCKETS * PHASES * TAPS)
            .map(|_| rng.f32() * 0.2 - 0.1)
            .collect();
        let bank = Bank::new(&filters);
        let (w, h) = (29, 5);
        let luma = Plane::from_fn(w, h, |x, y| ((x * 7 + y * 11) % 17) as f32 / 17.0);
        let (pad, pw) = padded(&luma);
        for y in 0..h {
            let buckets: Vec<u16> = (0..w).map(|_| rng.u16(..BUCKETS as u16)).collect();
            let (mut fast, mut portable) = (vec![0f32; 4 * w], vec![1f32; 4 * w]);
            residual_row_fastest(&pad, pw, y, &buckets, &bank, &mut fast);
            residual_row(&pad, pw, y, &buckets, &bank, &mut portable);
            assert_eq!(fast, portable, "row {y}");
        }
    }
}
