//! What a state machine tells its driver, and the trait drivers run.

use std::fmt;
use std::time::{Duration, Instant};

use crate::error::Error;
use crate::policy::budget::Slot;
use crate::transport::{HttpRequest, HttpResponse, TransportError};

/// What the driver must do next.
#[must_use]
pub enum Step<T> {
    /// Send this request, then feed the outcome back.
    Send(HttpRequest),
    /// Wait this long, then ask again.
    Sleep(Duration),
    /// Take a turn from the shared budget ([`Slot::reserve`] or [`Slot::reserve_async`]),
    /// sleep for the wait it returns, then ask again. Only a session with a
    /// [`Budget`](crate::Budget) attached asks for this.
    Reserve(Slot),
    /// The call is over.
    Done(Result<T, Error>),
}

/// By hand: a request's URL holds `access_token` and a token request's body holds the
/// secret key, so `Send` shows only the method, the URL without its query and the size.
impl<T: fmt::Debug> fmt::Debug for Step<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Send(request) => f
                .debug_struct("Send")
                .field("method", request.method())
                .field("uri", &crate::transport::RedactedUri(request.uri()))
                .field("body_bytes", &request.body().len())
                .finish_non_exhaustive(),
            Self::Sleep(d) => f.debug_tuple("Sleep").field(d).finish(),
            Self::Reserve(slot) => f.debug_tuple("Reserve").field(slot).finish(),
            Self::Done(result) => f.debug_tuple("Done").field(result).finish(),
        }
    }
}

/// A state machine a driver can run: [`Call`](crate::Call) and [`TokenCall`](crate::TokenCall).
pub trait Machine {
    /// What the machine produces.
    type Output;
    /// The next thing to do, as of `now`.
    fn next(&mut self, now: Instant) -> Step<Self::Output>;
    /// Feeds the response to the last [`Step::Send`].
    fn handle_response(&mut self, now: Instant, response: HttpResponse);
    /// Feeds the transport failure of the last [`Step::Send`].
    fn handle_transport_error(&mut self, now: Instant, error: TransportError);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::credentials::Credentials;
    use crate::machine::shared::Session;
    use crate::operation::Operation;
    use crate::policy::config::ClientConfig;

    #[test]
    fn send_steps_never_show_the_secret_key_or_the_token() {
        let secret = "sk-sentinel-7c1e";
        let session = Session::new(ClientConfig::new(Credentials::api_key("ak", secret)));
        let mut token_call = session.token_call();
        let token_step = token_call.next(Instant::now());
        assert!(matches!(token_step, Step::Send(_)));
        let fixed = Session::new(ClientConfig::new(Credentials::access_token(secret)));
        let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
        png.extend_from_slice(&[0, 0, 1, 64, 0, 0, 0, 240, 8, 2, 0, 0, 0, 0, 0, 0, 0]);
        let Ok(mut call) = fixed.call(Operation::Dehaze, &png, Instant::now()) else {
            panic!("a valid PNG header was rejected");
        };
        let call_step = call.next(Instant::now());
        let text = format!("{token_step:?} {token_step:#?} {call_step:?} {call_step:#?}");
        assert!(!text.contains(secret), "{text}");
        assert!(
            text.contains("/oauth/2.0/token") && text.contains("/dehaze?<redacted>"),
            "{text}"
        );
    }
}
