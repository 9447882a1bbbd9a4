//! 2x upscale ("image quality enhance"): RAISR-style hashed filters on luminance.
//!
//! Every low-resolution luma pixel gets a hash of its local gradient structure (angle,
//! strength, coherence; `image_quality_enhance/hash.rs`). The hash picks four learned 7 × 7 filters, one per
//! pixel phase of the 2x grid, which map the pixel's low-resolution neighbourhood straight
//! to the four output pixels it covers (`image_quality_enhance/kernel.rs`). Reading the low-resolution plane
//! directly (rather than a bicubic upscale, as RAISR does) sees as much context with 49
//! taps instead of 81, and hashes a quarter of the pixels.
//!
//! The filters are stored as full predictors and applied as residuals over Catmull-Rom:
//! the output is the Catmull-Rom upscale of each colour channel plus the luma residual,
//! so chroma stays bicubic (the eye resolves it poorly). Two banks: one trained on clean
//! inputs, one on JPEG-compressed ones (it learns to leave the block grid alone rather
//! than sharpen it); the input's blockiness picks the bank. Filters are trained by
//! `cargo xtask train-enhance` (least squares, see [`training`]) and embedded with
//! `include_bytes!`; if the embedded model fails to validate, the engine falls back to
//! plain bicubic and says so through [`model_status`].
//!
//! A second stage ([`refine`]), a small convolutional network per bank on the
//! low-resolution grid, corrects the filters' luma residual before it is added: the
//! nonlinearity a linear filter per bucket lacks (telling edges from texture, stopping
//! overshoot). Trained by the same command after the filters; if its model fails to
//! validate, the filters run alone.

pub mod deblock;
mod hash;
mod kernel;
pub mod refine;
#[doc(hidden)]
#[cfg(any(test, feature = "training"))]
pub mod training;

use std::sync::OnceLock;

use image::RgbImage;
use rayon::prelude::*;

use crate::filters::channels::UNIT;
use crate::filters::planes::Plane;

pub use crate::filters::blockiness::blockiness;
pub use crate::filters::channels::luma_plane;

pub use hash::bucket_plane;
#[cfg(feature = "training")]
pub use hash::structure;

/// Low-resolution pixels on each side of the centre of a filter.
pub const RADIUS: usize = 3;
/// Filter taps per side.
pub const SIDE: usize = 2 * RADIUS + 1;
/// Taps of one filter.
pub const TAPS: usize = SIDE * SIDE;
/// Angle buckets over 0..π.
pub const ANGLES: usize = 16;
/// Strength buckets.
pub const STRENGTHS: usize = 5;
/// Coherence buckets.
pub const COHERENCES: usize = 3;
/// Hash buckets (angle × strength × coherence).
pub const BUCKETS: usize = ANGLES * STRENGTHS * COHERENCES;
/// Pixel phases on the 2x grid (one filter each per bucket).
pub const PHASES: usize = 4;
/// Filters in a bank.
pub const FILTERS: usize = BUCKETS * PHASES;
/// Banks: clean inputs, then compressed ones.
pub const BANKS: usize = 2;
/// The index of the compressed bank.
pub const COMPRESSED: usize = 1;

const MAGIC: &[u8; 8] = b"BDIPRSR3";
static MODEL_BYTES: &[u8] = include_bytes!("../../models/enhance.bin");
static MODEL: OnceLock<Result<Prepared, String>> = OnceLock::new();
static REFINER_BYTES: &[u8] = include_bytes!("../../models/enhance-refine.bin");
static REFINERS: OnceLock<Result<Vec<refine::Net>, String>> = OnceLock::new();

/// Learned filters and hashing thresholds.
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    /// Strength bucket edges.
    pub strength_edges: [f32; STRENGTHS - 1],
    /// Coherence bucket edges.
    pub coherence_edges: [f32; COHERENCES - 1],
    /// Input blockiness (see [`blockiness`]) from which the compressed bank is used.
    pub blocky_from: f32,
    /// `BANKS × BUCKETS × PHASES × TAPS` weights: each filter maps the 7 × 7
    /// low-resolution neighbourhood (row-major) to one output pixel.
    pub filters: Vec<f32>,
    /// `deblock::POSITIONS × TAPS` weights: the learned deblocking applied to an input
    /// before the compressed bank upscales it (see [`deblock`]).
    pub deblock: Vec<f32>,
}

