//! `cargo xtask fuzz --seconds N [--seed S] [--out DIR] [--replay FILE --target T]`
//!
//! A seeded mutation fuzzer on stable Rust (no cargo-fuzz, no nightly): it mutates a corpus
//! of valid replies, token replies, form bodies, image headers, `authorization` headers
//! and timestamps, feeds each protocol parser, and catches panics with `catch_unwind`.
//! A crashing input is written to `DIR/<target>-<n>.bin` (default `target/fuzz-crashes`)
//! and the task fails. Inputs that reach a new kind of outcome join the corpus, a coarse
//! stand-in for coverage feedback. Not part of CI; bounded by `--seconds`.

use std::collections::HashSet;
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use baidu_imageprocess_protocol::sign::{parse_authorization, parse_timestamp};
use baidu_imageprocess_protocol::{
    Operation, decode_base64, decode_image_form, decode_image_reply, decode_token_reply, sniff,
    validate,
};

/// A parser under test: feeds it `input`, returns a short label of the outcome.
type Target = (&'static str, fn(&[u8]) -> String);

const TARGETS: &[Target] = &[
    ("reply", |b| {
        let mut out = String::new();
        for status in [200, 429, 502] {
            out.push_str(&outcome(&decode_image_reply(status, b)));
        }
        out
    }),
    ("token", |b| {
        let mut out = String::new();
        for status in [200, 401] {
            out.push_str(&outcome(&decode_token_reply(status, b)));
        }
        out
    }),
    ("form", |b| outcome(&decode_image_form(b))),
    ("sniff", |b| {
        let mut out = outcome(&sniff(b));
        for op in Operation::ALL {
            out.push_str(&outcome(&validate(op, b)));
        }
        out
    }),
    ("authorization", |b| {
        let text = String::from_utf8_lossy(b);
        format!("{}", parse_authorization(&text).is_some())
    }),
    ("timestamp", |b| {
        let text = String::from_utf8_lossy(b);
        format!("{}", parse_timestamp(&text).is_some())
    }),
    ("base64", |b| format!("{}", decode_base64(b).is_some())),
];

/// The variant of a result, without its data (`Ok`, `Err(Decode(NotJson…`).
fn outcome<T, E: std::fmt::Debug>(r: &Result<T, E>) -> String {
    match r {
        Ok(_) => "ok;".to_owned(),
        Err(e) => {
            let text = format!("{e:?}");
            let cut: String = text
                .chars()
                .take_while(|c| c.is_alphabetic() || matches!(c, '(' | '{' | ' ' | ':'))
                .take(48)
                .collect();
            format!("{cut};")
        }
    }
}

struct Args {
    seconds: u64,
    seed: u64,
    out: PathBuf,
    replay: Option<(PathBuf, String)>,
}

fn parse_args(args: &[String]) -> Result<Args> {
    let mut parsed = Args {
        seconds: 10,
        seed: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64),
        out: Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/fuzz-crashes"),
        replay: None,
    };
    let mut replay_file = None;
    let mut replay_target = None;
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let mut value = || it.next().with_context(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--seconds" => parsed.seconds = value()?.parse().context("--seconds N")?,
            "--seed" => parsed.seed = value()?.parse().context("--seed S")?,
            "--out" => parsed.out = PathBuf::from(value()?),
            "--replay" => replay_file = Some(PathBuf::from(value()?)),
            "--target" => replay_target = Some(value()?.clone()),
            other => bail!(
                "unknown flag {other}; usage: cargo xtask fuzz --seconds N [--seed S] [--out DIR] [--replay FILE --target T]"
            ),
        }
    }
    if let Some(file) = replay_file {
        let target = replay_target.context(
            "--replay needs --target (reply, token, form, sniff, authorization, timestamp, base64)",
        )?;
        parsed.replay = Some((file, target));
    }
    Ok(parsed)
}

pub fn run(args: &[String]) -> Result<()> {
    let args = parse_args(args)?;
    if let Some((file, target)) = &args.replay {
        let (_, run) = TARGETS
            .iter()
            .find(|(name, _)| name == target)
            .with_context(|| format!("unknown target {target}"))?;
        let input = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
        println!("{target}: {}", run(&input));
        return Ok(());
    }

    // Panics are expected findings: record their message instead of printing a trace.
    let last_panic: Arc<Mutex<String>> = Arc::default();
    let hook_slot = Arc::clone(&last_panic);
    let previous_hook = panic::take_hook();
    panic::set_hook(Box::new(move |info| {
        *hook_slot
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = info.to_string();
    }));

    let result = fuzz(&args, &last_panic);
    panic::set_hook(previous_hook);
    let crashes = result?;
    if crashes > 0 {
        bail!(
            "{crashes} crashing input(s) written to {}",
            args.out.display()
        );
    }
    Ok(())
}

