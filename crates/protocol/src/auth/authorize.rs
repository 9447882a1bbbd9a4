//! Building an operation's HTTP request, authenticated with an access token in the query
//! or a bce-auth-v1 signature in the headers.

use crate::auth::sign::{
    BceCredentials, DEFAULT_EXPIRE_SECS, SigningInput, authorization, format_timestamp,
    host_for_signing,
};
use crate::operation::Operation;
use crate::optable::spec;
use crate::policy::config::ClientConfig;
use crate::secret::AccessToken;
use crate::transport::HttpRequest;

/// Characters left bare in the `access_token` query value: what Python's `urlencode`
/// (the official SDK) leaves bare, so real tokens (`24.xxx.2592000.1485516651.282335-8574074`)
/// appear in the URL exactly as the SDK sends them.
const QUERY_VALUE: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// How one request is authenticated.
#[derive(Clone, Copy)]
pub(crate) enum Authorization<'a> {
    /// `?access_token=...`.
    Token(&'a AccessToken),
    /// A bce-auth-v1 `authorization` header.
    Signature(&'a BceCredentials),
}

/// The request of `op` carrying `body`, in the content type the operation table names.
pub(crate) fn operation_request(
    config: &ClientConfig,
    op: Operation,
    body: bytes::Bytes,
    auth: Authorization<'_>,
) -> HttpRequest {
    let query = match &auth {
        Authorization::Token(t) => Some(format!(
            "access_token={}",
            percent_encoding::utf8_percent_encode(t.expose_secret(), QUERY_VALUE)
        )),
        Authorization::Signature(_) => None,
    };
    let mut request =
        crate::wire::token::form_post(config.endpoint.uri(op.path(), query.as_deref()), body);
    let headers = request.headers_mut();
    headers.insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static(spec(op).body.content_type()),
    );
    if let Ok(ua) = http::HeaderValue::from_str(&config.user_agent) {
        headers.insert(http::header::USER_AGENT, ua);
    }
    if let Authorization::Signature(credentials) = auth {
        let timestamp = format_timestamp((config.wall_clock)());
        // As the official SDK: sign the host name without its port, and send that same
        // `Host` so the server sees exactly what was signed.
        let host = host_for_signing(config.endpoint.host());
        let signed = [
            ("host".to_owned(), host.clone()),
            ("x-bce-date".to_owned(), timestamp.clone()),
        ];
        let path = config.endpoint.full_path(op.path());
        let value = authorization(
            credentials,
            &SigningInput {
                method: "POST",
                path: &path,
                query: &[],
                headers: &signed,
                timestamp: &timestamp,
                expire_secs: DEFAULT_EXPIRE_SECS,
            },
        );
        for (name, value) in [
            ("host", host),
            ("x-bce-date", timestamp),
            ("authorization", value),
        ] {
            if let Ok(v) = http::HeaderValue::from_str(&value) {
                headers.insert(name, v);
            }
        }
    }
    request
}
