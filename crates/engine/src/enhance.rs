//! 2x upscale ("image quality enhance"): RAISR-style hashed filters on luminance.
//!
//! The low-resolution luminance is upscaled with Catmull-Rom, then each output pixel is
//! replaced by a learned 9 × 9 filter of its neighbourhood. The filter is chosen by a
//! hash of the local gradient structure (angle, strength, coherence) and the pixel's
//! phase on the 2x grid, from one of two banks: one trained on clean inputs, one on
//! JPEG-compressed inputs (which learns to leave the block grid alone rather than sharpen
//! it); the input's blockiness picks the bank. Chroma is upscaled with Catmull-Rom only (the eye resolves it
//! poorly). Filters are trained by `cargo xtask train-enhance` (least squares, see
//! [`training`]) and embedded with `include_bytes!`; if the embedded model fails to
//! validate, the engine falls back to plain bicubic and says so through
//! [`model_status`].

use std::sync::OnceLock;

use image::RgbImage;
use rayon::prelude::*;

use crate::planes::{Plane, box_mean};

/// Filter taps per side.
pub const PATCH: usize = 9;
const TAPS: usize = PATCH * PATCH;
const HALF: usize = PATCH / 2;
/// Angle buckets over 0..π.
pub const ANGLES: usize = 16;
/// Strength and coherence buckets.
pub const STRENGTHS: usize = 3;
pub const COHERENCES: usize = 3;
/// Pixel phases on the 2x grid.
pub const PHASES: usize = 4;
/// Filters in a bank.
pub const FILTERS: usize = ANGLES * STRENGTHS * COHERENCES * PHASES;
/// Banks: clean inputs, then compressed ones.
pub const BANKS: usize = 2;
/// Radius of the gradient window for hashing.
const HASH_RADIUS: usize = 2;

const MAGIC: &[u8; 8] = b"BDIPRSR2";
static MODEL_BYTES: &[u8] = include_bytes!("../models/enhance.bin");
static MODEL: OnceLock<Result<Model, String>> = OnceLock::new();

/// Learned filters and hashing thresholds.
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    /// Strength bucket edges (2 values).
    pub strength_edges: [f32; STRENGTHS - 1],
    /// Coherence bucket edges (2 values).
    pub coherence_edges: [f32; COHERENCES - 1],
    /// Input blockiness (see [`blockiness`]) from which the compressed bank is used.
    pub blocky_from: f32,
    /// `BANKS × FILTERS × TAPS` weights.
    pub filters: Vec<f32>,
}

/// Whether the embedded model loaded (`Ok`) or why not (the engine then uses bicubic).
pub fn model_status() -> Result<(), String> {
    model().map(|_| ())
}

fn model() -> Result<&'static Model, String> {
    MODEL
        .get_or_init(|| Model::from_bytes(MODEL_BYTES))
        .as_ref()
        .map_err(Clone::clone)
}

impl Model {
    /// Serialises the model (see `model_file`).
    pub fn to_bytes(&self) -> Vec<u8> {
        let values = self
            .strength_edges
            .iter()
            .chain(&self.coherence_edges)
            .chain([&self.blocky_from])
            .chain(&self.filters)
            .copied();
        crate::model_file::write(
            *MAGIC,
            &[PATCH, ANGLES, STRENGTHS, COHERENCES, PHASES, BANKS],
            values,
        )
    }

    /// Parses and validates a model file.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, String> {
        let count = STRENGTHS - 1 + COHERENCES - 1 + 1 + BANKS * FILTERS * TAPS;
        let v = crate::model_file::read(
            bytes,
            "enhance",
            *MAGIC,
            &[PATCH, ANGLES, STRENGTHS, COHERENCES, PHASES, BANKS],
            count,
        )?;
        Ok(Self {
            strength_edges: [v[0], v[1]],
            coherence_edges: [v[2], v[3]],
            blocky_from: v[4],
            filters: v[5..].to_vec(),
        })
    }
}

/// Upscales `src` by exactly 2x in each direction with the embedded model.
pub(crate) fn upscale_2x(src: &RgbImage) -> RgbImage {
    match model() {
        Ok(model) => upscale_with(model, src),
        Err(_) => bicubic_2x(src),
    }
}

