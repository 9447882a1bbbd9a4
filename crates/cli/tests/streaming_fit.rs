//! `--fit` on files far above the old 64 MiB cap (issue 26): PNG and JPEG are decoded
//! streaming, so a 100 MB panorama is fitted, a truncated one is a clean failure, and a
//! file above the streaming cap is refused from its size.
#![cfg(unix)]

use std::fs::File;
use std::io::BufWriter;
use std::path::Path;

mod support;
use assert_cmd::assert::Assert;
use support::{bdip, dims, set_file_len, stderr_of, tmp};

/// Writes a `w`×`h` RGB PNG of detail the encoder cannot squeeze (noise over a gradient),
/// one row at a time so the test itself stays small in memory.
fn write_noisy_png(path: &Path, w: u32, h: u32) {
    let file = BufWriter::new(File::create(path).unwrap());
    let mut encoder = png::Encoder::new(file, w, h);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(png::Compression::Fastest);
    let mut writer = encoder.write_header().unwrap();
    let mut stream = writer.stream_writer().unwrap();
    let mut seed = 0x9E37_79B9u32;
    let mut row = vec![0u8; w as usize * 3];
    for y in 0..h {
        for (i, v) in row.iter_mut().enumerate() {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            let gradient = (i / 3 * 255 / w as usize) as u32 + y * 255 / h;
            *v = ((seed >> 25) + gradient / 2) as u8;
        }
        std::io::Write::write_all(&mut stream, &row).unwrap();
    }
    stream.finish().unwrap();
}

fn within_contrast_limits((w, h): (u32, u32)) -> bool {
    let (long, short) = (w.max(h), w.min(h));
    short >= 64 && long <= 4096 && long <= 3 * short
}

/// `bdip contrast --fit --local input -o out`, run to the end.
fn contrast_fit(input: &Path, out: &Path) -> Assert {
    bdip()
        .args(["contrast", "--fit", "--local"])
        .arg(input)
        .arg("-o")
        .arg(out)
        .assert()
}

/// Runs [`contrast_fit`], which must succeed with a result inside contrast's limits; returns
/// the result's size.
fn contrast_fits(input: &Path, out: &Path) -> (u32, u32) {
    let assert = contrast_fit(input, out);
    let output = assert.get_output();
    assert!(output.status.success(), "{}", stderr_of(output));
    let size = dims(out);
    assert!(within_contrast_limits(size), "{size:?}");
    size
}

/// Runs [`contrast_fit`], which must fail (exit 1) with a stderr that says it cannot decode,
/// without a panic.
fn contrast_fit_cannot_decode(input: &Path, out: &Path) {
    let assert = contrast_fit(input, out).code(1);
    let stderr = stderr_of(assert.get_output());
    assert!(stderr.contains("cannot decode"), "{stderr}");
    assert!(!stderr.contains("panick"), "{stderr}");
}

/// Runs [`contrast_fit`], which must fail (exit 1) with a stderr holding every one of `needles`.
fn contrast_fit_refused_saying(input: &Path, out: &Path, needles: &[&str]) {
    let assert = contrast_fit(input, out).code(1);
    let stderr = stderr_of(assert.get_output());
    assert!(needles.iter().all(|n| stderr.contains(n)), "{stderr}");
}

#[test]
fn a_100_mb_panorama_is_fitted_and_a_truncated_one_fails_cleanly() {
    let dir = tmp();
    let input = dir.path().join("pano.png");
    write_noisy_png(&input, 12_000, 3000);
    let len = std::fs::metadata(&input).unwrap().len();
    assert!(len > 64 * 1024 * 1024, "the panorama is only {len} bytes");

    let size = contrast_fits(&input, &dir.path().join("out.png"));
    // Shrunk, not cropped: the panorama's 4:1 shape is kept inside the padding.
    assert!(size.0 >= 1000, "{size:?}");

    // The same file cut in the middle of its rows: a decode error, no panic, no result.
    let cut = dir.path().join("cut.png");
    std::fs::rename(&input, &cut).unwrap();
    set_file_len(&cut, len / 2);
    let cut_out = dir.path().join("cut_out.png");
    contrast_fit_cannot_decode(&cut, &cut_out);
    assert!(!cut_out.exists());
}

#[test]
fn files_above_the_caps_are_refused_with_what_to_do() {
    let dir = tmp();
    // A sparse PNG of 5 GiB: above what --fit streams, refused from its size, never read.
    let huge = dir.path().join("huge.png");
    support::write_png(&huge, 64, 64);
    set_file_len(&huge, 5 * 1024 * 1024 * 1024);
    contrast_fit_refused_saying(
        &huge,
        &dir.path().join("o.png"),
        &["larger than 4 GiB", "shrink it"],
    );

    // A 100 MiB BMP: not streamed, so the whole-file cap holds and the message says which
    // formats go further. Stdin, which cannot be streamed (no seeking), says to give a file.
    let bmp = dir.path().join("big.bmp");
    image::RgbImage::new(64, 64).save(&bmp).unwrap();
    set_file_len(&bmp, 100 * 1024 * 1024);
    contrast_fit_refused_saying(
        &bmp,
        &dir.path().join("o.bmp"),
        &["64 MiB", "convert it to PNG or JPEG"],
    );
    let mut stdin = baidu_imageprocess_test_support::gradient_png(64, 64);
    stdin.resize(65 * 1024 * 1024, 0);
    let assert = bdip()
        .args(["contrast", "--fit", "--local", "-", "-o", "-"])
        .write_stdin(stdin)
        .assert()
        .code(1);
    let stderr = stderr_of(assert.get_output());
    assert!(
        stderr.contains("from stdin") && stderr.contains("give the image as a file"),
        "{stderr}"
    );
}

#[test]
fn a_large_jpeg_is_fitted_from_its_file_and_a_truncated_one_fails_cleanly() {
    let dir = tmp();
    let input = dir.path().join("big.jpg");
    // Noise: about 10 MB, far above the 3 MiB contrast takes as it is.
    let mut seed = 0x2545_F491u32;
    let img = image::RgbImage::from_fn(6000, 4000, |_, _| {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        image::Rgb([seed as u8, (seed >> 8) as u8, (seed >> 16) as u8])
    });
    let file = BufWriter::new(File::create(&input).unwrap());
    img.write_with_encoder(image::codecs::jpeg::JpegEncoder::new_with_quality(file, 90))
        .unwrap();
    drop(img);
    let len = std::fs::metadata(&input).unwrap().len();
    assert!(len > 4 * 1024 * 1024, "the JPEG is only {len} bytes");

    contrast_fits(&input, &dir.path().join("out.jpg"));

    set_file_len(&input, len / 2);
    contrast_fit_cannot_decode(&input, &dir.path().join("cut.jpg"));
}
