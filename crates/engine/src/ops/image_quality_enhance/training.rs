//! Least-squares training of the filters (used by `cargo xtask train-enhance`).
//!
//! All four phases of a low-resolution pixel share its window, so each bucket keeps one
//! `AᵀA` and four `Aᵀb`: a sample costs one 49 × 49 outer product for four targets.

use super::deblock::{POSITIONS, position};
use super::hash::{bucket, structure};
use super::kernel::padded;
use super::{BUCKETS, COHERENCES, PHASES, SIDE, STRENGTHS, TAPS, bicubic_filter};
use crate::filters::linalg::cholesky_solve;
use crate::filters::planes::Plane;

/// Normal equations of every bucket: `AᵀA` (upper triangle, f64), and `Aᵀb` per phase.
#[derive(Debug, Clone)]
pub struct Accumulator {
    ata: Vec<f64>,
    atb: Vec<f64>,
    counts: Vec<u64>,
}

impl Default for Accumulator {
    fn default() -> Self {
        Self {
            ata: vec![0.0; BUCKETS * TAPS * TAPS],
            atb: vec![0.0; BUCKETS * PHASES * TAPS],
            counts: vec![0; BUCKETS],
        }
    }
}

/// Bucket edges at the quantiles `k / STRENGTHS` of strength and `k / COHERENCES` of
/// coherence over low-resolution luma planes.
pub fn edges(planes: &[Plane]) -> ([f32; STRENGTHS - 1], [f32; COHERENCES - 1]) {
    let mut s = Vec::new();
    let mut c = Vec::new();
    for p in planes {
        for (i, (_, st, co)) in structure(p).into_iter().enumerate() {
            if i % 5 == 0 {
                s.push(st);
                c.push(co);
            }
        }
    }
    s.sort_by(f32::total_cmp);
    c.sort_by(f32::total_cmp);
    let q = |v: &[f32], f: f64| {
        v.get(((v.len() as f64 - 1.0) * f) as usize)
            .copied()
            .unwrap_or(0.0)
    };
    (
        std::array::from_fn(|k| q(&s, (k + 1) as f64 / STRENGTHS as f64)),
        std::array::from_fn(|k| q(&c, (k + 1) as f64 / COHERENCES as f64)),
    )
}

impl Accumulator {
    /// Adds every interior pixel of a low-resolution luma plane with its four
    /// ground-truth output pixels (`truth` is `2w × 2h`). Samples are grouped by bucket
    /// first, so each bucket's normal equations stay in cache while updated.
    pub fn add(
        &mut self,
        lr: &Plane,
        truth: &Plane,
        se: &[f32; STRENGTHS - 1],
        ce: &[f32; COHERENCES - 1],
    ) {
        let (w, h) = (lr.width, lr.height);
        if w <= 2 * SIDE || h <= 2 * SIDE || truth.width != 2 * w || truth.height != 2 * h {
            return;
        }
        let features = structure(lr);
        let mut by_bucket: Vec<Vec<(u32, u32)>> = vec![Vec::new(); BUCKETS];
        for y in SIDE / 2..h - SIDE / 2 {
            for x in SIDE / 2..w - SIDE / 2 {
                let b = usize::from(bucket(features[y * w + x], *se, *ce));
                by_bucket[b].push((x as u32, y as u32));
            }
        }
        let (pad, pw) = padded(lr);
        let mut p = [0f64; TAPS];
        for (b, samples) in by_bucket.iter().enumerate() {
            let ata = &mut self.ata[b * TAPS * TAPS..(b + 1) * TAPS * TAPS];
            let atb = &mut self.atb[b * PHASES * TAPS..(b + 1) * PHASES * TAPS];
            for &(x, y) in samples {
                let (x, y) = (x as usize, y as usize);
                for r in 0..SIDE {
                    let row = &pad[(y + r) * pw + x..][..SIDE];
                    for (d, &v) in p[r * SIDE..(r + 1) * SIDE].iter_mut().zip(row) {
                        *d = f64::from(v);
                    }
                }
                for phase in 0..PHASES {
                    let (tx, ty) = (2 * x + phase % 2, 2 * y + phase / 2);
                    let t = f64::from(truth.data[ty * truth.width + tx]);
                    for (a, &pi) in atb[phase * TAPS..(phase + 1) * TAPS].iter_mut().zip(&p) {
                        *a += pi * t;
                    }
                }
                for i in 0..TAPS {
                    let pi = p[i];
                    let row = &mut ata[i * TAPS + i..(i + 1) * TAPS];
                    for (r, &q) in row.iter_mut().zip(&p[i..]) {
                        *r += pi * q;
                    }
                }
            }
            self.counts[b] += samples.len() as u64;
        }
    }

