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
    /// Requests per second allowed on the operations (token bucket); over it: error 18.
    pub qps: Option<u32>,
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
    /// Engine jobs allowed to wait for a worker; beyond that: error 18.
    pub queue: usize,
    /// Fetch `url` inputs from any host (default: loopback hosts only).
    pub fetch_any_url: bool,
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
            queue: 64,
            fetch_any_url: false,
        }
    }
}
