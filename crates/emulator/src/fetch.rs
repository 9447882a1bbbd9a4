//! Fetching `url` inputs with the image limits: the size cap read from `Content-Length`
//! and enforced while streaming, a 10 s timeout, at most 3 redirects, and (unless the
//! emulator was started with `--fetch-any-url`) loopback hosts only, redirects included.
//! Failures get Baidu's codes 282111–282114.

use std::time::Duration;

use baidu_imageprocess_protocol::ErrorCode;
use reqwest::Url;
use reqwest::redirect;

use crate::ops::Refusal;

/// 282111: the URL is malformed (or not one the emulator may fetch).
pub(crate) const URL_ILLEGAL: ErrorCode = ErrorCode(282_111);
/// 282112: the download timed out.
pub(crate) const URL_TIMEOUT: ErrorCode = ErrorCode(282_112);
/// 282113: the URL's response is not usable.
pub(crate) const URL_RESPONSE_INVALID: ErrorCode = ErrorCode(282_113);
/// 282114: the downloaded file is too large.
pub(crate) const URL_SIZE_ERROR: ErrorCode = ErrorCode(282_114);

/// Longest `url` the API accepts.
pub(crate) const MAX_URL_LEN: usize = 1024;
/// Whole-download timeout.
const TIMEOUT: Duration = Duration::from_secs(10);
/// Redirects followed.
const MAX_REDIRECTS: usize = 3;

/// Downloads `url` inputs.
#[derive(Debug, Clone)]
pub(crate) struct Fetcher {
    client: Option<reqwest::Client>,
    any_host: bool,
}

/// Whether the emulator may fetch from `url`'s host.
fn host_allowed(url: &Url, any_host: bool) -> bool {
    if any_host {
        return true;
    }
    let Some(host) = url.host_str() else {
        return false;
    };
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    match bare.parse::<std::net::IpAddr>() {
        Ok(ip) => ip.is_loopback(),
        Err(_) => host.eq_ignore_ascii_case("localhost"),
    }
}

impl Fetcher {
    /// A fetcher; `any_host` lifts the loopback-only rule.
    pub(crate) fn new(any_host: bool) -> Self {
        let policy = redirect::Policy::custom(move |attempt| {
            if attempt.previous().len() > MAX_REDIRECTS {
                attempt.error("too many redirects")
            } else if !host_allowed(attempt.url(), any_host) {
                attempt.error("redirect to a host the emulator may not fetch from")
            } else {
                attempt.follow()
            }
        });
        let client = reqwest::Client::builder()
            .redirect(policy)
            .timeout(TIMEOUT)
            .connect_timeout(TIMEOUT)
            .no_proxy()
            .build();
        if let Err(e) = &client {
            tracing::error!(error = %e, "cannot build the HTTP client for url inputs");
        }
        Self {
            client: client.ok(),
            any_host,
        }
    }

    /// Downloads at most `max_bytes` from `url`.
    pub(crate) async fn fetch(&self, url: &str, max_bytes: usize) -> Result<Vec<u8>, Refusal> {
        let url = url.trim();
        if url.len() > MAX_URL_LEN {
            return Err(Refusal::new(
                URL_ILLEGAL,
                format!(
                    "url is {} bytes, over the {MAX_URL_LEN} byte limit",
                    url.len()
                ),
            ));
        }
        let parsed = Url::parse(url)
            .map_err(|e| Refusal::new(URL_ILLEGAL, format!("url format illegal: {e}")))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(Refusal::new(
                URL_ILLEGAL,
                format!(
                    "url format illegal: scheme `{}` is not http or https",
                    parsed.scheme()
                ),
            ));
        }
        if !host_allowed(&parsed, self.any_host) {
            return Err(Refusal::new(
                URL_ILLEGAL,
                "the emulator fetches url inputs only from loopback hosts (start it with --fetch-any-url to allow others)",
            ));
        }
        let Some(client) = &self.client else {
            return Err(Refusal::new(
                URL_RESPONSE_INVALID,
                "the emulator cannot fetch urls (no HTTP client)",
            ));
        };
        let failed = |e: reqwest::Error| {
            if e.is_timeout() {
                Refusal::new(
                    URL_TIMEOUT,
                    format!("image download timed out after {} s", TIMEOUT.as_secs()),
                )
            } else {
                Refusal::new(
                    URL_RESPONSE_INVALID,
                    format!("url response invalid: {}", without_url(e)),
                )
            }
        };
        let mut response = client.get(parsed).send().await.map_err(failed)?;
        if !response.status().is_success() {
            return Err(Refusal::new(
                URL_RESPONSE_INVALID,
                format!("url response invalid: HTTP {}", response.status().as_u16()),
            ));
        }
        let too_large = |n: u64| {
            Refusal::new(
                URL_SIZE_ERROR,
                format!("the image at url is {n} bytes or more, over the {max_bytes} byte limit"),
            )
        };
        if let Some(announced) = response.content_length()
            && announced > max_bytes as u64
        {
            return Err(too_large(announced));
        }
        let mut body = Vec::with_capacity(
            response
                .content_length()
                .map_or(64 * 1024, |n| n as usize)
                .min(max_bytes),
        );
        while let Some(chunk) = response.chunk().await.map_err(failed)? {
            if body.len() + chunk.len() > max_bytes {
                return Err(too_large((body.len() + chunk.len()) as u64));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }
}

/// The error's text without the URL (which may carry a client's secrets).
fn without_url(e: reqwest::Error) -> String {
    let e = e.without_url();
    let mut text = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_hosts_unless_allowed() {
        for (url, ok) in [
            ("http://127.0.0.1:9/x.png", true),
            ("http://127.8.0.1/x.png", true),
            ("http://[::1]/x.png", true),
            ("http://LOCALHOST/x.png", true),
            ("http://192.0.2.1/x.png", false),
            ("https://example.com/x.png", false),
            ("http://10.0.0.1/x.png", false),
        ] {
            let url = Url::parse(url).unwrap();
            assert_eq!(host_allowed(&url, false), ok, "{url}");
            assert!(host_allowed(&url, true));
        }
    }
}
