//! Blocking transport for `baidu-imageprocess`: the protocol's [`Transport`] over a
//! [`ureq`] agent, and the loop that drives a call with it.
//!
//! This crate holds no API policy: tokens, retries, rate limiting and validation live in
//! `baidu-imageprocess-protocol`; this is only "send this request" and "sleep".
#![deny(missing_docs)]
#![warn(clippy::unwrap_used, clippy::expect_used)]

use std::io::Read as _;
use std::sync::Arc;

use baidu_imageprocess_protocol::{
    AttemptTimeout, HttpRequest, HttpResponse, Machine, Recycler, Transport, TransportConfig,
    TransportError, TransportErrorKind, drive, scrub,
};
use bytes::Bytes;

/// Largest reply body accepted: the protocol's one cap.
pub use baidu_imageprocess_protocol::MAX_REPLY_BYTES;

/// Settings of the underlying agent: the one [`TransportConfig`] both built-in
/// transports take.
pub type UreqConfig = TransportConfig;

/// [`Transport`] over a ureq agent. Cheap to clone; clones share the connection pool.
#[derive(Debug, Clone)]
pub struct UreqTransport {
    agent: ureq::Agent,
    /// The last reply's buffer, read into again once its reply has been decoded.
    replies: Arc<Recycler>,
}

impl UreqTransport {
    /// An agent that returns every HTTP status, follows no redirects (the URL carries
    /// `access_token`) and verifies TLS certificates.
    pub fn new(config: &TransportConfig) -> Result<Self, TransportError> {
        let proxy = match &config.proxy {
            Some(url) => Some(ureq::Proxy::new(url).map_err(|_| {
                TransportError::new(TransportErrorKind::Other, "invalid proxy URL")
            })?),
            None => None,
        };
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .timeout_connect(config.connect_timeout)
            .proxy(proxy)
            .build()
            .into();
        Ok(Self::from_agent(agent))
    }

    /// Wraps an agent you configured. It must not treat HTTP statuses as errors
    /// (`http_status_as_error(false)`), or error replies arrive as transport errors.
    pub fn from_agent(agent: ureq::Agent) -> Self {
        Self {
            agent,
            replies: Arc::new(Recycler::new()),
        }
    }

    /// Runs `machine` (a call) to completion with this transport.
    pub fn run<M: Machine>(
        &self,
        machine: M,
    ) -> Result<M::Output, baidu_imageprocess_protocol::Error> {
        drive(self, machine)
    }
}

impl Transport for UreqTransport {
    fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        let timeout = request.extensions().get::<AttemptTimeout>().map(|t| t.0);
        let (parts, body) = request.into_parts();
        let request = http::Request::from_parts(parts, &body[..]);
        let request = self
            .agent
            .configure_request(request)
            .timeout_global(timeout)
            .build();
        let response = self.agent.run(request).map_err(map_error)?;
        let (parts, mut body) = response.into_parts();
        // Sized from Content-Length (within the cap) so a multi-megabyte reply is read
        // into one buffer, not grown by doubling and copied at every step; the last
        // reply's buffer when it is free, so its pages need not be faulted in again.
        let announced = body
            .content_length()
            .map_or(0, |n| usize::try_from(n).unwrap_or(usize::MAX));
        let mut bytes = self.replies.take(announced.min(MAX_REPLY_BYTES));
        body.with_config()
            .limit(MAX_REPLY_BYTES as u64)
            .reader()
            .read_to_end(&mut bytes)
            .map_err(map_read_error)?;
        let bytes = Bytes::from(bytes);
        self.replies.keep(&bytes);
        Ok(HttpResponse::from_parts(parts, bytes))
    }
}

/// Maps an error reading the body to ours: ureq's own errors (the size cap, a timeout)
/// travel inside the `io::Error` its reader returns.
#[allow(clippy::needless_pass_by_value)] // shaped for `map_err`
fn map_read_error(error: std::io::Error) -> TransportError {
    match error.downcast::<ureq::Error>() {
        Ok(error) => map_error(error),
        Err(error) => map_error(ureq::Error::Io(error)),
    }
}

/// Maps ureq's error to ours; its text is scrubbed of query strings. The kind comes from
/// the error's variant and, for I/O errors, the I/O kind and the type of the error
/// inside (rustls reports a broken handshake as `InvalidData` around a
/// `rustls::Error`), never from its text.
#[allow(clippy::needless_pass_by_value)] // shaped for `map_err`
fn map_error(error: ureq::Error) -> TransportError {
    let error = &error;
    let mut hint = "";
    let kind = match error {
        ureq::Error::Timeout(_) => TransportErrorKind::Timeout,
        ureq::Error::HostNotFound | ureq::Error::ConnectionFailed => TransportErrorKind::Connect,
        ureq::Error::Tls(_) => TransportErrorKind::Tls,
        #[cfg(feature = "rustls")]
        ureq::Error::Rustls(e) => {
            hint = not_tls_hint(e);
            TransportErrorKind::Tls
        }
        #[cfg(feature = "native-tls")]
        ureq::Error::NativeTls(_) => TransportErrorKind::Tls,
        ureq::Error::Io(e) => {
            let (kind, h) = io_kind(e);
            hint = h;
            kind
        }
        ureq::Error::Protocol(_) => TransportErrorKind::Io,
        ureq::Error::BodyExceedsLimit(_) => TransportErrorKind::BodyTooLarge,
        _ => TransportErrorKind::Other,
    };
    TransportError::new(kind, scrub(&format!("{error}{hint}")))
}

