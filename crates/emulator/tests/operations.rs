//! All fifteen operations over HTTP: reply shapes, parameters, percent-encoded bodies,
//! and `url` inputs (limits, redirects, loopback-only, timeouts) against a loopback
//! server written here so each failure can be provoked.

use std::fmt::Write as _;
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use baidu_imageprocess_emulator::Emulator;
use baidu_imageprocess_test_support::png_header;
use base64::Engine as _;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

fn post(addr: SocketAddr, path: &str, content_type: &str, body: &[u8]) -> serde_json::Value {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let mut head = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    let _ = write!(head, "Content-Type: {content_type}\r\n\r\n");
    s.write_all(head.as_bytes()).unwrap();
    let _ = s.write_all(body);
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    let text = String::from_utf8_lossy(&raw);
    let payload = text.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    match (payload.find('{'), payload.rfind('}')) {
        (Some(a), Some(b)) => serde_json::from_str(&payload[a..=b]).unwrap(),
        _ => serde_json::Value::Null,
    }
}

fn token(addr: SocketAddr) -> String {
    let reply = post(
        addr,
        "/oauth/2.0/token",
        "application/x-www-form-urlencoded",
        b"grant_type=client_credentials&client_id=a&client_secret=b",
    );
    reply["access_token"].as_str().unwrap().to_owned()
}

fn form(pairs: &[(&str, &str)]) -> Vec<u8> {
    let mut out = String::new();
    for (k, v) in pairs {
        if !out.is_empty() {
            out.push('&');
        }
        let _ = write!(out, "{k}=");
        for b in v.bytes() {
            if b.is_ascii_alphanumeric() || b"-._*".contains(&b) {
                out.push(b as char);
            } else {
                let _ = write!(out, "%{b:02X}");
            }
        }
    }
    out.into_bytes()
}

fn call(addr: SocketAddr, token: &str, op: &str, pairs: &[(&str, &str)]) -> serde_json::Value {
    post(
        addr,
        &format!("/rest/2.0/image-process/v1/{op}?access_token={token}"),
        "application/x-www-form-urlencoded",
        &form(pairs),
    )
}

fn photo(w: u32, h: u32, format: image::ImageFormat) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    image::RgbImage::from_fn(w, h, |x, y| {
        image::Rgb([(x * 2 % 256) as u8, (y * 3 % 256) as u8, 90])
    })
    .write_to(&mut out, format)
    .unwrap();
    out.into_inner()
}

fn decoded(reply: &serde_json::Value, field: &str) -> Vec<u8> {
    B64.decode(reply[field].as_str().unwrap_or_default())
        .unwrap_or_default()
}

