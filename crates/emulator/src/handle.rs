//! Running the emulator on a socket from any code: its own runtime on a background thread.

use std::net::SocketAddr;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use baidu_imageprocess_protocol::{Operation, SecretKey};
use tokio::sync::oneshot;

use crate::config::EmulatorConfig;
use crate::state::AppState;
use crate::stats::Stats;

/// Builds an [`Emulator`].
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct EmulatorBuilder {
    config: EmulatorConfig,
    listen: Option<SocketAddr>,
}

impl EmulatorBuilder {
    /// Accept only this API key and secret key (otherwise any credentials work).
    pub fn credentials(
        mut self,
        api_key: impl Into<String>,
        secret_key: impl Into<SecretKey>,
    ) -> Self {
        self.config.api_key = Some(api_key.into());
        self.config.secret_key = Some(secret_key.into());
        self
    }

    /// Lifetime of issued tokens.
    pub fn token_ttl(mut self, ttl: Duration) -> Self {
        self.config.token_ttl = ttl;
        self
    }

    /// Operation requests per second before error 18, as `Client::builder().qps` takes
    /// them (fractions allowed, e.g. 0.5; zero, a negative number or NaN: no limit).
    pub fn qps(mut self, qps: f64) -> Self {
        self.config.qps = Some(qps);
        self
    }

    /// Share of operation requests failed with 1, 2 or 282000 (a value outside 0..=1, or
    /// NaN, means none).
    pub fn fail_rate(mut self, rate: f64) -> Self {
        self.config.fail_rate = rate;
        self
    }

    /// Seed for injected failures.
    pub fn seed(mut self, seed: u64) -> Self {
        self.config.seed = Some(seed);
        self
    }

    /// Delay before answering each operation request.
    pub fn latency(mut self, latency: Duration) -> Self {
        self.config.latency = latency;
        self
    }

    /// Answer `op` with error 6 (no permission).
    pub fn deny(mut self, op: Operation) -> Self {
        self.config.deny.push(op);
        self
    }

    /// Return input images unchanged.
    pub fn echo(mut self, echo: bool) -> Self {
        self.config.echo = echo;
        self
    }

    /// Fetch `url` inputs from any host, not only loopback ones.
    pub fn fetch_any_url(mut self, any: bool) -> Self {
        self.config.fetch_any_url = any;
        self
    }

    /// Listen on this address (default `127.0.0.1:0`).
    pub fn listen(mut self, addr: SocketAddr) -> Self {
        self.listen = Some(addr);
        self
    }

    /// Replaces the whole configuration.
    pub fn config(mut self, config: EmulatorConfig) -> Self {
        self.config = config;
        self
    }

    /// Binds the socket and starts serving on a background thread.
    pub fn start(self) -> std::io::Result<Emulator> {
        let addr = self
            .listen
            .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 0)));
        let std_listener = std::net::TcpListener::bind(addr)?;
        std_listener.set_nonblocking(true)?;
        let local = std_listener.local_addr()?;
        let state = AppState::new(self.config);
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("emulator")
            .enable_all()
            .build()?;
        let served = Arc::clone(&state);
        let thread = std::thread::Builder::new()
            .name("emulator".into())
            .spawn(move || {
                runtime.block_on(async move {
                    let Ok(listener) = tokio::net::TcpListener::from_std(std_listener) else {
                        return;
                    };
                    let stop = async {
                        let _ = stop_rx.await;
                    };
                    if let Err(e) = crate::serve(listener, served, stop).await {
                        tracing::error!(error = %e, "emulator stopped");
                    }
                });
            })?;
        Ok(Emulator {
            addr: local,
            state,
            stop: Some(stop_tx),
            thread: Some(thread),
        })
    }
}

/// A running emulator. Stops when dropped.
#[derive(Debug)]
pub struct Emulator {
    addr: SocketAddr,
    state: Arc<AppState>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Emulator {
    /// Starts configuring an emulator.
    pub fn builder() -> EmulatorBuilder {
        EmulatorBuilder::default()
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The socket address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Counts so far.
    pub fn stats(&self) -> Stats {
        self.state.counters.snapshot()
    }

    /// Stops accepting, finishes in-flight requests, and joins the server thread.
    pub fn shutdown(mut self) {
        self.stop_and_join();
    }

    fn stop_and_join(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.stop_and_join();
    }
}
