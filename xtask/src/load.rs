//! `cargo xtask load [--seconds N] [--concurrency C] [--uploads U] [--bin PATH] [--no-write]`:
//! load-tests a release emulator on loopback. Phase 1: C clients send 100 KB images to
//! `--echo` for N seconds (bounded by time and by a request cap). Phase 2: C concurrent
//! ~4 MiB-base64 uploads through the real engine path's size limits (echo), watching the
//! server's peak RSS. Phase 3: U (default 100) connections upload a near-limit image at
//! the same moment to a fresh server, once with `--echo` and once through the engine:
//! admission must answer the excess with 18 before reading their bodies, and peak RSS must
//! stay under 1 GiB. Reports requests, errors by code, p50/p99 latency and VmHWM; writes
//! the `## Emulator` section of docs/benchmarks.md.

use std::collections::BTreeMap;
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

/// Most requests per client in phase 1, whatever the duration.
const MAX_REQUESTS_PER_CLIENT: usize = 100_000;

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn peak_rss_mib(pid: u32) -> f64 {
    status_mib(pid, "VmHWM:")
}

fn status_mib(pid: u32, field: &str) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

/// One request over a fresh connection; returns (status line ok, error_code if any).
fn post(addr: &str, target: &str, body: &[u8]) -> Result<Option<u64>> {
    let mut s = TcpStream::connect(addr)?;
    s.set_read_timeout(Some(Duration::from_secs(60)))?;
    write!(
        s,
        "POST {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )?;
    s.write_all(body)?;
    let mut text = Vec::new();
    s.read_to_end(&mut text)?;
    let text = String::from_utf8_lossy(&text);
    Ok(text
        .find("\"error_code\":")
        .and_then(|i| {
            text[i + 13..]
                .split(|c: char| !c.is_ascii_digit())
                .find(|p| !p.is_empty())
        })
        .and_then(|c| c.parse().ok()))
}

fn image_body(size: usize) -> Vec<u8> {
    let mut png =
        b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR\0\0\x01\x40\0\0\0\xf0\x08\x02\0\0\0\0\0\0\0".to_vec();
    let mut rng = fastrand::Rng::with_seed(3);
    while png.len() < size {
        png.push(rng.u8(..));
    }
    baidu_imageprocess_protocol::encode_image_form(&png, &[])
}

fn percentile(sorted: &[Duration], q: f64) -> f64 {
    sorted
        .get(((sorted.len().max(1) - 1) as f64 * q) as usize)
        .map_or(0.0, |d| d.as_secs_f64() * 1e3)
}

/// Starts a release emulator with `flags`; returns it, its pid, its address and a token.
fn start_server(bin: &str, flags: &[&str]) -> Result<(Server, u32, String, String)> {
    let mut child = Command::new(bin)
        .args(["--listen", "127.0.0.1:0"])
        .args(flags)
        .stdout(Stdio::piped())
        .spawn()
        .context("starting the emulator")?;
    let mut line = String::new();
    BufReader::new(child.stdout.take().context("no stdout")?).read_line(&mut line)?;
    let addr = line
        .trim()
        .strip_prefix("listening on http://")
        .context("unexpected first line")?
        .to_owned();
    let pid = child.id();
    let server = Server(child);
    let token = {
        let mut s = TcpStream::connect(&addr)?;
        write!(
            s,
            "GET /oauth/2.0/token?grant_type=client_credentials&client_id=a&client_secret=b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )?;
        let mut text = String::new();
        s.read_to_string(&mut text)?;
        let start = text.find("\"access_token\":\"").context("no token")? + 16;
        text[start..].split('"').next().unwrap_or("").to_owned()
    };
    Ok((server, pid, addr, token))
}

/// A real JPEG just under the 4 MiB base64 limit: noise compresses badly, so the side is
/// found by trying.
fn near_limit_jpeg() -> Result<Vec<u8>> {
    let max = baidu_imageprocess_protocol::MAX_BASE64_LEN / 4 * 3 - 16 * 1024;
    let mut rng = fastrand::Rng::with_seed(11);
    let mut side = 1800u32;
    loop {
        let img = image::RgbImage::from_fn(side, side, |_, _| {
            image::Rgb([rng.u8(..), rng.u8(..), rng.u8(..)])
        });
        let mut out = std::io::Cursor::new(Vec::new());
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90).encode_image(&img)?;
        let bytes = out.into_inner();
        if bytes.len() <= max || side <= 256 {
            return Ok(bytes);
        }
        side = (f64::from(side) * 0.95) as u32;
    }
}

/// What phase 3 saw on one server.
struct Burst {
    done: u64,
    refused_18: u64,
    other: BTreeMap<String, u64>,
    secs: f64,
    peak_mib: f64,
    after_mib: f64,
}

/// `uploads` connections send `image` at the same moment to a fresh server started with
/// `flags`.
fn burst(bin: &str, flags: &[&str], uploads: usize, image: &[u8]) -> Result<Burst> {
    let (_server, pid, addr, token) = start_server(bin, flags)?;
    let target = format!("/rest/2.0/image-process/v1/dehaze?access_token={token}");
    let body = baidu_imageprocess_protocol::encode_image_form(image, &[]);
    let outcomes = Mutex::new(BTreeMap::<String, u64>::new());
    let barrier = std::sync::Barrier::new(uploads);
    let started = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..uploads {
            let (body, outcomes, target, addr, barrier) =
                (&body, &outcomes, &target, &addr, &barrier);
            s.spawn(move || {
                barrier.wait();
                let key = match post(addr, target, body) {
                    Ok(None) => "ok".to_owned(),
                    Ok(Some(code)) => code.to_string(),
                    Err(e) => format!("transport: {}", e.kind_hint()),
                };
                *outcomes.lock().unwrap().entry(key).or_default() += 1;
            });
        }
    });
    let secs = started.elapsed().as_secs_f64();
    let mut other = outcomes.into_inner().unwrap();
    Ok(Burst {
        done: other.remove("ok").unwrap_or(0),
        refused_18: other.remove("18").unwrap_or(0),
        other,
        secs,
        peak_mib: peak_rss_mib(pid),
        after_mib: status_mib(pid, "VmRSS:"),
    })
}