#[test]
fn every_operation_answers_in_its_shape() {
    let emu = Emulator::builder().start().unwrap();
    let addr = emu.addr();
    let t = token(addr);
    let png = B64.encode(photo(240, 200, image::ImageFormat::Png));
    let jpeg = B64.encode(photo(240, 200, image::ImageFormat::Jpeg));
    let style = B64.encode(photo(80, 80, image::ImageFormat::Png));
    let cases: Vec<(&str, Vec<(&str, &str)>)> = vec![
        ("image_quality_enhance", vec![]),
        ("dehaze", vec![]),
        ("contrast_enhance", vec![]),
        ("colourize", vec![]),
        ("stretch_restore", vec![]),
        ("image_definition_enhance", vec![]),
        ("color_enhance", vec![]),
        ("style_trans", vec![("option", "scream")]),
        (
            "selfie_anime",
            vec![("type", "anime_mask"), ("mask_id", "5")],
        ),
        ("remove_moire", vec![]),
        ("doc_repair", vec![]),
        ("denoise", vec![("option", "80")]),
        ("customize_stylization", vec![("style_id", "0")]),
        ("customize_stylization", vec![("style", &style)]),
    ];
    for (image, format) in [
        (&png, image::ImageFormat::Png),
        (&jpeg, image::ImageFormat::Jpeg),
    ] {
        for (op, params) in &cases {
            let mut pairs = vec![("image", image.as_str())];
            pairs.extend(params.iter().copied());
            let reply = call(addr, &t, op, &pairs);
            let out = decoded(&reply, "image");
            assert_eq!(
                image::guess_format(&out).ok(),
                Some(format),
                "{op}: {}",
                reply["error_msg"]
            );
            assert!(reply["log_id"].as_u64().is_some(), "{op}");
        }
        let sky = call(addr, &t, "sky_seg", &[("image", image)]);
        assert!(sky.get("image").is_none());
        for field in ["labelmap", "scoremap"] {
            let map = image::load_from_memory(&decoded(&sky, field)).unwrap();
            assert_eq!((map.width(), map.height()), (240, 200), "{field}");
        }
        let body = serde_json::json!({
            "image": image,
            "rectangle": [{"left": 10, "top": 10, "width": 30, "height": 20}],
        });
        let reply = post(
            addr,
            &format!("/rest/2.0/image-process/v1/inpainting?access_token={t}"),
            "application/json",
            body.to_string().as_bytes(),
        );
        assert_eq!(
            image::guess_format(&decoded(&reply, "image")).ok(),
            Some(format)
        );
    }
    // The Python SDK's form body for inpainting gets a message naming the JSON body.
    let broken = call(
        addr,
        &t,
        "inpainting",
        &[("image", &png), ("rectangle", "left"), ("rectangle", "top")],
    );
    assert_eq!(broken["error_code"], 216_100);
    assert!(broken["error_msg"].as_str().unwrap().contains("JSON"));
    // Parameter errors name the allowed values.
    let bad = call(
        addr,
        &t,
        "style_trans",
        &[("image", &png), ("option", "sepia")],
    );
    assert_eq!(bad["error_code"], 216_100);
    assert!(bad["error_msg"].as_str().unwrap().contains("mononoke"));
    let missing = call(addr, &t, "denoise", &[("image", &png)]);
    assert_eq!(missing["error_code"], 216_101);
    let pdf = call(addr, &t, "remove_moire", &[("pdf_file", "JVBERi0=")]);
    assert_eq!(pdf["error_code"], 216_201);
    assert!(pdf["error_msg"].as_str().unwrap().contains("PDF"));
    // Limits of the new operations: denoise takes at most 1999 px a side.
    let wide = B64.encode(photo(2000, 60, image::ImageFormat::Png));
    assert_eq!(
        call(addr, &t, "denoise", &[("image", &wide), ("option", "1")])["error_code"],
        216_202
    );
}

#[test]
fn a_fully_percent_encoded_body_within_the_base64_limit_is_accepted() {
    let emu = Emulator::builder().echo(true).start().unwrap();
    let addr = emu.addr();
    let t = token(addr);
    // A white 1000×1000 BMP: 4,000,072 base64 characters, every one of them `/` (%2F).
    let bmp = photo_white_bmp(1000, 1000);
    let b64 = B64.encode(&bmp);
    assert_eq!(b64.len(), 4_000_072);
    let body = form(&[("image", &b64)]);
    assert!(body.len() > 12_000_000, "{}", body.len());
    let reply = post(
        addr,
        &format!("/rest/2.0/image-process/v1/dehaze?access_token={t}"),
        "application/x-www-form-urlencoded",
        &body,
    );
    assert_eq!(
        decoded(&reply, "image"),
        bmp,
        "{}",
        reply["error_msg"].as_str().unwrap_or_default()
    );
    // Over the base64 limit by one character, however it is encoded: 216202.
    let over = "A".repeat(4 * 1024 * 1024 + 1);
    let reply = call(addr, &t, "dehaze", &[("image", &over)]);
    assert_eq!(reply["error_code"], 216_202);
}

fn photo_white_bmp(w: u32, h: u32) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    image::RgbImage::from_pixel(w, h, image::Rgb([255, 255, 255]))
        .write_to(&mut out, image::ImageFormat::Bmp)
        .unwrap();
    out.into_inner()
}