/// The kind of an I/O failure, and a hint to append to its message.
fn io_kind(error: &std::io::Error) -> (TransportErrorKind, &'static str) {
    #[cfg(feature = "rustls")]
    if let Some(tls) = error
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
    {
        return (TransportErrorKind::Tls, not_tls_hint(tls));
    }
    let kind = match error.kind() {
        std::io::ErrorKind::ConnectionRefused => TransportErrorKind::Connect,
        std::io::ErrorKind::TimedOut => TransportErrorKind::Timeout,
        _ => TransportErrorKind::Io,
    };
    (kind, "")
}

/// A hint for a TLS failure where the server's bytes were not TLS at all.
#[cfg(feature = "rustls")]
fn not_tls_hint(error: &rustls::Error) -> &'static str {
    match error {
        rustls::Error::InvalidMessage(_) => {
            " (the server does not speak TLS: if it serves plain HTTP, use an http:// endpoint)"
        }
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use baidu_imageprocess_protocol::{
        ClientConfig, Credentials, Endpoint, Error, Operation, RetryPolicy, Session,
    };
    use baidu_imageprocess_test_support::{plain_http_server, reply_with, serve_once};
    use std::time::Duration;

    fn post(url: &str) -> HttpRequest {
        let mut request = HttpRequest::new(Bytes::from_static(b"image=abc"));
        *request.method_mut() = http::Method::POST;
        *request.uri_mut() = url.parse().unwrap();
        request
    }

    #[test]
    fn error_statuses_and_redirects_come_back_as_responses() {
        let transport = UreqTransport::new(&UreqConfig::default()).unwrap();
        let (url, server) = serve_once(reply_with("500 Internal Server Error", "", b"oops"));
        let response = transport.send(post(&url)).unwrap();
        assert_eq!(response.status(), 500);
        assert_eq!(response.body().as_ref(), b"oops");
        server.join().unwrap();
        let (url, server) = serve_once(reply_with(
            "302 Found",
            "location: http://127.0.0.1:1/elsewhere\r\n",
            b"",
        ));
        let response = transport.send(post(&url)).unwrap();
        assert_eq!(response.status(), 302, "the redirect must not be followed");
        server.join().unwrap();
    }

    #[test]
    fn oversized_reply_is_refused() {
        let transport = UreqTransport::new(&UreqConfig::default()).unwrap();
        let body = vec![b'a'; MAX_REPLY_BYTES + 1];
        let (url, server) = serve_once(reply_with("200 OK", "", &body));
        let err = transport.send(post(&url)).unwrap_err();
        assert_eq!(err.kind(), TransportErrorKind::BodyTooLarge, "{err:?}");
        server.join().unwrap();
    }

    #[test]
    fn attempt_timeout_applies_to_a_silent_server() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!(
            "http://{}/rest?access_token=SECRET",
            listener.local_addr().unwrap()
        );
        let transport = UreqTransport::new(&UreqConfig::default()).unwrap();
        let mut request = post(&url);
        request
            .extensions_mut()
            .insert(AttemptTimeout(Duration::from_millis(200)));
        // The listener's backlog accepts the connection; nobody ever answers.
        let err = transport.send(request).unwrap_err();
        assert_eq!(err.kind(), TransportErrorKind::Timeout, "{err:?}");
        assert!(!format!("{err} {err:?}").contains("SECRET"));
        drop(listener);
    }

    #[test]
    fn refused_connection_is_a_connect_error() {
        let transport = UreqTransport::new(&UreqConfig::default()).unwrap();
        let mut request = HttpRequest::new(Bytes::from_static(b"x"));
        *request.uri_mut() = "http://127.0.0.1:1/rest?access_token=SECRET"
            .parse()
            .unwrap();
        let err = transport.send(request).unwrap_err();
        assert_eq!(err.kind(), TransportErrorKind::Connect);
        assert!(!format!("{err} {err:?}").contains("SECRET"));
    }

    #[test]
    fn refused_connection_surfaces_after_retries() {
        let config = ClientConfig::new(Credentials::access_token("SECRET"))
            .with_endpoint(Endpoint::parse("http://127.0.0.1:1").unwrap())
            .with_retry(
                RetryPolicy::default()
                    .with_max_attempts(2)
                    .with_initial_backoff(Duration::from_millis(1)),
            );
        let session = Session::new(config);
        let png = {
            let mut v = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
            v.extend_from_slice(&[0, 0, 1, 0, 0, 0, 1, 0, 8, 2, 0, 0, 0, 0, 0, 0, 0]);
            v
        };
        let call = session
            .call(Operation::Dehaze, &png, std::time::Instant::now())
            .unwrap();
        let err = UreqTransport::new(&UreqConfig::default())
            .unwrap()
            .run(call)
            .unwrap_err();
        assert!(
            matches!(err, Error::Transport(ref e) if e.kind() == TransportErrorKind::Connect),
            "{err:?}"
        );
    }

    #[test]
    fn https_to_a_plain_http_port_is_a_tls_failure_after_one_connection() {
        let (addr, connections, server) = plain_http_server(Duration::from_secs(2));
        let transport = UreqTransport::new(&TransportConfig::default()).unwrap();
        let started = std::time::Instant::now();
        let err = transport
            .send(post(&format!("https://{addr}/rest?access_token=SECRET")))
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