/// A model with its banks laid out for [`kernel::residual`].
struct Prepared {
    model: Model,
    banks: Vec<kernel::Bank>,
}

impl Prepared {
    fn new(model: Model) -> Self {
        let per_bank = FILTERS * TAPS;
        let banks = model
            .filters
            .chunks_exact(per_bank)
            .map(kernel::Bank::new)
            .collect();
        Self { model, banks }
    }
}

/// Whether the embedded models loaded (`Ok`) or why not: without the filters the engine
/// uses bicubic, without the second stage the filters alone.
pub fn model_status() -> Result<(), String> {
    prepared().map(|_| ())?;
    refiners().map(|_| ())
}

/// The embedded second stage, one network per bank.
fn refiners() -> Result<&'static [refine::Net], String> {
    REFINERS
        .get_or_init(|| refine::nets_from_bytes(REFINER_BYTES, BANKS))
        .as_deref()
        .map_err(Clone::clone)
}

fn prepared() -> Result<&'static Prepared, String> {
    MODEL
        .get_or_init(|| Model::from_bytes(MODEL_BYTES).map(Prepared::new))
        .as_ref()
        .map_err(Clone::clone)
}

fn layout() -> [usize; 8] {
    [
        RADIUS,
        ANGLES,
        STRENGTHS,
        COHERENCES,
        PHASES,
        BANKS,
        deblock::POSITIONS,
        1,
    ]
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
            .chain(&self.deblock)
            .copied();
        crate::model_file::write(*MAGIC, &layout(), values)
    }

    /// Parses and validates a model file.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, String> {
        const HEAD: usize = STRENGTHS - 1 + COHERENCES - 1 + 1;
        const BANK_WEIGHTS: usize = BANKS * FILTERS * TAPS;
        let count = HEAD + BANK_WEIGHTS + deblock::POSITIONS * TAPS;
        let v = crate::model_file::read(bytes, "enhance", *MAGIC, &layout(), count)?;
        let (s, rest) = v.split_at(STRENGTHS - 1);
        let (c, rest) = rest.split_at(COHERENCES - 1);
        let (blocky, rest) = rest.split_at(1);
        let (filters, deblock) = rest.split_at(BANK_WEIGHTS);
        Ok(Self {
            strength_edges: std::array::from_fn(|i| s[i]),
            coherence_edges: std::array::from_fn(|i| c[i]),
            blocky_from: blocky[0],
            filters: filters.to_vec(),
            deblock: deblock.to_vec(),
        })
    }
}

/// Upscales `src` by exactly 2x in each direction with the embedded model.
pub(crate) fn upscale_2x(src: &RgbImage) -> RgbImage {
    upscale_2x_in(src, None)
}

/// [`upscale_2x`] with `bank`, or the bank [`bank_for`] picks from the pixels.
pub(crate) fn upscale_2x_in(src: &RgbImage, bank: Option<usize>) -> RgbImage {
    match prepared() {
        Ok(p) => {
            let bank = bank.unwrap_or_else(|| bank_for(&p.model, src));
            let refiner = refiners().ok().and_then(|nets| nets.get(bank));
            upscale_prepared(p, src, bank, refiner)
        }
        Err(_) => bicubic_2x(src),
    }
}

/// Catmull-Rom 2x of each channel, in 0..1 (the base the filters refine).
pub fn bicubic_planes(src: &RgbImage) -> [Plane; 3] {
    let planes = crate::filters::channels::to_planes(src);
    std::array::from_fn(|c| crate::filters::planes::upscale_2x(&planes[c]))
}

/// Luma (BT.601) of RGB planes.
pub fn luma_of(planes: &[Plane; 3]) -> Plane {
    crate::filters::channels::luma(planes)
}

/// Catmull-Rom 2x as 8-bit RGB (what the engine returns without a model).
pub fn bicubic_2x(src: &RgbImage) -> RgbImage {
    crate::filters::channels::from_planes(&bicubic_planes(src))
}

/// The bank for pixels decoded from a JPEG of libjpeg `quality`.
pub fn bank_for_jpeg(quality: u8) -> usize {
    usize::from(quality <= COMPRESSED_UP_TO) * COMPRESSED
}