/// Catmull-Rom 2x of each channel, in 0..1 (the base the filters refine).
pub fn bicubic_planes(src: &RgbImage) -> [Plane; 3] {
    let planes = crate::color::to_planes(src);
    std::array::from_fn(|c| crate::planes::upscale_2x(&planes[c]))
}

/// Luma (BT.601) of RGB planes.
pub fn luma_of(planes: &[Plane; 3]) -> Plane {
    crate::color::luma(planes)
}

/// Luma (BT.601) of an 8-bit RGB image, in 0..1 (the ground truth when training).
pub fn luma_plane(img: &RgbImage) -> Plane {
    luma_of(&crate::color::to_planes(img))
}

/// Catmull-Rom 2x as 8-bit RGB (what the engine returns without a model).
pub fn bicubic_2x(src: &RgbImage) -> RgbImage {
    crate::color::from_planes(&bicubic_planes(src))
}

/// Blockiness of a plane: the mean step across the boundaries of the 8 × 8 grid over the
/// mean step inside the blocks (about 1 for a clean photo; JPEG raises it).
pub fn blockiness(img: &Plane) -> f32 {
    let (w, h) = (img.width, img.height);
    if w < 16 || h < 16 {
        return 1.0;
    }
    let rows: Vec<[f64; 4]> = (0..h)
        .into_par_iter()
        .map(|y| {
            let mut acc = [0f64; 4];
            let row = &img.data[y * w..(y + 1) * w];
            let below = (y + 1 < h).then(|| &img.data[(y + 1) * w..(y + 2) * w]);
            for x in 0..w {
                if x + 1 < w {
                    let d = f64::from((row[x + 1] - row[x]).abs());
                    let k = if (x + 1) % 8 == 0 { 0 } else { 2 };
                    acc[k] += d;
                    acc[k + 1] += 1.0;
                }
                if let Some(b) = below {
                    let d = f64::from((b[x] - row[x]).abs());
                    let k = if (y + 1) % 8 == 0 { 0 } else { 2 };
                    acc[k] += d;
                    acc[k + 1] += 1.0;
                }
            }
            acc
        })
        .collect();
    let mut t = [0f64; 4];
    for r in rows {
        for (a, b) in t.iter_mut().zip(r) {
            *a += b;
        }
    }
    let edge = t[0] / t[1].max(1.0);
    let inner = t[2] / t[3].max(1.0);
    (edge / inner.max(1e-9)) as f32
}

/// The bank for an input: compressed if its luma is blocky enough.
pub fn bank_for(model: &Model, src: &RgbImage) -> usize {
    usize::from(blockiness(&luma_plane(src)) >= model.blocky_from)
}

/// Upscales `src` by exactly 2x with `model`.
pub fn upscale_with(model: &Model, src: &RgbImage) -> RgbImage {
    upscale_with_bank(model, src, bank_for(model, src))
}

/// Upscales `src` by exactly 2x with one bank of `model`.
pub fn upscale_with_bank(model: &Model, src: &RgbImage, bank: usize) -> RgbImage {
    let mut planes = bicubic_planes(src);
    // Only luma gets the learned filters; the luma change is added to every channel.
    let luma = luma_of(&planes);
    let sharpened = apply(model, bank, &luma);
    for plane in &mut planes {
        plane
            .data
            .par_iter_mut()
            .zip(luma.data.par_iter().zip(sharpened.data.par_iter()))
            .for_each(|(v, (&old, &new))| *v += new - old);
    }
    crate::color::from_planes(&planes)
}

/// Gradient-structure hash of every pixel: `(angle, strength, coherence)` bucket index
/// without the phase.
pub fn hash_plane(img: &Plane, strength_edges: &[f32; 2], coherence_edges: &[f32; 2]) -> Vec<u16> {
    let features = structure(img);
    features
        .par_iter()
        .map(|&(angle, strength, coherence)| {
            bucket(
                angle,
                strength,
                coherence,
                *strength_edges,
                *coherence_edges,
            )
        })
        .collect()
}

fn bucket(angle: f32, strength: f32, coherence: f32, se: [f32; 2], ce: [f32; 2]) -> u16 {
    let a = ((angle / std::f32::consts::PI * ANGLES as f32) as usize).min(ANGLES - 1);
    let s = usize::from(strength > se[0]) + usize::from(strength > se[1]);
    let c = usize::from(coherence > ce[0]) + usize::from(coherence > ce[1]);
    ((a * STRENGTHS + s) * COHERENCES + c) as u16
}

