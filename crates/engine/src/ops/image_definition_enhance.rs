//! Definition enhance: sharpens soft, compressed photos without amplifying noise or
//! compression artefacts.
//!
//! Method: learned, hashed 7 × 7 filters on luma (in the manner of RAISR). Each pixel's
//! neighbourhood is classified by its gradient structure (the structure tensor over a 5 ×
//! 5 window: edge angle, strength and coherence) and filtered by the least-squares filter
//! of its class, trained by `cargo xtask train-definition` on photos blurred (Gaussian σ
//! 1.2) and re-saved as JPEG (quality 85), so the filters learn to undo softness while
//! leaving block edges and flat noise alone. The luma change is added to all three
//! channels, so hue and saturation stay. If the embedded model fails to validate, the
//! image comes back unchanged.

use std::sync::OnceLock;

use image::RgbImage;
use rayon::prelude::*;

use crate::filters::planes::{Plane, box_mean};

/// Filter taps per side.
pub const PATCH: usize = 7;
/// Taps of one filter.
pub const TAPS: usize = PATCH * PATCH;
const HALF: usize = PATCH / 2;
/// Angle, strength and coherence classes.
pub const ANGLES: usize = 8;
pub const STRENGTHS: usize = 3;
pub const COHERENCES: usize = 3;
/// Filters in a model.
pub const CLASSES: usize = ANGLES * STRENGTHS * COHERENCES;
/// Strength and coherence class edges (fixed, on luma in 0..255).
const STRENGTH_EDGES: [f32; STRENGTHS - 1] = [4.0, 16.0];
const COHERENCE_EDGES: [f32; COHERENCES - 1] = [0.3, 0.6];

const MAGIC: [u8; 8] = *b"BDIPDEF1";
static MODEL_BYTES: &[u8] = include_bytes!("../../models/definition.bin");
static MODEL: OnceLock<Result<Vec<f32>, String>> = OnceLock::new();

fn model() -> Result<&'static [f32], String> {
    MODEL
        .get_or_init(|| {
            crate::model_file::read(
                MODEL_BYTES,
                "definition",
                MAGIC,
                &[CLASSES, TAPS],
                CLASSES * TAPS,
            )
        })
        .as_ref()
        .map(Vec::as_slice)
        .map_err(Clone::clone)
}

/// Serialises trained filters (`CLASSES × TAPS`) in the engine's model format.
#[cfg(feature = "training")]
pub fn model_bytes(filters: &[f32]) -> Vec<u8> {
    crate::model_file::write(MAGIC, &[CLASSES, TAPS], filters.iter().copied())
}

/// Whether the embedded model loaded, or why not.
#[cfg(any(test, feature = "training"))]
pub fn model_status() -> Result<(), String> {
    model().map(|_| ())
}

/// Luma in 0..255 (Rec. 601).
pub fn luma(img: &RgbImage) -> Plane {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let raw = img.as_raw();
    Plane::from_fn(w, h, |x, y| {
        let i = (y * w + x) * 3;
        0.299 * f32::from(raw[i]) + 0.587 * f32::from(raw[i + 1]) + 0.114 * f32::from(raw[i + 2])
    })
}

