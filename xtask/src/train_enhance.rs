//! `cargo xtask train-enhance [--photos DIR] [--ridge R] [--holdout]`: trains the two
//! banks of 2x enhance filters (clean inputs, JPEG-compressed inputs) on the training split
//! of `cargo xtask photos` and writes crates/engine/models/enhance.bin. `cargo xtask
//! quality` reports the validation figures.
//!
//! Each photo is resized to the long side `EVAL_SIDE` (the quality harness's) and to
//! each of `EXTRA_SCALES`, then its 8 flips and rotations are 2x area-downscaled exactly as
//! the harness degrades them; the clean low-resolution input trains the first bank, a JPEG copy of it
//! (quality 65–92 by rotation) the second. Deterministic: one accumulator per photo,
//! merged in photo order, f64 sums, whatever the thread count.
//!
//! `--holdout` trains on all but every fourth training photo and reports the gain over
//! bicubic on those (for tuning without touching the validation split); it writes nothing.

use std::time::Instant;

use anyhow::{Result, bail};
use baidu_imageprocess_engine::training::ops::image_quality_enhance::{
    self as enhance, BANKS,
    training::{Accumulator, DeblockAccumulator},
};
use baidu_imageprocess_engine::training::planes::Plane;
use image::{RgbImage, imageops, imageops::FilterType};
use rayon::prelude::*;

use crate::photos::{self, Split};
use crate::quality::{EVAL_SIDE, crop_even, downscale_2x, jpeg_round_trip, prepare};

pub const MODEL_PATH: &str = "crates/engine/models/enhance.bin";
/// JPEG qualities of the compressed inputs, by flip/rotation.
pub const JPEG_QUALITIES: [u8; 8] = [65, 80, 92, 75, 85, 80, 70, 90];
/// Ridge, as a share of the mean diagonal of each bucket's `AᵀA`.
const RIDGE: f64 = 1e-3;
/// Ridge of the deblocking filters, as a share of the mean diagonal.
const DEBLOCK_RIDGE: f64 = 1e-3;
/// Long sides the photos are trained at, besides [`EVAL_SIDE`] (more samples of the same
/// kind of detail).
pub const EXTRA_SCALES: [u32; 1] = [1448];

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

/// `img` resized (Lanczos 3) so its long side is `side`, even-sized; never enlarged.
pub fn at_side(img: &RgbImage, side: u32) -> RgbImage {
    let long = img.width().max(img.height());
    if long <= side {
        return crop_even(img);
    }
    let s = f64::from(side) / f64::from(long);
    let (w, h) = (
        (f64::from(img.width()) * s).round() as u32,
        (f64::from(img.height()) * s).round() as u32,
    );
    crop_even(&imageops::resize(
        img,
        w.max(2),
        h.max(2),
        FilterType::Lanczos3,
    ))
}

fn option(args: &[String], flag: &str) -> Option<String> {
    args.iter()
        .position(|a| a == flag)
        .and_then(|i| args.get(i + 1))
        .cloned()
}

/// Calls `f(low-res input, JPEG quality, ground-truth luma)` for every scale and flip of
/// one photo, degraded as the harness does.
fn each_pair(photo: &RgbImage, mut f: impl FnMut(&RgbImage, u8, &Plane)) {
    let scaled = std::iter::once(prepare(photo))
        .chain(EXTRA_SCALES.iter().map(|&s| at_side(photo, s)))
        .collect::<Vec<_>>();
    for img in &scaled {
        for (k, &quality) in JPEG_QUALITIES.iter().enumerate() {
            let hr = crop_even(&dihedral(img, k));
            let lr = downscale_2x(&hr);
            f(&lr, quality, &enhance::luma_plane(&hr));
        }
    }
}

/// First pass over one photo: the clean bank, and the deblocking filters (compressed
/// luma against the uncompressed one).
fn first_pass(
    photo: &RgbImage,
    se: &[f32; enhance::STRENGTHS - 1],
    ce: &[f32; enhance::COHERENCES - 1],
) -> (Accumulator, DeblockAccumulator) {
    let mut clean = Accumulator::default();
    let mut deblock = DeblockAccumulator::default();
    each_pair(photo, |lr, quality, truth| {
        let lr_luma = enhance::luma_plane(lr);
        clean.add(&lr_luma, truth, se, ce);
        let jpeg = enhance::luma_plane(&jpeg_round_trip(lr, quality));
        deblock.add(&jpeg, &lr_luma);
    });
    (clean, deblock)
}

/// Second pass over one photo: the compressed bank, on deblocked JPEG inputs.
fn second_pass(
    photo: &RgbImage,
    deblock: &[f32],
    se: &[f32; enhance::STRENGTHS - 1],
    ce: &[f32; enhance::COHERENCES - 1],
) -> Accumulator {
    let mut acc = Accumulator::default();
    each_pair(photo, |lr, quality, truth| {
        let input = enhance::deblock::deblock(&jpeg_round_trip(lr, quality), deblock);
        acc.add(&enhance::luma_plane(&input), truth, se, ce);
    });
    acc
}

