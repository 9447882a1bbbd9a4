//! `cargo xtask quality-families [--op dehaze|demoire] [--split validation|train]
//! [--side N] [--count N] [--tune] [--details] [--no-write]`: dehaze and moiré removal
//! on degradation *families* (issue 24), not one model each, with the hard controls they
//! must leave alone. Each family is reported on its own line with its mean, its worst
//! photo and the baseline of the same run (a dark channel prior written here; the best
//! Gaussian blur per family).
//!
//! Some families are **held out**: never run while the methods were developed. `--tune`
//! runs only the others, on the training split, and is what development uses; the report
//! (default: validation split) runs every family and marks the held-out ones.
//!
//! Photos are area-scaled to `--side` (default 512) pixels on the long side, and
//! `--count` (default all of the split) of them are used, so a full run takes about a
//! minute on two cores.

mod field;
mod haze;
mod moire;

use crate::engine_ops::EngineOps as _;
use std::fmt::Write as _;
use std::path::Path;

use crate::engine_ops as restoration;
use anyhow::{Result, bail};
use baidu_imageprocess_engine::Engine;
use image::RgbImage;
use rayon::prelude::*;

use crate::metrics::{blockiness, psnr};
use crate::photos::{self, Split};

/// PSNR ceiling for inputs compared with themselves.
const CAP: f64 = 60.0;
/// JPEG qualities drawn for the "with JPEG" families.
const JPEG_QUALITIES: std::ops::RangeInclusive<u8> = 70..=90;
/// Gaussian blurs the moiré baseline chooses from (per family, by its mean).
const BLUR_SIGMAS: [f32; 6] = [0.6, 0.8, 1.0, 1.3, 1.7, 2.2];

struct Options {
    split: Split,
    only: Option<String>,
    side: u32,
    photos: usize,
    tune: bool,
    details: bool,
    write: bool,
}

fn parse(args: &[String]) -> Options {
    let value = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let tune = args.iter().any(|a| a == "--tune");
    Options {
        split: if tune || value("--split").as_deref() == Some("train") {
            Split::Train
        } else {
            Split::Validation
        },
        only: value("--op"),
        side: value("--side").and_then(|v| v.parse().ok()).unwrap_or(512),
        photos: value("--count")
            .and_then(|v| v.parse().ok())
            .unwrap_or(usize::MAX),
        tune,
        details: args.iter().any(|a| a == "--details"),
        write: !tune && !args.iter().any(|a| a == "--no-write"),
    }
}

/// One scored input.
struct Case {
    photo: String,
    /// What was drawn for it (density, air light, pattern).
    label: String,
    input: f64,
    ours: f64,
    baseline: f64,
    /// Blockiness of the input and of ours (JPEG families).
    blocks: Option<(f64, f64)>,
}

/// A family's cases.
struct Family {
    name: String,
    held_out: bool,
    /// A control: the input is the truth, and "input" is not a column.
    control: bool,
    baseline: String,
    cases: Vec<Case>,
}

fn mean(v: impl Iterator<Item = f64>) -> f64 {
    let (s, n) = v.fold((0.0, 0usize), |(s, n), x| (s + x, n + 1));
    s / n.max(1) as f64
}

impl Family {
    fn worst_by(&self, key: impl Fn(&Case) -> f64) -> Option<&Case> {
        self.cases.iter().min_by(|a, b| key(a).total_cmp(&key(b)))
    }

    fn row(&self) -> String {
        let held = if self.held_out { " **(held out)**" } else { "" };
        let m = |f: fn(&Case) -> f64| mean(self.cases.iter().map(f));
        if self.control {
            let worst = self.worst_by(|c| c.ours);
            format!(
                "| {}{held} | {} | — | **{:.2}** | {} {:.2} | {} |\n",
                self.name,
                self.cases.len(),
                m(|c| c.ours),
                self.baseline,
                m(|c| c.baseline),
                worst.map_or(String::new(), |c| format!("{:.2} ({})", c.ours, c.photo)),
            )
        } else {
            let worst = self.worst_by(|c| c.ours - c.input);
            let blocks = if self.cases.iter().all(|c| c.blocks.is_some()) {
                let raised = self
                    .cases
                    .iter()
                    .filter(|c| c.blocks.is_some_and(|(i, o)| o > i))
                    .count();
                format!(
                    "; blockiness {:.2} → {:.2}, raised on {raised}",
                    mean(self.cases.iter().filter_map(|c| c.blocks.map(|b| b.0))),
                    mean(self.cases.iter().filter_map(|c| c.blocks.map(|b| b.1)))
                )
            } else {
                String::new()
            };
            format!(
                "| {}{held} | {} | {:.2} | **{:.2}** | {} {:.2} | {}{blocks} |\n",
                self.name,
                self.cases.len(),
                m(|c| c.input),
                m(|c| c.ours),
                self.baseline,
                m(|c| c.baseline),
                worst.map_or(String::new(), |c| format!(
                    "{:+.2} over input ({}, {})",
                    c.ours - c.input,
                    c.photo,
                    c.label
                )),
            )
        }
    }

