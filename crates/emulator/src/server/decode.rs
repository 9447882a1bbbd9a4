//! Reading an operation's body into a checked request: the fields (form or JSON, as the
//! table says), the parameters, and the image from `image`, `url` or (refused) `pdf_file`.

use axum::body::Body;
use baidu_imageprocess_protocol::{self as protocol, ErrorCode, ParamFields as _};

use crate::body::{self, BodyError, FormFields, JsonFields};
use crate::ops::{self, Endpoint, Refusal};
use crate::state::AppState;

/// Why a request has no image and parameters to run.
pub(super) enum RequestError {
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
pub(super) async fn read_request(
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