/// The highest libjpeg quality whose files go to the compressed bank when the quality is
/// known from the file ([`bank_for_jpeg`]). The compressed bank was trained on qualities
/// 65–92; on the training photos (`cargo xtask quality --split train`) it gains more than
/// the clean bank at quality 88 (+1.29 against +1.24 dB over bicubic) and less at 90
/// (+1.34 against +1.36).
pub const COMPRESSED_UP_TO: u8 = 89;

/// The bank for an input of unknown provenance: compressed if its luma is blocky enough.
pub fn bank_for(model: &Model, src: &RgbImage) -> usize {
    usize::from(blockiness(&luma_plane(src)) >= model.blocky_from)
}

/// Upscales `src` by exactly 2x with the hashed filters of `model` alone (no second
/// stage).
pub fn upscale_with(model: &Model, src: &RgbImage) -> RgbImage {
    upscale_with_bank(model, src, bank_for(model, src))
}

/// Upscales `src` by exactly 2x with one bank of `model`'s hashed filters alone.
pub fn upscale_with_bank(model: &Model, src: &RgbImage, bank: usize) -> RgbImage {
    upscale_prepared(&Prepared::new(model.clone()), src, bank, None)
}

/// Upscales `src` by exactly 2x with one bank of `model` and `refiner` as its second
/// stage.
pub fn upscale_refined(
    model: &Model,
    refiner: &refine::Net,
    src: &RgbImage,
    bank: usize,
) -> RgbImage {
    upscale_prepared(&Prepared::new(model.clone()), src, bank, Some(refiner))
}

fn upscale_prepared(
    p: &Prepared,
    src: &RgbImage,
    bank: usize,
    refiner: Option<&refine::Net>,
) -> RgbImage {
    let stage = first_stage(p, src, bank);
    let residual = match refiner {
        Some(net) => refine::apply(net, &stage.luma, &stage.residual),
        None => stage.residual,
    };
    compose(&stage.input, &residual)
}

/// What the hashed filters make of an input: the image they read (deblocked for the
/// compressed bank), its luma, and their `2w × 2h` luma residual over Catmull-Rom.
#[derive(Debug, Clone)]
pub struct FirstStage {
    /// The image upscaled (the input, or its deblocked copy).
    pub input: RgbImage,
    /// Its luma, in 0..1.
    pub luma: Plane,
    /// The filters' prediction minus the Catmull-Rom luma, per output pixel.
    pub residual: Vec<f32>,
}

/// The first stage of [`upscale_with_bank`], for the second stage's trainer.
pub fn first_stage_with(model: &Model, src: &RgbImage, bank: usize) -> FirstStage {
    first_stage(&Prepared::new(model.clone()), src, bank)
}

fn first_stage(p: &Prepared, src: &RgbImage, bank: usize) -> FirstStage {
    let bank = bank.min(BANKS - 1);
    // The compressed bank was trained on deblocked inputs.
    let input = if bank == COMPRESSED {
        deblock::deblock(src, &p.model.deblock)
    } else {
        src.clone()
    };
    let (w, h) = (input.width() as usize, input.height() as usize);
    let luma = luma_plane(&input);
    let mut residual = vec![0f32; 4 * w * h];
    let Some(bank) = p.banks.get(bank) else {
        return FirstStage {
            input,
            luma,
            residual,
        };
    };
    if w > 0 && h > 0 {
        let buckets = bucket_plane(&luma, &p.model.strength_edges, &p.model.coherence_edges);
        let (pad, pw) = kernel::padded(&luma);
        residual
            .par_chunks_mut(4 * w)
            .enumerate()
            .for_each(|(y, rows)| {
                let buckets = &buckets[y * w..(y + 1) * w];
                kernel::residual_row_fastest(&pad, pw, y, buckets, bank, rows);
            });
    }
    FirstStage {
        input,
        luma,
        residual,
    }
}

