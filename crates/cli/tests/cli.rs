//! `bdip` end to end: the embedded engine, and the emulator on loopback.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use baidu_imageprocess_emulator::Emulator;

mod support;
use support::{bdip, dims, tmp, tmp_with_png, write_png};

const SECRET: &str = "sentinel-secret-4c1d";

#[test]
fn no_credentials_runs_locally_with_one_notice() {
    let (dir, input) = tmp_with_png("in.png", 320, 240);
    let out = dir.path().join("out.png");
    let assert = bdip()
        .arg("dehaze")
        .arg(&input)
        .arg("-o")
        .arg(&out)
        .assert()
        .success();
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).to_string();
    assert_eq!(
        stderr.matches("embedded local engine").count(),
        1,
        "{stderr}"
    );
    assert_eq!(dims(&out), (320, 240));
}

#[test]
fn every_operation_locally() {
    let (dir, input) = tmp_with_png("photo.png", 320, 240);
    for (cmd, suffix, size) in [
        ("enhance", "enhance", (640, 480)),
        ("dehaze", "dehaze", (320, 240)),
        ("contrast", "contrast", (320, 240)),
        ("colourize", "colourize", (320, 240)),
    ] {
        bdip().arg(cmd).arg(&input).assert().success();
        assert_eq!(
            dims(&dir.path().join(format!("photo.{suffix}.png"))),
            size,
            "{cmd}"
        );
    }
}

#[test]
fn derived_names_are_not_replaced_without_force() {
    let (dir, input) = tmp_with_png("a.png", 320, 240);
    let derived = dir.path().join("a.contrast.png");
    std::fs::write(&derived, b"keep me").unwrap();
    bdip()
        .arg("contrast")
        .arg(&input)
        .assert()
        .success()
        .stderr(predicates::str::contains("--force"));
    assert_eq!(std::fs::read(&derived).unwrap(), b"keep me");
    bdip()
        .arg("contrast")
        .arg(&input)
        .arg("--force")
        .assert()
        .success();
    assert_eq!(dims(&derived), (320, 240));
}

#[test]
fn stdin_to_stdout() {
    let (_dir, input) = tmp_with_png("a.png", 320, 240);
    let assert = bdip()
        .args(["dehaze", "-", "-o", "-"])
        .pipe_stdin(&input)
        .unwrap()
        .assert()
        .success();
    let out = &assert.get_output().stdout;
    assert_eq!(image::load_from_memory(out).unwrap().width(), 320);
}

#[test]
fn fit_shrinks_a_5000_px_image() {
    let dir = tmp();
    let input = dir.path().join("big.png");
    image::RgbImage::new(5000, 3000).save(&input).unwrap();
    bdip()
        .arg("dehaze")
        .arg(&input)
        .assert()
        .code(1)
        .stderr(predicates::str::contains("use --fit"));
    let out = dir.path().join("fitted.png");
    bdip()
        .arg("dehaze")
        .arg(&input)
        .arg("--fit")
        .arg("-o")
        .arg(&out)
        .assert()
        .success();
    assert_eq!(dims(&out), (4096, 2457));
}

