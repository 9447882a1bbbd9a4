//! Test helpers shared by the workspace's crates (not published): images built in memory
//! ([`images`]), loopback servers that misbehave on purpose ([`servers`]) and server
//! binaries started as child processes ([`processes`]).
//!
//! Test code: helpers panic on failure, which fails the calling test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::missing_panics_doc)]

pub mod images;
pub mod processes;
pub mod servers;

pub use images::{
    bmp_header, fake_png, gradient_png, jpeg_header, photo, png_header, solid, write_photo,
};
pub use processes::spawn_listening;
pub use servers::{plain_http_server, reply_with, serve_once, silent_server};