/// Per pixel: dominant gradient angle in 0..π, strength (√λ1) and coherence.
pub fn structure(img: &Plane) -> Vec<(f32, f32, f32)> {
    let (w, h) = (img.width, img.height);
    // Central differences, edges clamped; computed once, then the three products.
    let mut gx = Plane::new(w, h);
    let mut gy = Plane::new(w, h);
    gx.data
        .par_chunks_mut(w.max(1))
        .zip(gy.data.par_chunks_mut(w.max(1)))
        .enumerate()
        .for_each(|(y, (rx, ry))| {
            let row = &img.data[y * w..(y + 1) * w];
            let up = &img.data[y.saturating_sub(1) * w..][..w];
            let down = &img.data[(y + 1).min(h - 1) * w..][..w];
            for x in 0..w {
                rx[x] = (row[(x + 1).min(w - 1)] - row[x.saturating_sub(1)]) * 0.5;
                ry[x] = (down[x] - up[x]) * 0.5;
            }
        });
    let gxx = gx.zip(&gx, |a, b| a * b);
    let gxy = gx.zip(&gy, |a, b| a * b);
    let gyy = gy.zip(&gy, |a, b| a * b);
    drop((gx, gy));
    let (sxx, sxy, syy) = (
        box_mean(&gxx, HASH_RADIUS),
        box_mean(&gxy, HASH_RADIUS),
        box_mean(&gyy, HASH_RADIUS),
    );
    (0..w * h)
        .into_par_iter()
        .map(|i| {
            let (a, b, c) = (sxx.data[i], sxy.data[i], syy.data[i]);
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
        })
        .collect()
}

/// `img` with `HALF` pixels of edge replication on every side, so patches need no
/// bounds checks.
fn padded(img: &Plane) -> Plane {
    let (w, h) = (img.width as isize, img.height as isize);
    Plane::from_fn(img.width + 2 * HALF, img.height + 2 * HALF, |x, y| {
        let xx = (x as isize - HALF as isize).clamp(0, w - 1) as usize;
        let yy = (y as isize - HALF as isize).clamp(0, h - 1) as usize;
        img.data[yy * img.width + xx]
    })
}

/// The 9 × 9 neighbourhood of `(x, y)` from a [`padded`] plane.
fn patch_padded(pad: &Plane, x: usize, y: usize, out: &mut [f32; TAPS]) {
    for dy in 0..PATCH {
        let start = (y + dy) * pad.width + x;
        out[dy * PATCH..(dy + 1) * PATCH].copy_from_slice(&pad.data[start..start + PATCH]);
    }
}

/// The 9 × 9 neighbourhood of `(x, y)`, edges clamped.
pub fn patch(img: &Plane, x: usize, y: usize, out: &mut [f32; TAPS]) {
    let (w, h) = (img.width as isize, img.height as isize);
    let mut k = 0;
    for dy in 0..PATCH as isize {
        let yy = (y as isize + dy - HALF as isize).clamp(0, h - 1) as usize;
        let row = &img.data[yy * img.width..(yy + 1) * img.width];
        for dx in 0..PATCH as isize {
            let xx = (x as isize + dx - HALF as isize).clamp(0, w - 1) as usize;
            out[k] = row[xx];
            k += 1;
        }
    }
}

/// Index of the filter for a hash bucket and pixel position.
pub fn filter_index(bucket: u16, x: usize, y: usize) -> usize {
    usize::from(bucket) * PHASES + (y % 2) * 2 + (x % 2)
}

/// Applies one bank of the model's filters to a bicubic-upscaled luminance plane.
pub fn apply(model: &Model, bank: usize, upscaled: &Plane) -> Plane {
    let bank = bank.min(BANKS - 1);
    let filters = &model.filters[bank * FILTERS * TAPS..(bank + 1) * FILTERS * TAPS];
    let buckets = hash_plane(upscaled, &model.strength_edges, &model.coherence_edges);
    let w = upscaled.width;
    let mut out = Plane::new(w, upscaled.height);
    let pad = padded(upscaled);
    out.data
        .par_chunks_mut(w.max(1))
        .enumerate()
        .for_each(|(y, row)| {
            let mut p = [0f32; TAPS];
            for (x, o) in row.iter_mut().enumerate() {
                patch_padded(&pad, x, y, &mut p);
                let f = &filters[filter_index(buckets[y * w + x], x, y) * TAPS..][..TAPS];
                *o = dot(&p, f).clamp(0.0, 1.0);
            }
        });
    out
}

