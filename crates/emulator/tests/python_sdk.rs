//! The official Python SDK and curl against the emulator binary (tests/python/compat.py).

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

#[test]
fn official_python_sdk_works_against_the_emulator() {
    let has_sdk = Command::new("python3")
        .args(["-c", "import aip"])
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        has_sdk,
        "the official SDK is missing: python3 -m pip install baidu-aip==4.16.13 chardet (bash .ci/run does this)"
    );
    let dir = tempfile::tempdir().unwrap();
    let photo = image::RgbImage::from_fn(320, 240, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, 120])
    });
    photo.save(dir.path().join("photo.png")).unwrap();
    photo.save(dir.path().join("photo.jpg")).unwrap();

    let mut server = Command::new(env!("CARGO_BIN_EXE_baidu-imageprocess-emulator"))
        .args([
            "--listen",
            "127.0.0.1:0",
            "--api-key",
            "ak",
            "--secret-key",
            "sk",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(server.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap()
        .to_owned();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/python/compat.py");
    let out = Command::new("python3")
        .arg(script)
        .arg(&url)
        .arg(dir.path())
        .output()
        .unwrap();
    let _ = server.kill();
    let _ = server.wait();
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("{stdout}");
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains(" 0 failed"), "{stdout}");
}
