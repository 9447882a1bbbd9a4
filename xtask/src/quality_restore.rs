//! `cargo xtask quality-restore [--op OP] [--photos DIR | --split S] [--max-side N] [--no-opencv]
//! [--no-write] [--save-fills DIR]`: the quality rows of the restoration operations (issue 15). Degrades
//! each photo (see `degrade.rs`), runs the engine and the OpenCV baselines of
//! `xtask/py/restore_baselines.py` in the same run, and reports every photo, the mean
//! and the worst photo. Writes docs/quality-restoration-results.md.
//!
//! Photos: `--photos DIR` (every .jpg/.png in it), else the `--split` (default
//! `validation`) of the fetched photos (`cargo xtask photos`; `BDIP_PHOTOS` names their folder) when present, else examples/images. Photos are area-scaled
//! to at most `--max-side` (default 1024) pixels a side first.
//!
//! OP is one of denoise, definition, colour, stretch, inpaint, doc, demoire.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use crate::engine_ops as restoration;
use anyhow::{Context, Result};
use baidu_imageprocess_protocol::Rect;
use image::{RgbImage, imageops::FilterType};

use crate::degrade;
use crate::metrics::psnr;

fn arg<'a>(args: &'a [String], name: &str) -> Option<&'a str> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map(String::as_str)
}

/// The photos of one split (`validation` or `train`) named by the committed manifest,
/// found in the photo folder (`BDIP_PHOTOS`, default `target/photos`), if any are there.
pub fn manifest_photos(split: &str) -> Option<Vec<PathBuf>> {
    let dir = crate::photos::photo_dir(&[]);
    let want = if split == "train" {
        crate::photos::Split::Train
    } else {
        crate::photos::Split::Validation
    };
    let files: Vec<PathBuf> = crate::photos::manifest()
        .ok()?
        .into_iter()
        .filter(|row| row.split == want)
        .map(|row| dir.join(row.name))
        .filter(|path| path.exists())
        .collect();
    (!files.is_empty()).then_some(files)
}

/// The photos to evaluate on: (name, image), colour only, at most `max_side` a side.
pub fn load_photos(args: &[String]) -> Result<(String, Vec<(String, RgbImage)>)> {
    let max_side: u32 = arg(args, "--max-side")
        .and_then(|v| v.parse().ok())
        .unwrap_or(1024);
    let (source, mut paths) = if let Some(dir) = arg(args, "--photos") {
        let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
            .with_context(|| format!("reading {dir}"))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.extension().and_then(|e| e.to_str()).is_some_and(|e| {
                    matches!(e.to_ascii_lowercase().as_str(), "jpg" | "jpeg" | "png")
                })
            })
            .collect();
        v.sort();
        (dir.to_owned(), v)
    } else if let Some(v) = manifest_photos(arg(args, "--split").unwrap_or("validation")) {
        (
            format!(
                "the {} split of {}",
                arg(args, "--split").unwrap_or("validation"),
                crate::photos::photo_dir(&[]).display()
            ),
            v,
        )
    } else {
        let v = std::fs::read_dir("examples/images")?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "jpg" || e == "png"))
            .filter(|p| !p.ends_with("hazy.jpg") && !p.ends_with("dark.jpg"))
            .collect();
        ("examples/images".to_owned(), v)
    };
    paths.sort();
    let mut out = Vec::new();
    for path in paths {
        let img = image::open(&path).with_context(|| format!("reading {}", path.display()))?;
        if !img.color().has_color() {
            continue;
        }
        let mut rgb = img.to_rgb8();
        let long = rgb.width().max(rgb.height());
        if long > max_side {
            let s = f64::from(max_side) / f64::from(long);
            let (w, h) = (
                (f64::from(rgb.width()) * s).round().max(1.0) as u32,
                (f64::from(rgb.height()) * s).round().max(1.0) as u32,
            );
            rgb = image::imageops::resize(&rgb, w, h, FilterType::Lanczos3);
        }
        let name = path
            .file_stem()
            .and_then(|n| n.to_str())
            .unwrap_or("photo")
            .to_owned();
        out.push((name, rgb));
    }
    Ok((source, out))
}

