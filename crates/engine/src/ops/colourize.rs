//! Black-and-white to colour: a learned chroma lookup on multi-scale luminance features.
//!
//! The photo is first area-downscaled so its long side is at most [`WORK_SIDE`] (chroma is
//! smooth, and the features then see the same share of the frame at any size). Each pixel
//! there is described by its brightness, its fine texture (standard deviation in a 5 × 5
//! window), its coarser texture (13 × 13), the brightness of its wider surroundings (a box
//! of a sixteenth of the image) and its height in the frame. A table trained by
//! `cargo xtask train-colourize` maps each combination to the mean chroma (Cb, Cr) seen in
//! the training photos, scaled by a damping the trainer chooses (muted colours lose less
//! when they are wrong). The chroma is refined at working size with a guided filter on
//! luminance, so colour follows edges instead of bleeding across them, then upsampled. Colour input is turned grey first, as
//! the service does. If the embedded table fails to validate, the output is grey.

use std::sync::OnceLock;

use image::{GrayImage, RgbImage};
use rayon::prelude::*;

use crate::filters::planes::{Plane, box_mean, guided_filter};

/// Brightness, fine texture, coarse texture, context and position bins.
pub const BRIGHTNESS: usize = 8;
pub const TEXTURE: usize = 3;
pub const COARSE: usize = 3;
pub const CONTEXT: usize = 4;
pub const POSITION: usize = 3;
/// Cells of the table.
pub const CELLS: usize = BRIGHTNESS * TEXTURE * COARSE * CONTEXT * POSITION;
/// Long side of the image the features are computed on.
pub const WORK_SIDE: usize = 512;
/// Guided-filter radius (working pixels) and regularisation for the chroma refinement.
const REFINE_RADIUS: usize = 3;
const REFINE_EPS: f32 = 1e-3;

const MAGIC: &[u8; 8] = b"BDIPCLR2";
static MODEL_BYTES: &[u8] = include_bytes!("../../models/colourize.bin");
static MODEL: OnceLock<Result<Model, String>> = OnceLock::new();

/// The trained table.
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    /// Fine texture bucket edges.
    pub texture_edges: [f32; TEXTURE - 1],
    /// Coarse texture bucket edges.
    pub coarse_edges: [f32; COARSE - 1],
    /// Share of the table's chroma applied.
    pub damp: f32,
    /// Mean (Cb, Cr) per cell, centred on 0, in 0..1 units.
    pub chroma: Vec<[f32; 2]>,
}

/// Whether the embedded table loaded (`Ok`) or why not (the output is then grey).
pub fn model_status() -> Result<(), String> {
    model().map(|_| ())
}

fn model() -> Result<&'static Model, String> {
    MODEL
        .get_or_init(|| Model::from_bytes(MODEL_BYTES))
        .as_ref()
        .map_err(Clone::clone)
}

const LAYOUT: [usize; 5] = [BRIGHTNESS, TEXTURE, COARSE, CONTEXT, POSITION];

impl Model {
    /// Serialises the table (see `model_file`).
    pub fn to_bytes(&self) -> Vec<u8> {
        let values = self
            .texture_edges
            .iter()
            .chain(&self.coarse_edges)
            .chain([&self.damp])
            .chain(self.chroma.iter().flatten())
            .copied();
        crate::model_file::write(*MAGIC, &LAYOUT, values)
    }

    /// Parses and validates a table file.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, String> {
        let count = TEXTURE - 1 + COARSE - 1 + 1 + CELLS * 2;
        let v = crate::model_file::read(bytes, "colourize", *MAGIC, &LAYOUT, count)?;
        if v.iter().any(|x| x.abs() > 2.0) {
            return Err("colourize model holds out-of-range values".into());
        }
        Ok(Self {
            texture_edges: [v[0], v[1]],
            coarse_edges: [v[2], v[3]],
            damp: v[4],
            chroma: v[5..].chunks_exact(2).map(|c| [c[0], c[1]]).collect(),
        })
    }
}

