//! Every operation subcommand of `bdip`, on the embedded engine and through the emulator
//! on loopback: typed flags, usage errors, results, url inputs, sky-seg's two maps.

use std::io::{BufRead as _, BufReader, Write as _};
use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use baidu_imageprocess_emulator::Emulator;

mod support;
use support::bdip;

fn write_photo(path: &Path, w: u32, h: u32) {
    image::RgbImage::from_fn(w, h, |x, y| {
        image::Rgb([(x * 2 % 256) as u8, (y * 3 % 256) as u8, 140])
    })
    .save(path)
    .unwrap();
}

/// Each operation subcommand with valid flags, and the tag its result names carry.
fn subcommands(style_image: &Path) -> Vec<(Vec<String>, &'static str)> {
    let args = |a: &[&str]| a.iter().map(ToString::to_string).collect::<Vec<_>>();
    vec![
        (args(&["enhance"]), "enhance"),
        (args(&["dehaze"]), "dehaze"),
        (args(&["contrast"]), "contrast"),
        (args(&["colourize"]), "colourize"),
        (args(&["stretch-restore"]), "stretch-restore"),
        (args(&["definition"]), "definition"),
        (args(&["colour-enhance"]), "colour-enhance"),
        (
            args(&["style", "--style", "color_pencil"]),
            "style-color_pencil",
        ),
        (args(&["anime", "--mask-id", "4"]), "anime-mask4"),
        (
            args(&["inpaint", "--rect", "10,10,40,30", "--rect", "100,50,20,20"]),
            "inpaint",
        ),
        (args(&["sky-seg"]), "sky-seg"),
        (args(&["demoire"]), "demoire"),
        (args(&["doc-repair"]), "doc-repair"),
        (args(&["denoise", "--strength", "120"]), "denoise-120"),
        (args(&["stylize", "--style-id", "21"]), "stylize-21"),
        (
            vec![
                "stylize".into(),
                "--style-image".into(),
                style_image.display().to_string(),
            ],
            "stylize-style",
        ),
    ]
}

/// Runs every subcommand on a JPEG and a PNG with `extra` flags and checks each result.
fn every_subcommand(extra: &[String]) {
    let dir = tempfile::tempdir().unwrap();
    let style = dir.path().join("style.png");
    write_photo(&style, 90, 90);
    for ext in ["jpg", "png"] {
        let input = dir.path().join(format!("photo.{ext}"));
        write_photo(&input, 240, 200);
        for (args, suffix) in subcommands(&style) {
            let out_dir = dir.path().join(format!("{suffix}-{ext}-{}", args.len()));
            bdip()
                .args(&args)
                .arg(&input)
                .arg("--out-dir")
                .arg(&out_dir)
                .args(extra)
                .assert()
                .success();
            let (result_ext, format) = match (suffix, ext) {
                ("sky-seg", _) | (_, "png") => ("png", image::ImageFormat::Png),
                _ => ("jpg", image::ImageFormat::Jpeg),
            };
            let result = out_dir.join(format!("photo.{suffix}.{result_ext}"));
            let bytes = std::fs::read(&result)
                .unwrap_or_else(|e| panic!("{args:?} {ext}: {}: {e}", result.display()));
            assert_eq!(image::guess_format(&bytes).unwrap(), format, "{args:?}");
            let img = image::load_from_memory(&bytes).unwrap();
            let expected = match suffix {
                "enhance" => Some((480, 400)),
                // Undoing a stretch may change the aspect.
                "stretch-restore" => None,
                _ => Some((240, 200)),
            };
            if let Some(size) = expected {
                assert_eq!((img.width(), img.height()), size, "{args:?} {ext}");
            }
        }
    }
}

#[test]
fn every_subcommand_on_the_local_engine() {
    every_subcommand(&["--local".to_owned()]);
}

#[test]
fn every_subcommand_through_the_emulator() {
    let emulator = Emulator::builder().start().unwrap();
    every_subcommand(&["--endpoint".to_owned(), emulator.base_url()]);
    let stats = emulator.stats();
    for path in [
        "stretch_restore",
        "style_trans",
        "inpainting",
        "sky_seg",
        "customize_stylization",
    ] {
        assert!(
            stats.requests.get(path).copied().unwrap_or(0) >= 2,
            "{path}: {stats:?}"
        );
    }
}

#[test]
fn invalid_flag_values_are_usage_errors_that_list_the_allowed_values() {
    let cases: [(&[&str], &str); 7] = [
        (&["style", "--style", "sepia"], "color_pencil"),
        (&["anime", "--mask-id", "9"], "1..=8"),
        (&["denoise", "--strength", "201"], "0..=200"),
        (&["denoise"], "--strength"),
        (&["stylize", "--style-id", "30"], "0..=29"),
        (&["stylize"], "--style-image"),
        (&["inpaint", "--rect", "1,2,3"], "LEFT,TOP,WIDTH,HEIGHT"),
    ];
    for (args, allowed) in cases {
        let out = bdip().args(args).arg("x.png").assert().code(2);
        let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
        assert!(stderr.contains(allowed), "{args:?}: {stderr}");
    }
}

