//! Contrast enhancement: one tone curve, chosen for what the photo needs.
//!
//! A flat photo wants a linear stretch, a dark one a lifting gamma, a washed-out one a
//! deepening gamma below lifted blacks, and a well-exposed one nothing at all. The engine
//! asks which degradation `d(x) = lift + (1 − lift)·(c·(x − ½) + ½)^g` most plausibly made
//! the photo: quantiles commute with monotone curves, so undoing a candidate `d` turns the
//! photo's quantiles into those the original would have had, and a Gaussian model of the
//! quantiles of natural photos (learned from the training photos and their crops by
//! `cargo xtask train-contrast`) scores how natural that original looks. A prior that
//! favours no degradation breaks ties, so a well-exposed photo keeps its curve. The
//! candidates' inverse curves are averaged with their posterior weights, and the result
//! goes through every channel alike (no hue shift). If the embedded model fails to
//! validate, a plain 1st–99th percentile stretch is applied.

use std::sync::OnceLock;

use image::RgbImage;
use rayon::prelude::*;

/// Quantile levels of the features.
pub const LEVELS: [f32; 15] = [
    0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99,
];
/// Feature length.
pub const FEATURES: usize = LEVELS.len();

const MAGIC: &[u8; 8] = b"BDIPCON2";
static MODEL_BYTES: &[u8] = include_bytes!("../models/contrast.bin");
static MODEL: OnceLock<Result<Model, String>> = OnceLock::new();

/// Stretch amounts and gamma steps of the candidate corrections.
const STRETCH_STEPS: usize = 8;
const GAMMA_STEPS: i32 = 12;
const GAMMA_STEP: f32 = 0.1;
/// Quantile levels the full stretch maps to black and white (indices into [`LEVELS`]).
const STRETCH_LOW: usize = 0;
const STRETCH_HIGH: usize = FEATURES - 1;

/// A candidate correction: levels from `lo..hi` to black..white, then a gamma.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Correction {
    /// Input level that becomes black.
    pub lo: f32,
    /// Input level that becomes white.
    pub hi: f32,
    /// Natural logarithm of the gamma applied after the levels.
    pub ln_gamma: f32,
    /// Share of the full stretch (0 keeps the levels).
    pub stretch: f32,
    /// Whether the gamma comes before the levels (undoing a curve that flattened first and
    /// darkened second) rather than after them.
    pub gamma_first: bool,
}

impl Correction {
    /// The corrected value of `y` in 0..1.
    pub fn apply(&self, y: f32) -> f32 {
        let g = self.ln_gamma.exp();
        let levels = |v: f32| ((v - self.lo) / (self.hi - self.lo).max(1e-3)).clamp(0.0, 1.0);
        if self.gamma_first {
            levels(y.clamp(0.0, 1.0).powf(g))
        } else {
            levels(y).powf(g)
        }
    }
}

/// Every candidate correction for a photo with quantiles `q`: a share of the stretch of
/// its extreme quantiles to black and white, and a gamma before or after it.
pub fn candidates(q: &[f32; FEATURES]) -> Vec<Correction> {
    let (lo, hi) = (q[STRETCH_LOW], q[STRETCH_HIGH].max(q[STRETCH_LOW] + 0.02));
    let mut out = Vec::new();
    for si in 0..=STRETCH_STEPS {
        let stretch = si as f32 / STRETCH_STEPS as f32;
        for gi in -GAMMA_STEPS..=GAMMA_STEPS {
            let ln_gamma = gi as f32 * GAMMA_STEP;
            out.push(Correction {
                lo: stretch * lo,
                hi: 1.0 - stretch * (1.0 - hi),
                ln_gamma,
                stretch,
                gamma_first: false,
            });
            if gi != 0 {
                let g = ln_gamma.exp();
                out.push(Correction {
                    lo: stretch * lo.powf(g),
                    hi: 1.0 - stretch * (1.0 - hi.powf(g)),
                    ln_gamma,
                    stretch,
                    gamma_first: true,
                });
            }
        }
    }
    out
}

/// Parameters of a degradation curve `d(x) = lift + (1 − lift)·(c·(x − ½) + ½)^g`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Curve {
    /// Black level the curve lifts to, 0..1.
    pub lift: f32,
    /// Natural logarithm of the gamma `g`.
    pub ln_gamma: f32,
    /// Natural logarithm of the contrast factor `c` around mid-grey.
    pub ln_contrast: f32,
}

