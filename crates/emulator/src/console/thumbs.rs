//! Thumbnails of a request's input and its reply's output, made off the request path
//! under a CPU budget so the console never slows the emulator down.

use std::io::Cursor;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use baidu_imageprocess_protocol::{decode_base64, parse_pairs};
use base64::Engine as _;

use super::mask;
use super::ring::Thumbnail;

/// Longest side of a thumbnail.
const THUMB_SIDE: u32 = 112;
/// Largest image decoded for a thumbnail (the biggest any operation accepts is 5000 px).
const MAX_DECODED_SIDE: u32 = 5000;
/// Thumbnails may use at most 1 / `IDLE_FACTOR` of one core: after a job of `d`, the next
/// waits `d × (IDLE_FACTOR - 1)`.
const IDLE_FACTOR: u32 = 10;

/// At most one thumbnail job at a time, and only while under the CPU budget.
#[derive(Debug)]
pub(crate) struct Budget {
    busy: AtomicBool,
    next_allowed: Mutex<Instant>,
}

impl Default for Budget {
    fn default() -> Self {
        Self {
            busy: AtomicBool::new(false),
            next_allowed: Mutex::new(Instant::now()),
        }
    }
}

/// Permission to make one set of thumbnails; gives the slot back when dropped, charging
/// the budget with the time spent between [`Slot::begin`] and the drop.
#[derive(Debug)]
pub(crate) struct Slot {
    budget: Arc<Budget>,
    working_since: Option<Instant>,
}

impl Slot {
    /// The thumbnail work starts now (the request itself is not charged).
    pub(crate) fn begin(&mut self) {
        self.working_since = Some(Instant::now());
    }
}

impl Budget {
    /// A slot, if none is in use and the budget allows one now.
    pub(crate) fn try_start(self: &Arc<Self>) -> Option<Slot> {
        if Instant::now()
            < *self
                .next_allowed
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
        {
            return None;
        }
        self.busy
            .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
            .ok()?;
        Some(Slot {
            budget: Arc::clone(self),
            working_since: None,
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let spent = self.working_since.map_or(Duration::ZERO, |t| t.elapsed());
        let rest = spent
            .saturating_mul(IDLE_FACTOR - 1)
            .min(Duration::from_secs(30));
        *self
            .budget
            .next_allowed
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Instant::now() + rest;
        self.budget.busy.store(false, Ordering::Release);
    }
}

/// What the background job learns from a captured exchange.
#[derive(Debug, Default)]
pub(crate) struct Details {
    pub(crate) params: Vec<(String, String)>,
    pub(crate) input: Option<Thumbnail>,
    pub(crate) output: Option<Thumbnail>,
}

/// Reads the request body (form or JSON) and the reply for parameters and images.
pub(crate) fn details(request_body: &[u8], reply_body: &[u8]) -> Details {
    let (params, input) = if request_body.first() == Some(&b'{') {
        match serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(request_body) {
            Ok(map) => {
                let image = map
                    .get("image")
                    .and_then(serde_json::Value::as_str)
                    .and_then(|text| decode_base64(text.as_bytes()));
                (mask::json_params(&map), image)
            }
            Err(_) => (Vec::new(), None),
        }
    } else {
        let image = parse_pairs(request_body)
            .find(|(name, _)| name == "image")
            .and_then(|(_, text)| decode_base64(&text));
        (mask::form_params(request_body), image)
    };
    Details {
        params,
        input: input.as_deref().and_then(thumbnail),
        output: reply_image(reply_body).as_deref().and_then(thumbnail),
    }
}

/// The image of a success reply: `image`, or for sky segmentation `scoremap`/`labelmap`.
fn reply_image(body: &[u8]) -> Option<Vec<u8>> {
    #[derive(serde::Deserialize)]
    struct Reply {
        image: Option<String>,
        scoremap: Option<String>,
        labelmap: Option<String>,
    }
    let reply: Reply = serde_json::from_slice(body).ok()?;
    let text = reply.image.or(reply.scoremap).or(reply.labelmap)?;
    decode_base64(text.as_bytes())
}

/// A JPEG thumbnail of `bytes`, if it is an image of a sane size.
pub(crate) fn thumbnail(bytes: &[u8]) -> Option<Thumbnail> {
    let mut reader = image::ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .ok()?;
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_DECODED_SIDE);
    limits.max_image_height = Some(MAX_DECODED_SIDE);
    limits.max_alloc = Some(256 * 1024 * 1024);
    reader.limits(limits);
    let decoded = reader.decode().ok()?;
    let (width, height) = (decoded.width(), decoded.height());
    let small = decoded.thumbnail(THUMB_SIDE, THUMB_SIDE).into_rgb8();
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 70)
        .encode_image(&small)
        .ok()?;
    Some(Thumbnail {
        data_url: format!(
            "data:image/jpeg;base64,{}",
            base64::engine::general_purpose::STANDARD.encode(&jpeg)
        ),
        width,
        height,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(w: u32, h: u32) -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        image::RgbImage::from_fn(w, h, |x, y| image::Rgb([x as u8, y as u8, 7]))
            .write_to(&mut out, image::ImageFormat::Png)
            .unwrap();
        out.into_inner()
    }

    #[test]
    fn thumbnails_are_small_and_keep_the_size() {
        let t = thumbnail(&png(640, 320)).unwrap();
        assert_eq!((t.width, t.height), (640, 320));
        assert!(t.data_url.starts_with("data:image/jpeg;base64,"));
        assert!(t.data_url.len() < 8 * 1024, "{}", t.data_url.len());
        assert!(thumbnail(b"not an image").is_none());
    }

    #[test]
    fn form_json_and_sky_replies_are_read() {
        let b64 = base64::engine::general_purpose::STANDARD.encode(png(64, 64));
        let form =
            baidu_imageprocess_protocol::encode_image_form(&png(80, 60), &[("option", "cartoon")]);
        let reply = format!(r#"{{"log_id":1,"image":"{b64}"}}"#);
        let d = details(&form, reply.as_bytes());
        assert_eq!(d.params, vec![("option".to_owned(), "cartoon".to_owned())]);
        assert_eq!(d.input.map(|t| t.width), Some(80));
        assert_eq!(d.output.map(|t| t.width), Some(64));

        let json = format!(
            r#"{{"image":"{b64}","rectangle":[{{"left":1,"top":2,"width":3,"height":4}}]}}"#
        );
        let sky = format!(r#"{{"log_id":1,"labelmap":"{b64}","scoremap":"{b64}"}}"#);
        let d = details(json.as_bytes(), sky.as_bytes());
        assert_eq!(d.params[0].0, "rectangle");
        assert!(d.input.is_some() && d.output.is_some());
    }

    #[test]
    fn one_slot_at_a_time() {
        let budget = Arc::new(Budget::default());
        let mut slot = budget.try_start().unwrap();
        assert!(budget.try_start().is_none());
        slot.begin();
        std::thread::sleep(Duration::from_millis(100));
        drop(slot);
        // 100 ms of work: no new slot for the next ~900 ms.
        assert!(budget.try_start().is_none());
        let budget = Arc::new(Budget::default());
        drop(budget.try_start().unwrap());
        assert!(
            budget.try_start().is_some(),
            "a slot that did no work costs nothing"
        );
    }
}
