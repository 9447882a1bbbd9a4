//! `cargo xtask train-enhance [--photos DIR]`: trains the two banks of 2x enhance filters
//! (clean inputs, JPEG-compressed inputs) on the training split of `cargo xtask photos`
//! and writes crates/engine/models/enhance.bin. `cargo xtask quality` reports the
//! validation figures.
//!
//! Each photo is resized as the quality harness does (long side 1024), then its 8 flips and
//! rotations are 2x area-downscaled; the clean low-resolution input trains the first bank,
//! a JPEG copy of it (quality 70–90 by rotation) the second. Deterministic: one
//! accumulator per photo, merged in photo order, f64 sums, whatever the thread count.

use std::time::Instant;

use anyhow::{Result, bail};
use baidu_imageprocess_engine::enhance::{self, BANKS, training::Accumulator};
use image::{RgbImage, imageops};
use rayon::prelude::*;

use crate::photos::{self, Split};
use crate::quality::{crop_even, downscale_2x, jpeg_round_trip, prepare};

pub const MODEL_PATH: &str = "crates/engine/models/enhance.bin";
/// JPEG qualities of the compressed inputs, by flip/rotation.
const JPEG_QUALITIES: [u8; 8] = [70, 80, 90, 75, 85, 80, 70, 90];
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

fn quantile(v: &mut [f32], q: f64) -> f32 {
    v.sort_by(f32::total_cmp);
    v.get(((v.len().max(1) - 1) as f64 * q) as usize)
        .copied()
        .unwrap_or(1.0)
}

pub fn run(args: &[String]) -> Result<()> {
    let started = Instant::now();
    let train: Vec<RgbImage> = photos::load(&photos::photo_dir(args), Split::Train)?
        .into_iter()
        .map(|(_, img)| prepare(&img))
        .collect();
    if train.is_empty() {
        bail!("no training photos; run `cargo xtask photos`");
    }
    // Hash edges from the clean, unrotated inputs.
    let upscaled: Vec<_> = train
        .iter()
        .map(|hr| enhance::luma_plane(&enhance::bicubic_2x(&downscale_2x(&crop_even(hr)))))
        .collect();
    let (se, ce) = enhance::training::edges(&upscaled);
    drop(upscaled);

    // The blockiness threshold between clean inputs and the gentlest JPEG ones.
    let (mut clean_b, mut jpeg_b) = (Vec::new(), Vec::new());
    for hr in &train {
        let lr = downscale_2x(&crop_even(hr));
        clean_b.push(enhance::blockiness(&enhance::luma_plane(&lr)));
        jpeg_b.push(enhance::blockiness(&enhance::luma_plane(&jpeg_round_trip(
            &lr, 90,
        ))));
    }
    let blocky_from = 0.5 * (quantile(&mut clean_b, 0.95) + quantile(&mut jpeg_b, 0.05));
    println!(
        "{} photos; strength edges {se:?}, coherence edges {ce:?}; compressed bank from blockiness {blocky_from:.3} (clean p95 {:.3}, JPEG q90 p5 {:.3})",
        train.len(),
        quantile(&mut clean_b, 0.95),
        quantile(&mut jpeg_b, 0.05)
    );

    let mut banks: Vec<Accumulator> = (0..BANKS).map(|_| Accumulator::default()).collect();
    // Two photos at a time in parallel, merged in photo order.
    for chunk in train.chunks(2) {
        let parts: Vec<Vec<Accumulator>> = chunk
            .par_iter()
            .map(|img| {
                let mut acc: Vec<Accumulator> =
                    (0..BANKS).map(|_| Accumulator::default()).collect();
                for (k, quality) in JPEG_QUALITIES.iter().enumerate() {
                    let hr = crop_even(&dihedral(img, k));
                    let lr = downscale_2x(&hr);
                    let truth = enhance::luma_plane(&hr);
                    for (bank, input) in [lr.clone(), jpeg_round_trip(&lr, *quality)]
                        .iter()
                        .enumerate()
                    {
                        let up = enhance::luma_plane(&enhance::bicubic_2x(input));
                        acc[bank].add(&up, &truth, &se, &ce);
                    }
                }
                acc
            })
            .collect();
        for part in &parts {
            for (total, p) in banks.iter_mut().zip(part) {
                total.merge(p);
            }
        }
        println!(
            "  {} samples per bank, {:.0} s",
            banks[0].counts().iter().sum::<u64>(),
            started.elapsed().as_secs_f64()
        );
    }
    let mut filters = Vec::new();
    for bank in &banks {
        filters.extend(bank.solve(RIDGE));
    }
    let model = enhance::Model {
        strength_edges: se,
        coherence_edges: ce,
        blocky_from,
        filters,
    };
    let bytes = model.to_bytes();
    std::fs::write(MODEL_PATH, &bytes)?;
    let sparse = banks[0].counts().iter().filter(|&&c| c < 50).count();
    println!(
        "wrote {MODEL_PATH}: {} bytes, {BANKS} banks of {} filters ({sparse} with < 50 samples stay near bicubic), trained in {:.0} s",
        bytes.len(),
        enhance::FILTERS,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
