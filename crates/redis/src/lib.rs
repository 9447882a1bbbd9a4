//! One account, many processes: a QPS budget and an access token shared through Redis by
//! every process that calls Baidu's image-process API under one API key.
//!
//! Baidu limits QPS per application (API key) and operation, whichever process or machine
//! calls. A client's own pacing only sees its own process; [`RedisBudget`] makes the
//! whole fleet pace as one:
//!
//! - **GCRA by reservation.** Before each request the driver runs one atomic Lua script:
//!   it advances the bucket's theoretical arrival time and answers how long this request
//!   waits for its turn. The caller sleeps that long; there is no polling. Async
//!   requests of one process that reserve at the same time share one script call, which
//!   reserves consecutive turns for all of them (the rate is the same; the round trips
//!   are fewer). Keys are per
//!   application (a SHA-256 of the API key, never the key) and operation; the rate is
//!   the client's `qps`, the burst the budget's [`RedisBudgetBuilder::burst`].
//! - **Fleet-wide backoff.** A QPS-limit error (18) seen by any process halves the shared
//!   rate (stored with an expiry); successes raise it back, 0.05 QPS each, to the ceiling.
//! - **One token.** [`RedisBudget::share_token`] wraps the transport: one process fetches
//!   the access token under a lock with an expiry, the others read it; it is refreshed
//!   before it expires, and once for the whole fleet after an error 110/111.
//! - **Redis lost.** Each process paces locally at its share (the shared rate over the
//!   processes last seen, from heartbeats with an expiry), warns once, and rejoins when
//!   Redis answers. No call fails because of Redis.
//!
//! With the `baidu-imageprocess` facade (feature `redis`):
//!
//! ```no_run
//! # #[cfg(any())] {
//! let budget = baidu_imageprocess_redis::RedisBudget::connect("redis://127.0.0.1:6379/0")?;
//! let client = baidu_imageprocess::Client::builder()
//!     .api_key("API_KEY", "SECRET_KEY")
//!     .qps(2.0) // the whole fleet's rate, per operation
//!     .budget(budget)
//!     .build()?;
//! # }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The protocol crate stays free of I/O: with a budget attached, a call's state machine
//! answers [`Step::Reserve`](baidu_imageprocess_protocol::Step::Reserve) and the driver
//! asks the budget (blocking or async) through the
//! [`Budget`](baidu_imageprocess_protocol::Budget) trait this crate implements.
#![deny(missing_docs)]
#![warn(clippy::unwrap_used, clippy::expect_used)]

mod batch;
mod budget;
mod error;
mod fallback;
mod scripts;
#[cfg(feature = "test-util")]
pub mod testing;
mod token;
mod url;

pub use budget::{RedisBudget, RedisBudgetBuilder};
pub use error::BudgetError;
pub use token::SharedToken;
pub use url::{BudgetUrl, mask};
