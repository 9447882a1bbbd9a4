//! `cargo xtask quality [--op OP] [--no-opencv]`: degrades the shipped photos, runs the
//! engine and OpenCV baselines on them, and reports PSNR (written to docs/quality.md).
//!
//! Degradations: enhance: 2x area downscale; dehaze: synthetic haze with a depth-like
//! transmission; contrast: contrast halved then gamma 2.2 darkening; colourize: greyscale.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};
use baidu_imageprocess_engine::Engine;
use image::{RgbImage, imageops::FilterType};

use crate::metrics::{colourfulness, psnr, y_psnr};

/// Synthetic inputs in examples/images that are not used as ground truth.
const SYNTHETIC: [&str; 2] = ["hazy.jpg", "dark.jpg"];

pub fn photos() -> Result<Vec<(String, RgbImage, bool)>> {
    let dir = Path::new("examples/images");
    let heldout = std::fs::read_to_string(dir.join("HELDOUT.txt")).unwrap_or_default();
    let mut out = Vec::new();
    let mut names: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    names.sort();
    for path in names {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("")
            .to_owned();
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        if !matches!(ext, "jpg" | "png") || SYNTHETIC.contains(&name.as_str()) {
            continue;
        }
        let img = image::open(&path).with_context(|| format!("reading {}", path.display()))?;
        if !img.color().has_color() {
            continue;
        }
        let held = heldout.lines().any(|l| l.trim() == name);
        out.push((name, img.to_rgb8(), held));
    }
    Ok(out)
}

/// Haze over `clean`: transmission falls towards the top of the frame, with a gentle
/// horizontal undulation so the "depth" is not a plain ramp.
pub fn add_haze(clean: &RgbImage) -> RgbImage {
    let (w, h) = (clean.width() as f32, clean.height() as f32);
    let air = [0.86f32, 0.88, 0.9];
    RgbImage::from_fn(clean.width(), clean.height(), |x, y| {
        let depth = 0.25 + 0.75 * (1.0 - y as f32 / h) * (0.85 + 0.15 * (x as f32 / w * 6.0).sin());
        let t = (-1.4 * depth).exp();
        let p = clean.get_pixel(x, y).0;
        image::Rgb(std::array::from_fn(|c| {
            ((f32::from(p[c]) / 255.0 * t + air[c] * (1.0 - t)) * 255.0 + 0.5).clamp(0.0, 255.0)
                as u8
        }))
    })
}

/// Contrast halved around mid-grey, then darkened with gamma 2.2.
pub fn dull_and_darken(clean: &RgbImage) -> RgbImage {
    let mut out = clean.clone();
    for v in out.iter_mut() {
        let x = (0.5 * (f32::from(*v) / 255.0 - 0.5) + 0.5).powf(2.2);
        *v = (x * 255.0 + 0.5) as u8;
    }
    out
}

pub fn downscale_2x(clean: &RgbImage) -> RgbImage {
    // Area (box) downscale of the even-sized crop.
    let (w, h) = (clean.width() / 2, clean.height() / 2);
    RgbImage::from_fn(w, h, |x, y| {
        let mut acc = [0u32; 3];
        for (dx, dy) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
            let p = clean.get_pixel(2 * x + dx, 2 * y + dy).0;
            for c in 0..3 {
                acc[c] += u32::from(p[c]);
            }
        }
        image::Rgb(acc.map(|a| ((a + 2) / 4) as u8))
    })
}

fn crop_even(img: &RgbImage) -> RgbImage {
    image::imageops::crop_imm(img, 0, 0, img.width() & !1, img.height() & !1).to_image()
}

fn grey(img: &RgbImage) -> RgbImage {
    let g = image::DynamicImage::ImageRgb8(img.clone()).to_luma8();
    image::DynamicImage::ImageLuma8(g).to_rgb8()
}

struct Row {
    photo: String,
    held_out: bool,
    cells: Vec<(String, f64)>,
}

fn run_opencv(dir: &Path) -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import cv2, numpy"])
        .status()
        .is_ok_and(|s| s.success())
        || Command::new("python3")
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "opencv-python-headless",
                "numpy",
            ])
            .status()
            .is_ok_and(|s| s.success());
    if !ok {
        eprintln!("warning: could not install opencv-python-headless; OpenCV baselines skipped");
        return false;
    }
    Command::new("python3")
        .arg("xtask/py/baselines.py")
        .arg("quality")
        .arg(dir)
        .status()
        .is_ok_and(|s| s.success())
}

