//! The HTTP API: the token endpoint, the fifteen operations, stats.

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
    self as protocol, ErrorCode, ParamFields as _, parse_pairs, sign,
};
use base64::Engine as _;
use serde_json::json;

use crate::body::{self, BodyError, FormFields, JsonFields};
use crate::ops::{self, Endpoint, Refusal};
use crate::state::{AppState, TokenCheck};

/// Largest request body any operation accepts: its base64 limits (10 MB for the image
/// effects) plus room for the other fields, with every character percent-encoded (a
/// white BMP's base64 is all `/`, sent as `%2F`). Each operation's own cap is smaller;
/// bodies over it are refused from `Content-Length`, or as soon as the stream exceeds
/// it, and form bodies are decoded while they stream, so memory follows the decoded size.
pub const MAX_BODY: usize = ops::LARGEST_BODY;
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
    let Some(endpoint) = Endpoint::from_path(&path) else {
        state.counters.request("other");
        state.counters.error(404);
        let body = json!({"error_code": 3, "error_msg": "Unsupported openapi method", "log_id": state.next_log_id()});
        return (StatusCode::NOT_FOUND, axum::Json(body)).into_response();
    };
    state.counters.request(endpoint.wire());
    let (parts, body) = request.into_parts();
    let unread = UnreadBody::new(body, state.config.body_timeout);
    operation(
        &state,
        &endpoint,
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
    refuse(state, &Refusal::plain(code))
}

fn refuse(state: &AppState, refusal: &Refusal) -> Response {
    refuse_status(state, refusal, StatusCode::OK)
}

