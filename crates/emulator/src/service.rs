//! The engine service: runs a checked request on the engine and answers as the API does.
//!
//! This is the one place that decides how the engine's outcomes read on the wire:
//! - an image beyond the engine's decoder (a side over [`engine::MAX_SIDE`]) is a size
//!   error (216202), as the service's own limits are;
//! - an engine refusal of a parameter is 216100 with the engine's message; any other
//!   engine error is an image format error (216201);
//! - an engine panic is an internal error (282000), never the end of the process;
//! - log ids come from [`LogIds`].
//!
//! The emulator's operations and `bdip`'s local path (`--local`) both answer through it,
//! so the two answer alike.

use std::borrow::Cow;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use baidu_imageprocess_engine as engine;
use baidu_imageprocess_protocol::{self as protocol, ErrorCode, Input, LimitViolation, LogId};

/// A request answered with an error: the error code and the message the reply carries.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Refusal {
    /// The API's error code.
    pub code: ErrorCode,
    /// The reply's `error_msg`.
    pub message: Cow<'static, str>,
}

impl Refusal {
    /// A refusal with `code` and `message`.
    pub fn new(code: ErrorCode, message: impl Into<Cow<'static, str>>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    /// An invalid parameter (216100) with `message`.
    pub fn invalid(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::INVALID_PARAM, message)
    }

    /// The spec's message for `code`, when there is nothing more specific to say.
    pub fn plain(code: ErrorCode) -> Self {
        Self::new(code, code.message().unwrap_or("error"))
    }

    /// The error a client sees for this refusal, answered with `log_id`.
    pub fn into_error(self, log_id: u64) -> protocol::Error {
        protocol::Error::Api {
            code: self.code,
            message: self.message.into_owned(),
            log_id: Some(LogId(log_id)),
            // The engine answers like the API does: an error body with HTTP 200.
            status: 200,
        }
    }
}

impl From<LimitViolation> for Refusal {
    fn from(violation: LimitViolation) -> Self {
        Self::new(violation.code(), violation.to_string())
    }
}

/// What the engine produced for a request.
#[derive(Debug)]
#[non_exhaustive]
pub struct Reply {
    /// The result image, in the input's format; for sky segmentation, the sky mask
    /// (the reply's `labelmap`).
    pub image: Vec<u8>,
    /// Sky segmentation only: the sky probability map (the reply's `scoremap`).
    pub scoremap: Option<Vec<u8>>,
    /// How long decoding, the operation and encoding took.
    pub times: engine::StageTimes,
}

/// Log ids shaped like the service's: the start time in the high half, counting up, bit
/// 62 set, so ids stay distinct across restarts and exceed 2^53 as Baidu's do.
#[derive(Debug)]
pub struct LogIds {
    next: AtomicU64,
}

impl LogIds {
    /// Ids starting from now.
    pub fn new() -> Self {
        let secs = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        Self {
            next: AtomicU64::new((secs & 0x7FFF_FFFF) << 32),
        }
    }

    /// The next id.
    pub fn next_id(&self) -> u64 {
        self.next.fetch_add(1, Ordering::Relaxed) | (1 << 62)
    }
}

impl Default for LogIds {
    fn default() -> Self {
        Self::new()
    }
}

/// Runs `request` (already checked against the operation's limits) on the engine and
/// answers as the API does. Blocks for as long as the engine works: run it on a worker
/// thread, not on an async runtime's.
pub fn run(engine: &engine::Engine, request: &protocol::Request<'_>) -> Result<Reply, Refusal> {
    let Input::Image(image) = request.input() else {
        // Urls are fetched and PDFs refused before the engine is asked.
        return Err(Refusal::new(
            ErrorCode::IMAGE_FORMAT_ERROR,
            "image format error: only image bytes reach the engine",
        ));
    };
    // Within the API's limits but beyond the engine's decoder (a 16385×2 image for
    // enhance, whose only limit is the pixel count): a size error, not a format error.
    if let Ok(info) = protocol::sniff(image)
        && info.width.max(info.height) > engine::MAX_SIDE
    {
        tracing::debug!(info.width, info.height, "side beyond the engine's decoder");
        return Err(Refusal::plain(ErrorCode::IMAGE_SIZE_ERROR));
    }
    let processed = catch_unwind(AssertUnwindSafe(|| {
        engine.process_timed(request.params(), image)
    }));
    match processed {
        Ok(Ok((output, times))) => Ok(Reply {
            image: output.image,
            scoremap: output.scoremap,
            times,
        }),
        Ok(Err(error)) => Err(engine_refusal(&error)),
        Err(_) => {
            tracing::error!(operation = request.operation().name(), "engine panicked");
            Err(Refusal::plain(ErrorCode::INTERNAL_ERROR))
        }
    }
}

