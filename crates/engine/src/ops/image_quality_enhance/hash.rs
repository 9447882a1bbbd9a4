//! The hash of a low-resolution pixel: the structure tensor of the luma gradients over a
//! small window, reduced to its dominant angle, strength (√λ1) and coherence, each
//! quantised into buckets.

use rayon::prelude::*;

use super::{ANGLES, COHERENCES, STRENGTHS};
use crate::filters::planes::Plane;

/// Separable weights of the tensor's window (radius 2, a triangle: nearer gradients
/// count more, as RAISR's Gaussian weighting does).
const WINDOW: [f32; 5] = [1.0 / 9.0, 2.0 / 9.0, 3.0 / 9.0, 2.0 / 9.0, 1.0 / 9.0];
const WINDOW_RADIUS: usize = WINDOW.len() / 2;

/// The structure tensor `[xx, xy, yy]` of every pixel, as three planes (row-major),
/// smoothed by [`WINDOW`] with edges clamped. Plain loops over contiguous rows, so they
/// vectorise.
fn tensor(luma: &Plane) -> [Vec<f32>; 3] {
    let (w, h) = (luma.width, luma.height);
    let pw = w + 2 * WINDOW_RADIUS;
    // Gradient products, each row padded by WINDOW_RADIUS replicated samples.
    let mut products: [Vec<f32>; 3] = std::array::from_fn(|_| vec![0f32; pw * h]);
    {
        let [xx, xy, yy] = &mut products;
        xx.par_chunks_mut(pw)
            .zip(xy.par_chunks_mut(pw))
            .zip(yy.par_chunks_mut(pw))
            .enumerate()
            .for_each(|(y, ((rxx, rxy), ryy))| {
                let row = &luma.data[y * w..(y + 1) * w];
                let up = &luma.data[y.saturating_sub(1) * w..][..w];
                let down = &luma.data[(y + 1).min(h - 1) * w..][..w];
                let inner = WINDOW_RADIUS..WINDOW_RADIUS + w;
                let (rxx, rxy, ryy) = (
                    &mut rxx[inner.clone()],
                    &mut rxy[inner.clone()],
                    &mut ryy[inner],
                );
                for x in 0..w {
                    let gx = (row[(x + 1).min(w - 1)] - row[x.saturating_sub(1)]) * 0.5;
                    let gy = (down[x] - up[x]) * 0.5;
                    rxx[x] = gx * gx;
                    rxy[x] = gx * gy;
                    ryy[x] = gy * gy;
                }
            });
        for plane in [xx, xy, yy] {
            plane.par_chunks_mut(pw).for_each(|r| {
                let (first, last) = (r[WINDOW_RADIUS], r[WINDOW_RADIUS + w - 1]);
                r[..WINDOW_RADIUS].fill(first);
                r[WINDOW_RADIUS + w..].fill(last);
            });
        }
    }
    // Horizontal pass.
    let mut horizontal: [Vec<f32>; 3] = std::array::from_fn(|_| vec![0f32; w * h]);
    for (out, src) in horizontal.iter_mut().zip(&products) {
        out.par_chunks_mut(w)
            .zip(src.par_chunks(pw))
            .for_each(|(o, r)| {
                for (x, v) in o.iter_mut().enumerate() {
                    let t = &r[x..x + WINDOW.len()];
                    *v = WINDOW[0] * t[0]
                        + WINDOW[1] * t[1]
                        + WINDOW[2] * t[2]
                        + WINDOW[3] * t[3]
                        + WINDOW[4] * t[4];
                }
            });
    }
    drop(products);
    // Vertical pass.
    let mut out: [Vec<f32>; 3] = std::array::from_fn(|_| vec![0f32; w * h]);
    for (o, src) in out.iter_mut().zip(&horizontal) {
        o.par_chunks_mut(w).enumerate().for_each(|(y, o)| {
            let rows: [&[f32]; 5] = std::array::from_fn(|k| {
                let yy = (y + k).saturating_sub(WINDOW_RADIUS).min(h - 1);
                &src[yy * w..(yy + 1) * w]
            });
            for (x, v) in o.iter_mut().enumerate() {
                *v = WINDOW[0] * rows[0][x]
                    + WINDOW[1] * rows[1][x]
                    + WINDOW[2] * rows[2][x]
                    + WINDOW[3] * rows[3][x]
                    + WINDOW[4] * rows[4][x];
            }
        });
    }
    out
}