fn refuse_status(state: &AppState, refusal: &Refusal, status: StatusCode) -> Response {
    tracing::debug!(code = refusal.code.get(), message = %refusal.message, "request refused");
    state.counters.error(refusal.code.get());
    let body = json!({
        "error_code": refusal.code.get(),
        "error_msg": refusal.message,
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

async fn operation(
    state: &Arc<AppState>,
    endpoint: &Endpoint,
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
    if state.faults.denies(endpoint.op) {
        return api_error(state, ErrorCode::NO_PERMISSION);
    }
    if !state.admit() {
        return api_error(state, ErrorCode::QPS_LIMIT);
    }
    if let Some(code) = state.injected_failure() {
        return api_error(state, code);
    }
    if content_length(request.headers()).is_some_and(|n| n > endpoint.max_body()) {
        unread.abandon();
        return body_too_large(state, endpoint);
    }
    // Admission before a byte of the body is read: when full, 18 at once, so memory is
    // bounded by the admitted requests, not by the connections.
    let Ok(_admitted) = Arc::clone(&state.admission).try_acquire_owned() else {
        return api_error(state, ErrorCode::QPS_LIMIT);
    };
    let size_hint = content_length(request.headers()).unwrap_or(0);
    let (request, image_text) = {
        let Ok(_uploading) = Arc::clone(&state.uploads).acquire_owned().await else {
            return api_error(state, ErrorCode::SERVICE_UNAVAILABLE);
        };
        let Some(body) = unread.take() else {
            return api_error(state, ErrorCode::SERVICE_UNAVAILABLE);
        };
        let read = read_request(state, endpoint, body, size_hint);
        match tokio::time::timeout(state.config.body_timeout, read).await {
            Ok(Ok(decoded)) => decoded,
            Ok(Err(RequestError::TooLarge)) => return body_too_large(state, endpoint),
            Ok(Err(RequestError::Refused(refusal))) => return refuse(state, &refusal),
            Err(_) => {
                let refusal = Refusal::new(
                    ErrorCode::INVALID_PARAMETER,
                    "the request body did not arrive in time",
                );
                return refuse_status(state, &refusal, StatusCode::REQUEST_TIMEOUT);
            }
        }
    };
    // Within the API's limits but beyond the engine's decoder (a 16385×2 image for
    // enhance, whose only limit is the pixel count): a size error, not a format error.
    if let protocol::Input::Image(image) = request.input()
        && let Ok(info) = protocol::sniff(image)
        && !state.config.echo
        && info.width.max(info.height) > engine::MAX_SIDE
    {
        tracing::debug!(info.width, info.height, "side beyond the engine's decoder");
        return api_error(state, ErrorCode::IMAGE_SIZE_ERROR);
    }
    let result = if state.config.echo {
        Ok(echo(endpoint, request, image_text))
    } else {
        run_engine(state, request).await
    };
    match result {
        Ok(output) => {
            state.counters.success();
            reply(state.next_log_id(), output)
        }
        Err(refusal) => refuse(state, &refusal),
    }
}

fn body_too_large(state: &AppState, endpoint: &Endpoint) -> Response {
    let refusal = Refusal::new(
        ErrorCode::IMAGE_SIZE_ERROR,
        format!(
            "image size error: the request is over the {} byte limit of {} (base64 at most {} bytes)",
            endpoint.max_body(),
            endpoint.wire(),
            endpoint.spec.limits.max_base64_len
        ),
    );
    refuse_status(state, &refusal, StatusCode::PAYLOAD_TOO_LARGE)
}

/// Why a request has no image and parameters to run.
enum RequestError {
    TooLarge,
    Refused(Refusal),
}

impl From<Refusal> for RequestError {
    fn from(refusal: Refusal) -> Self {
        Self::Refused(refusal)
    }
}

impl From<BodyError> for RequestError {
    fn from(_: BodyError) -> Self {
        // A broken body is answered like an oversized one: nobody reads the reply.
        Self::TooLarge
    }
}

/// Reads the body (form or JSON, as the table says), decodes the parameters, gets the
/// image from `image`, `url` or (refused) `pdf_file`, and checks the whole request as the
/// service does (limits from the table, rectangles inside the image, the style image).
/// With `--echo`, the image's base64 text comes back too when it is exactly what encoding
/// the image gives, so the reply can send it again instead of encoding it anew.
async fn read_request(
    state: &AppState,
    endpoint: &Endpoint,
    body: Body,
    size_hint: usize,
) -> Result<(protocol::Request<'static>, Option<Vec<u8>>), RequestError> {
    let (image, params, text) = if endpoint.is_json() {
        let raw = body::read_all(body, endpoint.max_body()).await?;
        let object = json_object(endpoint, &raw)?;
        drop(raw);
        let fields = JsonFields(object);
        let params = protocol::decode_params(endpoint.op, &fields).map_err(Refusal::from)?;
        let image = match fields.0.get("image") {
            Some(serde_json::Value::String(text)) if !text.trim().is_empty() => {
                decode_image(endpoint, text.as_bytes())?
            }
            _ => match fields.text("url").filter(|u| !u.trim().is_empty()) {
                Some(url) => fetch(state, endpoint, &url).await?,
                None if fields.0.contains_key("image") => {
                    return Err(Refusal::plain(ErrorCode::EMPTY_IMAGE).into());
                }
                None => return Err(missing_input().into()),
            },
        };
        (image, params, None)
    } else {
        let mut fields =
            body::read_form(body, endpoint.max_body(), endpoint.max_fields(), size_hint).await?;
        let params = protocol::decode_params(endpoint.op, &fields).map_err(Refusal::from)?;
        let (image, text) = form_image(state, endpoint, &mut fields).await?;
        (image, params, text)
    };
    let request = ops::validated(image, params)?;
    Ok((request, text.filter(|_| state.config.echo)))
}

fn missing_input() -> Refusal {
    Refusal::new(
        ErrorCode::NOT_ENOUGH_PARAM,
        "param[image] or param[url] is required",
    )
}

/// Parses a JSON body; a form body here (the official Python SDK's `inpaintingByMask`
/// sends one) gets a message that says what the operation takes.
fn json_object(
    endpoint: &Endpoint,
    raw: &[u8],
) -> Result<serde_json::Map<String, serde_json::Value>, Refusal> {
    if raw.trim_ascii_start().first() != Some(&b'{') {
        return Err(Refusal::invalid(format!(
            "{} takes a JSON body (Content-Type: application/json): {{\"image\" or \"url\", \"rectangle\": [{{\"left\", \"top\", \"width\", \"height\"}}]}}, not a form",
            endpoint.wire()
        )));
    }
    match serde_json::from_slice::<serde_json::Value>(raw) {
        Ok(serde_json::Value::Object(map)) => Ok(map),
        _ => Err(Refusal::invalid(format!(
            "the body of {} is not a valid JSON object",
            endpoint.wire()
        ))),
    }
}

/// The image of a form body, and its base64 text when that is exactly the image's
/// canonical encoding (padded, no whitespace).
async fn form_image(
    state: &AppState,
    endpoint: &Endpoint,
    fields: &mut FormFields,
) -> Result<(Vec<u8>, Option<Vec<u8>>), Refusal> {
    let image = fields.take("image");
    if let Some(text) = image.filter(|t| !t.trim_ascii().is_empty()) {
        let bytes = decode_image(endpoint, &text)?;
        // The decoder accepts only canonical trailing bits, so the text is canonical when
        // it is as long as the padded encoding (no whitespace dropped, no padding missing).
        let canonical = protocol::base64_len(bytes.len()) == text.len();
        return Ok((bytes, canonical.then_some(text)));
    }
    if let Some(url) = fields.get("url").filter(|u| !u.trim_ascii().is_empty()) {
        let url = String::from_utf8_lossy(url).into_owned();
        return Ok((fetch(state, endpoint, &url).await?, None));
    }
    if endpoint.accepts_pdf() && fields.get("pdf_file").is_some_and(|p| !p.is_empty()) {
        return Err(Refusal::new(
            ErrorCode::IMAGE_FORMAT_ERROR,
            "image format error: the emulator renders no PDFs (pdf_file); send the page as image or url",
        ));
    }
    if fields.get("image").is_some() {
        return Err(Refusal::plain(ErrorCode::EMPTY_IMAGE));
    }
    Err(missing_input())
}

/// Decodes the base64 text of an image field within the operation's limit.
fn decode_image(endpoint: &Endpoint, text: &[u8]) -> Result<Vec<u8>, Refusal> {
    decode_base64_image(text, endpoint.spec.limits.max_base64_len, endpoint.wire())
}

fn decode_base64_image(text: &[u8], max: usize, what: &str) -> Result<Vec<u8>, Refusal> {
    let text = text.trim_ascii();
    if text.starts_with(b"data:") {
        return Err(protocol::LimitViolation::DataUriPrefix.into());
    }
    if text.len() > max {
        return Err(Refusal::new(
            ErrorCode::IMAGE_SIZE_ERROR,
            format!(
                "the image is {} bytes as base64, over the {max} byte limit of {what}",
                text.len()
            ),
        ));
    }
    let bytes =
        protocol::decode_base64(text).ok_or(Refusal::from(protocol::LimitViolation::NotBase64))?;
    if bytes.is_empty() {
        return Err(Refusal::plain(ErrorCode::EMPTY_IMAGE));
    }
    Ok(bytes)
}

async fn fetch(state: &AppState, endpoint: &Endpoint, url: &str) -> Result<Vec<u8>, Refusal> {
    let max_bytes = endpoint.spec.limits.max_base64_len / 4 * 3;
    state.fetcher.fetch(url, max_bytes).await
}

/// A field of the reply: image bytes to encode, or base64 text ready to send.
enum Payload {
    Bytes(Vec<u8>),
    Base64(Vec<u8>),
}

impl Payload {
    fn base64_len(&self) -> usize {
        match self {
            Self::Bytes(bytes) => protocol::base64_len(bytes.len()),
            Self::Base64(text) => text.len(),
        }
    }

    /// Appends the field's base64 text to `out`, encoding straight into it.
    fn write_base64(&self, out: &mut Vec<u8>) {
        match self {
            Self::Bytes(bytes) => {
                let start = out.len();
                out.resize(start + protocol::base64_len(bytes.len()), 0);
                let b64 = &base64::engine::general_purpose::STANDARD;
                let written = out
                    .get_mut(start..)
                    .and_then(|room| b64.encode_slice(bytes, room).ok())
                    .unwrap_or(0);
                out.truncate(start + written);
            }
            Self::Base64(text) => out.extend_from_slice(text),
        }
    }
}

/// What an operation produced: the reply's base64 fields.
struct Produced {
    image: Option<Payload>,
    labelmap: Option<Payload>,
    scoremap: Option<Payload>,
}

/// `--echo`: the input back as `image` (for sky segmentation, as both maps too, so the
/// reply keeps its shape). The image's own base64 text, when the request's was canonical,
/// goes back as it came: encoding the image again would give the same bytes.
fn echo(
    endpoint: &Endpoint,
    request: protocol::Request<'static>,
    text: Option<Vec<u8>>,
) -> Produced {
    let image = match (text, request.into_parts().0) {
        (Some(text), _) => Payload::Base64(text),
        (None, protocol::Input::Image(bytes)) => Payload::Bytes(bytes.into_owned()),
        (None, protocol::Input::Url(_) | protocol::Input::Pdf { .. }) => Payload::Bytes(Vec::new()),
    };
    let sky = endpoint.spec.reply == protocol::ReplyKind::SkySegmentation;
    let copy = |p: &Payload| match p {
        Payload::Bytes(b) => Payload::Bytes(b.clone()),
        Payload::Base64(t) => Payload::Base64(t.clone()),
    };
    Produced {
        labelmap: sky.then(|| copy(&image)),
        scoremap: sky.then(|| copy(&image)),
        image: Some(image),
    }
}

/// The success reply: `{log_id, image}`, or `{log_id, labelmap, scoremap}` for sky
/// segmentation. Written by hand into one buffer: serde_json would copy the
/// multi-megabyte strings again.
fn reply(log_id: u64, output: Produced) -> Response {
    let fields: Vec<(&str, Payload)> = [
        ("image", output.image),
        ("labelmap", output.labelmap),
        ("scoremap", output.scoremap),
    ]
    .into_iter()
    .filter_map(|(name, payload)| Some((name, payload?)))
    .collect();
    let len: usize = fields
        .iter()
        .map(|(k, v)| k.len() + v.base64_len() + 8)
        .sum();
    let mut body = Vec::with_capacity(len + 32);
    body.extend_from_slice(format!("{{\"log_id\":{log_id}").as_bytes());
    for (name, value) in fields {
        body.extend_from_slice(format!(",\"{name}\":\"").as_bytes());
        value.write_base64(&mut body);
        body.push(b'"');
    }
    body.push(b'}');
    (
        [(header::CONTENT_TYPE, "application/json;charset=UTF-8")],
        body,
    )
        .into_response()
}

/// Runs the engine on the bounded worker pool; a full queue answers 18 instead of
/// queueing without limit, and a panic answers 282000.
async fn run_engine(
    state: &Arc<AppState>,
    request: protocol::Request<'static>,
) -> Result<Produced, Refusal> {
    let engine = state.engine.clone();
    let joined = run_on_pool(state, move || {
        let (input, params) = request.into_parts();
        match input {
            protocol::Input::Image(image) => ops::run(&engine, &params, &image),
            protocol::Input::Url(_) | protocol::Input::Pdf { .. } => Err(
                engine::EngineError::Unsupported("only image bytes reach the engine".into()),
            ),
        }
    })
    .await;
    match joined {
        // Sky segmentation: the image is the mask.
        Ok(Ok(output)) => Ok(match output.scoremap {
            Some(scoremap) => Produced {
                image: None,
                labelmap: Some(Payload::Bytes(output.image)),
                scoremap: Some(Payload::Bytes(scoremap)),
            },
            None => Produced {
                image: Some(Payload::Bytes(output.image)),
                labelmap: None,
                scoremap: None,
            },
        }),
        Ok(Err(engine::EngineError::InvalidParameter(message))) => Err(Refusal::invalid(message)),
        Ok(Err(e)) => {
            tracing::debug!(error = %e, "engine refused the image");
            Err(Refusal::new(
                ErrorCode::IMAGE_FORMAT_ERROR,
                format!("image format error: {e}"),
            ))
        }
        Err(code) => Err(Refusal::plain(code)),
    }
}

/// Runs a job on the bounded worker pool (requests reaching it were admitted, so the
/// wait is bounded); a panic answers 282000 and frees the worker.
async fn run_on_pool<T: Send + 'static>(
    state: &Arc<AppState>,
    job: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ErrorCode> {
    let Ok(permit) = Arc::clone(&state.workers).acquire_owned().await else {
        return Err(ErrorCode::SERVICE_UNAVAILABLE);
    };
    tokio::task::spawn_blocking(move || {
        let _permit = permit;
        job()
    })
    .await
    .map_err(|e| {
        tracing::error!(error = %e, "engine panicked");
        ErrorCode::INTERNAL_ERROR
    })
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
        assert_eq!(refused, Ok(Err("bad".into())));
        // The single worker is free again.
        let ok = run_on_pool(&state, || -> Result<Vec<u8>, String> { Ok(vec![1]) }).await;
        assert_eq!(ok, Ok(Ok(vec![1])));
    }
}