/// The API's answer to an engine error.
fn engine_refusal(error: &engine::EngineError) -> Refusal {
    match error {
        engine::EngineError::InvalidParameter(message) => Refusal::invalid(message.clone()),
        other => {
            tracing::debug!(error = %other, "engine refused the image");
            Refusal::new(
                ErrorCode::IMAGE_FORMAT_ERROR,
                format!("image format error: {other}"),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use baidu_imageprocess_protocol::Params;

    #[test]
    fn log_ids_are_distinct_and_shaped_like_the_services() {
        let ids = LogIds::new();
        let (a, b) = (ids.next_id(), ids.next_id());
        assert_ne!(a, b);
        assert_ne!(a & (1 << 62), 0);
    }

    #[test]
    fn engine_errors_get_the_apis_codes() {
        let invalid = engine_refusal(&engine::EngineError::InvalidParameter("x".into()));
        assert_eq!(invalid, Refusal::invalid("x"));
        let undecodable = engine_refusal(&engine::EngineError::Decode("bad".into()));
        assert_eq!(undecodable.code, ErrorCode::IMAGE_FORMAT_ERROR);
        assert!(undecodable.message.contains("image format error"));
        let error = undecodable.into_error(7);
        assert_eq!(error.code(), Some(ErrorCode::IMAGE_FORMAT_ERROR));
    }

    #[test]
    fn undecodable_bytes_and_oversized_sides_are_refused_with_the_apis_codes() {
        let engine = engine::Engine::new();
        let garbage = protocol::Request::new(Input::image(&b"not an image"[..]), Params::Dehaze);
        assert_eq!(
            run(&engine, &garbage).unwrap_err().code,
            ErrorCode::IMAGE_FORMAT_ERROR
        );
        // A PNG header announcing a side one over the engine's decoder.
        let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
        png.extend_from_slice(&(engine::MAX_SIDE + 1).to_be_bytes());
        png.extend_from_slice(&2u32.to_be_bytes());
        png.extend_from_slice(&[8, 2, 0, 0, 0, 0, 0, 0, 0]);
        let wide = protocol::Request::new(Input::image(png), Params::ImageQualityEnhance);
        assert_eq!(
            run(&engine, &wide).unwrap_err().code,
            ErrorCode::IMAGE_SIZE_ERROR
        );
    }

    /// The engine's decoder reaches the longest side any table row admits: enhance bounds
    /// only the pixel count, so its longest side is the pixel cap over the shortest side.
    #[test]
    fn the_engine_decodes_the_longest_side_the_table_admits() {
        let longest = protocol::Operation::ALL
            .iter()
            .map(|op| {
                let limits = op.limits();
                limits.max_pixels.map_or(limits.max_side, |pixels| {
                    let by_pixels = pixels / u64::from(limits.min_side.max(1));
                    limits
                        .max_side
                        .min(u32::try_from(by_pixels).unwrap_or(u32::MAX))
                })
            })
            .max()
            .unwrap();
        assert_eq!(engine::MAX_SIDE, longest);
    }

    /// 16385 × 2 is within enhance's limits (earlier, the decoder stopped at 16384).
    #[test]
    fn a_16385_by_2_image_is_enhanced_to_32770_by_4() {
        let img = image::RgbImage::from_fn(16_385, 2, |x, y| {
            image::Rgb([(x % 251) as u8, (y * 90) as u8, 40])
        });
        let mut png = std::io::Cursor::new(Vec::new());
        img.write_to(&mut png, image::ImageFormat::Png).unwrap();
        let request =
            protocol::Request::new(Input::image(png.into_inner()), Params::ImageQualityEnhance);
        let reply = run(&engine::Engine::new(), &request).unwrap();
        let out = image::load_from_memory(&reply.image).unwrap();
        assert_eq!((out.width(), out.height()), (32_770, 4));
    }
}
