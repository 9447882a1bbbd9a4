//! The contract between the protocol and whatever sends HTTP requests.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;

/// An HTTP request as the protocol builds it.
pub type HttpRequest = http::Request<Bytes>;
/// An HTTP response as a transport hands it back (every status, not only 2xx).
pub type HttpResponse = http::Response<Bytes>;

/// Request extension: the most time this attempt may take, from the call's remaining
/// deadline. Transports should apply it as the request's whole timeout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttemptTimeout(pub Duration);

/// What kind of transport failure happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TransportErrorKind {
    /// Could not connect (refused, DNS, unreachable). Nothing was sent.
    Connect,
    /// The attempt's timeout passed.
    Timeout,
    /// The connection broke while sending or receiving.
    Io,
    /// TLS handshake or certificate failure.
    Tls,
    /// The reply was larger than the transport accepts.
    BodyTooLarge,
    /// Anything else.
    Other,
}

/// A failure to exchange an HTTP request and response. Built by a transport from its
/// native error after scrubbing: the message never holds a URL's query string.
pub struct TransportError {
    kind: TransportErrorKind,
    message: String,
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl TransportError {
    /// A new error of `kind`; `message` must not hold secrets or query strings (see
    /// [`scrub`]).
    pub fn new(kind: TransportErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            source: None,
        }
    }

    /// Attaches the underlying error. It must already be scrubbed of URLs.
    #[must_use]
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Box::new(source));
        self
    }

    /// The kind of failure.
    pub fn kind(&self) -> TransportErrorKind {
        self.kind
    }
}

impl fmt::Debug for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TransportError")
            .field("kind", &self.kind)
            .field("message", &self.message)
            .finish_non_exhaustive()
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.kind {
            TransportErrorKind::Connect => "connection failed",
            TransportErrorKind::Timeout => "timed out",
            TransportErrorKind::Io => "connection broken",
            TransportErrorKind::Tls => "TLS failure",
            TransportErrorKind::BodyTooLarge => "reply too large",
            TransportErrorKind::Other => "HTTP failure",
        };
        if self.message.is_empty() {
            f.write_str(kind)
        } else {
            write!(f, "{kind}: {}", self.message)
        }
    }
}

impl std::error::Error for TransportError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

/// The chain of causes under `error`, itself first: each error's
/// [`source`](std::error::Error::source), and also the error inside an
/// [`std::io::Error`] (whose own `source()` skips it). Transports downcast the links to
/// their libraries' error types to classify a failure by type, never by its text.
pub fn causes<'a>(error: &'a (dyn std::error::Error + 'static)) -> Causes<'a> {
    Causes { next: Some(error) }
}

/// Iterator returned by [`causes`].
#[derive(Debug)]
pub struct Causes<'a> {
    next: Option<&'a (dyn std::error::Error + 'static)>,
}

impl<'a> Iterator for Causes<'a> {
    type Item = &'a (dyn std::error::Error + 'static);

    fn next(&mut self) -> Option<Self::Item> {
        let current = self.next?;
        self.next = match current.downcast_ref::<std::io::Error>() {
            Some(io) => io
                .get_ref()
                .map(|inner| inner as &(dyn std::error::Error + 'static)),
            None => current.source(),
        };
        Some(current)
    }
}

/// Removes query strings from URLs inside `text` (an HTTP library's error message), so an
/// `access_token` can never leak through an error.
pub fn scrub(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_query = false;
    for c in text.chars() {
        if in_query {
            if c.is_whitespace() || matches!(c, ')' | '"' | '\'' | '>' | ',') {
                in_query = false;
                out.push(c);
            }
            continue;
        }
        if c == '?' {
            in_query = true;
            out.push_str("?<redacted>");
            continue;
        }
        out.push(c);
    }
    if let Some(i) = out.find("access_token") {
        out.truncate(i);
        out.push_str("<redacted>");
    }
    out
}

/// Displays a URI without its query string (which may hold `access_token`).
#[derive(Clone, Copy)]
pub struct RedactedUri<'a>(pub &'a http::Uri);

