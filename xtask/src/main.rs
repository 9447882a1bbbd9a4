//! Developer tasks: `cargo xtask <task> [args]`. Each task lives in its own module and
//! parses its own arguments.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use anyhow::{Result, bail};

mod bench_client;
mod bench_engine;
mod bench_pipeline;
mod bench_restore;
mod bench_stylise;
mod browser_test;
mod budget_bench;
mod contact_sheet;
mod degrade;
mod docs;
mod engine_ops;
mod families;
mod fuzz;
mod graphics;
mod load;
mod metrics;
mod op_files;
mod photos;
mod quality;
mod quality_restore;
mod readme_images;
mod restore_images;
mod train_colourize;
mod train_contrast;
mod train_definition;
mod train_enhance;
mod train_refine;

/// (name, what it does, entry point)
type Task = (&'static str, &'static str, fn(&[String]) -> Result<()>);

const TASKS: &[Task] = &[
    (
        "op-files",
        "In how many non-test source files under crates/ each operation is named: [--max N] (default 5; fails above)",
        op_files::run,
    ),
    (
        "photos",
        "Fetch the freely licensed photos (Debian wallpapers, Python sample data): --dir DIR",
        photos::run,
    ),
    (
        "quality",
        "Degrade the shipped photos, run the engine and the OpenCV baselines, report PSNR (docs/quality.md)",
        quality::run,
    ),
    (
        "quality-restore",
        "Restoration operations vs OpenCV baselines on degraded photos: --op OP --photos DIR (docs/quality.md)",
        quality_restore::run,
    ),
    (
        "quality-families",
        "Dehaze and moiré removal on degradation families and hard controls, held-out families marked (docs/quality.md)",
        families::run,
    ),
    (
        "bench-engine",
        "Time each engine operation at 1080p and 4K next to OpenCV baselines (docs/benchmarks.md)",
        bench_engine::run,
    ),
    (
        "bench-pipeline",
        "Time `bdip dehaze`/`contrast` on twenty 1080p JPEGs against an OpenCV pipeline, one thread each (docs/benchmarks.md)",
        bench_pipeline::run,
    ),
    (
        "bench-restore",
        "Time each restoration operation at 1080p on one thread next to OpenCV NLM (docs/benchmarks.md)",
        bench_restore::run,
    ),
    (
        "train-enhance",
        "Train the 2x enhance filters on the train split of the fetched photos (reproducible)",
        train_enhance::run,
    ),
    (
        "train-contrast",
        "Build the contrast model from the training photos (reproducible)",
        train_contrast::run,
    ),
    (
        "train-colourize",
        "Train the colourize model on the train split of the fetched photos (reproducible)",
        train_colourize::run,
    ),
    (
        "train-definition",
        "Train the definition-enhance filters on the train split of the fetched photos (reproducible)",
        train_definition::run,
    ),
    (
        "fuzz",
        "Fuzz reply parsing and image sniffing: --seconds N",
        fuzz::run,
    ),
    (
        "bench-client",
        "Blocking and async clients vs the official Python SDK against the --echo emulator",
        bench_client::run,
    ),
    (
        "budget-bench",
        "The Redis budget's cost per reservation and reservations/s, against its own loopback redis-server: [--calls N] [--seconds S] (docs/benchmarks.md)",
        budget_bench::run,
    ),
    (
        "load",
        "Load-test a release emulator: --seconds N --concurrency C",
        load::run,
    ),
    (
        "bench-stylise",
        "Time every stylising request at 1080p on 1 and all threads (docs/benchmarks.md)",
        bench_stylise::run,
    ),
    (
        "contact-sheet",
        "Render the stylising operations on the sample photos: docs/images/{styles,presets}.jpg [--out DIR]",
        contact_sheet::run,
    ),
    (
        "browser-test",
        "Run the emulator console's self-test in headless Chromium (--screenshot: docs/images/console.png)",
        browser_test::run,
    ),
    (
        "restore-images",
        "Render the restoration operations' before/after pictures under docs/images/",
        restore_images::run,
    ),
    (
        "readme-images",
        "Render the before/after pictures under docs/images/",
        readme_images::run,
    ),
];

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((task, rest)) = args.split_first() else {
        print_help();
        return Ok(());
    };
    if matches!(task.as_str(), "help" | "--help" | "-h") {
        print_help();
        return Ok(());
    }
    match TASKS.iter().find(|(name, _, _)| name == task) {
        Some((_, _, run)) => run(rest),
        None => bail!("unknown task `{task}`; run `cargo xtask help`"),
    }
}

fn print_help() {
    println!("cargo xtask <task> [args]\n\ntasks:");
    for (name, about, _) in TASKS {
        println!("  {name:<16} {about}");
    }
}
