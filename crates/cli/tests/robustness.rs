//! `bdip` against a hostile user and a hostile network (issue 14): every case here broke
//! an earlier version. Bounded in time: every child process has a timeout, every wait
//! loop a cap; nothing asserts how long something took.
#![cfg(unix)]

use std::ffi::OsStr;
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpListener;
use std::os::unix::ffi::OsStrExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command as StdCommand, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use baidu_imageprocess_emulator::Emulator;

mod support;
use support::{bdip, dims, set_file_len, stderr_of, tmp, tmp_with_png, write_png};

fn mkfifo(path: &Path) {
    assert!(
        StdCommand::new("mkfifo")
            .arg(path)
            .status()
            .unwrap()
            .success()
    );
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let meta = std::fs::symlink_metadata(&path).unwrap();
        if meta.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push(path);
        }
    }
    out
}

// ---------------------------------------------------------------- files

#[test]
fn output_onto_a_fifo_writes_into_it_and_keeps_it() {
    let (dir, input) = tmp_with_png("in.png", 320, 240);
    let fifo = dir.path().join("out.fifo");
    mkfifo(&fifo);
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read(fifo).unwrap())
    };
    bdip()
        .arg("dehaze")
        .arg(&input)
        .arg("-o")
        .arg(&fifo)
        .assert()
        .success();
    let bytes = reader.join().unwrap();
    assert_eq!(image::load_from_memory(&bytes).unwrap().width(), 320);
    use std::os::unix::fs::FileTypeExt as _;
    assert!(
        std::fs::symlink_metadata(&fifo)
            .unwrap()
            .file_type()
            .is_fifo()
    );
}

#[test]
fn output_onto_a_symlink_writes_through_it() {
    let (dir, input) = tmp_with_png("in.png", 320, 240);
    let target = dir.path().join("real.png");
    std::fs::write(&target, b"old").unwrap();
    let link = dir.path().join("link.png");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    bdip()
        .arg("dehaze")
        .arg(&input)
        .arg("-o")
        .arg(&link)
        .assert()
        .success();
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(dims(&target), (320, 240));
}

#[test]
fn same_names_in_different_folders_keep_their_folder_under_out_dir() {
    let dir = tmp();
    let photos = dir.path().join("photos");
    for sub in ["a", "b", "c"] {
        std::fs::create_dir_all(photos.join(sub)).unwrap();
        write_png(&photos.join(sub).join("x.png"), 200, 200);
    }
    let out = dir.path().join("out");
    bdip()
        .arg("contrast")
        .arg(&photos)
        .arg("-r")
        .arg("--out-dir")
        .arg(&out)
        .assert()
        .success();
    for sub in ["a", "b", "c"] {
        assert_eq!(dims(&out.join(sub).join("x.contrast.png")), (200, 200));
    }
}

#[test]
fn colliding_results_fail_clearly_instead_of_overwriting() {
    let dir = tmp();
    for root in ["one", "two"] {
        std::fs::create_dir(dir.path().join(root)).unwrap();
        write_png(&dir.path().join(root).join("x.png"), 200, 200);
    }
    let out = dir.path().join("out");
    let assert = bdip()
        .arg("contrast")
        .arg(dir.path().join("one"))
        .arg(dir.path().join("two"))
        .arg("--out-dir")
        .arg(&out)
        .assert()
        .code(1);
    let stderr = stderr_of(assert.get_output());
    assert!(stderr.contains("also the result of"), "{stderr}");
    assert!(stderr.contains("done 1, failed 1"), "{stderr}");
}

#[test]
fn non_utf8_names_are_accepted_and_get_their_own_results() {
    let dir = tmp();
    let a = dir.path().join(OsStr::from_bytes(b"caf\xe9.png"));
    let b = dir.path().join(OsStr::from_bytes(b"caf\xe8.png"));
    write_png(&a, 200, 200);
    write_png(&b, 200, 200);
    bdip().arg("contrast").arg(&a).arg(&b).assert().success();
    for name in [&b"caf\xe9.contrast.png"[..], b"caf\xe8.contrast.png"] {
        assert_eq!(dims(&dir.path().join(OsStr::from_bytes(name))), (200, 200));
    }
}

