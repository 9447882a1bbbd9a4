//! `BDIP_PROFILE=1`: where a batch's time goes, stage by stage, summed over its images and
//! printed on stderr at the end (one `profile STAGE MS COUNT` line per stage), so a
//! benchmark can tell decoding and encoding from the operation and the round trip.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// The environment variable that turns the profile on (any value but empty or `0`).
pub const ENV: &str = "BDIP_PROFILE";

/// A stage of processing one image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Reading the input file.
    Read,
    /// Checking the input against the operation's limits (and `--fit`).
    Check,
    /// A call through the client: encoding the request, the transport (for the embedded
    /// engine, the in-process emulator with its base64 and JSON), decoding the reply.
    Call,
    /// The local engine decoding the input.
    Decode,
    /// The local engine's operation.
    Operation,
    /// The local engine encoding the result.
    Encode,
    /// Checking and writing the result.
    Write,
}

const STAGES: [Stage; 7] = [
    Stage::Read,
    Stage::Check,
    Stage::Call,
    Stage::Decode,
    Stage::Operation,
    Stage::Encode,
    Stage::Write,
];

impl Stage {
    const fn name(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Check => "check",
            Self::Call => "call",
            Self::Decode => "decode",
            Self::Operation => "operation",
            Self::Encode => "encode",
            Self::Write => "write",
        }
    }
}

/// Nanoseconds and counts per stage, in [`STAGES`] order.
static TOTALS: [(AtomicU64, AtomicU64); 7] = [const { (AtomicU64::new(0), AtomicU64::new(0)) }; 7];

fn enabled() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| std::env::var_os(ENV).is_some_and(|v| !v.is_empty() && v != "0"))
}

/// Adds `spent` to `stage`.
pub fn add(stage: Stage, spent: Duration) {
    if !enabled() {
        return;
    }
    let Some(index) = STAGES.iter().position(|s| *s == stage) else {
        return;
    };
    let (nanos, count) = &TOTALS[index];
    nanos.fetch_add(
        u64::try_from(spent.as_nanos()).unwrap_or(u64::MAX),
        Ordering::Relaxed,
    );
    count.fetch_add(1, Ordering::Relaxed);
}

/// Adds the time since `since` to `stage` and returns now, to time the next stage from.
pub fn lap(stage: Stage, since: Instant) -> Instant {
    let now = Instant::now();
    add(stage, now - since);
    now
}

/// The profile's lines, one per stage that ran.
fn lines() -> Vec<String> {
    STAGES
        .iter()
        .zip(&TOTALS)
        .filter(|(_, (_, count))| count.load(Ordering::Relaxed) > 0)
        .map(|(stage, (nanos, count))| {
            format!(
                "profile {} {:.3} {}",
                stage.name(),
                nanos.load(Ordering::Relaxed) as f64 / 1e6,
                count.load(Ordering::Relaxed)
            )
        })
        .collect()
}

/// Prints the profile on stderr, if `BDIP_PROFILE` asked for it.
pub fn print() {
    if enabled() {
        for line in lines() {
            eprintln!("{line}");
        }
    }
}