/// Per pixel: dominant gradient angle in 0..π, strength (√λ1) and coherence
/// ((√λ1 − √λ2) / (√λ1 + √λ2)).
pub fn structure(luma: &Plane) -> Vec<(f32, f32, f32)> {
    if luma.width == 0 || luma.height == 0 {
        return Vec::new();
    }
    let [xx, xy, yy] = tensor(luma);
    (0..xx.len())
        .into_par_iter()
        .map(|i| eigen([xx[i], xy[i], yy[i]]))
        .collect()
}

/// `atan2(y, x)` to within about 2e-5 rad (a minimax polynomial on 0..1 after folding the
/// octants); the angle hash needs neither more precision nor libm's cost.
#[allow(
    clippy::inline_always,
    reason = "inlined into pulp's per-instruction-set function, so the hashing loop vectorises"
)]
#[inline(always)]
fn fast_atan2(y: f32, x: f32) -> f32 {
    use std::f32::consts::{FRAC_PI_2, PI};
    let (ax, ay) = (x.abs(), y.abs());
    let (num, den) = if ax >= ay { (ay, ax) } else { (ax, ay) };
    if den == 0.0 {
        return 0.0;
    }
    let t = num / den;
    let t2 = t * t;
    let mut r = t
        * (0.999_866
            + t2 * (-0.330_299_5 + t2 * (0.180_141 + t2 * (-0.085_133 + t2 * 0.020_835_1))));
    if ay > ax {
        r = FRAC_PI_2 - r;
    }
    if x < 0.0 {
        r = PI - r;
    }
    if y < 0.0 { -r } else { r }
}

/// Angle, strength and coherence of a structure tensor `[xx, xy, yy]`.
#[allow(
    clippy::inline_always,
    reason = "inlined into pulp's per-instruction-set function, so the hashing loop vectorises"
)]
#[inline(always)]
fn eigen([a, b, c]: [f32; 3]) -> (f32, f32, f32) {
    let tr = a + c;
    let det = (a * c - b * b).max(0.0);
    let disc = (tr * tr / 4.0 - det).max(0.0).sqrt();
    let (l1, l2) = ((tr / 2.0 + disc).max(0.0), (tr / 2.0 - disc).max(0.0));
    // 0.5 · atan2 lies in -π/2..=π/2; fold to 0..π without `rem_euclid` (libm's fmod).
    let half = 0.5 * fast_atan2(2.0 * b, a - c);
    let angle = if half < 0.0 {
        half + std::f32::consts::PI
    } else {
        half
    };
    let (s1, s2) = (l1.sqrt(), l2.sqrt());
    let coherence = if s1 + s2 > 1e-12 {
        (s1 - s2) / (s1 + s2)
    } else {
        0.0
    };
    (angle, s1, coherence)
}

/// The bucket of one pixel's features. Without branches or saturating casts, so a loop
/// over it vectorises.
#[allow(
    clippy::inline_always,
    reason = "inlined into pulp's per-instruction-set function, so the hashing loop vectorises"
)]
#[inline(always)]
pub(crate) fn bucket(
    (angle, strength, coherence): (f32, f32, f32),
    strength_edges: [f32; STRENGTHS - 1],
    coherence_edges: [f32; COHERENCES - 1],
) -> u16 {
    // `(angle / π · ANGLES) as usize`, at most ANGLES - 1 (0 for NaN, as `as` gives).
    let a = (angle / std::f32::consts::PI * ANGLES as f32)
        .clamp(0.0, (ANGLES - 1) as f32)
        .trunc();
    let a = u16::from(super::byte_of_integer(a));
    let mut s = 0u16;
    for e in strength_edges {
        s += u16::from(strength > e);
    }
    let mut c = 0u16;
    for e in coherence_edges {
        c += u16::from(coherence > e);
    }
    (a * STRENGTHS as u16 + s) * COHERENCES as u16 + c
}

/// One row of [`bucket_plane`], as pulp's unit of dispatch (compiled for AVX2 where
/// available).
struct BucketRow<'a> {
    tensor: [&'a [f32]; 3],
    strength_edges: [f32; STRENGTHS - 1],
    coherence_edges: [f32; COHERENCES - 1],
    out: &'a mut [u16],
}

