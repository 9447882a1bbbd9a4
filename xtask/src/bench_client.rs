//! `cargo xtask bench-client [--bin PATH] [--no-python] [--no-write]`: the blocking and
//! async clients against `baidu-imageprocess-emulator --echo` at 100 KB, 1 MB and 3 MB,
//! sequential and 8-way concurrent, and the official Python SDK (baidu-aip 4.16.13) in the
//! same run. Reports calls/s and client CPU per call; writes the `## Clients` section of
//! docs/benchmarks.md.

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use baidu_imageprocess::{BlockingClient, Client};

/// Fields of /proc/self/stat after the command name (field 3 of the man page is index 0).
fn stat_fields() -> Vec<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    after
        .split_whitespace()
        .map(|v| v.parse::<f64>().unwrap_or(0.0))
        .collect()
}

/// This process's user + system CPU seconds (from /proc; 10 ms resolution).
fn cpu_seconds() -> f64 {
    let fields = stat_fields();
    let ticks = |i: usize| fields.get(i).copied().unwrap_or(0.0);
    // Fields 14 and 15 of the man page; 11 and 12 after the command name.
    (ticks(11) + ticks(12)) / 100.0
}

/// This process's minor page faults so far (field 10 of the man page): the cost of
/// buffers touched for the first time, which shows as system CPU.
fn minor_faults() -> f64 {
    stat_fields().get(7).copied().unwrap_or(0.0)
}

/// The machine's 1-minute load average (other processes share the cores and the
/// figures), `?` where /proc is missing.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "?".to_owned())
}

/// A JPEG header of 320×240 followed by random bytes up to `size` (the emulator's echo
/// mode validates the header and never decodes pixels).
fn payload(size: usize) -> Result<Vec<u8>> {
    let img = image::RgbImage::from_pixel(320, 240, image::Rgb([90, 120, 150]));
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_with_encoder(image::codecs::jpeg::JpegEncoder::new_with_quality(
        &mut out, 90,
    ))?;
    let mut bytes = out.into_inner();
    let mut rng = fastrand::Rng::with_seed(7);
    while bytes.len() < size {
        bytes.push(rng.u8(..));
    }
    Ok(bytes)
}

struct Server(Child, String);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start(bin: &str) -> Result<Server> {
    let mut child = Command::new(bin)
        .args(["--listen", "127.0.0.1:0", "--echo"])
        .stdout(Stdio::piped())
        .spawn()
        .with_context(|| {
            format!(
                "starting {bin} (build it: cargo build --release -p baidu-imageprocess-emulator)"
            )
        })?;
    let mut line = String::new();
    BufReader::new(child.stdout.take().context("no stdout")?).read_line(&mut line)?;
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .context("unexpected first line")?
        .to_owned();
    Ok(Server(child, url))
}

struct Figure {
    calls_per_s: f64,
    cpu_ms: f64,
    /// Minor page faults per call (0 for the Python SDK, not measured).
    faults: f64,
}

fn blocking(url: &str, image: &[u8], calls: usize, concurrency: usize) -> Result<Figure> {
    let client = BlockingClient::builder()
        .api_key("ak", "sk")
        .endpoint(url)
        .build()?;
    client.dehaze(image)?;
    let failed = AtomicUsize::new(0);
    let (cpu0, faults0, t0) = (cpu_seconds(), minor_faults(), Instant::now());
    std::thread::scope(|s| {
        for _ in 0..concurrency {
            let (c, failed) = (client.clone(), &failed);
            s.spawn(move || {
                for _ in 0..calls / concurrency {
                    if c.dehaze(image).is_err() {
                        failed.fetch_add(1, Ordering::Relaxed);
                    }
                }
            });
        }
    });
    let (wall, cpu) = (t0.elapsed().as_secs_f64(), cpu_seconds() - cpu0);
    let faults = minor_faults() - faults0;
    check_failures("blocking", failed.into_inner())?;
    Ok(Figure {
        calls_per_s: calls as f64 / wall,
        cpu_ms: cpu / calls as f64 * 1e3,
        faults: faults / calls as f64,
    })
}