/// The class of every pixel, from the structure tensor of the luma gradients.
pub fn classes(y: &Plane) -> Vec<u16> {
    let (w, h) = (y.width, y.height);
    let at = |x: isize, yy: isize| {
        y.at(
            x.clamp(0, w as isize - 1) as usize,
            yy.clamp(0, h as isize - 1) as usize,
        )
    };
    let gx = Plane::from_fn(w, h, |x, yy| {
        (at(x as isize + 1, yy as isize) - at(x as isize - 1, yy as isize)) / 2.0
    });
    let gy = Plane::from_fn(w, h, |x, yy| {
        (at(x as isize, yy as isize + 1) - at(x as isize, yy as isize - 1)) / 2.0
    });
    let xx = box_mean(&gx.zip(&gx, |a, b| a * b), 2);
    let xy = box_mean(&gx.zip(&gy, |a, b| a * b), 2);
    let yy = box_mean(&gy.zip(&gy, |a, b| a * b), 2);
    (0..w * h)
        .into_par_iter()
        .map(|i| {
            let (a, b, d) = (xx.data[i], xy.data[i], yy.data[i]);
            let half_trace = f32::midpoint(a, d);
            let root = ((a - d) * (a - d) / 4.0 + b * b).sqrt();
            let (l1, l2) = (half_trace + root, (half_trace - root).max(0.0));
            // Direction of the dominant gradient, folded to 0..π.
            let theta = 0.5 * (2.0 * b).atan2(a - d);
            let theta = if theta < 0.0 {
                theta + std::f32::consts::PI
            } else {
                theta
            };
            let angle = ((theta / std::f32::consts::PI * ANGLES as f32) as usize).min(ANGLES - 1);
            let strength = l1.sqrt();
            let (s1, s2) = (l1.sqrt(), l2.sqrt());
            let coherence = if s1 + s2 > 1e-6 {
                (s1 - s2) / (s1 + s2)
            } else {
                0.0
            };
            let s = STRENGTH_EDGES.iter().filter(|&&e| strength > e).count();
            let c = COHERENCE_EDGES.iter().filter(|&&e| coherence > e).count();
            ((angle * STRENGTHS + s) * COHERENCES + c) as u16
        })
        .collect()
}

/// The 7 × 7 neighbourhood of (x, y), edges clamped, into `taps`.
pub fn neighbourhood(y: &Plane, x: usize, yy: usize, taps: &mut [f32; TAPS]) {
    let (w, h) = (y.width as isize, y.height as isize);
    for dy in 0..PATCH {
        let sy = (yy as isize + dy as isize - HALF as isize).clamp(0, h - 1) as usize;
        let row = &y.data[sy * y.width..(sy + 1) * y.width];
        for dx in 0..PATCH {
            let sx = (x as isize + dx as isize - HALF as isize).clamp(0, w - 1) as usize;
            taps[dy * PATCH + dx] = row[sx];
        }
    }
}

/// The sharpened image.
pub(crate) fn sharpen(img: &RgbImage) -> RgbImage {
    let Ok(filters) = model() else {
        return img.clone();
    };
    if img.width() == 0 || img.height() == 0 {
        return img.clone();
    }
    let y = luma(img);
    let class = classes(&y);
    let w = y.width;
    let mut out = img.clone();
    out.par_chunks_mut(w * 3).enumerate().for_each(|(yy, row)| {
        let mut taps = [0.0f32; TAPS];
        for x in 0..w {
            neighbourhood(&y, x, yy, &mut taps);
            let f = &filters[usize::from(class[yy * w + x]) * TAPS..][..TAPS];
            let predicted: f32 = taps.iter().zip(f).map(|(a, b)| a * b).sum();
            let delta = predicted - y.at(x, yy);
            for v in &mut row[x * 3..x * 3 + 3] {
                *v = (f32::from(*v) + delta + 0.5).clamp(0.0, 255.0) as u8;
            }
        }
    });
    out
}

/// Least-squares training of the filters (used by `cargo xtask train-definition`).
#[cfg(any(test, feature = "training"))]
#[cfg_attr(not(feature = "training"), allow(dead_code))] // tests use a part
pub mod training {
    use super::{CLASSES, Plane, TAPS, classes, neighbourhood};

    /// Normal equations of every class.
    #[derive(Debug, Clone)]
    pub struct Accumulator {
        ata: Vec<f64>,
        atb: Vec<f64>,
        count: Vec<u64>,
    }

    impl Default for Accumulator {
        fn default() -> Self {
            Self {
                ata: vec![0.0; CLASSES * TAPS * TAPS],
                atb: vec![0.0; CLASSES * TAPS],
                count: vec![0; CLASSES],
            }
        }
    }

