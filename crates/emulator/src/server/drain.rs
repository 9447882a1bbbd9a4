//! Draining a body left unread, so a client still sending receives its answer.

use std::time::Duration;

use axum::body::Body;

use super::MAX_BODY;

/// A request body not read yet. Dropped unread (the request was answered from its
/// header: refused, throttled, not admitted), it is read and discarded in the background
/// (up to [`MAX_BODY`], within the body timeout) so the client, still sending, receives
/// the answer instead of a reset connection; nothing is kept in memory.
pub(super) struct UnreadBody {
    body: Option<Body>,
    timeout: Duration,
}

impl UnreadBody {
    pub(super) fn new(body: Body, timeout: Duration) -> Self {
        Self {
            body: Some(body),
            timeout,
        }
    }

    /// The body, to read now.
    pub(super) fn take(&mut self) -> Option<Body> {
        self.body.take()
    }

    /// Drops the body without draining it (it is too large to be worth reading).
    pub(super) fn abandon(&mut self) {
        self.body = None;
    }
}

impl Drop for UnreadBody {
    fn drop(&mut self) {
        let (Some(body), Ok(runtime)) = (self.body.take(), tokio::runtime::Handle::try_current())
        else {
            return;
        };
        let timeout = self.timeout;
        runtime.spawn(async move {
            use futures_util::StreamExt as _;
            let mut stream = body.into_data_stream();
            let discard = async {
                let mut seen = 0usize;
                while let Some(Ok(chunk)) = stream.next().await {
                    seen += chunk.len();
                    if seen > MAX_BODY {
                        break;
                    }
                }
            };
            let _ = tokio::time::timeout(timeout, discard).await;
        });
    }
}