pub fn run(args: &[String]) -> Result<()> {
    let only = args
        .iter()
        .position(|a| a == "--op")
        .and_then(|i| args.get(i + 1))
        .cloned();
    let opencv = !args.iter().any(|a| a == "--no-opencv");
    let write = !args.iter().any(|a| a == "--no-write");
    if !Path::new("examples/images").is_dir() {
        bail!("run from the workspace root");
    }
    let engine = Engine::new();
    let photos = photos()?;
    let dir = std::env::temp_dir().join(format!("bdip-quality-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let wants = |op: &str| only.as_deref().is_none_or(|o| o == op);

    // Degrade and write inputs for the baselines.
    for (name, clean, _) in &photos {
        let stem = name.rsplit_once('.').map_or(name.as_str(), |(s, _)| s);
        let clean = crop_even(clean);
        if wants("dehaze") {
            add_haze(&clean).save(dir.join(format!("{stem}.dehaze.in.png")))?;
        }
        if wants("contrast") {
            dull_and_darken(&clean).save(dir.join(format!("{stem}.contrast.in.png")))?;
        }
        if wants("enhance") {
            downscale_2x(&clean).save(dir.join(format!("{stem}.enhance.in.png")))?;
        }
    }
    let have_opencv = opencv && run_opencv(&dir);
    let load = |stem: &str, op: &str, tag: &str| -> Option<RgbImage> {
        image::open(dir.join(format!("{stem}.{op}.{tag}.png")))
            .ok()
            .map(|i| i.to_rgb8())
    };

    let mut sections = Vec::new();
    for op in ["enhance", "dehaze", "contrast", "colourize"] {
        if !wants(op) {
            continue;
        }
        let mut rows = Vec::new();
        for (name, clean, held_out) in &photos {
            let stem = name
                .rsplit_once('.')
                .map_or(name.as_str(), |(s, _)| s)
                .to_owned();
            let clean = crop_even(clean);
            let mut cells = Vec::new();
            match op {
                "enhance" => {
                    let small = downscale_2x(&clean);
                    let ours = engine.enhance(&small);
                    let bicubic = image::imageops::resize(
                        &small,
                        clean.width(),
                        clean.height(),
                        FilterType::CatmullRom,
                    );
                    let ours_db = y_psnr(&ours, &clean, 4);
                    let bicubic_db = y_psnr(&bicubic, &clean, 4);
                    cells.push(("ours Y-PSNR".into(), ours_db));
                    cells.push(("bicubic (Catmull-Rom)".into(), bicubic_db));
                    if let Some(cv) = load(&stem, op, "bicubic") {
                        cells.push(("OpenCV bicubic".into(), y_psnr(&cv, &clean, 4)));
                    }
                    cells.push(("gain vs bicubic".into(), ours_db - bicubic_db));
                }
                "dehaze" => {
                    let hazy = add_haze(&clean);
                    cells.push(("hazy input".into(), psnr(&hazy, &clean)));
                    cells.push(("ours".into(), psnr(&engine.dehaze(&hazy), &clean)));
                    if let Some(cv) = load(&stem, op, "dcp") {
                        cells.push(("OpenCV DCP".into(), psnr(&cv, &clean)));
                    }
                    cells.push((
                        "haze-free in, vs itself (cap 50)".into(),
                        psnr(&engine.dehaze(&clean), &clean).min(50.0),
                    ));
                }
                "contrast" => {
                    let dull = dull_and_darken(&clean);
                    cells.push(("degraded input".into(), psnr(&dull, &clean)));
                    cells.push(("ours".into(), psnr(&engine.contrast(&dull), &clean)));
                    for tag in ["clahe", "stretch"] {
                        if let Some(cv) = load(&stem, op, tag) {
                            cells.push((format!("OpenCV {tag}"), psnr(&cv, &clean)));
                        }
                    }
                    cells.push((
                        "well-exposed in, vs itself (cap 50)".into(),
                        psnr(&engine.contrast(&clean), &clean).min(50.0),
                    ));
                }
                _ => {
                    let g = grey(&clean);
                    let luma = image::DynamicImage::ImageRgb8(clean.clone()).to_luma8();
                    let ours = engine.colourize(&luma);
                    cells.push(("grey input PSNR".into(), psnr(&g, &clean)));
                    cells.push(("ours PSNR".into(), psnr(&ours, &clean)));
                    cells.push(("ours colourfulness".into(), colourfulness(&ours)));
                    cells.push(("original colourfulness".into(), colourfulness(&clean)));
                }
            }
            rows.push(Row {
                photo: name.clone(),
                held_out: *held_out,
                cells,
            });
        }
        sections.push((op, rows));
    }
    let _ = std::fs::remove_dir_all(&dir);

    let mut md = String::new();
    for (op, rows) in &sections {
        let Some(first) = rows.first() else { continue };
        md.push_str(&format!("\n### {op}\n\n| photo |"));
        for (k, _) in &first.cells {
            md.push_str(&format!(" {k} |"));
        }
        md.push_str("\n|---|");
        md.push_str(&"---|".repeat(first.cells.len()));
        md.push('\n');
        let mut sums = vec![0.0; first.cells.len()];
        for row in rows {
            let tag = if row.held_out { " (held out)" } else { "" };
            md.push_str(&format!("| {}{tag} |", row.photo));
            for (i, (_, v)) in row.cells.iter().enumerate() {
                md.push_str(&format!(" {v:.2} |"));
                if let Some(s) = sums.get_mut(i) {
                    *s += v;
                }
            }
            md.push('\n');
        }
        md.push_str("| **mean** |");
        for s in sums {
            md.push_str(&format!(" **{:.2}** |", s / rows.len() as f64));
        }
        md.push('\n');
    }
    println!("{md}");
    if !have_opencv {
        println!("(OpenCV baselines not available in this run)");
    }
    if write {
        let path = Path::new("docs/quality-results.md");
        std::fs::create_dir_all("docs")?;
        std::fs::write(
            path,
            format!(
                "# Quality results\n\nGenerated by `cargo xtask quality` (PSNR in dB, higher is better; colourfulness per Hasler–Süsstrunk).\nSee [quality.md](quality.md) for the method.\n{md}"
            ),
        )?;
        println!("wrote {}", path.display());
    }
    Ok(())
}
