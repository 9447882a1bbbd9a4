//! The emulator's plain-data configuration.

use std::time::Duration;

use baidu_imageprocess_protocol::{Operation, SecretKey};

/// How the emulator behaves. Filled by [`crate::EmulatorBuilder`] or the command line.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct EmulatorConfig {
    /// The only API key accepted (`None`: any credentials work).
    pub api_key: Option<String>,
    /// The secret key that goes with `api_key`.
    pub secret_key: Option<SecretKey>,
    /// Lifetime of issued tokens.
    pub token_ttl: Duration,
    /// Requests per second allowed on the operations (token bucket; fractions allowed,
    /// e.g. 0.5 for one request every two seconds); over it: error 18. `None`, zero,
    /// a negative number or NaN: no limit.
    pub qps: Option<f64>,
    /// Share of operation requests failed on purpose with 1, 2 or 282000.
    pub fail_rate: f64,
    /// Seed for injected failures and tokens (`None`: random).
    pub seed: Option<u64>,
    /// Delay added before answering each operation request.
    pub latency: Duration,
    /// Operations answered with error 6 (no permission).
    pub deny: Vec<Operation>,
    /// Return each input image unchanged instead of running the engine.
    pub echo: bool,
    /// Engine jobs run at once (default: the number of CPU cores).
    pub workers: usize,
    /// Operation requests admitted beyond the running ones (waiting for an upload slot or
    /// a worker). A request arriving when `workers + queue` are admitted is answered 18 at
    /// once, before its body is read, so memory stays bounded however many clients
    /// upload at once.
    pub queue: usize,
    /// Request bodies read at once (each up to [`crate::MAX_BODY`]); admitted requests
    /// beyond it wait, unread.
    pub uploads: usize,
    /// Most time to receive a request's header, and most time an idle keep-alive
    /// connection may wait for its next request before it is closed.
    pub header_timeout: Duration,
    /// Most time to receive a request's body once its header arrived.
    pub body_timeout: Duration,
    /// Serve the console at `GET /` and its endpoints (off: `--no-console`).
    pub console: bool,
    /// Cap in bytes of the console's ring of recent requests.
    pub console_ring_bytes: usize,
    /// Fetch `url` inputs from any host (default: loopback hosts only).
    pub fetch_any_url: bool,
    /// Share `qps` with every emulator given the same Redis (`--budget`): one bucket for
    /// all instances behind a load balancer. While Redis is lost, each instance falls back
    /// to its own bucket.
    pub budget: Option<baidu_imageprocess_redis::RedisBudget>,
    /// Sign issued tokens with this secret (`--token-secret`), so that every instance
    /// given the same secret accepts them (self-verifying: nothing shared but the secret).
    pub token_secret: Option<SecretKey>,
}

impl EmulatorConfig {
    /// Operation requests admitted at once (running, uploading or queued).
    pub fn admitted(&self) -> usize {
        self.workers.max(1).saturating_add(self.queue)
    }
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
        Self {
            api_key: None,
            secret_key: None,
            token_ttl: Duration::from_secs(30 * 24 * 3600),
            qps: None,
            fail_rate: 0.0,
            seed: None,
            latency: Duration::ZERO,
            deny: Vec::new(),
            echo: false,
            workers: cores,
            queue: 32,
            uploads: 8,
            header_timeout: Duration::from_secs(20),
            body_timeout: Duration::from_secs(60),
            console: true,
            console_ring_bytes: crate::console::DEFAULT_RING_BYTES,
            fetch_any_url: false,
            budget: None,
            token_secret: None,
        }
    }
}