    /// Merges another accumulator (callers merge in a fixed order for reproducibility).
    pub fn merge(&mut self, other: &Accumulator) {
        for (a, b) in self.ata.iter_mut().zip(&other.ata) {
            *a += b;
        }
        for (a, b) in self.atb.iter_mut().zip(&other.atb) {
            *a += b;
        }
        for (a, b) in self.counts.iter_mut().zip(&other.counts) {
            *a += b;
        }
    }

    /// Samples per bucket.
    pub fn counts(&self) -> &[u64] {
        &self.counts
    }

    /// Solves every filter of a bank (`BUCKETS × PHASES × TAPS`) by ridge regression
    /// towards the Catmull-Rom filter of its phase, so buckets with few samples stay close
    /// to bicubic. The ridge is `ridge` times the mean diagonal of `AᵀA` (scale-free).
    pub fn solve(&self, ridge: f64) -> Vec<f32> {
        let mut filters = Vec::with_capacity(BUCKETS * PHASES * TAPS);
        for b in 0..BUCKETS {
            let src = &self.ata[b * TAPS * TAPS..(b + 1) * TAPS * TAPS];
            let mut full = vec![0.0f64; TAPS * TAPS];
            for i in 0..TAPS {
                for j in i..TAPS {
                    full[i * TAPS + j] = src[i * TAPS + j];
                    full[j * TAPS + i] = src[i * TAPS + j];
                }
            }
            let diag = (0..TAPS).map(|i| full[i * TAPS + i]).sum::<f64>() / TAPS as f64;
            let lambda = ridge * diag + 1e-9;
            for i in 0..TAPS {
                full[i * TAPS + i] += lambda;
            }
            for phase in 0..PHASES {
                let prior = bicubic_filter(phase);
                let mut a = full.clone();
                let mut rhs: Vec<f64> = self.atb[(b * PHASES + phase) * TAPS..][..TAPS]
                    .iter()
                    .zip(&prior)
                    .map(|(&v, &p)| v + lambda * f64::from(p))
                    .collect();
                match cholesky_solve(&mut a, &mut rhs, 1e-15) {
                    Some(h) => filters.extend(h.iter().map(|&v| v as f32)),
                    None => filters.extend(prior),
                }
            }
        }
        filters
    }
}

/// Normal equations of the deblocking filters, one per block-grid position.
#[derive(Debug, Clone)]
pub struct DeblockAccumulator {
    ata: Vec<f64>,
    atb: Vec<f64>,
}

impl Default for DeblockAccumulator {
    fn default() -> Self {
        Self {
            ata: vec![0.0; POSITIONS * TAPS * TAPS],
            atb: vec![0.0; POSITIONS * TAPS],
        }
    }
}

impl DeblockAccumulator {
    /// Adds every interior pixel of a compressed low-resolution luma plane with the
    /// uncompressed luma as its target (same size).
    pub fn add(&mut self, compressed: &Plane, clean: &Plane) {
        let (w, h) = (compressed.width, compressed.height);
        if w <= 2 * SIDE || h <= 2 * SIDE || clean.width != w || clean.height != h {
            return;
        }
        let (pad, pw) = padded(compressed);
        let mut p = [0f64; TAPS];
        // Position-major, so each position's equations stay in cache.
        for (py, px) in (0..8).flat_map(|py| (0..8).map(move |px| (py, px))) {
            let class = py * 8 + px;
            let ata = &mut self.ata[class * TAPS * TAPS..(class + 1) * TAPS * TAPS];
            let atb = &mut self.atb[class * TAPS..(class + 1) * TAPS];
            let first = |start: usize, phase: usize| start + (phase + 8 - start % 8) % 8;
            for y in (first(SIDE / 2, py)..h - SIDE / 2).step_by(8) {
                for x in (first(SIDE / 2, px)..w - SIDE / 2).step_by(8) {
                    debug_assert_eq!(position(x, y), class);
                    for r in 0..SIDE {
                        let row = &pad[(y + r) * pw + x..][..SIDE];
                        for (d, &v) in p[r * SIDE..(r + 1) * SIDE].iter_mut().zip(row) {
                            *d = f64::from(v);
                        }
                    }
                    let t = f64::from(clean.data[y * w + x]);
                    for i in 0..TAPS {
                        let pi = p[i];
                        atb[i] += pi * t;
                        let row = &mut ata[i * TAPS + i..(i + 1) * TAPS];
                        for (r, &q) in row.iter_mut().zip(&p[i..]) {
                            *r += pi * q;
                        }
                    }
                }
            }
        }
    }

