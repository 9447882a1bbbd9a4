//! A newcomer's surprises, each pinned (issue 27): result formats follow the output's
//! name, explicit outputs never destroy the input, bad output locations are found before
//! anything is sent, messages name what happened, folders of earlier results and of
//! non-images are reported, result names carry their parameters, a closed stdout is a
//! quiet exit.

use std::path::Path;
use std::process::Stdio;

use baidu_imageprocess::Operation;
use baidu_imageprocess_emulator::Emulator;

mod support;
use support::{bdip, stderr_of, tmp, tmp_with_png, write_png};

fn write_jpeg(path: &Path, w: u32, h: u32) {
    image::RgbImage::from_fn(w, h, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, 90])
    })
    .save(path)
    .unwrap();
}

fn format_of(path: &Path) -> image::ImageFormat {
    image::guess_format(&std::fs::read(path).unwrap()).unwrap()
}

/// Operation requests an emulator served (token requests not counted).
fn operation_requests(emu: &Emulator) -> u64 {
    emu.stats()
        .requests
        .iter()
        .filter(|(path, _)| !path.contains("token"))
        .map(|(_, n)| n)
        .sum()
}

#[test]
fn results_are_written_in_the_format_their_name_asks_for() {
    let dir = tmp();
    let jpeg = dir.path().join("photo.jpg");
    write_jpeg(&jpeg, 240, 200);
    let png = dir.path().join("photo.png");
    write_png(&png, 240, 200);
    for (input, output, format) in [
        (&jpeg, "big.png", image::ImageFormat::Png),
        (&jpeg, "big.bmp", image::ImageFormat::Bmp),
        (&png, "small.jpg", image::ImageFormat::Jpeg),
        (&png, "small.JPEG", image::ImageFormat::Jpeg),
    ] {
        let out = dir.path().join(output);
        bdip()
            .args(["contrast", "--local"])
            .arg(input)
            .arg("-o")
            .arg(&out)
            .assert()
            .success();
        assert_eq!(format_of(&out), format, "{output}");
        assert_eq!(image::image_dimensions(&out).unwrap(), (240, 200));
    }
    // The mask of sky-seg, asked for as JPEG.
    let mask = dir.path().join("mask.jpg");
    bdip()
        .args(["sky-seg", "--local"])
        .arg(&png)
        .arg("-o")
        .arg(&mask)
        .assert()
        .success();
    assert_eq!(format_of(&mask), image::ImageFormat::Jpeg);
    // A format bdip does not write is refused before anything runs.
    let gif = dir.path().join("out.gif");
    bdip()
        .args(["contrast", "--local"])
        .arg(&jpeg)
        .arg("-o")
        .arg(&gif)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("GIF"));
    assert!(!gif.exists());
}

#[test]
fn explicit_outputs_never_destroy_the_input() {
    let (dir, input) = tmp_with_png("city.png", 240, 200);
    let before = std::fs::read(&input).unwrap();
    let refused: [(&[&str], &str); 4] = [
        (&["contrast", "-o", "city.png"], "is the input"),
        (&["sky-seg", "--scoremap", "city.png"], "is the input"),
        (
            &["sky-seg", "-o", "m.png", "--scoremap", "./m.png"],
            "mask goes",
        ),
        (&["sky-seg", "-o", "-", "--scoremap", "-"], "stdout"),
    ];
    for (args, message) in refused {
        let assert = bdip()
            .current_dir(dir.path())
            .args(args)
            .arg("--local")
            .arg("city.png")
            .assert()
            .code(2);
        let stderr = stderr_of(assert.get_output());
        assert!(stderr.contains(message), "{args:?}: {stderr}");
        assert_eq!(std::fs::read(&input).unwrap(), before, "{args:?}");
        assert!(!dir.path().join("m.png").exists(), "{args:?}");
    }
    // `--scoremap -` is stdout, like `-o -`: no file named `-`.
    let assert = bdip()
        .current_dir(dir.path())
        .args(["sky-seg", "--local", "--scoremap", "-", "city.png"])
        .assert()
        .success();
    let stdout = &assert.get_output().stdout;
    assert_eq!(
        image::guess_format(stdout).unwrap(),
        image::ImageFormat::Png
    );
    assert!(!dir.path().join("-").exists());
    assert!(dir.path().join("city.sky-seg.png").is_file());
    // --force says the user means it.
    bdip()
        .current_dir(dir.path())
        .args([
            "contrast", "--local", "-o", "city.png", "--force", "city.png",
        ])
        .assert()
        .success();
    assert_ne!(std::fs::read(&input).unwrap(), before);
}

#[test]
fn a_bad_output_location_fails_before_anything_is_sent() {
    let emu = Emulator::builder().start().unwrap();
    let (dir, input) = tmp_with_png("a.png", 240, 200);
    let file = dir.path().join("file");
    std::fs::write(&file, b"x").unwrap();
    let cases = [
        ("--out-dir", file.clone()),
        ("-o", file.join("x.jpg")),
        ("--out-dir", file.join("deeper/still")),
        ("--report", file.join("r.json")),
    ];
    for args in cases {
        let assert = bdip()
            .arg("contrast")
            .arg(&input)
            .arg(args.0)
            .arg(&args.1)
            .arg("--endpoint")
            .arg(emu.base_url())
            .assert()
            .code(2);
        let stderr = stderr_of(assert.get_output());
        assert!(stderr.contains("not a directory"), "{args:?}: {stderr}");
        assert!(stderr.contains("nothing was sent"), "{args:?}: {stderr}");
    }
    assert_eq!(operation_requests(&emu), 0, "{:?}", emu.stats());
}