/// One photo's figures, in column order.
struct Row {
    photo: String,
    cells: Vec<(String, f64)>,
}

/// A table: rows, and whether a lower value is better (aspect errors).
struct Table {
    title: String,
    rows: Vec<Row>,
    lower_is_better: bool,
    notes: Vec<String>,
}

impl Table {
    fn new(title: &str) -> Self {
        Self {
            title: title.to_owned(),
            rows: Vec::new(),
            lower_is_better: false,
            notes: Vec::new(),
        }
    }

    fn mean(&self, col: usize) -> f64 {
        let v: Vec<f64> = self
            .rows
            .iter()
            .filter_map(|r| r.cells.get(col).map(|c| c.1))
            .collect();
        v.iter().sum::<f64>() / v.len().max(1) as f64
    }

    fn column(&self, name: &str) -> Option<usize> {
        self.rows.first()?.cells.iter().position(|(k, _)| k == name)
    }

    fn markdown(&self) -> String {
        let Some(first) = self.rows.first() else {
            return String::new();
        };
        let mut md = format!("\n### {}\n\n| photo |", self.title);
        for (k, _) in &first.cells {
            md.push_str(&format!(" {k} |"));
        }
        md.push_str("\n|---|");
        md.push_str(&"---|".repeat(first.cells.len()));
        md.push('\n');
        for row in &self.rows {
            md.push_str(&format!("| {} |", row.photo));
            for (_, v) in &row.cells {
                md.push_str(&format!(" {v:.2} |"));
            }
            md.push('\n');
        }
        md.push_str("| **mean** |");
        for i in 0..first.cells.len() {
            md.push_str(&format!(" **{:.2}** |", self.mean(i)));
        }
        md.push_str("\n| worst |");
        for i in 0..first.cells.len() {
            let vals = self.rows.iter().filter_map(|r| r.cells.get(i).map(|c| c.1));
            // Clipping shares and aspect errors: the worst is the largest.
            let lower = self.lower_is_better || first.cells[i].0.contains("clipped");
            let worst = if lower {
                vals.fold(f64::MIN, f64::max)
            } else {
                vals.fold(f64::MAX, f64::min)
            };
            md.push_str(&format!(" {worst:.2} |"));
        }
        md.push('\n');
        for n in &self.notes {
            md.push_str(&format!("\n{n}\n"));
        }
        md
    }
}

fn run_opencv(dir: &Path) -> bool {
    Command::new("python3")
        .arg("xtask/py/restore_baselines.py")
        .arg("quality")
        .arg(dir)
        .status()
        .is_ok_and(|s| s.success())
}

/// The baseline candidate with the best mean score over the photos, and its per-photo
/// scores. `score` maps a candidate image (and the photo's index) to its score.
fn best_candidate(
    dir: &Path,
    names: &[String],
    op: &str,
    score: &dyn Fn(usize, &RgbImage) -> f64,
) -> Option<(String, Vec<f64>)> {
    let mut by_tag: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    let prefix = format!("{}.{op}.cand-", names.first()?);
    let tags: Vec<String> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter_map(|f| Some(f.strip_prefix(&prefix)?.strip_suffix(".png")?.to_owned()))
        .collect();
    for tag in tags {
        let mut scores = Vec::new();
        for (i, name) in names.iter().enumerate() {
            let img = image::open(dir.join(format!("{name}.{op}.cand-{tag}.png"))).ok()?;
            scores.push(score(i, &img.to_rgb8()));
        }
        by_tag.insert(tag, scores);
    }
    by_tag.into_iter().max_by(|a, b| {
        let m = |v: &Vec<f64>| v.iter().sum::<f64>() / v.len().max(1) as f64;
        m(&a.1).total_cmp(&m(&b.1))
    })
}

