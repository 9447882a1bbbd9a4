//! `cargo xtask bench-pipeline [--runs N] [--photos DIR] [--no-write]`: what a user waits
//! for. Twenty 1080p JPEGs made from the photos (hazed for dehaze), then `bdip dehaze` and
//! `bdip contrast` on the folder with `--jobs 1` and one rayon thread, against an OpenCV
//! pipeline on one thread (imread, the operation, imwrite at quality 92; the DCP and CLAHE
//! of `xtask/py/baselines.py`), in the same run, each process timed from outside.
//! `BDIP_PROFILE` gives bdip's time per stage. Writes the `## Pipeline` section of
//! docs/benchmarks.md.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context as _, Result, bail};
use image::RgbImage;
use image::imageops::FilterType;

use crate::photos::{self, Split};

/// Images in the folder.
const IMAGES: usize = 20;
const WIDTH: u32 = 1920;
const HEIGHT: u32 = 1080;
/// Quality of the input JPEGs (what a camera or an editor typically writes).
const INPUT_QUALITY: u8 = 90;

/// `photo` scaled to cover 1920×1080 and cropped to it, centred.
fn frame(photo: &RgbImage) -> RgbImage {
    let scale = (f64::from(WIDTH) / f64::from(photo.width()))
        .max(f64::from(HEIGHT) / f64::from(photo.height()));
    let w = ((f64::from(photo.width()) * scale).round() as u32).max(WIDTH);
    let h = ((f64::from(photo.height()) * scale).round() as u32).max(HEIGHT);
    let scaled = image::imageops::resize(photo, w, h, FilterType::Triangle);
    image::imageops::crop_imm(&scaled, (w - WIDTH) / 2, (h - HEIGHT) / 2, WIDTH, HEIGHT).to_image()
}

fn write_jpeg(img: &RgbImage, path: &Path) -> Result<()> {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, INPUT_QUALITY)
        .encode_image(img)
        .with_context(|| format!("writing {}", path.display()))
}

/// Writes the two input folders (`plain` for contrast, `hazy` for dehaze, which gives a
/// haze-free photo back unchanged at once) unless they are already there.
fn make_inputs(photo_dir: &Path, work: &Path) -> Result<()> {
    let (plain, hazy) = (work.join("plain"), work.join("hazy"));
    let complete = |d: &Path| std::fs::read_dir(d).is_ok_and(|r| r.count() == IMAGES);
    if complete(&plain) && complete(&hazy) {
        return Ok(());
    }
    std::fs::create_dir_all(&plain)?;
    std::fs::create_dir_all(&hazy)?;
    // Training photos only (speed does not tune anything, but the split stays clean),
    // several times over if there are fewer than twenty.
    let names: Vec<String> = photos::manifest()?
        .into_iter()
        .filter(|r| r.split == Split::Train)
        .map(|r| r.name)
        .collect();
    if names.is_empty() {
        bail!("the manifest lists no training photos");
    }
    for i in 0..IMAGES {
        let name = &names[i % names.len()];
        let path = photo_dir.join(name);
        let photo = image::open(&path)
            .with_context(|| {
                format!(
                    "reading {}; fetch the photos with `cargo xtask photos --dir {}`",
                    path.display(),
                    photo_dir.display()
                )
            })?
            .to_rgb8();
        let img = frame(&photo);
        write_jpeg(&img, &plain.join(format!("p{i:02}.jpg")))?;
        write_jpeg(
            &crate::quality::add_haze(&img),
            &hazy.join(format!("p{i:02}.jpg")),
        )?;
    }
    Ok(())
}

/// A process timed from outside by `xtask/py/pipeline.py time`.
struct Timed {
    wall: f64,
    cpu: f64,
    stdout: String,
    stderr: String,
}

fn timed(cmd: &[&str], env: &[(&str, &str)]) -> Result<Timed> {
    let out = Command::new("python3")
        .arg("xtask/py/pipeline.py")
        .arg("time")
        .args(cmd)
        .envs(env.iter().copied())
        .output()
        .context("running python3 xtask/py/pipeline.py")?;
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).with_context(|| {
        format!(
            "pipeline.py time: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )
    })?;
    let num = |k: &str| v.get(k).and_then(serde_json::Value::as_f64).unwrap_or(0.0);
    let text = |k: &str| {
        v.get(k)
            .and_then(serde_json::Value::as_str)
            .unwrap_or("")
            .to_owned()
    };
    if num("status") != 0.0 {
        bail!("{cmd:?} failed: {}", text("stderr").trim());
    }
    Ok(Timed {
        wall: num("wall"),
        cpu: num("user") + num("sys"),
        stdout: text("stdout"),
        stderr: text("stderr"),
    })
}

