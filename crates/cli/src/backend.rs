//! Choosing where images are processed: Baidu's service, another endpoint, or the
//! embedded engine (the emulator's router in process, so limits and errors are identical).

use std::time::Duration;

use baidu_imageprocess::{Client, Credentials};
use baidu_imageprocess_emulator::{EmulatorConfig, InProcessTransport};

use crate::args::Connection;

/// Placeholder credentials for an endpoint given without credentials (the emulator
/// accepts any).
const PLACEHOLDER_KEY: &str = "bdip";

/// A configured client and a description of where it sends images.
pub struct Backend {
    pub client: Client,
    pub local: bool,
}

/// A configuration problem: exit code 2.
#[derive(Debug)]
pub struct UsageError(pub String);

/// The embedded engine's configuration: it fetches `url` inputs from any host, since the
/// user asked for them (with the same limits as the emulator).
fn local_config() -> EmulatorConfig {
    let mut config = EmulatorConfig::default();
    config.fetch_any_url = true;
    config
}

pub fn choose(
    connection: &Connection,
    force_local: bool,
    qps: Option<f64>,
) -> Result<Backend, UsageError> {
    let key = connection
        .api_key
        .as_deref()
        .filter(|k| !k.trim().is_empty());
    let secret = connection
        .secret_key
        .as_deref()
        .filter(|k| !k.trim().is_empty());
    let endpoint = connection
        .endpoint
        .as_deref()
        .filter(|e| !e.trim().is_empty());
    let timeout = Duration::from_secs(connection.timeout.max(1));
    let builder = Client::builder().timeout(timeout);
    let builder = match qps {
        Some(q) if q > 0.0 => builder.qps(q),
        Some(_) => return Err(UsageError("--qps must be a positive number".into())),
        None => builder,
    };
    if force_local || (key.is_none() && secret.is_none() && endpoint.is_none()) {
        if !force_local {
            eprintln!(
                "bdip: no credentials (BAIDU_API_KEY/BAIDU_SECRET_KEY) or endpoint set; running on the embedded local engine"
            );
        }
        let client = builder
            .api_key(PLACEHOLDER_KEY, PLACEHOLDER_KEY)
            .endpoint("http://embedded.invalid")
            .rate_limit(None)
            .transport(InProcessTransport::new(local_config()))
            .build()
            .map_err(|e| UsageError(format!("{e}")))?;
        return Ok(Backend {
            client,
            local: true,
        });
    }
    let credentials = match (key, secret) {
        (Some(k), Some(s)) => Credentials::api_key(k, s),
        (None, None) => Credentials::api_key(PLACEHOLDER_KEY, PLACEHOLDER_KEY),
        _ => {
            return Err(UsageError(
                "set both BAIDU_API_KEY and BAIDU_SECRET_KEY (or --api-key and --secret-key), or use --local".into(),
            ));
        }
    };
    let mut builder = builder.credentials(credentials);
    if let Some(url) = endpoint {
        builder = builder.endpoint(url);
    }
    let client = builder.build().map_err(|e| {
        let mut text = e.to_string();
        if let Some(source) = std::error::Error::source(&e) {
            text = format!("{text}: {source}");
        }
        UsageError(text)
    })?;
    Ok(Backend {
        client,
        local: false,
    })
}
