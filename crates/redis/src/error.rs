//! Why a budget could not be set up. (Once running, a budget never fails a call: it
//! paces locally while Redis is away.)

/// Why a budget could not be set up. Messages name the URL with its password masked.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BudgetError {
    /// The URL is not a Redis URL.
    #[error("invalid budget URL {url}: {reason}")]
    InvalidUrl {
        /// The URL, password masked.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Redis did not answer.
    #[error("cannot reach the budget's Redis at {url}: {reason}")]
    Unreachable {
        /// The URL, password masked.
        url: String,
        /// What the connection attempt said.
        reason: String,
    },
}

/// `error`'s text with any password of `url` removed (defence in depth: the redis crate
/// does not print passwords today).
pub(crate) fn scrubbed(error: &redis::RedisError, url: &str) -> String {
    let text = error.to_string();
    match password(url) {
        Some(pw) if !pw.is_empty() => text.replace(pw, "****"),
        _ => text,
    }
}

fn password(url: &str) -> Option<&str> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split('/').next()?;
    let userinfo = authority.rsplit_once('@')?.0;
    Some(userinfo.split_once(':').map_or(userinfo, |(_, pw)| pw))
}
