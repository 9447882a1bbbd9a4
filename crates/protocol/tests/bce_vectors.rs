//! bce-auth-v1 against the official Python SDK's own signer.
//!
//! `vectors/bce_auth_v1.json` was produced by `vectors/make_bce_vectors.py`, which calls
//! `aip.base.AipBase._getAuthHeaders` (baidu-aip 4.16.13) with a frozen clock. Every
//! vector must match our canonical request and `authorization` header byte for byte, and
//! so must the header our client builds for a real call.

// Helpers outside `#[test]` functions may fail loudly too.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use baidu_imageprocess_protocol::sign::{
    SigningInput, authorization, canonical_request, host_for_signing, parse_authorization,
    parse_timestamp,
};
use baidu_imageprocess_protocol::{
    BceCredentials, ClientConfig, Credentials, Endpoint, Machine, Operation, SecretKey, Session,
    Step,
};
use serde::Deserialize;

const VECTORS: &str = include_str!("vectors/bce_auth_v1.json");

#[derive(Deserialize, PartialEq, Debug)]
struct File {
    vectors: Vec<Vector>,
}

#[derive(Deserialize, PartialEq, Debug)]
struct Vector {
    name: String,
    access_key: String,
    secret_key: String,
    method: String,
    url: String,
    path: String,
    query: Vec<(String, String)>,
    headers: Vec<(String, String)>,
    timestamp: String,
    expire_secs: u32,
    canonical_request: String,
    authorization: String,
}

fn vectors() -> Vec<Vector> {
    serde_json::from_str::<File>(VECTORS)
        .expect("vectors parse")
        .vectors
}

#[test]
fn our_signer_matches_every_sdk_vector() {
    let vectors = vectors();
    assert!(vectors.len() >= 8, "too few vectors");
    for v in &vectors {
        let credentials = BceCredentials {
            access_key: v.access_key.clone(),
            secret_key: SecretKey::new(v.secret_key.as_str()),
        };
        let input = SigningInput {
            method: &v.method,
            path: &v.path,
            query: &v.query,
            headers: &v.headers,
            timestamp: &v.timestamp,
            expire_secs: v.expire_secs,
        };
        let canonical = canonical_request(&input);
        assert!(
            canonical == v.canonical_request,
            "{}: canonical request differs (- SDK, + ours)\n{}",
            v.name,
            support::diff(&v.canonical_request, &canonical)
        );
        assert_eq!(
            authorization(&credentials, &input),
            v.authorization,
            "{}",
            v.name
        );
        // The header parses back to what was signed.
        let parsed = parse_authorization(&v.authorization).expect("parses");
        assert_eq!(parsed.access_key, v.access_key);
        assert_eq!(parsed.timestamp, v.timestamp);
        assert_eq!(parsed.expire_secs, v.expire_secs);
        let names: Vec<String> = v.headers.iter().map(|(k, _)| k.to_lowercase()).collect();
        assert_eq!(parsed.signed_headers, names);
        // The signed host is what `host_for_signing` derives from the URL.
        let authority = v
            .url
            .split("://")
            .nth(1)
            .and_then(|rest| rest.split('/').next())
            .expect("vector url has an authority");
        let host = v
            .headers
            .iter()
            .find(|(k, _)| k == "Host")
            .map(|(_, h)| h.as_str());
        assert_eq!(
            Some(host_for_signing(authority).as_str()),
            host,
            "{}",
            v.name
        );
    }
}

#[test]
fn a_wrong_secret_or_timestamp_changes_the_signature() {
    let v = &vectors()[0];
    let input = |ts| SigningInput {
        method: &v.method,
        path: &v.path,
        query: &v.query,
        headers: &v.headers,
        timestamp: ts,
        expire_secs: v.expire_secs,
    };
    let good = BceCredentials {
        access_key: v.access_key.clone(),
        secret_key: SecretKey::new(v.secret_key.as_str()),
    };
    let bad = BceCredentials {
        secret_key: SecretKey::new("not-the-secret"),
        ..good.clone()
    };
    assert_ne!(authorization(&bad, &input(&v.timestamp)), v.authorization);
    assert_ne!(
        authorization(&good, &input("2000-01-01T00:00:00Z")),
        v.authorization
    );
}

