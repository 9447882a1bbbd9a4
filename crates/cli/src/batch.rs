//! Running a batch: bounded concurrency, one failure never stops the others, Ctrl-C
//! stops launching new work, progress on a terminal, plain lines otherwise.

use std::io::{IsTerminal as _, Read as _, Write as _};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use baidu_imageprocess::{Client, Error, ErrorClass, protocol};
use indicatif::{ProgressBar, ProgressStyle};
use tokio::sync::Semaphore;

use crate::fit::fit;
use crate::inputs::{Destination, Job, Source};
use crate::report::{Outcome, Status};
use crate::send::{self, Input, SendError};
use crate::task::Task;
use crate::write::{atomic_write, compare_png};

/// Settings that apply to every image of a batch.
#[derive(Debug, Clone)]
pub struct Settings {
    pub task: Task,
    /// `stylize --style-image`: the image's bytes, read once.
    pub style_image: Option<Arc<Vec<u8>>>,
    pub force: bool,
    pub fit: bool,
    pub compare: bool,
    pub jobs: usize,
}

/// Processes every job; returns outcomes in input order.
pub async fn run(client: &Client, jobs: Vec<Job>, settings: &Settings) -> Vec<Outcome> {
    let cancelled = Arc::new(AtomicBool::new(false));
    {
        let cancelled = Arc::clone(&cancelled);
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                eprintln!(
                    "\nbdip: interrupted; finishing images in progress (no partial files are left)"
                );
                cancelled.store(true, Ordering::SeqCst);
            }
        });
    }
    let total = jobs.len();
    let bar = (std::io::stderr().is_terminal() && total > 1).then(|| {
        let bar = ProgressBar::new(total as u64);
        if let Ok(style) =
            ProgressStyle::with_template("{bar:30} {pos}/{len} {elapsed_precise} ETA {eta} {msg}")
        {
            bar.set_style(style);
        }
        bar
    });
    let limit = Arc::new(Semaphore::new(settings.jobs.max(1)));
    let mut handles = Vec::with_capacity(total);
    for job in jobs {
        let Ok(permit) = Arc::clone(&limit).acquire_owned().await else {
            break;
        };
        if cancelled.load(Ordering::SeqCst) {
            handles.push(tokio::spawn(std::future::ready(skipped(
                &job,
                "interrupted",
            ))));
            continue;
        }
        let (client, settings, bar) = (client.clone(), settings.clone(), bar.clone());
        handles.push(tokio::spawn(async move {
            let outcome = process(&client, &job, &settings).await;
            report_line(&outcome, bar.as_ref());
            drop(permit);
            outcome
        }));
    }
    let mut outcomes = Vec::with_capacity(handles.len());
    for handle in handles {
        if let Ok(outcome) = handle.await {
            outcomes.push(outcome);
        }
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    outcomes
}

fn report_line(outcome: &Outcome, bar: Option<&ProgressBar>) {
    let line = match outcome.status {
        Status::Done => format!(
            "ok   {} -> {}",
            outcome.input,
            outcome.output.as_deref().unwrap_or("-")
        ),
        Status::Skipped => format!(
            "skip {}: {}",
            outcome.input,
            outcome.error_message.as_deref().unwrap_or("")
        ),
        Status::Failed => format!(
            "FAIL {}: {}",
            outcome.input,
            outcome.error_message.as_deref().unwrap_or("")
        ),
    };
    match bar {
        Some(bar) => {
            if outcome.status != Status::Done {
                bar.println(line);
            }
            bar.inc(1);
        }
        None => eprintln!("{line}"),
    }
}

fn skipped(job: &Job, why: &str) -> Outcome {
    Outcome {
        input: job.source.display(),
        output: None,
        status: Status::Skipped,
        log_id: None,
        error_code: None,
        error_message: Some(why.to_owned()),
        ms: 0,
        auth_failure: false,
    }
}

fn failed(job: &Job, started: Instant, message: String, code: Option<u32>) -> Outcome {
    Outcome {
        input: job.source.display(),
        output: None,
        status: Status::Failed,
        log_id: None,
        error_code: code,
        error_message: Some(message),
        ms: started.elapsed().as_millis() as u64,
        auth_failure: false,
    }
}

async fn read_source(source: &Source) -> std::io::Result<Vec<u8>> {
    match source {
        Source::File(path) => tokio::fs::read(path).await,
        // Never read here: sent as `url`.
        Source::Url(_) => Ok(Vec::new()),
        Source::Stdin => tokio::task::spawn_blocking(|| {
            let mut buf = Vec::new();
            std::io::stdin().lock().read_to_end(&mut buf).map(|_| buf)
        })
        .await
        .map_err(std::io::Error::other)?,
    }
}