impl fmt::Display for RedactedUri<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(scheme) = self.0.scheme_str() {
            write!(f, "{scheme}://")?;
        }
        if let Some(authority) = self.0.authority() {
            write!(f, "{authority}")?;
        }
        f.write_str(self.0.path())?;
        if self.0.query().is_some() {
            f.write_str("?<redacted>")?;
        }
        Ok(())
    }
}

impl fmt::Debug for RedactedUri<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Sends one HTTP request and returns the response, whatever its status (blocking).
///
/// Contract: return every HTTP status as `Ok` (the protocol decides what a status means);
/// do not follow redirects (the URL carries `access_token`); apply [`AttemptTimeout`]
/// from the request's extensions when present; build [`TransportError`]s whose text
/// holds no query string. Closures implement this trait, so a test double is one line.
pub trait Transport {
    /// Performs the exchange.
    fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError>;
}

impl<F> Transport for F
where
    F: Fn(HttpRequest) -> Result<HttpResponse, TransportError>,
{
    fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        self(request)
    }
}

impl<T: Transport + ?Sized> Transport for Arc<T> {
    fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        (**self).send(request)
    }
}

/// The async twin of [`Transport`], with the same contract.
pub trait AsyncTransport: Send + Sync {
    /// Performs the exchange.
    fn send(
        &self,
        request: HttpRequest,
    ) -> impl Future<Output = Result<HttpResponse, TransportError>> + Send;
}

/// A boxed future returned by [`DynAsyncTransport`].
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Object-safe form of [`AsyncTransport`], so clients can hold `Arc<dyn DynAsyncTransport>`.
/// Every [`AsyncTransport`] implements it.
pub trait DynAsyncTransport: Send + Sync {
    /// Performs the exchange.
    fn send_boxed(
        &self,
        request: HttpRequest,
    ) -> BoxFuture<'_, Result<HttpResponse, TransportError>>;
}

impl<T: AsyncTransport> DynAsyncTransport for T {
    fn send_boxed(
        &self,
        request: HttpRequest,
    ) -> BoxFuture<'_, Result<HttpResponse, TransportError>> {
        Box::pin(self.send(request))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrub_removes_queries() {
        let s = scrub(
            "error sending request for url (http://127.0.0.1:1/rest/x?access_token=SECRET&a=1): refused",
        );
        assert!(!s.contains("SECRET"), "{s}");
        assert!(s.contains("http://127.0.0.1:1/rest/x?<redacted>)"), "{s}");
        assert!(!scrub("access_token=SECRET").contains("SECRET"));
    }

    #[test]
    fn causes_descend_into_io_errors() {
        #[derive(Debug, thiserror::Error)]
        #[error("leaf")]
        struct Leaf;
        #[derive(Debug, thiserror::Error)]
        #[error("outer")]
        struct Outer(#[source] std::io::Error);
        let error = Outer(std::io::Error::new(std::io::ErrorKind::InvalidData, Leaf));
        let chain: Vec<String> = causes(&error).map(ToString::to_string).collect();
        // The outer error, the io::Error (displayed as its inner error), the inner error.
        assert_eq!(chain, ["outer", "leaf", "leaf"]);
        assert!(causes(&error).any(|e| e.downcast_ref::<Leaf>().is_some()));
        assert!(causes(&error).any(|e| e.downcast_ref::<std::io::Error>().is_some()));
    }

    #[test]
    fn redacted_uri() {
        let uri: http::Uri = "https://aip.baidubce.com/rest/2.0/x?access_token=SECRET"
            .parse()
            .unwrap();
        assert_eq!(
            RedactedUri(&uri).to_string(),
            "https://aip.baidubce.com/rest/2.0/x?<redacted>"
        );
    }
}
