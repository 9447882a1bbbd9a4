//! Running a batch: bounded concurrency, one failure never stops the others (a panicking
//! job is reported as failed), progress on a terminal, plain lines otherwise. The first
//! Ctrl-C stops launching new work and lets the images in flight finish; the second
//! stops at once, removing temporary files.

use std::io::{BufRead as _, IsTerminal as _, Read as _};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use baidu_imageprocess::protocol::{TransportError, TransportErrorKind};
use baidu_imageprocess::{AuthError, Client, Error, ErrorClass, Operation, protocol};
use baidu_imageprocess_engine::Engine;
use indicatif::{ProgressBar, ProgressStyle};
use tokio::sync::Semaphore;

use crate::fit::{
    FIT_MAX_FILE_BYTES, FIT_MAX_STREAMED_FILE_BYTES, FitError, fit, fit_streamed, streamed_format,
};
use crate::inputs::{Destination, Job, Source};
use crate::profile::{self, Stage};
use crate::report::{Outcome, Status};
use crate::send::{self, Input, SendError};
use crate::task::Task;
use crate::write::{compare_png, remove_temp_files_and_exit, write_result, write_stdout};

/// The exit status of an interrupted run, as shells expect after SIGINT.
pub const EXIT_INTERRUPTED: i32 = 130;

/// Settings that apply to every image of a batch.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Shared by every job (a style image is in its parameters).
    pub task: Arc<Task>,
    pub force: bool,
    pub fit: bool,
    pub jobs: usize,
    /// The embedded engine, when images are processed locally: image inputs go to it
    /// directly rather than through the client.
    pub engine: Option<Engine>,
}

/// What a batch did.
pub struct Run {
    /// One per job, in input order.
    pub outcomes: Vec<Outcome>,
    /// Whether Ctrl-C stopped it early.
    pub interrupted: bool,
}

/// Watches for Ctrl-C: the first sets `cancelled`, the second removes temporary files
/// and exits at once.
fn watch_interrupts(cancelled: Arc<AtomicBool>) {
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_err() {
            return;
        }
        cancelled.store(true, Ordering::SeqCst);
        eprintln!(
            "\nbdip: interrupted; finishing images in progress (no partial files are left); Ctrl-C again to stop now"
        );
        if tokio::signal::ctrl_c().await.is_ok() {
            eprintln!("bdip: stopped; images in progress were abandoned");
            remove_temp_files_and_exit(EXIT_INTERRUPTED);
        }
    });
}

/// Processes every job; returns outcomes in input order.
pub async fn run(client: &Client, jobs: Vec<Job>, settings: &Settings) -> Run {
    let cancelled = Arc::new(AtomicBool::new(false));
    watch_interrupts(Arc::clone(&cancelled));
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
        let input = job.source.display();
        let Ok(permit) = Arc::clone(&limit).acquire_owned().await else {
            break;
        };
        if cancelled.load(Ordering::SeqCst) {
            let outcome = skipped(&job, "interrupted");
            report_line(&outcome, bar.as_ref());
            handles.push((input, tokio::spawn(std::future::ready(outcome))));
            continue;
        }
        let (client, settings, bar) = (client.clone(), settings.clone(), bar.clone());
        let handle = tokio::spawn(async move {
            let _permit = permit;
            let outcome = process(&client, &job, &settings).await;
            report_line(&outcome, bar.as_ref());
            outcome
        });
        handles.push((input, handle));
    }
    let outcomes = collect_outcomes(handles, bar.as_ref()).await;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    Run {
        outcomes,
        interrupted: cancelled.load(Ordering::SeqCst),
    }
}

