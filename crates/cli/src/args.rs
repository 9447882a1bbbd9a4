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
  bdip token                                              # check credentials";

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
    /// Most seconds for one image, retries included.
    #[arg(long, value_name = "SECS", default_value_t = 180)]
    pub timeout: u64,
}

/// Arguments of the four operations.
#[allow(clippy::struct_excessive_bools)] // independent command-line switches
#[derive(Debug, Clone, Args)]
pub struct ProcessArgs {
    /// Image files or directories; `-` reads one image from stdin.
    #[arg(required = true, value_name = "INPUT")]
    pub inputs: Vec<String>,
    /// Result file for a single input (`-` for stdout); overwritten if it exists.
    #[arg(short, long, value_name = "FILE", conflicts_with = "out_dir")]
    pub output: Option<PathBuf>,
    /// Write results into this directory (default: next to each input).
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
    /// Descend into directories.
    #[arg(short, long)]
    pub recursive: bool,
    /// Replace existing result files with derived names.
    #[arg(long)]
    pub force: bool,
    /// Shrink (or pad) images that exceed the operation's limits instead of failing them.
    #[arg(long)]
    pub fit: bool,
    /// Images processed at once.
    #[arg(short, long, value_name = "N", default_value_t = 4)]
    pub jobs: usize,
    /// At most N requests per second (the service's QPS limit).
    #[arg(long, value_name = "N")]
    pub qps: Option<f64>,
    /// Write a JSON report of every image to FILE.
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
