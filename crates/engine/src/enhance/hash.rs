//! The hash of a low-resolution pixel: the structure tensor of the luma gradients over a
//! small window, reduced to its dominant angle, strength (√λ1) and coherence, each
//! quantised into buckets.

use rayon::prelude::*;

use super::{ANGLES, COHERENCES, STRENGTHS};
use crate::planes::Plane;

/// Separable weights of the tensor's window (radius 2, a triangle: nearer gradients
/// count more, as RAISR's Gaussian weighting does).
const WINDOW: [f32; 5] = [1.0 / 9.0, 2.0 / 9.0, 3.0 / 9.0, 2.0 / 9.0, 1.0 / 9.0];
const WINDOW_RADIUS: usize = WINDOW.len() / 2;

/// Per pixel: dominant gradient angle in 0..π, strength (√λ1) and coherence
/// ((√λ1 − √λ2) / (√λ1 + √λ2)).
pub fn structure(luma: &Plane) -> Vec<(f32, f32, f32)> {
    let (w, h) = (luma.width, luma.height);
    if w == 0 || h == 0 {
        return Vec::new();
    }
    // Gradient products, smoothed horizontally, one row at a time.
    let mut smoothed = vec![[0f32; 3]; w * h];
    smoothed
        .par_chunks_mut(w)
        .enumerate()
        .for_each(|(y, out)| {
            let row = &luma.data[y * w..(y + 1) * w];
            let up = &luma.data[y.saturating_sub(1) * w..][..w];
            let down = &luma.data[(y + 1).min(h - 1) * w..][..w];
            let products: Vec<[f32; 3]> = (0..w)
                .map(|x| {
                    let gx = (row[(x + 1).min(w - 1)] - row[x.saturating_sub(1)]) * 0.5;
                    let gy = (down[x] - up[x]) * 0.5;
                    [gx * gx, gx * gy, gy * gy]
                })
                .collect();
            for (x, o) in out.iter_mut().enumerate() {
                let mut acc = [0f32; 3];
                for (k, &wt) in WINDOW.iter().enumerate() {
                    let xx = (x + k).saturating_sub(WINDOW_RADIUS).min(w - 1);
                    for (a, p) in acc.iter_mut().zip(products[xx]) {
                        *a += wt * p;
                    }
                }
                *o = acc;
            }
        });
    let mut features = vec![(0f32, 0f32, 0f32); w * h];
    features
        .par_chunks_mut(w)
        .enumerate()
        .for_each(|(y, out)| {
            let rows: [&[[f32; 3]]; 5] = std::array::from_fn(|k| {
                let yy = (y + k).saturating_sub(WINDOW_RADIUS).min(h - 1);
                &smoothed[yy * w..(yy + 1) * w]
            });
            for (x, o) in out.iter_mut().enumerate() {
                let mut t = [0f32; 3];
                for (row, &wt) in rows.iter().zip(&WINDOW) {
                    for (a, p) in t.iter_mut().zip(row[x]) {
                        *a += wt * p;
                    }
                }
                *o = eigen(t);
            }
        });
    features
}

/// Angle, strength and coherence of a structure tensor `[xx, xy, yy]`.
fn eigen([a, b, c]: [f32; 3]) -> (f32, f32, f32) {
    let tr = a + c;
    let det = (a * c - b * b).max(0.0);
    let disc = (tr * tr / 4.0 - det).max(0.0).sqrt();
    let (l1, l2) = ((tr / 2.0 + disc).max(0.0), (tr / 2.0 - disc).max(0.0));
    let angle = (0.5 * (2.0 * b).atan2(a - c)).rem_euclid(std::f32::consts::PI);
    let (s1, s2) = (l1.sqrt(), l2.sqrt());
    let coherence = if s1 + s2 > 1e-12 {
        (s1 - s2) / (s1 + s2)
    } else {
        0.0
    };
    (angle, s1, coherence)
}

/// The bucket of one pixel's features.
pub(crate) fn bucket(
    (angle, strength, coherence): (f32, f32, f32),
    strength_edges: &[f32; STRENGTHS - 1],
    coherence_edges: &[f32; COHERENCES - 1],
) -> u16 {
    let a = ((angle / std::f32::consts::PI * ANGLES as f32) as usize).min(ANGLES - 1);
    let s = strength_edges.iter().filter(|&&e| strength > e).count();
    let c = coherence_edges.iter().filter(|&&e| coherence > e).count();
    ((a * STRENGTHS + s) * COHERENCES + c) as u16
}

/// The bucket of every pixel of a low-resolution luma plane.
pub fn bucket_plane(
    luma: &Plane,
    strength_edges: &[f32; STRENGTHS - 1],
    coherence_edges: &[f32; COHERENCES - 1],
) -> Vec<u16> {
    structure(luma)
        .par_iter()
        .map(|&f| bucket(f, strength_edges, coherence_edges))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_vertical_edge_hashes_to_angle_zero_and_full_coherence() {
        let edge = Plane::from_fn(16, 16, |x, _| if x < 8 { 0.2 } else { 0.8 });
        let f = structure(&edge);
        let (angle, strength, coherence) = f[8 * 16 + 8];
        assert!(angle.min(std::f32::consts::PI - angle) < 1e-3, "angle {angle}");
        assert!(strength > 0.1 && coherence > 0.99, "{strength} {coherence}");
        // A flat plane has no strength and no coherence.
        let flat = structure(&Plane::from_fn(8, 8, |_, _| 0.5));
        assert!(flat.iter().all(|&(_, s, c)| s == 0.0 && c == 0.0));
    }

    #[test]
    fn buckets_cover_the_whole_index_range() {
        let se = [0.1; STRENGTHS - 1];
        let ce = [0.5; COHERENCES - 1];
        let top = bucket((std::f32::consts::PI, 1.0, 1.0), &se, &ce);
        assert_eq!(usize::from(top), super::super::BUCKETS - 1);
        assert_eq!(bucket((0.0, 0.0, 0.0), &se, &ce), 0);
    }
}