#[test]
fn host_for_signing_is_pythons_hostname() {
    assert_eq!(host_for_signing("aip.baidubce.com"), "aip.baidubce.com");
    assert_eq!(host_for_signing("127.0.0.1:8080"), "127.0.0.1");
    assert_eq!(host_for_signing("Proxy.Example:8443"), "proxy.example");
    assert_eq!(host_for_signing("[::1]:8080"), "::1");
    assert_eq!(host_for_signing("[::1]"), "::1");
}

/// What our client sends for a whole call equals what the SDK signs for the same URL,
/// key and time (vectors whose query is empty: our client sends none).
#[test]
fn our_client_sends_the_sdk_authorization_header() {
    let mut checked = 0;
    for v in vectors() {
        if !v.query.is_empty()
            || v.method != "POST"
            || !v
                .headers
                .iter()
                .all(|(k, _)| k == "Host" || k == "x-bce-date")
        {
            continue;
        }
        let Some(op) = Operation::ALL
            .into_iter()
            .find(|op| v.path.ends_with(op.path()))
        else {
            continue;
        };
        let prefix = v.path.strip_suffix(op.path()).unwrap_or_default();
        let uri: http::Uri = v.url.parse().unwrap();
        let base = format!(
            "{}://{}{}",
            uri.scheme_str().unwrap(),
            uri.authority().unwrap(),
            prefix
        );
        let endpoint: Endpoint = base.parse().unwrap();
        let clock = clock_for(&v.timestamp);
        let config = ClientConfig::new(Credentials::bce_auth_v1(
            v.access_key.as_str(),
            v.secret_key.as_str(),
        ))
        .with_endpoint(endpoint)
        .with_rate_limit(None)
        .with_wall_clock(clock);
        let session: Arc<Session> = Session::new(config);
        let mut call = session
            .call(op, &support::png_header(300, 300), Instant::now())
            .unwrap();
        let Step::Send(request) = call.next(Instant::now()) else {
            panic!("{}: expected a request", v.name)
        };
        let header = |name: &str| {
            request
                .headers()
                .get(name)
                .map(|h| h.to_str().unwrap().to_owned())
        };
        assert_eq!(
            header("authorization").as_deref(),
            Some(v.authorization.as_str()),
            "{}",
            v.name
        );
        assert_eq!(header("x-bce-date").as_deref(), Some(v.timestamp.as_str()));
        let sdk_host = v
            .headers
            .iter()
            .find(|(k, _)| k == "Host")
            .map(|(_, h)| h.clone());
        assert_eq!(
            header("host"),
            sdk_host,
            "{}: Host sent on the wire",
            v.name
        );
        assert_eq!(request.uri().query(), None);
        checked += 1;
    }
    assert!(checked >= 3, "only {checked} client vectors");
}

/// `wall_clock` is a plain `fn`, so each vector's time is picked from a fixed table.
fn clock_for(timestamp: &str) -> fn() -> SystemTime {
    type Clock = fn() -> SystemTime;
    const TABLE: &[(&str, Clock)] = &[
        ("2023-11-14T22:13:20Z", || at(1_700_000_000)),
        ("1999-12-31T23:59:59Z", || at(946_684_799)),
        ("2026-01-02T03:04:05Z", || at(1_767_323_045)),
        ("2026-06-30T12:00:00Z", || at(1_782_820_800)),
        ("2024-02-29T00:00:00Z", || at(1_709_164_800)),
    ];
    let (_, clock) = TABLE
        .iter()
        .find(|(ts, _)| *ts == timestamp)
        .unwrap_or_else(|| panic!("add {timestamp} to the clock table"));
    assert_eq!(parse_timestamp(timestamp), Some(clock()), "{timestamp}");
    *clock
}

fn at(secs: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(secs)
}

/// When the SDK is installed (CI installs it), the checked-in vectors must be exactly what
/// the script prints today.
#[test]
fn checked_in_vectors_are_what_the_sdk_generates() {
    let sdk = Command::new("python3")
        .args(["-c", "import aip"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !sdk {
        eprintln!("baidu-aip is not installed: comparing with the checked-in vectors only");
        return;
    }
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/vectors/make_bce_vectors.py"
    );
    let out = Command::new("python3")
        .arg(script)
        .output()
        .expect("run the generator");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let fresh: File = serde_json::from_slice(&out.stdout).expect("generator output parses");
    assert_eq!(fresh, serde_json::from_str::<File>(VECTORS).unwrap());
}
