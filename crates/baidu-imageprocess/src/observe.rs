//! The tracing span around each call: operation, bytes, attempts, log_id, elapsed. Never
//! a secret, a query string or an image.

use std::time::Instant;

use baidu_imageprocess_protocol::{Error, ImageReply, Operation};
use tracing::field::Empty;

pub(crate) fn call_span(op: Operation, bytes: usize) -> tracing::Span {
    tracing::debug_span!("baidu_imageprocess.call", op = %op, bytes, log_id = Empty, elapsed_ms = Empty)
}

pub(crate) fn record(span: &tracing::Span, started: Instant, result: &Result<ImageReply, Error>) {
    span.record("elapsed_ms", started.elapsed().as_millis() as u64);
    match result {
        Ok(reply) => {
            span.record("log_id", reply.log_id.0);
            tracing::debug!(parent: span, out_bytes = reply.image.len(), "call succeeded");
        }
        Err(error) => {
            if let Some(log_id) = error.log_id() {
                span.record("log_id", log_id.0);
            }
            tracing::debug!(parent: span, %error, code = error.code().map(baidu_imageprocess_protocol::ErrorCode::get), "call failed");
        }
    }
}