    fn details(&self) -> String {
        let mut s = format!(
            "\n#### {}\n\n| photo | drawn | input | ours | {} |\n|---|---|---|---|---|\n",
            self.name, self.baseline
        );
        for c in &self.cases {
            let _ = writeln!(
                s,
                "| {} | {} | {:.2} | {:.2} | {:.2} |",
                c.photo, c.label, c.input, c.ours, c.baseline
            );
        }
        s
    }
}

fn short(name: &str) -> String {
    name.split("_by_")
        .next()
        .unwrap_or(name)
        .trim_end_matches(".jpg")
        .trim_end_matches(".png")
        .to_owned()
}

/// Area downscale so the long side is at most `side`.
fn prepare(img: &RgbImage, side: u32) -> RgbImage {
    let long = img.width().max(img.height());
    if long <= side {
        return img.clone();
    }
    let s = f64::from(side) / f64::from(long);
    let (w, h) = (
        (f64::from(img.width()) * s).round().max(8.0) as u32,
        (f64::from(img.height()) * s).round().max(8.0) as u32,
    );
    image::imageops::resize(img, w, h, image::imageops::FilterType::Lanczos3)
}

/// A seed per (photo, family, case) so every run scores the same inputs.
fn rng(photo: usize, family: &str, case: usize) -> fastrand::Rng {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in family
        .bytes()
        .chain((photo as u64).to_le_bytes())
        .chain((case as u64).to_le_bytes())
    {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    fastrand::Rng::with_seed(h)
}

fn jpeg(img: &RgbImage, rng: &mut fastrand::Rng) -> (RgbImage, u8) {
    let q = rng.u8(JPEG_QUALITIES);
    (crate::quality::jpeg_round_trip(img, q), q)
}

fn dehaze_families(photos: &[(String, RgbImage)], tune: bool) -> Vec<Family> {
    let engine = Engine::new();
    let mut out = Vec::new();
    for layout in haze::Layout::ALL {
        if tune && layout.held_out() {
            continue;
        }
        for with_jpeg in [false, true] {
            let name = format!(
                "haze {}{}",
                layout.name(),
                if with_jpeg { ", then JPEG" } else { "" }
            );
            let jobs: Vec<(usize, usize)> = (0..photos.len())
                .flat_map(|p| (0..haze::DENSITIES.len()).map(move |d| (p, d)))
                .collect();
            let cases = jobs
                .par_iter()
                .map(|&(p, d)| {
                    let (photo, clean) = &photos[p];
                    // The same haze with and without JPEG: the seed ignores the codec.
                    let mut r = rng(p, layout.name(), d);
                    let (density, t_far) = haze::DENSITIES[d];
                    let hazy = haze::hazy(clean, layout, t_far, &mut r);
                    let (input, label) = if with_jpeg {
                        let (j, q) = jpeg(&hazy.image, &mut r);
                        (j, format!("{density}, {}, JPEG q{q}", hazy.label))
                    } else {
                        (hazy.image, format!("{density}, {}", hazy.label))
                    };
                    let ours = engine.dehaze(&input);
                    let dcp = haze::dark_channel_prior(&input);
                    Case {
                        photo: short(photo),
                        label,
                        input: psnr(&input, clean),
                        ours: psnr(&ours, clean),
                        baseline: psnr(&dcp, clean),
                        blocks: with_jpeg.then(|| (blockiness(&input, 8), blockiness(&ours, 8))),
                    }
                })
                .collect();
            out.push(Family {
                name,
                held_out: layout.held_out(),
                control: false,
                baseline: "DCP".into(),
                cases,
            });
        }
    }
    for kind in haze::Control::ALL {
        if tune && kind.held_out() {
            continue;
        }
        let cases = (0..photos.len())
            .into_par_iter()
            .map(|p| {
                let (photo, clean) = &photos[p];
                let mut r = rng(p, kind.name(), 0);
                let img = haze::control(clean, kind, &mut r);
                let ours = engine.dehaze(&img);
                let dcp = haze::dark_channel_prior(&img);
                Case {
                    photo: short(photo),
                    label: String::new(),
                    input: CAP,
                    ours: psnr(&ours, &img).min(CAP),
                    baseline: psnr(&dcp, &img).min(CAP),
                    blocks: None,
                }
            })
            .collect();
        out.push(Family {
            name: kind.name().into(),
            held_out: kind.held_out(),
            control: true,
            baseline: "DCP".into(),
            cases,
        });
    }
    out
}

fn demoire_families(photos: &[(String, RgbImage)], tune: bool) -> Vec<Family> {
    let mut out = Vec::new();
    for formation in moire::Formation::ALL {
        if tune && formation.held_out() {
            continue;
        }
        for with_jpeg in [false, true] {
            let name = format!(
                "moiré: {}{}",
                formation.name(),
                if with_jpeg { ", then JPEG" } else { "" }
            );
            let jobs: Vec<(usize, usize)> = (0..photos.len())
                .flat_map(|p| (0..2).map(move |k| (p, k)))
                .collect();
            // Per case: input, reference, ours, and every blur's score.
            let scored: Vec<(Case, Vec<f64>)> = jobs
                .par_iter()
                .map(|&(p, k)| {
                    let (photo, clean) = &photos[p];
                    let mut r = rng(p, formation.name(), k);
                    let (moired, reference, label) = moire::degrade(clean, formation, &mut r);
                    let (input, label) = if with_jpeg {
                        let (j, q) = jpeg(&moired, &mut r);
                        (j, format!("{label}, JPEG q{q}"))
                    } else {
                        (moired, label)
                    };
                    let ours = restoration::demoire(&input);
                    let blurs = BLUR_SIGMAS
                        .iter()
                        .map(|&s| psnr(&crate::degrade::blur(&input, s), &reference))
                        .collect();
                    (
                        Case {
                            photo: short(photo),
                            label,
                            input: psnr(&input, &reference),
                            ours: psnr(&ours, &reference),
                            baseline: 0.0,
                            blocks: None,
                        },
                        blurs,
                    )
                })
                .collect();
            let best = (0..BLUR_SIGMAS.len())
                .max_by(|&a, &b| {
                    let m = |i: usize| mean(scored.iter().map(|(_, v)| v[i]));
                    m(a).total_cmp(&m(b))
                })
                .unwrap_or(0);
            let cases = scored
                .into_iter()
                .map(|(mut c, v)| {
                    c.baseline = v[best];
                    c
                })
                .collect();
            out.push(Family {
                name,
                held_out: formation.held_out(),
                control: false,
                baseline: format!("blur σ {}", BLUR_SIGMAS[best]),
                cases,
            });
        }
    }
    for kind in moire::Texture::ALL {
        let cases = (0..photos.len())
            .into_par_iter()
            .map(|p| {
                let (photo, clean) = &photos[p];
                let mut r = rng(p, kind.name(), 0);
                let img = moire::texture(clean, kind, &mut r);
                let ours = restoration::demoire(&img);
                Case {
                    photo: short(photo),
                    label: String::new(),
                    input: CAP,
                    ours: psnr(&ours, &img).min(CAP),
                    baseline: psnr(&crate::degrade::blur(&img, 1.0), &img).min(CAP),
                    blocks: None,
                }
            })
            .collect();
        out.push(Family {
            name: kind.name().into(),
            held_out: false,
            control: true,
            baseline: "blur σ 1".into(),
            cases,
        });
    }
    out
}

/// The bars of issue 24 over the families, as (met, line).
fn verdicts(op: &str, families: &[&Family]) -> Vec<(bool, String)> {
    let hazy: Vec<&Case> = families
        .iter()
        .filter(|f| !f.control)
        .flat_map(|f| &f.cases)
        .collect();
    let mut v = Vec::new();
    if hazy.is_empty() {
        return v;
    }
    let ours = mean(hazy.iter().map(|c| c.ours));
    let base = mean(hazy.iter().map(|c| c.baseline));
    let input = mean(hazy.iter().map(|c| c.input));
    let worst_gain = hazy
        .iter()
        .min_by(|a, b| (a.ours - a.input).total_cmp(&(b.ours - b.input)));
    if op == "dehaze" {
        v.push((
            ours >= base + 1.0,
            format!("mean over every hazy input {ours:.2} dB vs DCP {base:.2} (input {input:.2}); bar DCP + 1"),
        ));
        let short_of = hazy.iter().filter(|c| c.ours < c.input + 0.5).count();
        v.push((
            short_of == 0,
            format!(
                "hazy inputs gaining < 0.5 dB over the input: {short_of} of {}{}",
                hazy.len(),
                worst_gain.map_or(String::new(), |c| format!(
                    " (worst {:+.2}: {}, {})",
                    c.ours - c.input,
                    c.photo,
                    c.label
                ))
            ),
        ));
        let controls: Vec<&Case> = families
            .iter()
            .filter(|f| f.control)
            .flat_map(|f| &f.cases)
            .collect();
        let below = controls.iter().filter(|c| c.ours < 30.0).count();
        v.push((
            below == 0,
            format!(
                "haze-free controls below 30 dB: {below} of {}",
                controls.len()
            ),
        ));
        let blocky: Vec<&Case> = hazy
            .iter()
            .filter(|c| c.blocks.is_some())
            .copied()
            .collect();
        let raised = blocky
            .iter()
            .filter(|c| c.blocks.is_some_and(|(i, o)| o > i))
            .count();
        v.push((
            raised == 0,
            format!(
                "JPEG inputs whose blockiness ours raised: {raised} of {}",
                blocky.len()
            ),
        ));
    } else {
        v.push((
            ours >= input + 2.0 && ours >= base,
            format!(
                "mean over every moiré input {ours:.2} dB: input {input:.2} ({:+.2}), best blur per family {base:.2} ({:+.2}); bar input + 2 and ≥ blur",
                ours - input,
                ours - base
            ),
        ));
    }
    v
}

pub fn run(args: &[String]) -> Result<()> {
    let opts = parse(args);
    if !Path::new("xtask").is_dir() {
        bail!("run from the workspace root");
    }
    let started = std::time::Instant::now();
    let dir = photos::photo_dir(args);
    let photos: Vec<(String, RgbImage)> = photos::load(&dir, opts.split)?
        .into_iter()
        .take(opts.photos)
        .map(|(n, img)| (n, prepare(&img, opts.side)))
        .collect();
    let wants = |op: &str| opts.only.as_deref().is_none_or(|o| o == op);
    let split = match opts.split {
        Split::Train => "training",
        Split::Validation => "validation",
    };
    let mut md = format!(
        "Generated by `cargo xtask quality-families{}` on {} photos of the {split} split (long side ≤ {} px). \
         Held-out families were never run while the methods were developed (`--tune` skips them).\n",
        if opts.tune { " --tune" } else { "" },
        photos.len(),
        opts.side
    );
    for (op, title) in [("dehaze", "Dehaze"), ("demoire", "Moiré removal")] {
        if !wants(op) {
            continue;
        }
        let families = if op == "dehaze" {
            dehaze_families(&photos, opts.tune)
        } else {
            demoire_families(&photos, opts.tune)
        };
        let _ = write!(
            md,
            "\n## {title}\n\n| family | inputs | input dB | **ours** dB | baseline dB | worst photo |\n|---|---|---|---|---|---|\n"
        );
        for f in &families {
            md.push_str(&f.row());
        }
        md.push('\n');
        let all: Vec<&Family> = families.iter().collect();
        for (met, line) in verdicts(op, &all) {
            let _ = writeln!(md, "- {}: {line}", if met { "met" } else { "**NOT met**" });
        }
        let held: Vec<&Family> = families.iter().filter(|f| f.held_out).collect();
        if !held.is_empty() {
            let fit: Vec<&Family> = families.iter().filter(|f| !f.held_out).collect();
            for (met, line) in verdicts(op, &fit) {
                let _ = writeln!(
                    md,
                    "- fit families only, {}: {line}",
                    if met { "met" } else { "**NOT met**" }
                );
            }
            for (met, line) in verdicts(op, &held) {
                let _ = writeln!(
                    md,
                    "- held-out families only, {}: {line}",
                    if met { "met" } else { "**NOT met**" }
                );
            }
        }
        if opts.details {
            for f in &families {
                md.push_str(&f.details());
            }
        }
    }
    println!("{md}");
    println!("({:.0} s)", started.elapsed().as_secs_f64());
    if opts.write && opts.only.is_none() && opts.photos == usize::MAX {
        let path = Path::new("docs/quality-families.md");
        std::fs::write(
            path,
            format!("# Dehaze and moiré removal on degradation families\n\n{md}"),
        )?;
        println!("wrote {}", path.display());
    }
    Ok(())
}