fn fuzz(args: &Args, last_panic: &Mutex<String>) -> Result<usize> {
    let mut rng = Rng(args.seed | 1);
    let mut corpora: Vec<Vec<Vec<u8>>> = TARGETS.iter().map(|(name, _)| seeds(name)).collect();
    let mut seen: HashSet<(usize, String)> = HashSet::new();
    let mut runs = vec![0u64; TARGETS.len()];
    let mut crashes = 0usize;
    let deadline = Instant::now() + Duration::from_secs(args.seconds);
    println!(
        "fuzzing {} targets for {} s (seed {})",
        TARGETS.len(),
        args.seconds,
        args.seed
    );
    let started = Instant::now();
    let mut iterations = 0u64;
    while Instant::now() < deadline {
        // Check the clock every few hundred runs only.
        for _ in 0..256 {
            iterations += 1;
            let t = rng.below(TARGETS.len());
            let (name, run) = TARGETS[t];
            let corpus = &corpora[t];
            let mut input = corpus[rng.below(corpus.len())].clone();
            let other = &corpora[rng.below(corpora.len())];
            let donor = other[rng.below(other.len())].clone();
            for _ in 0..=rng.below(4) {
                mutate(&mut rng, &mut input, &donor);
            }
            runs[t] += 1;
            match panic::catch_unwind(AssertUnwindSafe(|| run(&input))) {
                Ok(label) => {
                    if corpora[t].len() < 2000 && seen.insert((t, label)) {
                        corpora[t].push(input);
                    }
                }
                Err(_) => {
                    crashes += 1;
                    std::fs::create_dir_all(&args.out)?;
                    let path = args.out.join(format!("{name}-{crashes}.bin"));
                    std::fs::write(&path, &input)?;
                    let message = last_panic
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .clone();
                    println!(
                        "CRASH in {name}: {message}\n  input saved to {}",
                        path.display()
                    );
                    println!(
                        "  replay: cargo xtask fuzz --replay {} --target {name}",
                        path.display()
                    );
                    if crashes >= 20 {
                        bail!("stopping after 20 crashes");
                    }
                }
            }
        }
    }
    let secs = started.elapsed().as_secs_f64().max(1e-9);
    println!(
        "{iterations} runs in {secs:.1} s ({:.0}/s), {crashes} crashes",
        iterations as f64 / secs
    );
    for (t, (name, _)) in TARGETS.iter().enumerate() {
        println!(
            "  {name:<14} {:>9} runs, corpus {}",
            runs[t],
            corpora[t].len()
        );
    }
    Ok(crashes)
}

/// xorshift64*: small, seeded, good enough to pick mutations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform-ish in `0..n` (`n > 0`).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Byte strings worth inserting: JSON and form syntax, edge numbers, bad UTF-8.
const TOKENS: &[&[u8]] = &[
    b"\"",
    b"\\",
    b"\\u0000",
    b"\\ud800",
    b"{",
    b"}",
    b"[",
    b"]",
    b",",
    b":",
    b"null",
    b"true",
    b"-1",
    b"0",
    b"1e309",
    b"-0.0",
    b"18446744073709551616",
    b"9007199254740993",
    b"\"log_id\":",
    b"\"image\":\"",
    b"\"error_code\":",
    b"\"access_token\":\"",
    b"\"expires_in\":",
    b"%",
    b"%2",
    b"%2B",
    b"%zz",
    b"&",
    b"=",
    b"image=",
    b"data:image/png;base64,",
    b"\r\n",
    b" ",
    b"\xff",
    b"\xef\xbb\xbf",
    b"\0",
    b"/",
    b";",
    b"bce-auth-v1/",
    b"T",
    b"Z",
];

/// Integers worth writing into binary headers.
const INTS: &[u32] = &[
    0,
    1,
    2,
    12,
    40,
    64,
    200,
    4096,
    65_535,
    65_536,
    0x7FFF_FFFF,
    0x8000_0000,
    0xFFFF_FFFF,
];

fn mutate(rng: &mut Rng, input: &mut Vec<u8>, donor: &[u8]) {
    let len = input.len();
    match rng.below(10) {
        0 if len > 0 => {
            let i = rng.below(len);
            input[i] ^= 1 << rng.below(8);
        }
        1 if len > 0 => {
            let i = rng.below(len);
            input[i] = rng.next() as u8;
        }
        2 => {
            let i = rng.below(len + 1);
            let n = 1 + rng.below(8);
            let bytes: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
            input.splice(i..i, bytes);
        }
        3 if len > 0 => {
            let i = rng.below(len);
            let n = 1 + rng.below((len - i).min(64));
            input.drain(i..i + n);
        }
        4 if len > 0 => {
            let i = rng.below(len);
            let n = 1 + rng.below((len - i).min(64));
            let copy = input[i..i + n].to_vec();
            let at = rng.below(len + 1);
            input.splice(at..at, copy);
        }
        5 if !donor.is_empty() => {
            let i = rng.below(donor.len());
            let n = 1 + rng.below((donor.len() - i).min(256));
            let at = rng.below(len + 1);
            input.splice(at..at, donor[i..i + n].iter().copied());
        }
        6 => {
            let token = TOKENS[rng.below(TOKENS.len())];
            let at = rng.below(len + 1);
            input.splice(at..at, token.iter().copied());
        }
        7 if len > 0 => input.truncate(rng.below(len)),
        8 if len >= 4 => {
            let value = INTS[rng.below(INTS.len())];
            let bytes = if rng.below(2) == 0 {
                value.to_be_bytes()
            } else {
                value.to_le_bytes()
            };
            let i = rng.below(len - 3);
            input[i..i + 4].copy_from_slice(&bytes);
        }
        _ => {
            // Repeat a short run many times (long numbers, deep nesting, long base64).
            if len > 0 {
                let i = rng.below(len);
                let n = 1 + rng.below((len - i).min(4));
                let run = input[i..i + n].to_vec();
                let times = 1 + rng.below(200);
                let at = rng.below(len + 1);
                input.splice(at..at, run.iter().copied().cycle().take(n * times));
            }
        }
    }
}

