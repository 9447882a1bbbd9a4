//! Helpers shared by the integration tests: tiny images and canned HTTP replies.
#![allow(dead_code, clippy::expect_used)]

use baidu_imageprocess_protocol::{HttpResponse, TransportError, TransportErrorKind};
use std::fmt::Write as _;

use bytes::Bytes;

#[allow(unused_imports)] // each test binary uses its own subset
pub use baidu_imageprocess_test_support::{bmp_header, jpeg_header, png_header};

/// A response with `status`, `body` and extra headers.
pub fn response(status: u16, body: &str, headers: &[(&str, &str)]) -> HttpResponse {
    let mut b = http::Response::builder().status(status);
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    b.body(Bytes::from(body.to_owned()))
        .expect("valid response")
}

/// `{"error_code": code, ...}` with HTTP 200, as Baidu sends errors.
pub fn api_error(code: u32) -> HttpResponse {
    response(
        200,
        &format!(
            r#"{{"error_code":{code},"error_msg":"scripted error {code}","log_id":{code}000}}"#
        ),
        &[],
    )
}

/// A successful operation reply whose image is `b"ok"`.
pub fn ok_image() -> HttpResponse {
    response(200, r#"{"log_id":739539874,"image":"b2s="}"#, &[])
}

/// A token endpoint reply with `token` valid for `expires_in` seconds.
pub fn token_ok(token: &str, expires_in: u64) -> HttpResponse {
    response(
        200,
        &format!(
            r#"{{"access_token":"{token}","expires_in":{expires_in},"scope":"public brain_all_scope","refresh_token":"r"}}"#
        ),
        &[],
    )
}

/// A transport failure of `kind`.
pub fn transport_error(kind: TransportErrorKind) -> TransportError {
    TransportError::new(kind, "scripted failure")
}

/// Line-by-line diff of two multi-line strings (`-` expected, `+` actual), for readable
/// failures.
pub fn diff(expected: &str, actual: &str) -> String {
    let (e, a): (Vec<&str>, Vec<&str>) =
        (expected.split('\n').collect(), actual.split('\n').collect());
    let mut out = String::new();
    for i in 0..e.len().max(a.len()) {
        let (x, y) = (e.get(i).copied(), a.get(i).copied());
        if x == y {
            let _ = writeln!(out, "  {}", x.unwrap_or_default());
        } else {
            let _ = writeln!(
                out,
                "- {}\n+ {}",
                x.unwrap_or("<none>"),
                y.unwrap_or("<none>")
            );
        }
    }
    out
}