#[test]
fn comparisons_of_same_named_images_do_not_collide() {
    let dir = tmp();
    write_png(&dir.path().join("x.png"), 200, 200);
    image::RgbImage::new(200, 200)
        .save(dir.path().join("x.bmp"))
        .unwrap();
    bdip()
        .arg("contrast")
        .arg(dir.path().join("x.png"))
        .arg(dir.path().join("x.bmp"))
        .arg("--compare")
        .assert()
        .success();
    assert!(dir.path().join("x.contrast.compare.png").is_file());
    assert!(dir.path().join("x.contrast.bmp.compare.png").is_file());
}

#[test]
fn a_derived_name_never_overwrites_an_input_even_with_force() {
    let dir = tmp();
    let src = dir.path().join("src");
    let out = dir.path().join("out");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::create_dir_all(&out).unwrap();
    write_png(&src.join("a.png"), 200, 200);
    // An input that happens to carry the name a.png's result would get.
    let precious = out.join("a.contrast.png");
    write_png(&precious, 300, 300);
    let before = std::fs::read(&precious).unwrap();
    bdip()
        .arg("contrast")
        .arg(src.join("a.png"))
        .arg(&precious)
        .arg("--out-dir")
        .arg(&out)
        .arg("--force")
        .assert()
        .code(1)
        .stderr(predicates::str::contains("not overwriting an input"));
    assert_eq!(std::fs::read(&precious).unwrap(), before);
}

// ---------------------------------------------------------------- inputs

#[test]
fn a_symlink_loop_is_walked_once() {
    let dir = tmp();
    let photos = dir.path().join("photos");
    std::fs::create_dir(&photos).unwrap();
    write_png(&photos.join("a.png"), 200, 200);
    std::os::unix::fs::symlink(".", photos.join("x")).unwrap();
    std::os::unix::fs::symlink(&photos, photos.join("y")).unwrap();
    let assert = bdip()
        .arg("contrast")
        .arg(&photos)
        .arg("-r")
        .assert()
        .success();
    let stderr = stderr_of(assert.get_output());
    assert_eq!(stderr.matches("ok ").count(), 1, "{stderr}");
    assert_eq!(dims(&photos.join("a.contrast.png")), (200, 200));
}

#[test]
fn a_fifo_in_a_folder_is_skipped_and_the_batch_finishes() {
    let dir = tmp();
    let photos = dir.path().join("photos");
    std::fs::create_dir(&photos).unwrap();
    write_png(&photos.join("a.png"), 200, 200);
    mkfifo(&photos.join("pipe.png"));
    bdip()
        .arg("contrast")
        .arg(&photos)
        .timeout(Duration::from_secs(60))
        .assert()
        .success()
        .stderr(predicates::str::contains("not regular files"));
    assert_eq!(dims(&photos.join("a.contrast.png")), (200, 200));
}

#[test]
fn devices_and_fifos_given_by_name_are_refused_not_read() {
    let dir = tmp();
    let fifo = dir.path().join("in.png");
    mkfifo(&fifo);
    for input in [Path::new("/dev/zero"), fifo.as_path()] {
        bdip()
            .arg("dehaze")
            .arg(input)
            .arg("-o")
            .arg(dir.path().join("out.png"))
            .timeout(Duration::from_secs(60))
            .assert()
            .code(1)
            .stderr(predicates::str::contains("not a regular file"));
    }
}

#[test]
fn oversized_files_and_stdin_are_refused_with_the_cap() {
    let dir = tmp();
    let big = dir.path().join("big.png");
    write_png(&big, 64, 64);
    // A sparse 100 MiB file: refused from its size, never read.
    set_file_len(&big, 100 * 1024 * 1024);
    for fit in [false, true] {
        let mut cmd = bdip();
        cmd.arg("dehaze")
            .arg(&big)
            .arg("-o")
            .arg(dir.path().join("o.png"));
        if fit {
            // --fit streams a PNG up to 4 GiB: above that, it is refused from its size too.
            set_file_len(&big, 5 * 1024 * 1024 * 1024);
            cmd.arg("--fit");
        }
        cmd.assert()
            .code(1)
            .stderr(predicates::str::contains("is larger than"));
    }
    bdip()
        .args(["dehaze", "-", "-o", "-"])
        .write_stdin(vec![0u8; 4 * 1024 * 1024])
        .assert()
        .code(1)
        .stderr(predicates::str::contains("is larger than"));
}