/// PSNR over the pixels inside `rects` only.
fn psnr_inside(a: &RgbImage, b: &RgbImage, rects: &[Rect]) -> f64 {
    let (mut sum, mut n) = (0.0, 0u64);
    for r in rects {
        for y in r.top..r.top + r.height {
            for x in r.left..r.left + r.width {
                for c in 0..3 {
                    let d = f64::from(a.get_pixel(x, y).0[c]) - f64::from(b.get_pixel(x, y).0[c]);
                    sum += d * d;
                    n += 1;
                }
            }
        }
    }
    let mse = sum / n.max(1) as f64;
    if mse <= 1e-10 {
        99.0
    } else {
        10.0 * (255.0f64 * 255.0 / mse).log10()
    }
}

/// Mean squared luma gradient (forward differences, both ends inside the region) over
/// the pixels of `rects`, and over a ring `ring` pixels wide around them (outside every
/// rectangle): (inside, ring).
fn gradient_energy(img: &RgbImage, rects: &[Rect], ring: u32) -> (f64, f64) {
    let inside = |x: u32, y: u32| {
        rects
            .iter()
            .any(|q| x >= q.left && x < q.left + q.width && y >= q.top && y < q.top + q.height)
    };
    let near = |x: u32, y: u32| {
        rects.iter().any(|q| {
            x + ring >= q.left
                && x < q.left + q.width + ring
                && y + ring >= q.top
                && y < q.top + q.height + ring
        })
    };
    let l = |x: u32, y: u32| crate::metrics::luma(img.get_pixel(x, y).0);
    let (mut e_in, mut n_in, mut e_ring, mut n_ring) = (0.0, 0u64, 0.0, 0u64);
    for y in 0..img.height().saturating_sub(1) {
        for x in 0..img.width().saturating_sub(1) {
            let g = (l(x + 1, y) - l(x, y)).powi(2) + (l(x, y + 1) - l(x, y)).powi(2);
            let pts = [(x, y), (x + 1, y), (x, y + 1)];
            if pts.iter().all(|&(a, b)| inside(a, b)) {
                e_in += g;
                n_in += 1;
            } else if pts.iter().all(|&(a, b)| !inside(a, b) && near(a, b)) {
                e_ring += g;
                n_ring += 1;
            }
        }
    }
    (e_in / n_in.max(1) as f64, e_ring / n_ring.max(1) as f64)
}

/// For looking at inpainting fills (`--save-fills DIR`): per rectangle, the truth, ours
/// and OpenCV's TELEA (when it ran) side by side, a 40-px surround, scaled 2×.
fn save_fill_crops(
    keep: &Path,
    name: &str,
    clean: &RgbImage,
    ours: &RgbImage,
    dir: &Path,
    rects: &[Rect],
) -> Result<()> {
    std::fs::create_dir_all(keep)?;
    let telea = image::open(dir.join(format!("{name}.inpaint.cand-telea.png")))
        .ok()
        .map(|i| i.to_rgb8());
    for (k, q) in rects.iter().enumerate() {
        let (x0, y0) = (q.left.saturating_sub(40), q.top.saturating_sub(40));
        let x1 = (q.left + q.width + 40).min(clean.width());
        let y1 = (q.top + q.height + 40).min(clean.height());
        let (cw, ch) = (x1 - x0, y1 - y0);
        let panels: Vec<&RgbImage> = [Some(clean), Some(ours), telea.as_ref()]
            .into_iter()
            .flatten()
            .collect();
        let mut sheet = RgbImage::new((cw * 2 + 4) * panels.len() as u32, ch * 2);
        for (n, img) in panels.iter().enumerate() {
            for y in 0..ch * 2 {
                for x in 0..cw * 2 {
                    let p = *img.get_pixel(x0 + x / 2, y0 + y / 2);
                    sheet.put_pixel(n as u32 * (cw * 2 + 4) + x, y, p);
                }
            }
        }
        sheet.save(keep.join(format!("{name}.rect{k}.png")))?;
    }
    Ok(())
}

/// Share of pixels with a channel at 0 or 255 in `out` that had none in `before`.
fn newly_clipped(before: &RgbImage, out: &RgbImage) -> f64 {
    let clipped = |p: &image::Rgb<u8>| p.0.iter().any(|&v| v == 0 || v == 255);
    let n = before
        .pixels()
        .zip(out.pixels())
        .filter(|(b, o)| !clipped(b) && clipped(o))
        .count();
    n as f64 / f64::from(before.width() * before.height()).max(1.0)
}

