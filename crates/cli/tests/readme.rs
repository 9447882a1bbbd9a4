//! README.md tells the truth about `bdip`: every `bdip` command in its shell blocks that
//! needs no network is run as written (on the embedded engine, in a folder of test
//! images), must succeed, and must write every file its comment names, in the format the
//! name says. The workspace table lists every xtask task.

use std::path::{Path, PathBuf};

mod support;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn readme() -> String {
    std::fs::read_to_string(repo_root().join("README.md")).unwrap()
}

/// The lines of the README's ```sh blocks, `\` continuations joined.
fn shell_lines(text: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut in_block = false;
    let mut pending = String::new();
    for line in text.lines() {
        if line.starts_with("```") {
            in_block = line == "```sh";
            continue;
        }
        if !in_block {
            continue;
        }
        if let Some(head) = line.strip_suffix('\\') {
            pending.push_str(head);
            continue;
        }
        pending.push_str(line);
        lines.push(std::mem::take(&mut pending));
    }
    lines
}

/// The command of a README line, as a shell runs it with `bdip` on the PATH; `None` for
/// lines that are not `bdip` commands (`cargo install`, the emulator, `curl`).
fn bdip_command(line: &str) -> Option<String> {
    let command = line.split(" #").next().unwrap_or(line).trim();
    let command = command.replace("cargo run --release -p baidu-imageprocess-cli -- ", "bdip ");
    let runs_bdip = command.starts_with("bdip ") || command.contains("| bdip ");
    runs_bdip.then_some(command)
}

/// File names a line's comment says bdip writes (`big.png`, `out/x.jpg`, `report.json`);
/// patterns such as `NAME.stylize-starry.EXT` or `out/…` are not names.
fn claimed_files(line: &str) -> Vec<String> {
    let Some((_, comment)) = line.split_once(" #") else {
        return Vec::new();
    };
    comment
        .split(|c: char| c.is_whitespace() || ",;:()`|".contains(c))
        .map(|word| word.trim_end_matches('.'))
        .filter(|word| {
            let lower = word.to_ascii_lowercase();
            [".jpg", ".jpeg", ".png", ".bmp", ".json"]
                .iter()
                .any(|ext| lower.ends_with(ext))
                && word
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "._-/".contains(c))
                && !word.contains("NAME")
                && !word.starts_with('.')
        })
        .map(ToOwned::to_owned)
        .collect()
}

fn save(path: &Path, w: u32, h: u32) {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).unwrap();
    }
    support::write_striped(path, w, h);
}

/// The images the README's commands read. A new example needing another input fails the
/// test until it is added here.
fn fixtures(dir: &Path) {
    for (name, w, h) in [
        ("photo.jpg", 320, 240),
        ("small.png", 200, 150),
        ("in.jpg", 240, 200),
        // Too wide for dehaze (aspect over 3:1): --fit pads it.
        ("huge.jpg", 900, 200),
        ("portrait.jpg", 240, 300),
        ("room.png", 400, 300),
        ("city.jpg", 320, 240),
        ("starry.jpg", 120, 120),
        ("photos/a.jpg", 240, 200),
        ("photos/sub/b.png", 200, 240),
    ] {
        save(&dir.join(name), w, h);
    }
    let hazy = dir.join("examples/images/hazy.jpg");
    std::fs::create_dir_all(hazy.parent().unwrap()).unwrap();
    std::fs::copy(repo_root().join("examples/images/hazy.jpg"), hazy).unwrap();
}

fn format_of_name(name: &str) -> Option<image::ImageFormat> {
    let ext = Path::new(name).extension()?.to_str()?.to_ascii_lowercase();
    match ext.as_str() {
        "jpg" | "jpeg" => Some(image::ImageFormat::Jpeg),
        "png" => Some(image::ImageFormat::Png),
        "bmp" => Some(image::ImageFormat::Bmp),
        _ => None,
    }
}

#[test]
fn every_offline_bdip_command_in_the_readme_runs_and_writes_what_it_claims() {
    let dir = tempfile::tempdir().unwrap();
    fixtures(dir.path());
    let bdip = PathBuf::from(env!("CARGO_BIN_EXE_bdip"));
    let path = format!(
        "{}:{}",
        bdip.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let (mut ran, mut claims) = (0, 0);
    for line in shell_lines(&readme()) {
        let Some(command) = bdip_command(&line) else {
            continue;
        };
        // Needs the network (or Baidu's service): not run here.
        if command.contains("http://") || command.contains("https://") {
            continue;
        }
        let output = std::process::Command::new("sh")
            .arg("-c")
            .arg(&command)
            .current_dir(dir.path())
            .env("PATH", &path)
            .env_remove("BAIDU_API_KEY")
            .env_remove("BAIDU_SECRET_KEY")
            .env_remove("BAIDU_IMAGEPROCESS_ENDPOINT")
            .env_remove("RUST_LOG")
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "README command failed: {command}\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        ran += 1;
        for name in claimed_files(&line) {
            let file = dir.path().join(&name);
            let bytes = std::fs::read(&file)
                .unwrap_or_else(|e| panic!("`{command}` claims to write {name}: {e}"));
            if let Some(format) = format_of_name(&name) {
                assert_eq!(
                    image::guess_format(&bytes).ok(),
                    Some(format),
                    "`{command}`: {name} is not in the format its name says"
                );
            }
            claims += 1;
        }
    }
    // The README's CLI section has a dozen runnable examples naming about as many files:
    // a parser that finds none must not pass.
    assert!(ran >= 10, "only {ran} README commands found");
    assert!(claims >= 10, "only {claims} claimed files found");
}

#[test]
fn the_readme_lists_every_xtask_task() {
    let source = std::fs::read_to_string(repo_root().join("xtask/src/main.rs")).unwrap();
    let table = source
        .split("const TASKS")
        .nth(1)
        .expect("xtask's TASKS table");
    // Each task starts with `(` and its name on the next line.
    let names: Vec<&str> = table
        .split("(\n")
        .skip(1)
        .filter_map(|entry| entry.trim_start().strip_prefix('"')?.split('"').next())
        .collect();
    assert!(names.len() >= 10, "{names:?}");
    let readme = readme();
    let row = readme
        .lines()
        .find(|l| l.starts_with("| `xtask` |"))
        .expect("the workspace table's xtask row");
    for name in names {
        assert!(
            row.contains(&format!("`{name}`")),
            "README's xtask row misses `{name}`"
        );
    }
}

#[test]
fn claimed_files_are_found_in_comments() {
    assert_eq!(
        claimed_files("bdip x a.jpg -o b.png   # writes b.png and out/c.JPG, not NAME.x.EXT"),
        ["b.png", "out/c.JPG"]
    );
    assert!(claimed_files("bdip x a.jpg").is_empty());
}
