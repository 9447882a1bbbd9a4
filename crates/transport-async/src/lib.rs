//! Async transport for `baidu-imageprocess`: the protocol's [`AsyncTransport`] over a
//! [`reqwest::Client`], and the loop that drives a call with it (tokio timers).
//!
//! This crate holds no API policy: tokens, retries, rate limiting and validation live in
//! `baidu-imageprocess-protocol`; this is only "send this request" and "sleep".
#![deny(missing_docs)]
#![warn(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use baidu_imageprocess_protocol::{
    AsyncTransport, AttemptTimeout, DynAsyncTransport, Error, HttpRequest, HttpResponse, Machine,
    Recycler, TransportConfig, TransportError, TransportErrorKind, causes, drive_async, scrub,
};

/// Largest reply body accepted: the protocol's one cap.
pub use baidu_imageprocess_protocol::MAX_REPLY_BYTES;

/// Settings of the underlying client: the one [`TransportConfig`] both built-in
/// transports take.
pub type ReqwestConfig = TransportConfig;

/// [`AsyncTransport`] over a reqwest client. Cheap to clone; clones share the pool.
#[derive(Debug, Clone)]
pub struct ReqwestTransport {
    client: reqwest::Client,
    /// The last reply's buffer, filled again once its reply has been decoded.
    replies: Arc<Recycler>,
}

impl ReqwestTransport {
    /// A client that follows no redirects (the URL carries `access_token`) and verifies
    /// TLS certificates.
    pub fn new(config: &TransportConfig) -> Result<Self, TransportError> {
        let mut builder = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none());
        if let Some(t) = config.connect_timeout {
            builder = builder.connect_timeout(t);
        }
        if let Some(url) = &config.proxy {
            let proxy = reqwest::Proxy::all(url)
                .map_err(|_| TransportError::new(TransportErrorKind::Other, "invalid proxy URL"))?;
            builder = builder.proxy(proxy);
        }
        let client = builder.build().map_err(map_error)?;
        Ok(Self::from_client(client))
    }

    /// Wraps a client you configured (disable redirects on it).
    pub fn from_client(client: reqwest::Client) -> Self {
        Self {
            client,
            replies: Arc::new(Recycler::new()),
        }
    }

    /// Runs `machine` (a call) to completion with this transport.
    pub async fn run<M: Machine>(&self, machine: M) -> Result<M::Output, Error> {
        run(self, machine).await
    }
}

/// Runs `machine` over any async transport, sleeping with tokio's timer.
pub async fn run<M: Machine>(
    transport: &(impl DynAsyncTransport + ?Sized),
    machine: M,
) -> Result<M::Output, Error> {
    drive_async(
        transport,
        machine,
        std::time::Instant::now,
        tokio::time::sleep,
    )
    .await
}

impl AsyncTransport for ReqwestTransport {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        let timeout = request.extensions().get::<AttemptTimeout>().map(|t| t.0);
        let (parts, body) = request.into_parts();
        let url = parts.uri.to_string();
        let mut builder = self
            .client
            .request(parts.method, url)
            .headers(parts.headers)
            .body(body);
        if let Some(t) = timeout {
            builder = builder.timeout(t);
        }
        let mut response = builder.send().await.map_err(map_error)?;
        if response
            .content_length()
            .is_some_and(|n| n > MAX_REPLY_BYTES as u64)
        {
            return Err(TransportError::new(
                TransportErrorKind::BodyTooLarge,
                "reply over 32 MiB",
            ));
        }
        let status = response.status();
        let headers = std::mem::take(response.headers_mut());
        // The last reply's buffer when it is free: its pages need not be faulted in again.
        let announced = response
            .content_length()
            .map_or(0, |n| usize::try_from(n).unwrap_or(usize::MAX));
        let mut body = self.replies.take(announced.min(MAX_REPLY_BYTES));
        while let Some(chunk) = response.chunk().await.map_err(map_error)? {
            if body.len() + chunk.len() > MAX_REPLY_BYTES {
                return Err(TransportError::new(
                    TransportErrorKind::BodyTooLarge,
                    "reply over 32 MiB",
                ));
            }
            body.extend_from_slice(&chunk);
        }
        let body = bytes::Bytes::from(body);
        self.replies.keep(&body);
        let mut out = HttpResponse::new(body);
        *out.status_mut() = status;
        *out.headers_mut() = headers;
        Ok(out)
    }
}

