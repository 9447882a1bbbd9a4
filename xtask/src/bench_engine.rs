//! `cargo xtask bench-engine [--runs N] [--no-opencv] [--no-write] [--op OP]`: times each engine
//! operation at 1080p and 4K (enhance and colourize at 960×540 and 800×800 inputs) on one
//! thread and on all threads, next to OpenCV baselines measured in the same run, and the
//! JPEG decode + encode overhead. Writes the `## Engine` section of docs/benchmarks.md.

use crate::engine_ops::EngineOps as _;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::Result;
use baidu_imageprocess_engine::Engine;
use baidu_imageprocess_engine::training::encode_jpeg_rgb;
use image::{RgbImage, imageops::FilterType};

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn time(runs: usize, threads: usize, f: &(dyn Fn() + Sync)) -> Duration {
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build();
    let Ok(pool) = pool else {
        return Duration::ZERO;
    };
    pool.install(|| {
        f();
        median(
            (0..runs)
                .map(|_| {
                    let t = Instant::now();
                    f();
                    t.elapsed()
                })
                .collect(),
        )
    })
}

fn opencv(w: u32, h: u32, runs: usize) -> Option<serde_json::Value> {
    let out = Command::new("python3")
        .args([
            "xtask/py/baselines.py",
            "bench",
            &w.to_string(),
            &h.to_string(),
            &runs.to_string(),
        ])
        .output()
        .ok()?;
    serde_json::from_slice(&out.stdout).ok()
}

