//! SIGTERM while requests are in flight: every request is answered, the exit status is 0.
#![cfg(unix)]

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::process::Command;
use std::time::Duration;

use baidu_imageprocess_test_support::spawn_listening;

#[test]
fn sigterm_finishes_in_flight_requests_and_exits_zero() {
    let (mut server, url) = spawn_listening(
        Command::new(env!("CARGO_BIN_EXE_baidu-imageprocess-emulator")).args([
            "--listen",
            "127.0.0.1:0",
            "--latency-ms",
            "700",
            "--echo",
        ]),
    );
    let addr = url.strip_prefix("http://").unwrap().to_owned();
    let body = baidu_imageprocess_protocol::encode_image_form(
        b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR\0\0\x01\x40\0\0\0\xf0\x08\x02\0\0\0\0\0\0\0",
        &[],
    );
    // Token first (no latency on the token endpoint).
    let token = {
        let mut s = TcpStream::connect(&addr).unwrap();
        write!(s, "GET /oauth/2.0/token?grant_type=client_credentials&client_id=a&client_secret=b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
        let mut text = String::new();
        s.read_to_string(&mut text).unwrap();
        let start = text.find("\"access_token\":\"").unwrap() + 16;
        text[start..].split('"').next().unwrap().to_owned()
    };
    let handles: Vec<_> = (0..8)
        .map(|_| {
            let (addr, token, body) = (addr.clone(), token.clone(), body.clone());
            std::thread::spawn(move || {
                let mut s = TcpStream::connect(&addr).unwrap();
                s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
                write!(
                    s,
                    "POST /rest/2.0/image-process/v1/dehaze?access_token={token} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n",
                    body.len()
                )
                .unwrap();
                s.write_all(&body).unwrap();
                let mut text = String::new();
                let _ = s.read_to_string(&mut text);
                text
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(250));
    let killed = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    for h in handles {
        let text = h.join().unwrap();
        assert!(text.starts_with("HTTP/1.1 200"), "{text}");
        assert!(text.contains("\"image\""), "{text}");
    }
    let status = server.wait().unwrap();
    assert_eq!(status.code(), Some(0));
}