impl Curve {
    /// No degradation.
    pub const IDENTITY: Curve = Curve {
        lift: 0.0,
        ln_gamma: 0.0,
        ln_contrast: 0.0,
    };

    /// The degradation applied to a value in 0..1.
    pub fn degrade(&self, x: f32) -> f32 {
        let c = self.ln_contrast.exp();
        let g = self.ln_gamma.exp();
        let base = (c * (x - 0.5) + 0.5).clamp(0.0, 1.0);
        (self.lift + (1.0 - self.lift) * base.powf(g)).clamp(0.0, 1.0)
    }

    /// The inverse of [`Curve::degrade`], clamped to 0..1.
    pub fn restore(&self, y: f32) -> f32 {
        let c = self.ln_contrast.exp();
        let g = self.ln_gamma.exp();
        let base = ((y - self.lift).max(0.0) / (1.0 - self.lift).max(1e-3)).powf(1.0 / g);
        ((base - 0.5) / c + 0.5).clamp(0.0, 1.0)
    }

    /// The 8-bit table of [`Curve::restore`].
    pub fn restore_lut(&self) -> [u8; 256] {
        std::array::from_fn(|i| (self.restore(i as f32 / 255.0) * 255.0 + 0.5) as u8)
    }
}

/// What natural photos look like, and how much a degradation must explain to be believed.
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    /// Mean quantiles at [`LEVELS`] of natural photos.
    pub mean: [f32; FEATURES],
    /// Inverse covariance (row-major) of those quantiles.
    pub precision: Vec<f32>,
    /// Prior cost of a correction per unit of squared missing stretch share (natural
    /// photos span the tonal range) and of squared ln gamma, and the
    /// weight of the change of variables (below 1: the quantiles are strongly correlated,
    /// so they count as fewer independent dimensions).
    pub prior: [f32; 3],
    /// Temperature of the posterior (1 is Bayes; larger averages more candidates).
    pub temperature: f32,
    /// Weight of the evidence of empty codes (see [`Gaps`]).
    pub gap_weight: f32,
}

/// Whether the embedded model loaded (`Ok`) or why not (the engine then only stretches).
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
            .mean
            .iter()
            .chain(&self.precision)
            .chain(&self.prior)
            .chain([&self.temperature, &self.gap_weight])
            .copied();
        crate::model_file::write(*MAGIC, &[FEATURES], values)
    }

    /// Parses and validates a model file.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, String> {
        let count = FEATURES + FEATURES * FEATURES + 5;
        let v = crate::model_file::read(bytes, "contrast", *MAGIC, &[FEATURES], count)?;
        let mut mean = [0f32; FEATURES];
        mean.copy_from_slice(&v[..FEATURES]);
        let precision = v[FEATURES..FEATURES + FEATURES * FEATURES].to_vec();
        let rest = &v[FEATURES + FEATURES * FEATURES..];
        let (prior, temperature, gap_weight) = ([rest[0], rest[1], rest[2]], rest[3], rest[4]);
        if temperature <= 0.0 || gap_weight < 0.0 || prior.iter().any(|&p| p < 0.0) {
            return Err("contrast model holds a negative prior or temperature".into());
        }
        Ok(Self {
            mean,
            precision,
            prior,
            temperature,
            gap_weight,
        })
    }

    /// Cost of a candidate (−2 log of its posterior): how unnatural the photo's quantiles
    /// `q` look once `curve` is undone (squared Mahalanobis distance), the change of
    /// variables, and the prior cost of `curve`.
    pub fn cost(&self, q: &[f32; FEATURES], gaps: &Gaps, curve: &Correction) -> f32 {
        let r: [f32; FEATURES] = std::array::from_fn(|k| curve.apply(q[k]) - self.mean[k]);
        let mut m = 0.0;
        for (i, ri) in r.iter().enumerate() {
            let row = &self.precision[i * FEATURES..(i + 1) * FEATURES];
            m += ri * row.iter().zip(&r).map(|(p, rj)| p * rj).sum::<f32>();
        }
        // The change of variables: a curve that spreads the quantiles apart makes the
        // photo's own quantiles that much less likely (without this, every photo would be
        // pulled towards the average one).
        let jacobian: f32 = q
            .iter()
            .map(|&y| {
                let h = 1.0 / 512.0;
                let slope = (curve.apply(y + h) - curve.apply(y - h)) / (2.0 * h);
                -2.0 * slope.max(1e-3).ln()
            })
            .sum();
        m + self.prior[2] * jacobian
            + self.gap_weight * gaps.cost(curve)
            + self.prior[0] * (1.0 - curve.stretch) * (1.0 - curve.stretch)
            + self.prior[1] * curve.ln_gamma * curve.ln_gamma
    }

    /// The restoring table for a photo with histogram `hist`: the posterior mean of the
    /// candidates' inverse curves (the table with the least expected squared error).
    pub fn restore_lut(&self, hist: &[u64; 256]) -> [u8; 256] {
        let q = quantiles(hist);
        let gaps = Gaps::new(hist);
        let curves = candidates(&q);
        let costs: Vec<f32> = curves.par_iter().map(|c| self.cost(&q, &gaps, c)).collect();
        let least = costs.iter().copied().fold(f32::INFINITY, f32::min);
        let mut weights: Vec<(f32, &Correction)> = costs
            .iter()
            .zip(&curves)
            .map(|(&c, curve)| ((-(c - least) / (2.0 * self.temperature)).exp(), curve))
            .filter(|(w, _)| *w > 1e-4)
            .collect();
        // A fixed order, so the sum is the same however the costs were computed.
        weights.sort_by(|a, b| b.0.total_cmp(&a.0));
        let total: f32 = weights.iter().map(|(w, _)| w).sum();
        if total.is_nan() || total <= 0.0 {
            return stretch_lut(hist);
        }
        std::array::from_fn(|i| {
            let y = i as f32 / 255.0;
            let v: f32 = weights.iter().map(|(w, c)| w * c.apply(y)).sum::<f32>() / total;
            (v * 255.0 + 0.5).clamp(0.0, 255.0) as u8
        })
    }
}

