//! `cargo xtask train-colourize`: trains the colourize chroma table from examples/images/
//! (photos not listed in HELDOUT.txt), writes crates/engine/models/colourize.bin, and
//! reports held-out PSNR and colourfulness next to the grey input.
//!
//! Augmentation is the horizontal flip only: rotations would teach that skies can be at
//! the bottom of the frame. Deterministic: photos in name order, f64 sums.

use anyhow::{Result, bail};
use baidu_imageprocess_engine::colourize::{self, training::Accumulator};
use baidu_imageprocess_engine::planes::Plane;
use image::{RgbImage, imageops};

use crate::metrics::{colourfulness, psnr};
use crate::photos::{self, Split};

pub const MODEL_PATH: &str = "crates/engine/models/colourize.bin";
/// Pseudo-samples of grey added to every cell.
const PRIOR: f64 = 2000.0;

fn split(img: &RgbImage) -> (Plane, Vec<[f32; 2]>) {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let mut chroma = Vec::with_capacity(w * h);
    let mut luma = Plane::new(w, h);
    for (i, p) in img.pixels().enumerate() {
        let [r, g, b] = p.0.map(|v| f32::from(v) / 255.0);
        let y = 0.299 * r + 0.587 * g + 0.114 * b;
        luma.data[i] = y;
        chroma.push([(b - y) / 1.772, (r - y) / 1.402]);
    }
    (luma, chroma)
}

fn grey_rgb(img: &RgbImage) -> RgbImage {
    image::DynamicImage::ImageLuma8(image::DynamicImage::ImageRgb8(img.clone()).to_luma8())
        .to_rgb8()
}

pub fn run(args: &[String]) -> Result<()> {
    let all: Vec<(String, RgbImage, bool)> = photos::load(&photos::photo_dir(args), Split::Train)?
        .into_iter()
        .map(|(n, i)| (n, i, false))
        .collect();
    let mut train = Vec::new();
    for (_, img, held) in &all {
        if !held {
            train.push(img.clone());
            train.push(imageops::flip_horizontal(img));
        }
    }
    if train.is_empty() {
        bail!("no training photos under examples/images");
    }
    let split_all: Vec<_> = train.iter().map(split).collect();
    let featured: Vec<_> = split_all
        .iter()
        .map(|(l, c)| (colourize::features(l.clone()), c))
        .collect();
    let mut textures: Vec<f32> = featured
        .iter()
        .flat_map(|(f, _)| f.texture.data.iter().step_by(7).copied())
        .collect();
    textures.sort_by(f32::total_cmp);
    let q = |f: f64| textures[((textures.len() - 1) as f64 * f) as usize];
    let edges = [q(1.0 / 3.0), q(2.0 / 3.0)];
    let mut acc = Accumulator::default();
    for (f, c) in &featured {
        acc.add(f, c, edges);
    }
    let model = acc.finish(edges, PRIOR);
    let bytes = model.to_bytes();
    std::fs::write(MODEL_PATH, &bytes)?;
    println!(
        "wrote {MODEL_PATH}: {} bytes from {} images (with flips); texture edges {edges:?}",
        bytes.len(),
        train.len()
    );
    println!(
        "\n| photo | grey PSNR | ours PSNR | ours colourfulness | original | share |\n|---|---|---|---|---|---|"
    );
    for (name, img, held) in &all {
        let luma = image::DynamicImage::ImageRgb8(img.clone()).to_luma8();
        let ours = colourize::colourize_with(&model, &luma);
        let (cf, orig) = (colourfulness(&ours), colourfulness(img));
        println!(
            "| {name}{} | {:.2} | {:.2} | {cf:.1} | {orig:.1} | {:.0} % |",
            if *held { " (held out)" } else { "" },
            psnr(&grey_rgb(img), img),
            psnr(&ours, img),
            100.0 * cf / orig.max(1e-9)
        );
    }
    Ok(())
}
