//! The embedded engine called directly (no base64 or JSON round trip) must answer exactly
//! as the emulator does: the same result bytes, the same error codes and messages. And
//! `BDIP_PROFILE=1` says where the time went.

use std::path::Path;

use baidu_imageprocess_emulator::Emulator;

mod support;
use support::bdip;

fn write_photo(path: &Path, w: u32, h: u32) {
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

/// A PNG whose header is sound (so it passes the protocol's checks) and whose image data
/// is cut off: only the engine's decoder can refuse it.
fn write_truncated_png(path: &Path) {
    write_photo(path, 300, 240);
    let bytes = std::fs::read(path).unwrap();
    std::fs::write(path, &bytes[..bytes.len() / 2]).unwrap();
}

/// Runs `args` on `inputs` into `out_dir` with `backend` flags (one input fails, so the
/// exit status is 1); returns the report.
fn run(args: &[&str], inputs: &Path, out_dir: &Path, backend: &[String]) -> serde_json::Value {
    let report = out_dir.with_extension("report.json");
    bdip()
        .args(args)
        .arg(inputs)
        .arg("--out-dir")
        .arg(out_dir)
        .arg("--report")
        .arg(&report)
        .args(backend)
        .assert()
        .code(1);
    serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap()
}

#[test]
fn local_results_and_refusals_match_the_emulators() {
    let dir = tempfile::tempdir().unwrap();
    let inputs = dir.path().join("in");
    std::fs::create_dir(&inputs).unwrap();
    write_photo(&inputs.join("a.jpg"), 320, 240);
    write_photo(&inputs.join("b.png"), 250, 210);
    write_truncated_png(&inputs.join("c.png"));
    let emulator = Emulator::builder().start().unwrap();
    let remote = ["--endpoint".to_owned(), emulator.base_url()];
    let local = ["--local".to_owned()];
    for args in [
        &["dehaze"][..],
        &["contrast"],
        &["colourize"],
        &["denoise", "--strength", "80"],
        &["sky-seg"],
    ] {
        let name = args[0];
        let (local_dir, remote_dir) = (
            dir.path().join(format!("{name}-local")),
            dir.path().join(format!("{name}-remote")),
        );
        let local_report = run(args, &inputs, &local_dir, &local);
        let remote_report = run(args, &inputs, &remote_dir, &remote);
        let images = |r: &serde_json::Value| r["images"].as_array().unwrap().clone();
        let (ours, theirs) = (images(&local_report), images(&remote_report));
        assert_eq!(ours.len(), 3, "{name}: {local_report}");
        for (a, b) in ours.iter().zip(&theirs) {
            for field in ["status", "error_code"] {
                assert_eq!(a[field], b[field], "{name} {field}: {a} vs {b}");
            }
            // The same message, but the local engine does not call itself Baidu.
            let message = |v: &serde_json::Value, origin: &str| {
                v["error_message"]
                    .as_str()
                    .map(|m| m.strip_prefix(origin).unwrap_or(m).to_owned())
            };
            assert_eq!(
                message(a, "local engine error "),
                message(b, "Baidu API error "),
                "{name}: {a} vs {b}"
            );
            if a["status"] == "done" {
                let file = |dir: &Path, v: &serde_json::Value| {
                    let out = Path::new(v["output"].as_str().unwrap());
                    std::fs::read(dir.join(out.file_name().unwrap())).unwrap()
                };
                assert!(
                    file(&local_dir, a) == file(&remote_dir, b),
                    "{name}: {} differs between the local engine and the emulator",
                    a["input"]
                );
                assert!(a["log_id"].as_u64().is_some(), "{name}: {a}");
            }
        }
        let refused = &ours[2];
        assert_eq!(refused["status"], "failed", "{name}: {refused}");
        assert_eq!(refused["error_code"], 216_201, "{name}: {refused}");
    }
}

#[test]
fn the_profile_names_each_stage_of_the_local_path() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("photo.jpg");
    write_photo(&input, 320, 240);
    let stderr = |backend: &[String]| {
        let out = bdip()
            .env("BDIP_PROFILE", "1")
            .arg("contrast")
            .arg(&input)
            .arg("--force")
            .args(backend)
            .assert()
            .success();
        String::from_utf8_lossy(&out.get_output().stderr).to_string()
    };
    let stages = |text: &str| -> Vec<String> {
        text.lines()
            .filter_map(|l| {
                let mut f = l.strip_prefix("profile ")?.split(' ');
                let stage = f.next()?.to_owned();
                let ms: f64 = f.next()?.parse().ok()?;
                let count: u32 = f.next()?.parse().ok()?;
                assert!(ms >= 0.0 && count == 1, "{l}");
                Some(stage)
            })
            .collect()
    };
    let local = stderr(&["--local".to_owned()]);
    assert_eq!(
        stages(&local),
        ["read", "check", "decode", "operation", "encode", "write"],
        "{local}"
    );
    let emulator = Emulator::builder().start().unwrap();
    let remote = stderr(&["--endpoint".to_owned(), emulator.base_url()]);
    assert_eq!(
        stages(&remote),
        ["read", "check", "call", "write"],
        "{remote}"
    );
    // Without the variable, nothing is printed.
    let out = bdip()
        .args(["contrast", "--local", "--force"])
        .arg(&input)
        .assert()
        .success();
    let quiet = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(stages(&quiet).is_empty(), "{quiet}");
}