/// The Catmull-Rom 2x of `src`'s channels plus the luma `residual` (`2w × 2h`), as 8-bit
/// RGB. BT.601 weights sum to one, so the output's luma is the prediction and its chroma
/// stays bicubic.
fn compose(src: &RgbImage, residual: &[f32]) -> RgbImage {
    let (w, h) = (src.width() as usize, src.height() as usize);
    if w == 0 || h == 0 || residual.len() != 4 * w * h {
        return bicubic_2x(src);
    }
    let ow = 2 * w;
    let raw = src.as_raw();
    let mut out = vec![0u8; ow * 2 * h * 3];
    let (near, far) = (
        crate::filters::planes::catmull_rom(0.75),
        crate::filters::planes::catmull_rom(0.25),
    );
    // Strips of input rows, each with the horizontal pass of its rows and two above and
    // below (edges replicated) in a buffer that stays in cache, rather than the
    // whole image's horizontal pass in memory.
    out.par_chunks_mut(COMPOSE_STRIP * 2 * ow * 3)
        .zip(residual.par_chunks(COMPOSE_STRIP * 2 * ow))
        .enumerate()
        .for_each_init(
            || {
                (
                    vec![0f32; (COMPOSE_STRIP + 4) * ow * 3],
                    vec![0f32; (w + 4) * 3],
                    vec![0f32; ow * 3],
                )
            },
            |(horizontal, padded, scratch), (s, (rows, residual))| {
                let y0 = s * COMPOSE_STRIP;
                let count = rows.len() / (2 * ow * 3);
                // horizontal row j holds input row y0 + j - 2, clamped.
                for (j, hr) in horizontal
                    .chunks_exact_mut(ow * 3)
                    .take(count + 4)
                    .enumerate()
                {
                    let r = (y0 + j).saturating_sub(2).min(h - 1);
                    pulp::Arch::new().dispatch(HorizontalRow {
                        near,
                        far,
                        src: &raw[r * w * 3..(r + 1) * w * 3],
                        padded,
                        phases: scratch,
                        out: hr,
                    });
                }
                // Vertical Catmull-Rom of the horizontal pass, as `planes::upscale_2x`
                // does: even output rows read input rows y - 2 ..= y + 1, odd ones
                // y - 1 ..= y + 2.
                for (i, (row, res)) in rows
                    .chunks_exact_mut(ow * 3)
                    .zip(residual.chunks_exact(ow))
                    .enumerate()
                {
                    let (yy, py) = (i / 2, i % 2);
                    let k = if py == 0 { near } else { far };
                    let taps: [&[f32]; 4] =
                        std::array::from_fn(|t| &horizontal[(yy + py + t) * ow * 3..][..ow * 3]);
                    pulp::Arch::new().dispatch(ComposeRow {
                        k,
                        taps,
                        residual: res,
                        spread: scratch,
                        out: row,
                    });
                }
            },
        );
    RgbImage::from_raw(ow as u32, 2 * h as u32, out).unwrap_or_else(|| bicubic_2x(src))
}

/// Input rows per parallel strip of [`compose`] (its horizontal pass recomputes four
/// rows per strip).
const COMPOSE_STRIP: usize = 32;

/// `v as u8` for an integer `v` in 0..=255 (and 0 for NaN, as `as` gives): the low
/// bits of `v + 2^23`. Rust's saturating float-to-integer conversions do not
/// vectorise; this does.
#[inline]
pub(crate) fn byte_of_integer(v: f32) -> u8 {
    (v + 8_388_608.0).to_bits() as u8
}

/// One output row of [`compose`], as pulp's unit of dispatch (compiled for AVX2 where
/// available): `k` applied to the four `taps` rows of the horizontal pass (interleaved
/// RGB), plus each pixel's luma `residual`, to 8-bit `out`.
struct ComposeRow<'a> {
    k: [f32; 4],
    taps: [&'a [f32]; 4],
    residual: &'a [f32],
    /// Scratch: the residual repeated for the three channels.
    spread: &'a mut [f32],
    out: &'a mut [u8],
}

impl pulp::WithSimd for ComposeRow<'_> {
    type Output = ();

    #[allow(
        clippy::inline_always,
        reason = "the loops must be inlined into pulp's per-instruction-set function"
    )]
    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _simd: S) {
        let Self {
            k,
            taps,
            residual,
            spread,
            out,
        } = self;
        let n = out.len();
        let spread = &mut spread[..n];
        for (s, &r) in spread.chunks_exact_mut(3).zip(residual) {
            s[0] = r;
            s[1] = r;
            s[2] = r;
        }
        let (a, b, c, d) = (&taps[0][..n], &taps[1][..n], &taps[2][..n], &taps[3][..n]);
        // Plain indexed loops over equal lengths: they vectorise.
        for i in 0..n {
            let v = k[0] * a[i] + k[1] * b[i] + k[2] * c[i] + k[3] * d[i] + spread[i];
            out[i] = byte_of_integer((v * 255.0 + 0.5).clamp(0.0, 255.0).trunc());
        }
    }
}

