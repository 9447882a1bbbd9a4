//! The HTTP API: the token endpoint, the four operations, stats.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use baidu_imageprocess_engine as engine;
use baidu_imageprocess_protocol::{
    self as protocol, ErrorCode, LimitViolation, Operation, parse_pairs, sign,
};
use base64::Engine as _;
use serde_json::json;

use crate::state::{AppState, TokenCheck};

/// Largest request body accepted: 4 MiB of base64 once percent-encoded (about 3 % of
/// base64 characters need escaping in compressed images) plus form overhead. Bigger
/// bodies are refused from `Content-Length`, or as soon as the stream exceeds it.
pub const MAX_BODY: usize = 5 * 1024 * 1024 + 512 * 1024;
/// Largest token-endpoint body.
const MAX_TOKEN_BODY: usize = 64 * 1024;
/// How far in the future a bce-auth-v1 timestamp may be (client clocks drift).
const MAX_CLOCK_SKEW: Duration = Duration::from_secs(300);

pub(crate) fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/__emulator/stats", get(stats))
        .fallback(dispatch)
        .with_state(state)
}

async fn stats(State(state): State<Arc<AppState>>) -> Response {
    axum::Json(state.counters.snapshot()).into_response()
}

async fn dispatch(State(state): State<Arc<AppState>>, request: Request) -> Response {
    let path = request.uri().path().to_owned();
    if path == protocol::TOKEN_PATH {
        state.counters.request("token");
        return token(&state, request).await;
    }
    let Some(op) = Operation::from_path(&path) else {
        state.counters.request("other");
        state.counters.error(404);
        let body = json!({"error_code": 3, "error_msg": "Unsupported openapi method", "log_id": state.next_log_id()});
        return (StatusCode::NOT_FOUND, axum::Json(body)).into_response();
    };
    state.counters.request(op.name());
    let (parts, body) = request.into_parts();
    let unread = UnreadBody::new(body, state.config.body_timeout);
    operation(
        &state,
        op,
        Request::from_parts(parts, Body::empty()),
        unread,
    )
    .await
}

/// A request body not read yet. Dropped unread (the request was answered from its
/// header: refused, throttled, not admitted), it is read and discarded in the background
/// (up to [`MAX_BODY`], within the body timeout) so the client, still sending, receives
/// the answer instead of a reset connection; nothing is kept in memory.
struct UnreadBody {
    body: Option<Body>,
    timeout: Duration,
}

impl UnreadBody {
    fn new(body: Body, timeout: Duration) -> Self {
        Self {
            body: Some(body),
            timeout,
        }
    }

    /// The body, to read now.
    fn take(&mut self) -> Option<Body> {
        self.body.take()
    }

    /// Drops the body without draining it (it is too large to be worth reading).
    fn abandon(&mut self) {
        self.body = None;
    }
}

impl Drop for UnreadBody {
    fn drop(&mut self) {
        let (Some(body), Ok(runtime)) = (self.body.take(), tokio::runtime::Handle::try_current())
        else {
            return;
        };
        let timeout = self.timeout;
        runtime.spawn(async move {
            use futures_util::StreamExt as _;
            let mut stream = body.into_data_stream();
            let discard = async {
                let mut seen = 0usize;
                while let Some(Ok(chunk)) = stream.next().await {
                    seen += chunk.len();
                    if seen > MAX_BODY {
                        break;
                    }
                }
            };
            let _ = tokio::time::timeout(timeout, discard).await;
        });
    }
}

fn api_error(state: &AppState, code: ErrorCode) -> Response {
    api_error_status(state, code, StatusCode::OK)
}

fn api_error_status(state: &AppState, code: ErrorCode, status: StatusCode) -> Response {
    state.counters.error(code.get());
    let body = json!({
        "error_code": code.get(),
        "error_msg": code.message().unwrap_or("error"),
        "log_id": state.next_log_id(),
    });
    (status, axum::Json(body)).into_response()
}

fn content_length(headers: &HeaderMap) -> Option<usize> {
    headers
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .parse()
        .ok()
}

/// Why a body could not be read.
enum BodyError {
    /// Larger than the limit, or the connection broke.
    TooLarge,
    /// Not all of it arrived in time.
    TimedOut,
}