/// Per-pixel features of the working image.
#[derive(Debug)]
pub struct Features {
    /// Luminance in 0..1.
    pub luma: Plane,
    /// Local standard deviation (5 × 5).
    pub texture: Plane,
    /// Coarser standard deviation (13 × 13).
    pub coarse: Plane,
    /// Wide-area mean luminance.
    pub context: Plane,
}

fn deviation(luma: &Plane, r: usize) -> Plane {
    let mean = box_mean(luma, r);
    let sq = box_mean(&luma.map(|v| v * v), r);
    sq.zip(&mean, |s, m| (s - m * m).max(0.0).sqrt())
}

/// The area-downscale factor that brings a `w × h` image within [`WORK_SIDE`].
pub fn work_factor(w: usize, h: usize) -> usize {
    w.max(h).div_ceil(WORK_SIDE).max(1)
}

/// Computes the features of a (working-size) luminance plane.
pub fn features(luma: Plane) -> Features {
    let texture = deviation(&luma, 2);
    let coarse = deviation(&luma, 6);
    let radius = (luma.width.min(luma.height) / 16).max(2);
    let context = box_mean(&luma, radius);
    Features {
        luma,
        texture,
        coarse,
        context,
    }
}

/// The table cell of pixel `i` at row `y` of `height`.
pub fn cell(
    f: &Features,
    model_edges: ([f32; 2], [f32; 2]),
    i: usize,
    y: usize,
    height: usize,
) -> usize {
    let (te, ce) = model_edges;
    let quant = |v: f32, n: usize| ((v.clamp(0.0, 1.0) * n as f32) as usize).min(n - 1);
    let b = quant(f.luma.data[i], BRIGHTNESS);
    let t = usize::from(f.texture.data[i] > te[0]) + usize::from(f.texture.data[i] > te[1]);
    let k = usize::from(f.coarse.data[i] > ce[0]) + usize::from(f.coarse.data[i] > ce[1]);
    let c = quant(f.context.data[i], CONTEXT);
    let p = (y * POSITION / height.max(1)).min(POSITION - 1);
    (((b * TEXTURE + t) * COARSE + k) * CONTEXT + c) * POSITION + p
}

/// Predicts a colour image from luminance `src` with the embedded table.
pub(crate) fn colourize(src: &GrayImage) -> RgbImage {
    match model() {
        Ok(model) => colourize_with(model, src),
        Err(_) => image::DynamicImage::ImageLuma8(src.clone()).to_rgb8(),
    }
}

/// Predicts a colour image from luminance `src` with `model`.
pub fn colourize_with(model: &Model, src: &GrayImage) -> RgbImage {
    colourize_damped(model, model.damp, src)
}

/// Predicts a colour image from luminance `src` with `model` and a given damping.
pub fn colourize_damped(model: &Model, damp: f32, src: &GrayImage) -> RgbImage {
    let (w, h) = (src.width() as usize, src.height() as usize);
    if w == 0 || h == 0 {
        return RgbImage::new(src.width(), src.height());
    }
    let raw = src.as_raw();
    let small = downscale_luma(raw, w, h, work_factor(w, h));
    let (sw, sh) = (small.width, small.height);
    let f = features(small);
    let edges = (model.texture_edges, model.coarse_edges);
    let cells: Vec<usize> = (0..sw * sh)
        .into_par_iter()
        .map(|i| cell(&f, edges, i, i / sw.max(1), sh))
        .collect();
    let predict = |k: usize| Plane {
        width: sw,
        height: sh,
        data: cells.iter().map(|&c| damp * model.chroma[c][k]).collect(),
    };
    // Refined at working size, then bilinearly upsampled: the coefficients themselves
    // would multiply full-size detail the working image never saw into colour noise.
    let refined = |k: usize| guided_filter(&f.luma, &predict(k), REFINE_RADIUS, REFINE_EPS);
    let (cb, cr) = (refined(0), refined(1));
    let mut out = vec![0u8; w * h * 3];
    let upsampler = Bilinear::new(&cb, w, h);
    out.par_chunks_mut((w * 3).max(1))
        .enumerate()
        .for_each(|(row, px_row)| {
            let luma_row = &raw[row * w..(row + 1) * w];
            let (cb_row, cr_row) = (upsampler.row(&cb, row), upsampler.row(&cr, row));
            for (((px, &v), b), r) in px_row
                .chunks_exact_mut(3)
                .zip(luma_row)
                .zip(cb_row)
                .zip(cr_row)
            {
                let y = f32::from(v) / 255.0;
                // BT.601 full-range YCbCr to RGB.
                let rgb = [
                    y + 1.402 * r,
                    y - 0.344_136 * b - 0.714_136 * r,
                    y + 1.772 * b,
                ];
                for (o, v) in px.iter_mut().zip(rgb) {
                    *o = (v * 255.0 + 0.5).clamp(0.0, 255.0) as u8;
                }
            }
        });
    RgbImage::from_raw(w as u32, h as u32, out).unwrap_or_default()
}

