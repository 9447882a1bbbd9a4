//! `bdip`: Baidu's image-process API from the terminal, or the embedded local engine.

mod args;
mod backend;
mod batch;
mod convert;
mod destinations;
mod fit;
mod inputs;
mod local;
mod profile;
mod report;
mod resample;
mod send;
mod stream;
mod task;
mod write;

use std::fmt::Write as _;
use std::process::ExitCode;
use std::time::Instant;

use std::sync::Arc;

use clap::FromArgMatches as _;

use crate::args::{Cli, Command, ProcessArgs, TokenArgs};
use crate::inputs::{SetAside, SetAsideKind};
use crate::report::{Outcome, Report, Status, Summary};
use crate::task::Task;

/// Exit codes: 0 all done, 1 some images failed (or the report could not be written),
/// 2 usage or configuration error, 130 interrupted by Ctrl-C.
const EXIT_FAILED: u8 = 1;
const EXIT_USAGE: u8 = 2;

fn main() -> ExitCode {
    let matches = args::command().get_matches();
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    init_logging(cli.verbose);
    let name = matches.subcommand_name().unwrap_or_default();
    match &cli.command {
        Command::Token(a) => token(a),
        Command::Serve(a) => baidu_imageprocess_emulator::cli::run(a),
        Command::Completions { shell } => {
            let mut script = Vec::new();
            clap_complete::generate(*shell, &mut args::command(), "bdip", &mut script);
            match write::write_stdout(&script) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => usage_error(&format!("cannot write to stdout: {e}")),
            }
        }
        // Every other subcommand runs an operation; `task::of` knows each of them.
        operation => match task::of(name, operation) {
            Ok(Some((task, args))) => process(task, args, cli.verbose > 0),
            Ok(None) => {
                eprintln!("bdip: internal error: the subcommand `{name}` has no handler");
                ExitCode::from(EXIT_USAGE)
            }
            Err(message) => usage_error(&message),
        },
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

/// Prints the files of directory arguments that are not processed: each with `-v`,
/// otherwise a count per reason (a directory that gave nothing is always named).
fn print_set_aside(set_aside: &[SetAside], verbose: bool, tag: &str) {
    for entry in set_aside {
        if entry.kind == SetAsideKind::NothingToDo {
            eprintln!("FAIL {}: {}", entry.input, entry.reason);
        } else if verbose {
            eprintln!("skip {}: {}", entry.input, entry.reason);
        }
    }
    if verbose {
        return;
    }
    for (kind, what) in [
        (
            SetAsideKind::OwnResult,
            format!(
                "named like this command's results (NAME.{tag}.EXT), taken for earlier results"
            ),
        ),
        (
            SetAsideKind::NotAnImage,
            "that {are} not JPEG, PNG or BMP images".to_owned(),
        ),
        (
            SetAsideKind::NotARegularFile,
            "that {are} not regular files (FIFOs, devices, sockets)".to_owned(),
        ),
    ] {
        let n = set_aside.iter().filter(|e| e.kind == kind).count();
        if n > 0 {
            let (files, are) = if n == 1 {
                ("file", "is")
            } else {
                ("files", "are")
            };
            let what = what.replace("{are}", are);
            eprintln!("bdip: skipped {n} {files} {what} (-v lists them)");
        }
    }
}

/// The outcome a file set aside contributes to the summary and the report.
fn set_aside_outcome(entry: SetAside) -> Outcome {
    Outcome {
        input: entry.input,
        output: None,
        status: if entry.kind == SetAsideKind::NothingToDo {
            Status::Failed
        } else {
            Status::Skipped
        },
        log_id: None,
        error_code: None,
        error_message: Some(entry.reason),
        ms: 0,
        auth_failure: false,
    }
}

fn process(task: Task, args: &ProcessArgs, verbose: bool) -> ExitCode {
    let tag = task.tag.clone();
    let naming = inputs::Naming {
        suffix: &tag,
        extension: task.writes_png().then_some("png"),
    };
    if task.scoremap.is_some() && args.inputs.len() != 1 {
        return usage_error("--scoremap names one file but several inputs were given");
    }
    for (flag, path) in [
        ("-o", args.output.as_deref()),
        ("--scoremap", task.scoremap_path()),
    ] {
        if let Some(path) = path
            && let Err(message) = convert::check_name(path, flag)
        {
            return usage_error(&message);
        }
    }
    let collected = match inputs::collect(&inputs::Plan {
        inputs: &args.inputs,
        naming,
        output: args.output.as_deref(),
        out_dir: args.out_dir.as_deref(),
        recursive: args.recursive,
        compare: args.compare,
        force: args.force,
    }) {
        Ok(collected) => collected,
        Err(message) => return usage_error(&message),
    };
    let jobs = collected.jobs;
    if let Some(scoremap) = &task.scoremap {
        let [job] = jobs.as_slice() else {
            return usage_error(&format!(
                "--scoremap names one file but the input gave {} images",
                jobs.len()
            ));
        };
        if let Err(message) = destinations::check_scoremap(job, scoremap, args.force) {
            return usage_error(&message);
        }
    }
    if let Err(message) = destinations::check_all(
        &jobs,
        args.out_dir.as_deref(),
        task.scoremap.as_ref(),
        args.report.as_deref(),
    ) {
        return usage_error(&message);
    }
    print_set_aside(&collected.set_aside, verbose, &tag);
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    rt.block_on(async {
        let backend = match backend::choose(&args.connection, args.local, args.qps) {
            Ok(b) => b,
            Err(backend::UsageError(message)) => return usage_error(&message),
        };
        let operation = task.name.clone();
        let settings = batch::Settings {
            task: Arc::new(task),
            force: args.force,
            fit: args.fit,
            jobs: args.jobs,
            engine: backend.engine.clone(),
        };
        let started = Instant::now();
        let run = batch::run(&backend.client, jobs, &settings).await;
        let outcomes: Vec<Outcome> = collected
            .set_aside
            .into_iter()
            .map(set_aside_outcome)
            .chain(run.outcomes)
            .collect();
        profile::print();
        let summary = Summary::of(&outcomes, started.elapsed().as_millis() as u64);
        if outcomes.len() > 1 || summary.failed + summary.skipped > 0 || run.interrupted {
            eprintln!("{}", summary.line());
        }
        let mut report_failed = false;
        if let Some(path) = &args.report {
            let report = Report {
                operation: &operation,
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
    let given = |value: &Option<String>| value.as_deref().is_some_and(|v| !v.trim().is_empty());
    match (given(&c.api_key), given(&c.secret_key), given(&c.endpoint)) {
        (false, false, false) => {
            return usage_error(
                "no credentials: set BAIDU_API_KEY and BAIDU_SECRET_KEY (or --api-key and --secret-key), or --endpoint for an emulator; the embedded engine needs no token",
            );
        }
        (true, false, _) | (false, true, _) => {
            return usage_error(
                "set both BAIDU_API_KEY and BAIDU_SECRET_KEY (or --api-key and --secret-key)",
            );
        }
        // Both keys, or an endpoint alone (placeholder keys, as for processing commands).
        _ => {}
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
                let mut text = format!(
                    "token valid for {days:.1} days ({} s)\n",
                    info.expires_in.as_secs()
                );
                if !info.scope.is_empty() {
                    let _ = writeln!(text, "scope: {}", info.scope);
                }
                if args.show {
                    let _ = writeln!(text, "access_token: {}", info.access_token.expose_secret());
                }
                match write::write_stdout(text.as_bytes()) {
                    Ok(()) => ExitCode::SUCCESS,
                    Err(e) => {
                        eprintln!("bdip: cannot write to stdout: {e}");
                        ExitCode::from(EXIT_FAILED)
                    }
                }
            }
            Err(e) if batch::credentials_refused(&e) => {
                usage_error(&batch::advice(&e, batch::Context::default()))
            }
            Err(e) => {
                eprintln!("bdip: {}", batch::advice(&e, batch::Context::default()));
                ExitCode::from(EXIT_FAILED)
            }
        }
    })
}