trait KindHint {
    fn kind_hint(&self) -> String;
}

impl KindHint for anyhow::Error {
    fn kind_hint(&self) -> String {
        self.downcast_ref::<std::io::Error>()
            .map_or_else(|| "other".to_owned(), |e| format!("{:?}", e.kind()))
    }
}

pub fn run(args: &[String]) -> Result<()> {
    let arg = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let seconds: u64 = arg("--seconds")
        .and_then(|v| v.parse().ok())
        .unwrap_or(30)
        .clamp(1, 600);
    let concurrency: usize = arg("--concurrency")
        .and_then(|v| v.parse().ok())
        .unwrap_or(32)
        .clamp(1, 256);
    let uploads: usize = arg("--uploads")
        .and_then(|v| v.parse().ok())
        .unwrap_or(100)
        .clamp(1, 512);
    let bin = arg("--bin").unwrap_or_else(|| "target/release/baidu-imageprocess-emulator".into());
    if !Path::new(&bin).exists() {
        bail!(
            "{bin} not found: cargo build --release -p baidu-imageprocess-emulator (or pass --bin PATH)"
        );
    }
    let (server, pid, addr, token) = start_server(&bin, &["--echo"])?;
    let target = format!("/rest/2.0/image-process/v1/dehaze?access_token={token}");

    // Phase 1: sustained load with 100 KB images.
    let body = Arc::new(image_body(100_000));
    let latencies = Arc::new(Mutex::new(Vec::new()));
    let errors = Arc::new(Mutex::new(BTreeMap::<String, u64>::new()));
    let deadline = Instant::now() + Duration::from_secs(seconds);
    std::thread::scope(|s| {
        for _ in 0..concurrency {
            let (body, latencies, errors, target, addr) =
                (&body, &latencies, &errors, &target, &addr);
            s.spawn(move || {
                let mut mine = Vec::new();
                for _ in 0..MAX_REQUESTS_PER_CLIENT {
                    if Instant::now() >= deadline {
                        break;
                    }
                    let t = Instant::now();
                    match post(addr, target, body) {
                        Ok(None) => mine.push(t.elapsed()),
                        Ok(Some(code)) => {
                            *errors.lock().unwrap().entry(code.to_string()).or_default() += 1
                        }
                        Err(e) => {
                            *errors
                                .lock()
                                .unwrap()
                                .entry(format!("transport: {e}"))
                                .or_default() += 1
                        }
                    }
                }
                latencies.lock().unwrap().extend(mine);
            });
        }
    });
    let mut lat = latencies.lock().unwrap().clone();
    lat.sort();
    let rss_after_load = peak_rss_mib(pid);

    // Phase 2: concurrent uploads at the size limit (3 MiB image ≈ 4 MiB base64).
    let big = Arc::new(image_body(3 * 1024 * 1024 - 64));
    let big_errors = Arc::new(Mutex::new(0u64));
    let started = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..concurrency {
            let (big, big_errors, target, addr) = (&big, &big_errors, &target, &addr);
            s.spawn(move || {
                if !matches!(post(addr, target, big), Ok(None)) {
                    *big_errors.lock().unwrap() += 1;
                }
            });
        }
    });
    let big_secs = started.elapsed().as_secs_f64();
    let rss_peak = peak_rss_mib(pid);

    drop(server);

    // Phase 3: a burst of near-limit uploads on fresh servers, echo and engine.
    let jpeg = near_limit_jpeg()?;
    let echo = burst(&bin, &["--echo"], uploads, &jpeg)?;
    let engine = burst(&bin, &[], uploads, &jpeg)?;
    let burst_row = |name: &str, b: &Burst| {
        let other = if b.other.is_empty() {
            "none".to_owned()
        } else {
            format!("{:?}", b.other)
        };
        format!(
            "| phase 3, {name}: {uploads} simultaneous uploads | {} done, {} answered 18, other: {other}; {:.1} s |\n\
             | phase 3, {name}: peak RSS / RSS after | {:.0} MiB / {:.0} MiB (bar: peak < 1024 MiB) |\n",
            b.done, b.refused_18, b.secs, b.peak_mib, b.after_mib
        )
    };
    let errors = errors.lock().unwrap().clone();
    // The VM is shared: say how busy it was, since phase 1's rate depends on it.
    let load = std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "?".into());
    let md = format!(
        "Release emulator with `--echo` on loopback, driven by {concurrency} client threads (a new connection per request). \
         Phase 1: {seconds} s of 100 KB images. Phase 2: {concurrency} concurrent uploads of a 3 MiB image (4 MiB of base64, \
         the largest the API accepts). Phase 3: {uploads} connections upload a {:.1} MiB JPEG ({:.1} MiB of base64) \
         at the same moment to a fresh server, once with `--echo` and once through the engine (default 2 workers, \
         queue 32, 8 bodies read at once): requests beyond the admitted ones are answered 18 before their bodies \
         are read. Peak RSS is the server's VmHWM.\n\n```sh\ncargo build --release -p baidu-imageprocess-emulator\n\
         cargo xtask load --seconds {seconds} --concurrency {concurrency} --uploads {uploads}\n```\n\n\
         | figure | value |\n|---|---|\n\
         | requests answered (phase 1) | {} ({:.0}/s) |\n| errors (phase 1) | {} |\n| latency p50 / p99 | {:.1} ms / {:.1} ms |\n\
         | peak RSS after phase 1 | {rss_after_load:.0} MiB |\n| phase 2: {concurrency} × 4 MiB uploads | {:.1} s, {} errors |\n\
         | peak RSS after phase 2 | {rss_peak:.0} MiB (bar: < 1024 MiB) |\n{}{}",
        jpeg.len() as f64 / 1_048_576.0,
        baidu_imageprocess_protocol::base64_len(jpeg.len()) as f64 / 1_048_576.0,
        lat.len(),
        lat.len() as f64 / seconds as f64,
        if errors.is_empty() {
            "0".to_owned()
        } else {
            format!("{errors:?}")
        },
        percentile(&lat, 0.5),
        percentile(&lat, 0.99),
        big_secs,
        big_errors.lock().unwrap(),
        burst_row("echo", &echo),
        burst_row("engine", &engine),
    ) + &format!(
        "\nLoad average (1 min) on the 2-core VM at the end of the run: {load}; phase 1's rate \
         and latency depend on it (other builds share the machine).\n"
    );
    println!("{md}");
    if !args.iter().any(|a| a == "--no-write") {
        crate::docs::replace_section(Path::new("docs/benchmarks.md"), "Emulator", &md)?;
        println!("updated docs/benchmarks.md (## Emulator)");
    }
    Ok(())
}
