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
use crate::planes::Plane;

/// Lanes of a stored filter row.
pub(crate) const LANES: usize = 8;
/// Weights of one bucket: phases × rows × lanes.
const PER_BUCKET: usize = PHASES * SIDE * LANES;

/// One bank's filters as residuals over Catmull-Rom, laid out for [`residual`].
#[derive(Debug, Clone)]
pub(crate) struct Bank {
    weights: Vec<f32>,
}

impl Bank {
    /// From `BUCKETS × PHASES × TAPS` full filters (missing ones act as bicubic).
    pub(crate) fn new(filters: &[f32]) -> Self {
        let priors: [[f32; TAPS]; PHASES] = std::array::from_fn(bicubic_filter);
        let mut weights = vec![0f32; BUCKETS * PER_BUCKET];
        for (i, (filter, out)) in filters
            .chunks_exact(TAPS)
            .zip(weights.chunks_exact_mut(SIDE * LANES))
            .enumerate()
        {
            let prior = &priors[i % PHASES];
            for r in 0..SIDE {
                for c in 0..SIDE {
                    out[r * LANES + c] = filter[r * SIDE + c] - prior[r * SIDE + c];
                }
            }
        }
        Self { weights }
    }
}

/// `luma` with `RADIUS` replicated pixels on every side plus the spare lane on the right.
pub(crate) fn padded(luma: &Plane) -> (Vec<f32>, usize) {
    let (w, h) = (luma.width, luma.height);
    let pw = w + 2 * RADIUS + (LANES - SIDE);
    let ph = h + 2 * RADIUS;
    let mut pad = vec![0f32; pw * ph];
    pad.par_chunks_mut(pw).enumerate().for_each(|(py, out)| {
        let y = py.saturating_sub(RADIUS).min(h - 1);
        let row = &luma.data[y * w..(y + 1) * w];
        for (px, o) in out.iter_mut().enumerate() {
            *o = row[px.saturating_sub(RADIUS).min(w - 1)];
        }
    });
    (pad, pw)
}

/// The four phase sums of one bucket's weights over a window given as seven row slices
/// (each at least `LANES` long).
#[inline]
fn phase_sums(window: &[&[f32]; SIDE], weights: &[f32]) -> [f32; PHASES] {
    let rows: [[f32; LANES]; SIDE] = std::array::from_fn(|r| {
        let mut lane = [0f32; LANES];
        lane.copy_from_slice(&window[r][..LANES]);
        lane
    });
    std::array::from_fn(|p| {
        let f = &weights[p * SIDE * LANES..(p + 1) * SIDE * LANES];
        let mut acc = [0f32; LANES];
        for (row, fr) in rows.iter().zip(f.chunks_exact(LANES)) {
            for l in 0..LANES {
                acc[l] += row[l] * fr[l];
            }
        }
        (acc[0] + acc[4]) + (acc[1] + acc[5]) + ((acc[2] + acc[6]) + (acc[3] + acc[7]))
    })
}

/// The residual over Catmull-Rom of the 2x upscale of `luma` (`2w × 2h`), given each
/// pixel's bucket.
pub(crate) fn residual(luma: &Plane, buckets: &[u16], bank: &Bank) -> Plane {
    let (w, h) = (luma.width, luma.height);
    let ow = 2 * w;
    let mut out = Plane::new(ow, 2 * h);
    if w == 0 || h == 0 {
        return out;
    }
    let (pad, pw) = padded(luma);
    out.data
        .par_chunks_mut(2 * ow)
        .enumerate()
        .for_each(|(y, rows)| {
            let (top, bottom) = rows.split_at_mut(ow);
            let window_rows: [&[f32]; SIDE] = std::array::from_fn(|r| &pad[(y + r) * pw..][..pw]);
            for x in 0..w {
                let b = usize::from(buckets[y * w + x]).min(BUCKETS - 1);
                let weights = &bank.weights[b * PER_BUCKET..(b + 1) * PER_BUCKET];
                let window: [&[f32]; SIDE] = std::array::from_fn(|r| &window_rows[r][x..]);
                let s = phase_sums(&window, weights);
                top[2 * x] = s[0];
                top[2 * x + 1] = s[1];
                bottom[2 * x] = s[2];
                bottom[2 * x + 1] = s[3];
            }
        });
    out
}
