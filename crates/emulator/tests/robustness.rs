//! The emulator against a hostile client (issue 14): admission before the body, timeouts,
//! shutdown with idle connections, future signatures, fault flags, engine side limits.
//! Bounded in time: every socket has a read timeout, every wait a cap; the timeouts under
//! test are set short and only their outcome is asserted.

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime};

use baidu_imageprocess_emulator::{Emulator, EmulatorConfig};
use baidu_imageprocess_protocol::{encode_image_form, sign};

mod support;

const FORM: &str = "Content-Type: application/x-www-form-urlencoded\r\n";

fn connect(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    s
}

/// Reads until the server closes; panics if it does not within the read timeout.
fn read_to_close(s: &mut TcpStream) -> String {
    let mut raw = Vec::new();
    match s.read_to_end(&mut raw) {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {}
        Err(e) => panic!("the server kept the connection open: {e}"),
    }
    String::from_utf8_lossy(&raw).into_owned()
}

/// Reads one response (header and `Content-Length` body) without waiting for the close.
fn read_response(s: &mut TcpStream) -> String {
    let mut raw = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let text = String::from_utf8_lossy(&raw).into_owned();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length = head
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                })
                .unwrap_or(0);
            if body.len() >= length {
                return text;
            }
        }
        let n = s.read(&mut buf).expect("no complete response in time");
        assert!(n > 0, "closed before a full response: {text}");
        raw.extend_from_slice(&buf[..n]);
    }
}

fn error_code(text: &str) -> Option<u64> {
    let i = text.find("\"error_code\":")?;
    text[i + 13..]
        .split(|c: char| !c.is_ascii_digit())
        .find(|p| !p.is_empty())?
        .parse()
        .ok()
}

fn png(w: u32, h: u32) -> Vec<u8> {
    support::gradient_png(w, h, 7)
}

