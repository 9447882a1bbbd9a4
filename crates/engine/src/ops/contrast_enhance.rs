//! Contrast enhancement: one tone curve, chosen for what the photo needs.
//!
//! A flat photo wants a linear stretch, a dark one a lifting gamma, a washed-out one a
//! deepening gamma below lifted blacks, and a well-exposed one nothing at all. The engine
//! asks which tone curve most plausibly made the photo from a natural one. Every candidate
//! restoration is a levels step (any input black point `lo` and white point `hi`, chosen
//! independently, so a range squeezed around any pivot can be undone exactly) with a gamma
//! before or after it; together they invert every curve
//! `d(x) = lift + (1 − lift)·(c·(x − ½) + ½)^g` and its mirror images. Quantiles commute
//! with monotone curves, so applying a candidate to the photo's quantiles gives those the
//! original would have had, and a Gaussian model of the quantiles of natural photos
//! (learned from the training photos and their crops by `cargo xtask train-contrast`)
//! scores how natural that original looks. The extreme quantiles (0.1 % and 99.9 %) are
//! among the features: a natural photo nearly always reaches close to black or to white
//! somewhere, a squeezed one cannot. A prior that favours no change breaks ties, so a
//! well-exposed photo keeps its curve, and the empty codes a stretching curve leaves in an
//! 8-bit histogram say where the photo's levels were spread apart. The candidates' inverse
//! curves are averaged with their posterior weights, and the result goes through every
//! channel alike (no hue shift). If the embedded model fails to validate, a plain
//! 1st–99th percentile stretch is applied.

use std::sync::OnceLock;

use image::RgbImage;
use rayon::prelude::*;

/// Quantile levels of the features.
pub const LEVELS: [f32; 17] = [
    0.001, 0.005, 0.02, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.98, 0.995, 0.999,
];
/// Feature length.
pub const FEATURES: usize = LEVELS.len();

const MAGIC: &[u8; 8] = b"BDIPCON3";
static MODEL_BYTES: &[u8] = include_bytes!("../../models/contrast.bin");
static MODEL: OnceLock<Result<Model, String>> = OnceLock::new();
static CANDIDATES: OnceLock<Vec<Correction>> = OnceLock::new();

/// Black and white points of the candidates: `lo` in `0, STEP, …, STEPS·STEP` and `hi` the
/// same distances below 1.
const LEVEL_STEP: f32 = 0.05;
const LEVEL_STEPS: usize = 9;
/// Gamma steps (in ln gamma) of the candidates, either side of 1.
const GAMMA_STEPS: i32 = 12;
const GAMMA_STEP: f32 = 0.1;
/// Half-width of the finite differences that measure a curve's slope.
const SLOPE_H: f32 = 1.0 / 512.0;

/// A candidate correction: levels from `lo..hi` to black..white, and a gamma before or
/// after them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Correction {
    /// Input level that becomes black.
    pub lo: f32,
    /// Input level that becomes white.
    pub hi: f32,
    /// Natural logarithm of the gamma.
    pub ln_gamma: f32,
    /// Whether the gamma comes before the levels (undoing a curve that flattened first and
    /// darkened second) rather than after them.
    pub gamma_first: bool,
}

impl Correction {
    /// No correction.
    pub const IDENTITY: Correction = Correction {
        lo: 0.0,
        hi: 1.0,
        ln_gamma: 0.0,
        gamma_first: false,
    };

    /// The corrected value of `y` in 0..1.
    pub fn apply(&self, y: f32) -> f32 {
        let levels = |v: f32| ((v - self.lo) / (self.hi - self.lo).max(1e-3)).clamp(0.0, 1.0);
        if self.ln_gamma == 0.0 {
            return levels(y);
        }
        let g = self.ln_gamma.exp();
        if self.gamma_first {
            levels(y.clamp(0.0, 1.0).powf(g))
        } else {
            levels(y).powf(g)
        }
    }

    /// The slope of [`Correction::apply`] at `y`, as the secant over `y ± h`.
    fn slope(&self, y: f32, h: f32) -> f32 {
        (self.apply(y + h) - self.apply(y - h)) / (2.0 * h)
    }
}

