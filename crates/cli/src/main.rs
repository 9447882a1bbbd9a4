//! `bdip`: Baidu's image-process API from the terminal, or the embedded local engine.

mod args;
mod backend;
mod batch;
mod fit;
mod inputs;
mod local;
mod profile;
mod report;
mod send;
mod task;
mod write;

use std::process::ExitCode;
use std::time::Instant;

use std::sync::Arc;

use clap::FromArgMatches as _;

use crate::args::{Cli, Command, ProcessArgs, TokenArgs};
use crate::report::{Report, Status, Summary};
use crate::task::{Task, TaskParams};

/// Exit codes: 0 all done, 1 some images failed (or the report could not be written),
/// 2 usage or configuration error, 130 interrupted by Ctrl-C.
const EXIT_FAILED: u8 = 1;
const EXIT_USAGE: u8 = 2;

fn main() -> ExitCode {
    let cli = match Cli::from_arg_matches(&args::command().get_matches()) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    init_logging(cli.verbose);
    if let Some((task, args)) = task::of(&cli.command) {
        return process(task, args);
    }
    match cli.command {
        Command::Token(a) => token(&a),
        Command::Serve(a) => baidu_imageprocess_emulator::cli::run(&a),
        Command::Completions { shell } => {
            clap_complete::generate(shell, &mut args::command(), "bdip", &mut std::io::stdout());
            ExitCode::SUCCESS
        }
        // Operation subcommands were handled above.
        _ => ExitCode::SUCCESS,
    }
}

fn init_logging(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    // Colour codes only for a terminal: a log file or a pipe gets plain text.
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(filter)
        .try_init();
}

fn usage_error(message: &str) -> ExitCode {
    eprintln!("bdip: {message}");
    ExitCode::from(EXIT_USAGE)
}

fn runtime() -> Result<tokio::runtime::Runtime, ExitCode> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| usage_error(&format!("cannot start the async runtime: {e}")))
}

fn process(task: Task, args: &ProcessArgs) -> ExitCode {
    let naming = inputs::Naming {
        suffix: task.suffix,
        extension: task.writes_png().then_some("png"),
    };
    if task.scoremap.is_some() && args.inputs.len() != 1 {
        return usage_error("--scoremap names one file but several inputs were given");
    }
    let style_image = match &task.params {
        TaskParams::StylizeImage(path) => match std::fs::read(path) {
            Ok(bytes) => Some(Arc::new(bytes)),
            Err(e) => {
                return usage_error(&format!(
                    "cannot read the style image {}: {e}",
                    path.display()
                ));
            }
        },
        _ => None,
    };
    let jobs = match inputs::collect(
        &args.inputs,
        naming,
        args.output.as_deref(),
        args.out_dir.as_deref(),
        args.recursive,
        args.compare,
    ) {
        Ok(jobs) => jobs,
        Err(message) => return usage_error(&message),
    };
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    rt.block_on(async {
        let backend = match backend::choose(&args.connection, args.local, args.qps) {
            Ok(b) => b,
            Err(backend::UsageError(message)) => return usage_error(&message),
        };
        let operation = task.suffix;
        let settings = batch::Settings {
            task,
            style_image,
            force: args.force,
            fit: args.fit,
            jobs: args.jobs,
            engine: backend.engine.clone(),
        };
        let started = Instant::now();
        let run = batch::run(&backend.client, jobs, &settings).await;
        let outcomes = run.outcomes;
        profile::print();
        let summary = Summary::of(&outcomes, started.elapsed().as_millis() as u64);
        if outcomes.len() > 1 || summary.failed + summary.skipped > 0 || run.interrupted {
            eprintln!("{}", summary.line());
        }
        let mut report_failed = false;
        if let Some(path) = &args.report {
            let report = Report {
                operation,
                backend: if backend.local { "local" } else { "remote" },
                summary: &summary,
                images: &outcomes,
            };
            let written = serde_json::to_vec_pretty(&report)
                .map_err(|e| e.to_string())
                .and_then(|json| write::write_result(path, &json).map_err(|e| e.to_string()));
            if let Err(e) = written {
                eprintln!("bdip: cannot write the report {}: {e}", path.display());
                report_failed = true;
            }
        }
        if run.interrupted {
            return ExitCode::from(batch::EXIT_INTERRUPTED as u8);
        }
        if outcomes.iter().any(|o| o.auth_failure) {
            eprintln!(
                "bdip: the credentials were refused; check BAIDU_API_KEY and BAIDU_SECRET_KEY (or use --local for the embedded engine)"
            );
            return ExitCode::from(EXIT_USAGE);
        }
        if report_failed || outcomes.iter().any(|o| o.status == Status::Failed) {
            ExitCode::from(EXIT_FAILED)
        } else {
            ExitCode::SUCCESS
        }
    })
}

fn token(args: &TokenArgs) -> ExitCode {
    let c = &args.connection;
    if c.api_key.as_deref().is_none_or(str::is_empty)
        || c.secret_key.as_deref().is_none_or(str::is_empty)
    {
        return usage_error(
            "no credentials: set BAIDU_API_KEY and BAIDU_SECRET_KEY (or --api-key and --secret-key); the embedded engine needs no token",
        );
    }
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    rt.block_on(async {
        let backend = match backend::choose(c, false, None) {
            Ok(b) => b,
            Err(backend::UsageError(message)) => return usage_error(&message),
        };
        match backend.client.token().await {
            Ok(info) => {
                let days = info.expires_in.as_secs() as f64 / 86_400.0;
                println!(
                    "token valid for {days:.1} days ({} s)",
                    info.expires_in.as_secs()
                );
                if !info.scope.is_empty() {
                    println!("scope: {}", info.scope);
                }
                if args.show {
                    println!("access_token: {}", info.access_token.expose_secret());
                }
                ExitCode::SUCCESS
            }
            Err(e) if batch::credentials_refused(&e) => usage_error(&batch::advice(&e)),
            Err(e) => {
                eprintln!("bdip: {}", batch::advice(&e));
                ExitCode::from(EXIT_FAILED)
            }
        }
    })
}