fn token(addr: SocketAddr) -> String {
    let mut s = connect(addr);
    write!(
        s,
        "GET /oauth/2.0/token?grant_type=client_credentials&client_id=a&client_secret=b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let text = read_to_close(&mut s);
    let start = text.find("\"access_token\":\"").unwrap() + 16;
    text[start..].split('"').next().unwrap().to_owned()
}

/// `body` posted to operation `path` with `token`, on a connection of its own; the whole
/// reply.
fn post_form(addr: SocketAddr, path: &str, token: &str, body: &[u8]) -> String {
    let mut s = connect(addr);
    s.write_all(post_head(path, token, body.len()).as_bytes())
        .unwrap();
    s.write_all(body).unwrap();
    read_to_close(&mut s)
}

fn post_head(path: &str, token: &str, length: usize) -> String {
    format!(
        "POST /rest/2.0/image-process/v1/{path}?access_token={token} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{FORM}Content-Length: {length}\r\n\r\n"
    )
}

fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done() {
        assert!(Instant::now() < deadline, "never happened: {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn start(config: impl FnOnce(&mut EmulatorConfig)) -> Emulator {
    let mut c = EmulatorConfig::default();
    config(&mut c);
    Emulator::builder().config(c).start().unwrap()
}

#[test]
fn a_full_pool_answers_18_before_reading_the_body() {
    let emu = start(|c| {
        c.workers = 1;
        c.queue = 0;
        c.echo = true;
    });
    let addr = emu.addr();
    let t = token(addr);
    let body = encode_image_form(&png(320, 240), &[]);
    // The first request is admitted and holds the only slot while its body trickles in.
    let mut first = connect(addr);
    first
        .write_all(post_head("dehaze", &t, body.len()).as_bytes())
        .unwrap();
    first.write_all(&body[..body.len() / 2]).unwrap();
    wait_until("the first request arrives", || {
        emu.stats().requests.get("dehaze").copied() == Some(1)
    });
    // The second is answered 18 at once: its (declared 5 MB) body is never sent.
    let mut second = connect(addr);
    second
        .write_all(post_head("dehaze", &t, 5_000_000).as_bytes())
        .unwrap();
    let refused = read_response(&mut second);
    assert_eq!(error_code(&refused), Some(18), "{refused}");
    // A client that sends its whole body anyway gets the same answer, not a reset.
    // 3 MB of noise behind a PNG signature: more than the socket buffers hold, so
    // closing without reading it would reset the connection under the client.
    let mut noise = png(8, 8);
    let mut rng = 0x2545_f491_4f6c_dd1du64;
    while noise.len() < 3_000_000 {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        noise.push(rng as u8);
    }
    let big = encode_image_form(&noise, &[]);
    let mut third = connect(addr);
    third
        .write_all(post_head("dehaze", &t, big.len()).as_bytes())
        .unwrap();
    third.write_all(&big).unwrap();
    let refused = read_to_close(&mut third);
    assert_eq!(error_code(&refused), Some(18), "{refused}");
    first.write_all(&body[body.len() / 2..]).unwrap();
    let served = read_to_close(&mut first);
    assert!(served.contains("\"image\":\""), "{served}");
    assert_eq!(emu.stats().errors_with(18), 2);
}

#[test]
fn a_half_sent_header_is_closed_after_the_header_timeout() {
    let emu = start(|c| c.header_timeout = Duration::from_millis(300));
    let mut s = connect(emu.addr());
    s.write_all(b"POST /rest/2.0/image-process/v1/dehaze HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    read_to_close(&mut s);
}

#[test]
fn an_idle_keep_alive_connection_is_closed_after_the_header_timeout() {
    let emu = start(|c| c.header_timeout = Duration::from_millis(300));
    let mut s = connect(emu.addr());
    s.write_all(b"GET /__emulator/stats HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let text = read_to_close(&mut s);
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
}

#[test]
fn a_body_shorter_than_its_length_times_out() {
    let emu = start(|c| {
        c.body_timeout = Duration::from_millis(300);
        c.echo = true;
    });
    let addr = emu.addr();
    let t = token(addr);
    let mut s = connect(addr);
    s.write_all(post_head("dehaze", &t, 1000).as_bytes())
        .unwrap();
    s.write_all(b"image=abc").unwrap();
    let text = read_to_close(&mut s);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    // The slot it held is free again.
    let body = encode_image_form(&png(320, 240), &[]);
    assert!(post_form(addr, "dehaze", &t, &body).contains("\"image\":\""));
}

#[test]
fn idle_connections_do_not_delay_shutdown() {
    // Timeouts far longer than the drain: only closing idle connections lets it end.
    let emu = start(|c| c.header_timeout = Duration::from_secs(600));
    let mut idle = connect(emu.addr());
    idle.write_all(b"GET /__emulator/stats HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut first = [0u8; 12];
    idle.read_exact(&mut first).unwrap();
    assert_eq!(&first, b"HTTP/1.1 200");
    let _fresh = connect(emu.addr());
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        emu.shutdown();
        let _ = tx.send(());
    });
    // The drain allows 30 s; idle connections must not use it.
    rx.recv_timeout(Duration::from_secs(20))
        .expect("shutdown waited for idle connections");
    read_to_close(&mut idle);
}

#[cfg(unix)]
#[test]
fn sigterm_with_an_idle_connection_exits_promptly() {
    use std::process::Command;
    let (mut server, url) = baidu_imageprocess_test_support::spawn_listening(
        Command::new(env!("CARGO_BIN_EXE_baidu-imageprocess-emulator"))
            .args(["--listen", "127.0.0.1:0"]),
    );
    let addr: SocketAddr = url.strip_prefix("http://").unwrap().parse().unwrap();
    let mut idle = connect(addr);
    idle.write_all(b"GET /__emulator/stats HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut first = [0u8; 12];
    idle.read_exact(&mut first).unwrap();
    assert!(
        Command::new("kill")
            .args(["-TERM", &server.id().to_string()])
            .status()
            .unwrap()
            .success()
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(status) = server.try_wait().unwrap() {
            assert!(status.success(), "{status}");
            break;
        }
        if Instant::now() > deadline {
            let _ = server.kill();
            panic!("SIGTERM waited for an idle connection");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn signed(addr: SocketAddr, at: SystemTime) -> String {
    let timestamp = sign::format_timestamp(at);
    let auth = support::bce_dehaze_authorization(addr, "sk", &timestamp);
    let body = encode_image_form(&png(320, 240), &[]);
    let mut s = connect(addr);
    write!(
        s,
        "POST /rest/2.0/image-process/v1/dehaze HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n{FORM}x-bce-date: {timestamp}\r\nAuthorization: {auth}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .unwrap();
    s.write_all(&body).unwrap();
    read_to_close(&mut s)
}

#[test]
fn bce_signatures_from_the_future_are_refused_with_14() {
    let emu = Emulator::builder()
        .credentials("ak", "sk")
        .echo(true)
        .start()
        .unwrap();
    let addr = emu.addr();
    let now = SystemTime::now();
    assert!(signed(addr, now).contains("\"image\":\""));
    // A little clock skew is tolerated.
    assert!(signed(addr, now + Duration::from_secs(60)).contains("\"image\":\""));
    let year_2099 = SystemTime::UNIX_EPOCH + Duration::from_secs(4_070_908_800);
    assert_eq!(error_code(&signed(addr, year_2099)), Some(14));
    assert_eq!(
        error_code(&signed(addr, now + Duration::from_secs(3600))),
        Some(14)
    );
}

#[test]
fn invalid_fault_flags_are_refused() {
    for flags in [
        ["--fail-rate", "nan"],
        ["--fail-rate", "1.5"],
        ["--fail-rate", "-0.1"],
        ["--workers", "0"],
        ["--workers", "18446744073709551615"],
    ] {
        let status = std::process::Command::new(env!("CARGO_BIN_EXE_baidu-imageprocess-emulator"))
            .args(["--listen", "127.0.0.1:0"])
            .args(flags)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .unwrap();
        assert_eq!(status.code(), Some(2), "{flags:?}");
    }
}

#[test]
fn a_nan_fail_rate_from_the_builder_fails_nothing() {
    let emu = Emulator::builder()
        .fail_rate(f64::NAN)
        .echo(true)
        .start()
        .unwrap();
    let addr = emu.addr();
    let t = token(addr);
    let body = encode_image_form(&png(320, 240), &[]);
    for _ in 0..5 {
        assert!(post_form(addr, "dehaze", &t, &body).contains("\"image\":\""));
    }
}

#[test]
fn a_side_past_16384_within_the_limits_is_processed() {
    let emu = Emulator::builder().start().unwrap();
    let addr = emu.addr();
    let t = token(addr);
    // 16 385 × 2: within enhance's 640 000-pixel limit, so the engine must take it (issue 26).
    let body = encode_image_form(&png(16_385, 2), &[]);
    let reply = post_form(addr, "image_quality_enhance", &t, &body);
    assert_eq!(error_code(&reply), None, "{reply}");
    assert!(reply.contains("\"image\":\""), "{reply}");
}
