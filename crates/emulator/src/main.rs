//! `baidu-imageprocess-emulator`: Baidu's image-process API on loopback.

use std::process::ExitCode;

use baidu_imageprocess_emulator::cli::{ServeArgs, run};
use clap::Parser;

#[derive(Parser)]
#[command(
    name = "baidu-imageprocess-emulator",
    version,
    about = "Serve Baidu's image-process API locally, backed by the local engine"
)]
struct Cli {
    #[command(flatten)]
    serve: ServeArgs,
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        // Colour codes only for a terminal: a log file or a pipe gets plain text.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();
    run(&Cli::parse().serve)
}