#[test]
fn a_corrupt_file_fails_alone_and_is_reported() {
    let dir = tmp();
    let photos = dir.path().join("photos");
    std::fs::create_dir(&photos).unwrap();
    for name in ["a.png", "b.png", "c.png"] {
        write_png(&photos.join(name), 200, 200);
    }
    std::fs::write(photos.join("broken.jpg"), b"\xFF\xD8\xFFnot really a jpeg").unwrap();
    let out_dir = dir.path().join("out");
    let report = dir.path().join("report.json");
    bdip()
        .arg("contrast")
        .arg(&photos)
        .arg("--out-dir")
        .arg(&out_dir)
        .arg("--report")
        .arg(&report)
        .assert()
        .code(1);
    for name in ["a", "b", "c"] {
        assert_eq!(
            dims(&out_dir.join(format!("{name}.contrast.png"))),
            (200, 200)
        );
    }
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    assert_eq!(json["operation"], "contrast");
    assert_eq!(json["summary"]["done"], 3);
    assert_eq!(json["summary"]["failed"], 1);
    let images = json["images"].as_array().unwrap();
    assert_eq!(images.len(), 4);
    for image in images {
        for key in [
            "input",
            "output",
            "status",
            "log_id",
            "error_code",
            "error_message",
            "ms",
        ] {
            assert!(image.get(key).is_some(), "{key} missing in {image}");
        }
    }
    let broken = images
        .iter()
        .find(|i| i["input"].as_str().unwrap().ends_with("broken.jpg"))
        .unwrap();
    assert_eq!(broken["status"], "failed");
    assert_eq!(broken["error_code"], 216_201);
    let entries: Vec<PathBuf> = std::fs::read_dir(&out_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert!(
        entries
            .iter()
            .all(|p| !p.to_string_lossy().contains(".part")),
        "{entries:?}"
    );
}

#[test]
fn remote_endpoint_with_credentials_and_token() {
    let emu = Emulator::builder()
        .credentials("ak", SECRET)
        .start()
        .unwrap();
    let (dir, input) = tmp_with_png("in.png", 320, 240);
    let out = dir.path().join("out.png");
    let assert = bdip()
        .env("BAIDU_API_KEY", "ak")
        .env("BAIDU_SECRET_KEY", SECRET)
        .env("RUST_LOG", "trace")
        .arg("-vv")
        .arg("dehaze")
        .arg(&input)
        .arg("-o")
        .arg(&out)
        .arg("--endpoint")
        .arg(emu.base_url())
        .assert()
        .success();
    assert_eq!(dims(&out), (320, 240));
    let output = assert.get_output();
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(!all.contains(SECRET), "secret printed");
    assert!(!all.contains("24."), "a token was printed: {all}");
    assert!(!all.contains("embedded local engine"));

    // `bdip token [flags]` with the right keys, against the emulator.
    let token = |flags: &[&str]| {
        bdip()
            .arg("token")
            .args(flags)
            .args(["--api-key", "ak", "--secret-key", SECRET, "--endpoint"])
            .arg(emu.base_url())
            .assert()
            .success()
    };
    let assert = token(&[]).stdout(predicates::str::contains("valid for 30.0 days"));
    assert!(!String::from_utf8_lossy(&assert.get_output().stdout).contains("24."));
    token(&["--show"]).stdout(predicates::str::contains("access_token: 24."));
}

#[test]
fn bad_credentials_exit_2_with_advice() {
    let emu = Emulator::builder()
        .credentials("ak", SECRET)
        .start()
        .unwrap();
    let (_dir, input) = tmp_with_png("in.png", 320, 240);
    bdip()
        .env("BAIDU_API_KEY", "ak")
        .env("BAIDU_SECRET_KEY", "wrong")
        .arg("dehaze")
        .arg(&input)
        .arg("--endpoint")
        .arg(emu.base_url())
        .assert()
        .code(2)
        .stderr(predicates::str::contains("BAIDU_SECRET_KEY"));
    assert!(emu.stats().token_requests() <= 2);
    bdip()
        .env("BAIDU_API_KEY", "only-half")
        .arg("dehaze")
        .arg(&input)
        .assert()
        .code(2);
}

#[test]
fn denied_colourize_explains_the_permission() {
    let emu = Emulator::builder()
        .deny(baidu_imageprocess::Operation::Colourize)
        .start()
        .unwrap();
    let (_dir, input) = tmp_with_png("in.png", 320, 240);
    bdip()
        .args([
            "colourize",
            "--api-key",
            "ak",
            "--secret-key",
            "sk",
            "--endpoint",
        ])
        .arg(emu.base_url())
        .arg(&input)
        .assert()
        .code(1)
        .stderr(predicates::str::contains("permission"));
}

#[test]
fn serve_and_completions() {
    bdip()
        .args(["completions", "bash"])
        .assert()
        .success()
        .stdout(predicates::str::contains("bdip"));
    bdip()
        .args(["serve", "--help"])
        .assert()
        .success()
        .stdout(predicates::str::contains("--fail-rate"));
    let help = bdip().arg("--help").assert().success();
    let text = String::from_utf8_lossy(&help.get_output().stdout).to_string();
    for cmd in [
        "enhance",
        "dehaze",
        "contrast",
        "colourize",
        "token",
        "serve",
    ] {
        assert!(text.contains(cmd), "{cmd} missing from --help");
    }
}

#[test]
fn two_hundred_images_at_the_service_rate() {
    let emu = Emulator::builder().echo(true).qps(20.0).start().unwrap();
    let dir = tmp();
    let photos = dir.path().join("batch");
    std::fs::create_dir(&photos).unwrap();
    let mut bytes = Vec::new();
    image::RgbImage::new(64, 64)
        .write_to(
            &mut std::io::Cursor::new(&mut bytes),
            image::ImageFormat::Png,
        )
        .unwrap();
    for i in 0..200 {
        std::fs::write(photos.join(format!("{i:03}.png")), &bytes).unwrap();
    }
    let started = Instant::now();
    bdip()
        .args([
            "contrast",
            "--api-key",
            "ak",
            "--secret-key",
            "sk",
            "--qps",
            "20",
            "--jobs",
            "8",
            "--endpoint",
        ])
        .arg(emu.base_url())
        .arg(&photos)
        .assert()
        .success();
    let elapsed = started.elapsed();
    assert_eq!(emu.stats().errors_with(18), 0, "{:?}", emu.stats());
    assert_eq!(emu.stats().successes, 200);
    // Paced at 20/s the minimum is ~10 s; the bound is loose for a loaded CI machine.
    assert!(elapsed < Duration::from_secs(20), "{elapsed:?}");
    eprintln!("200 images at --qps 20 took {elapsed:?}");
}