/// Maps reqwest's error to ours, without its URL (which holds `access_token`). The kind
/// comes from the error's type and its causes' types, never from its text.
fn map_error(error: reqwest::Error) -> TransportError {
    let error = error.without_url();
    let tls = tls_failure(&error);
    let kind = if error.is_timeout() {
        TransportErrorKind::Timeout
    } else if tls.is_some() {
        // reqwest reports a failed TLS handshake as a connect error; it is not retried.
        TransportErrorKind::Tls
    } else if error.is_connect() {
        TransportErrorKind::Connect
    } else if error.is_body() || error.is_request() || error.is_decode() {
        TransportErrorKind::Io
    } else {
        TransportErrorKind::Other
    };
    let mut text = error.to_string();
    let mut last = String::new();
    for cause in causes(&error).skip(1) {
        // An `io::Error` wrapping a TLS error displays as the TLS error: say it once.
        let said = cause.to_string();
        if said != last {
            text.push_str(": ");
            text.push_str(&said);
        }
        last = said;
    }
    if let Some(TlsFailure::NotTls) = tls {
        text.push_str(NOT_TLS_HINT);
    }
    TransportError::new(kind, scrub(&text))
}

/// Appended to a TLS failure where the server did not speak TLS at all.
const NOT_TLS_HINT: &str =
    " (the server does not speak TLS: if it serves plain HTTP, use an http:// endpoint)";

/// A TLS failure, told apart by type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TlsFailure {
    /// The server's bytes were not TLS at all (e.g. a plain-HTTP port).
    NotTls,
    /// Anything else: certificate, handshake, protocol version.
    Other,
}

/// Whether `error` is a TLS failure, by the types of its causes: a `rustls::Error` or
/// `native_tls::Error` anywhere in the chain, or, in the connect phase (the TCP
/// connection is up; hyper reports TCP failures as its own `ConnectError`), an I/O error
/// the TLS layer raises: `InvalidData` (not TLS records) or `UnexpectedEof` (the peer
/// hung up during the handshake).
fn tls_failure(error: &reqwest::Error) -> Option<TlsFailure> {
    for cause in causes(error) {
        #[cfg(feature = "rustls")]
        if let Some(tls) = cause.downcast_ref::<rustls::Error>() {
            return Some(match tls {
                rustls::Error::InvalidMessage(_) => TlsFailure::NotTls,
                _ => TlsFailure::Other,
            });
        }
        #[cfg(feature = "native-tls")]
        if cause.downcast_ref::<native_tls::Error>().is_some() {
            return Some(TlsFailure::Other);
        }
    }
    if !error.is_connect() {
        return None;
    }
    let io = causes(error).find_map(|c| c.downcast_ref::<std::io::Error>())?;
    matches!(
        io.kind(),
        std::io::ErrorKind::InvalidData | std::io::ErrorKind::UnexpectedEof
    )
    .then_some(TlsFailure::Other)
}

#[cfg(test)]
mod tests {
    use super::*;
    use baidu_imageprocess_test_support::{plain_http_server, reply_with, serve_once};
    use std::time::Duration;

    fn post(url: &str) -> HttpRequest {
        let mut request = HttpRequest::new(bytes::Bytes::from_static(b"image=abc"));
        *request.method_mut() = http::Method::POST;
        *request.uri_mut() = url.parse().unwrap();
        request
    }