/// One row of the horizontal Catmull-Rom 2x pass of [`compose`] (`2w` pixels,
/// interleaved RGB, in 0..1), with the same arithmetic as `planes::upscale_2x`, as
/// pulp's unit of dispatch (compiled for AVX2 where available).
struct HorizontalRow<'a> {
    near: [f32; 4],
    far: [f32; 4],
    src: &'a [u8],
    /// Scratch: the row in 0..1 with two replicated pixels each side.
    padded: &'a mut [f32],
    /// Scratch: the even outputs, then the odd ones.
    phases: &'a mut [f32],
    out: &'a mut [f32],
}

impl pulp::WithSimd for HorizontalRow<'_> {
    type Output = ();

    #[allow(
        clippy::inline_always,
        reason = "the loops must be inlined into pulp's per-instruction-set function"
    )]
    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _simd: S) {
        let Self {
            near,
            far,
            src,
            padded,
            phases,
            out,
        } = self;
        let n = src.len();
        if n == 0 {
            return;
        }
        for (p, &v) in padded[6..6 + n].iter_mut().zip(src) {
            *p = UNIT[usize::from(v)];
        }
        for c in 0..3 {
            let (first, last) = (padded[6 + c], padded[3 + n + c]);
            padded[c] = first;
            padded[3 + c] = first;
            padded[6 + n + c] = last;
            padded[9 + n + c] = last;
        }
        // Flat loops over the interleaved samples (a pixel's neighbour is three samples
        // away): they vectorise. Even outputs read pixels -2..=1, odd ones -1..=2.
        let (even, odd) = phases.split_at_mut(n);
        let p: [&[f32]; 5] = [
            &padded[..n],
            &padded[3..3 + n],
            &padded[6..6 + n],
            &padded[9..9 + n],
            &padded[12..12 + n],
        ];
        let odd = &mut odd[..n];
        for i in 0..n {
            even[i] = near[0] * p[0][i] + near[1] * p[1][i] + near[2] * p[2][i] + near[3] * p[3][i];
            odd[i] = far[0] * p[1][i] + far[1] * p[2][i] + far[2] * p[3][i] + far[3] * p[4][i];
        }
        for (pair, (e, o)) in out
            .chunks_exact_mut(6)
            .zip(even.chunks_exact(3).zip(odd.chunks_exact(3)))
        {
            pair[..3].copy_from_slice(e);
            pair[3..].copy_from_slice(o);
        }
    }
}

/// Luma of the 2x Catmull-Rom upscale, the same as the model-free engine computes.
pub fn bicubic_luma(lr_luma: &Plane) -> Plane {
    crate::filters::planes::upscale_2x(lr_luma)
}