impl pulp::WithSimd for BucketRow<'_> {
    type Output = ();

    #[allow(
        clippy::inline_always,
        reason = "the loop must be inlined into pulp's per-instruction-set function"
    )]
    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _simd: S) {
        let n = self.out.len();
        let (xx, xy, yy) = (
            &self.tensor[0][..n],
            &self.tensor[1][..n],
            &self.tensor[2][..n],
        );
        for i in 0..n {
            self.out[i] = bucket(
                eigen([xx[i], xy[i], yy[i]]),
                self.strength_edges,
                self.coherence_edges,
            );
        }
    }
}

/// The bucket of every pixel of a low-resolution luma plane.
pub fn bucket_plane(
    luma: &Plane,
    strength_edges: &[f32; STRENGTHS - 1],
    coherence_edges: &[f32; COHERENCES - 1],
) -> Vec<u16> {
    if luma.width == 0 || luma.height == 0 {
        return Vec::new();
    }
    let [xx, xy, yy] = tensor(luma);
    let mut out = vec![0u16; xx.len()];
    let w = luma.width;
    out.par_chunks_mut(w).enumerate().for_each(|(y, o)| {
        let row = y * w..(y + 1) * w;
        pulp::Arch::new().dispatch(BucketRow {
            tensor: [&xx[row.clone()], &xy[row.clone()], &yy[row]],
            strength_edges: *strength_edges,
            coherence_edges: *coherence_edges,
            out: o,
        });
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_vertical_edge_hashes_to_angle_zero_and_full_coherence() {
        let edge = Plane::from_fn(16, 16, |x, _| if x < 8 { 0.2 } else { 0.8 });
        let f = structure(&edge);
        let (angle, strength, coherence) = f[8 * 16 + 8];
        assert!(
            angle.min(std::f32::consts::PI - angle) < 1e-3,
            "angle {angle}"
        );
        assert!(strength > 0.1 && coherence > 0.99, "{strength} {coherence}");
        // A flat plane has no strength and no coherence.
        let flat = structure(&Plane::from_fn(8, 8, |_, _| 0.5));
        assert!(flat.iter().all(|&(_, s, c)| s == 0.0 && c == 0.0));
    }

    #[test]
    fn fast_atan2_agrees_with_libm() {
        for i in 0..2000 {
            let a = i as f32 * 0.01;
            let (y, x) = (a.sin() * (1.0 + a), a.cos() * (1.0 + a));
            assert!((fast_atan2(y, x) - y.atan2(x)).abs() < 5e-5, "{y} {x}");
        }
        assert!(fast_atan2(0.0, 0.0).abs() < f32::EPSILON);
    }

    #[test]
    fn buckets_match_the_plain_formula() {
        // The branch-free bucket against the definition with saturating casts.
        let (se, ce) = ([0.01, 0.03, 0.06, 0.1], [0.3, 0.6]);
        let plain = |(angle, strength, coherence): (f32, f32, f32)| {
            let a = ((angle / std::f32::consts::PI * ANGLES as f32) as usize).min(ANGLES - 1);
            let s = se.iter().filter(|&&e| strength > e).count();
            let c = ce.iter().filter(|&&e| coherence > e).count();
            ((a * STRENGTHS + s) * COHERENCES + c) as u16
        };
        let mut angles: Vec<f32> = (-40..=440).map(|i| i as f32 * 0.01).collect();
        angles.extend([
            f32::NAN,
            f32::INFINITY,
            -f32::INFINITY,
            std::f32::consts::PI,
        ]);
        for &angle in &angles {
            for strength in [0.0, 0.01, 0.02, 0.07, 0.5, f32::NAN] {
                for coherence in [0.0, 0.3, 0.45, 0.9] {
                    let f = (angle, strength, coherence);
                    assert_eq!(bucket(f, se, ce), plain(f), "{f:?}");
                }
            }
        }
    }

    #[test]
    fn buckets_cover_the_whole_index_range() {
        let se = [0.1; STRENGTHS - 1];
        let ce = [0.5; COHERENCES - 1];
        let top = bucket((std::f32::consts::PI, 1.0, 1.0), se, ce);
        assert_eq!(usize::from(top), super::super::BUCKETS - 1);
        assert_eq!(bucket((0.0, 0.0, 0.0), se, ce), 0);
    }
}
