//! Sans-IO core of Baidu's image-process API: everything about the API, no networking.
//!
//! This crate describes the API's fifteen operations once, as data ([`optable`]), turns
//! typed requests ([`Request`]: an [`Input`] and the operation's [`Params`]) into checked,
//! encoded bodies and back ([`decode_request`], for servers), validates images against each
//! operation's limits (from the header alone), decodes replies and error codes, manages
//! access tokens and bce-auth-v1 signatures, and decides retries ([`classify`]), backoff
//! and rate limiting, as a state machine that any HTTP client can drive. The `baidu-imageprocess` crate wraps it in
//! ready-made blocking and async clients; use this crate alone to bring your own.
//!
//! Build a request and parse a reply without any HTTP client:
//!
//! ```
//! use baidu_imageprocess_protocol::{decode_image_reply, encode_image_form, validate, Operation};
//!
//! # fn png_320x240() -> Vec<u8> {
//! #     let mut v = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
//! #     v.extend_from_slice(&320u32.to_be_bytes());
//! #     v.extend_from_slice(&240u32.to_be_bytes());
//! #     v.extend_from_slice(&[8, 2, 0, 0, 0, 0, 0, 0, 0]);
//! #     v
//! # }
//! let image = png_320x240();
//! let info = validate(Operation::Dehaze, &image)?; // header only: no pixels decoded
//! assert_eq!((info.width, info.height), (320, 240));
//!
//! let body = encode_image_form(&image, &[]); // "image=<base64, URL-encoded>"
//! assert!(body.starts_with(b"image="));
//!
//! // Later, with the HTTP status and body your client received:
//! let reply = decode_image_reply(200, br#"{"log_id": "6876747463538438254", "image": "aGk="}"#)?;
//! assert_eq!(reply.log_id.0, 6_876_747_463_538_438_254);
//! assert_eq!(reply.image, b"hi");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! To run whole calls (tokens, retries, rate limiting) over your own client, implement
//! [`Transport`] (or [`AsyncTransport`]) and hand a [`Session::call`] to [`drive`]:
//!
//! ```no_run
//! use std::time::Instant;
//! use baidu_imageprocess_protocol::*;
//!
//! let session = Session::new(ClientConfig::new(Credentials::api_key("AK", "SK")));
//! let my_client = |request: HttpRequest| -> Result<HttpResponse, TransportError> {
//!     // send `request` with any HTTP library; return every status as Ok
//!     # unimplemented!()
//! };
//! let image = std::fs::read("photo.jpg")?;
//! let call = session.call(Operation::Dehaze, &image, Instant::now())?;
//! let reply = drive(&my_client, call)?;
//! std::fs::write("dehazed.jpg", &reply.image)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Layers
//!
//! The modules form five layers; each imports only its own layer or those below, and no
//! two modules import each other (`tests/layers.rs` checks both):
//!
//! - **L0, vocabulary**: error codes ([`ErrorCode`]), log ids, secrets, the operation names
//!   ([`Operation`]), rectangles, image formats, the refusal ([`LimitViolation`]), the HTTP
//!   exchange and transport contract ([`Transport`]).
//! - **L1, facts**: typed parameters, image limits ([`validate`]), the operation table
//!   ([`optable`]), typed requests ([`Request`]), endpoints.
//! - **L2, meaning**: retry classification ([`classify`]; every `is_retryable` is defined
//!   there), the error type ([`Error`]), the wire codecs (request bodies, replies, the
//!   token endpoint).
//! - **L3, authentication and policy**: [`sign`], [`Credentials`], the [`TokenCache`],
//!   retry and rate policy, [`ClientConfig`].
//! - **L4, call machines**: the [`Step`] protocol, the client state a call holds
//!   ([`Session`]), [`Call`] and [`TokenCall`], then starting and [`drive`]-ing them.
#![deny(missing_docs)]
#![warn(clippy::unwrap_used, clippy::expect_used)]
#![cfg_attr(docsrs, feature(doc_cfg))]

// The crate is layered; a module imports only modules of its own layer or below, and no
// two modules import each other (checked by `tests/layers.rs`).
//
// L0, vocabulary: names and plain data that need nothing else.
mod code;
mod format;
mod log_id;
mod operation;
mod rect;
mod recycle;
mod secret;
mod transport;
mod transport_config;
mod violation;
// L1, facts: the operations' parameters, limits and table, typed requests, endpoints.
mod endpoint;
mod limits;
pub mod optable;
mod params;
mod request;
// L2, meaning: retry classification, the error type, the wire codecs.
mod classify;
mod error;
mod wire;
// L3, authentication and policy.
mod auth;
mod policy;
// L4, the call machines.
mod machine;

pub use auth::credentials::Credentials;
pub use auth::sign;
pub use auth::sign::BceCredentials;
pub use auth::token_cache::TokenCache;
pub use classify::{Action, Outcome, classify};
pub use code::{ErrorClass, ErrorCode};
pub use endpoint::{BAIDU_BASE_URL, Endpoint, InvalidEndpoint};
pub use error::{AuthError, DecodeError, DecodeErrorKind, Error};
pub use format::{ImageFormat, ImageInfo};
pub use limits::{
    Limits, MAX_BASE64_LEN, MAX_REPLY_BYTES, base64_len, check_dimensions, sniff, validate,
};
pub use log_id::LogId;
pub use machine::call::Call;
pub use machine::drive::{drive, drive_async, drive_with};
pub use machine::shared::Session;
pub use machine::step::{Machine, Step};
pub use machine::token_call::{TokenCall, TokenInfo};
pub use operation::{Operation, UnknownOperation};
pub use optable::{BodyKind, InputKind, OperationSpec, Params, ReplyKind};
pub use params::{
    AnimeMask, CustomStyle, ImageUrl, MAX_URL_LEN, PdfPage, RECT_ALLOWED, Strength, Style, StyleId,
    check_rects,
};
pub use policy::budget::{Budget, Claim, Slot, application_id};
pub use policy::config::ClientConfig;
pub use policy::rate::RateLimiter;
pub use policy::{RateLimit, RetryPolicy, Timeouts};
pub use rect::Rect;
pub use recycle::{MAX_RECYCLED, Recycler};
pub use request::{AsInput, Input, Request};
pub use secret::{AccessToken, SecretKey};
pub use transport::{
    AsyncTransport, AttemptTimeout, BoxFuture, Causes, DynAsyncTransport, HttpRequest,
    HttpResponse, RedactedUri, Transport, TransportError, TransportErrorKind, causes, scrub,
};
pub use transport_config::TransportConfig;
pub use violation::LimitViolation;
pub use wire::decode_request::{ParamFields, decode_params, decode_request, rectangle_from_text};
pub use wire::encode::Body;
pub use wire::form::{
    decode_image_field, decode_image_form, encode_image_form, encode_pairs, parse_pairs,
    percent_decode_prefix,
};
pub use wire::reply::{ImageReply, decode_base64, decode_image_reply, decode_reply};
pub use wire::token::{BRAIN_ALL_SCOPE, TOKEN_PATH, TokenReply, decode_token_reply, token_request};
