//! An operation's request from its header to its reply: method, latency, authentication,
//! permission, rate, injected faults and admission are decided before a byte of the body
//! is read; then the body is decoded and the engine (or `--echo`) answers.

use std::sync::Arc;

use axum::extract::Request;
use axum::http::{Method, StatusCode};
use axum::response::Response;
use baidu_imageprocess_protocol::ErrorCode;

use super::auth::authenticate;
use super::decode::{RequestError, read_request};
use super::drain::UnreadBody;
use super::reply::{api_error, echo, refuse, refuse_status, reply, run_engine};
use super::{content_length, query_pairs};
use crate::ops::{Endpoint, Refusal};
use crate::state::AppState;

pub(super) async fn operation(
    state: &Arc<AppState>,
    endpoint: &Endpoint,
    request: Request,
    mut unread: UnreadBody,
) -> Response {
    if request.method() != Method::POST {
        return api_error(state, ErrorCode::UNSUPPORTED_METHOD);
    }
    let latency = state.faults.latency();
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let query = query_pairs(&request);
    if let Err(code) = authenticate(state, &request, &query) {
        return api_error(state, code);
    }
    if state.faults.denies(endpoint.op) {
        return api_error(state, ErrorCode::NO_PERMISSION);
    }
    if !state.admit().await {
        return api_error(state, ErrorCode::QPS_LIMIT);
    }
    if let Some(code) = state.injected_failure() {
        return api_error(state, code);
    }
    if content_length(request.headers()).is_some_and(|n| n > endpoint.max_body()) {
        unread.abandon();
        return body_too_large(state, endpoint);
    }
    // Admission before a byte of the body is read: when full, 18 at once, so memory is
    // bounded by the admitted requests, not by the connections.
    let Ok(_admitted) = Arc::clone(&state.admission).try_acquire_owned() else {
        return api_error(state, ErrorCode::QPS_LIMIT);
    };
    let size_hint = content_length(request.headers()).unwrap_or(0);
    let (request, image_text) = {
        let Ok(_uploading) = Arc::clone(&state.uploads).acquire_owned().await else {
            return api_error(state, ErrorCode::SERVICE_UNAVAILABLE);
        };
        let Some(body) = unread.take() else {
            return api_error(state, ErrorCode::SERVICE_UNAVAILABLE);
        };
        let read = read_request(state, endpoint, body, size_hint);
        match tokio::time::timeout(state.config.body_timeout, read).await {
            Ok(Ok(decoded)) => decoded,
            Ok(Err(RequestError::TooLarge)) => return body_too_large(state, endpoint),
            Ok(Err(RequestError::Refused(refusal))) => return refuse(state, &refusal),
            Err(_) => {
                let refusal = Refusal::new(
                    ErrorCode::INVALID_PARAMETER,
                    "the request body did not arrive in time",
                );
                return refuse_status(state, &refusal, StatusCode::REQUEST_TIMEOUT);
            }
        }
    };
    let result = if state.config.echo {
        Ok(echo(endpoint, request, image_text))
    } else {
        run_engine(state, request).await
    };
    match result {
        Ok(output) => {
            state.counters.success();
            reply(state.next_log_id(), output)
        }
        Err(refusal) => refuse(state, &refusal),
    }
}

fn body_too_large(state: &AppState, endpoint: &Endpoint) -> Response {
    let refusal = Refusal::new(
        ErrorCode::IMAGE_SIZE_ERROR,
        format!(
            "image size error: the request is over the {} byte limit of {} (base64 at most {} bytes)",
            endpoint.max_body(),
            endpoint.wire(),
            endpoint.spec.limits.max_base64_len
        ),
    );
    refuse_status(state, &refusal, StatusCode::PAYLOAD_TOO_LARGE)
}