pub fn run(args: &[String]) -> Result<()> {
    let started = Instant::now();
    // Several comma-separated ridges are compared in `--holdout` mode; the first is used.
    let ridges: Vec<f64> = option(args, "--ridge")
        .map(|v| v.split(',').filter_map(|r| r.parse().ok()).collect())
        .filter(|v: &Vec<f64>| !v.is_empty())
        .unwrap_or_else(|| vec![RIDGE]);
    let ridge = ridges[0];
    let holdout = args.iter().any(|a| a == "--holdout");
    let all = photos::load(&photos::photo_dir(args), Split::Train)?;
    if all.is_empty() {
        bail!("no training photos; run `cargo xtask photos`");
    }
    let (train, held): (Vec<_>, Vec<_>) = all
        .into_iter()
        .enumerate()
        .partition(|(i, _)| !holdout || i % 4 != 3);
    let train: Vec<RgbImage> = train.into_iter().map(|(_, (_, img))| img).collect();
    let held: Vec<(String, RgbImage)> = held.into_iter().map(|(_, p)| p).collect();
    let schedule = refine_schedule(args);
    if args.iter().any(|a| a == "--refine-only") {
        let bytes = std::fs::read(MODEL_PATH)?;
        let model = enhance::Model::from_bytes(&bytes).map_err(anyhow::Error::msg)?;
        return crate::train_refine::run(&model, &train, schedule);
    }

    let prepared: Vec<RgbImage> = train.iter().map(prepare).collect();
    let lr_lumas: Vec<_> = prepared
        .iter()
        .map(|hr| enhance::luma_plane(&downscale_2x(hr)))
        .collect();
    let (se, ce) = enhance::training::edges(&lr_lumas);
    drop(lr_lumas);

    // The blockiness threshold between clean inputs and the gentlest JPEG ones.
    let (mut clean_b, mut jpeg_b) = (Vec::new(), Vec::new());
    for hr in &prepared {
        let lr = downscale_2x(hr);
        clean_b.push(enhance::blockiness(&enhance::luma_plane(&lr)));
        jpeg_b.push(enhance::blockiness(&enhance::luma_plane(&jpeg_round_trip(
            &lr, 90,
        ))));
    }
    if args.iter().any(|a| a == "--stats") {
        for q in [70u8, 80, 90] {
            let mut v: Vec<f32> = prepared
                .iter()
                .map(|hr| {
                    let lr = jpeg_round_trip(&downscale_2x(hr), q);
                    enhance::blockiness(&enhance::luma_plane(&lr))
                })
                .collect();
            v.sort_by(f32::total_cmp);
            println!("JPEG q{q} blockiness: {v:.3?}");
        }
        let mut v = clean_b.clone();
        v.sort_by(f32::total_cmp);
        println!("clean blockiness: {v:.3?}");
        return Ok(());
    }
    drop(prepared);
    let blocky_from = 0.5 * (quantile(&mut clean_b, 0.95) + quantile(&mut jpeg_b, 0.05));
    println!(
        "{} photos at long sides {EVAL_SIDE} and {EXTRA_SCALES:?}; strength edges {se:?}, coherence edges {ce:?}; compressed bank from blockiness {blocky_from:.3} (clean p95 {:.3}, JPEG q90 p5 {:.3})",
        train.len(),
        quantile(&mut clean_b, 0.95),
        quantile(&mut jpeg_b, 0.05)
    );

    // Two photos at a time in parallel, merged in photo order.
    let mut clean_bank = Accumulator::default();
    let mut deblock_acc = DeblockAccumulator::default();
    for chunk in train.chunks(2) {
        let parts: Vec<_> = chunk
            .par_iter()
            .map(|img| first_pass(img, &se, &ce))
            .collect();
        for (c, d) in &parts {
            clean_bank.merge(c);
            deblock_acc.merge(d);
        }
        println!(
            "  pass 1: {} samples, {:.0} s",
            clean_bank.counts().iter().sum::<u64>(),
            started.elapsed().as_secs_f64()
        );
    }
    let deblock = deblock_acc.solve(DEBLOCK_RIDGE);
    let mut compressed_bank = Accumulator::default();
    for chunk in train.chunks(2) {
        let parts: Vec<_> = chunk
            .par_iter()
            .map(|img| second_pass(img, &deblock, &se, &ce))
            .collect();
        for c in &parts {
            compressed_bank.merge(c);
        }
        println!(
            "  pass 2: {} samples, {:.0} s",
            compressed_bank.counts().iter().sum::<u64>(),
            started.elapsed().as_secs_f64()
        );
    }
    let banks = [clean_bank, compressed_bank];
    let solve = |ridge: f64| enhance::Model {
        strength_edges: se,
        coherence_edges: ce,
        blocky_from,
        filters: banks.iter().flat_map(|bank| bank.solve(ridge)).collect(),
        deblock: deblock.clone(),
    };
    if holdout {
        for &r in &ridges {
            println!("ridge {r}:");
            report_holdout(&solve(r), &held);
        }
        return Ok(());
    }
    let mut model = solve(ridge);
    model.blocky_from = route(&model, &train, blocky_from);
    let bytes = model.to_bytes();
    std::fs::write(MODEL_PATH, &bytes)?;
    crate::train_refine::run(&model, &train, schedule)?;
    let sparse = banks[0]
        .counts()
        .iter()
        .filter(|&&c| c < 4 * enhance::TAPS as u64)
        .count();
    println!(
        "wrote {MODEL_PATH}: {} bytes, {BANKS} banks of {} filters ({sparse} buckets with < {} samples stay near bicubic), ridge {ridge}, trained in {:.0} s",
        bytes.len(),
        enhance::FILTERS,
        4 * enhance::TAPS,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// The second stage's schedule, with `--refine-steps N` overriding the step count.
fn refine_schedule(args: &[String]) -> crate::train_refine::Schedule {
    let mut schedule = crate::train_refine::Schedule::default();
    if let Some(steps) = option(args, "--refine-steps").and_then(|s| s.parse().ok()) {
        schedule.steps = steps;
    }
    schedule
}

/// The blockiness threshold between the banks that maximises the summed Y-PSNR over the
/// training photos' clean and JPEG (quality 70, 80, 90) low-resolution inputs, each
/// upscaled by both banks; `fallback` if there is nothing to decide on. Blockiness alone
/// overlaps between clean and lightly compressed photos, so the threshold is placed where
/// misrouting costs least rather than between two quantiles.
fn route(model: &enhance::Model, train: &[RgbImage], fallback: f32) -> f32 {
    use crate::metrics::y_psnr;
    // (blockiness, PSNR with the clean bank, PSNR with the compressed bank).
    let cases: Vec<(f32, f64, f64)> = train
        .par_iter()
        .flat_map_iter(|photo| {
            let clean = prepare(photo);
            let small = downscale_2x(&clean);
            let inputs = [
                small.clone(),
                jpeg_round_trip(&small, 70),
                jpeg_round_trip(&small, 80),
                jpeg_round_trip(&small, 90),
            ];
            inputs
                .into_iter()
                .map(|input| {
                    let b = enhance::blockiness(&enhance::luma_plane(&input));
                    let [p0, p1] = [0, 1].map(|bank| {
                        y_psnr(&enhance::upscale_with_bank(model, &input, bank), &clean, 4)
                    });
                    (b, p0, p1)
                })
                .collect::<Vec<_>>()
        })
        .collect();
    let mut cuts: Vec<f32> = cases.iter().map(|c| c.0).collect();
    cuts.sort_by(f32::total_cmp);
    cuts.dedup();
    let total = |t: f32| -> f64 {
        cases
            .iter()
            .map(|&(b, p0, p1)| if b >= t { p1 } else { p0 })
            .sum()
    };
    // Candidate thresholds halfway between neighbouring blockiness values (and beyond both
    // ends); the first best wins, so the choice is deterministic.
    let mut best = (f64::NEG_INFINITY, fallback);
    let candidates = std::iter::once(cuts.first().map_or(fallback, |c| c - 0.01))
        .chain(cuts.windows(2).map(|w| 0.5 * (w[0] + w[1])))
        .chain(std::iter::once(cuts.last().map_or(fallback, |c| c + 0.01)));
    for t in candidates {
        let v = total(t);
        if v > best.0 {
            best = (v, t);
        }
    }
    let n = cases.len().max(1) as f64;
    println!(
        "bank threshold {:.3} (mean Y-PSNR {:.3} dB over {} inputs; quantile rule {fallback:.3} gives {:.3})",
        best.1,
        best.0 / n,
        cases.len(),
        total(fallback) / n
    );
    best.1
}

/// Gain over Catmull-Rom on the held-out training photos, clean and JPEG q80.
fn report_holdout(model: &enhance::Model, held: &[(String, RgbImage)]) {
    use crate::metrics::y_psnr;
    let mut gains = [Vec::new(), Vec::new()];
    for (name, photo) in held {
        let clean = prepare(photo);
        let small = downscale_2x(&clean);
        for (i, input) in [small.clone(), jpeg_round_trip(&small, 80)]
            .iter()
            .enumerate()
        {
            let ours = enhance::upscale_with(model, input);
            let cubic =
                imageops::resize(input, clean.width(), clean.height(), FilterType::CatmullRom);
            let gain = y_psnr(&ours, &clean, 4) - y_psnr(&cubic, &clean, 4);
            println!("  {name} {}: {gain:+.3} dB", ["clean", "JPEG q80"][i]);
            gains[i].push(gain);
        }
    }
    for (i, g) in gains.iter().enumerate() {
        let mean = g.iter().sum::<f64>() / g.len().max(1) as f64;
        let worst = g.iter().copied().fold(f64::INFINITY, f64::min);
        println!(
            "held out, {}: mean {mean:+.3} dB, worst {worst:+.3}",
            ["clean", "JPEG q80"][i]
        );
    }
}
