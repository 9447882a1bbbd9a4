//! Test helpers shared by the workspace's crates (not published): images built in memory
//! ([`images`]) and loopback servers that misbehave on purpose ([`servers`]).
//!
//! Test code: helpers panic on failure, which fails the calling test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::missing_panics_doc)]

pub mod images;
pub mod servers;

pub use images::{
    bmp_header, fake_png, gradient_png, jpeg_header, photo, png_header, solid, write_photo,
};
pub use servers::{plain_http_server, reply_with, serve_once, silent_server};