    impl Accumulator {
        /// Adds the pixels of a (degraded luma, clean luma) pair, every `stride`-th
        /// pixel in each direction.
        pub fn add(&mut self, degraded: &Plane, clean: &Plane, stride: usize) {
            let class = classes(degraded);
            let mut taps = [0.0f32; TAPS];
            for y in (0..degraded.height).step_by(stride.max(1)) {
                for x in (0..degraded.width).step_by(stride.max(1)) {
                    let c = usize::from(class[y * degraded.width + x]);
                    neighbourhood(degraded, x, y, &mut taps);
                    let target = f64::from(clean.at(x, y));
                    let ata = &mut self.ata[c * TAPS * TAPS..(c + 1) * TAPS * TAPS];
                    for i in 0..TAPS {
                        let ti = f64::from(taps[i]);
                        for j in i..TAPS {
                            ata[i * TAPS + j] += ti * f64::from(taps[j]);
                        }
                        self.atb[c * TAPS + i] += ti * target;
                    }
                    self.count[c] += 1;
                }
            }
        }

        /// Merges another accumulator into this one.
        pub fn merge(&mut self, other: &Accumulator) {
            for (a, b) in self.ata.iter_mut().zip(&other.ata) {
                *a += b;
            }
            for (a, b) in self.atb.iter_mut().zip(&other.atb) {
                *a += b;
            }
            for (a, b) in self.count.iter_mut().zip(&other.count) {
                *a += b;
            }
        }

        /// Pixels seen per class.
        pub fn counts(&self) -> &[u64] {
            &self.count
        }

        /// Solves every class with ridge `lambda` (relative to the mean diagonal); a
        /// class with too few samples gets the identity filter.
        pub fn solve(&self, lambda: f64) -> Vec<f32> {
            let mut out = Vec::with_capacity(CLASSES * TAPS);
            for c in 0..CLASSES {
                let mut identity = vec![0.0f32; TAPS];
                identity[TAPS / 2] = 1.0;
                if self.count[c] < 4 * TAPS as u64 {
                    out.extend(identity);
                    continue;
                }
                let mut a = vec![0.0f64; TAPS * TAPS];
                let src = &self.ata[c * TAPS * TAPS..(c + 1) * TAPS * TAPS];
                for i in 0..TAPS {
                    for j in i..TAPS {
                        a[i * TAPS + j] = src[i * TAPS + j];
                        a[j * TAPS + i] = src[i * TAPS + j];
                    }
                }
                let diag = (0..TAPS).map(|i| a[i * TAPS + i]).sum::<f64>() / TAPS as f64;
                for i in 0..TAPS {
                    a[i * TAPS + i] += lambda * diag;
                }
                let mut b = self.atb[c * TAPS..(c + 1) * TAPS].to_vec();
                match crate::filters::linalg::cholesky_solve(
                    &mut a, &mut b, 0.0,
                ) {
                    Some(x) => out.extend(x.iter().map(|&v| v as f32)),
                    None => out.extend(identity),
                }
            }
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_model_loads() {
        assert_eq!(model_status(), Ok(()));
    }

    #[test]
    fn keeps_flat_images_and_sizes() {
        for (w, h) in [(1, 1), (1, 20), (20, 1), (30, 20)] {
            let flat = RgbImage::from_pixel(w, h, image::Rgb([90, 120, 150]));
            let out = sharpen(&flat);
            assert_eq!(out.dimensions(), (w, h));
            for (a, b) in out.as_raw().iter().zip(flat.as_raw()) {
                assert!((i16::from(*a) - i16::from(*b)).abs() <= 2);
            }
        }
    }

    #[test]
    fn training_recovers_a_known_filter() {
        // Target = the degraded image itself: every class learns the identity.
        let p = Plane::from_fn(40, 40, |x, y| {
            ((x * 7 + y * 13) % 17) as f32 * 10.0 + (x as f32).sin() * 5.0
        });
        let mut acc = training::Accumulator::default();
        acc.add(&p, &p, 1);
        let filters = acc.solve(1e-6);
        for (c, &n) in acc.counts().iter().enumerate() {
            if n >= 4 * TAPS as u64 {
                let f = &filters[c * TAPS..(c + 1) * TAPS];
                assert!(
                    (f[TAPS / 2] - 1.0).abs() < 0.05,
                    "class {c}: {}",
                    f[TAPS / 2]
                );
            }
        }
    }
}