    #[tokio::test]
    async fn error_statuses_and_redirects_come_back_as_responses() {
        let transport = ReqwestTransport::new(&ReqwestConfig::default()).unwrap();
        let (url, server) = serve_once(reply_with("500 Internal Server Error", "", b"oops"));
        let response = transport.send(post(&url)).await.unwrap();
        assert_eq!(response.status(), 500);
        assert_eq!(response.body().as_ref(), b"oops");
        server.join().unwrap();
        let (url, server) = serve_once(reply_with(
            "302 Found",
            "location: http://127.0.0.1:1/elsewhere\r\n",
            b"",
        ));
        let response = transport.send(post(&url)).await.unwrap();
        assert_eq!(response.status(), 302, "the redirect must not be followed");
        server.join().unwrap();
    }

    // Multi-threaded: the connection task must keep running (and hang up) while this
    // thread waits for the server thread.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn oversized_reply_is_refused() {
        let transport = ReqwestTransport::new(&ReqwestConfig::default()).unwrap();
        // Announced by Content-Length, and (chunked, no length) found while reading.
        let body = vec![b'a'; MAX_REPLY_BYTES + 1];
        let (url, server) = serve_once(reply_with("200 OK", "", &body));
        let err = transport.send(post(&url)).await.unwrap_err();
        assert_eq!(err.kind(), TransportErrorKind::BodyTooLarge, "{err:?}");
        server.join().unwrap();
        let mut chunked =
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n".to_vec();
        for _ in 0..=(MAX_REPLY_BYTES / (1 << 20)) {
            chunked.extend_from_slice(b"100000\r\n");
            chunked.extend(std::iter::repeat_n(b'a', 1 << 20));
            chunked.extend_from_slice(b"\r\n");
        }
        chunked.extend_from_slice(b"0\r\n\r\n");
        let (url, server) = serve_once(chunked);
        let err = transport.send(post(&url)).await.unwrap_err();
        assert_eq!(err.kind(), TransportErrorKind::BodyTooLarge, "{err:?}");
        server.join().unwrap();
    }

    #[tokio::test]
    async fn attempt_timeout_applies_to_a_silent_server() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!(
            "http://{}/rest?access_token=SECRET",
            listener.local_addr().unwrap()
        );
        let transport = ReqwestTransport::new(&ReqwestConfig::default()).unwrap();
        let mut request = post(&url);
        request
            .extensions_mut()
            .insert(AttemptTimeout(Duration::from_millis(200)));
        // The listener's backlog accepts the connection; nobody ever answers.
        let err = transport.send(request).await.unwrap_err();
        assert_eq!(err.kind(), TransportErrorKind::Timeout, "{err:?}");
        assert!(!format!("{err} {err:?}").contains("SECRET"));
        drop(listener);
    }

    #[tokio::test]
    async fn refused_connection_is_a_connect_error() {
        let transport = ReqwestTransport::new(&ReqwestConfig::default()).unwrap();
        let mut request = HttpRequest::new(bytes::Bytes::from_static(b"x"));
        *request.method_mut() = http::Method::POST;
        *request.uri_mut() = "http://127.0.0.1:1/rest?access_token=SECRET"
            .parse()
            .unwrap();
        let err = transport.send(request).await.unwrap_err();
        assert_eq!(err.kind(), TransportErrorKind::Connect);
        assert!(!format!("{err} {err:?}").contains("SECRET"));
    }

    #[tokio::test]
    async fn https_to_a_plain_http_port_is_a_tls_failure_after_one_connection() {
        let (addr, connections, server) = plain_http_server(Duration::from_secs(2));
        let transport = ReqwestTransport::new(&TransportConfig::default()).unwrap();
        let started = std::time::Instant::now();
        let err = transport
            .send(post(&format!("https://{addr}/rest?access_token=SECRET")))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), TransportErrorKind::Tls, "{err:?}");
        assert!(!err.is_retryable());
        assert!(err.to_string().contains("use an http:// endpoint"), "{err}");
        assert!(!format!("{err} {err:?}").contains("SECRET"));
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
        assert_eq!(connections.load(std::sync::atomic::Ordering::SeqCst), 1);
        server.join().unwrap();
    }
}