/// A loopback HTTP server with one route per failure mode; stops when dropped.
struct Files {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
}

impl Files {
    fn start(png: Vec<u8>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = Arc::clone(&stop);
        let png = Arc::new(png);
        std::thread::spawn(move || {
            let started = Instant::now();
            // Bounded: gone after two minutes whatever happens.
            while !stopped.load(Ordering::SeqCst) && started.elapsed() < Duration::from_secs(120) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let png = Arc::clone(&png);
                        std::thread::spawn(move || serve(stream, &png, addr));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        Self { addr, stop }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

impl Drop for Files {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

fn serve(mut stream: TcpStream, png: &[u8], addr: SocketAddr) {
    let _ = stream.set_nonblocking(false);
    let mut line = String::new();
    if BufReader::new(&stream).read_line(&mut line).is_err() {
        return;
    }
    let path = line.split_whitespace().nth(1).unwrap_or("/").to_owned();
    let head = |status: &str, extra: &str| {
        format!("HTTP/1.1 {status}\r\nConnection: close\r\n{extra}\r\n")
    };
    let _ = match path.as_str() {
        "/photo.png" => stream
            .write_all(head("200 OK", &format!("Content-Length: {}\r\n", png.len())).as_bytes())
            .and_then(|()| stream.write_all(png)),
        // Announces 100 MB: refused from the header.
        "/announced-huge" => {
            stream.write_all(head("200 OK", "Content-Length: 100000000\r\n").as_bytes())
        }
        // No length, then more than any limit: refused while streaming.
        "/streamed-huge" => {
            let mut result = stream.write_all(head("200 OK", "").as_bytes());
            let chunk = vec![0u8; 64 * 1024];
            for _ in 0..200 {
                if result.is_err() {
                    break;
                }
                result = stream.write_all(&chunk);
            }
            result
        }
        "/silent" => {
            std::thread::sleep(Duration::from_secs(15));
            Ok(())
        }
        "/to-remote" => stream.write_all(
            head(
                "302 Found",
                "Location: http://192.0.2.1/photo.png\r\nContent-Length: 0\r\n",
            )
            .as_bytes(),
        ),
        other => match other
            .strip_prefix("/hops/")
            .and_then(|n| n.parse::<u32>().ok())
        {
            Some(0) => stream.write_all(
                head(
                    "302 Found",
                    &format!("Location: http://{addr}/photo.png\r\nContent-Length: 0\r\n"),
                )
                .as_bytes(),
            ),
            Some(n) => stream.write_all(
                head(
                    "302 Found",
                    &format!("Location: /hops/{}\r\nContent-Length: 0\r\n", n - 1),
                )
                .as_bytes(),
            ),
            None => stream.write_all(head("404 Not Found", "Content-Length: 0\r\n").as_bytes()),
        },
    };
}

#[test]
fn url_inputs_are_fetched_with_the_image_limits() {
    let files = Files::start(photo(240, 200, image::ImageFormat::Png));
    let emu = Emulator::builder().start().unwrap();
    let addr = emu.addr();
    let t = token(addr);
    let fetch = |op: &str, url: &str| call(addr, &t, op, &[("url", url)]);
    let reply = fetch("doc_repair", &files.url("/photo.png"));
    assert_eq!(
        image::guess_format(&decoded(&reply, "image")).ok(),
        Some(image::ImageFormat::Png)
    );
    // `image` wins over `url`.
    let png = B64.encode(photo(100, 90, image::ImageFormat::Png));
    let both = call(
        addr,
        &t,
        "contrast_enhance",
        &[("url", &files.url("/missing")), ("image", &png)],
    );
    assert!(both["image"].is_string(), "{both}");
    // Two redirects (three requests) are followed; four redirects are too many.
    let hops = fetch("dehaze", &files.url("/hops/2"));
    assert!(hops["image"].is_string(), "{hops}");
    let cases = [
        ("/hops/3", 282_113),
        ("/missing", 282_113),
        ("/to-remote", 282_113),
        ("/announced-huge", 282_114),
        ("/streamed-huge", 282_114),
    ];
    for (path, code) in cases {
        assert_eq!(
            fetch("doc_repair", &files.url(path))["error_code"],
            code,
            "{path}"
        );
    }
    for (url, code) in [
        ("http://192.0.2.1/photo.png".to_owned(), 282_111),
        ("file:///etc/passwd".to_owned(), 282_111),
        ("not a url".to_owned(), 282_111),
        (files.url(&format!("/{}", "x".repeat(1100))), 282_111),
    ] {
        let reply = fetch("dehaze", &url);
        assert_eq!(reply["error_code"], code, "{url}");
    }
    // The server stays silent for 15 s; the 10 s download timeout answers first.
    assert_eq!(
        fetch("dehaze", &files.url("/silent"))["error_code"],
        282_112
    );
}

#[test]
fn any_operation_can_be_denied() {
    let emu = Emulator::builder()
        .deny(baidu_imageprocess_protocol::Operation::StyleTrans)
        .start()
        .unwrap();
    let addr = emu.addr();
    let t = token(addr);
    let png = B64.encode(photo(240, 200, image::ImageFormat::Png));
    let denied = call(
        addr,
        &t,
        "style_trans",
        &[("image", &png), ("option", "warm")],
    );
    assert_eq!(denied["error_code"], 6);
    let allowed = call(addr, &t, "color_enhance", &[("image", &png)]);
    assert!(allowed["image"].is_string(), "{allowed}");
}

/// Sides just outside `limits`: past the aspect ratio when it is bounded, else past the
/// longest side, else past the pixel count.
fn outside(limits: &baidu_imageprocess_protocol::Limits) -> (u32, u32) {
    if let Some(aspect) = limits.max_aspect {
        let long = limits.max_side;
        let short = long / (aspect + 1);
        assert!(short >= limits.min_side, "{limits:?}");
        return (long, short);
    }
    if limits.max_side < u32::MAX {
        return (limits.max_side + 1, limits.min_side.max(100));
    }
    let max = limits.max_pixels.expect("the row bounds the image");
    let side = u32::try_from(max.isqrt() + 1).unwrap();
    (side, side)
}

#[test]
fn every_operation_refuses_an_image_outside_its_tables_limits() {
    use baidu_imageprocess_protocol::{Operation, optable};
    let emu = Emulator::builder().start().unwrap();
    let addr = emu.addr();
    let t = token(addr);
    for op in Operation::ALL {
        let limits = optable::spec(op).limits;
        let (w, h) = outside(&limits);
        let image = B64.encode(png_header(w, h));
        let reply = if op == Operation::Inpainting {
            let body = serde_json::json!({
                "image": image,
                "rectangle": [{"left": 0, "top": 0, "width": 10, "height": 10}],
            });
            post(
                addr,
                &format!("/rest/2.0/image-process/v1/inpainting?access_token={t}"),
                "application/json",
                body.to_string().as_bytes(),
            )
        } else {
            let params: &[(&str, &str)] = match op {
                Operation::StyleTrans => &[("option", "cartoon")],
                Operation::Denoise => &[("option", "50")],
                Operation::CustomizeStylization => &[("style_id", "1")],
                _ => &[],
            };
            let mut pairs = vec![("image", image.as_str())];
            pairs.extend_from_slice(params);
            call(addr, &t, op.name(), &pairs)
        };
        assert_eq!(reply["error_code"], 216_202, "{op} {w}×{h}: {reply}");
    }
    // The 4:1 operations whose sides are their siblings': 2000 × 100 is refused here as by the clients.
    for op in [
        Operation::ImageDefinitionEnhance,
        Operation::ColorEnhance,
        Operation::SkySeg,
        Operation::StretchRestore,
    ] {
        let image = B64.encode(png_header(2000, 100));
        let reply = call(addr, &t, op.name(), &[("image", &image)]);
        assert_eq!(reply["error_code"], 216_202, "{op}: {reply}");
    }
}
