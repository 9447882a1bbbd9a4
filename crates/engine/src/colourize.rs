//! Black-and-white to colour: a learned chroma lookup on multi-scale luminance features.
//!
//! Each pixel is described by its brightness, its local texture (standard deviation in
//! a 5 × 5 window), the brightness of its wider surroundings (a box of a sixteenth of
//! the image) and its height in the frame. A table trained by
//! `cargo xtask train-colourize` maps each combination to the mean chroma (Cb, Cr) seen
//! in the training photos. The prediction is damped (muted colours lose less when they
//! are wrong) and refined with a guided filter on luminance, so colour follows edges
//! instead of bleeding across them. Colour input is turned grey first, as the service
//! does. If the embedded table fails to validate, the output is grey.

use std::sync::OnceLock;

use image::{GrayImage, RgbImage};
use rayon::prelude::*;

use crate::planes::{Plane, box_mean, guided_filter};

/// Brightness, texture, context and position bins.
pub const BRIGHTNESS: usize = 8;
pub const TEXTURE: usize = 3;
pub const CONTEXT: usize = 4;
pub const POSITION: usize = 3;
/// Cells of the table.
pub const CELLS: usize = BRIGHTNESS * TEXTURE * CONTEXT * POSITION;
/// Share of the predicted chroma kept.
const DAMP: f32 = 0.65;
/// Guided-filter radius (pixels) and regularisation for the chroma refinement.
const REFINE_RADIUS: usize = 6;
const REFINE_EPS: f32 = 1e-3;

const MAGIC: &[u8; 8] = b"BDIPCLR1";
static MODEL_BYTES: &[u8] = include_bytes!("../models/colourize.bin");
static MODEL: OnceLock<Result<Model, String>> = OnceLock::new();

/// The trained table.
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    /// Texture bucket edges.
    pub texture_edges: [f32; TEXTURE - 1],
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

impl Model {
    /// Serialises the table (see `model_file`).
    pub fn to_bytes(&self) -> Vec<u8> {
        let values = self
            .texture_edges
            .iter()
            .chain(self.chroma.iter().flatten())
            .copied();
        crate::model_file::write(*MAGIC, &[BRIGHTNESS, TEXTURE, CONTEXT, POSITION], values)
    }

    /// Parses and validates a table file.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, String> {
        let count = TEXTURE - 1 + CELLS * 2;
        let v = crate::model_file::read(
            bytes,
            "colourize",
            *MAGIC,
            &[BRIGHTNESS, TEXTURE, CONTEXT, POSITION],
            count,
        )?;
        if v.iter().any(|x| x.abs() > 1.0) {
            return Err("colourize model holds out-of-range chroma".into());
        }
        Ok(Self {
            texture_edges: [v[0], v[1]],
            chroma: v[2..].chunks_exact(2).map(|c| [c[0], c[1]]).collect(),
        })
    }
}

/// Per-pixel features: brightness, texture, context brightness.
#[derive(Debug)]
pub struct Features {
    /// Luminance in 0..1.
    pub luma: Plane,
    /// Local standard deviation.
    pub texture: Plane,
    /// Wide-area mean luminance.
    pub context: Plane,
}

/// Computes the features of a luminance plane.
pub fn features(luma: Plane) -> Features {
    let mean = box_mean(&luma, 2);
    let sq = box_mean(&luma.map(|v| v * v), 2);
    let texture = sq.zip(&mean, |s, m| (s - m * m).max(0.0).sqrt());
    let radius = (luma.width.min(luma.height) / 16).max(2);
    let context = box_mean(&luma, radius);
    Features {
        luma,
        texture,
        context,
    }
}

/// The table cell of pixel `i` at row `y` of `height`.
pub fn cell(f: &Features, texture_edges: [f32; 2], i: usize, y: usize, height: usize) -> usize {
    let quant = |v: f32, n: usize| ((v.clamp(0.0, 1.0) * n as f32) as usize).min(n - 1);
    let b = quant(f.luma.data[i], BRIGHTNESS);
    let t = usize::from(f.texture.data[i] > texture_edges[0])
        + usize::from(f.texture.data[i] > texture_edges[1]);
    let c = quant(f.context.data[i], CONTEXT);
    let p = (y * POSITION / height.max(1)).min(POSITION - 1);
    ((b * TEXTURE + t) * CONTEXT + c) * POSITION + p
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
    let (w, h) = (src.width() as usize, src.height() as usize);
    let raw = src.as_raw();
    let luma = Plane::from_fn(w, h, |x, y| f32::from(raw[y * w + x]) / 255.0);
    let f = features(luma);
    let predict = |k: usize| {
        Plane::from_fn(w, h, |x, y| {
            DAMP * model.chroma[cell(&f, model.texture_edges, y * w + x, y, h)][k]
        })
    };
    let cb = guided_filter(&f.luma, &predict(0), REFINE_RADIUS, REFINE_EPS);
    let cr = guided_filter(&f.luma, &predict(1), REFINE_RADIUS, REFINE_EPS);
    let mut out = vec![0u8; w * h * 3];
    out.par_chunks_mut(3).enumerate().for_each(|(i, px)| {
        let (y, b, r) = (f.luma.data[i], cb.data[i], cr.data[i]);
        // BT.601 full-range YCbCr to RGB.
        let rgb = [
            y + 1.402 * r,
            y - 0.344_136 * b - 0.714_136 * r,
            y + 1.772 * b,
        ];
        for (o, v) in px.iter_mut().zip(rgb) {
            *o = (v * 255.0 + 0.5).clamp(0.0, 255.0) as u8;
        }
    });
    RgbImage::from_raw(w as u32, h as u32, out).unwrap_or_default()
}

#[doc(hidden)]
pub mod training {
    //! Averaging chroma per cell (used by `cargo xtask train-colourize`).

    use super::{CELLS, Features, Model, cell};

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
        /// Adds a photo: its features and its true (Cb, Cr) per pixel.
        pub fn add(&mut self, f: &Features, chroma: &[[f32; 2]], texture_edges: [f32; 2]) {
            let (w, h) = (f.luma.width, f.luma.height);
            for y in 0..h {
                for x in 0..w {
                    let i = y * w + x;
                    let c = cell(f, texture_edges, i, y, h);
                    self.sums[c][0] += f64::from(chroma[i][0]);
                    self.sums[c][1] += f64::from(chroma[i][1]);
                    self.counts[c] += 1;
                }
            }
        }

        /// Mean chroma per cell, shrunk towards zero (grey) by `prior` pseudo-samples so
        /// rarely seen cells stay muted.
        pub fn finish(&self, texture_edges: [f32; 2], prior: f64) -> Model {
            let chroma = self
                .sums
                .iter()
                .zip(&self.counts)
                .map(|(s, &n)| {
                    let d = n as f64 + prior;
                    [(s[0] / d) as f32, (s[1] / d) as f32]
                })
                .collect();
            Model {
                texture_edges,
                chroma,
            }
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
    fn keeps_luminance_and_size() {
        let grey = GrayImage::from_fn(70, 64, |x, y| image::Luma([((x + y) * 2) as u8]));
        let model = Model {
            texture_edges: [0.01, 0.05],
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
