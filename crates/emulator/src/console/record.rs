//! The hook that records every finished API request into the ring: a middleware around
//! the whole router, so the API's handlers stay as they are.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Poll, ready};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::body::{Body, BodyDataStream, Bytes};
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use baidu_imageprocess_protocol::{Operation, TOKEN_PATH};
use futures_util::StreamExt as _;

use super::Console;
use super::mask;
use super::ring::{Entry, Thumbnails};
use super::thumbs::{self, Slot};

/// Most request-body bytes kept for thumbnails (the largest operation accepts 10 MB of
/// base64, percent-encoding adds a few per cent).
const MAX_CAPTURE: usize = 11 * 1024 * 1024;
/// Replies up to this size are parsed whole for their error; bigger ones are successes
/// carrying an image, whose `log_id` is read from the first bytes.
const SMALL_REPLY: usize = 64 * 1024;

/// Whether `path` is part of the API (as opposed to the console and the stats).
fn is_api(path: &str) -> bool {
    path != "/" && !path.starts_with("/__emulator/") && path != "/favicon.ico"
}

/// Counts the bytes of a request body as the server reads it and, when asked, keeps them.
#[derive(Debug)]
struct Tap {
    seen: AtomicU64,
    kept: Mutex<Option<Vec<Bytes>>>,
}

impl Tap {
    fn new(keep: bool) -> Self {
        Self {
            seen: AtomicU64::new(0),
            kept: Mutex::new(keep.then(Vec::new)),
        }
    }

    fn observe(&self, chunk: &Bytes) {
        let seen = self.seen.fetch_add(chunk.len() as u64, Ordering::Relaxed) + chunk.len() as u64;
        let mut kept = self.kept.lock().unwrap_or_else(PoisonError::into_inner);
        if usize::try_from(seen).map_or(true, |n| n > MAX_CAPTURE) {
            *kept = None;
        } else if let Some(chunks) = kept.as_mut() {
            // `Bytes` is shared, not copied.
            chunks.push(chunk.clone());
        }
    }

    /// The whole body, if it was kept and read.
    fn take(&self) -> Option<Vec<u8>> {
        let chunks = self
            .kept
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()?;
        if chunks.is_empty() {
            return None;
        }
        Some(chunks.concat())
    }
}

/// Most bytes of an unread request body read and discarded after the reply (a little
/// more than the largest body the API accepts).
const MAX_DRAIN: usize = 12 * 1024 * 1024;
/// Longest time spent reading an unread body after the reply (a client sends its body
/// at once; one that stalls is not waited for).
const DRAIN_TIME: Duration = Duration::from_secs(2);

type Source = Arc<Mutex<Option<BodyDataStream>>>;

/// The request with its body passed through `tap`; the source stays reachable through
/// the returned handle until the handler has read it to the end.
fn tapped(request: Request, tap: &Arc<Tap>) -> (Request, Source) {
    let (parts, body) = request.into_parts();
    let source: Source = Arc::new(Mutex::new(Some(body.into_data_stream())));
    let reader = Arc::clone(&source);
    let tap = Arc::clone(tap);
    let stream = futures_util::stream::poll_fn(move |cx| {
        let mut guard = reader.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(inner) = guard.as_mut() else {
            return Poll::Ready(None);
        };
        let item = ready!(inner.poll_next_unpin(cx));
        match &item {
            Some(Ok(chunk)) => tap.observe(chunk),
            // Finished (or broken): nothing is left to drain.
            Some(Err(_)) | None => *guard = None,
        }
        Poll::Ready(item)
    });
    (
        Request::from_parts(parts, Body::from_stream(stream)),
        source,
    )
}

/// Reads and discards what is left of a request body, within bounds.
async fn drain(mut rest: BodyDataStream) {
    let _ = tokio::time::timeout(DRAIN_TIME, async {
        let mut left = MAX_DRAIN;
        while let Some(Ok(chunk)) = rest.next().await {
            left = left.saturating_sub(chunk.len());
            if left == 0 {
                break;
            }
        }
    })
    .await;
}

/// What the console shows of a reply.
#[derive(Debug, Default, PartialEq)]
struct Summary {
    error_code: Option<u64>,
    error_msg: Option<String>,
    log_id: Option<String>,
}

fn summarize(body: &[u8]) -> Summary {
    if body.len() > SMALL_REPLY {
        return Summary {
            log_id: leading_log_id(body),
            ..Summary::default()
        };
    }
    let Ok(serde_json::Value::Object(reply)) = serde_json::from_slice(body) else {
        return Summary::default();
    };
    let text = |name: &str| reply.get(name).and_then(serde_json::Value::as_str);
    let error_msg = match (text("error_msg"), text("error"), text("error_description")) {
        (Some(msg), _, _) => Some(msg.to_owned()),
        (None, Some(error), Some(description)) => Some(format!("{error}: {description}")),
        (None, Some(error), None) => Some(error.to_owned()),
        (None, None, _) => None,
    };
    Summary {
        error_code: reply.get("error_code").and_then(serde_json::Value::as_u64),
        error_msg: error_msg.map(|m| mask::shorten(&m, 300)),
        log_id: match reply.get("log_id") {
            Some(serde_json::Value::Number(n)) => Some(n.to_string()),
            Some(serde_json::Value::String(s)) => Some(mask::shorten(s, 40)),
            _ => None,
        },
    }
}