/// The luminance of `raw` (`w × h`) in 0..1, area-downscaled by `factor`: the same values
/// as [`Plane::downscale`] of the full-size plane, without building that plane.
fn downscale_luma(raw: &[u8], w: usize, h: usize, factor: usize) -> Plane {
    let factor = factor.max(1);
    let (sw, sh) = (w.div_ceil(factor), h.div_ceil(factor));
    Plane::from_fn(sw, sh, |x, y| {
        let (x0, y0) = (x * factor, y * factor);
        let (x1, y1) = ((x0 + factor).min(w), (y0 + factor).min(h));
        let mut sum = 0.0;
        for yy in y0..y1 {
            sum += raw[yy * w + x0..yy * w + x1]
                .iter()
                .map(|&v| f32::from(v) / 255.0)
                .sum::<f32>();
        }
        sum / ((x1 - x0) * (y1 - y0)) as f32
    })
}

/// Bilinear upsampling of working-size planes to `width × height`, one output row at a
/// time (the arithmetic of [`Plane::upscale_to`], with the column taps computed once).
struct Bilinear {
    /// Left tap, right tap and weight of the right one, per output column.
    columns: Vec<(usize, usize, f32)>,
    width: usize,
    sy: f32,
    max_y: f32,
    same_size: bool,
}

impl Bilinear {
    fn new(src: &Plane, width: usize, height: usize) -> Self {
        let sx = src.width as f32 / width as f32;
        let max_x = src.width.saturating_sub(1) as f32;
        let columns = (0..width)
            .map(|x| {
                let fx = ((x as f32 + 0.5) * sx - 0.5).clamp(0.0, max_x);
                let x0 = fx as usize;
                (x0, (x0 + 1).min(src.width - 1), fx - x0 as f32)
            })
            .collect();
        Self {
            columns,
            width,
            sy: src.height as f32 / height as f32,
            max_y: src.height.saturating_sub(1) as f32,
            same_size: width == src.width && height == src.height,
        }
    }

    /// Output row `y` of `src` (a plane of the size given to [`Bilinear::new`]).
    fn row<'a>(&'a self, src: &'a Plane, y: usize) -> impl Iterator<Item = f32> + 'a {
        let fy = ((y as f32 + 0.5) * self.sy - 0.5).clamp(0.0, self.max_y);
        let y0 = fy as usize;
        let y1 = (y0 + 1).min(src.height - 1);
        let ty = fy - y0 as f32;
        let (top_row, bottom_row) = (
            &src.data[y0 * src.width..(y0 + 1) * src.width],
            &src.data[y1 * src.width..(y1 + 1) * src.width],
        );
        let same = self.same_size;
        self.columns
            .iter()
            .take(self.width)
            .enumerate()
            .map(move |(x, &(x0, x1, tx))| {
                if same {
                    return src.data[y * src.width + x];
                }
                let top = top_row[x0] * (1.0 - tx) + top_row[x1] * tx;
                let bottom = bottom_row[x0] * (1.0 - tx) + bottom_row[x1] * tx;
                top * (1.0 - ty) + bottom * ty
            })
    }
}

#[doc(hidden)]
#[cfg(any(test, feature = "training"))]
pub mod training {
    //! Averaging chroma per cell (used by `cargo xtask train-colourize`).

    use super::{CELLS, Features, cell};