/// A dot product in eight independent lanes, which the compiler turns into SIMD.
fn dot(a: &[f32; TAPS], b: &[f32]) -> f32 {
    const LANES: usize = 8;
    let mut acc = [0f32; LANES];
    let (a_main, a_rest) = a.split_at(TAPS / LANES * LANES);
    let (b_main, b_rest) = b.split_at(TAPS / LANES * LANES);
    for (ca, cb) in a_main.chunks_exact(LANES).zip(b_main.chunks_exact(LANES)) {
        for l in 0..LANES {
            acc[l] += ca[l] * cb[l];
        }
    }
    let tail: f32 = a_rest.iter().zip(b_rest).map(|(x, y)| x * y).sum();
    acc.iter().sum::<f32>() + tail
}

#[doc(hidden)]
pub mod training {
    //! Least-squares training of the filters (used by `cargo xtask train-enhance`).

    use super::{FILTERS, HALF, PATCH, TAPS, filter_index, hash_plane, patch, structure};
    use crate::planes::Plane;

    /// Normal equations of every filter: `AᵀA` (upper triangle, f64) and `Aᵀb`.
    #[derive(Debug, Clone)]
    pub struct Accumulator {
        ata: Vec<f64>,
        atb: Vec<f64>,
        counts: Vec<u64>,
    }

    impl Default for Accumulator {
        fn default() -> Self {
            Self {
                ata: vec![0.0; FILTERS * TAPS * TAPS],
                atb: vec![0.0; FILTERS * TAPS],
                counts: vec![0; FILTERS],
            }
        }
    }