/// bdip's `BDIP_PROFILE` lines: stage and total milliseconds.
fn profile(stderr: &str) -> Vec<(String, f64)> {
    stderr
        .lines()
        .filter_map(|l| {
            let mut f = l.strip_prefix("profile ")?.split(' ');
            Some((f.next()?.to_owned(), f.next()?.parse().ok()?))
        })
        .collect()
}

/// One side's runs, in milliseconds per image.
#[derive(Default)]
struct Runs {
    wall: Vec<f64>,
    cpu: Vec<f64>,
    /// OpenCV only: the loop inside Python, interpreter start-up and imports excluded.
    loop_wall: Vec<f64>,
    loop_cpu: Vec<f64>,
    /// Per stage, summed over the runs.
    stages: Vec<(String, f64)>,
}

impl Runs {
    fn add_stages(&mut self, stages: Vec<(String, f64)>) {
        for (name, ms) in stages {
            match self.stages.iter_mut().find(|(n, _)| *n == name) {
                Some((_, total)) => *total += ms,
                None => self.stages.push((name, ms)),
            }
        }
    }
}

fn median(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

fn worst(v: &[f64]) -> f64 {
    v.iter().copied().fold(f64::NAN, f64::max)
}

pub fn run(args: &[String]) -> Result<()> {
    let runs: usize = args
        .iter()
        .position(|a| a == "--runs")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(3)
        .max(1);
    let write = !args.iter().any(|a| a == "--no-write");
    let photo_dir = photos::photo_dir(args);
    let work = PathBuf::from("target/bench-pipeline");
    make_inputs(&photo_dir, &work)?;
    let built = Command::new("cargo")
        .args(["build", "--release", "-p", "baidu-imageprocess-cli"])
        .status()?;
    if !built.success() {
        bail!("cargo build --release -p baidu-imageprocess-cli failed");
    }
    let bdip = std::fs::canonicalize("target/release/bdip")?;
    let bdip = bdip.to_string_lossy();
    let n = IMAGES as f64;
    let mut md = format!(
        "{IMAGES} JPEGs of 1920×1080 (quality {INPUT_QUALITY}, made from the training photos; hazed \
         for dehaze), one process per side and run, timed from outside; median of {runs} runs, \
         the two sides alternating. bdip: `bdip OP --local --jobs 1 --out-dir DIR FOLDER` with \
         `RAYON_NUM_THREADS=1` (the whole process: start-up, reading, decoding, the operation, \
         encoding at quality 92, writing). OpenCV: `xtask/py/pipeline.py` with \
         `cv2.setNumThreads(1)`: imread, the DCP or CLAHE of `xtask/py/baselines.py`, imwrite \
         at quality 92; its time is given for the whole process and for the loop alone \
         (Python start-up and imports excluded). The ratio is bdip's process against OpenCV's \
         loop alone, the stricter comparison. CPU is user + system time (the whole process for bdip, the loop alone for OpenCV).\n\n\
         ```sh\nBDIP_PHOTOS=/path/to/photos cargo xtask bench-pipeline\n```\n\n\
         | operation | bdip, ms/image (wall) | OpenCV loop | OpenCV process | bdip ÷ OpenCV loop, wall (median, worst run) | bdip CPU | OpenCV loop CPU | bdip ÷ OpenCV loop, CPU (median, worst run) |\n\
         |---|---|---|---|---|---|---|---|\n"
    );
    let mut stage_md = String::from(
        "\nWhere bdip's time goes (`BDIP_PROFILE=1`, ms per image, mean over the runs; \
         wall time of each stage inside the process; OpenCV's loop for comparison):\n\n\
         | operation | side | read | decode | operation | encode | write | other (start-up, checks) |\n\
         |---|---|---|---|---|---|---|---|\n",
    );
    for (op, folder) in [("dehaze", "hazy"), ("contrast", "plain")] {
        let src = work.join(folder);
        let src = src.to_string_lossy();
        let (ours_dir, cv_dir) = (
            work.join(format!("out-bdip-{op}")),
            work.join(format!("out-cv-{op}")),
        );
        let (mut ours, mut cv) = (Runs::default(), Runs::default());
        let (mut ratios, mut cpu_ratios) = (Vec::new(), Vec::new());
        for _ in 0..runs {
            let _ = std::fs::remove_dir_all(&ours_dir);
            let _ = std::fs::remove_dir_all(&cv_dir);
            let out_dir = ours_dir.to_string_lossy();
            let t = timed(
                &[
                    &bdip,
                    op,
                    "--local",
                    "--jobs",
                    "1",
                    "--out-dir",
                    &out_dir,
                    &src,
                ],
                &[("RAYON_NUM_THREADS", "1"), ("BDIP_PROFILE", "1")],
            )?;
            ours.wall.push(t.wall * 1e3 / n);
            ours.cpu.push(t.cpu * 1e3 / n);
            ours.add_stages(profile(&t.stderr));
            let cv_out = cv_dir.to_string_lossy();
            let c = timed(
                &[
                    "python3",
                    "xtask/py/pipeline.py",
                    "opencv",
                    op,
                    &src,
                    &cv_out,
                ],
                &[],
            )?;
            let inner: serde_json::Value = serde_json::from_str(c.stdout.trim())
                .with_context(|| format!("pipeline.py opencv printed {:?}", c.stdout))?;
            let loop_wall = inner
                .get("wall")
                .and_then(serde_json::Value::as_f64)
                .unwrap_or(0.0);
            cv.wall.push(c.wall * 1e3 / n);
            cv.cpu.push(c.cpu * 1e3 / n);
            cv.loop_wall.push(loop_wall * 1e3 / n);
            let loop_cpu = inner
                .get("cpu")
                .and_then(serde_json::Value::as_f64)
                .unwrap_or(0.0);
            cv.loop_cpu.push(loop_cpu * 1e3 / n);
            cpu_ratios.push(t.cpu / loop_cpu.max(1e-9));
            if let Some(stages) = inner.get("stages").and_then(serde_json::Value::as_object) {
                cv.add_stages(
                    stages
                        .iter()
                        .filter_map(|(k, v)| Some((k.clone(), v.as_f64()? * 1e3)))
                        .collect(),
                );
            }
            ratios.push(t.wall / loop_wall.max(1e-9));
            println!(
                "{op}: bdip {:.1} ms/image (CPU {:.1}), OpenCV loop {:.1} ms/image (CPU {:.1}; process {:.1}, CPU {:.1})",
                t.wall * 1e3 / n,
                t.cpu * 1e3 / n,
                loop_wall * 1e3 / n,
                loop_cpu * 1e3 / n,
                c.wall * 1e3 / n,
                c.cpu * 1e3 / n
            );
        }
        let row = format!(
            "| {op} | {:.1} | {:.1} | {:.1} | {:.2}, {:.2} | {:.1} | {:.1} | {:.2}, {:.2} |\n",
            median(&ours.wall),
            median(&cv.loop_wall),
            median(&cv.wall),
            median(&ratios),
            worst(&ratios),
            median(&ours.cpu),
            median(&cv.loop_cpu),
            median(&cpu_ratios),
            worst(&cpu_ratios),
        );
        print!("{row}");
        md.push_str(&row);
        let per_image = |stages: &[(String, f64)], name: &str| {
            stages
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, ms)| ms / (n * runs as f64))
        };
        let cell = |v: Option<f64>| v.map_or_else(|| "—".to_owned(), |ms| format!("{ms:.1}"));
        let ours_known: f64 = [
            "read",
            "check",
            "call",
            "decode",
            "operation",
            "encode",
            "write",
        ]
        .iter()
        .filter_map(|s| per_image(&ours.stages, s))
        .sum();
        let ours_total = ours.wall.iter().sum::<f64>() / runs as f64;
        let call = per_image(&ours.stages, "call");
        let row = format!(
            "| {op} | bdip | {} | {} | {} | {} | {} | {:.1} |\n",
            cell(per_image(&ours.stages, "read")),
            cell(per_image(&ours.stages, "decode")),
            cell(per_image(&ours.stages, "operation").or(call)),
            cell(per_image(&ours.stages, "encode")),
            cell(per_image(&ours.stages, "write")),
            ours_total - ours_known + per_image(&ours.stages, "check").unwrap_or(0.0),
        );
        let cv_known: f64 = ["read", "operation", "write"]
            .iter()
            .filter_map(|s| per_image(&cv.stages, s))
            .sum();
        let cv_row = format!(
            "| {op} | OpenCV | imread (with decode) {} | — | {} | imwrite (with encode) {} | — | {:.1} |\n",
            cell(per_image(&cv.stages, "read")),
            cell(per_image(&cv.stages, "operation")),
            cell(per_image(&cv.stages, "write")),
            cv.loop_wall.iter().sum::<f64>() / runs as f64 - cv_known,
        );
        print!("{row}{cv_row}");
        stage_md.push_str(&row);
        stage_md.push_str(&cv_row);
    }
    md.push_str(&stage_md);
    if write {
        crate::docs::replace_section(Path::new("docs/benchmarks.md"), "Pipeline", &md)?;
        println!("updated docs/benchmarks.md (## Pipeline)");
    }
    Ok(())
}
