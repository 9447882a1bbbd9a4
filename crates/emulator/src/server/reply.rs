//! Writing the replies (refusals, and successes straight into one buffer) and running
//! the engine on the bounded worker pool.

use std::sync::Arc;

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use baidu_imageprocess_protocol::{self as protocol, ErrorCode};
use base64::Engine as _;
use serde_json::json;

use crate::ops::{Endpoint, Refusal};
use crate::service;
use crate::state::AppState;

pub(super) fn api_error(state: &AppState, code: ErrorCode) -> Response {
    refuse(state, &Refusal::plain(code))
}

pub(super) fn refuse(state: &AppState, refusal: &Refusal) -> Response {
    refuse_status(state, refusal, StatusCode::OK)
}

pub(super) fn refuse_status(state: &AppState, refusal: &Refusal, status: StatusCode) -> Response {
    tracing::debug!(code = refusal.code.get(), message = %refusal.message, "request refused");
    state.counters.error(refusal.code.get());
    let body = json!({
        "error_code": refusal.code.get(),
        "error_msg": refusal.message,
        "log_id": state.next_log_id(),
    });
    (status, axum::Json(body)).into_response()
}

/// A field of the reply: image bytes to encode, or base64 text ready to send.
enum Payload {
    Bytes(Vec<u8>),
    Base64(Vec<u8>),
}

impl Payload {
    fn base64_len(&self) -> usize {
        match self {
            Self::Bytes(bytes) => protocol::base64_len(bytes.len()),
            Self::Base64(text) => text.len(),
        }
    }

    /// Appends the field's base64 text to `out`, encoding straight into it.
    fn write_base64(&self, out: &mut Vec<u8>) {
        match self {
            Self::Bytes(bytes) => {
                let start = out.len();
                out.resize(start + protocol::base64_len(bytes.len()), 0);
                let b64 = &base64::engine::general_purpose::STANDARD;
                let written = out
                    .get_mut(start..)
                    .and_then(|room| b64.encode_slice(bytes, room).ok())
                    .unwrap_or(0);
                out.truncate(start + written);
            }
            Self::Base64(text) => out.extend_from_slice(text),
        }
    }
}

/// What an operation produced: the reply's base64 fields.
pub(super) struct Produced {
    image: Option<Payload>,
    labelmap: Option<Payload>,
    scoremap: Option<Payload>,
}

/// `--echo`: the input back as `image` (for sky segmentation, as both maps too, so the
/// reply keeps its shape). The image's own base64 text, when the request's was canonical,
/// goes back as it came: encoding the image again would give the same bytes.
pub(super) fn echo(
    endpoint: &Endpoint,
    request: protocol::Request<'static>,
    text: Option<Vec<u8>>,
) -> Produced {
    let image = match (text, request.into_parts().0) {
        (Some(text), _) => Payload::Base64(text),
        (None, protocol::Input::Image(bytes)) => Payload::Bytes(bytes.into_owned()),
        (None, protocol::Input::Url(_) | protocol::Input::Pdf { .. }) => Payload::Bytes(Vec::new()),
    };
    let sky = endpoint.spec.reply == protocol::ReplyKind::SkySegmentation;
    let copy = |p: &Payload| match p {
        Payload::Bytes(b) => Payload::Bytes(b.clone()),
        Payload::Base64(t) => Payload::Base64(t.clone()),
    };
    Produced {
        labelmap: sky.then(|| copy(&image)),
        scoremap: sky.then(|| copy(&image)),
        image: Some(image),
    }
}

/// The success reply: `{log_id, image}`, or `{log_id, labelmap, scoremap}` for sky
/// segmentation. Written by hand into one buffer: serde_json would copy the
/// multi-megabyte strings again.
pub(super) fn reply(log_id: u64, output: Produced) -> Response {
    let fields: Vec<(&str, Payload)> = [
        ("image", output.image),
        ("labelmap", output.labelmap),
        ("scoremap", output.scoremap),
    ]
    .into_iter()
    .filter_map(|(name, payload)| Some((name, payload?)))
    .collect();
    let len: usize = fields
        .iter()
        .map(|(k, v)| k.len() + v.base64_len() + 8)
        .sum();
    let mut body = Vec::with_capacity(len + 32);
    body.extend_from_slice(format!("{{\"log_id\":{log_id}").as_bytes());
    for (name, value) in fields {
        body.extend_from_slice(format!(",\"{name}\":\"").as_bytes());
        value.write_base64(&mut body);
        body.push(b'"');
    }
    body.push(b'}');
    (
        [(header::CONTENT_TYPE, "application/json;charset=UTF-8")],
        body,
    )
        .into_response()
}

/// Runs the engine service on the bounded worker pool.
pub(super) async fn run_engine(
    state: &Arc<AppState>,
    request: protocol::Request<'static>,
) -> Result<Produced, Refusal> {
    let engine = state.engine.clone();
    let reply = run_on_pool(state, move || service::run(&engine, &request))
        .await
        .map_err(Refusal::plain)??;
    // Sky segmentation: the image is the mask.
    Ok(match reply.scoremap {
        Some(scoremap) => Produced {
            image: None,
            labelmap: Some(Payload::Bytes(reply.image)),
            scoremap: Some(Payload::Bytes(scoremap)),
        },
        None => Produced {
            image: Some(Payload::Bytes(reply.image)),
            labelmap: None,
            scoremap: None,
        },
    })
}

/// Runs a job on the bounded worker pool (requests reaching it were admitted, so the
/// wait is bounded); a panic answers 282000 and frees the worker.
async fn run_on_pool<T: Send + 'static>(
    state: &Arc<AppState>,
    job: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ErrorCode> {
    let Ok(permit) = Arc::clone(&state.workers).acquire_owned().await else {
        return Err(ErrorCode::SERVICE_UNAVAILABLE);
    };
    tokio::task::spawn_blocking(move || {
        let _permit = permit;
        job()
    })
    .await
    .map_err(|e| {
        tracing::error!(error = %e, "engine panicked");
        ErrorCode::INTERNAL_ERROR
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::EmulatorConfig;

    #[tokio::test]
    async fn an_engine_panic_answers_282000_and_frees_the_worker() {
        let state = AppState::new(EmulatorConfig {
            workers: 1,
            ..EmulatorConfig::default()
        });
        let panicked = run_on_pool(&state, || -> Result<Vec<u8>, String> {
            panic!("engine bug");
        })
        .await;
        assert_eq!(panicked, Err(ErrorCode::INTERNAL_ERROR));
        let refused =
            run_on_pool(&state, || -> Result<Vec<u8>, String> { Err("bad".into()) }).await;
        assert_eq!(refused, Ok(Err("bad".into())));
        // The single worker is free again.
        let ok = run_on_pool(&state, || -> Result<Vec<u8>, String> { Ok(vec![1]) }).await;
        assert_eq!(ok, Ok(Ok(vec![1])));
    }
}