fn asynchronous(url: &str, image: &[u8], calls: usize, concurrency: usize) -> Result<Figure> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(async {
        let client = Client::builder()
            .api_key("ak", "sk")
            .endpoint(url)
            .build()?;
        client.dehaze(image).await?;
        let image: Arc<[u8]> = Arc::from(image);
        let (cpu0, faults0, t0) = (cpu_seconds(), minor_faults(), Instant::now());
        let tasks: Vec<_> = (0..concurrency)
            .map(|_| {
                let (c, image) = (client.clone(), Arc::clone(&image));
                tokio::spawn(async move {
                    let mut failed = 0;
                    for _ in 0..calls / concurrency {
                        if c.dehaze(&*image).await.is_err() {
                            failed += 1;
                        }
                    }
                    failed
                })
            })
            .collect();
        let mut failed = 0;
        for t in tasks {
            failed += t.await?;
        }
        let (wall, cpu) = (t0.elapsed().as_secs_f64(), cpu_seconds() - cpu0);
        let faults = minor_faults() - faults0;
        check_failures("async", failed)?;
        Ok(Figure {
            calls_per_s: calls as f64 / wall,
            cpu_ms: cpu / calls as f64 * 1e3,
            faults: faults / calls as f64,
        })
    })
}

/// Issue 11's bars against this run: at least 10x the Python SDK's sequential calls/s at
/// 1 MB and 3 MB, at most 2 ms of client CPU per MB (`(label, speed-up, cpu ms per MB)`).
fn verdict(rows: &[(&str, Option<f64>, f64)]) -> String {
    const SPEED_UP: f64 = 10.0;
    const CPU_MS_PER_MB: f64 = 2.0;
    let mut out = format!(
        "\nTargets (≥ {SPEED_UP}× the Python SDK sequentially at 1 MB and 3 MB; ≤ {CPU_MS_PER_MB} ms client CPU per MB, worst sequential client):",
    );
    for (label, ratio, cpu_per_mb) in rows.iter().filter(|r| r.0 != "100 KB") {
        let speed = ratio.map_or_else(
            || "Python not run".to_owned(),
            |r| format!("{r:.1}× {}", if r >= SPEED_UP { "met" } else { "MISSED" }),
        );
        let cpu = if *cpu_per_mb <= CPU_MS_PER_MB {
            "met"
        } else {
            "MISSED"
        };
        out += &format!(" {label}: {speed}, {cpu_per_mb:.1} ms/MB {cpu};");
    }
    out.pop();
    out.push_str(".\n");
    out
}

/// A failed call is not a fast call: figures only count when every call succeeded.
fn check_failures(which: &str, failed: usize) -> Result<()> {
    if failed > 0 {
        bail!("{which}: {failed} calls failed against the echo emulator");
    }
    Ok(())
}

fn python(url: &str, image: &[u8], calls: usize) -> Option<Figure> {
    let path = std::env::temp_dir().join(format!("bdip-bench-{}.jpg", image.len()));
    std::fs::write(&path, image).ok()?;
    let out = Command::new("python3")
        .arg("xtask/py/sdk_bench.py")
        .arg(url)
        .arg(&path)
        .arg(calls.to_string())
        .output()
        .ok()?;
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).ok()?;
    Some(Figure {
        calls_per_s: v["calls_per_s"].as_f64()?,
        cpu_ms: v["cpu_ms_per_call"].as_f64()?,
        faults: 0.0,
    })
}

