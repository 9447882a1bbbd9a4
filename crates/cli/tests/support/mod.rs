//! Set-up shared by the `bdip` integration tests: a clean command, test images, temp folders.
#![allow(dead_code)] // each test binary uses its own subset

use std::path::{Path, PathBuf};
use std::time::Duration;

use assert_cmd::Command;

/// `bdip` with no credentials, endpoint, log filter or profiling inherited from the caller's
/// environment, and a timeout so a hung child fails the test instead of the suite.
pub fn bdip() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_bdip"));
    for var in [
        "BAIDU_API_KEY",
        "BAIDU_SECRET_KEY",
        "BAIDU_IMAGEPROCESS_ENDPOINT",
        "RUST_LOG",
        "BDIP_PROFILE",
    ] {
        cmd.env_remove(var);
    }
    cmd.timeout(Duration::from_secs(180));
    cmd
}

/// A `w`×`h` PNG with a gradient in red and green, so every operation has structure to see.
pub fn write_png(path: &Path, w: u32, h: u32) {
    let img = image::RgbImage::from_fn(w, h, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, 128])
    });
    img.save(path).unwrap();
}

/// A `w`×`h` picture striped in all three channels (busier than [`write_png`]'s
/// gradient), in the format `path`'s extension names.
pub fn write_striped(path: &Path, w: u32, h: u32) {
    image::RgbImage::from_fn(w, h, |x, y| {
        image::Rgb([
            (x * 3 % 256) as u8,
            (y * 2 % 256) as u8,
            ((x + y) % 200) as u8,
        ])
    })
    .save(path)
    .unwrap();
}

/// The width and height in an image file's header.
pub fn dims(path: &Path) -> (u32, u32) {
    image::image_dimensions(path).unwrap()
}

/// A temporary folder removed when dropped.
pub fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

/// A temporary folder holding `name`, a `w`×`h` [`write_png`] picture; the folder and the
/// picture's path.
pub fn tmp_with_png(name: &str, w: u32, h: u32) -> (tempfile::TempDir, PathBuf) {
    let dir = tmp();
    let input = dir.path().join(name);
    write_png(&input, w, h);
    (dir, input)
}

/// A finished child's stderr as text.
pub fn stderr_of(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Cuts or (sparsely) extends the file at `path` to `len` bytes.
pub fn set_file_len(path: &Path, len: u64) {
    std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .unwrap()
        .set_len(len)
        .unwrap();
}