    /// Bucket edges at the 1/3 and 2/3 quantiles of strength and coherence.
    pub fn edges(planes: &[Plane]) -> ([f32; 2], [f32; 2]) {
        let mut s = Vec::new();
        let mut c = Vec::new();
        for p in planes {
            for (i, (_, st, co)) in structure(p).into_iter().enumerate() {
                if i % 7 == 0 {
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
            [q(&s, 1.0 / 3.0), q(&s, 2.0 / 3.0)],
            [q(&c, 1.0 / 3.0), q(&c, 2.0 / 3.0)],
        )
    }

    impl Accumulator {
        /// Adds the pixels of a (bicubic-upscaled, ground-truth) pair: every pixel of a
        /// 2 × 2 cell, one cell in two (all phases, half the cost). Samples are grouped by
        /// filter first, so each filter's normal equations stay in cache while updated.
        pub fn add(&mut self, upscaled: &Plane, truth: &Plane, se: &[f32; 2], ce: &[f32; 2]) {
            let buckets = hash_plane(upscaled, se, ce);
            let w = upscaled.width;
            let mut by_filter: Vec<Vec<(u32, u32)>> = vec![Vec::new(); FILTERS];
            for y in HALF..upscaled.height.saturating_sub(HALF) {
                for x in HALF..w.saturating_sub(HALF) {
                    if (x / 2 + y / 2) % 2 == 1 {
                        continue;
                    }
                    by_filter[filter_index(buckets[y * w + x], x, y)].push((x as u32, y as u32));
                }
            }
            let mut p = [0f32; TAPS];
            let mut pf = [0f64; TAPS];
            for (f, samples) in by_filter.iter().enumerate() {
                let ata = &mut self.ata[f * TAPS * TAPS..(f + 1) * TAPS * TAPS];
                let atb = &mut self.atb[f * TAPS..(f + 1) * TAPS];
                for &(x, y) in samples {
                    let (x, y) = (x as usize, y as usize);
                    patch(upscaled, x, y, &mut p);
                    for (d, &v) in pf.iter_mut().zip(&p) {
                        *d = f64::from(v);
                    }
                    let t = f64::from(truth.data[y * truth.width + x]);
                    for i in 0..TAPS {
                        let pi = pf[i];
                        atb[i] += pi * t;
                        let row = &mut ata[i * TAPS + i..(i + 1) * TAPS];
                        for (r, &q) in row.iter_mut().zip(&pf[i..]) {
                            *r += pi * q;
                        }
                    }
                }
                self.counts[f] += samples.len() as u64;
            }
        }

        /// Merges another accumulator (callers merge in a fixed order for
        /// reproducibility).
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

        /// Samples per filter.
        pub fn counts(&self) -> &[u64] {
            &self.counts
        }

        /// Solves every filter of a bank by ridge regression towards the identity
        /// (pass-through) filter, so buckets with few samples stay close to bicubic.
        pub fn solve(&self, ridge: f64) -> Vec<f32> {
            let mut filters = Vec::with_capacity(FILTERS * TAPS);
            let centre = HALF * PATCH + HALF;
            for f in 0..FILTERS {
                let mut a = vec![0.0f64; TAPS * TAPS];
                let src = &self.ata[f * TAPS * TAPS..(f + 1) * TAPS * TAPS];
                for i in 0..TAPS {
                    for j in i..TAPS {
                        a[i * TAPS + j] = src[i * TAPS + j];
                        a[j * TAPS + i] = src[i * TAPS + j];
                    }
                }
                let mut b: Vec<f64> = self.atb[f * TAPS..(f + 1) * TAPS].to_vec();
                let lambda = ridge * (1.0 + self.counts[f] as f64 * 1e-4);
                for i in 0..TAPS {
                    a[i * TAPS + i] += lambda;
                }
                b[centre] += lambda;
                let h = cholesky_solve(&mut a, &mut b, 1e-12).unwrap_or_else(|| {
                    let mut id = vec![0.0; TAPS];
                    id[centre] = 1.0;
                    id
                });
                filters.extend(h.iter().map(|&v| v as f32));
            }
            filters
        }
    }

    /// Solves `A x = b` for symmetric positive definite `A` (overwritten); `None` when a
    /// pivot is at most `pivot_floor` (the system is not positive definite enough).
    /// Shared by the trainers of the learned filter banks.
    pub(crate) fn cholesky_solve(
        a: &mut [f64],
        b: &mut [f64],
        pivot_floor: f64,
    ) -> Option<Vec<f64>> {
        let n = b.len();
        for j in 0..n {
            let mut d = a[j * n + j];
            for k in 0..j {
                d -= a[j * n + k] * a[j * n + k];
            }
            if d <= pivot_floor {
                return None;
            }
            let d = d.sqrt();
            a[j * n + j] = d;
            for i in j + 1..n {
                let mut s = a[i * n + j];
                for k in 0..j {
                    s -= a[i * n + k] * a[j * n + k];
                }
                a[i * n + j] = s / d;
            }
        }
        for i in 0..n {
            let mut s = b[i];
            for k in 0..i {
                s -= a[i * n + k] * b[k];
            }
            b[i] = s / a[i * n + i];
        }
        for i in (0..n).rev() {
            let mut s = b[i];
            for k in i + 1..n {
                s -= a[k * n + i] * b[k];
            }
            b[i] = s / a[i * n + i];
        }
        Some(b.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_round_trips_and_rejects_corruption() {
        let model = Model {
            strength_edges: [0.01, 0.05],
            coherence_edges: [0.2, 0.5],
            blocky_from: 1.2,
            filters: (0..BANKS * FILTERS * TAPS)
                .map(|i| (i % 13) as f32 / 13.0)
                .collect(),
        };
        let bytes = model.to_bytes();
        assert_eq!(Model::from_bytes(&bytes).unwrap(), model);
        let mut bad = bytes.clone();
        bad[100] ^= 1;
        assert!(Model::from_bytes(&bad).unwrap_err().contains("checksum"));
        assert!(Model::from_bytes(&bytes[..50]).is_err());
        assert!(Model::from_bytes(b"").is_err());
    }

    #[test]
    fn output_is_exactly_twice_the_size() {
        let img = RgbImage::from_fn(13, 7, |x, y| {
            image::Rgb([(x * 19) as u8, (y * 31) as u8, 7])
        });
        let out = upscale_2x(&img);
        assert_eq!((out.width(), out.height()), (26, 14));
    }
}