#[test]
fn help_states_each_operations_limits_and_completions_cover_them() {
    for (sub, limits) in [
        ("dehaze", "sides 200–4096 px"),
        ("denoise", "sides 50–1999 px"),
        ("style", "10 MiB"),
        ("demoire", "sides 15–4096 px"),
    ] {
        let out = bdip().args([sub, "--help"]).assert().success();
        let stdout = String::from_utf8_lossy(&out.get_output().stdout).to_string();
        // Help text is wrapped to the terminal: compare with single spaces.
        let flat = stdout.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(
            flat.contains("Limits (") && flat.contains(limits),
            "{sub}: {stdout}"
        );
    }
    let out = bdip().args(["completions", "bash"]).assert().success();
    let script = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    for word in [
        "sky-seg",
        "doc-repair",
        "stylize",
        "color_pencil",
        "mononoke",
    ] {
        assert!(script.contains(word), "{word}");
    }
}

#[test]
fn sky_seg_writes_the_mask_and_the_scoremap() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("city.jpg");
    write_photo(&input, 240, 200);
    let scoremap = dir.path().join("city.score.png");
    bdip()
        .args(["sky-seg", "--local", "--scoremap"])
        .arg(&scoremap)
        .arg(&input)
        .assert()
        .success();
    for path in [dir.path().join("city.sky-seg.png"), scoremap] {
        let img = image::open(&path).unwrap();
        assert_eq!(
            (img.width(), img.height()),
            (240, 200),
            "{}",
            path.display()
        );
        assert!(!img.color().has_color(), "{}", path.display());
    }
    // --scoremap names one file.
    bdip()
        .args([
            "sky-seg",
            "--local",
            "--scoremap",
            "s.png",
            "a.jpg",
            "b.jpg",
        ])
        .assert()
        .code(2);
}

#[test]
fn a_rectangle_outside_the_image_fails_that_image() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("photo.png");
    write_photo(&input, 240, 200);
    let out = bdip()
        .args(["inpaint", "--local", "--rect", "200,10,50,10"])
        .arg(&input)
        .assert()
        .code(1);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(stderr.contains("rectangle"), "{stderr}");
}

/// Serves one file at `/photo.png` on loopback for a bounded time.
fn file_server(bytes: Vec<u8>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    let bytes = Arc::new(bytes);
    std::thread::spawn(move || {
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(300) {
            let Ok((mut stream, _)) = listener.accept() else {
                std::thread::sleep(Duration::from_millis(5));
                continue;
            };
            let bytes = Arc::clone(&bytes);
            std::thread::spawn(move || {
                let _ = stream.set_nonblocking(false);
                let mut line = String::new();
                let _ = BufReader::new(&stream).read_line(&mut line);
                let found = line.split_whitespace().nth(1) == Some("/photo.png");
                let head = if found {
                    format!(
                        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                        bytes.len()
                    )
                } else {
                    "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                        .to_owned()
                };
                let _ = stream.write_all(head.as_bytes());
                if found {
                    let _ = stream.write_all(&bytes);
                }
            });
        }
    });
    addr
}

#[test]
fn http_inputs_are_sent_as_url() {
    let dir = tempfile::tempdir().unwrap();
    let photo = dir.path().join("source.png");
    write_photo(&photo, 240, 200);
    let addr = file_server(std::fs::read(&photo).unwrap());
    let url = format!("http://{addr}/photo.png");
    let emulator = Emulator::builder().start().unwrap();
    for (name, extra) in [
        ("local", vec!["--local".to_owned()]),
        ("remote", vec!["--endpoint".to_owned(), emulator.base_url()]),
    ] {
        let out_dir = dir.path().join(name);
        bdip()
            .args(["denoise", "--strength", "50"])
            .arg(&url)
            .arg("--out-dir")
            .arg(&out_dir)
            .args(&extra)
            .assert()
            .success();
        let result = image::open(out_dir.join("photo.denoise-50.png")).unwrap();
        assert_eq!((result.width(), result.height()), (240, 200), "{name}");
        // A URL that answers 404: that image fails with the service's code.
        let out = bdip()
            .args(["doc-repair", &format!("http://{addr}/missing.png")])
            .arg("--out-dir")
            .arg(&out_dir)
            .args(&extra)
            .assert()
            .code(1);
        let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
        assert!(stderr.contains("282113"), "{name}: {stderr}");
        if name == "local" {
            // Baidu is not involved in a local fetch.
            assert!(!stderr.contains("Baidu"), "{stderr}");
        }
    }
    assert_eq!(emulator.stats().requests.get("denoise"), Some(&1));
}
