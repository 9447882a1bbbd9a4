//! `cargo xtask bench-restore [--runs N] [--no-opencv] [--no-write]`: times each
//! restoration operation on one thread at 1080p, on an input carrying its degradation,
//! next to OpenCV's coloured NLM measured in the same run (the denoise bar: no slower).
//! Writes the `## Restoration operations` section of docs/benchmarks.md.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::engine_ops as restoration;
use anyhow::Result;
use baidu_imageprocess_protocol::Rect;
use image::{RgbImage, imageops::FilterType};

use crate::degrade;

/// One timed call of an operation on its prepared input.
type Operation<'a> = Box<dyn Fn() -> RgbImage + Sync + 'a>;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// CPU time of the calling thread so far (Linux: /proc/thread-self/schedstat), so the
/// figures hold on a machine shared with other jobs; `None` elsewhere.
fn thread_cpu_time() -> Option<Duration> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: u64 = text.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(ns))
}

/// The most one restoration operation may take at 1080p on one thread (issue 24).
const BAR_SECONDS: f64 = 0.6;

/// Medians of `runs` calls on a one-thread pool after a warm-up: (wall, thread CPU).
fn time_one_thread(runs: usize, f: &(dyn Fn() + Sync)) -> (Duration, Option<Duration>) {
    let Ok(pool) = rayon::ThreadPoolBuilder::new().num_threads(1).build() else {
        return (Duration::ZERO, None);
    };
    pool.install(|| {
        f();
        let (mut wall, mut cpu) = (Vec::new(), Vec::new());
        for _ in 0..runs {
            let (t, c) = (Instant::now(), thread_cpu_time());
            f();
            wall.push(t.elapsed());
            if let (Some(c0), Some(c1)) = (c, thread_cpu_time()) {
                cpu.push(c1.saturating_sub(c0));
            }
        }
        let cpu = (cpu.len() == runs).then(|| median(cpu));
        (median(wall), cpu)
    })
}

fn nlm_seconds(w: u32, h: u32, runs: usize) -> Option<f64> {
    let out = Command::new("python3")
        .args([
            "xtask/py/restore_baselines.py",
            "bench",
            &w.to_string(),
            &h.to_string(),
            &runs.to_string(),
        ])
        .output()
        .ok()?;
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).ok()?;
    v.get("nlm")?.as_f64()
}

pub fn run(args: &[String]) -> Result<()> {
    let runs: usize = args
        .iter()
        .position(|a| a == "--runs")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let use_opencv = !args.iter().any(|a| a == "--no-opencv");
    let write = !args.iter().any(|a| a == "--no-write");
    let (w, h) = (1920, 1080);
    let photo = image::open("examples/images/rocket.jpg")?.to_rgb8();
    let frame = image::imageops::resize(&photo, w, h, FilterType::Triangle);
    let nlm = if use_opencv {
        nlm_seconds(w, h, runs)
    } else {
        None
    };

    let noisy = degrade::gaussian_noise(&frame, 15.0, 1);
    let soft = degrade::jpeg(&degrade::blur(&frame, 1.2), 85)?;
    let faded = degrade::saturate(&frame, 0.6);
    let narrow = image::imageops::resize(&photo, (w as f32 / 1.4) as u32, h, FilterType::Triangle);
    let stretched = degrade::stretch(&narrow, 1.4, 1.0, FilterType::CatmullRom);
    let rects = degrade::inpaint_rects(w, h, 7);
    let holed = degrade::black_out(&frame, &rects);
    let page = degrade::shade_page(&degrade::synthetic_page(w, h, 3), 3);
    let (moire, _) = degrade::moire(&frame, 5);

    let cases: Vec<(&str, String, Operation<'_>)> = vec![
        (
            "denoise (strength 60)",
            "σ 15 noise".into(),
            Box::new(|| restoration::denoise(&noisy, 60)),
        ),
        (
            "denoise (strength 100)",
            "σ 15 noise".into(),
            Box::new(|| restoration::denoise(&noisy, 100)),
        ),
        (
            "definition",
            "blur σ 1.2 + JPEG q85".into(),
            Box::new(|| restoration::definition(&soft)),
        ),
        (
            "colour enhance",
            "saturation × 0.6".into(),
            Box::new(|| restoration::colour_enhance(&faded)),
        ),
        (
            "stretch restore",
            format!(
                "{}×{} stretched 1.4× wide",
                stretched.width(),
                stretched.height()
            ),
            Box::new(|| restoration::stretch_restore(&stretched)),
        ),
        (
            "inpaint",
            "three rectangles".into(),
            Box::new(|| restoration::inpaint(&holed, &rects).unwrap_or_default()),
        ),
        (
            "inpaint",
            "one 200×150 rectangle".into(),
            Box::new(|| {
                restoration::inpaint(&holed, &[Rect::new(900, 400, 200, 150)]).unwrap_or_default()
            }),
        ),
        (
            "inpaint",
            "one 400×300 rectangle".into(),
            Box::new(|| {
                restoration::inpaint(&holed, &[Rect::new(700, 300, 400, 300)]).unwrap_or_default()
            }),
        ),
        (
            "inpaint",
            "all but a 20-px frame".into(),
            Box::new(|| {
                restoration::inpaint(&holed, &[Rect::new(20, 20, w - 40, h - 40)])
                    .unwrap_or_default()
            }),
        ),
        (
            "doc repair",
            "shaded synthetic page".into(),
            Box::new(|| restoration::doc_repair(&page)),
        ),
        (
            "demoire",
            "gratings, 2x down and up".into(),
            Box::new(|| restoration::demoire(&moire)),
        ),
    ];
    let mut md = format!(
        "One thread (a one-thread rayon pool), 1920×1080, median of {runs} runs after a warm-up, \
         decoded image in and out (codec time excluded; see the Engine section for it). \
         The machine is shared with other jobs, so the bar is judged on the thread's CPU time \
         (/proc/thread-self/schedstat); OpenCV's time is its process CPU time. \
         Bar (issue 24, tightened from issue 15's 1 s): every operation ≤ 600 ms; denoise no slower than OpenCV's \
         `fastNlMeansDenoisingColored` (h 7, template 7, search 21, `cv2.setNumThreads(1)`) in the same run.\n\n\
         ```sh\ncargo xtask bench-restore\n```\n\n| operation | input | ours, 1 thread (CPU time) | wall time | bar (on CPU time) |\n|---|---|---|---|---|\n"
    );
    for (name, input, f) in &cases {
        let (wall, cpu) = time_one_thread(runs, &|| drop(f()));
        let secs = cpu.unwrap_or(wall).as_secs_f64();
        let verdict = match (name.starts_with("denoise"), nlm) {
            (true, Some(n)) => format!(
                "NLM {:.0} ms: {}",
                n * 1e3,
                if secs <= n && secs <= BAR_SECONDS {
                    "met"
                } else {
                    "**missed**"
                }
            ),
            _ => (if secs <= BAR_SECONDS {
                "≤ 600 ms: met"
            } else {
                "≤ 600 ms: **missed**"
            })
            .to_owned(),
        };
        let row = format!(
            "| {name} | {input} | {:.0} ms | {:.0} ms | {verdict} |\n",
            secs * 1e3,
            wall.as_secs_f64() * 1e3
        );
        print!("{row}");
        md.push_str(&row);
    }
    if write {
        crate::docs::replace_section(
            Path::new("docs/benchmarks.md"),
            "Restoration operations",
            &md,
        )?;
        println!("updated docs/benchmarks.md (## Restoration operations)");
    }
    Ok(())
}