async fn process(client: &Client, job: &Job, settings: &Settings) -> Outcome {
    let started = Instant::now();
    if let Destination::File {
        path,
        explicit: false,
    } = &job.destination
        && path.exists()
        && !settings.force
    {
        return skipped(
            job,
            &format!("{} exists (use --force to replace it)", path.display()),
        );
    }
    let mut image = match read_source(&job.source).await {
        Ok(bytes) => bytes,
        Err(e) => return failed(job, started, format!("cannot read: {e}"), None),
    };
    let url = match &job.source {
        Source::Url(url) => Some(url.as_str()),
        Source::File(_) | Source::Stdin => None,
    };
    if url.is_none()
        && let Err(violation) = send::check(&settings.task, settings.style_image.as_ref(), &image)
    {
        let size_problem = violation.code() == protocol::ErrorCode::IMAGE_SIZE_ERROR;
        let fit_op = send::operation(&settings.task).filter(|_| settings.fit && size_problem);
        if let Some(op) = fit_op {
            match tokio::task::spawn_blocking({
                let bytes = image.clone();
                move || fit(&bytes, op)
            })
            .await
            {
                Ok(Ok(fitted)) => image = fitted,
                Ok(Err(message)) => {
                    return failed(job, started, message, Some(violation.code().get()));
                }
                Err(e) => return failed(job, started, e.to_string(), None),
            }
        } else {
            let hint = if size_problem { " (use --fit)" } else { "" };
            let dims = protocol::sniff(&image)
                .map(|i| format!("is {}×{}; ", i.width, i.height))
                .unwrap_or_default();
            return failed(
                job,
                started,
                format!("{dims}{violation}{hint}"),
                Some(violation.code().get()),
            );
        }
    }
    let input = match url {
        Some(url) => Input::Url(url),
        None => Input::Image(&image),
    };
    let reply = match send::send(client, &settings.task, settings.style_image.as_ref(), input).await
    {
        Ok(reply) => reply,
        Err(SendError::Unsupported(message)) => return failed(job, started, message, None),
        Err(SendError::Api(error)) => {
            let mut outcome = failed(
                job,
                started,
                advice(&error),
                error.code().map(baidu_imageprocess::ErrorCode::get),
            );
            outcome.log_id = error.log_id().map(|l| l.0);
            outcome.auth_failure = error.is_auth();
            return outcome;
        }
    };
    if let (Some(path), Some(scoremap)) = (&settings.task.scoremap, &reply.scoremap)
        && let Err(e) = atomic_write(path, scoremap)
    {
        return failed(
            job,
            started,
            format!("cannot write {}: {e}", path.display()),
            None,
        );
    }
    let output = match &job.destination {
        Destination::Stdout => {
            let mut out = std::io::stdout().lock();
            if let Err(e) = out.write_all(&reply.image).and_then(|()| out.flush()) {
                return failed(job, started, format!("cannot write to stdout: {e}"), None);
            }
            "-".to_owned()
        }
        Destination::File { path, .. } => {
            if let Err(e) = atomic_write(path, &reply.image) {
                return failed(
                    job,
                    started,
                    format!("cannot write {}: {e}", path.display()),
                    None,
                );
            }
            if settings.compare && url.is_none() {
                let compare_path = path.with_extension("compare.png");
                match compare_png(&image, &reply.image) {
                    Ok(png) => {
                        if let Err(e) = atomic_write(&compare_path, &png) {
                            eprintln!("bdip: cannot write {}: {e}", compare_path.display());
                        }
                    }
                    Err(e) => eprintln!(
                        "bdip: cannot build the comparison for {}: {e}",
                        path.display()
                    ),
                }
            }
            path.display().to_string()
        }
    };
    Outcome {
        input: job.source.display(),
        output: Some(output),
        status: Status::Done,
        log_id: Some(reply.log_id),
        error_code: None,
        error_message: None,
        ms: started.elapsed().as_millis() as u64,
        auth_failure: false,
    }
}

/// One line that says what happened and what to do about it.
pub fn advice(error: &Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    match error {
        Error::Api { code, .. } => match code.class() {
            ErrorClass::QuotaExhausted
            | ErrorClass::Permission
            | ErrorClass::Throttled
            | ErrorClass::Account => {
                format!("{text} ({})", code.advice())
            }
            _ => text,
        },
        Error::Transport(_) => format!("{text} (check the network or --endpoint)"),
        _ => text,
    }
}