pub fn run(args: &[String]) -> Result<()> {
    let bin = args
        .iter()
        .position(|a| a == "--bin")
        .and_then(|i| args.get(i + 1))
        .cloned()
        .unwrap_or_else(|| {
            let target = std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| "target".into());
            format!("{target}/release/baidu-imageprocess-emulator")
        });
    if !Path::new(&bin).exists() {
        bail!(
            "{bin} not found: cargo build --release -p baidu-imageprocess-emulator (or pass --bin PATH)"
        );
    }
    let with_python = !args.iter().any(|a| a == "--no-python");
    if with_python {
        let _ = Command::new("python3")
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "baidu-aip==4.16.13",
                "chardet",
            ])
            .status();
    }
    let load_before = load_average();
    let server = start(&bin)?;
    let url = server.1.clone();
    let mut md = String::from(
        "Client against `baidu-imageprocess-emulator --echo` on loopback (the server returns the image, so the figures are \
         the clients' and the transport's cost). Calls/s (higher is better) and client CPU per call in ms (user + system of \
         the client process). Python: the official SDK `baidu-aip` 4.16.13, its URLs pointed at the same emulator, \
         sequential (it has no concurrency of its own).\n\n```sh\ncargo build --release -p baidu-imageprocess-emulator\n\
         cargo xtask bench-client\n```\n\n| image | Python SDK, sequential | blocking, sequential | async, sequential | \
         blocking, 8 threads | async, 8 tasks | ours ÷ Python (sequential, best) |\n|---|---|---|---|---|---|---|\n",
    );
    let mut verdicts = Vec::new();
    let mut faults = Vec::new();
    // Our calls are many (the CPU clock ticks in 10 ms, and a 1 MB call takes about 2 ms
    // of it); the Python SDK's, at 50 ms and more a call, are fewer.
    for (label, size, calls, python_calls) in [
        ("100 KB", 100_000, 400, 100),
        ("1 MB", 1_000_000, 256, 32),
        ("3 MB", 3_000_000, 96, 12),
    ] {
        let image = payload(size)?;
        let py = if with_python {
            python(&url, &image, python_calls)
        } else {
            None
        };
        let b1 = blocking(&url, &image, calls, 1)?;
        let a1 = asynchronous(&url, &image, calls, 1)?;
        let b8 = blocking(&url, &image, calls, 8)?;
        let a8 = asynchronous(&url, &image, calls, 8)?;
        let cell = |f: &Figure| format!("{:.1}/s, {:.1} ms", f.calls_per_s, f.cpu_ms);
        let ratio = py.as_ref().map_or_else(
            || "—".into(),
            |p| format!("{:.1}×", b1.calls_per_s.max(a1.calls_per_s) / p.calls_per_s),
        );
        let row = format!(
            "| {label} | {} | {} | {} | {} | {} | {ratio} |\n",
            py.as_ref().map_or_else(|| "—".into(), cell),
            cell(&b1),
            cell(&a1),
            cell(&b8),
            cell(&a8)
        );
        print!("{row}");
        md.push_str(&row);
        faults.push(format!(
            "{label}: {:.0} / {:.0} / {:.0} / {:.0}",
            b1.faults, a1.faults, b8.faults, a8.faults
        ));
        verdicts.push((
            label,
            py.as_ref()
                .map(|p| b1.calls_per_s.max(a1.calls_per_s) / p.calls_per_s),
            b1.cpu_ms.max(a1.cpu_ms) / (size as f64 / 1e6),
        ));
    }
    drop(server);
    let faults = format!(
        "\nMinor page faults of the client process per call (blocking, async sequential; blocking 8 threads, async 8 tasks), each a 4 KiB page touched for the first time: {}.\n",
        faults.join("; ")
    );
    md.push_str(&faults);
    print!("{faults}");
    let load = format!(
        "\nLoad average (1 min) of the machine at the start and the end of the run: {load_before} / {}.\n",
        load_average()
    );
    md.push_str(&load);
    md.push_str(&verdict(&verdicts));
    print!("{load}{}", verdict(&verdicts));
    if !args.iter().any(|a| a == "--no-write") {
        crate::docs::replace_section(Path::new("docs/benchmarks.md"), "Clients", &md)?;
        println!("updated docs/benchmarks.md (## Clients)");
    }
    Ok(())
}
