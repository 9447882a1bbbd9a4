//! The settings of the built-in HTTP transports (ureq and reqwest alike), so both are
//! configured by one struct.

use std::time::Duration;

/// Settings of a built-in transport's HTTP client: the same for the blocking (ureq) and
/// the async (reqwest) transport.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct TransportConfig {
    /// Most time to open a connection (TCP, and TLS where the library counts it).
    pub connect_timeout: Option<Duration>,
    /// An HTTP(S) or SOCKS proxy URL.
    pub proxy: Option<String>,
}

impl TransportConfig {
    /// Sets the connect timeout.
    #[must_use]
    pub fn with_connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = Some(timeout);
        self
    }

    /// Sets the proxy.
    #[must_use]
    pub fn with_proxy(mut self, proxy: impl Into<String>) -> Self {
        self.proxy = Some(proxy.into());
        self
    }
}
