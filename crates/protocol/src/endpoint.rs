//! The base URL requests go to.

use std::fmt;

use http::Uri;

/// Baidu's production base URL.
pub const BAIDU_BASE_URL: &str = "https://aip.baidubce.com";

/// A validated base URL: scheme, host, port and an optional path prefix (for proxies).
#[derive(Clone, PartialEq, Eq)]
pub struct Endpoint {
    scheme: http::uri::Scheme,
    authority: http::uri::Authority,
    prefix: String,
}

/// The text is not a usable base URL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid endpoint {0:?}: expected an http:// or https:// URL such as https://aip.baidubce.com"
)]
pub struct InvalidEndpoint(String);

impl Endpoint {
    /// Parses a base URL such as `http://127.0.0.1:8080` or `https://proxy.example/baidu`.
    /// A query string or fragment is refused.
    pub fn parse(url: &str) -> Result<Self, InvalidEndpoint> {
        let invalid = || InvalidEndpoint(crate::transport::scrub(url));
        let uri: Uri = url.trim().parse().map_err(|_| invalid())?;
        let scheme = uri.scheme().cloned().ok_or_else(invalid)?;
        if scheme != http::uri::Scheme::HTTP && scheme != http::uri::Scheme::HTTPS {
            return Err(invalid());
        }
        let authority = uri.authority().cloned().ok_or_else(invalid)?;
        if uri.query().is_some() || authority.as_str().contains('@') {
            return Err(invalid());
        }
        Ok(Self {
            scheme,
            authority,
            prefix: uri.path().trim_end_matches('/').to_owned(),
        })
    }

    /// Baidu's production endpoint.
    pub fn baidu() -> Self {
        Self {
            scheme: http::uri::Scheme::HTTPS,
            authority: http::uri::Authority::from_static("aip.baidubce.com"),
            prefix: String::new(),
        }
    }

    /// The host (without port), as signed by bce-auth-v1.
    pub fn host(&self) -> &str {
        self.authority.host()
    }

    /// The host with its port, if any (the `Host` header).
    pub fn authority(&self) -> &str {
        self.authority.as_str()
    }

    /// The full path for an API path (prefix + `path`).
    pub fn full_path(&self, path: &str) -> String {
        format!("{}{path}", self.prefix)
    }

    /// The URI of `path` with an optional, already-encoded query.
    pub fn uri(&self, path: &str, query: Option<&str>) -> Uri {
        let path_and_query = match query {
            Some(q) => format!("{}?{q}", self.full_path(path)),
            None => self.full_path(path),
        };
        Uri::builder()
            .scheme(self.scheme.clone())
            .authority(self.authority.clone())
            .path_and_query(path_and_query)
            .build()
            .unwrap_or_else(|_| Uri::from_static("/"))
    }
}

impl Default for Endpoint {
    fn default() -> Self {
        Self::baidu()
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://{}{}", self.scheme, self.authority, self.prefix)
    }
}

impl fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Endpoint({self})")
    }
}

impl std::str::FromStr for Endpoint {
    type Err = InvalidEndpoint;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_builds() {
        let e = Endpoint::parse("http://127.0.0.1:8080/").unwrap();
        assert_eq!(e.to_string(), "http://127.0.0.1:8080");
        assert_eq!(e.host(), "127.0.0.1");
        assert_eq!(
            e.uri("/oauth/2.0/token", Some("a=1")).to_string(),
            "http://127.0.0.1:8080/oauth/2.0/token?a=1"
        );
        let p = Endpoint::parse("https://proxy.example/baidu").unwrap();
        assert_eq!(
            p.uri("/x", None).to_string(),
            "https://proxy.example/baidu/x"
        );
        for bad in [
            "",
            "ftp://x",
            "127.0.0.1:80",
            "http://x/?access_token=s",
            "http://u:p@x",
        ] {
            assert!(Endpoint::parse(bad).is_err(), "{bad}");
        }
        assert!(
            !Endpoint::parse("http://x/?access_token=s")
                .unwrap_err()
                .to_string()
                .contains("=s")
        );
    }
}
