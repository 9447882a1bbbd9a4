//! The emulator as a transport: requests go straight to the router, no socket.

use std::sync::Arc;

use axum::Router;
use baidu_imageprocess_protocol::{
    AsyncTransport, HttpRequest, HttpResponse, MAX_REPLY_BYTES, TransportError, TransportErrorKind,
};
use tower::ServiceExt as _;

use crate::config::EmulatorConfig;
use crate::server::router;
use crate::state::AppState;
use crate::stats::Stats;

/// Serves requests with the emulator's router in process. Needs a tokio runtime (the
/// engine runs on its blocking pool).
#[derive(Clone)]
pub struct InProcessTransport {
    state: Arc<AppState>,
    router: Router,
}

impl std::fmt::Debug for InProcessTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InProcessTransport").finish_non_exhaustive()
    }
}

impl InProcessTransport {
    /// A transport backed by a fresh emulator state.
    pub fn new(config: EmulatorConfig) -> Self {
        let state = AppState::new(config);
        Self {
            router: router(Arc::clone(&state)),
            state,
        }
    }

    /// Counts so far.
    pub fn stats(&self) -> Stats {
        self.state.counters.snapshot()
    }
}

impl AsyncTransport for InProcessTransport {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        let request = request.map(axum::body::Body::from);
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .map_err(|e| TransportError::new(TransportErrorKind::Other, e.to_string()))?;
        let (parts, body) = response.into_parts();
        // The protocol's one reply cap, as the socket transports apply it.
        let bytes = axum::body::to_bytes(body, MAX_REPLY_BYTES)
            .await
            .map_err(|e| {
                let text = e.to_string();
                let kind = if text.contains("length limit") {
                    TransportErrorKind::BodyTooLarge
                } else {
                    TransportErrorKind::Io
                };
                TransportError::new(kind, text)
            })?;
        Ok(HttpResponse::from_parts(parts, bytes))
    }
}
