//! Request and error counters, served at `GET /__emulator/stats`.

use std::collections::BTreeMap;
use std::sync::Mutex;

use serde::Serialize;

/// Counts of requests per endpoint and of error codes answered.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Stats {
    /// Requests per endpoint: `token`, each operation's wire name (`dehaze`,
    /// `style_trans`, `sky_seg`, ...), `other`.
    pub requests: BTreeMap<String, u64>,
    /// Error replies per the `error_code` they carried (token-endpoint failures, which
    /// carry none, count under their HTTP status, e.g. 401).
    pub errors: BTreeMap<u32, u64>,
    /// Successful operation replies.
    pub successes: u64,
    /// Tokens issued.
    pub tokens_issued: u64,
}

impl Stats {
    /// Requests to the token endpoint.
    pub fn token_requests(&self) -> u64 {
        self.requests.get("token").copied().unwrap_or(0)
    }

    /// Replies with `code`.
    pub fn errors_with(&self, code: u32) -> u64 {
        self.errors.get(&code).copied().unwrap_or(0)
    }
}

#[derive(Debug, Default)]
pub(crate) struct Counters(Mutex<Stats>);

impl Counters {
    fn with(&self, f: impl FnOnce(&mut Stats)) {
        let mut s = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&mut s);
    }

    pub(crate) fn request(&self, endpoint: &str) {
        self.with(|s| *s.requests.entry(endpoint.to_owned()).or_default() += 1);
    }

    pub(crate) fn error(&self, code: u32) {
        self.with(|s| *s.errors.entry(code).or_default() += 1);
    }

    pub(crate) fn success(&self) {
        self.with(|s| s.successes += 1);
    }

    pub(crate) fn token_issued(&self) {
        self.with(|s| s.tokens_issued += 1);
    }

    pub(crate) fn snapshot(&self) -> Stats {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}
