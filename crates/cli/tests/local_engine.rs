//! The embedded engine called directly (`--local`, no base64 or JSON round trip): results
//! written, refusals with the API's codes (the emulator's engine service gives them), and
//! `BDIP_PROFILE=1` says where the time went.

use std::path::Path;

use baidu_imageprocess_emulator::Emulator;

mod support;
use support::{bdip, write_striped};

/// A PNG whose header is sound (so it passes the protocol's checks) and whose image data
/// is cut off: only the engine's decoder can refuse it.
fn write_truncated_png(path: &Path) {
    write_striped(path, 300, 240);
    let bytes = std::fs::read(path).unwrap();
    std::fs::write(path, &bytes[..bytes.len() / 2]).unwrap();
}

/// Runs `args` on `inputs` into `out_dir` on the local engine (one input fails, so the
/// exit status is 1); returns the report.
fn run_local(args: &[&str], inputs: &Path, out_dir: &Path) -> serde_json::Value {
    let report = out_dir.with_extension("report.json");
    bdip()
        .args(args)
        .arg(inputs)
        .arg("--out-dir")
        .arg(out_dir)
        .arg("--report")
        .arg(&report)
        .arg("--local")
        .assert()
        .code(1);
    serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap()
}

#[test]
fn the_local_engine_writes_results_and_refuses_with_the_apis_codes() {
    let dir = tempfile::tempdir().unwrap();
    let inputs = dir.path().join("in");
    std::fs::create_dir(&inputs).unwrap();
    write_striped(&inputs.join("a.jpg"), 320, 240);
    write_striped(&inputs.join("b.png"), 250, 210);
    write_truncated_png(&inputs.join("c.png"));
    for args in [
        &["dehaze"][..],
        &["denoise", "--strength", "80"],
        &["sky-seg"],
    ] {
        let name = args[0];
        let out_dir = dir.path().join(name);
        let report = run_local(args, &inputs, &out_dir);
        let images = report["images"].as_array().unwrap();
        assert_eq!(images.len(), 3, "{name}: {report}");
        let mut log_ids = Vec::new();
        for done in &images[..2] {
            assert_eq!(done["status"], "done", "{name}: {done}");
            let output = Path::new(done["output"].as_str().unwrap());
            let written = std::fs::read(out_dir.join(output.file_name().unwrap())).unwrap();
            let result = image::load_from_memory(&written).unwrap();
            let input = image::open(done["input"].as_str().unwrap()).unwrap();
            assert_eq!(
                (result.width(), result.height()),
                (input.width(), input.height()),
                "{name}: {done}"
            );
            log_ids.push(done["log_id"].as_u64().unwrap());
        }
        assert_ne!(log_ids[0], log_ids[1], "{name}: log ids repeat");
        // Only the engine's decoder can refuse the cut-off PNG: the API's code and message.
        let refused = &images[2];
        assert_eq!(refused["status"], "failed", "{name}: {refused}");
        assert_eq!(refused["error_code"], 216_201, "{name}: {refused}");
        let message = refused["error_message"].as_str().unwrap();
        assert!(message.contains("image format error"), "{name}: {message}");
    }
}

#[test]
fn the_profile_names_each_stage_of_the_local_path() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("photo.jpg");
    write_striped(&input, 320, 240);
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