    /// Merges another accumulator (callers merge in a fixed order for reproducibility).
    pub fn merge(&mut self, other: &DeblockAccumulator) {
        for (a, b) in self.ata.iter_mut().zip(&other.ata) {
            *a += b;
        }
        for (a, b) in self.atb.iter_mut().zip(&other.atb) {
            *a += b;
        }
    }

    /// The filters (`POSITIONS × TAPS`), by ridge regression towards the identity.
    pub fn solve(&self, ridge: f64) -> Vec<f32> {
        let identity = super::deblock::identity();
        let mut out = Vec::with_capacity(POSITIONS * TAPS);
        for c in 0..POSITIONS {
            let src = &self.ata[c * TAPS * TAPS..(c + 1) * TAPS * TAPS];
            let mut a = vec![0.0f64; TAPS * TAPS];
            for i in 0..TAPS {
                for j in i..TAPS {
                    a[i * TAPS + j] = src[i * TAPS + j];
                    a[j * TAPS + i] = src[i * TAPS + j];
                }
            }
            let diag = (0..TAPS).map(|i| a[i * TAPS + i]).sum::<f64>() / TAPS as f64;
            let lambda = ridge * diag + 1e-9;
            for i in 0..TAPS {
                a[i * TAPS + i] += lambda;
            }
            let prior = &identity[c * TAPS..(c + 1) * TAPS];
            let mut b: Vec<f64> = self.atb[c * TAPS..(c + 1) * TAPS]
                .iter()
                .zip(prior)
                .map(|(&v, &p)| v + lambda * f64::from(p))
                .collect();
            match cholesky_solve(&mut a, &mut b, 1e-15) {
                Some(h) => out.extend(h.iter().map(|&v| v as f32)),
                None => out.extend_from_slice(prior),
            }
        }
        out
    }
}


#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deblocking_learns_a_per_position_offset_and_nothing_else() {
        // The "compressed" plane is the clean one plus a step on the block grid: the filter
        // of each position must learn to remove exactly that position's offset.
        let clean = Plane::from_fn(80, 72, |x, y| {
            let (x, y) = (x as f32, y as f32);
            0.5 + 0.2 * (x * 0.31).sin() + 0.15 * (y * 0.23 + x * 0.05).cos()
        });
        let offset = |x: usize, y: usize| {
            if x.is_multiple_of(8) || y % 8 == 7 {
                0.02
            } else {
                0.0
            }
        };
        let compressed = Plane::from_fn(80, 72, |x, y| clean.at(x, y) + offset(x, y));
        let mut acc = DeblockAccumulator::default();
        acc.add(&compressed, &clean);
        let filters = acc.solve(1e-9);
        let mut img = image::RgbImage::new(80, 72);
        for (x, y, px) in img.enumerate_pixels_mut() {
            let v = (compressed.at(x as usize, y as usize) * 255.0).round() as u8;
            *px = image::Rgb([v, v, v]);
        }
        let out = super::super::deblock::deblock(&img, &filters);
        let (mut before, mut after) = (0f64, 0f64);
        for y in 8..64 {
            for x in 8..72 {
                let truth = f64::from(clean.at(x, y)) * 255.0;
                before += (f64::from(img.get_pixel(x as u32, y as u32).0[0]) - truth).powi(2);
                after += (f64::from(out.get_pixel(x as u32, y as u32).0[0]) - truth).powi(2);
            }
        }
        assert!(after < 0.3 * before, "{after} vs {before}");
    }

    #[test]
    fn training_on_bicubic_targets_recovers_the_bicubic_filters() {
        // When the truth is the Catmull-Rom upscale itself, least squares must find the
        // Catmull-Rom filters (whatever the ridge pulls towards, the data agree with it),
        // which checks the window, phase and target alignment of the accumulator.
        let lr = Plane::from_fn(96, 80, |x, y| {
            let (x, y) = (x as f32, y as f32);
            0.5 + 0.3 * (x * 0.7 + y * 0.3).sin() * (y * 0.45).cos() + 0.1 * (x * y * 0.05).sin()
        });
        let truth = super::super::bicubic_luma(&lr);
        let mut acc = Accumulator::default();
        let (se, ce) = edges(std::slice::from_ref(&lr));
        acc.add(&lr, &truth, &se, &ce);
        let filters = acc.solve(1e-6);
        let mut checked = 0;
        for b in 0..BUCKETS {
            if acc.counts()[b] < 2 * TAPS as u64 {
                continue;
            }
            for phase in 0..PHASES {
                let f = &filters[(b * PHASES + phase) * TAPS..][..TAPS];
                for (got, want) in f.iter().zip(bicubic_filter(phase)) {
                    assert!((got - want).abs() < 1e-3, "bucket {b} phase {phase}");
                }
                checked += 1;
            }
        }
        assert!(checked > 0);
    }
}
