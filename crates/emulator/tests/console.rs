//! The console's endpoints over a socket: the page, the operation table, runtime faults,
//! the request ring's byte cap and its masking, `--no-console`.

use std::fmt::Write as _;
use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use baidu_imageprocess_emulator::{Emulator, EmulatorConfig};
use baidu_imageprocess_protocol::optable::{self, ParamKind, ParamSpec};
use baidu_imageprocess_protocol::{Limits, Operation, encode_image_form, sign};

mod support;

struct Reply {
    status: u16,
    head: String,
    body: String,
}

impl Reply {
    fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

fn send(
    addr: SocketAddr,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Reply {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let mut head = format!("{method} {target} HTTP/1.1\r\nConnection: close\r\n");
    if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
        let _ = write!(head, "Host: {addr}\r\n");
    }
    let _ = write!(head, "Content-Length: {}\r\n", body.len());
    for (k, v) in headers {
        let _ = write!(head, "{k}: {v}\r\n");
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(body).unwrap();
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    Reply {
        status,
        head: head.to_owned(),
        body: body.to_owned(),
    }
}

fn get(addr: SocketAddr, target: &str) -> Reply {
    send(addr, "GET", target, &[], b"")
}

fn post_faults(addr: SocketAddr, json: &str) -> Reply {
    send(
        addr,
        "POST",
        "/__emulator/faults",
        &[("Content-Type", "application/json")],
        json.as_bytes(),
    )
}

const FORM: (&str, &str) = ("Content-Type", "application/x-www-form-urlencoded");
const SECRET: &str = "sk-console-test-secret";

fn token(addr: SocketAddr) -> String {
    let r = send(
        addr,
        "POST",
        "/oauth/2.0/token",
        &[FORM],
        format!("grant_type=client_credentials&client_id=ak&client_secret={SECRET}").as_bytes(),
    );
    r.json()["access_token"].as_str().unwrap().to_owned()
}

fn png(w: u32, h: u32) -> Vec<u8> {
    support::gradient_png(w, h, 99)
}

fn call(addr: SocketAddr, token: &str, op: Operation, image: &[u8]) -> serde_json::Value {
    send(
        addr,
        "POST",
        &format!("{}?access_token={token}", op.path()),
        &[FORM],
        &encode_image_form(image, &[]),
    )
    .json()
}

fn start(config: EmulatorConfig) -> Emulator {
    Emulator::builder().config(config).start().unwrap()
}

fn ring(addr: SocketAddr) -> serde_json::Value {
    let r = get(addr, "/__emulator/requests");
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()
}

#[test]
fn the_page_is_served_with_a_strict_policy() {
    let emu = start(EmulatorConfig::default());
    let page = get(emu.addr(), "/");
    assert_eq!(page.status, 200);
    assert!(page.body.contains("/__emulator/console/console.js"));
    let head = page.head.to_ascii_lowercase();
    assert!(
        head.contains("content-security-policy: default-src 'none'"),
        "{head}"
    );
    assert!(head.contains("connect-src 'self'"), "{head}");
    for file in ["console.js", "console.css"] {
        let r = get(emu.addr(), &format!("/__emulator/console/{file}"));
        assert_eq!(r.status, 200, "{file}");
        assert!(r.body.len() > 1000, "{file}");
    }
    assert_eq!(get(emu.addr(), "/__emulator/console/nope.js").status, 404);
}

#[test]
fn the_operation_table_is_served() {
    let emu = start(EmulatorConfig::default());
    let json = get(emu.addr(), "/__emulator/operations").json();
    let ops = json["operations"].as_array().unwrap();
    assert_eq!(ops.len(), Operation::ALL.len());
    for op in Operation::ALL {
        let row = ops
            .iter()
            .find(|r| r["name"] == op.name())
            .unwrap_or_else(|| panic!("{op} missing"));
        assert_eq!(row["path"], op.path());
        let limits = op.limits();
        assert_eq!(row["limits"]["min_side"], limits.min_side);
        assert_eq!(row["limits"]["max_base64_len"], limits.max_base64_len);
        for param in row["params"].as_array().unwrap() {
            let kind = param["kind"].as_str().unwrap();
            assert!(
                ["choice", "integer", "rectangles", "image"].contains(&kind),
                "{op}: {param}"
            );
        }
    }
}

/// The limits as the console serves them.
fn limits_json(limits: &Limits) -> serde_json::Value {
    serde_json::json!({
        "max_base64_len": limits.max_base64_len,
        "min_side": limits.min_side,
        "max_side": (limits.max_side != u32::MAX).then_some(limits.max_side),
        "max_aspect": limits.max_aspect,
        "max_pixels": limits.max_pixels,
    })
}

/// What the console must serve for one parameter, from the table alone.
fn expected_param(p: &ParamSpec) -> serde_json::Value {
    let mut want = serde_json::json!({
        "name": p.name,
        "required": p.required,
        "allowed": p.allowed,
        "meaning": p.meaning,
        "only_with": p.only_with,
    });
    let kind = match p.kind {
        ParamKind::Choice { values, default } => {
            serde_json::json!({"kind": "choice", "values": values, "default": default})
        }
        ParamKind::Integer { min, max, default } => {
            serde_json::json!({"kind": "integer", "min": min, "max": max, "default": default})
        }
        ParamKind::Rectangles => serde_json::json!({"kind": "rectangles"}),
        ParamKind::Image(limits) => {
            serde_json::json!({"kind": "image", "limits": limits_json(&limits)})
        }
        other => panic!("{}: a kind this test does not know: {other:?}", p.name),
    };
    for (k, v) in kind.as_object().unwrap() {
        want[k] = v.clone();
    }
    want
}

/// Every control the page builds agrees with the table: each parameter of each row, in
/// order, with its kind, range, choices, default, image limits and dependency, and
/// nothing else; the inputs, body and limits too.
#[test]
fn the_console_controls_are_the_table() {
    let emu = start(EmulatorConfig::default());
    let json = get(emu.addr(), "/__emulator/operations").json();
    let served = json["operations"].as_array().expect("operations");
    assert_eq!(served.len(), optable::table().count());
    let mut params = 0;
    for (row, op) in optable::table().zip(served) {
        let name = row.operation.name();
        assert_eq!(op["name"], name);
        assert_eq!(op["path"], row.path, "{name}");
        assert_eq!(op["body"], row.body.content_type(), "{name}");
        let inputs: Vec<&str> = row.inputs.iter().map(|i| i.field()).collect();
        assert_eq!(op["inputs"], serde_json::json!(inputs), "{name}");
        assert_eq!(op["limits"], limits_json(&row.limits), "{name}");
        let served_params = op["params"].as_array().expect("params");
        assert_eq!(
            served_params.len(),
            row.params.len(),
            "{name}: {served_params:?}"
        );
        for (p, got) in row.params.iter().zip(served_params) {
            let mut got = got.clone();
            if let Some(start) = got.as_object_mut().and_then(|o| o.remove("start")) {
                // The control's first value: the table's default, else inside the range.
                let start = start.as_i64().expect("start is an integer");
                let ParamKind::Integer { min, max, default } = p.kind else {
                    panic!("{name}.{}: start on a non-integer", p.name);
                };
                assert!((min..=max).contains(&start), "{name}.{}: {start}", p.name);
                if let Some(default) = default {
                    assert_eq!(start, default, "{name}.{}", p.name);
                }
            } else {
                assert!(
                    !matches!(p.kind, ParamKind::Integer { .. }),
                    "{name}.{}: no start",
                    p.name
                );
            }
            assert_eq!(got, expected_param(p), "{name}.{}", p.name);
            params += 1;
        }
    }
    assert!(params >= 8, "the table lost its parameters: {params}");
}

#[test]
fn faults_change_at_run_time() {
    let mut config = EmulatorConfig::default();
    config.echo = true;
    let emu = start(config);
    let addr = emu.addr();
    let token = token(addr);
    let image = png(80, 80);
    assert!(call(addr, &token, Operation::ContrastEnhance, &image)["image"].is_string());

    let now = post_faults(addr, r#"{"deny": ["contrast"]}"#);
    assert_eq!(now.status, 200, "{}", now.body);
    assert_eq!(now.json()["deny"], serde_json::json!(["contrast_enhance"]));
    assert_eq!(
        call(addr, &token, Operation::ContrastEnhance, &image)["error_code"],
        6
    );
    assert!(call(addr, &token, Operation::Dehaze, &png(240, 240))["image"].is_string());

    post_faults(addr, r#"{"deny": [], "fail_rate": 1}"#);
    let code = call(addr, &token, Operation::ContrastEnhance, &image)["error_code"]
        .as_u64()
        .unwrap();
    assert!([1, 2, 282_000].contains(&code), "{code}");

    post_faults(addr, r#"{"fail_rate": 0, "qps": 1}"#);
    let refused = (0..5)
        .filter(|_| call(addr, &token, Operation::ContrastEnhance, &image)["error_code"] == 18)
        .count();
    assert!(refused >= 1, "qps 1 let 5 calls in a row through");

    post_faults(addr, r#"{"qps": null}"#);
    assert!(call(addr, &token, Operation::ContrastEnhance, &image)["image"].is_string());
    let stats = emu.stats();
    assert!(
        stats.errors_with(6) >= 1 && stats.errors_with(18) >= 1,
        "{stats:?}"
    );
    let shown = get(addr, "/__emulator/faults").json();
    assert_eq!(
        shown,
        serde_json::json!({"qps": null, "fail_rate": 0.0, "latency_ms": 0, "deny": []})
    );
}

#[test]
fn bad_faults_are_refused_whole() {
    let emu = start(EmulatorConfig::default());
    let addr = emu.addr();
    let before = get(addr, "/__emulator/faults").body;
    for bad in [
        r#"{"fail_rate": 1.5, "latency_ms": 5}"#,
        r#"{"latency_ms": 600000}"#,
        r#"{"deny": ["sharpen"]}"#,
        r#"{"echo": true}"#,
        r#"{"qps": -1}"#,
        "not json",
    ] {
        let r = post_faults(addr, bad);
        assert_eq!(r.status, 400, "{bad}: {}", r.body);
        assert!(r.json()["error"].is_string(), "{bad}");
    }
    // A form post (what another site's page could send without asking) is refused.
    let r = send(addr, "POST", "/__emulator/faults", &[FORM], b"fail_rate=1");
    assert_eq!(r.status, 415);
    assert_eq!(get(addr, "/__emulator/faults").body, before);
}

#[test]
fn the_ring_keeps_under_its_byte_cap() {
    let mut config = EmulatorConfig::default();
    config.console_ring_bytes = 6 * 1024;
    let emu = start(config);
    let addr = emu.addr();
    let token = token(addr);
    let total = 60;
    for i in 0..total - 1 {
        // Unknown paths are cheap and recorded like any request.
        let r = get(
            addr,
            &format!("/rest/2.0/image-process/v1/nope{i}?access_token={token}"),
        );
        assert_eq!(r.status, 404);
    }
    let view = ring(addr);
    let cap = view["cap_bytes"].as_u64().unwrap();
    assert_eq!(cap, 6 * 1024);
    assert!(view["bytes"].as_u64().unwrap() <= cap, "{view}");
    assert!(view["dropped"].as_u64().unwrap() > 0);
    let entries = view["entries"].as_array().unwrap();
    assert!(!entries.is_empty() && entries.len() < total);
    // The newest are kept, in order: seq 1 was the token request.
    let last = entries.last().unwrap();
    assert_eq!(last["seq"], total);
    assert!(
        last["path"]
            .as_str()
            .unwrap()
            .ends_with(&format!("nope{}", total - 2))
    );
    let seqs: Vec<u64> = entries.iter().map(|e| e["seq"].as_u64().unwrap()).collect();
    assert!(seqs.windows(2).all(|w| w[1] == w[0] + 1), "{seqs:?}");
    // Asking with the latest version returns nothing new.
    let version = view["version"].as_u64().unwrap();
    let again = get(addr, &format!("/__emulator/requests?since={version}")).json();
    assert_eq!(again["entries"], serde_json::json!([]));
}

#[test]
fn no_secret_reaches_the_ring() {
    let emu = Emulator::builder()
        .credentials("ak", SECRET)
        .start()
        .unwrap();
    let addr = emu.addr();
    let token = token(addr);
    let ok = call(addr, &token, Operation::Dehaze, &png(240, 200));
    assert!(ok["image"].is_string(), "{ok}");
    // A token in the query of a failing request, and a bce-auth-v1 signature.
    let _ = send(
        addr,
        "POST",
        &format!(
            "/oauth/2.0/token?grant_type=client_credentials&client_id=ak&client_secret={SECRET}x"
        ),
        &[],
        b"",
    );
    let timestamp = sign::format_timestamp(std::time::SystemTime::now());
    let authorization = support::bce_dehaze_authorization(addr, SECRET, &timestamp);
    let signature = authorization.rsplit('/').next().unwrap().to_owned();
    let signed = send(
        addr,
        "POST",
        Operation::Dehaze.path(),
        &[
            FORM,
            ("x-bce-date", &timestamp),
            ("authorization", &authorization),
        ],
        &encode_image_form(&png(240, 200), &[]),
    );
    assert!(signed.json()["image"].is_string(), "{}", signed.body);

    // Let the thumbnails land so the whole entries are checked.
    let mut text = String::new();
    for _ in 0..200 {
        text = get(addr, "/__emulator/requests").body;
        if !text.contains("\"pending\"") {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(!text.contains(&token), "token leaked: {text}");
    assert!(!text.contains(&token[3..20]), "part of the token leaked");
    assert!(!text.contains(SECRET), "secret key leaked");
    assert!(!text.contains(&signature), "signature leaked");
    assert!(text.contains("access_token=<masked>"), "{text}");
    assert!(text.contains("client_secret=<masked>"), "{text}");
    assert!(text.contains("bce-auth-v1/"), "{text}");
    let view: serde_json::Value = serde_json::from_str(&text).unwrap();
    let success = view["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["operation"] == "dehaze" && e["auth"] == "access_token")
        .unwrap();
    assert_eq!(success["log_id"], ok["log_id"].to_string());
    assert_eq!(success["status"], 200);
    assert!(success["error_code"].is_null());
    assert!(success["request_bytes"].as_u64().unwrap() > 1000);
    assert!(success["response_bytes"].as_u64().unwrap() > 1000);
    if success["thumbnails"] == "done" {
        assert_eq!(success["input"]["width"], 240);
        assert!(
            success["output"]["data_url"]
                .as_str()
                .unwrap()
                .starts_with("data:image/jpeg;base64,")
        );
    }
}

#[test]
fn the_first_request_gets_thumbnails() {
    let emu = start(EmulatorConfig::default());
    let addr = emu.addr();
    let token = token(addr);
    assert!(call(addr, &token, Operation::ContrastEnhance, &png(160, 120))["image"].is_string());
    let mut entry = serde_json::Value::Null;
    for _ in 0..400 {
        let view = ring(addr);
        entry = view["entries"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["operation"] == "contrast_enhance")
            .cloned()
            .unwrap_or_default();
        if entry["thumbnails"] != "pending" {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(entry["thumbnails"], "done", "{entry}");
    assert_eq!(entry["input"]["width"], 160);
    assert_eq!(entry["output"]["height"], 120);
}

#[test]
fn no_console_turns_the_page_and_its_endpoints_off() {
    let mut config = EmulatorConfig::default();
    config.console = false;
    config.echo = true;
    let emu = start(config);
    let addr = emu.addr();
    for path in [
        "/",
        "/__emulator/operations",
        "/__emulator/requests",
        "/__emulator/faults",
    ] {
        assert_eq!(get(addr, path).status, 404, "{path}");
    }
    assert_eq!(post_faults(addr, r#"{"fail_rate": 1}"#).status, 404);
    let token = token(addr);
    assert!(call(addr, &token, Operation::Dehaze, &png(240, 240))["image"].is_string());
    assert_eq!(get(addr, "/__emulator/stats").status, 200);
}

#[test]
fn the_console_answers_only_local_names() {
    let emu = start(EmulatorConfig::default());
    let addr = emu.addr();
    for path in ["/", "/__emulator/faults", "/__emulator/requests"] {
        let r = send(addr, "GET", path, &[("Host", "rebound.example:8080")], b"");
        assert_eq!(r.status, 403, "{path}");
        let r = send(
            addr,
            "GET",
            path,
            &[("Host", &format!("localhost:{}", addr.port()))],
            b"",
        );
        assert_eq!(r.status, 200, "{path}");
    }
    // The API itself is not the console's to restrict.
    let r = send(
        addr,
        "GET",
        "/oauth/2.0/token?grant_type=client_credentials&client_id=a&client_secret=b",
        &[("Host", "aip.baidubce.com")],
        b"",
    );
    assert_eq!(r.status, 200);
}

/// Reads one HTTP/1.1 response with a `Content-Length` from a kept-alive connection.
fn read_response(s: &mut TcpStream) -> (u16, String) {
    let mut raw = Vec::new();
    let mut byte = [0u8; 1];
    while !raw.ends_with(b"\r\n\r\n") {
        assert_eq!(s.read(&mut byte).unwrap(), 1, "connection closed mid-head");
        raw.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&raw).into_owned();
    let length: usize = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse().ok())?
        })
        .unwrap();
    let mut body = vec![0; length];
    s.read_exact(&mut body).unwrap();
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    (status, String::from_utf8_lossy(&body).into_owned())
}

#[test]
fn a_reply_sent_before_the_body_was_read_keeps_the_connection() {
    let mut config = EmulatorConfig::default();
    config.deny = vec![Operation::Dehaze];
    let emu = start(config);
    let addr = emu.addr();
    let token = token(addr);
    let body = encode_image_form(&png(400, 300), &[]);
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let head = format!(
        "POST {}?access_token={token} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n",
        Operation::Dehaze.path(),
        body.len()
    );
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(&body).unwrap();
    let (status, reply) = read_response(&mut s);
    assert_eq!(status, 200);
    assert!(reply.contains("\"error_code\":6"), "{reply}");
    // The unread body was read after the reply, so the same connection serves again.
    let stats = format!("GET /__emulator/stats HTTP/1.1\r\nHost: {addr}\r\n\r\n");
    s.write_all(stats.as_bytes()).unwrap();
    let (status, reply) = read_response(&mut s);
    assert_eq!(status, 200, "{reply}");
    assert!(reply.contains("\"successes\""), "{reply}");
}