/// The empty codes of an 8-bit histogram where its neighbours are well filled: a curve
/// that spread an 8-bit photo's levels apart by a factor `k` leaves a share `1 − 1/k` of
/// the codes there empty, which natural photos (and photos compressed after the curve) do
/// not. So the gaps say where, and by how much, the photo's levels were expanded.
#[derive(Debug, Clone)]
pub struct Gaps {
    /// (code, 1 if empty) for the codes whose neighbourhood is dense enough to judge.
    codes: Vec<(u8, f32)>,
}

impl Gaps {
    /// Samples per code a neighbourhood needs before an empty code counts as a gap.
    const DENSE: f64 = 20.0;
    const WINDOW: usize = 4;

    /// The judged codes of `hist`; none at all if it has fewer than three gaps (then
    /// the histogram carries no trace of expansion and says nothing either way).
    pub fn new(hist: &[u64; 256]) -> Self {
        let mut codes = Vec::new();
        for v in Self::WINDOW..256 - Self::WINDOW {
            let window = &hist[v - Self::WINDOW..=v + Self::WINDOW];
            let density = window.iter().sum::<u64>() as f64 / window.len() as f64;
            if density >= Self::DENSE {
                codes.push((v as u8, if hist[v] == 0 { 1.0 } else { 0.0 }));
            }
        }
        if codes.iter().filter(|(_, e)| *e > 0.0).count() < 3 {
            codes.clear();
        }
        Self { codes }
    }

    /// Squared error between the gaps seen and those `curve`'s inverse would have left.
    pub fn cost(&self, curve: &Correction) -> f32 {
        let h = 1.0 / 512.0;
        self.codes
            .iter()
            .map(|&(v, empty)| {
                let y = f32::from(v) / 255.0;
                let slope = (curve.apply(y + h) - curve.apply(y - h)) / (2.0 * h);
                let expected = (1.0 - slope).max(0.0);
                (empty - expected) * (empty - expected)
            })
            .sum()
    }
}

/// Histogram of all samples.
pub fn histogram(samples: &[u8]) -> [u64; 256] {
    samples
        .par_chunks(1 << 16)
        .map(|chunk| {
            let mut h = [0u64; 256];
            for &v in chunk {
                h[usize::from(v)] += 1;
            }
            h
        })
        .reduce(
            || [0u64; 256],
            |mut a, b| {
                for (x, y) in a.iter_mut().zip(b) {
                    *x += y;
                }
                a
            },
        )
}

