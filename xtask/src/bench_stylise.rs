//! `cargo xtask bench-stylise [--runs N] [--no-write] [--only NAME] [--size WxH]`: times every stylising request
//! (nine styles, anime with and without each mask, thirty presets, a style image, sky
//! segmentation) on a 1080p photo through `Engine::process`, on one thread and on all
//! threads. The input is BMP so decoding and encoding cost ~2 ms of the figures (sky
//! segmentation also encodes its two PNG masks). Writes the "Stylising operations"
//! section of docs/benchmarks.md.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use baidu_imageprocess_engine::Engine;
use baidu_imageprocess_protocol::{Params, Style};
use image::{DynamicImage, ImageFormat, imageops::FilterType};

use crate::contact_sheet::{STYLE_NAMES, anime_params, preset, style_image};

/// The bar from the issue, per operation at 1080p on one thread.
const BAR: Duration = Duration::from_secs(1);
const BEGIN: &str = "<!-- bench-stylise:begin -->";
const END: &str = "<!-- bench-stylise:end -->";

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// CPU time of this process so far (user + system), from /proc/self/stat; zero where
/// that is not available.
fn cpu_time() -> Duration {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return Duration::ZERO;
    };
    // Fields after the command name (which may hold spaces): utime and stime are the
    // 12th and 13th, in clock ticks (100 per second on Linux).
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or(Vec::new(), |(_, rest)| rest.split_whitespace().collect());
    let ticks: u64 = [11, 12]
        .iter()
        .filter_map(|&i| fields.get(i).and_then(|v| v.parse::<u64>().ok()))
        .sum();
    Duration::from_millis(ticks * 10)
}

/// Median wall time and median CPU time of `runs` calls of `f` on a pool of `threads`.
fn time(runs: usize, threads: usize, f: &(dyn Fn() + Sync)) -> Result<(Duration, Duration)> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()?;
    Ok(pool.install(|| {
        f();
        let (wall, cpu): (Vec<Duration>, Vec<Duration>) = (0..runs)
            .map(|_| {
                let (t, c) = (Instant::now(), cpu_time());
                f();
                (t.elapsed(), cpu_time().saturating_sub(c))
            })
            .unzip();
        (median(wall), median(cpu))
    }))
}

fn encode(img: &DynamicImage, format: ImageFormat) -> Result<Vec<u8>> {
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, format)?;
    Ok(out.into_inner())
}

fn ms(d: Duration) -> String {
    format!("{:.0} ms", d.as_secs_f64() * 1000.0)
}

