//! The HTTP API: the token endpoint, the fifteen operations, stats.
//!
//! One module per job:
//! - this file routes a request to its endpoint;
//! - [`drain`] reads and discards a body left unread, so the client gets its answer;
//! - [`token`] is the OAuth token endpoint;
//! - [`auth`] checks an operation's access token or bce-auth-v1 signature;
//! - [`pipeline`] takes an operation's request from its header to its reply;
//! - [`decode`] reads the body into a checked request;
//! - [`reply`] writes the replies and runs the engine on the worker pool.

mod auth;
mod decode;
mod drain;
mod pipeline;
mod reply;
mod token;

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use baidu_imageprocess_protocol::{self as protocol, ErrorCode, parse_pairs};

use crate::ops::{self, Endpoint, Refusal};
use crate::state::AppState;

/// Largest request body any operation accepts: its base64 limits (10 MB for the image
/// effects) plus room for the other fields, with every character percent-encoded (a
/// white BMP's base64 is all `/`, sent as `%2F`). Each operation's own cap is smaller;
/// bodies over it are refused from `Content-Length`, or as soon as the stream exceeds
/// it, and form bodies are decoded while they stream, so memory follows the decoded size.
pub const MAX_BODY: usize = ops::LARGEST_BODY;

pub(crate) fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/__emulator/stats", get(stats))
        .fallback(dispatch)
        .with_state(state)
}

async fn stats(State(state): State<Arc<AppState>>) -> Response {
    axum::Json(state.counters.snapshot()).into_response()
}

async fn dispatch(State(state): State<Arc<AppState>>, request: Request) -> Response {
    let path = request.uri().path().to_owned();
    if path == protocol::TOKEN_PATH {
        state.counters.request("token");
        return token::token(&state, request).await;
    }
    let Some(endpoint) = Endpoint::from_path(&path) else {
        state.counters.request("other");
        let refusal = Refusal::plain(ErrorCode::UNSUPPORTED_METHOD);
        return reply::refuse_status(&state, &refusal, StatusCode::NOT_FOUND);
    };
    state.counters.request(endpoint.wire());
    let (parts, body) = request.into_parts();
    let unread = drain::UnreadBody::new(body, state.config.body_timeout);
    pipeline::operation(
        &state,
        &endpoint,
        Request::from_parts(parts, Body::empty()),
        unread,
    )
    .await
}

/// The request's `Content-Length`, when it has a readable one.
fn content_length(headers: &HeaderMap) -> Option<usize> {
    headers
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .parse()
        .ok()
}

/// The request's query, percent-decoded.
fn query_pairs(request: &Request) -> Vec<(String, String)> {
    parse_pairs(request.uri().query().unwrap_or("").as_bytes())
        .map(|(k, v)| (k, String::from_utf8_lossy(&v).into_owned()))
        .collect()
}