fn aspect_error(out: &RgbImage, truth: &RgbImage) -> f64 {
    let a = f64::from(out.width()) / f64::from(out.height());
    let t = f64::from(truth.width()) / f64::from(truth.height());
    (a / t - 1.0).abs()
}

/// Ring mean squared luma gradient from which a photo counts as textured around its
/// rectangles (about a 6-level step between neighbours on average).
const TEXTURED_RING: f64 = 36.0;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    if v.is_empty() { 0.0 } else { v[v.len() / 2] }
}

pub fn run(args: &[String]) -> Result<()> {
    let only = arg(args, "--op");
    let opencv = !args.iter().any(|a| a == "--no-opencv");
    let write = !args.iter().any(|a| a == "--no-write");
    let wants = |op: &str| only.is_none_or(|o| o == op);
    let (source, photos) = load_photos(args)?;
    anyhow::ensure!(!photos.is_empty(), "no colour photos found");
    println!("{} photos from {source}", photos.len());
    let names: Vec<String> = photos.iter().map(|(n, _)| n.clone()).collect();
    let dir = std::env::temp_dir().join(format!("bdip-restore-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;

    // Degraded inputs, kept for scoring and written for the baselines.
    let seed = |i: usize| 1000 + i as u64;
    let mut noisy = BTreeMap::new();
    let mut soft = Vec::new();
    let mut rects = Vec::new();
    let mut pages = Vec::new();
    let mut moire = Vec::new();
    for (i, (name, clean)) in photos.iter().enumerate() {
        if wants("denoise") {
            for sigma in [15u8, 25] {
                let n = degrade::gaussian_noise(
                    clean,
                    f32::from(sigma),
                    seed(i) * 31 + u64::from(sigma),
                );
                n.save(dir.join(format!("{name}.denoise{sigma}.in.png")))?;
                noisy.insert((i, sigma), n);
            }
        }
        if wants("definition") {
            let s = degrade::jpeg(&degrade::blur(clean, 1.2), 85)?;
            s.save(dir.join(format!("{name}.definition.in.png")))?;
            soft.push(s);
        }
        if wants("inpaint") {
            let r = degrade::inpaint_rects(clean.width(), clean.height(), seed(i));
            let holed = degrade::black_out(clean, &r);
            holed.save(dir.join(format!("{name}.inpaint.in.png")))?;
            let mut mask = image::GrayImage::new(clean.width(), clean.height());
            for q in &r {
                for y in q.top..q.top + q.height {
                    for x in q.left..q.left + q.width {
                        mask.put_pixel(x, y, image::Luma([255]));
                    }
                }
            }
            mask.save(dir.join(format!("{name}.inpaint.mask.png")))?;
            rects.push((holed, r));
        }
        if wants("doc") {
            // Synthetic pages: one per photo slot, independent of the photo itself.
            let page = degrade::synthetic_page(720, 960, seed(i));
            let shaded = degrade::shade_page(&page, seed(i));
            shaded.save(dir.join(format!("{name}.doc.in.png")))?;
            pages.push((page, shaded));
        }
        if wants("demoire") {
            let (m, reference) = degrade::moire(clean, seed(i));
            m.save(dir.join(format!("{name}.demoire.in.png")))?;
            moire.push((m, reference));
        }
    }
    let have_opencv = opencv && run_opencv(&dir);
    let mut tables = Vec::new();

    if wants("denoise") {
        let nlm_times: serde_json::Value = std::fs::read_to_string(dir.join("nlm_times.json"))
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_default();
        for sigma in [15u8, 25] {
            let op = format!("denoise{sigma}");
            let mut t = Table::new(&format!(
                "denoise, Gaussian noise σ {sigma} (strength {}), PSNR dB",
                u32::from(sigma) * 4
            ));
            let best = best_candidate(&dir, &names, &op, &|i, img| psnr(img, &photos[i].1));
            let mut ours_secs = 0.0;
            for (i, (name, clean)) in photos.iter().enumerate() {
                let input = &noisy[&(i, sigma)];
                let started = Instant::now();
                let ours = restoration::denoise(input, sigma * 4);
                ours_secs += started.elapsed().as_secs_f64();
                let mut cells = vec![
                    ("noisy input".to_owned(), psnr(input, clean)),
                    ("**ours**".to_owned(), psnr(&ours, clean)),
                ];
                if let Some((tag, scores)) = &best {
                    cells.push((format!("OpenCV NLM (best: {tag})"), scores[i]));
                    cells.push(("ours − NLM".to_owned(), psnr(&ours, clean) - scores[i]));
                }
                t.rows.push(Row {
                    photo: name.clone(),
                    cells,
                });
            }
            if let Some((tag, _)) = &best {
                let key = tag.trim_start_matches("nlm-");
                let nlm: f64 = names
                    .iter()
                    .filter_map(|n| nlm_times.get(format!("{n}.{op}"))?.get(key)?.as_f64())
                    .sum();
                t.notes.push(format!(
                    "Time over the {} photos, same run: ours {:.2} s (all threads), OpenCV NLM {:.2} s (1 thread); one-thread timings at 1080p are in benchmarks.md.",
                    photos.len(),
                    ours_secs,
                    nlm
                ));
            }
            tables.push(t);
        }
    }

    if wants("definition") {
        let mut t = Table::new("definition enhance, Gaussian blur σ 1.2 then JPEG q85, PSNR dB");
        let best = best_candidate(&dir, &names, "definition", &|i, img| {
            psnr(img, &photos[i].1)
        });
        for (i, (name, clean)) in photos.iter().enumerate() {
            let ours = restoration::definition(&soft[i]);
            let mut cells = vec![
                ("soft input".to_owned(), psnr(&soft[i], clean)),
                ("**ours**".to_owned(), psnr(&ours, clean)),
            ];
            if let Some((tag, scores)) = &best {
                cells.push((format!("best unsharp mask ({tag})"), scores[i]));
                cells.push(("ours − unsharp".to_owned(), psnr(&ours, clean) - scores[i]));
            }
            t.rows.push(Row {
                photo: name.clone(),
                cells,
            });
        }
        tables.push(t);
    }

    if wants("colour") {
        let mut t = Table::new("colour enhance, HSV saturation × 0.6, PSNR dB");
        let mut vivid = Table::new("colour enhance on the original (already vivid) photos");
        for (name, clean) in &photos {
            let faded = degrade::saturate(clean, 0.6);
            let ours = restoration::colour_enhance(&faded);
            let boosted = degrade::saturate(&faded, 1.3);
            let (o, n, b) = (
                psnr(&ours, clean),
                psnr(&faded, clean),
                psnr(&boosted, clean),
            );
            t.rows.push(Row {
                photo: name.clone(),
                cells: vec![
                    ("faded input (doing nothing)".to_owned(), n),
                    ("**ours**".to_owned(), o),
                    ("saturation × 1.3".to_owned(), b),
                    ("ours − better of both".to_owned(), o - n.max(b)),
                ],
            });
            let again = restoration::colour_enhance(clean);
            vivid.rows.push(Row {
                photo: name.clone(),
                cells: vec![
                    (
                        "ours vs original, PSNR (cap 60)".to_owned(),
                        psnr(&again, clean).min(60.0),
                    ),
                    (
                        "newly clipped pixels, %".to_owned(),
                        100.0 * newly_clipped(clean, &again),
                    ),
                    (
                        "× 1.3: newly clipped, %".to_owned(),
                        100.0 * newly_clipped(clean, &degrade::saturate(clean, 1.3)),
                    ),
                ],
            });
        }
        tables.push(t);
        tables.push(vivid);
    }

    if wants("stretch") {
        let mut t = Table::new("stretch restore, aspect error in % (lower is better)");
        t.lower_is_better = true;
        let cases: Vec<(&str, f32, f32, FilterType, Option<u8>)> = vec![
            (
                "1.4× wide (bicubic)",
                1.4,
                1.0,
                FilterType::CatmullRom,
                None,
            ),
            ("1.3× tall (bilinear)", 1.0, 1.3, FilterType::Triangle, None),
            (
                "1.4× wide, JPEG q90",
                1.4,
                1.0,
                FilterType::CatmullRom,
                Some(90),
            ),
            (
                "1.3× tall, JPEG q90",
                1.0,
                1.3,
                FilterType::Triangle,
                Some(90),
            ),
            (
                "1.4× wide, JPEG q80",
                1.4,
                1.0,
                FilterType::CatmullRom,
                Some(80),
            ),
            (
                "1.3× tall, JPEG q80",
                1.0,
                1.3,
                FilterType::Triangle,
                Some(80),
            ),
            ("unstretched", 1.0, 1.0, FilterType::Nearest, None),
        ];
        let mut errors: Vec<Vec<f64>> = vec![Vec::new(); cases.len()];
        for (name, clean) in &photos {
            let mut cells = Vec::new();
            for (k, (label, fx, fy, filter, q)) in cases.iter().enumerate() {
                let mut s = if *fx == 1.0 && *fy == 1.0 {
                    clean.clone()
                } else {
                    degrade::stretch(clean, *fx, *fy, *filter)
                };
                if let Some(q) = q {
                    s = degrade::jpeg(&s, *q)?;
                }
                let out = restoration::stretch_restore(&s);
                let e = 100.0 * aspect_error(&out, clean);
                errors[k].push(e);
                cells.push(((*label).to_owned(), e));
            }
            t.rows.push(Row {
                photo: name.clone(),
                cells,
            });
        }
        for (k, (label, ..)) in cases.iter().enumerate() {
            let within = |lim: f64| errors[k].iter().filter(|&&e| e <= lim).count();
            t.notes.push(format!(
                "{label}: median error {:.1} %, {} of {} within 10 %, {} of {} within 3 %.",
                median(errors[k].clone()),
                within(10.0),
                errors[k].len(),
                within(3.0),
                errors[k].len()
            ));
        }
        tables.push(t);
    }

    if wants("inpaint") {
        let mut t = Table::new("inpainting, three black rectangles, PSNR inside them, dB");
        let best = best_candidate(&dir, &names, "inpaint", &|i, img| {
            psnr_inside(img, &photos[i].1, &rects[i].1)
        });
        let mut outside_ok = true;
        let mut textured_ratios: Vec<(String, f64)> = Vec::new();
        for (i, (name, clean)) in photos.iter().enumerate() {
            let (holed, r) = &rects[i];
            let ours = restoration::inpaint(holed, r)?;
            // Every pixel outside the rectangles must be bit-identical.
            for (x, y, p) in ours.enumerate_pixels() {
                let inside = r.iter().any(|q| {
                    x >= q.left && x < q.left + q.width && y >= q.top && y < q.top + q.height
                });
                if !inside && p != holed.get_pixel(x, y) {
                    outside_ok = false;
                }
            }
            if let Some(keep) = arg(args, "--save-fills") {
                save_fill_crops(Path::new(keep), name, clean, &ours, &dir, r)?;
            }
            let o = psnr_inside(&ours, clean, r);
            let mut cells = vec![
                ("black input".to_owned(), psnr_inside(holed, clean, r)),
                ("**ours**".to_owned(), o),
            ];
            if let Some((tag, scores)) = &best {
                cells.push((format!("best cv2.inpaint ({tag})"), scores[i]));
                cells.push(("ours − best".to_owned(), o - scores[i]));
            }
            // Texture: gradient energy inside the rectangles over a ring around them.
            let texture = |img: &RgbImage| {
                let (inside, ring) = gradient_energy(img, r, 8);
                inside / ring.max(1e-9)
            };
            let (_, ring) = gradient_energy(clean, r, 8);
            let textured = ring >= TEXTURED_RING;
            cells.push(("texture in/ring, truth".to_owned(), texture(clean)));
            cells.push(("texture in/ring, **ours**".to_owned(), texture(&ours)));
            if let Some((tag, _)) = &best
                && let Ok(img) = image::open(dir.join(format!("{name}.inpaint.cand-{tag}.png")))
            {
                cells.push(("texture in/ring, cv2".to_owned(), texture(&img.to_rgb8())));
            }
            if textured {
                textured_ratios.push((name.clone(), texture(&ours)));
            }
            t.rows.push(Row {
                photo: name.clone(),
                cells,
            });
        }
        let within = textured_ratios
            .iter()
            .filter(|(_, v)| (0.6..=1.4).contains(v))
            .count();
        t.notes.push(format!(
            "Texture: mean squared luma gradient inside the rectangles over that of an 8-px ring around them. \
             Textured photos (ring mean squared gradient ≥ {TEXTURED_RING}): {} of {}; ours within 0.6–1.4 on {within} of them ({}).",
            textured_ratios.len(),
            photos.len(),
            textured_ratios
                .iter()
                .map(|(n, v)| format!("{n} {v:.2}"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
        t.notes.push(format!(
            "Pixels outside the rectangles bit-identical on every photo: {}.",
            if outside_ok { "yes" } else { "NO" }
        ));
        tables.push(t);
    }

    if wants("doc") {
        let mut t = Table::new(
            "document de-shading, synthetic pages (gradient, soft shadow, noise σ 3), PSNR dB",
        );
        let best = best_candidate(&dir, &names, "doc", &|i, img| psnr(img, &pages[i].0));
        for (i, name) in names.iter().enumerate() {
            let (page, shaded) = &pages[i];
            let ours = restoration::doc_repair(shaded);
            let mut cells = vec![
                ("shaded input".to_owned(), psnr(shaded, page)),
                ("**ours**".to_owned(), psnr(&ours, page)),
            ];
            if let Some((tag, scores)) = &best {
                cells.push((format!("division by closing ({tag})"), scores[i]));
                cells.push(("ours − closing".to_owned(), psnr(&ours, page) - scores[i]));
            }
            t.rows.push(Row {
                photo: format!("page {} ({name})", i + 1),
                cells,
            });
        }
        tables.push(t);
    }

    if wants("demoire") {
        let mut t = Table::new(
            "moiré removal, two gratings then 2x area-down and bilinear up, PSNR dB vs the rescaled clean photo",
        );
        let best = best_candidate(&dir, &names, "demoire", &|i, img| psnr(img, &moire[i].1));
        for (i, name) in names.iter().enumerate() {
            let (m, reference) = &moire[i];
            let ours = restoration::demoire(m);
            let o = psnr(&ours, reference);
            let mut cells = vec![
                ("moiré input".to_owned(), psnr(m, reference)),
                ("**ours**".to_owned(), o),
            ];
            if let Some((tag, scores)) = &best {
                cells.push((format!("best Gaussian blur ({tag})"), scores[i]));
                cells.push(("ours − blur".to_owned(), o - scores[i]));
            }
            cells.push(("ours − input".to_owned(), o - psnr(m, reference)));
            t.rows.push(Row {
                photo: name.clone(),
                cells,
            });
        }
        tables.push(t);
    }
    let _ = std::fs::remove_dir_all(&dir);

    let mut md = format!(
        "Generated by `cargo xtask quality-restore` on {} photos from {source} (at most {} px a side). \
         Baselines: OpenCV {}, same run, one setting per table chosen by its best mean.\n",
        photos.len(),
        arg(args, "--max-side").unwrap_or("1024"),
        if have_opencv {
            "(run)"
        } else {
            "(NOT available in this run)"
        }
    );
    for t in &tables {
        md.push_str(&t.markdown());
        if let Some(c) = t.column("**ours**") {
            println!("{}: ours mean {:.2}", t.title, t.mean(c));
        }
    }
    println!("{md}");
    if write && only.is_none() {
        let path = Path::new("docs/quality-restoration-results.md");
        std::fs::write(
            path,
            format!("# Restoration operations: quality results\n\n{md}"),
        )?;
        println!("wrote {}", path.display());
    }
    Ok(())
}