/// The Catmull-Rom filter of one phase (`(y % 2) * 2 + x % 2` of the output pixel) as a
/// 7 × 7 low-resolution filter: the prior the learned filters shrink towards.
pub fn bicubic_filter(phase: usize) -> [f32; TAPS] {
    let along = |odd: bool| -> [f32; SIDE] {
        let mut v = [0f32; SIDE];
        // Even outputs sit a quarter pixel before their source pixel (taps -2..=1),
        // odd ones a quarter after (taps -1..=2); see `planes::upscale_2x`.
        let (k, first) = if odd {
            (crate::filters::planes::catmull_rom(0.25), RADIUS - 1)
        } else {
            (crate::filters::planes::catmull_rom(0.75), RADIUS - 2)
        };
        v[first..first + 4].copy_from_slice(&k);
        v
    };
    let (vx, vy) = (along(phase % 2 == 1), along(phase / 2 == 1));
    std::array::from_fn(|i| vy[i / SIDE] * vx[i % SIDE])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bicubic_model() -> Model {
        let filters = (0..BANKS * BUCKETS)
            .flat_map(|_| (0..PHASES).flat_map(bicubic_filter))
            .collect();
        Model {
            strength_edges: std::array::from_fn(|i| 0.01 * (i + 1) as f32),
            coherence_edges: std::array::from_fn(|i| 0.2 * (i + 1) as f32),
            blocky_from: 1.2,
            filters,
            deblock: deblock::identity(),
        }
    }

    fn photo_like(w: u32, h: u32) -> RgbImage {
        RgbImage::from_fn(w, h, |x, y| {
            let v = (f64::from(x) * 0.37).sin() * 60.0 + (f64::from(x * y) * 0.01).cos() * 50.0;
            image::Rgb([
                (128.0 + v) as u8,
                (120.0 - v * 0.5) as u8,
                ((x * 7 + y * 3) % 256) as u8,
            ])
        })
    }

    #[test]
    fn jpeg_inputs_pick_their_bank_by_quality() {
        assert_eq!(bank_for_jpeg(30), COMPRESSED);
        assert_eq!(bank_for_jpeg(COMPRESSED_UP_TO), COMPRESSED);
        assert_eq!(bank_for_jpeg(COMPRESSED_UP_TO + 1), 0);
        assert_eq!(bank_for_jpeg(100), 0);
    }

    #[test]
    fn byte_of_integer_is_the_cast() {
        for i in 0..=255u8 {
            assert_eq!(byte_of_integer(f32::from(i)), i);
        }
        assert_eq!(byte_of_integer(f32::NAN), 0, "as `f32::NAN as u8` gives");
    }

    #[test]
    fn the_embedded_model_loads() {
        assert_eq!(model_status(), Ok(()));
    }

    #[test]
    fn model_round_trips_and_rejects_corruption() {
        let mut model = bicubic_model();
        model.filters[5] = 0.25;
        let bytes = model.to_bytes();
        assert_eq!(Model::from_bytes(&bytes).unwrap(), model);
        let mut bad = bytes.clone();
        bad[100] ^= 1;
        assert!(Model::from_bytes(&bad).unwrap_err().contains("checksum"));
        assert!(Model::from_bytes(&bytes[..50]).is_err());
        assert!(Model::from_bytes(b"").is_err());
    }

    #[test]
    fn bicubic_filters_reproduce_catmull_rom_exactly_in_phase() {
        // Filters equal to the prior give a zero residual everywhere, so the output is the
        // plain Catmull-Rom upscale: this pins the phase alignment of both code paths.
        let img = photo_like(37, 23);
        let out = upscale_with_bank(&bicubic_model(), &img, 0);
        assert_eq!(out, bicubic_2x(&img));
        for phase in 0..PHASES {
            let sum: f32 = bicubic_filter(phase).iter().sum();
            assert!((sum - 1.0).abs() < 1e-6, "phase {phase} sums to {sum}");
        }
    }

    #[test]
    fn output_is_exactly_twice_the_size() {
        for (w, h) in [(13, 7), (1, 1), (2, 9)] {
            let img = photo_like(w, h);
            let out = upscale_2x(&img);
            assert_eq!((out.width(), out.height()), (2 * w, 2 * h));
        }
    }

    #[test]
    fn the_learned_filters_beat_bicubic_on_a_soft_edge() {
        // A blurred diagonal edge, box-downscaled: the learned filters must restore it
        // closer to the truth than Catmull-Rom does. The first stage alone: the second
        // stage, trained on photos, undoes most of this gain on a synthetic black-to-white
        // edge (a known weakness, measured in docs/quality.md).
        let truth = RgbImage::from_fn(96, 96, |x, y| {
            let d = (f64::from(x) - f64::from(y) * 0.6 - 30.0) / 1.5;
            let v = (255.0 / (1.0 + (-d).exp())) as u8;
            image::Rgb([v, v, v])
        });
        let small = RgbImage::from_fn(48, 48, |x, y| {
            let mut s = 0u32;
            for (dx, dy) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
                s += u32::from(truth.get_pixel(2 * x + dx, 2 * y + dy).0[0]);
            }
            let v = ((s + 2) / 4) as u8;
            image::Rgb([v, v, v])
        });
        let err = |img: &RgbImage| -> f64 {
            let mut e = 0.0;
            for y in 8..88 {
                for x in 8..88 {
                    let d =
                        f64::from(img.get_pixel(x, y).0[0]) - f64::from(truth.get_pixel(x, y).0[0]);
                    e += d * d;
                }
            }
            e
        };
        let Ok(p) = prepared() else {
            panic!("the embedded model loads");
        };
        let ours = upscale_prepared(p, &small, bank_for(&p.model, &small), None);
        assert!(err(&ours) < 0.8 * err(&bicubic_2x(&small)));
    }
}
