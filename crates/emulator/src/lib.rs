//! Baidu's image-process API served locally, backed by the local engine: for tests, CI
//! and offline use.
//!
//! ```no_run
//! use baidu_imageprocess_emulator::Emulator;
//! use std::time::Duration;
//!
//! let emulator = Emulator::builder()
//!     .credentials("my-ak", "my-sk")
//!     .token_ttl(Duration::from_secs(60))
//!     .start()?;
//! println!("point your client at {}", emulator.base_url());
//! // ... run tests ...
//! assert_eq!(emulator.stats().token_requests(), 0);
//! emulator.shutdown();
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! The same server runs without a socket through [`InProcessTransport`], and as the
//! `baidu-imageprocess-emulator` binary (see [`cli::ServeArgs`]).
#![deny(missing_docs)]
#![warn(clippy::unwrap_used, clippy::expect_used)]

mod body;
pub mod cli;
mod config;
mod fetch;
mod handle;
mod inprocess;
mod ops;
mod server;
mod state;
mod stats;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

pub use config::EmulatorConfig;
pub use handle::{Emulator, EmulatorBuilder};
pub use inprocess::InProcessTransport;
pub use server::MAX_BODY;
pub use stats::Stats;

/// How long in-flight requests may run after a shutdown signal.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);

/// Serves until `stop` completes, then drains in-flight requests (bounded).
async fn serve(
    listener: tokio::net::TcpListener,
    state: Arc<state::AppState>,
    stop: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let (stopped_tx, stopped_rx) = tokio::sync::oneshot::channel::<()>();
    let app = server::router(state);
    let server = axum::serve(listener, app).with_graceful_shutdown(async move {
        stop.await;
        let _ = stopped_tx.send(());
    });
    let drained = async {
        let _ = stopped_rx.await;
        tokio::time::sleep(DRAIN_TIMEOUT).await;
    };
    tokio::select! {
        result = server => result,
        () = drained => {
            tracing::warn!("in-flight requests did not finish in time; exiting");
            Ok(())
        }
    }
}
