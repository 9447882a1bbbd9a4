//! Loopback servers for transport tests, each bounded in time: one that answers one
//! request with canned bytes, one that accepts and never answers, one that speaks plain
//! HTTP to whatever connects (for `https://` pointed at the wrong port).

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Serves one connection on 127.0.0.1: reads one request (headers, then as many body
/// bytes as `Content-Length` says), writes `reply`, closes. Returns a URL on it whose
/// query holds `access_token=SECRET` (to check that errors never show it), and the
/// server thread.
pub fn serve_once(reply: Vec<u8>) -> (String, JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!(
        "http://{}/rest?access_token=SECRET",
        listener.local_addr().unwrap()
    );
    let server = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        read_request(&mut stream);
        // The client may hang up once it has seen enough (a size cap).
        let _ = stream.write_all(&reply);
    });
    (url, server)
}

/// Reads one HTTP/1.1 request: headers, then `Content-Length` body bytes.
fn read_request(stream: &mut TcpStream) -> Vec<u8> {
    let mut request = Vec::new();
    let mut buf = [0u8; 4096];
    let body_start = loop {
        let n = stream.read(&mut buf).unwrap();
        assert!(n > 0, "client closed early");
        request.extend_from_slice(&buf[..n]);
        if let Some(i) = request.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8_lossy(&request[..body_start]).to_ascii_lowercase();
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .map_or(0, |v| v.trim().parse().unwrap());
    while request.len() < body_start + length {
        let n = stream.read(&mut buf).unwrap();
        assert!(n > 0, "client closed early");
        request.extend_from_slice(&buf[..n]);
    }
    request
}

/// An HTTP/1.1 reply: `status_line` (`"200 OK"`), extra `headers` (each ending in
/// `\r\n`), `Content-Length`, `Connection: close` and `body`.
pub fn reply_with(status_line: &str, headers: &str, body: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 {status_line}\r\n{headers}content-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}

/// A listener on 127.0.0.1 that accepts connections and never answers, for 5 s.
pub fn silent_server() -> (SocketAddr, JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let holder = std::thread::spawn(move || {
        listener.set_nonblocking(true).unwrap();
        let mut held = Vec::new();
        let until = Instant::now() + Duration::from_secs(5);
        while Instant::now() < until {
            if let Ok((s, _)) = listener.accept() {
                held.push(s);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    });
    (addr, holder)
}

/// A plain-HTTP server on 127.0.0.1, as a client pointed at it with `https://` meets:
/// to every connection it answers `400 Bad Request` (what an HTTP server says to a TLS
/// ClientHello) and closes. Serves for `for_how_long`; the returned counter says how
/// many connections were made.
pub fn plain_http_server(for_how_long: Duration) -> (SocketAddr, Arc<AtomicUsize>, JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let connections = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&connections);
    let server = std::thread::spawn(move || {
        listener.set_nonblocking(true).unwrap();
        let until = Instant::now() + for_how_long;
        while Instant::now() < until {
            match listener.accept() {
                Ok((mut stream, _)) => {
                    counter.fetch_add(1, Ordering::SeqCst);
                    let _ = stream.set_nonblocking(false);
                    let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
                    let mut buf = [0u8; 1024];
                    let _ = stream.read(&mut buf);
                    let _ = stream.write_all(&reply_with("400 Bad Request", "", b"plain HTTP"));
                }
                Err(_) => std::thread::sleep(Duration::from_millis(5)),
            }
        }
    });
    (addr, connections, server)
}
