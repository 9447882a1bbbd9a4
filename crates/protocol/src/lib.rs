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
#![deny(missing_docs)]
#![warn(clippy::unwrap_used, clippy::expect_used)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod authorize;
mod budget;
mod call;
mod classify;
mod code;
mod config;
mod credentials;
mod decode_request;
mod drive;
mod endpoint;
mod error;
mod form;
mod limits;
mod log_id;
mod operation;
pub mod optable;
mod params;
mod policy;
mod rate;
mod recycle;
mod reply;
mod request;
mod secret;
mod session;
pub mod sign;
mod step;
mod token;
mod token_cache;
mod token_call;
mod transport;

pub use budget::{Budget, Claim, Slot, application_id};
pub use call::Call;
pub use classify::{Action, Outcome, classify};
pub use code::{ErrorClass, ErrorCode};
pub use config::ClientConfig;
pub use credentials::Credentials;
pub use decode_request::{ParamFields, decode_params, decode_request, rectangle_from_text};
pub use drive::{drive, drive_async, drive_with};
pub use endpoint::{BAIDU_BASE_URL, Endpoint, InvalidEndpoint};
pub use error::{AuthError, DecodeError, DecodeErrorKind, Error};
pub use form::{
    decode_image_field, decode_image_form, encode_image_form, encode_pairs, parse_pairs,
    percent_decode_prefix,
};
pub use limits::{
    ImageFormat, ImageInfo, LimitViolation, Limits, MAX_BASE64_LEN, MAX_REPLY_BYTES, base64_len,
    check_dimensions, sniff, validate, validate_as_service,
};
pub use log_id::LogId;
pub use operation::{Operation, UnknownOperation};
pub use optable::{BodyKind, InputKind, OperationSpec, ReplyKind};
pub use params::{
    AnimeMask, DenoiseStrength, ImageUrl, MAX_URL_LEN, PdfPage, RECT_ALLOWED, Rect, Style, StyleId,
    check_rects,
};
pub use policy::{RateLimit, RetryPolicy, Timeouts};
pub use rate::RateLimiter;
pub use recycle::{MAX_RECYCLED, Recycler};
pub use reply::{ImageReply, decode_base64, decode_image_reply, decode_reply};
pub use request::{AsInput, Body, CustomStyle, Input, Params, Request};
pub use secret::{AccessToken, SecretKey};
pub use session::Session;
pub use sign::BceCredentials;
pub use step::{Machine, Step};
pub use token::{BRAIN_ALL_SCOPE, TOKEN_PATH, TokenReply, decode_token_reply, token_request};
pub use token_cache::TokenCache;
pub use token_call::{TokenCall, TokenInfo};
pub use transport::{
    AsyncTransport, AttemptTimeout, BoxFuture, DynAsyncTransport, HttpRequest, HttpResponse,
    RedactedUri, Transport, TransportError, TransportErrorKind, is_tls_failure, scrub,
};
