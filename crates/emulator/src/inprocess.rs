//! The emulator as a transport: requests go straight to the router, no socket.

use std::sync::Arc;

use axum::Router;
use baidu_imageprocess_protocol::{
    AsyncTransport, HttpRequest, HttpResponse, MAX_REPLY_BYTES, TransportError, TransportErrorKind,
};
use bytes::Bytes;
use futures_util::StreamExt as _;
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
        let bytes = collect_capped(body).await?;
        Ok(HttpResponse::from_parts(parts, bytes))
    }
}

/// Collects a reply body, refusing it as [`TransportErrorKind::BodyTooLarge`] once it
/// passes [`MAX_REPLY_BYTES`] (decided by counting, not by reading an error's text).
async fn collect_capped(body: axum::body::Body) -> Result<Bytes, TransportError> {
    let mut chunks = body.into_data_stream();
    let mut first: Option<Bytes> = None;
    let mut joined: Vec<u8> = Vec::new();
    while let Some(chunk) = chunks.next().await {
        let chunk =
            chunk.map_err(|e| TransportError::new(TransportErrorKind::Io, e.to_string()))?;
        let so_far = first.as_ref().map_or(joined.len(), Bytes::len);
        if so_far + chunk.len() > MAX_REPLY_BYTES {
            return Err(TransportError::new(
                TransportErrorKind::BodyTooLarge,
                "reply over 32 MiB",
            ));
        }
        // A body of one chunk (the usual reply) is handed on without a copy.
        match first.take() {
            None if joined.is_empty() => first = Some(chunk),
            Some(earlier) => {
                joined.extend_from_slice(&earlier);
                joined.extend_from_slice(&chunk);
            }
            None => joined.extend_from_slice(&chunk),
        }
    }
    Ok(first.unwrap_or_else(|| Bytes::from(joined)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body_of(chunks: Vec<Vec<u8>>) -> axum::body::Body {
        let stream = futures_util::stream::iter(
            chunks
                .into_iter()
                .map(|c| Ok::<_, std::io::Error>(Bytes::from(c))),
        );
        axum::body::Body::from_stream(stream)
    }

    #[tokio::test]
    async fn bodies_are_joined_up_to_the_cap_and_refused_past_it() {
        let joined = collect_capped(body_of(vec![b"ab".to_vec(), b"cd".to_vec(), b"e".to_vec()]))
            .await
            .unwrap();
        assert_eq!(&joined[..], b"abcde");
        let at_cap = vec![
            vec![0u8; MAX_REPLY_BYTES / 2],
            vec![0u8; MAX_REPLY_BYTES / 2],
        ];
        assert_eq!(
            collect_capped(body_of(at_cap)).await.unwrap().len(),
            MAX_REPLY_BYTES
        );
        let past = vec![vec![0u8; MAX_REPLY_BYTES], vec![0u8; 1]];
        let err = collect_capped(body_of(past)).await.unwrap_err();
        assert_eq!(err.kind(), TransportErrorKind::BodyTooLarge, "{err:?}");
    }
}