/// Every candidate correction (the same grid for every photo).
pub fn candidates() -> &'static [Correction] {
    CANDIDATES.get_or_init(|| {
        let mut out = Vec::new();
        for li in 0..=LEVEL_STEPS {
            for hi_step in 0..=LEVEL_STEPS {
                let (lo, hi) = (li as f32 * LEVEL_STEP, 1.0 - hi_step as f32 * LEVEL_STEP);
                for gi in -GAMMA_STEPS..=GAMMA_STEPS {
                    let ln_gamma = gi as f32 * GAMMA_STEP;
                    for gamma_first in [false, true] {
                        if gi == 0 && gamma_first {
                            continue;
                        }
                        out.push(Correction {
                            lo,
                            hi,
                            ln_gamma,
                            gamma_first,
                        });
                    }
                }
            }
        }
        out
    })
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
    /// Prior cost of a correction per unit of squared distance of its black and white
    /// points from 0 and 1, and per unit of squared ln gamma, and the weight of the change
    /// of variables (below 1: the quantiles are strongly correlated, so they count as
    /// fewer independent dimensions).
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
            .map(|&y| -2.0 * curve.slope(y, SLOPE_H).max(1e-3).ln())
            .sum();
        let (lo, hi) = (curve.lo, 1.0 - curve.hi);
        m + self.prior[2] * jacobian
            + self.gap_weight * gaps.cost(curve)
            + self.prior[0] * (lo * lo + hi * hi)
            + self.prior[1] * curve.ln_gamma * curve.ln_gamma
    }

    /// The restoring table for a photo with histogram `hist`: the posterior mean of the
    /// candidates' inverse curves (the table with the least expected squared error).
    pub fn restore_lut(&self, hist: &[u64; 256]) -> [u8; 256] {
        let q = quantiles(hist);
        let gaps = Gaps::new(hist);
        let curves = candidates();
        let costs: Vec<f32> = curves.par_iter().map(|c| self.cost(&q, &gaps, c)).collect();
        let least = costs.iter().copied().fold(f32::INFINITY, f32::min);
        let mut weights: Vec<(f32, &Correction)> = costs
            .iter()
            .zip(curves)
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
    /// (centre in 0..1, codes judged, codes empty) per bin of [`Gaps::BIN`] codes, for the
    /// codes whose neighbourhood is dense enough to judge.
    bins: Vec<(f32, f32, f32)>,
}

impl Gaps {
    /// Samples per code a neighbourhood needs before an empty code counts as a gap.
    const DENSE: f64 = 20.0;
    const WINDOW: usize = 4;
    /// Codes per bin: the expected share of empty codes changes slowly with the code, so
    /// judging it per bin costs a quarter of the curve evaluations of judging every code.
    const BIN: usize = 4;

    /// The judged codes of `hist`; none at all if it has fewer than three gaps (then
    /// the histogram carries no trace of expansion and says nothing either way).
    pub fn new(hist: &[u64; 256]) -> Self {
        let mut bins: Vec<(f32, f32, f32)> = Vec::new();
        let mut gaps = 0;
        for start in (0..256).step_by(Self::BIN) {
            let (mut sum, mut judged, mut empty) = (0.0f32, 0.0f32, 0.0f32);
            for v in start..start + Self::BIN {
                if !(Self::WINDOW..256 - Self::WINDOW).contains(&v) {
                    continue;
                }
                let window = &hist[v - Self::WINDOW..=v + Self::WINDOW];
                let density = window.iter().sum::<u64>() as f64 / window.len() as f64;
                if density >= Self::DENSE {
                    sum += v as f32;
                    judged += 1.0;
                    if hist[v] == 0 {
                        empty += 1.0;
                        gaps += 1;
                    }
                }
            }
            if judged > 0.0 {
                bins.push((sum / judged / 255.0, judged, empty));
            }
        }
        if gaps < 3 {
            bins.clear();
        }
        Self { bins }
    }

    /// Squared error between the gaps seen and those `curve`'s inverse would have left
    /// (summed over the judged codes).
    pub fn cost(&self, curve: &Correction) -> f32 {
        let h = Self::BIN as f32 / 510.0;
        self.bins
            .iter()
            .map(|&(y, judged, empty)| {
                let expected = (1.0 - curve.slope(y, h)).max(0.0);
                empty * (1.0 - expected) * (1.0 - expected) + (judged - empty) * expected * expected
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
    fn off_centre_squeeze_gets_its_own_black_and_white_points() {
        // Uniform tones squeezed into 110..=237 (bright, off-centre): the restoring
        // levels need a black point near 110 and a white point near 237, independently.
        let model = test_model();
        let mut squeezed = [0u64; 256];
        squeezed[110..=237].iter_mut().for_each(|h| *h = 200);
        let lut = model.restore_lut(&squeezed);
        assert!(lut[112] < 20 && lut[235] > 235, "{} {}", lut[112], lut[235]);
        let mid = i32::from(lut[174]);
        assert!((mid - 128).abs() < 20, "{mid}");
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