#[test]
fn fit_decodes_a_tiny_huge_16_bit_png_with_bounded_memory() {
    let dir = tmp();
    let input = dir.path().join("strip.png");
    image::ImageBuffer::<image::Rgb<u16>, Vec<u16>>::new(65_535, 1)
        .save(&input)
        .unwrap();
    assert!(std::fs::metadata(&input).unwrap().len() < 4096);
    let out = dir.path().join("out.png");
    bdip()
        .arg("contrast")
        .arg(&input)
        .arg("--fit")
        .arg("-o")
        .arg(&out)
        .assert()
        .success();
    let (w, h) = dims(&out);
    assert!(w <= 4096 && w <= 3 * h && h >= 64, "{w}×{h}");
}

#[test]
fn fit_refuses_a_png_bomb_from_its_header() {
    let dir = tmp();
    let input = dir.path().join("bomb.png");
    let mut bytes = Vec::new();
    image::GrayImage::new(1, 1)
        .write_to(
            &mut std::io::Cursor::new(&mut bytes),
            image::ImageFormat::Png,
        )
        .unwrap();
    // 1.6 gigapixels: above the 1000 Mpx --fit streams.
    bytes[16..20].copy_from_slice(&40_000u32.to_be_bytes());
    bytes[20..24].copy_from_slice(&40_000u32.to_be_bytes());
    std::fs::write(&input, bytes).unwrap();
    bdip()
        .arg("dehaze")
        .arg(&input)
        .arg("--fit")
        .arg("-o")
        .arg(dir.path().join("out.png"))
        .assert()
        .code(1)
        .stderr(predicates::str::contains("Mpx"));
}

#[test]
fn fit_lands_a_wide_image_inside_the_aspect_limit() {
    let dir = tmp();
    let input = dir.path().join("wide.png");
    image::GrayImage::new(8000, 2000).save(&input).unwrap();
    let out = dir.path().join("out.png");
    bdip()
        .arg("contrast")
        .arg(&input)
        .arg("--fit")
        .arg("-o")
        .arg(&out)
        .assert()
        .success();
    let (w, h) = dims(&out);
    assert!(w <= 4096 && w <= 3 * h, "{w}×{h}");
}

// ---------------------------------------------------------------- exit codes

#[test]
fn numeric_flags_out_of_range_are_usage_errors() {
    let (dir, input) = tmp_with_png("in.png", 200, 200);
    for flags in [
        ["--jobs", "2305843009213693952"],
        ["--jobs", "0"],
        ["--qps", "1e-20"],
        ["--qps", "nan"],
        ["--timeout", "18446744073709551615"],
        ["--timeout", "0"],
    ] {
        bdip()
            .arg("contrast")
            .arg(&input)
            .args(flags)
            .assert()
            .code(2);
    }
    assert!(!dir.path().join("in.contrast.png").exists());
}

#[test]
fn an_unwritable_report_location_fails_the_run_before_it_starts() {
    let (dir, input) = tmp_with_png("in.png", 200, 200);
    let not_a_dir = dir.path().join("file");
    std::fs::write(&not_a_dir, b"x").unwrap();
    bdip()
        .arg("contrast")
        .arg(&input)
        .arg("--report")
        .arg(not_a_dir.join("report.json"))
        .assert()
        .code(2)
        .stderr(predicates::str::contains("cannot write the report"));
}

/// A fake service on loopback: tokens for anyone, and `reply` for every operation.
fn fake_service(reply: &'static str) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(32) {
            let Ok(stream) = stream else { continue };
            std::thread::spawn(move || serve_fake(stream, reply));
        }
    });
    format!("http://{addr}")
}

