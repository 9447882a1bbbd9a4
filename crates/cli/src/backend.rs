//! Choosing where images are processed: Baidu's service, another endpoint, or the
//! embedded engine (the emulator's router in process, so limits and errors are identical).

use std::time::Duration;

use baidu_imageprocess::{Client, Credentials};
use baidu_imageprocess_emulator::{EmulatorConfig, InProcessTransport};
use baidu_imageprocess_engine::Engine;

use crate::args::Connection;

/// Placeholder credentials for an endpoint given without credentials (the emulator
/// accepts any).
const PLACEHOLDER_KEY: &str = "bdip";

/// The embedded engine's configuration: it admits every job `bdip` can run at once, and
/// fetches `url` inputs from any host, since the user asked for them (with the same
/// limits as the emulator).
fn embedded_config() -> EmulatorConfig {
    let mut config = EmulatorConfig::default();
    config.queue = crate::args::MAX_JOBS;
    config.fetch_any_url = true;
    config
}

/// A configured client and a description of where it sends images.
pub struct Backend {
    pub client: Client,
    pub local: bool,
    /// The embedded engine, called directly for image inputs (`url` inputs go through the
    /// client, whose in-process emulator fetches them).
    pub engine: Option<Engine>,
}

/// A configuration problem: exit code 2.
#[derive(Debug)]
pub struct UsageError(pub String);

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
            .transport(InProcessTransport::new(embedded_config()))
            .build()
            .map_err(|e| UsageError(format!("{e}")))?;
        return Ok(Backend {
            client,
            local: true,
            engine: Some(Engine::new()),
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
    if let Some(url) = connection
        .budget
        .as_deref()
        .filter(|u| !u.trim().is_empty())
    {
        builder = builder.budget(shared_budget(url)?);
    }
    if let Some(url) = endpoint {
        check_endpoint(url).map_err(UsageError)?;
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
        engine: None,
    })
}

/// The `--budget` (`BDIP_BUDGET`), checked to answer before anything is sent; errors
/// name the URL with its password masked.
fn shared_budget(url: &str) -> Result<baidu_imageprocess::RedisBudget, UsageError> {
    baidu_imageprocess::RedisBudget::builder(url)
        .and_then(|b| b.stderr_warning(true).connect())
        .map_err(|e| UsageError(format!("--budget: {e}")))
}

/// Says what is wrong with an `--endpoint` URL without ever repeating a user name or
/// password written into it.
fn check_endpoint(url: &str) -> Result<(), String> {
    let Some((scheme, rest)) = url.split_once("://") else {
        return Err("--endpoint must be an http:// or https:// URL (no scheme given)".into());
    };
    if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
        let shown: String = scheme
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .take(16)
            .collect();
        return Err(format!(
            "--endpoint scheme `{shown}` is not supported: use http:// or https://"
        ));
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.contains('@') {
        return Err(
            "--endpoint must not contain a user name or password (`user:password@`): the API does not use them, and they would travel with every request; remove them"
                .into(),
        );
    }
    if authority.is_empty() || authority.starts_with(':') {
        return Err("--endpoint has no host name".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::check_endpoint;

    #[test]
    fn endpoint_errors_never_repeat_userinfo() {
        assert!(check_endpoint("http://127.0.0.1:8080").is_ok());
        assert!(check_endpoint("https://aip.baidubce.com/").is_ok());
        for bad in [
            "http://user:PASSWORD@host",
            "http://PASSWORD@host/x",
            "ftp://user:PASSWORD@host",
            "PASSWORD@host",
            "http://",
        ] {
            let err = check_endpoint(bad).unwrap_err();
            assert!(!err.contains("PASSWORD"), "{bad}: {err}");
        }
    }
}
