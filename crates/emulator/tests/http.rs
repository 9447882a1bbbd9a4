//! The emulator's HTTP behaviour, row by row, over a plain TCP client (so the tests can
//! send what well-behaved clients would not).

use std::fmt::Write as _;
use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use baidu_imageprocess_emulator::Emulator;
use baidu_imageprocess_protocol::{Operation, encode_image_form, sign};
use baidu_imageprocess_test_support::png_header;
use base64::Engine as _;

mod support;

struct Reply {
    status: u16,
    json: serde_json::Value,
}

fn send(
    addr: SocketAddr,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Reply {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut head = format!("{method} {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    if !headers
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case("content-length"))
    {
        let _ = write!(head, "Content-Length: {}\r\n", body.len());
    }
    for (k, v) in headers {
        let _ = write!(head, "{k}: {v}\r\n");
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes()).unwrap();
    let _ = s.write_all(body);
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    let text = String::from_utf8_lossy(&raw);
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let payload = text.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    // Bodies may be chunked: take the JSON object between the outer braces.
    let json = match (payload.find('{'), payload.rfind('}')) {
        (Some(a), Some(b)) => {
            serde_json::from_str(&payload[a..=b]).unwrap_or(serde_json::Value::Null)
        }
        _ => serde_json::Value::Null,
    };
    Reply { status, json }
}

const FORM: (&str, &str) = ("Content-Type", "application/x-www-form-urlencoded");

fn token(addr: SocketAddr) -> String {
    let r = send(
        addr,
        "GET",
        "/oauth/2.0/token?grant_type=client_credentials&client_id=ak&client_secret=sk",
        &[],
        b"",
    );
    r.json["access_token"].as_str().unwrap().to_owned()
}

fn png(w: u32, h: u32) -> Vec<u8> {
    support::gradient_png(w, h, 99)
}

fn op(addr: SocketAddr, path: &str, token: &str, image: &[u8]) -> Reply {
    send(
        addr,
        "POST",
        &format!("/rest/2.0/image-process/v1/{path}?access_token={token}"),
        &[FORM],
        &encode_image_form(image, &[]),
    )
}

#[test]
fn token_endpoint_forms_and_refusals() {
    let emu = Emulator::builder().credentials("ak", "sk").start().unwrap();
    let addr = emu.addr();
    let get = send(
        addr,
        "GET",
        "/oauth/2.0/token?grant_type=client_credentials&client_id=ak&client_secret=sk",
        &[],
        b"",
    );
    assert_eq!(get.status, 200);
    assert!(
        get.json["scope"]
            .as_str()
            .unwrap()
            .contains("brain_all_scope")
    );
    assert_eq!(get.json["expires_in"], 2_592_000);
    let post_query = send(
        addr,
        "POST",
        "/oauth/2.0/token?grant_type=client_credentials&client_id=ak&client_secret=sk",
        &[],
        b"",
    );
    assert!(post_query.json["access_token"].is_string());
    let post_form = send(
        addr,
        "POST",
        "/oauth/2.0/token",
        &[FORM],
        b"grant_type=client_credentials&client_id=ak&client_secret=sk",
    );
    assert!(post_form.json["access_token"].is_string());
    assert_ne!(
        get.json["access_token"], post_form.json["access_token"],
        "tokens must be random"
    );
    let bad_key = send(
        addr,
        "GET",
        "/oauth/2.0/token?grant_type=client_credentials&client_id=x&client_secret=sk",
        &[],
        b"",
    );
    assert_eq!(
        (bad_key.status, bad_key.json["error"].as_str()),
        (401, Some("invalid_client"))
    );
    let bad_secret = send(
        addr,
        "GET",
        "/oauth/2.0/token?grant_type=client_credentials&client_id=ak&client_secret=x",
        &[],
        b"",
    );
    assert_eq!(
        bad_secret.json["error_description"],
        "Client authentication failed"
    );
    assert_eq!(emu.stats().token_requests(), 5);
}

#[test]
fn token_states_paths_and_methods() {
    let emu = Emulator::builder()
        .token_ttl(Duration::from_secs(1))
        .start()
        .unwrap();
    let addr = emu.addr();
    let t = token(addr);
    let image = png(320, 240);
    assert!(op(addr, "dehaze", &t, &image).json["image"].is_string());
    let missing = send(
        addr,
        "POST",
        "/rest/2.0/image-process/v1/dehaze",
        &[FORM],
        &encode_image_form(&image, &[]),
    );
    assert_eq!(missing.json["error_code"], 100);
    assert_eq!(
        op(addr, "dehaze", "unknown", &image).json["error_code"],
        110
    );
    std::thread::sleep(Duration::from_millis(1100));
    assert_eq!(op(addr, "dehaze", &t, &image).json["error_code"], 111);
    let t = token(addr);
    let get = send(
        addr,
        "GET",
        &format!("/rest/2.0/image-process/v1/dehaze?access_token={t}"),
        &[],
        b"",
    );
    assert_eq!(get.json["error_code"], 3);
    let unknown = send(
        addr,
        "POST",
        "/rest/2.0/image-process/v1/sharpen",
        &[FORM],
        b"image=",
    );
    assert_eq!(unknown.status, 404);
    assert_eq!(unknown.json["error_code"], 3);
    // The stats count the code each reply carried (the GET and the unknown path), not
    // the HTTP status.
    let stats = emu.stats();
    assert_eq!(stats.errors_with(3), 2, "{stats:?}");
    assert_eq!(stats.errors_with(404), 0, "{stats:?}");
    // The spec's curl examples say image-classify; accepted too.
    let typo = send(
        addr,
        "POST",
        &format!("/rest/2.0/image-classify/v1/dehaze?access_token={t}&aipSdk=python"),
        &[FORM],
        &encode_image_form(&image, &[]),
    );
    assert!(typo.json["image"].is_string());
}

#[test]
fn limits_and_formats() {
    let emu = Emulator::builder().start().unwrap();
    let addr = emu.addr();
    let t = token(addr);
    let codes = [
        ("empty", Vec::new(), 216_200),
        (
            "random",
            (0..3000u32).map(|i| (i * 7919 % 251) as u8).collect(),
            216_201,
        ),
        (
            "gif",
            b"GIF89a\x01\x00\x01\x00\x00\x00\x00;".to_vec(),
            216_201,
        ),
        ("too long", png_header(5000, 2000), 216_202),
        ("4:1", png_header(800, 200), 216_202),
        ("huge claim", png_header(100_000, 100_000), 216_202),
    ];
    for (name, image, code) in codes {
        assert_eq!(
            op(addr, "dehaze", &t, &image).json["error_code"],
            code,
            "{name}"
        );
    }
    assert_eq!(
        op(addr, "image_quality_enhance", &t, &png_header(801, 800)).json["error_code"],
        216_202
    );
    let prefixed = send(
        addr,
        "POST",
        &format!("/rest/2.0/image-process/v1/dehaze?access_token={t}"),
        &[FORM],
        b"image=data%3Aimage%2Fpng%3Bbase64%2CiVBORw0KGgo%3D",
    );
    assert_eq!(prefixed.json["error_code"], 216_201);
    // A header claiming 100 000 × 100 000 is refused from the header, at once.
    let started = Instant::now();
    assert_eq!(
        op(addr, "contrast_enhance", &t, &png_header(100_000, 100_000)).json["error_code"],
        216_202
    );
    assert!(started.elapsed() < Duration::from_secs(1));
    // Real images come back in their format, enhance at twice the size.
    let jpeg = {
        let mut out = std::io::Cursor::new(Vec::new());
        image::RgbImage::from_pixel(300, 200, image::Rgb([10, 120, 200]))
            .write_to(&mut out, image::ImageFormat::Jpeg)
            .unwrap();
        out.into_inner()
    };
    for (image, format) in [
        (png(320, 240), image::ImageFormat::Png),
        (jpeg, image::ImageFormat::Jpeg),
    ] {
        for (path, scale) in [
            ("image_quality_enhance", 2),
            ("dehaze", 1),
            ("contrast_enhance", 1),
            ("colourize", 1),
        ] {
            let reply = op(addr, path, &t, &image);
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(reply.json["image"].as_str().unwrap())
                .unwrap();
            assert_eq!(image::guess_format(&bytes).unwrap(), format, "{path}");
            let (w, h) = image::load_from_memory(&image)
                .map(|i| (i.width(), i.height()))
                .unwrap();
            let out = image::load_from_memory(&bytes).unwrap();
            assert_eq!(
                (out.width(), out.height()),
                (w * scale, h * scale),
                "{path}"
            );
            assert!(reply.json["log_id"].as_u64().is_some());
        }
    }
}

#[test]
fn an_oversized_body_is_refused_without_reading_it() {
    let emu = Emulator::builder().start().unwrap();
    let addr = emu.addr();
    let t = token(addr);
    let started = Instant::now();
    // Announce 16 MiB (over 4 MiB of base64 even if every character were escaped),
    // send only 4 KiB: the answer must come from the header alone.
    let reply = send(
        addr,
        "POST",
        &format!("/rest/2.0/image-process/v1/dehaze?access_token={t}"),
        &[FORM, ("Content-Length", "16777216")],
        &[b'A'; 4096],
    );
    assert_eq!(
        (reply.status, reply.json["error_code"].as_u64()),
        (413, Some(216_202))
    );
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn faults_deny_qps_failures_echo_and_stats() {
    let emu = Emulator::builder()
        .deny(Operation::Colourize)
        .qps(3.0)
        .echo(true)
        .start()
        .unwrap();
    let addr = emu.addr();
    let t = token(addr);
    let image = png_header(320, 240);
    assert_eq!(op(addr, "colourize", &t, &image).json["error_code"], 6);
    let codes: Vec<serde_json::Value> = (0..6)
        .map(|_| op(addr, "dehaze", &t, &image).json)
        .collect();
    let echoed = codes.iter().filter(|j| j["image"].is_string()).count();
    let limited = codes.iter().filter(|j| j["error_code"] == 18).count();
    assert!(
        echoed >= 2 && limited >= 2,
        "{echoed} echoed, {limited} limited"
    );
    let echo = codes.iter().find(|j| j["image"].is_string()).unwrap();
    assert_eq!(
        base64::engine::general_purpose::STANDARD
            .decode(echo["image"].as_str().unwrap())
            .unwrap(),
        image
    );
    let stats = send(addr, "GET", "/__emulator/stats", &[], b"");
    assert_eq!(stats.json["requests"]["dehaze"], 6);
    assert_eq!(stats.json["requests"]["token"], 1);
    assert!(stats.json["errors"]["18"].as_u64().unwrap() >= 2);

    let run = |seed| {
        let emu = Emulator::builder()
            .fail_rate(0.5)
            .seed(seed)
            .echo(true)
            .start()
            .unwrap();
        let t = token(emu.addr());
        (0..20)
            .map(|_| {
                op(emu.addr(), "dehaze", &t, &image).json["error_code"]
                    .as_u64()
                    .unwrap_or(0)
            })
            .collect::<Vec<_>>()
    };
    let (a, b) = (run(42), run(42));
    assert_eq!(a, b, "a seed must reproduce the failures");
    assert!(a.iter().all(|c| [0, 1, 2, 282_000].contains(c)), "{a:?}");
    assert!(a.iter().any(|&c| c != 0) && a.contains(&0), "{a:?}");
}

#[test]
fn log_ids_are_unique() {
    let emu = Emulator::builder().echo(true).start().unwrap();
    let t = token(emu.addr());
    let ids: std::collections::BTreeSet<u64> = (0..20)
        .map(|_| {
            op(emu.addr(), "dehaze", &t, &png_header(320, 240)).json["log_id"]
                .as_u64()
                .unwrap()
        })
        .collect();
    assert_eq!(ids.len(), 20);
}

#[test]
fn bce_auth_v1_signatures_are_verified() {
    let emu = Emulator::builder()
        .credentials("ak", "sk")
        .echo(true)
        .start()
        .unwrap();
    let addr = emu.addr();
    let sign_with = |secret: &str| {
        let timestamp = sign::format_timestamp(std::time::SystemTime::now());
        let auth = support::bce_dehaze_authorization(addr, secret, &timestamp);
        send(
            addr,
            "POST",
            "/rest/2.0/image-process/v1/dehaze",
            &[FORM, ("x-bce-date", &timestamp), ("authorization", &auth)],
            &encode_image_form(&png_header(320, 240), &[]),
        )
    };
    assert!(sign_with("sk").json["image"].is_string());
    assert_eq!(sign_with("wrong").json["error_code"], 14);
}
