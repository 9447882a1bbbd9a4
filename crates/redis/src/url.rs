//! The budget's address, shown with its password masked.

use std::fmt;

/// A `redis://[:PASSWORD@]HOST:PORT/DB` URL. Its `Display` and `Debug` mask the
/// password, so it can appear in messages and logs.
#[derive(Clone, PartialEq, Eq)]
pub struct BudgetUrl {
    url: String,
}

impl BudgetUrl {
    /// Checks that `url` is a Redis URL (`redis://` or `rediss://`) the client accepts.
    pub fn parse(url: &str) -> Result<Self, crate::BudgetError> {
        let url = url.trim();
        let scheme_ok = url.starts_with("redis://") || url.starts_with("rediss://");
        if !scheme_ok {
            return Err(crate::BudgetError::InvalidUrl {
                url: mask(url),
                reason: "expected redis://[:PASSWORD@]HOST:PORT/DB".into(),
            });
        }
        redis::Client::open(url).map_err(|e| crate::BudgetError::InvalidUrl {
            url: mask(url),
            reason: crate::error::scrubbed(&e, url),
        })?;
        Ok(Self { url: url.into() })
    }

    /// The URL with its password, for connecting.
    pub(crate) fn expose(&self) -> &str {
        &self.url
    }
}

impl fmt::Display for BudgetUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&mask(&self.url))
    }
}

impl fmt::Debug for BudgetUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("BudgetUrl").field(&mask(&self.url)).finish()
    }
}

/// `url` with the password of its userinfo (if any) replaced by `****`.
pub fn mask(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.into();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split_once(':').map_or("", |(user, _)| user);
            format!("{scheme}://{user}:****@{host}{path}")
        }
        None => url.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_masked() {
        assert_eq!(
            mask("redis://:hunter2@10.0.0.1:6379/2"),
            "redis://:****@10.0.0.1:6379/2"
        );
        assert_eq!(
            mask("redis://app:hunter2@host:6379/0"),
            "redis://app:****@host:6379/0"
        );
        assert_eq!(mask("redis://host:6379/0"), "redis://host:6379/0");
        let url = BudgetUrl::parse("redis://:hunter2@127.0.0.1:6379/0").unwrap();
        assert!(!format!("{url} {url:?}").contains("hunter2"));
    }

    #[test]
    fn other_schemes_are_refused() {
        let err = BudgetUrl::parse("http://:pw@host:1/0")
            .unwrap_err()
            .to_string();
        assert!(err.contains("redis://") && !err.contains("pw@"), "{err}");
    }
}