/// `log_id` from the start of a large reply such as `{"log_id":123,"image":"..."}`.
fn leading_log_id(body: &[u8]) -> Option<String> {
    let head = &body[..body.len().min(512)];
    let key = b"\"log_id\"";
    let at = head.windows(key.len()).position(|w| w == key)? + key.len();
    let digits: String = head[at..]
        .iter()
        .skip_while(|b| matches!(b, b':' | b' ' | b'"'))
        .take_while(|b| b.is_ascii_digit())
        .map(|&b| char::from(b))
        .collect();
    (!digits.is_empty()).then_some(digits)
}

fn operation_name(path: &str) -> String {
    if path == TOKEN_PATH {
        "token".to_owned()
    } else {
        Operation::from_path(path).map_or_else(|| "other".to_owned(), |op| op.name().to_owned())
    }
}

fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// The middleware: runs the request, then records it.
pub(crate) async fn record(
    State(console): State<Arc<Console>>,
    request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path().to_owned();
    if !is_api(&path) {
        return next.run(request).await;
    }
    let started = Instant::now();
    let time_ms = unix_ms();
    let method = request.method().clone();
    let raw_query = request.uri().query().unwrap_or("").to_owned();
    let announced = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(0);
    let auth = mask::authorization(
        request
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok()),
        &raw_query,
    );
    // Token requests carry the secret key in their body: only operation bodies are kept.
    let slot: Option<Slot> = if method == Method::POST && Operation::from_path(&path).is_some() {
        console.budget.try_start()
    } else {
        None
    };
    let tap = Arc::new(Tap::new(slot.is_some()));
    let (request, source) = tapped(request, &tap);

    let response = next.run(request).await;
    let latency = started.elapsed();
    let (parts, body) = response.into_parts();
    // The handler may have answered without reading the body (a fault, a refused token).
    // Reading the rest in the background lets the connection finish cleanly: closing it
    // with unread data resets it, and a client still sending (a browser) would see the
    // reset instead of the reply. A body refused for its size is not read.
    let unread = source.lock().unwrap_or_else(PoisonError::into_inner).take();
    if let Some(rest) = unread
        && parts.status != StatusCode::PAYLOAD_TOO_LARGE
    {
        tokio::spawn(drain(rest));
    }
    let Ok(reply) = axum::body::to_bytes(body, usize::MAX).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let summary = summarize(&reply);
    let captured = slot.as_ref().and_then(|_| tap.take());
    let entry = Entry {
        seq: 0,
        version: 0,
        time_ms,
        method: method.to_string(),
        path: mask::shorten(&path, 200),
        operation: operation_name(&path),
        query: mask::query(&raw_query),
        auth,
        params: Vec::new(),
        status: parts.status.as_u16(),
        error_code: summary.error_code,
        error_msg: summary.error_msg,
        log_id: summary.log_id,
        latency_ms: latency.as_secs_f64() * 1000.0,
        // What the client sent, even when the reply came before the body was read.
        request_bytes: tap.seen.load(Ordering::Relaxed).max(announced),
        response_bytes: reply.len() as u64,
        input: None,
        output: None,
        thumbnails: if captured.is_some() {
            Thumbnails::Pending
        } else {
            Thumbnails::Skipped
        },
    };
    let seq = console.ring.push(entry);
    if let (Some(mut slot), Some(body)) = (slot, captured) {
        let console = Arc::clone(&console);
        let reply = reply.clone();
        tokio::task::spawn_blocking(move || {
            slot.begin();
            let details = thumbs::details(&body, &reply);
            console.ring.attach(seq, details);
            drop(slot);
        });
    }
    Response::from_parts(parts, Body::from(reply))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_are_summarised() {
        let error = summarize(
            br#"{"error_code":6,"error_msg":"No permission","log_id":"4611686018427387905"}"#,
        );
        assert_eq!(error.error_code, Some(6));
        assert_eq!(error.log_id.as_deref(), Some("4611686018427387905"));
        let oauth =
            summarize(br#"{"error":"invalid_client","error_description":"unknown client id"}"#);
        assert_eq!(
            oauth.error_msg.as_deref(),
            Some("invalid_client: unknown client id")
        );
        let mut big = br#"{"log_id":4611686018427387999,"image":""#.to_vec();
        big.extend(std::iter::repeat_n(b'A', SMALL_REPLY));
        big.extend_from_slice(b"\"}");
        let success = summarize(&big);
        assert_eq!(success.error_code, None);
        assert_eq!(success.log_id.as_deref(), Some("4611686018427387999"));
    }

    #[test]
    fn only_the_api_is_recorded() {
        assert!(is_api("/rest/2.0/image-process/v1/dehaze"));
        assert!(is_api("/oauth/2.0/token"));
        assert!(!is_api("/"));
        assert!(!is_api("/__emulator/requests"));
        assert_eq!(operation_name("/oauth/2.0/token"), "token");
        assert_eq!(
            operation_name("/rest/2.0/image-process/v1/dehaze"),
            "dehaze"
        );
        assert_eq!(operation_name("/nope"), "other");
    }
}