fn serve_fake(stream: std::net::TcpStream, reply: &str) {
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut writer = stream;
    for _ in 0..16 {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
            return;
        }
        let mut length = 0usize;
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            if line == "\r\n" {
                break;
            }
            if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                length = v.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let text = if request_line.contains("/oauth/2.0/token") {
            r#"{"access_token":"24.fake","expires_in":2592000,"scope":"brain_all_scope"}"#
        } else {
            reply
        };
        let _ = write!(
            writer,
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{text}",
            text.len()
        );
    }
}

#[test]
fn a_reply_that_is_not_an_image_is_not_written() {
    // base64 of "hello, this is not an image"
    let endpoint = fake_service(r#"{"log_id":7,"image":"aGVsbG8sIHRoaXMgaXMgbm90IGFuIGltYWdl"}"#);
    let (dir, input) = tmp_with_png("in.png", 200, 200);
    let out = dir.path().join("out.png");
    bdip()
        .args(["contrast", "--api-key", "ak", "--secret-key", "sk"])
        .arg("--endpoint")
        .arg(&endpoint)
        .arg(&input)
        .arg("-o")
        .arg(&out)
        .assert()
        .code(1)
        .stderr(predicates::str::contains("malformed reply"));
    assert!(!out.exists());
}

/// Starts `bdip` with stderr lines forwarded to a channel.
fn spawn_bdip(args: &[&OsStr]) -> (Child, mpsc::Receiver<String>) {
    let mut child = StdCommand::new(env!("CARGO_BIN_EXE_bdip"))
        .args(args)
        .env_remove("BAIDU_API_KEY")
        .env_remove("BAIDU_SECRET_KEY")
        .env_remove("BAIDU_IMAGEPROCESS_ENDPOINT")
        .env_remove("RUST_LOG")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    (child, rx)
}

/// Waits (bounded) for a stderr line containing `needle`; returns every line seen.
fn wait_for_line(rx: &mpsc::Receiver<String>, needle: &str, seen: &mut Vec<String>) {
    let deadline = Instant::now() + Duration::from_secs(90);
    while Instant::now() < deadline {
        match rx.recv_timeout(Duration::from_millis(200)) {
            Ok(line) => {
                let found = line.contains(needle);
                seen.push(line);
                if found {
                    return;
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }
    panic!("no line with {needle:?}: {seen:?}");
}

fn wait_bounded(child: &mut Child) -> std::process::ExitStatus {
    let deadline = Instant::now() + Duration::from_secs(90);
    while Instant::now() < deadline {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    panic!("bdip did not exit");
}

fn interrupt(child: &Child) {
    assert!(
        StdCommand::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status()
            .unwrap()
            .success()
    );
}

#[test]
fn ctrl_c_finishes_in_flight_images_writes_the_report_and_exits_130() {
    let emu = Emulator::builder()
        .latency(Duration::from_millis(300))
        .start()
        .unwrap();
    let dir = tmp();
    let photos = dir.path().join("photos");
    std::fs::create_dir(&photos).unwrap();
    for i in 0..6 {
        write_png(&photos.join(format!("{i}.png")), 200, 200);
    }
    let report = dir.path().join("report.json");
    let endpoint = emu.base_url();
    let (mut child, rx) = spawn_bdip(&[
        OsStr::new("contrast"),
        photos.as_os_str(),
        OsStr::new("--jobs"),
        OsStr::new("1"),
        OsStr::new("--endpoint"),
        OsStr::new(&endpoint),
        OsStr::new("--report"),
        report.as_os_str(),
    ]);
    let mut seen = Vec::new();
    wait_for_line(&rx, "ok ", &mut seen);
    interrupt(&child);
    let status = wait_bounded(&mut child);
    seen.extend(rx.try_iter());
    assert_eq!(status.code(), Some(130), "{seen:?}");
    assert!(seen.iter().any(|l| l.starts_with("done ")), "{seen:?}");
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    let images = json["images"].as_array().unwrap();
    assert_eq!(images.len(), 6);
    assert!(
        images.iter().any(|i| i["error_message"] == "interrupted"),
        "{json}"
    );
}

#[test]
fn a_second_ctrl_c_stops_at_once_and_leaves_no_temporary_files() {
    let emu = Emulator::builder()
        .latency(Duration::from_secs(60))
        .start()
        .unwrap();
    let (dir, input) = tmp_with_png("in.png", 200, 200);
    let endpoint = emu.base_url();
    let (mut child, rx) = spawn_bdip(&[
        OsStr::new("contrast"),
        input.as_os_str(),
        OsStr::new("--endpoint"),
        OsStr::new(&endpoint),
    ]);
    // In flight once the emulator has counted the request.
    let deadline = Instant::now() + Duration::from_secs(60);
    while emu
        .stats()
        .requests
        .get("contrast_enhance")
        .copied()
        .unwrap_or(0)
        == 0
    {
        assert!(Instant::now() < deadline, "the request never arrived");
        std::thread::sleep(Duration::from_millis(50));
    }
    interrupt(&child);
    let mut seen = Vec::new();
    wait_for_line(&rx, "interrupted", &mut seen);
    interrupt(&child);
    let status = wait_bounded(&mut child);
    assert_eq!(status.code(), Some(130), "{seen:?}");
    let leftovers: Vec<_> = files_under(dir.path())
        .into_iter()
        .filter(|p| p.to_string_lossy().contains(".bdip-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    assert!(!dir.path().join("in.contrast.png").exists());
}

// ---------------------------------------------------------------- network and secrets

#[test]
fn userinfo_in_the_endpoint_is_never_printed() {
    let (_dir, input) = tmp_with_png("in.png", 200, 200);
    let assert = bdip()
        .arg("contrast")
        .arg(&input)
        .args(["--endpoint", "http://user:PASSWORD@127.0.0.1:9/"])
        .assert()
        .code(2);
    let stderr = stderr_of(assert.get_output());
    assert!(!stderr.contains("PASSWORD"), "{stderr}");
    assert!(stderr.contains("user name or password"), "{stderr}");
}

#[test]
fn a_refused_connection_is_named_as_such() {
    // A port that was just free: nothing listens there.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (_dir, input) = tmp_with_png("in.png", 200, 200);
    let assert = bdip()
        .arg("contrast")
        .arg(&input)
        .args(["--timeout", "3", "--endpoint"])
        .arg(format!("http://127.0.0.1:{port}"))
        .assert()
        .code(1);
    let stderr = stderr_of(assert.get_output());
    assert!(stderr.contains("cannot connect"), "{stderr}");
}

/// `https://` pointed at a plain-HTTP port: one connection, then a TLS failure that says
/// to use `http://` (an earlier version retried it as a connection failure: 8
/// connections over 4.8 s).
#[test]
fn https_to_a_plain_http_port_is_one_connection_and_a_tls_failure() {
    use std::sync::atomic::Ordering;
    let (addr, connections, server) =
        baidu_imageprocess_test_support::plain_http_server(Duration::from_secs(5));
    let (_dir, input) = tmp_with_png("in.png", 200, 200);
    let assert = bdip()
        .arg("contrast")
        .arg(&input)
        .args(["--timeout", "20", "--endpoint"])
        .arg(format!("https://{addr}"))
        .timeout(Duration::from_secs(30))
        .assert()
        .code(1);
    let stderr = stderr_of(assert.get_output());
    assert!(stderr.contains("TLS failure"), "{stderr}");
    assert!(stderr.contains("http://"), "{stderr}");
    assert!(!stderr.contains("cannot connect"), "{stderr}");
    assert_eq!(connections.load(Ordering::SeqCst), 1, "retried: {stderr}");
    server.join().unwrap();
}

#[test]
fn logs_carry_no_colour_codes_when_stderr_is_not_a_terminal() {
    let (_dir, input) = tmp_with_png("in.png", 200, 200);
    let assert = bdip()
        .env("RUST_LOG", "debug")
        .arg("contrast")
        .arg(&input)
        .assert()
        .success();
    let stderr = stderr_of(assert.get_output());
    assert!(
        stderr.contains("DEBUG") || stderr.contains("debug"),
        "{stderr}"
    );
    assert!(!stderr.contains('\u{1b}'), "{stderr:?}");
}