fn png(width: u32, height: u32) -> Vec<u8> {
    let mut v = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
    v.extend_from_slice(&width.to_be_bytes());
    v.extend_from_slice(&height.to_be_bytes());
    v.extend_from_slice(&[8, 2, 0, 0, 0, 0, 0, 0, 0]);
    v
}

fn jpeg(width: u16, height: u16) -> Vec<u8> {
    let mut v = vec![0xFF, 0xD8, 0xFF, 0xE0, 0, 16];
    v.extend_from_slice(b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0");
    v.extend_from_slice(&[0xFF, 0xC0, 0, 17, 8]);
    v.extend_from_slice(&height.to_be_bytes());
    v.extend_from_slice(&width.to_be_bytes());
    v.extend_from_slice(&[3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1, 0xFF, 0xD9]);
    v
}

fn bmp(width: i32, height: i32, header_size: u32) -> Vec<u8> {
    let mut v = b"BM".to_vec();
    v.extend_from_slice(&[0; 12]);
    v.extend_from_slice(&header_size.to_le_bytes());
    if header_size == 12 {
        v.extend_from_slice(&(width as u16).to_le_bytes());
        v.extend_from_slice(&(height as u16).to_le_bytes());
    } else {
        v.extend_from_slice(&width.to_le_bytes());
        v.extend_from_slice(&height.to_le_bytes());
    }
    v.extend_from_slice(&[1, 0, 24, 0]);
    v.extend_from_slice(&[0; 24]);
    v
}

/// The starting corpus of one target, plus the recorded reply bodies of the test suite.
fn seeds(target: &str) -> Vec<Vec<u8>> {
    let texts: &[&str] = match target {
        "reply" => &[
            r#"{"log_id":739539874,"image":"iVBORw0KGgo="}"#,
            r#"{"log_id": "6876747463538438254", "image": "/9j/4A=="}"#,
            r#"{"error_code":110,"error_msg":"Access token invalid or no longer valid","log_id":42}"#,
            r#"{"error_code":"282000","error_msg":"internal error"}"#,
            r#"{"log_id":1,"image":"\/9j\/\r\n4A"}"#,
            "<html><body><h1>502 Bad Gateway</h1></body></html>",
        ],
        "token" => &[
            r#"{"access_token":"24.abc.2592000.1485516651.282335-8574074","expires_in":2592000,"scope":"public brain_all_scope","refresh_token":"25.x"}"#,
            r#"{"error":"invalid_client","error_description":"unknown client id"}"#,
            r#"{"access_token":"24.x","expires_in":"86400"}"#,
        ],
        "form" => &[
            "image=iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1Pe",
            "image=%2F9j%2F4A%3D%3D&image_type=BASE64",
            "a=1&image=data%3Aimage%2Fpng%3Bbase64%2CiVBO&b",
            "image=/9j/4A+/==",
        ],
        "authorization" => &[
            "bce-auth-v1/AKIDexample/2023-11-14T22:13:20Z/1800/host;x-bce-date/1d4e614ccf7f098d5dbcea8092f5819ec3531935cdd5f38bd577f924b2700444",
            "bce-auth-v1/ak/2023-11-14T22:13:20Z/1800//abc",
        ],
        "timestamp" => &[
            "2023-11-14T22:13:20Z",
            "2024-02-29T23:59:60Z",
            "1970-01-01T00:00:00Z",
        ],
        "base64" => &["aGVsbG8=", "aGVsbG8", "aGVs\r\nbG8=", "////", "A"],
        _ => &[],
    };
    let mut corpus: Vec<Vec<u8>> = texts.iter().map(|t| t.as_bytes().to_vec()).collect();
    if target == "sniff" {
        corpus.extend([
            png(320, 240),
            png(100_000, 100_000),
            jpeg(640, 480),
            bmp(300, -200, 40),
            bmp(64, 64, 12),
            b"GIF89a\x01\0\x01\0".to_vec(),
            b"RIFF\0\0\0\0WEBPVP8 ".to_vec(),
        ]);
    }
    if matches!(target, "reply" | "token") {
        let dir =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../crates/protocol/tests/vectors/replies");
        if let Ok(entries) = std::fs::read_dir(dir) {
            for entry in entries.flatten() {
                if let Ok(bytes) = std::fs::read(entry.path())
                    && bytes.len() < 64 * 1024
                {
                    corpus.push(bytes);
                }
            }
        }
    }
    if corpus.is_empty() {
        corpus.push(Vec::new());
    }
    corpus
}
