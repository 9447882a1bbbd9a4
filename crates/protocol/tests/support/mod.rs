//! Helpers shared by the integration tests: tiny images and canned HTTP replies.
#![allow(dead_code, clippy::expect_used)]

use baidu_imageprocess_protocol::{HttpResponse, TransportError, TransportErrorKind};
use std::fmt::Write as _;

use bytes::Bytes;

/// A PNG signature + IHDR claiming `width × height`; no pixel data (enough for validation).
pub fn png_header(width: u32, height: u32) -> Vec<u8> {
    let mut v = b"\x89PNG\r\n\x1a\n".to_vec();
    v.extend_from_slice(&13u32.to_be_bytes());
    v.extend_from_slice(b"IHDR");
    v.extend_from_slice(&width.to_be_bytes());
    v.extend_from_slice(&height.to_be_bytes());
    v.extend_from_slice(&[8, 2, 0, 0, 0, 0, 0, 0, 0]);
    v
}

/// A BMP file header + BITMAPINFOHEADER (height may be negative: top-down rows).
pub fn bmp_header(width: i32, height: i32) -> Vec<u8> {
    let mut v = b"BM".to_vec();
    v.extend_from_slice(&[0; 12]);
    v.extend_from_slice(&40u32.to_le_bytes());
    v.extend_from_slice(&width.to_le_bytes());
    v.extend_from_slice(&height.to_le_bytes());
    v.extend_from_slice(&[1, 0, 24, 0]);
    v.extend_from_slice(&[0; 24]);
    v
}

/// A JPEG with a JFIF APP0 and an SOF2 segment claiming `width × height`.
pub fn jpeg_header(width: u16, height: u16) -> Vec<u8> {
    let mut v = vec![0xFF, 0xD8, 0xFF, 0xE0, 0, 16];
    v.extend_from_slice(b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0");
    v.extend_from_slice(&[0xFF, 0xC2, 0, 17, 8]);
    v.extend_from_slice(&height.to_be_bytes());
    v.extend_from_slice(&width.to_be_bytes());
    v.extend_from_slice(&[3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1]);
    v.extend_from_slice(&[0xFF, 0xD9]);
    v
}

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