#[test]
fn a_denied_operation_is_named_in_the_advice() {
    let emu = Emulator::builder().deny(Operation::Dehaze).start().unwrap();
    let (_dir, input) = tmp_with_png("in.png", 320, 240);
    let assert = bdip()
        .arg("dehaze")
        .arg(&input)
        .arg("--endpoint")
        .arg(emu.base_url())
        .assert()
        .code(1);
    let stderr = stderr_of(assert.get_output());
    assert!(stderr.contains("permission for dehaze"), "{stderr}");
    assert!(!stderr.contains("colourize"), "{stderr}");
}

#[test]
fn a_folder_of_earlier_results_skips_only_this_commands_own() {
    let dir = tmp();
    let chain = dir.path().join("chain");
    std::fs::create_dir(&chain).unwrap();
    for name in ["a.png", "a.contrast.png", "my.style.png"] {
        write_png(&chain.join(name), 200, 200);
    }
    let report = dir.path().join("report.json");
    let assert = bdip()
        .args(["contrast", "--local"])
        .arg(&chain)
        .arg("--report")
        .arg(&report)
        .assert()
        .success();
    let stderr = stderr_of(assert.get_output());
    assert!(stderr.contains("skipped 1 file named like"), "{stderr}");
    assert!(chain.join("my.style.contrast.png").is_file());
    assert!(!chain.join("a.contrast.contrast.png").exists());
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    assert_eq!(json["summary"]["skipped"], 2, "{json}"); // a.contrast.png; a.png's result exists
    // The same folder for another operation: every file is an input.
    bdip()
        .args(["dehaze", "--local"])
        .arg(&chain)
        .assert()
        .success();
    for name in [
        "a.dehaze.png",
        "a.contrast.dehaze.png",
        "my.style.dehaze.png",
    ] {
        assert!(chain.join(name).is_file(), "{name}");
    }
    // A folder holding only this command's results: nothing to do, said, and not 0.
    let only = dir.path().join("only");
    std::fs::create_dir(&only).unwrap();
    write_png(&only.join("b.denoise-10.png"), 200, 200);
    let assert = bdip()
        .args(["denoise", "--strength", "10", "--local"])
        .arg(&only)
        .assert()
        .code(1);
    let stderr = stderr_of(assert.get_output());
    assert!(stderr.contains("no images to process"), "{stderr}");
    // An empty folder, the same.
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    bdip()
        .args(["dehaze", "--local"])
        .arg(&empty)
        .assert()
        .code(1)
        .stderr(predicates::str::contains("nothing to do"));
}

#[test]
fn files_that_are_not_images_are_counted_as_skipped_with_the_reason() {
    let dir = tmp();
    let photos = dir.path().join("photos");
    std::fs::create_dir(&photos).unwrap();
    write_png(&photos.join("a.png"), 200, 200);
    std::fs::write(photos.join("anim.gif"), b"GIF89a").unwrap();
    std::fs::write(photos.join("notes.txt"), b"hello").unwrap();
    let report = dir.path().join("report.json");
    let assert = bdip()
        .args(["contrast", "--local", "-v"])
        .arg(&photos)
        .arg("--report")
        .arg(&report)
        .assert()
        .success();
    let stderr = stderr_of(assert.get_output());
    assert!(
        stderr.contains("anim.gif: GIF images are not accepted"),
        "{stderr}"
    );
    assert!(stderr.contains("notes.txt: not an image"), "{stderr}");
    assert!(stderr.contains("done 1, failed 0, skipped 2"), "{stderr}");
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    let skipped: Vec<_> = json["images"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["status"] == "skipped")
        .map(|i| i["error_message"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(skipped.len(), 2, "{json}");
    // Without -v: counted, with a pointer to -v.
    let assert = bdip()
        .args(["contrast", "--local", "--force"])
        .arg(&photos)
        .assert()
        .success();
    let stderr = stderr_of(assert.get_output());
    assert!(
        stderr.contains("skipped 2 files that are not JPEG, PNG or BMP"),
        "{stderr}"
    );
}

#[test]
fn result_names_carry_the_style_or_preset() {
    let dir = tmp();
    let input = dir.path().join("coffee.jpg");
    write_jpeg(&input, 200, 200);
    let runs: [(&[&str], &str); 6] = [
        (&["style", "--style", "cartoon"], "coffee.style-cartoon.jpg"),
        (&["style", "--style", "pencil"], "coffee.style-pencil.jpg"),
        (&["stylize", "--style-id", "7"], "coffee.stylize-7.jpg"),
        (&["stylize", "--style-id", "2"], "coffee.stylize-2.jpg"),
        (&["denoise", "--strength", "80"], "coffee.denoise-80.jpg"),
        (&["dehaze"], "coffee.dehaze.jpg"),
    ];
    for (args, name) in runs {
        bdip()
            .args(args)
            .arg("--local")
            .arg(&input)
            .assert()
            .success();
        assert!(dir.path().join(name).is_file(), "{args:?}: {name}");
    }
}

#[test]
fn a_closed_stdout_is_a_quiet_exit() {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_bdip"))
        .args(["completions", "bash"])
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(stderr.is_empty(), "{stderr}");
}

#[test]
fn token_messages_match_the_processing_commands() {
    let emu = Emulator::builder().start().unwrap();
    bdip()
        .args(["token", "--api-key", "only-half"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("set both"));
    // An endpoint alone: placeholder keys, as processing commands use.
    bdip()
        .args(["token", "--endpoint"])
        .arg(emu.base_url())
        .assert()
        .success()
        .stdout(predicates::str::contains("token valid for"));
}