/// Waits for every job in order; one that panicked is a failed outcome, never dropped.
async fn collect_outcomes(
    handles: Vec<(String, tokio::task::JoinHandle<Outcome>)>,
    bar: Option<&ProgressBar>,
) -> Vec<Outcome> {
    let mut outcomes = Vec::with_capacity(handles.len());
    for (input, handle) in handles {
        let outcome = handle.await.unwrap_or_else(|e| {
            // A bug, not the image's fault: still counted, reported and failing the run.
            let outcome = Outcome {
                input,
                output: None,
                status: Status::Failed,
                log_id: None,
                error_code: None,
                error_message: Some(format!("internal error in bdip: {e}")),
                ms: 0,
                auth_failure: false,
            };
            report_line(&outcome, bar);
            outcome
        });
        outcomes.push(outcome);
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

/// The largest file sent as it is for `op`: what its base64 limit allows.
fn send_cap(op: Operation) -> u64 {
    // base64 turns 3 bytes into 4.
    (op.limits().max_base64_len / 4 * 3) as u64
}

/// The largest file read whole for `op`: what it accepts, or with `--fit` the cap of
/// what is decoded whole (stdin, BMP, interlaced PNG).
fn read_cap(op: Operation, fit: bool) -> u64 {
    if fit {
        FIT_MAX_FILE_BYTES
    } else {
        send_cap(op)
    }
}

/// Why a file is refused for its size; with `--fit`, `what` says what the whole-read cap
/// was applied to and what to do instead.
fn too_large(cap: u64, fit: bool, what: &str) -> String {
    let mib = mebibytes(cap);
    if fit {
        format!("is larger than {mib} MiB ({cap} bytes), the most --fit reads whole {what}")
    } else {
        format!(
            "is larger than {mib} MiB ({cap} bytes), the most the operation accepts once base64 grows it by a third (use --fit)"
        )
    }
}

/// The largest PNG or JPEG file `--fit` streams, in GiB.
const STREAMED_GIB: u64 = FIT_MAX_STREAMED_FILE_BYTES >> 30;

/// `bytes` in MiB with at most two decimals and no rounding down past the cap: a 2.25 MiB
/// cap reads "2.25", never "2".
fn mebibytes(bytes: u64) -> String {
    let hundredths = (bytes * 100).div_ceil(1024 * 1024);
    let text = format!("{}.{:02}", hundredths / 100, hundredths % 100);
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// A failed read: the message, and the API error code it stands for.
type ReadError = (String, Option<protocol::ErrorCode>);

fn size_error(message: String) -> ReadError {
    (message, Some(protocol::ErrorCode::IMAGE_SIZE_ERROR))
}

/// The code a `--fit` failure stands for.
fn fit_code(error: &FitError) -> Option<protocol::ErrorCode> {
    match error {
        FitError::TooManyPixels { .. } | FitError::CannotFit(_) => {
            Some(protocol::ErrorCode::IMAGE_SIZE_ERROR)
        }
        FitError::Unsupported(_) | FitError::Header(_) | FitError::Decode(_) => {
            Some(protocol::ErrorCode::IMAGE_FORMAT_ERROR)
        }
        _ => None,
    }
}

/// With `--fit`, a PNG or JPEG file too large to send is fitted while it is read, row by
/// row, never held whole: `Ok(None)` when the file is to be read whole instead.
fn fit_while_reading(
    path: &std::path::Path,
    len: u64,
    op: Operation,
) -> Result<Option<Vec<u8>>, ReadError> {
    let file = std::fs::File::open(path).map_err(|e| (format!("cannot read: {e}"), None))?;
    let mut reader = std::io::BufReader::with_capacity(256 * 1024, file);
    let head = reader
        .fill_buf()
        .map_err(|e| (format!("cannot read: {e}"), None))?;
    let Some(format) = streamed_format(head) else {
        return if len > FIT_MAX_FILE_BYTES {
            Err(size_error(too_large(
                FIT_MAX_FILE_BYTES,
                true,
                &format!(
                    "of a file that is not PNG or JPEG: convert it to PNG or JPEG (streamed up to {STREAMED_GIB} GiB)"
                ),
            )))
        } else {
            Ok(None)
        };
    };
    if len > FIT_MAX_STREAMED_FILE_BYTES {
        return Err(size_error(format!(
            "is larger than {STREAMED_GIB} GiB ({FIT_MAX_STREAMED_FILE_BYTES} bytes), the most --fit streams of a PNG or JPEG: shrink it with an image editor first"
        )));
    }
    match fit_streamed(reader, format, op) {
        Ok(fitted) => Ok(Some(fitted)),
        Err(FitError::NotStreamed(what)) if len > FIT_MAX_FILE_BYTES => Err(size_error(too_large(
            FIT_MAX_FILE_BYTES,
            true,
            &format!(
                "of {what}: re-save it as a non-interlaced PNG or a baseline JPEG (streamed up to {STREAMED_GIB} GiB)"
            ),
        ))),
        Err(FitError::NotStreamed(_)) => Ok(None),
        Err(e) => Err((e.to_string(), fit_code(&e))),
    }
}

/// Reads a regular file (or stdin) of at most [`read_cap`] bytes; FIFOs and devices are
/// refused before they are opened, since reading them may block or never end. With
/// `fit`, a PNG or JPEG file too large to send comes back already fitted.
fn read_bounded(source: &Source, op: Operation, fit: bool) -> Result<Vec<u8>, ReadError> {
    let cap = read_cap(op, fit);
    let mut buf = Vec::new();
    match source {
        Source::File(path) => {
            let meta = std::fs::metadata(path).map_err(|e| (format!("cannot read: {e}"), None))?;
            if meta.is_dir() {
                return Err((
                    "is a directory (use it as INPUT without -o, or -r)".into(),
                    None,
                ));
            }
            if !meta.is_file() {
                return Err((
                    "is not a regular file (a FIFO, device or socket); only files and - are read"
                        .into(),
                    None,
                ));
            }
            if fit
                && meta.len() > send_cap(op)
                && let Some(fitted) = fit_while_reading(path, meta.len(), op)?
            {
                return Ok(fitted);
            }
            if meta.len() > cap {
                return Err(size_error(too_large(cap, fit, "of a file")));
            }
            let file =
                std::fs::File::open(path).map_err(|e| (format!("cannot read: {e}"), None))?;
            file.take(cap + 1)
                .read_to_end(&mut buf)
                .map_err(|e| (format!("cannot read: {e}"), None))?;
        }
        // Never read here: sent as `url`.
        Source::Url(_) => {}
        Source::Stdin => {
            std::io::stdin()
                .lock()
                .take(cap + 1)
                .read_to_end(&mut buf)
                .map_err(|e| (format!("cannot read stdin: {e}"), None))?;
        }
    }
    if buf.len() as u64 > cap {
        let what = match source {
            Source::Stdin => format!(
                "from stdin: give the image as a file (PNG and JPEG files are streamed up to {STREAMED_GIB} GiB)"
            ),
            Source::File(_) | Source::Url(_) => "of a file".to_owned(),
        };
        return Err(size_error(too_large(cap, fit, &what)));
    }
    Ok(buf)
}

async fn process(client: &Client, job: &Job, settings: &Settings) -> Outcome {
    let started = Instant::now();
    if let Some(conflict) = &job.conflict {
        return failed(job, started, conflict.clone(), None);
    }
    if let Destination::File {
        path,
        explicit: false,
    } = &job.destination
        && std::fs::symlink_metadata(path).is_ok()
        && !settings.force
    {
        return skipped(
            job,
            &format!("{} exists (use --force to replace it)", path.display()),
        );
    }
    let op = settings.task.operation;
    let lap = Instant::now();
    let read = tokio::task::spawn_blocking({
        let (source, fit) = (job.source.clone(), settings.fit);
        move || read_bounded(&source, op, fit)
    })
    .await;
    let mut image = match read {
        Ok(Ok(bytes)) => bytes,
        Ok(Err((message, code))) => {
            return failed(job, started, message, code.map(protocol::ErrorCode::get));
        }
        Err(e) => return failed(job, started, format!("cannot read: {e}"), None),
    };
    let lap = profile::lap(Stage::Read, lap);
    let url = match &job.source {
        Source::Url(url) => Some(url.as_str()),
        Source::File(_) | Source::Stdin => None,
    };
    if url.is_none()
        && let Err(violation) = send::check(&settings.task, &image)
    {
        let size_problem = violation.code() == protocol::ErrorCode::IMAGE_SIZE_ERROR;
        if settings.fit && size_problem {
            match tokio::task::spawn_blocking({
                let bytes = image.clone();
                move || fit(&bytes, op)
            })
            .await
            {
                Ok(Ok(fitted)) => image = fitted,
                Ok(Err(error)) => {
                    let message = error.to_string();
                    return failed(job, started, message, Some(violation.code().get()));
                }
                Err(e) => return failed(job, started, format!("--fit failed: {e}"), None),
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
    let lap = profile::lap(Stage::Check, lap);
    let image = Arc::new(image);
    let sent = match (url, &settings.engine) {
        (None, Some(engine)) => crate::local::run(engine, &settings.task, Arc::clone(&image)).await,
        (Some(url), _) => {
            let input = Input::Url(url);
            send::send(client, &settings.task, input).await
        }
        (None, None) => {
            let input = Input::Image(&image);
            send::send(client, &settings.task, input).await
        }
    };
    // The local engine reports its own stages.
    let lap = if url.is_some() || settings.engine.is_none() {
        profile::lap(Stage::Call, lap)
    } else {
        Instant::now()
    };
    let reply = match sent {
        Ok(reply) => reply,
        Err(SendError::Malformed(message)) => return failed(job, started, message, None),
        Err(SendError::Api(error)) => {
            let mut outcome = failed(
                job,
                started,
                advice(
                    &error,
                    Context {
                        operation: Some(op),
                        local: settings.engine.is_some(),
                    },
                ),
                error.code().map(baidu_imageprocess::ErrorCode::get),
            );
            outcome.log_id = error.log_id().map(|l| l.0);
            outcome.auth_failure = credentials_refused(&error);
            return outcome;
        }
    };
    // Never write bytes that are not an image as if they were the result.
    if let Err(violation) = protocol::sniff(&reply.image) {
        let mut outcome = failed(
            job,
            started,
            format!(
                "malformed reply: the service returned {} bytes that are not an image ({violation}); nothing written",
                reply.image.len()
            ),
            None,
        );
        outcome.log_id = Some(reply.log_id);
        return outcome;
    }
    if let (Some(to), Some(scoremap)) = (&settings.task.scoremap, reply.scoremap)
        && let Err(message) = deliver(to, Arc::new(scoremap)).await
    {
        return failed(job, started, message, None);
    }
    let reply_image = Arc::new(reply.image);
    let output = match &job.destination {
        Destination::Stdout => {
            if let Err(message) = deliver(&job.destination, reply_image).await {
                return failed(job, started, message, None);
            }
            "-".to_owned()
        }
        Destination::File { path, .. } => {
            if let Err(message) = deliver(&job.destination, Arc::clone(&reply_image)).await {
                return failed(job, started, message, None);
            }
            if let Some(compare_path) = job.compare.as_ref().filter(|_| url.is_none()) {
                let compared = tokio::task::spawn_blocking({
                    let (path, after) = (compare_path.clone(), Arc::clone(&reply_image));
                    move || {
                        let png = compare_png(&image, &after)
                            .map_err(|e| format!("cannot build the comparison: {e}"))?;
                        write_result(&path, &png)
                            .map_err(|e| format!("cannot write {}: {e}", path.display()))
                    }
                })
                .await;
                match compared {
                    Ok(Ok(())) => {}
                    Ok(Err(message)) => eprintln!("bdip: {message}"),
                    Err(e) => eprintln!("bdip: cannot build the comparison: {e}"),
                }
            }
            path.display().to_string()
        }
    };
    profile::lap(Stage::Write, lap);
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

/// Writes a result to its destination, in the format a file's name asks for (see
/// [`crate::convert`]); the error is the message for the image's outcome.
async fn deliver(to: &Destination, bytes: Arc<Vec<u8>>) -> Result<(), String> {
    match to {
        Destination::Stdout => {
            write_stdout(&bytes).map_err(|e| format!("cannot write to stdout: {e}"))
        }
        Destination::File { path, .. } => {
            let path = path.clone();
            tokio::task::spawn_blocking(move || {
                let bytes = crate::convert::for_path(&path, &bytes)?;
                write_result(&path, &bytes)
                    .map_err(|e| format!("cannot write {}: {e}", path.display()))
            })
            .await
            .unwrap_or_else(|e| Err(format!("cannot write the result: {e}")))
        }
    }
}

/// The transport failure at the root of `error`, if any (through a timeout's last try).
fn transport_cause(error: &Error) -> Option<&TransportError> {
    match error {
        Error::Transport(e) => Some(e),
        Error::Timeout {
            last: Some(last), ..
        } => transport_cause(last),
        _ => None,
    }
}

/// Whether the service refused the credentials (not merely could not be reached).
pub fn credentials_refused(error: &Error) -> bool {
    matches!(
        error,
        Error::Auth(AuthError::InvalidClient { .. } | AuthError::TokenRejected { .. })
    )
}

/// What [`advice`] needs to know about the call beside its error.
#[derive(Debug, Clone, Copy, Default)]
pub struct Context {
    /// The operation called (none for `bdip token`).
    pub operation: Option<Operation>,
    /// Whether the embedded engine answered (no Baidu service was involved).
    pub local: bool,
}

/// One line that says what happened and what to do about it.
pub fn advice(error: &Error, context: Context) -> String {
    let mut text = match error {
        // The embedded engine (and its fetch of `url` inputs) answers with the API's
        // codes, but it is not Baidu's service.
        Error::Api { code, message, .. } if context.local => {
            format!("local engine error {code}: {message}")
        }
        _ => error.to_string(),
    };
    let mut source = std::error::Error::source(error);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    if let Some(cause) = transport_cause(error) {
        // Name the cause first: "timed out" alone hides a refused connection.
        let (what, hint) = match cause.kind() {
            TransportErrorKind::Connect => (
                "cannot connect to the service",
                "is the endpoint right and the service running?",
            ),
            TransportErrorKind::Tls => (
                "TLS failure",
                "check the endpoint's certificate, or use http:// for a local emulator",
            ),
            TransportErrorKind::Timeout => {
                ("no answer in time", "raise --timeout or check the network")
            }
            _ => ("network failure", "check the network or --endpoint"),
        };
        return format!("{what}: {text} ({hint})");
    }
    match error {
        Error::Api { code, .. } => match code.class() {
            // The protocol's advice is about no operation in particular: name the one
            // that was denied.
            ErrorClass::Permission => match context.operation {
                Some(op) => format!(
                    "{text} (this account has no permission for {op}; request access to {op} in the Baidu AI console, under the image-process service, and retry)",
                    op = op.name()
                ),
                None => format!(
                    "{text} (this account has no permission for the operation; request access to it in the Baidu AI console and retry)"
                ),
            },
            ErrorClass::QuotaExhausted | ErrorClass::Throttled | ErrorClass::Account => {
                format!("{text} ({})", code.advice())
            }
            _ => text,
        },
        _ => text,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn caps_are_never_rounded_down() {
        assert_eq!(super::mebibytes(3 * 1024 * 1024), "3");
        assert_eq!(super::mebibytes(3 * 1024 * 1024 / 4 * 3), "2.25");
        assert_eq!(super::mebibytes(10 * 1024 * 1024 / 4 * 3), "7.5");
        assert_eq!(super::mebibytes(1), "0.01");
    }

    use super::*;

    fn done(input: &str) -> Outcome {
        Outcome {
            input: input.to_owned(),
            output: Some("out".into()),
            status: Status::Done,
            log_id: None,
            error_code: None,
            error_message: None,
            ms: 0,
            auth_failure: false,
        }
    }

    #[tokio::test]
    async fn a_panicking_job_is_counted_as_failed() {
        let handles = vec![
            ("a.png".to_owned(), tokio::spawn(async { done("a.png") })),
            (
                "b.png".to_owned(),
                tokio::spawn(async { panic!("a bug in one job") }),
            ),
            ("c.png".to_owned(), tokio::spawn(async { done("c.png") })),
        ];
        let outcomes = collect_outcomes(handles, None).await;
        let statuses: Vec<_> = outcomes
            .iter()
            .map(|o| (o.input.as_str(), o.status))
            .collect();
        assert_eq!(
            statuses,
            [
                ("a.png", Status::Done),
                ("b.png", Status::Failed),
                ("c.png", Status::Done)
            ]
        );
        assert!(
            outcomes[1]
                .error_message
                .as_deref()
                .is_some_and(|m| m.contains("internal error"))
        );
    }
}