pub fn run(args: &[String]) -> Result<()> {
    let runs: usize = args
        .iter()
        .position(|a| a == "--runs")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let use_opencv = !args.iter().any(|a| a == "--no-opencv");
    // `--op NAME` times that operation only, `--op codec` the codec only (for quick checks;
    // writes nothing).
    let only = args
        .iter()
        .position(|a| a == "--op")
        .and_then(|i| args.get(i + 1))
        .cloned();
    let write = only.is_none() && !args.iter().any(|a| a == "--no-write");
    let photo = image::open("examples/images/rocket.jpg")?.to_rgb8();
    let at = |w: u32, h: u32| -> RgbImage {
        image::imageops::resize(&photo, w, h, FilterType::Triangle)
    };
    let engine = Engine::new();
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let mut md = format!(
        "Median of {runs} runs after a warm-up; MP/s counts output megapixels. OpenCV {} single-threaded \
         (`cv2.setNumThreads(1)`), same machine, same run.\n\n```sh\ncargo xtask bench-engine\n```\n\n\
         | operation | size | ours, 1 thread | ours, {cores} threads | MP/s (1 thread) | OpenCV baseline (1 thread) | ours ÷ OpenCV time |\n|---|---|---|---|---|---|---|\n",
        Command::new("python3")
            .args(["-c", "import cv2; print(cv2.__version__)"])
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .map_or_else(|| "(not installed)".into(), |s| s.trim().to_owned())
    );
    let cases: [(Operation, &str, u32, u32, Option<&str>); 9] = [
        (Operation::Dehaze, "1080p", 1920, 1080, Some("dcp")),
        (Operation::Dehaze, "4K", 3840, 2160, Some("dcp")),
        (Operation::Contrast, "1080p", 1920, 1080, Some("clahe")),
        (Operation::Contrast, "4K", 3840, 2160, Some("clahe")),
        (Operation::Enhance, "960×540 in", 960, 540, Some("bicubic")),
        (Operation::Enhance, "800×800 in", 800, 800, Some("bicubic")),
        // A compressed input: deblocking and the compressed bank when its blockiness
        // routes it there.
        (
            Operation::Enhance,
            "960×540 JPEG q80 in",
            960,
            540,
            Some("bicubic"),
        ),
        (Operation::Colourize, "800×800", 800, 800, None),
        (Operation::Colourize, "1080p", 1920, 1080, None),
    ];
    for (op, label, w, h, baseline) in cases {
        if only.as_deref().is_some_and(|o| o != op.name()) {
            continue;
        }
        // Dehaze gets a hazy input: a clear one takes the early exit.
        let img = if op == Operation::Dehaze {
            crate::quality::add_haze(&at(w, h))
        } else if label.contains("JPEG") {
            crate::quality::jpeg_round_trip(&at(w, h), 80)
        } else {
            at(w, h)
        };
        let grey = image::DynamicImage::ImageRgb8(img.clone()).to_luma8();
        let f = || match op {
            Operation::Dehaze => drop(engine.dehaze(&img)),
            Operation::Contrast => drop(engine.contrast(&img)),
            Operation::Enhance => drop(engine.enhance(&img)),
            Operation::Colourize => drop(engine.colourize(&grey)),
        };
        let one = time(runs, 1, &f);
        let all = time(runs, cores, &f);
        let out_mp =
            f64::from(w) * f64::from(h) * if op == Operation::Enhance { 4.0 } else { 1.0 } / 1e6;
        let (ow, oh) = if op == Operation::Enhance {
            (w * 2, h * 2)
        } else {
            (w, h)
        };
        let cv = baseline.and_then(|b| {
            let v = if use_opencv {
                opencv(ow, oh, runs)
            } else {
                None
            }?;
            Some((b, v.get(b)?.as_f64()?))
        });
        let (cv_text, ratio) = match cv {
            Some((name, secs)) => (
                format!("{name} {:.0} ms", secs * 1e3),
                format!("{:.2}", one.as_secs_f64() / secs),
            ),
            None => ("—".into(), "—".into()),
        };
        let row = format!(
            "| {op} | {label} | {:.0} ms | {:.0} ms | {:.1} | {cv_text} | {ratio} |\n",
            one.as_secs_f64() * 1e3,
            all.as_secs_f64() * 1e3,
            out_mp / one.as_secs_f64()
        );
        print!("{row}");
        md.push_str(&row);
    }
    // `--op codec` times the codec only.
    if only.as_deref().is_some_and(|o| o != "codec") {
        return Ok(());
    }
    // Codec overhead, separate from the algorithms.
    let img = at(1920, 1080);
    let bytes = encode_jpeg_rgb(&img)?;
    // The codec steps are short: more runs for a steadier median.
    let runs = runs.max(9);
    let decode = time(runs, 1, &|| drop(image::load_from_memory(&bytes)));
    let encode = time(runs, 1, &|| {
        drop(encode_jpeg_rgb(&img));
    });
    let jpeg_encoder = time(runs, 1, &|| {
        let mut out = Vec::new();
        let mut encoder = jpeg_encoder::Encoder::new(&mut out, 92);
        encoder.set_sampling_factor(jpeg_encoder::SamplingFactor::F_2_2);
        let (w, h) = (img.width() as u16, img.height() as u16);
        let _ = encoder.encode(img.as_raw(), w, h, jpeg_encoder::ColorType::Rgb);
    });
    let old_encode = time(runs, 1, &|| {
        let mut out = std::io::Cursor::new(Vec::new());
        let _ = img.write_with_encoder(image::codecs::jpeg::JpegEncoder::new_with_quality(
            &mut out, 92,
        ));
    });
    // OpenCV encodes and decodes the very same frame.
    let frame = std::env::temp_dir().join("bdip-bench-engine-1080p.png");
    img.save(&frame)?;
    let cv = if use_opencv {
        Command::new("python3")
            .args(["xtask/py/pipeline.py", "codec"])
            .arg(&frame)
            .arg(runs.max(9).to_string())
            .output()
            .ok()
            .and_then(|out| serde_json::from_slice::<serde_json::Value>(&out.stdout).ok())
    } else {
        None
    };
    let _ = std::fs::remove_file(&frame);
    let cv_ms = |k: &str| {
        cv.as_ref()
            .and_then(|v| v.get(k)?.as_f64())
            .map_or_else(|| "—".to_owned(), |s| format!("{:.1} ms", s * 1e3))
    };
    let row = format!(
        "\nCodec at 1080p (JPEG, quality 92, 1 thread, the same frame for OpenCV; median of {runs} runs):\n\n| step | ours | OpenCV |\n|---|---|---|\n\
         | encode (the engine's own baseline encoder, 4:2:0) | {:.1} ms | imencode {} |\n\
         | encode with `jpeg-encoder` (SIMD, 4:2:0; before) | {:.1} ms | |\n\
         | encode with the `image` crate | {:.1} ms | |\n\
         | decode (`image`/zune-jpeg) | {:.1} ms | imdecode {} |\n",
        encode.as_secs_f64() * 1e3,
        cv_ms("imencode"),
        jpeg_encoder.as_secs_f64() * 1e3,
        old_encode.as_secs_f64() * 1e3,
        decode.as_secs_f64() * 1e3,
        cv_ms("imdecode"),
    );
    let ratio = cv
        .as_ref()
        .and_then(|v| v.get("imencode")?.as_f64())
        .map_or_else(
            || "—".to_owned(),
            |s| format!("{:.2}", encode.as_secs_f64() / s),
        );
    let cv_bytes = cv
        .as_ref()
        .and_then(|v| v.get("bytes")?.as_u64())
        .map_or_else(|| "—".to_owned(), |b| b.to_string());
    let row = format!(
        "{row}\nEncode time ÷ OpenCV's: **{ratio}** (both on one thread). File size: ours {} bytes, \
         OpenCV {cv_bytes} bytes.\n",
        bytes.len()
    );
    print!("{row}");
    md.push_str(&row);
    if write {
        crate::docs::replace_section(Path::new("docs/benchmarks.md"), "Engine", &md)?;
        println!("updated docs/benchmarks.md (## Engine)");
    }
    Ok(())
}

/// The four operations timed here, by the names of the table and `--op`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Operation {
    Dehaze,
    Contrast,
    Enhance,
    Colourize,
}

impl Operation {
    const fn name(self) -> &'static str {
        match self {
            Self::Dehaze => "dehaze",
            Self::Contrast => "contrast",
            Self::Enhance => "enhance",
            Self::Colourize => "colourize",
        }
    }
}

impl std::fmt::Display for Operation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}
