//! Command-line arguments.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

const EXAMPLES: &str = "\
Examples:
  bdip dehaze examples/images/hazy.jpg -o dehazed.jpg     # embedded local engine
  bdip enhance photos/ -r --out-dir big/ --jobs 8         # a whole folder
  BAIDU_API_KEY=.. BAIDU_SECRET_KEY=.. bdip contrast dim.jpg   # Baidu's service
  bdip colourize old.png --endpoint http://127.0.0.1:8080 # an emulator or proxy
  cat in.jpg | bdip dehaze - -o - > out.jpg               # stdin to stdout
  bdip serve --listen 127.0.0.1:8080                      # run the emulator
  bdip token                                              # check credentials

Exit status: 0 all done, 1 some images failed (or the --report could not be written),
2 usage or configuration error, 130 interrupted (Ctrl-C: images in flight finish and the
summary and report are written; a second Ctrl-C stops at once).";

/// Baidu image-process API (2x enhance, dehaze, contrast, colourize) from the terminal, or
/// on the embedded local engine when no credentials are set.
#[derive(Debug, Parser)]
#[command(name = "bdip", version, after_help = EXAMPLES)]
pub struct Cli {
    /// More logging on stderr (-v debug, -vv trace); RUST_LOG overrides. Secrets are never logged.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// 2x "lossless" upscale (input area at most 800×800 px).
    Enhance(ProcessArgs),
    /// Remove haze (sides 200–4096 px, aspect at most 3:1).
    Dehaze(ProcessArgs),
    /// Enhance contrast (sides 64–4096 px, aspect at most 3:1).
    Contrast(ProcessArgs),
    /// Colourise a black-and-white photo (sides 64–800 px, aspect at most 3:1).
    #[command(alias = "colorize")]
    Colourize(ProcessArgs),
    /// Fetch an access token and print its lifetime (the token itself only with --show).
    Token(TokenArgs),
    /// Serve the API locally (the emulator), backed by the embedded engine.
    Serve(baidu_imageprocess_emulator::cli::ServeArgs),
    /// Print shell completions.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

/// Where requests go and how they authenticate.
#[derive(Debug, Clone, Args)]
pub struct Connection {
    /// Baidu API Key.
    #[arg(long, env = "BAIDU_API_KEY", hide_env_values = true)]
    pub api_key: Option<String>,
    /// Baidu Secret Key.
    #[arg(long, env = "BAIDU_SECRET_KEY", hide_env_values = true)]
    pub secret_key: Option<String>,
    /// Base URL of the service (an emulator or a proxy); default `https://aip.baidubce.com`.
    #[arg(long, env = "BAIDU_IMAGEPROCESS_ENDPOINT")]
    pub endpoint: Option<String>,
    /// Most seconds for one image, retries included (1–86400).
    #[arg(long, value_name = "SECS", default_value_t = 180, value_parser = timeout_secs)]
    pub timeout: u64,
}

/// Arguments of the four operations.
#[allow(clippy::struct_excessive_bools)] // independent command-line switches
#[derive(Debug, Clone, Args)]
pub struct ProcessArgs {
    /// Image files or directories; `-` reads one image from stdin. Only regular files
    /// are read (FIFOs and devices are refused), each once.
    #[arg(required = true, value_name = "INPUT")]
    pub inputs: Vec<PathBuf>,
    /// Result file for a single input (`-` for stdout); overwritten if it is a regular
    /// file, written through if it is a symlink, written into if it is a device or FIFO.
    /// Missing parent directories are created.
    #[arg(short, long, value_name = "FILE", conflicts_with = "out_dir")]
    pub output: Option<PathBuf>,
    /// Write results into this directory, keeping each image's folder relative to its
    /// directory argument (default: next to each input). Created if missing.
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
    /// Descend into directories.
    #[arg(short, long)]
    pub recursive: bool,
    /// Replace existing result files with derived names (never an input file).
    #[arg(long)]
    pub force: bool,
    /// Shrink (or pad) images that exceed the operation's limits instead of failing them
    /// (images up to 50 Mpx and 64 MiB).
    #[arg(long)]
    pub fit: bool,
    /// Images processed at once (1–256).
    #[arg(short, long, value_name = "N", default_value_t = 4, value_parser = jobs)]
    pub jobs: usize,
    /// At most N requests per second (the service's QPS limit; 0.001–10000).
    #[arg(long, value_name = "N", value_parser = qps)]
    pub qps: Option<f64>,
    /// Write a JSON report of every image to FILE (missing parent directories are
    /// created); a report that cannot be written makes the run fail.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// Also write a side-by-side before/after PNG next to each result.
    #[arg(long)]
    pub compare: bool,
    /// Use the embedded local engine even if credentials are set.
    #[arg(long)]
    pub local: bool,
    /// Connection settings.
    #[command(flatten)]
    pub connection: Connection,
}

/// Arguments of `bdip token`.
#[derive(Debug, Clone, Args)]
pub struct TokenArgs {
    /// Print the token itself (it grants access to your account: keep it secret).
    #[arg(long)]
    pub show: bool,
    /// Connection settings.
    #[command(flatten)]
    pub connection: Connection,
}

/// Most images at once: more only multiplies memory and open connections.
pub const MAX_JOBS: usize = 256;
/// Longest `--timeout`: one day.
pub const MAX_TIMEOUT_SECS: u64 = 86_400;
/// `--qps` range: below one request in 1000 s, or above 10 000 per second, is a typo.
pub const QPS_RANGE: (f64, f64) = (0.001, 10_000.0);

fn jobs(text: &str) -> Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(n) if (1..=MAX_JOBS).contains(&n) => Ok(n),
        _ => Err(format!("expected a whole number from 1 to {MAX_JOBS}")),
    }
}

fn timeout_secs(text: &str) -> Result<u64, String> {
    match text.trim().parse::<u64>() {
        Ok(n) if (1..=MAX_TIMEOUT_SECS).contains(&n) => Ok(n),
        _ => Err(format!(
            "expected a whole number of seconds from 1 to {MAX_TIMEOUT_SECS}"
        )),
    }
}

fn qps(text: &str) -> Result<f64, String> {
    let (low, high) = QPS_RANGE;
    match text.trim().parse::<f64>() {
        Ok(q) if q.is_finite() && (low..=high).contains(&q) => Ok(q),
        _ => Err(format!("expected a number from {low} to {high}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_flags_are_bounded() {
        assert_eq!(jobs("8"), Ok(8));
        for bad in ["0", "257", "2305843009213693952", "-1", "x"] {
            assert!(jobs(bad).is_err(), "{bad}");
        }
        assert_eq!(timeout_secs("180"), Ok(180));
        for bad in ["0", "18446744073709551615", "86401"] {
            assert!(timeout_secs(bad).is_err(), "{bad}");
        }
        assert_eq!(qps("2.5"), Ok(2.5));
        for bad in ["1e-20", "0", "-1", "nan", "inf", "1e9"] {
            assert!(qps(bad).is_err(), "{bad}");
        }
    }
}
