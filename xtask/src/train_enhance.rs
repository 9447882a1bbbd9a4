//! `cargo xtask train-enhance`: trains the 2x enhance filters from examples/images/
//! (photos not listed in HELDOUT.txt), writes crates/engine/models/enhance.bin, and
//! reports the held-out Y-PSNR gain over bicubic.
//!
//! Deterministic: fixed augmentation order (8 flips/rotations, clean and JPEG-compressed
//! low-resolution inputs), per-pair accumulators merged in input order, f64 sums.

use std::io::Cursor;
use std::time::Instant;

use anyhow::{Result, bail};
use baidu_imageprocess_engine::enhance::{self, training::Accumulator};
use image::{RgbImage, imageops};
use rayon::prelude::*;

use crate::metrics::y_psnr;
use crate::photos::{self, Split};
use crate::quality::downscale_2x;

pub const MODEL_PATH: &str = "crates/engine/models/enhance.bin";
/// JPEG quality of the compressed training inputs (teaches the filters to leave
/// blocking alone rather than sharpen it).
const JPEG_QUALITY: u8 = 80;
const RIDGE: f64 = 0.1;

/// The 8 flips and rotations of a square's symmetry group.
pub fn dihedral(img: &RgbImage, k: usize) -> RgbImage {
    let r = match k % 4 {
        0 => img.clone(),
        1 => imageops::rotate90(img),
        2 => imageops::rotate180(img),
        _ => imageops::rotate270(img),
    };
    if k >= 4 {
        imageops::flip_horizontal(&r)
    } else {
        r
    }
}

fn jpeg_round_trip(img: &RgbImage, quality: u8) -> Result<RgbImage> {
    let mut buf = Cursor::new(Vec::new());
    img.write_with_encoder(image::codecs::jpeg::JpegEncoder::new_with_quality(
        &mut buf, quality,
    ))?;
    Ok(image::load_from_memory(buf.get_ref())?.to_rgb8())
}

fn crop_even(img: &RgbImage) -> RgbImage {
    imageops::crop_imm(img, 0, 0, img.width() & !1, img.height() & !1).to_image()
}

pub fn run(args: &[String]) -> Result<()> {
    let started = Instant::now();
    let all: Vec<(String, RgbImage, bool)> = photos::load(&photos::photo_dir(args), Split::Train)?
        .into_iter()
        .map(|(n, i)| (n, i, false))
        .collect();
    let train: Vec<&RgbImage> = all
        .iter()
        .filter(|(_, _, held)| !held)
        .map(|(_, img, _)| img)
        .collect();
    if train.is_empty() {
        bail!("no training photos under examples/images");
    }
    // (bicubic-upscaled low-res, ground truth) luma pairs.
    let mut pairs = Vec::new();
    for img in &train {
        for k in 0..8 {
            let hr = crop_even(&dihedral(img, k));
            let lr = downscale_2x(&hr);
            let truth = enhance::luma_plane(&hr);
            for input in [lr.clone(), jpeg_round_trip(&lr, JPEG_QUALITY)?] {
                pairs.push((
                    enhance::luma_plane(&enhance::bicubic_2x(&input)),
                    truth.clone(),
                ));
            }
        }
    }
    let upscaled: Vec<_> = pairs.iter().map(|(u, _)| u.clone()).collect();
    let (se, ce) = enhance::training::edges(&upscaled);
    println!(
        "{} training pairs from {} photos; strength edges {se:?}, coherence edges {ce:?}",
        pairs.len(),
        train.len()
    );
    let mut total = Accumulator::default();
    // Two pairs at a time in parallel, merged in order: same sums at any thread count.
    for chunk in pairs.chunks(2) {
        let parts: Vec<Accumulator> = chunk
            .par_iter()
            .map(|(u, t)| {
                let mut acc = Accumulator::default();
                acc.add(u, t, &se, &ce);
                acc
            })
            .collect();
        for part in &parts {
            total.merge(part);
        }
    }
    let model = total.solve(se, ce, RIDGE);
    let bytes = model.to_bytes();
    std::fs::write(MODEL_PATH, &bytes)?;
    let empty = total.counts().iter().filter(|&&c| c < 50).count();
    println!(
        "wrote {MODEL_PATH}: {} bytes, {} filters ({empty} with < 50 samples stay near bicubic), trained in {:.1} s",
        bytes.len(),
        enhance::FILTERS,
        started.elapsed().as_secs_f64()
    );
    println!("\nheld-out Y-PSNR (dB), 2x area-downscaled input:");
    println!("| photo | bicubic | enhance | gain |\n|---|---|---|---|");
    let mut gains = Vec::new();
    for (name, img, held) in &all {
        if !held {
            continue;
        }
        let hr = crop_even(img);
        let lr = downscale_2x(&hr);
        let cubic = y_psnr(&enhance::bicubic_2x(&lr), &hr, 4);
        let ours = y_psnr(&enhance::upscale_with(&model, &lr), &hr, 4);
        gains.push(ours - cubic);
        println!("| {name} | {cubic:.2} | {ours:.2} | {:+.2} |", ours - cubic);
    }
    if !gains.is_empty() {
        println!(
            "| mean | | | {:+.2} |",
            gains.iter().sum::<f64>() / gains.len() as f64
        );
    }
    Ok(())
}
