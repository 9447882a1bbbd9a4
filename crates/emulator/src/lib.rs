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
mod console;
mod fetch;
mod handle;
mod inprocess;
mod ops;
mod server;
pub mod service;
mod signed_token;
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

/// Serves until `stop` completes, then drains in-flight requests (bounded). Connections
/// idle between requests close at once on shutdown; a header (or an idle keep-alive
/// wait) longer than the configured header timeout closes the connection.
async fn serve(
    listener: tokio::net::TcpListener,
    state: Arc<state::AppState>,
    stop: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use hyper_util::rt::{TokioIo, TokioTimer};
    use hyper_util::service::TowerToHyperService;

    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(state.config.header_timeout);
    let app = console::attach(server::router(Arc::clone(&state)), &state);
    let connections = hyper_util::server::graceful::GracefulShutdown::new();
    let mut stop = std::pin::pin!(stop);
    loop {
        let stream = tokio::select! {
            () = &mut stop => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // Out of file descriptors and the like: wait instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let service = TowerToHyperService::new(app.clone());
        let connection = http.serve_connection(TokioIo::new(stream), service);
        let connection = connections.watch(connection);
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, "connection ended");
            }
        });
    }
    drop(listener);
    tokio::select! {
        () = connections.shutdown() => {}
        () = tokio::time::sleep(DRAIN_TIMEOUT) => {
            tracing::warn!("in-flight requests did not finish in time; exiting");
        }
    }
    Ok(())
}
