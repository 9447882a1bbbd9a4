//! Baidu's image-process API from Rust, all fifteen operations (2x "lossless" upscale,
//! dehaze, contrast, colourisation, style transfer, inpainting, sky segmentation, denoise,
//! …), with blocking and async clients that share one sans-IO core (tokens, retries, rate
//! limiting, the operation table of limits and typed parameters) and a local emulator for
//! tests. Every operation has a method taking image bytes or an [`ImageUrl`] and its typed
//! parameters, named like the operation on the wire (`style_trans(image, Style::Cartoon)`,
//! `inpainting(image, &rects)`, `colourize`, `color_enhance`); `call` takes any [`Request`].
//!
//! Async (feature `async`, on by default):
//!
//! ```no_run
//! # #[cfg(feature = "async")] mod example {
//! use baidu_imageprocess::Client;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let client = Client::builder().api_key("API_KEY", "SECRET_KEY").build()?;
//! let photo = std::fs::read("hazy.jpg")?;
//! let result = client.dehaze(&photo).await?;
//! std::fs::write("dehazed.jpg", &result.image)?;
//! println!("log_id {}", result.log_id);
//! # Ok(()) } }
//! ```
//!
//! Blocking (feature `blocking`):
//!
//! ```no_run
//! # #[cfg(feature = "blocking")] {
//! use baidu_imageprocess::BlockingClient;
//!
//! let client = BlockingClient::from_env()?.build()?; // BAIDU_API_KEY, BAIDU_SECRET_KEY
//! let result = client.image_quality_enhance(std::fs::read("small.png")?)?;
//! std::fs::write("small.2x.png", &result.image)?;
//! # }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Features
//!
//! - `async` (default): `Client`, over reqwest; needs a tokio runtime.
//! - `blocking`: `BlockingClient`, over ureq; pulls in neither tokio nor reqwest
//!   (`default-features = false, features = ["blocking", "rustls"]`). Without this
//!   feature `BlockingClient` does not exist, so using it is a compile error, not a
//!   failure at run time.
//! - `redis`: `RedisBudget`, a QPS budget and access token shared through Redis by
//!   every process using one API key (the builder's `.budget(..)`).
//! - Neither: the protocol types only ([`protocol`]); drive a
//!   [`protocol::Session`]'s calls with your own HTTP client
//!   ([`protocol::drive`] / [`protocol::drive_async`]).
//! - `rustls` (default) or `native-tls`: the TLS stack of the built-in transports.
//!   Certificates are always verified.
//!
//! Clones of a client share one token cache (64 simultaneous first calls make one token
//! request), one rate limiter and one connection pool. Each call runs in a
//! `baidu_imageprocess.call` tracing span (operation, bytes, log_id, elapsed) whose
//! per-attempt events carry the attempt number; no secret, token or query string is ever
//! logged.
//!
//! # Errors
//!
//! Every call returns [`Error`], one enum organised by what you can do: the image broke
//! a limit and nothing was sent ([`Error::InvalidInput`]), the service answered an error
//! code ([`Error::Api`], see [`Error::is_retryable`] and [`ErrorCode::advice`]), the
//! credentials were refused ([`Error::Auth`]), time ran out ([`Error::Timeout`]), the
//! connection failed ([`Error::Transport`]), or the reply was malformed
//! ([`Error::Decode`]). Retryable failures (1, 2, 4, 18, 216630, 282000, timeouts,
//! dropped connections, 5xx pages) are retried with exponential backoff and full jitter;
//! 110/111 fetch a new token and retry once; on 18 the client slows down for all clones.
//!
//! # Bring your own HTTP client
//!
//! Implement [`protocol::Transport`] (blocking; closures implement it) or
//! [`protocol::AsyncTransport`] and pass it to the builder's `.transport(..)`. The
//! contract: send the request as given, return every HTTP status as `Ok`, never follow
//! redirects (the URL carries `access_token`), apply [`protocol::AttemptTimeout`] from
//! the request's extensions, and keep query strings out of error text
//! ([`protocol::scrub`]). Everything else (tokens, retries, pacing) stays in this crate.
//!
//! # Testing without Baidu
//!
//! The `baidu-imageprocess-emulator` crate serves the same API on loopback, backed by a
//! local image engine; point `.endpoint(..)` at its `base_url()`.
#![deny(missing_docs)]
#![warn(clippy::unwrap_used, clippy::expect_used)]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(any(feature = "async", feature = "blocking"))]
mod budget;
#[cfg(any(feature = "async", feature = "blocking"))]
mod builder;
#[cfg(any(feature = "async", feature = "blocking"))]
mod client;
#[cfg(feature = "async")]
mod client_async;
#[cfg(feature = "blocking")]
mod client_blocking;
#[cfg(any(feature = "async", feature = "blocking"))]
mod methods;
#[cfg(any(feature = "async", feature = "blocking"))]
mod observe;

pub use baidu_imageprocess_protocol as protocol;
pub use baidu_imageprocess_protocol::{
    AccessToken, AnimeMask, AsInput, AuthError, Credentials, CustomStyle, Error, ErrorClass,
    ErrorCode, ImageFormat, ImageInfo, ImageReply, ImageUrl, Input, LimitViolation, LogId,
    Operation, Params, PdfPage, RateLimit, Rect, Request, RetryPolicy, SecretKey, Strength, Style,
    StyleId, Timeouts, TokenInfo, validate,
};
/// The shared budget (feature `redis`): attach it with the builder's `.budget(..)`.
#[cfg(feature = "redis")]
pub use baidu_imageprocess_redis::{self as redis, RedisBudget};
#[cfg(feature = "async")]
pub use builder::{Async, ClientBuilder};
#[cfg(feature = "blocking")]
pub use builder::{Blocking, BlockingClientBuilder};
#[cfg(any(feature = "async", feature = "blocking"))]
pub use builder::{BuildError, Builder, ENV_API_KEY, ENV_ENDPOINT, ENV_SECRET_KEY, Flavor};
#[cfg(any(feature = "async", feature = "blocking"))]
pub use client::ClientOf;
#[cfg(feature = "async")]
pub use client_async::Client;
#[cfg(feature = "blocking")]
pub use client_blocking::BlockingClient;

/// The workspace README's Rust examples, compiled as doctests so they stay correct.
#[cfg(all(doctest, feature = "async"))]
#[doc = include_str!("../../../README.md")]
pub struct ReadmeDoctests;

/// This crate's README (its crates.io page), compiled as doctests so it stays correct.
#[cfg(all(doctest, feature = "async", feature = "blocking"))]
#[doc = include_str!("../README.md")]
pub struct CrateReadmeDoctests;
