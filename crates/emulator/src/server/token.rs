//! The OAuth token endpoint: `client_credentials` grants, answered with a token the
//! operations accept until it expires.

use axum::extract::Request;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use baidu_imageprocess_protocol::parse_pairs;
use serde_json::json;

use super::{content_length, query_pairs};
use crate::body;
use crate::state::AppState;

/// Largest token-endpoint body.
const MAX_TOKEN_BODY: usize = 64 * 1024;

/// Answers a token request (GET or POST, query and form fields alike).
pub(super) async fn token(state: &AppState, request: Request) -> Response {
    let mut params = query_pairs(&request);
    if request.method() == Method::POST {
        if content_length(request.headers()).is_some_and(|n| n > MAX_TOKEN_BODY) {
            return oauth_error(
                state,
                StatusCode::PAYLOAD_TOO_LARGE,
                "invalid_request",
                "request body too large",
            );
        }
        let read = body::read_all(request.into_body(), MAX_TOKEN_BODY);
        let body = match tokio::time::timeout(state.config.body_timeout, read).await {
            Ok(Ok(body)) => body,
            Ok(Err(_)) => {
                return oauth_error(
                    state,
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "invalid_request",
                    "request body too large",
                );
            }
            Err(_) => {
                return oauth_error(
                    state,
                    StatusCode::REQUEST_TIMEOUT,
                    "invalid_request",
                    "request body not received in time",
                );
            }
        };
        params
            .extend(parse_pairs(&body).map(|(k, v)| (k, String::from_utf8_lossy(&v).into_owned())));
    } else if request.method() != Method::GET {
        return oauth_error(
            state,
            StatusCode::METHOD_NOT_ALLOWED,
            "invalid_request",
            "use GET or POST",
        );
    }
    let param = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    if param("grant_type") != Some("client_credentials") {
        return oauth_error(
            state,
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "unsupported grant type",
        );
    }
    let (Some(client_id), Some(client_secret)) = (param("client_id"), param("client_secret"))
    else {
        return oauth_error(
            state,
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "unknown client id",
        );
    };
    if let Some(expected) = &state.config.api_key
        && client_id != expected
    {
        return oauth_error(
            state,
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "unknown client id",
        );
    }
    if let Some(expected) = &state.config.secret_key
        && client_secret != expected.expose_secret()
    {
        return oauth_error(
            state,
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Client authentication failed",
        );
    }
    let access_token = state.issue_token();
    tracing::debug!("token issued");
    let body = json!({
        "refresh_token": format!("25.{:032x}.emulator", fastrand::u128(..)),
        "expires_in": state.config.token_ttl.as_secs().max(1),
        "session_key": "emulator-session-key",
        "access_token": access_token,
        "scope": "public brain_all_scope brain_image_process wise_adapt",
        "session_secret": "emulator-session-secret",
    });
    axum::Json(body).into_response()
}

fn oauth_error(state: &AppState, status: StatusCode, error: &str, description: &str) -> Response {
    state.counters.error(u32::from(status.as_u16()));
    (
        status,
        axum::Json(json!({"error": error, "error_description": description})),
    )
        .into_response()
}
