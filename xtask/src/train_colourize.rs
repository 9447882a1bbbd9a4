//! `cargo xtask train-colourize [--photos DIR]`: trains the colourize chroma table on the
//! training split of `cargo xtask photos`, chooses its damping, and writes
//! crates/engine/models/colourize.bin. `cargo xtask quality` reports the validation figures.
//!
//! Each photo is resized as the quality harness does, then brought to the engine's working
//! size; augmentation is the horizontal flip only (rotations would teach that skies can be
//! at the bottom of the frame). The damping is the largest that keeps the training photos'
//! mean PSNR within [`PSNR_MARGIN`] dB of the grey input's. Deterministic: photos in
//! manifest order, f64 sums.

use anyhow::{Result, bail};
use baidu_imageprocess_engine::training::ops::colourize::{self, training::Accumulator};
use baidu_imageprocess_engine::training::planes::Plane;
use image::{RgbImage, imageops};

use crate::metrics::{colourfulness, psnr};
use crate::photos::{self, Split};
use crate::quality::prepare;

pub const MODEL_PATH: &str = "crates/engine/models/colourize.bin";
/// Pseudo-samples of grey added to every cell.
const PRIOR: f64 = 500.0;
/// How far below the grey input's PSNR the training photos may fall on average.
const PSNR_MARGIN: f64 = 0.15;

/// Working-size luminance and chroma of a photo.
fn split(img: &RgbImage) -> (Plane, Vec<[f32; 2]>) {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let mut luma = Plane::new(w, h);
    let mut cb = Plane::new(w, h);
    let mut cr = Plane::new(w, h);
    for (i, p) in img.pixels().enumerate() {
        let [r, g, b] = p.0.map(|v| f32::from(v) / 255.0);
        let y = 0.299 * r + 0.587 * g + 0.114 * b;
        luma.data[i] = y;
        cb.data[i] = (b - y) / 1.772;
        cr.data[i] = (r - y) / 1.402;
    }
    let k = colourize::work_factor(w, h);
    let (cb, cr) = (cb.downscale(k), cr.downscale(k));
    let chroma = cb
        .data
        .iter()
        .zip(&cr.data)
        .map(|(&b, &r)| [b, r])
        .collect();
    (luma.downscale(k), chroma)
}

fn grey_rgb(img: &RgbImage) -> RgbImage {
    image::DynamicImage::ImageLuma8(image::DynamicImage::ImageRgb8(img.clone()).to_luma8())
        .to_rgb8()
}

fn quantiles(mut v: Vec<f32>) -> [f32; 2] {
    v.sort_by(f32::total_cmp);
    let q = |f: f64| {
        v.get(((v.len().max(1) - 1) as f64 * f) as usize)
            .copied()
            .unwrap_or(0.0)
    };
    [q(1.0 / 3.0), q(2.0 / 3.0)]
}

pub fn run(args: &[String]) -> Result<()> {
    let photos: Vec<RgbImage> = photos::load(&photos::photo_dir(args), Split::Train)?
        .into_iter()
        .map(|(_, img)| prepare(&img))
        .collect();
    if photos.is_empty() {
        bail!("no training photos; run `cargo xtask photos`");
    }
    // Features of each photo and its mirror image.
    let featured: Vec<Vec<(colourize::Features, Vec<[f32; 2]>)>> = photos
        .iter()
        .map(|img| {
            [img.clone(), imageops::flip_horizontal(img)]
                .iter()
                .map(|view| {
                    let (luma, chroma) = split(view);
                    (colourize::features(luma), chroma)
                })
                .collect()
        })
        .collect();
    let sample = |get: fn(&colourize::Features) -> &Plane| {
        featured
            .iter()
            .flatten()
            .flat_map(|(f, _)| get(f).data.iter().step_by(7).copied())
            .collect::<Vec<f32>>()
    };
    let edges = (
        quantiles(sample(|f| &f.texture)),
        quantiles(sample(|f| &f.coarse)),
    );
    let per_photo: Vec<Accumulator> = featured
        .iter()
        .map(|views| {
            let mut acc = Accumulator::default();
            for (f, c) in views {
                acc.add(f, c, edges);
            }
            acc
        })
        .collect();
    let table = |skip: Option<usize>| {
        let mut acc = Accumulator::default();
        for (i, a) in per_photo.iter().enumerate() {
            if Some(i) != skip {
                acc.merge(a);
            }
        }
        colourize::Model {
            texture_edges: edges.0,
            coarse_edges: edges.1,
            damp: 1.0,
            chroma: acc.finish(PRIOR),
        }
    };

    // The damping, chosen leave-one-photo-out on the photos that have colour to recover (a
    // monochrome original has no colour truth, and its near-infinite grey PSNR would swamp
    // the mean): the largest whose mean PSNR stays within the margin of grey's.
    let judged: Vec<usize> = (0..photos.len())
        .filter(|&i| colourfulness(&photos[i]) >= crate::quality::COLOUR_MIN)
        .collect();
    let held_out: Vec<colourize::Model> = judged.iter().map(|&i| table(Some(i))).collect();
    let grey_db: f64 = judged
        .iter()
        .map(|&i| psnr(&grey_rgb(&photos[i]), &photos[i]))
        .sum::<f64>()
        / judged.len().max(1) as f64;
    let original: f64 = judged.iter().map(|&i| colourfulness(&photos[i])).sum();
    println!(
        "leave-one-photo-out on {} colour photos:\n| damping | PSNR − grey (dB) | colourfulness share |\n|---|---|---|",
        judged.len()
    );
    let mut chosen = 0.5f32;
    for step in 5..=14 {
        let damp = step as f32 * 0.1;
        let outs: Vec<RgbImage> = judged
            .iter()
            .zip(&held_out)
            .map(|(&i, m)| {
                let grey = image::DynamicImage::ImageRgb8(photos[i].clone()).to_luma8();
                colourize::colourize_damped(m, damp, &grey)
            })
            .collect();
        let db = outs
            .iter()
            .zip(&judged)
            .map(|(o, &i)| psnr(o, &photos[i]))
            .sum::<f64>()
            / judged.len().max(1) as f64
            - grey_db;
        let share = outs.iter().map(colourfulness).sum::<f64>() / original;
        println!("| {damp:.1} | {db:+.2} | {share:.2} |");
        if db >= -PSNR_MARGIN {
            chosen = damp;
        }
    }
    let mut model = table(None);
    model.damp = chosen;
    let bytes = model.to_bytes();
    std::fs::write(MODEL_PATH, &bytes)?;
    println!(
        "wrote {MODEL_PATH}: {} bytes from {} images (with flips); damping {chosen:.1}; texture edges {:?}, coarse edges {:?}",
        bytes.len(),
        2 * photos.len(),
        edges.0,
        edges.1
    );
    Ok(())
}
