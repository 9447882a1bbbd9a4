//! Shared by the emulator's integration tests: the binary on a free port, test photos, a
//! bce-auth-v1 signature.
#![allow(dead_code)] // each test binary uses its own subset

use std::path::Path;
use std::process::{Child, Command};

use baidu_imageprocess_test_support::spawn_listening;

/// The emulator binary, stopped when dropped.
pub struct Server {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
}

impl Server {
    /// Starts the binary on a free loopback port with these extra flags.
    pub fn start(args: &[&str]) -> Self {
        let (child, url) = spawn_listening(
            Command::new(env!("CARGO_BIN_EXE_baidu-imageprocess-emulator"))
                .args(["--listen", "127.0.0.1:0"])
                .args(args),
        );
        Self { child, url }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Writes `photo.png` and `photo.jpg` (320×240, a gradient) into `dir`.
pub fn write_photos(dir: &Path) {
    let photo = image::RgbImage::from_fn(320, 240, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, 120])
    });
    photo.save(dir.join("photo.png")).unwrap();
    photo.save(dir.join("photo.jpg")).unwrap();
}

/// A bce-auth-v1 `Authorization` for a POST to the dehaze operation on `addr`, signed with
/// access key `ak` and `secret_key` at `timestamp` (what the emulator checks against `x-bce-date`).
pub fn bce_dehaze_authorization(
    addr: std::net::SocketAddr,
    secret_key: &str,
    timestamp: &str,
) -> String {
    let headers = vec![
        ("host".to_owned(), addr.to_string()),
        ("x-bce-date".to_owned(), timestamp.to_owned()),
    ];
    let credentials = baidu_imageprocess_protocol::BceCredentials {
        access_key: "ak".into(),
        secret_key: secret_key.into(),
    };
    baidu_imageprocess_protocol::sign::authorization(
        &credentials,
        &baidu_imageprocess_protocol::sign::SigningInput {
            method: "POST",
            path: baidu_imageprocess_protocol::Operation::Dehaze.path(),
            query: &[],
            headers: &headers,
            timestamp,
            expire_secs: 1800,
        },
    )
}

/// A finished SDK compatibility script (`tests/*/compat.*`) exited 0 and reported no
/// failed case; its report is printed either way.
pub fn assert_compat_passed(out: &std::process::Output) {
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("{stdout}");
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains(" 0 failed"), "{stdout}");
}

/// A `w`×`h` PNG: a gradient in red and green over a blue of `blue`.
pub fn gradient_png(w: u32, h: u32, blue: u8) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    image::RgbImage::from_fn(w, h, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, blue])
    })
    .write_to(&mut out, image::ImageFormat::Png)
    .unwrap();
    out.into_inner()
}