pub fn run(args: &[String]) -> Result<()> {
    let runs: usize = args
        .iter()
        .position(|a| a == "--runs")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(3)
        .max(1);
    let only = args
        .iter()
        .position(|a| a == "--only")
        .and_then(|i| args.get(i + 1))
        .cloned();
    // Another size (e.g. `--size 4096x4096`, to measure peak memory) is never written.
    let size = args
        .iter()
        .position(|a| a == "--size")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.split_once('x'))
        .and_then(|(w, h)| Some((w.parse::<u32>().ok()?, h.parse::<u32>().ok()?)));
    let write = only.is_none() && size.is_none() && !args.iter().any(|a| a == "--no-write");
    let (width, height) = size.unwrap_or((1920, 1080));
    let photo = image::open("examples/images/astronaut.jpg")?.to_rgb8();
    let hd = image::imageops::resize(&photo, width, height, FilterType::Triangle);
    let input = encode(&DynamicImage::ImageRgb8(hd), ImageFormat::Bmp)?;
    let style = image::open("examples/images/rocket.jpg")?;
    let style_png = encode(&style, ImageFormat::Png)?;
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let load_at_start = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();

    let mut cases: Vec<(String, Params<'_>)> = Vec::new();
    for (s, name) in Style::ALL.iter().zip(STYLE_NAMES) {
        cases.push((format!("style_trans `{name}`"), Params::StyleTrans(*s)));
    }
    cases.push(("selfie_anime".into(), anime_params(None)));
    for m in 1..=8 {
        cases.push((format!("selfie_anime mask {m}"), anime_params(Some(m))));
    }
    for id in 0..30 {
        cases.push((format!("customize_stylization preset {id}"), preset(id)));
    }
    cases.push((
        format!(
            "customize_stylization style image ({}×{} PNG)",
            style.width(),
            style.height()
        ),
        style_image(&style_png),
    ));
    cases.push(("sky_seg".into(), Params::SkySeg));

    if let Some(only) = &only {
        cases.retain(|(name, _)| name.contains(only.as_str()));
    }
    let engine = Engine::new();
    let mut rows = Vec::new();
    for (name, request) in &cases {
        let f = || {
            let _ = engine.process(request, &input);
        };
        engine
            .process(request, &input)
            .with_context(|| name.clone())?;
        let (one_wall, one) = time(runs, 1, &f)?;
        let (all, _) = time(runs, cores, &f)?;
        println!(
            "{name:<50} cpu {:>8} wall {:>8} | {cores} threads wall {:>8}",
            ms(one),
            ms(one_wall),
            ms(all)
        );
        rows.push((name.clone(), one, all));
    }

    let group = |prefix: &str| -> Vec<&(String, Duration, Duration)> {
        rows.iter().filter(|r| r.0.starts_with(prefix)).collect()
    };
    let load = load_at_start
        .split_whitespace()
        .next()
        .unwrap_or("unknown")
        .to_owned();
    let mut md = format!(
        "{BEGIN}\n## Stylising operations\n\nEach request through `Engine::process` on a 1920×1080 photo \
         (astronaut.jpg resized; BMP in and out, so the codec costs ~2 ms), median of {runs} runs after a \
         warm-up. \"1 thread\" is the CPU time (user + system, 10 ms ticks) of a one-thread rayon pool, \
         which a busy machine does not inflate; the wall time on all {cores} threads is also given. Load \
         average when the run started: {load} on {cores} cores; above {cores}, wall times are inflated by the \
         other processes. Bar: ≤ 1 s per operation on one thread.\n\n\
         ```sh\ncargo xtask bench-stylise\n```\n\n\
         | operation | requests | 1 thread (CPU): mean | 1 thread (CPU): worst (which) | {cores} threads (wall): worst | bar |\n\
         |---|---|---|---|---|---|\n"
    );
    for (label, prefix) in [
        ("style transfer", "style_trans"),
        ("selfie anime (no mask, masks 1–8)", "selfie_anime"),
        (
            "custom stylisation, presets 0–29",
            "customize_stylization preset",
        ),
        (
            "custom stylisation, style image",
            "customize_stylization style",
        ),
        ("sky segmentation", "sky_seg"),
    ] {
        let g = group(prefix);
        if g.is_empty() {
            continue;
        }
        let mean = g.iter().map(|r| r.1).sum::<Duration>() / g.len() as u32;
        let worst = g.iter().max_by_key(|r| r.1).map_or(Duration::ZERO, |r| r.1);
        let which = g.iter().max_by_key(|r| r.1).map_or("", |r| r.0.as_str());
        let worst_all = g.iter().map(|r| r.2).max().unwrap_or_default();
        let verdict = if worst <= BAR { "met" } else { "**missed**" };
        md.push_str(&format!(
            "| {label} | {} | {} | {} ({which}) | {} | {verdict} |\n",
            g.len(),
            ms(mean),
            ms(worst),
            ms(worst_all)
        ));
    }
    md.push_str("\n<details><summary>Every request</summary>\n\n| request | 1 thread (CPU) | ");
    md.push_str(&format!("{cores} threads (wall) |\n|---|---|---|\n"));
    for (name, one, all) in &rows {
        md.push_str(&format!("| {name} | {} | {} |\n", ms(*one), ms(*all)));
    }
    md.push_str(&format!("\n</details>\n{END}\n"));
    println!("\n{md}");

    if write {
        let path = Path::new("docs/benchmarks.md");
        let doc = std::fs::read_to_string(path)?;
        let updated = match (doc.find(BEGIN), doc.find(END)) {
            (Some(b), Some(e)) if e > b => {
                format!("{}{}{}", &doc[..b], md.trim_end(), &doc[e + END.len()..])
            }
            _ => format!("{}\n{md}", doc.trim_end()),
        };
        std::fs::write(path, updated)?;
        println!("updated {}", path.display());
    }
    Ok(())
}
