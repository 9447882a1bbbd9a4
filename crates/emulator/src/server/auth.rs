//! Authentication of an operation's request: an `access_token` query or a bce-auth-v1
//! signature.

use std::time::{Duration, SystemTime};

use axum::extract::Request;
use axum::http::header;
use baidu_imageprocess_protocol::{self as protocol, ErrorCode, sign};

use crate::state::{AppState, TokenCheck};

/// How far in the future a bce-auth-v1 timestamp may be (client clocks drift).
const MAX_CLOCK_SKEW: Duration = Duration::from_secs(300);

/// Checks the request's authentication: an `access_token` query or a bce-auth-v1
/// signature.
pub(super) fn authenticate(
    state: &AppState,
    request: &Request,
    query: &[(String, String)],
) -> Result<(), ErrorCode> {
    if let Some(value) = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        && value.starts_with("bce-auth-v1/")
    {
        return verify_signature(state, request, query, value);
    }
    let token = query
        .iter()
        .find(|(k, _)| k == "access_token")
        .map(|(_, v)| v.as_str());
    let Some(token) = token.filter(|t| !t.is_empty()) else {
        return Err(ErrorCode::INVALID_PARAMETER);
    };
    let check = match state.check_token(token) {
        // The official Node SDK appends `?aipSdk=node` after the token
        // (`...&access_token=T?aipSdk=node`), and the service accepts that.
        TokenCheck::Unknown => match token.split_once('?') {
            Some((bare, _)) => state.check_token(bare),
            None => TokenCheck::Unknown,
        },
        check => check,
    };
    match check {
        TokenCheck::Valid => Ok(()),
        TokenCheck::Unknown => Err(ErrorCode::ACCESS_TOKEN_INVALID),
        TokenCheck::Expired => Err(ErrorCode::ACCESS_TOKEN_EXPIRED),
    }
}

fn verify_signature(
    state: &AppState,
    request: &Request,
    query: &[(String, String)],
    value: &str,
) -> Result<(), ErrorCode> {
    let parsed = sign::parse_authorization(value).ok_or(ErrorCode::IAM_CERTIFICATION_FAILED)?;
    let signed_at =
        sign::parse_timestamp(&parsed.timestamp).ok_or(ErrorCode::IAM_CERTIFICATION_FAILED)?;
    // Signed in the future beyond a small clock skew: it would be replayable until then,
    // so it is refused like an expired one.
    let too_old_or_early = match SystemTime::now().duration_since(signed_at) {
        Ok(age) => age.as_secs() > u64::from(parsed.expire_secs),
        Err(ahead) => ahead.duration() > MAX_CLOCK_SKEW,
    };
    if too_old_or_early {
        return Err(ErrorCode::IAM_CERTIFICATION_FAILED);
    }
    let (Some(ak), Some(sk)) = (&state.config.api_key, &state.config.secret_key) else {
        // Without configured credentials any well-formed signature is accepted.
        return Ok(());
    };
    if &parsed.access_key != ak {
        return Err(ErrorCode::IAM_CERTIFICATION_FAILED);
    }
    let mut headers = Vec::with_capacity(parsed.signed_headers.len());
    for name in &parsed.signed_headers {
        let value = request
            .headers()
            .get(name.as_str())
            .and_then(|v| v.to_str().ok())
            .ok_or(ErrorCode::IAM_CERTIFICATION_FAILED)?;
        headers.push((name.clone(), value.to_owned()));
    }
    let credentials = protocol::BceCredentials {
        access_key: ak.clone(),
        secret_key: sk.clone(),
    };
    let expected = sign::signature(
        &credentials,
        &sign::SigningInput {
            method: request.method().as_str(),
            path: request.uri().path(),
            query,
            headers: &headers,
            timestamp: &parsed.timestamp,
            expire_secs: parsed.expire_secs,
        },
    );
    if expected == parsed.signature {
        Ok(())
    } else {
        Err(ErrorCode::IAM_CERTIFICATION_FAILED)
    }
}
