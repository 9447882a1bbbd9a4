//! Golden vectors: requests we build against requests Python's `requests` prepared
//! (`vectors/make_request_vectors.py`), and recorded reply bodies against the outcome
//! `vectors/replies/cases.json` expects.

// Helpers outside `#[test]` functions may fail loudly too.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use baidu_imageprocess_protocol::{
    AuthError, ClientConfig, Credentials, DecodeErrorKind, Endpoint, Error, HttpRequest, Machine,
    Operation, SecretKey, Session, Step, decode_image_reply, decode_token_reply, token_request,
};
use serde::Deserialize;

fn vectors_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors")
}

/// A request as text: `METHOD URI`, headers sorted by name, a blank line, the body.
fn render(request: &HttpRequest) -> String {
    let mut headers: Vec<(String, String)> = request
        .headers()
        .iter()
        .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap().to_owned()))
        .collect();
    headers.sort();
    let mut out = format!("{} {}\n", request.method(), request.uri());
    for (k, v) in headers {
        let _ = writeln!(out, "{k}: {v}");
    }
    out.push('\n');
    out.push_str(std::str::from_utf8(request.body()).expect("ASCII body"));
    out
}

#[derive(Deserialize)]
struct RequestManifest {
    user_agent: String,
    cases: Vec<RequestCase>,
}

#[derive(Deserialize)]
struct RequestCase {
    name: String,
    kind: String,
    endpoint: String,
    operation: Option<String>,
    token: Option<String>,
    width: Option<u32>,
    height: Option<u32>,
    extra_bytes: Option<usize>,
    api_key: Option<String>,
    secret_key: Option<String>,
}

/// Same bytes as the generator's `image()`.
fn image(width: u32, height: u32, extra: usize) -> Vec<u8> {
    let mut v = support::png_header(width, height);
    v.extend((0..extra).map(|i| ((i * 7 + 3) % 256) as u8));
    v
}

fn build(case: &RequestCase, user_agent: &str) -> HttpRequest {
    let endpoint: Endpoint = case.endpoint.parse().unwrap();
    if case.kind == "token" {
        return token_request(
            &endpoint,
            case.api_key.as_deref().unwrap(),
            &SecretKey::new(case.secret_key.as_deref().unwrap()),
        );
    }
    let op: Operation = case.operation.as_deref().unwrap().parse().unwrap();
    let config = ClientConfig::new(Credentials::access_token(case.token.as_deref().unwrap()))
        .with_endpoint(endpoint)
        .with_user_agent(user_agent)
        .with_rate_limit(None);
    let session = Session::new(config);
    let image = image(
        case.width.unwrap(),
        case.height.unwrap(),
        case.extra_bytes.unwrap(),
    );
    let now = Instant::now();
    let mut call = session.call(op, &image, now).unwrap();
    match call.next(now) {
        Step::Send(request) => request,
        other => panic!("{}: expected a request, got {other:?}", case.name),
    }
}

#[test]
fn requests_match_what_python_requests_prepares() {
    let dir = vectors_dir().join("requests");
    let manifest: RequestManifest =
        serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap();
    assert!(manifest.cases.len() >= 6);
    for case in &manifest.cases {
        let expected = std::fs::read_to_string(dir.join(format!("{}.http", case.name))).unwrap();
        let actual = render(&build(case, &manifest.user_agent));
        assert!(
            actual == expected,
            "{}: request differs (- expected, + ours)\n{}",
            case.name,
            support::diff(&expected, &actual)
        );
    }
}

#[test]
fn operation_requests_carry_the_attempt_timeout() {
    let session =
        Session::new(ClientConfig::new(Credentials::access_token("t")).with_rate_limit(None));
    let now = Instant::now();
    let mut call = session
        .call(Operation::Dehaze, &support::png_header(300, 300), now)
        .unwrap();
    let Step::Send(request) = call.next(now) else {
        panic!("expected a request")
    };
    assert_eq!(
        request
            .extensions()
            .get::<baidu_imageprocess_protocol::AttemptTimeout>(),
        Some(&baidu_imageprocess_protocol::AttemptTimeout(
            Duration::from_secs(60)
        ))
    );
}

#[derive(Deserialize)]
struct ReplyCases {
    image: Vec<ImageCase>,
    token: Vec<TokenCase>,
}

#[derive(Deserialize)]
struct ImageCase {
    file: String,
    status: u16,
    ok: Option<OkReply>,
    api: Option<ApiReply>,
    decode: Option<String>,
    retryable: Option<bool>,
}

#[derive(Deserialize)]
struct OkReply {
    log_id: String,
    image_hex: String,
}

#[derive(Deserialize)]
struct ApiReply {
    code: u32,
    message: String,
    log_id: Option<String>,
}

#[derive(Deserialize)]
struct TokenCase {
    file: String,
    status: u16,
    ok: Option<TokenOk>,
    invalid_client: Option<String>,
    malformed: Option<String>,
}

