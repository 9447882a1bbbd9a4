//! The embedded engine called directly for image inputs: the bytes `bdip` read go to the
//! engine and its result comes back, with no base64, form body, router or JSON between
//! them. The answers are the embedded emulator's: inputs were checked against the same
//! protocol limits before (`send::check`), engine errors get the emulator's codes and
//! messages, and results carry a log id of the same shape. `url` inputs still go through
//! the emulator, which fetches them.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use baidu_imageprocess::protocol::{ErrorCode, LogId};
use baidu_imageprocess::{Error, Operation};
use baidu_imageprocess_engine as engine;

use crate::profile::{self, Stage};
use crate::send::{Produced, SendError, operation};
use crate::task::{Task, TaskParams};

/// Log ids like the emulator's: a per-run start in the high half, counting up, bit 62 set.
fn next_log_id() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    static START: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    let start = *START.get_or_init(|| {
        let secs = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        (secs & 0x7FFF_FFFF) << 32
    });
    (start + NEXT.fetch_add(1, Ordering::Relaxed)) | (1 << 62)
}

/// The engine's request for `task` (the rectangles are converted into `rects`).
fn request<'a>(
    task: &Task,
    style_image: Option<&'a [u8]>,
    rects: &'a mut Vec<engine::Rect>,
) -> Option<engine::Request<'a>> {
    Some(match &task.params {
        TaskParams::None => match operation(task)? {
            Operation::ImageQualityEnhance => engine::Request::Enhance,
            Operation::Dehaze => engine::Request::Dehaze,
            Operation::ContrastEnhance => engine::Request::Contrast,
            Operation::Colourize => engine::Request::Colourize,
            Operation::StretchRestore => engine::Request::StretchRestore,
            Operation::ImageDefinitionEnhance => engine::Request::Definition,
            Operation::ColorEnhance => engine::Request::ColourEnhance,
            Operation::SkySeg => engine::Request::SkySeg,
            Operation::RemoveMoire => engine::Request::Demoire,
            Operation::DocRepair => engine::Request::DocRepair,
            // These take parameters, so they never come without them.
            Operation::StyleTrans
            | Operation::SelfieAnime
            | Operation::Inpainting
            | Operation::Denoise
            | Operation::CustomizeStylization => return None,
        },
        TaskParams::Style(name) => engine::Request::Style(name.engine_style()),
        TaskParams::Anime { mask } => engine::Request::SelfieAnime { mask: *mask },
        TaskParams::Inpaint(list) => {
            *rects = list
                .iter()
                .map(|r| engine::Rect {
                    left: r.left,
                    top: r.top,
                    width: r.width,
                    height: r.height,
                })
                .collect();
            engine::Request::Inpaint(rects)
        }
        TaskParams::Denoise { strength } => engine::Request::Denoise {
            strength: *strength,
        },
        TaskParams::StylizePreset(id) => engine::Request::Stylize(engine::StyleSource::Preset(*id)),
        TaskParams::StylizeImage(_) => {
            engine::Request::Stylize(engine::StyleSource::Image(style_image.unwrap_or(&[])))
        }
    })
}

/// The emulator's answer to an engine error.
fn refusal(error: &engine::EngineError, log_id: u64) -> Error {
    let (code, message) = match error {
        engine::EngineError::InvalidParameter(message) => {
            (ErrorCode::INVALID_PARAM, message.clone())
        }
        other => (
            ErrorCode::IMAGE_FORMAT_ERROR,
            format!("image format error: {other}"),
        ),
    };
    api_error(code, message, log_id)
}

fn api_error(code: ErrorCode, message: String, log_id: u64) -> Error {
    Error::Api {
        code,
        message,
        log_id: Some(LogId(log_id)),
        // The local engine answers like the API does: an error body with HTTP 200.
        status: 200,
    }
}

/// Runs `task` on `image` with the engine, as one job on rayon's pool: decoding, the
/// operation and encoding all happen on one of its threads (the operation's own parallel
/// parts join that pool), and the async task waits without holding a thread.
pub async fn run(
    engine: &engine::Engine,
    task: &Task,
    style_image: Option<&Arc<Vec<u8>>>,
    image: Arc<Vec<u8>>,
) -> Result<Produced, SendError> {
    let (engine, task, style_image) = (engine.clone(), task.clone(), style_image.cloned());
    let log_id = next_log_id();
    let work = move || {
        let mut rects = Vec::new();
        let style = style_image.as_deref().map(Vec::as_slice);
        let Some(request) = request(&task, style, &mut rects) else {
            return Err(SendError::Unsupported(format!(
                "the local engine has no operation `{}`",
                task.wire
            )));
        };
        tracing::debug!(
            operation = task.wire,
            bytes = image.len(),
            log_id,
            "local engine: processing"
        );
        let (output, times) = engine.process_timed(&request, &image).map_err(|e| {
            tracing::debug!(error = %e, log_id, "local engine refused the image");
            SendError::Api(refusal(&e, log_id))
        })?;
        tracing::debug!(
            decode_ms = times.decode.as_secs_f64() * 1e3,
            operation_ms = times.operation.as_secs_f64() * 1e3,
            encode_ms = times.encode.as_secs_f64() * 1e3,
            bytes = output.image.len(),
            log_id,
            "local engine: done"
        );
        profile::add(Stage::Decode, times.decode);
        profile::add(Stage::Operation, times.operation);
        profile::add(Stage::Encode, times.encode);
        Ok(output)
    };
    let (done, result) = tokio::sync::oneshot::channel();
    rayon::spawn(move || {
        // A panic must reach the caller as a failed image, not end the process.
        let _ = done.send(std::panic::catch_unwind(std::panic::AssertUnwindSafe(work)));
    });
    let output = match result.await {
        Ok(Ok(result)) => result?,
        // The emulator answers an engine panic with 282000.
        Ok(Err(_)) | Err(_) => {
            let code = ErrorCode::INTERNAL_ERROR;
            let message = code.message().unwrap_or("error").to_owned();
            return Err(SendError::Api(api_error(code, message, log_id)));
        }
    };
    Ok(Produced {
        log_id,
        image: output.image,
        scoremap: output.scoremap,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_ids_are_distinct_and_shaped_like_the_emulators() {
        let (a, b) = (next_log_id(), next_log_id());
        assert_ne!(a, b);
        assert_ne!(a & (1 << 62), 0);
    }

    #[test]
    fn engine_errors_get_the_emulators_codes() {
        let invalid = refusal(&engine::EngineError::InvalidParameter("x".into()), 7);
        assert_eq!(invalid.code(), Some(ErrorCode::INVALID_PARAM));
        let undecodable = refusal(&engine::EngineError::Decode("bad".into()), 7);
        assert_eq!(undecodable.code(), Some(ErrorCode::IMAGE_FORMAT_ERROR));
        assert!(undecodable.to_string().contains("image format error"));
    }
}