/// The quantiles at [`LEVELS`] of a histogram, in 0..1 (interpolated within a bin, so
/// they move smoothly with the curve).
pub fn quantiles(hist: &[u64; 256]) -> [f32; FEATURES] {
    let n = hist.iter().sum::<u64>().max(1) as f64;
    let mut out = [0f32; FEATURES];
    let (mut acc, mut bin) = (0u64, 0usize);
    for (o, &level) in out.iter_mut().zip(&LEVELS) {
        let target = f64::from(level) * n;
        while bin < 255 && (acc + hist[bin]) as f64 <= target {
            acc += hist[bin];
            bin += 1;
        }
        let within = if hist[bin] > 0 {
            ((target - acc as f64) / hist[bin] as f64).clamp(0.0, 1.0)
        } else {
            0.5
        };
        *o = ((bin as f64 + within) / 256.0) as f32;
    }
    out
}

/// Enhances the contrast of `img`: one table, the same for every channel.
pub(crate) fn contrast(img: &RgbImage) -> RgbImage {
    let raw = img.as_raw();
    if raw.is_empty() {
        return img.clone();
    }
    let hist = histogram(raw);
    let lut = match model() {
        Ok(model) => model.restore_lut(&hist),
        Err(_) => stretch_lut(&hist),
    };
    let out: Vec<u8> = raw.par_iter().map(|&v| lut[usize::from(v)]).collect();
    RgbImage::from_raw(img.width(), img.height(), out).unwrap_or_else(|| img.clone())
}

/// The fallback: the 1st and 99th percentiles of all samples to black and white.
pub fn stretch_lut(hist: &[u64; 256]) -> [u8; 256] {
    let n = hist.iter().sum::<u64>() as f64;
    let percentile = |q: f64| {
        let mut acc = 0u64;
        for (i, &c) in hist.iter().enumerate() {
            acc += c;
            if acc as f64 >= q * n {
                return i as f32;
            }
        }
        255.0
    };
    let (lo, hi) = (percentile(0.01), percentile(0.99));
    let span = (hi - lo).max(1.0);
    std::array::from_fn(|i| (((i as f32 - lo) / span).clamp(0.0, 1.0) * 255.0 + 0.5) as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restore_inverts_degrade() {
        for curve in [
            Curve::IDENTITY,
            Curve {
                lift: 0.2,
                ln_gamma: 0.5f32.ln(),
                ln_contrast: 0.0,
            },
            Curve {
                lift: 0.0,
                ln_gamma: 2.2f32.ln(),
                ln_contrast: 0.5f32.ln(),
            },
        ] {
            for i in 0..=20 {
                let x = i as f32 / 20.0;
                let back = curve.restore(curve.degrade(x));
                assert!((back - x).abs() < 1e-3, "{curve:?} at {x}: {back}");
            }
        }
    }

    fn test_model() -> Model {
        let mut precision = vec![0.0; FEATURES * FEATURES];
        for i in 0..FEATURES {
            precision[i * FEATURES + i] = 10_000.0;
        }
        Model {
            mean: LEVELS,
            precision,
            prior: [0.0, 100.0, 1.0],
            temperature: 1.0,
            gap_weight: 1.0,
        }
    }

    #[test]
    fn model_round_trips_and_rejects_corruption() {
        let model = test_model();
        let bytes = model.to_bytes();
        assert_eq!(Model::from_bytes(&bytes).unwrap(), model);
        let mut bad = bytes.clone();
        bad[30] ^= 1;
        assert!(Model::from_bytes(&bad).is_err());
        assert!(Model::from_bytes(&bytes[..10]).is_err());
    }

    #[test]
    fn natural_histogram_is_kept_and_halved_one_stretched() {
        let model = test_model();
        // Uniform samples match the model's natural quantiles: nothing to undo.
        let lut = model.restore_lut(&[100; 256]);
        assert!(
            lut.iter()
                .enumerate()
                .all(|(i, &v)| (i32::from(v) - i as i32).abs() <= 3)
        );
        // The same with contrast halved comes back stretched.
        let mut halved = [0u64; 256];
        halved[64..192].iter_mut().for_each(|h| *h = 200);
        let lut = model.restore_lut(&halved);
        assert!(lut[70] < 30 && lut[185] > 225, "{} {}", lut[70], lut[185]);
    }

    #[test]
    fn quantiles_of_a_uniform_histogram_are_the_levels() {
        let q = quantiles(&[100; 256]);
        for (a, b) in q.iter().zip(LEVELS) {
            assert!((a - b).abs() < 0.01, "{a} vs {b}");
        }
    }

    #[test]
    fn flat_photo_is_stretched_by_the_fallback() {
        let mut hist = [0u64; 256];
        hist[100..150].iter_mut().for_each(|h| *h = 10);
        let lut = stretch_lut(&hist);
        assert_eq!(lut[100], 0);
        assert!(lut[149] > 250);
    }
}