#[derive(Deserialize)]
struct TokenOk {
    expires_in: u64,
    brain_all_scope: bool,
}

fn kind_name(kind: DecodeErrorKind) -> String {
    format!("{kind:?}")
}

fn reply_cases() -> ReplyCases {
    let path = vectors_dir().join("replies/cases.json");
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn body(file: &str) -> Vec<u8> {
    std::fs::read(vectors_dir().join("replies").join(file)).unwrap()
}

#[test]
fn recorded_replies_decode_as_expected() {
    let cases = reply_cases();
    assert!(cases.image.len() >= 30);
    for case in &cases.image {
        let body = body(&case.file);
        let label = format!("{} (HTTP {})", case.file, case.status);
        let result = decode_image_reply(case.status, &body);
        match (&case.ok, &case.api, &case.decode, result) {
            (Some(ok), None, None, Ok(reply)) => {
                assert_eq!(reply.log_id.to_string(), ok.log_id, "{label}");
                assert_eq!(hex::encode(&reply.image), ok.image_hex, "{label}");
            }
            (
                None,
                Some(api),
                None,
                Err(Error::Api {
                    code,
                    message,
                    log_id,
                    ..
                }),
            ) => {
                assert_eq!(code.get(), api.code, "{label}");
                assert_eq!(message, api.message, "{label}");
                assert_eq!(log_id.map(|l| l.to_string()), api.log_id, "{label}");
            }
            (None, None, Some(kind), Err(e @ Error::Decode(_))) => {
                let Error::Decode(d) = &e else { unreachable!() };
                assert_eq!(&kind_name(d.kind()), kind, "{label}");
                assert_eq!(d.status(), case.status, "{label}");
                assert_eq!(Some(e.is_retryable()), case.retryable, "{label}");
                // The excerpt is short and on one line.
                assert!(d.excerpt().chars().count() <= 160 && !d.excerpt().contains('\n'));
            }
            (_, _, _, result) => panic!("{label}: unexpected {result:?}"),
        }
    }
}

#[test]
fn recorded_token_replies_decode_as_expected() {
    for case in reply_cases().token {
        let body = body(&case.file);
        let label = format!("{} (HTTP {})", case.file, case.status);
        match (
            &case.ok,
            &case.invalid_client,
            &case.malformed,
            decode_token_reply(case.status, &body),
        ) {
            (Some(ok), None, None, Ok(reply)) => {
                assert_eq!(
                    reply.expires_in,
                    Duration::from_secs(ok.expires_in),
                    "{label}"
                );
                assert_eq!(reply.has_brain_scope(), ok.brain_all_scope, "{label}");
                assert!(!reply.access_token.expose_secret().is_empty());
                // The token never shows in Debug.
                assert!(!format!("{reply:?}").contains(reply.access_token.expose_secret()));
            }
            (
                None,
                Some(description),
                None,
                Err(AuthError::InvalidClient {
                    error,
                    description: d,
                }),
            ) => {
                assert_eq!(error, "invalid_client", "{label}");
                assert_eq!(&d, description, "{label}");
            }
            (None, None, Some(kind), Err(AuthError::MalformedTokenReply(d))) => {
                assert_eq!(&kind_name(d.kind()), kind, "{label}");
                // Token bodies are never quoted back: they may hold a token.
                assert_eq!(d.excerpt(), "", "{label}");
            }
            (_, _, _, result) => panic!("{label}: unexpected {result:?}"),
        }
    }
}

/// When `requests` is installed (CI installs the SDK, which brings it), the checked-in
/// request vectors must be exactly what the generator writes today.
#[test]
fn checked_in_request_vectors_are_what_python_generates() {
    let ok = std::process::Command::new("python3")
        .args(["-c", "import requests"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!("python3 with `requests` not found: comparing with the checked-in vectors only");
        return;
    }
    let dir = vectors_dir().join("requests");
    let fresh_dir =
        std::env::temp_dir().join(format!("bdip-request-vectors-{}", std::process::id()));
    let out = std::process::Command::new("python3")
        .arg(vectors_dir().join("make_request_vectors.py"))
        .arg(&fresh_dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let without_version = |files: Vec<(String, Vec<u8>)>| -> Vec<(String, String)> {
        files
            .into_iter()
            .map(|(name, bytes)| {
                let text = String::from_utf8_lossy(&bytes)
                    .lines()
                    .filter(|l| !l.trim_start().starts_with("\"requests\":"))
                    .collect::<Vec<_>>()
                    .join("\n");
                (name, text)
            })
            .collect()
    };
    let (checked_in, fresh) = (read_dir_sorted(&dir), read_dir_sorted(&fresh_dir));
    let _ = std::fs::remove_dir_all(&fresh_dir);
    assert_eq!(without_version(checked_in), without_version(fresh));
}

fn read_dir_sorted(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    files.sort();
    files
}
