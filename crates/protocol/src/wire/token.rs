//! The OAuth 2.0 client-credentials token exchange.

use std::fmt;
use std::time::Duration;

use bytes::Bytes;
use serde::Deserialize;

use crate::endpoint::Endpoint;
use crate::error::{AuthError, DecodeError, DecodeErrorKind};
use crate::secret::{AccessToken, SecretKey};
use crate::transport::HttpRequest;
use crate::wire::form::encode_pairs;

/// Path of the token endpoint.
pub const TOKEN_PATH: &str = "/oauth/2.0/token";

/// The scope that lets an access token call the AI-platform APIs directly.
pub const BRAIN_ALL_SCOPE: &str = "brain_all_scope";

/// Builds the token request: `POST /oauth/2.0/token` with the credentials in the form
/// body (not the query, so the secret never sits in a URL).
pub fn token_request(endpoint: &Endpoint, api_key: &str, secret_key: &SecretKey) -> HttpRequest {
    let body = encode_pairs(&[
        ("grant_type", "client_credentials"),
        ("client_id", api_key),
        ("client_secret", secret_key.expose_secret()),
    ]);
    form_post(endpoint.uri(TOKEN_PATH, None), Bytes::from(body))
}

/// A `POST` of a form body that expects JSON back: the shape of every request the API
/// takes.
pub(crate) fn form_post(uri: http::Uri, body: Bytes) -> HttpRequest {
    let mut request = HttpRequest::new(body);
    *request.method_mut() = http::Method::POST;
    *request.uri_mut() = uri;
    let headers = request.headers_mut();
    headers.insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/x-www-form-urlencoded"),
    );
    headers.insert(
        http::header::ACCEPT,
        http::HeaderValue::from_static("application/json"),
    );
    request
}

/// A token endpoint's successful reply.
#[derive(Clone)]
pub struct TokenReply {
    /// The token.
    pub access_token: AccessToken,
    /// How long the token lives.
    pub expires_in: Duration,
    /// Space-separated scopes.
    pub scope: String,
}

impl TokenReply {
    /// Whether the token may call the AI-platform APIs directly (`brain_all_scope`).
    pub fn has_brain_scope(&self) -> bool {
        self.scope.split_whitespace().any(|s| s == BRAIN_ALL_SCOPE)
    }
}

impl fmt::Debug for TokenReply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenReply")
            .field("access_token", &self.access_token)
            .field("expires_in", &self.expires_in)
            .field("scope", &self.scope)
            .finish()
    }
}

#[derive(Deserialize)]
struct RawToken {
    access_token: Option<String>,
    expires_in: Option<serde_json::Value>,
    #[serde(default)]
    scope: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// Decodes the token endpoint's reply. The body is never copied into an error: it may
/// hold a token.
pub fn decode_token_reply(status: u16, body: &[u8]) -> Result<TokenReply, AuthError> {
    let malformed =
        |kind| AuthError::MalformedTokenReply(DecodeError::new(kind, status, None, body.len()));
    let raw: RawToken =
        serde_json::from_slice(crate::wire::reply::strip_bom(body)).map_err(|_| {
            malformed(if (200..300).contains(&status) {
                DecodeErrorKind::NotJson
            } else {
                DecodeErrorKind::HttpStatus
            })
        })?;
    if let Some(error) = raw.error {
        return Err(AuthError::InvalidClient {
            error,
            description: raw.error_description.unwrap_or_default(),
        });
    }
    let token = raw
        .access_token
        .filter(|t| !t.is_empty())
        .ok_or_else(|| malformed(DecodeErrorKind::UnexpectedShape))?;
    // 30 days when absent; accept a number or a string of digits.
    let expires_in = match raw.expires_in {
        Some(serde_json::Value::Number(n)) => n.as_u64(),
        Some(serde_json::Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    }
    .unwrap_or(2_592_000);
    Ok(TokenReply {
        access_token: AccessToken::new(token),
        expires_in: Duration::from_secs(expires_in),
        scope: raw.scope.unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_keeps_secret_out_of_the_url() {
        let r = token_request(&Endpoint::baidu(), "ak", &SecretKey::new("s+k/="));
        assert_eq!(r.method(), http::Method::POST);
        assert_eq!(
            r.uri().to_string(),
            "https://aip.baidubce.com/oauth/2.0/token"
        );
        assert_eq!(
            r.body().as_ref(),
            b"grant_type=client_credentials&client_id=ak&client_secret=s%2Bk%2F%3D"
        );
    }

    #[test]
    fn decodes_success_and_failure() {
        let ok = decode_token_reply(
            200,
            br#"{"refresh_token":"r","expires_in":2592000,"session_key":"x","access_token":"24.abc","scope":"public brain_all_scope","session_secret":"y"}"#,
        )
        .unwrap();
        assert_eq!(ok.access_token.expose_secret(), "24.abc");
        assert_eq!(ok.expires_in, Duration::from_secs(2_592_000));
        assert!(ok.has_brain_scope());
        assert!(!format!("{ok:?}").contains("24.abc"));

        let err = decode_token_reply(
            401,
            br#"{"error":"invalid_client","error_description":"unknown client id"}"#,
        )
        .unwrap_err();
        assert!(
            matches!(err, AuthError::InvalidClient { ref error, .. } if error == "invalid_client")
        );

        let err = decode_token_reply(200, br#"{"access_token":"24.SECRET""#).unwrap_err();
        assert!(!format!("{err:?} {err}").contains("SECRET"));
    }
}