    /// Chroma sums and counts per cell.
    #[derive(Debug, Clone)]
    pub struct Accumulator {
        sums: Vec<[f64; 2]>,
        counts: Vec<u64>,
    }

    impl Default for Accumulator {
        fn default() -> Self {
            Self {
                sums: vec![[0.0; 2]; CELLS],
                counts: vec![0; CELLS],
            }
        }
    }

    impl Accumulator {
        /// Adds a working-size photo: its features and its true (Cb, Cr) per pixel.
        pub fn add(&mut self, f: &Features, chroma: &[[f32; 2]], edges: ([f32; 2], [f32; 2])) {
            let (w, h) = (f.luma.width, f.luma.height);
            for y in 0..h {
                for x in 0..w {
                    let i = y * w + x;
                    let c = cell(f, edges, i, y, h);
                    self.sums[c][0] += f64::from(chroma[i][0]);
                    self.sums[c][1] += f64::from(chroma[i][1]);
                    self.counts[c] += 1;
                }
            }
        }

        /// Adds another accumulator's sums.
        pub fn merge(&mut self, other: &Accumulator) {
            for (a, b) in self.sums.iter_mut().zip(&other.sums) {
                a[0] += b[0];
                a[1] += b[1];
            }
            for (a, b) in self.counts.iter_mut().zip(&other.counts) {
                *a += b;
            }
        }

        /// Mean chroma per cell, shrunk towards zero (grey) by `prior` pseudo-samples so
        /// rarely seen cells stay muted.
        pub fn finish(&self, prior: f64) -> Vec<[f32; 2]> {
            self.sums
                .iter()
                .zip(&self.counts)
                .map(|(s, &n)| {
                    let d = n as f64 + prior;
                    [(s[0] / d) as f32, (s[1] / d) as f32]
                })
                .collect()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_round_trips_and_rejects_corruption() {
        let model = Model {
            texture_edges: [0.01, 0.05],
            coarse_edges: [0.02, 0.08],
            damp: 0.8,
            chroma: (0..CELLS)
                .map(|i| [(i % 7) as f32 / 70.0, -((i % 5) as f32) / 50.0])
                .collect(),
        };
        let bytes = model.to_bytes();
        assert_eq!(Model::from_bytes(&bytes).unwrap(), model);
        let mut bad = bytes.clone();
        bad[40] ^= 4;
        assert!(Model::from_bytes(&bad).is_err());
        assert!(Model::from_bytes(&[]).is_err());
    }

    #[test]
    fn fused_upsampling_matches_the_plane_functions() {
        for (w, h, factor) in [(70, 64, 4), (33, 17, 2), (9, 5, 1), (1, 1, 1)] {
            let raw: Vec<u8> = (0..w * h).map(|i| ((i * 37) % 256) as u8).collect();
            let full = Plane {
                width: w,
                height: h,
                data: raw.iter().map(|&v| f32::from(v) / 255.0).collect(),
            };
            let small = full.downscale(factor);
            assert_eq!(downscale_luma(&raw, w, h, factor).data, small.data);
            let up = small.upscale_to(w, h);
            let bilinear = Bilinear::new(&small, w, h);
            let rows: Vec<f32> = (0..h).flat_map(|y| bilinear.row(&small, y)).collect();
            assert_eq!(rows, up.data, "{w}x{h} / {factor}");
        }
    }

    #[test]
    fn keeps_luminance_and_size() {
        let grey = GrayImage::from_fn(70, 64, |x, y| image::Luma([((x + y) * 2) as u8]));
        let model = Model {
            texture_edges: [0.01, 0.05],
            coarse_edges: [0.02, 0.08],
            damp: 1.0,
            chroma: vec![[0.05, -0.03]; CELLS],
        };
        let out = colourize_with(&model, &grey);
        assert_eq!((out.width(), out.height()), (70, 64));
        let p = out.get_pixel(10, 10).0;
        let y = 0.299 * f32::from(p[0]) + 0.587 * f32::from(p[1]) + 0.114 * f32::from(p[2]);
        assert!((y - f32::from(grey.get_pixel(10, 10).0[0])).abs() < 2.5);
        assert!(p[2] > p[0], "expected a blue tint: {p:?}");
    }
}