/// Reads a body of at most `limit` bytes within `timeout`.
async fn read_body(body: Body, limit: usize, timeout: Duration) -> Result<bytes::Bytes, BodyError> {
    match tokio::time::timeout(timeout, axum::body::to_bytes(body, limit)).await {
        Ok(Ok(bytes)) => Ok(bytes),
        Ok(Err(_)) => Err(BodyError::TooLarge),
        Err(_) => Err(BodyError::TimedOut),
    }
}

fn query_pairs(request: &Request) -> Vec<(String, String)> {
    parse_pairs(request.uri().query().unwrap_or("").as_bytes())
        .map(|(k, v)| (k, String::from_utf8_lossy(&v).into_owned()))
        .collect()
}

async fn token(state: &AppState, request: Request) -> Response {
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
        let body = match read_body(
            request.into_body(),
            MAX_TOKEN_BODY,
            state.config.body_timeout,
        )
        .await
        {
            Ok(body) => body,
            Err(BodyError::TooLarge) => {
                return oauth_error(
                    state,
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "invalid_request",
                    "request body too large",
                );
            }
            Err(BodyError::TimedOut) => {
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

/// Checks the request's authentication: an `access_token` query or a bce-auth-v1
/// signature.
fn authenticate(
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
    match token.filter(|t| !t.is_empty()) {
        None => Err(ErrorCode::INVALID_PARAMETER),
        Some(t) => match state.check_token(t) {
            TokenCheck::Valid => Ok(()),
            TokenCheck::Unknown => Err(ErrorCode::ACCESS_TOKEN_INVALID),
            TokenCheck::Expired => Err(ErrorCode::ACCESS_TOKEN_EXPIRED),
        },
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

async fn operation(
    state: &Arc<AppState>,
    op: Operation,
    request: Request,
    mut unread: UnreadBody,
) -> Response {
    if request.method() != Method::POST {
        return api_error(state, ErrorCode::UNSUPPORTED_METHOD);
    }
    let latency = state.faults.latency();
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let query = query_pairs(&request);
    if let Err(code) = authenticate(state, &request, &query) {
        return api_error(state, code);
    }
    if state.faults.denies(op) {
        return api_error(state, ErrorCode::NO_PERMISSION);
    }
    if !state.admit() {
        return api_error(state, ErrorCode::QPS_LIMIT);
    }
    if let Some(code) = state.injected_failure() {
        return api_error(state, code);
    }
    if content_length(request.headers()).is_some_and(|n| n > MAX_BODY) {
        unread.abandon();
        return api_error_status(
            state,
            ErrorCode::IMAGE_SIZE_ERROR,
            StatusCode::PAYLOAD_TOO_LARGE,
        );
    }
    // Admission before a byte of the body is read: when full, 18 at once, so memory is
    // bounded by the admitted requests, not by the connections.
    let Ok(_admitted) = Arc::clone(&state.admission).try_acquire_owned() else {
        return api_error(state, ErrorCode::QPS_LIMIT);
    };
    let body = {
        let Ok(_uploading) = Arc::clone(&state.uploads).acquire_owned().await else {
            return api_error(state, ErrorCode::SERVICE_UNAVAILABLE);
        };
        let Some(body) = unread.take() else {
            return api_error(state, ErrorCode::SERVICE_UNAVAILABLE);
        };
        match read_body(body, MAX_BODY, state.config.body_timeout).await {
            Ok(body) => body,
            Err(BodyError::TooLarge) => {
                return api_error_status(
                    state,
                    ErrorCode::IMAGE_SIZE_ERROR,
                    StatusCode::PAYLOAD_TOO_LARGE,
                );
            }
            Err(BodyError::TimedOut) => {
                return api_error_status(
                    state,
                    ErrorCode::INVALID_PARAMETER,
                    StatusCode::REQUEST_TIMEOUT,
                );
            }
        }
    };
    // Every parameter and limit of the operation table, as the service checks them.
    let request = match protocol::decode_request(op, &body) {
        Ok(request) => request,
        Err(violation) => return refuse(state, &violation),
    };
    drop(body);
    let image = match request.into_parts().0 {
        protocol::Input::Image(image) => image.into_owned(),
        // Not fetched nor rendered yet: answered as the service answers inputs it cannot
        // read.
        protocol::Input::Url(_) => return api_error(state, ErrorCode::URL_RESPONSE_INVALID),
        protocol::Input::Pdf { .. } => return api_error(state, ErrorCode::IMAGE_FORMAT_ERROR),
    };
    let info = match protocol::validate(op, &image) {
        Ok(info) => info,
        Err(violation) => return refuse(state, &violation),
    };
    // Within the API's limits but beyond the engine's decoder (a 16385×2 image for
    // enhance, whose only limit is the pixel count): a size error, not a format error.
    if !state.config.echo && info.width.max(info.height) > engine::MAX_SIDE {
        tracing::debug!(info.width, info.height, "side beyond the engine's decoder");
        return api_error(state, ErrorCode::IMAGE_SIZE_ERROR);
    }
    let result = if state.config.echo {
        Ok(image)
    } else {
        let Some(request) = engine_request(op) else {
            return api_error(state, ErrorCode::UNSUPPORTED_METHOD);
        };
        let engine = state.engine.clone();
        run_on_pool(state, move || {
            engine.process(&request, &image).map(|out| out.image)
        })
        .await
    };
    match result {
        Ok(output) => {
            state.counters.success();
            let log_id = state.next_log_id();
            let encoded = base64::engine::general_purpose::STANDARD.encode(&output);
            drop(output);
            // Written by hand: serde_json would copy the multi-megabyte string again.
            let mut body = Vec::with_capacity(encoded.len() + 48);
            body.extend_from_slice(format!("{{\"log_id\":{log_id},\"image\":\"").as_bytes());
            body.extend_from_slice(encoded.as_bytes());
            body.extend_from_slice(b"\"}");
            (
                [(header::CONTENT_TYPE, "application/json;charset=UTF-8")],
                body,
            )
                .into_response()
        }
        Err(code) => api_error(state, code),
    }
}

fn refuse(state: &AppState, violation: &LimitViolation) -> Response {
    tracing::debug!(%violation, "image refused");
    api_error(state, violation.code())
}

/// The engine request of an operation the emulator serves; `None` for the operations it
/// does not serve yet (answered as an unsupported method).
fn engine_request(op: Operation) -> Option<engine::Request<'static>> {
    match op {
        Operation::ImageQualityEnhance => Some(engine::Request::Enhance),
        Operation::Dehaze => Some(engine::Request::Dehaze),
        Operation::ContrastEnhance => Some(engine::Request::Contrast),
        Operation::Colourize => Some(engine::Request::Colourize),
        Operation::StretchRestore
        | Operation::ImageDefinitionEnhance
        | Operation::ColorEnhance
        | Operation::StyleTrans
        | Operation::SelfieAnime
        | Operation::Inpainting
        | Operation::SkySeg
        | Operation::RemoveMoire
        | Operation::DocRepair
        | Operation::Denoise
        | Operation::CustomizeStylization => None,
    }
}

/// Runs an engine job on the bounded worker pool (requests reaching it were admitted,
/// so the wait is bounded); an engine error answers 216201 and a panic 282000.
async fn run_on_pool<E: std::fmt::Display + Send + 'static>(
    state: &Arc<AppState>,
    job: impl FnOnce() -> Result<Vec<u8>, E> + Send + 'static,
) -> Result<Vec<u8>, ErrorCode> {
    let Ok(permit) = Arc::clone(&state.workers).acquire_owned().await else {
        return Err(ErrorCode::SERVICE_UNAVAILABLE);
    };
    let joined = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        job()
    })
    .await;
    match joined {
        Ok(Ok(output)) => Ok(output),
        Ok(Err(e)) => {
            tracing::debug!(error = %e, "engine refused the image");
            Err(ErrorCode::IMAGE_FORMAT_ERROR)
        }
        Err(e) => {
            tracing::error!(error = %e, "engine panicked");
            Err(ErrorCode::INTERNAL_ERROR)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::EmulatorConfig;

    #[tokio::test]
    async fn an_engine_panic_answers_282000_and_frees_the_worker() {
        let state = AppState::new(EmulatorConfig {
            workers: 1,
            ..EmulatorConfig::default()
        });
        let panicked = run_on_pool(&state, || -> Result<Vec<u8>, String> {
            panic!("engine bug");
        })
        .await;
        assert_eq!(panicked, Err(ErrorCode::INTERNAL_ERROR));
        let refused =
            run_on_pool(&state, || -> Result<Vec<u8>, String> { Err("bad".into()) }).await;
        assert_eq!(refused, Err(ErrorCode::IMAGE_FORMAT_ERROR));
        // The single worker is free again.
        let ok = run_on_pool(&state, || -> Result<Vec<u8>, String> { Ok(vec![1]) }).await;
        assert_eq!(ok, Ok(vec![1]));
    }
}
