//! `cargo xtask browser-test [--screenshot] [--echo] [--bin PATH]`: loads the emulator's
//! console in headless Chromium (Debian's `chromium`, installed with apt-get when missing),
//! runs the page's own self-test (`/?selftest=1`) and fails unless it reports
//! `N passed, 0 failed`. With `--screenshot`, also saves docs/images/console.png for the
//! README; with `--echo`, the emulator returns inputs unchanged (the page alone is tested,
//! not the engine).

use std::io::{BufRead as _, BufReader, Read as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};

/// The self-test runs under Chromium's virtual time: timers run as fast as the page lets
/// them while network requests run in real time. This bounds the page's own clock.
const VIRTUAL_TIME_MS: u32 = 120_000;
/// Real time allowed for one Chromium run before it is killed.
const CHROMIUM_TIMEOUT: Duration = Duration::from_secs(300);

struct Emulator(Child, String);

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_emulator(bin: &Path, extra: &[&str]) -> Result<Emulator> {
    let mut child = Command::new(bin)
        .args(["--listen", "127.0.0.1:0", "--seed", "7"])
        .args(extra)
        .stdout(Stdio::piped())
        .spawn()
        .with_context(|| format!("starting {}", bin.display()))?;
    let mut line = String::new();
    BufReader::new(child.stdout.take().context("no stdout")?).read_line(&mut line)?;
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .with_context(|| format!("unexpected first line {line:?}"))?
        .to_owned();
    Ok(Emulator(child, url))
}

fn emulator_binary(args: &[String]) -> Result<PathBuf> {
    if let Some(i) = args.iter().position(|a| a == "--bin") {
        return Ok(PathBuf::from(
            args.get(i + 1).context("--bin needs a path")?,
        ));
    }
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["build", "-p", "baidu-imageprocess-emulator"])
        .status()
        .context("running cargo build")?;
    if !status.success() {
        bail!("cargo build -p baidu-imageprocess-emulator failed");
    }
    let target = std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| "target".into());
    Ok(Path::new(&target).join("debug/baidu-imageprocess-emulator"))
}

/// The Chromium binary, installed from Debian's archive when missing.
pub fn chromium() -> Result<PathBuf> {
    let find = || {
        ["chromium", "chromium-browser"]
            .into_iter()
            .find_map(|name| {
                let out = Command::new("which").arg(name).output().ok()?;
                out.status
                    .success()
                    .then(|| PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
            })
    };
    if let Ok(path) = std::env::var("CHROMIUM") {
        return Ok(PathBuf::from(path));
    }
    if let Some(path) = find() {
        return Ok(path);
    }
    println!("chromium not found: apt-get update && apt-get install -y chromium");
    let status = Command::new("sh")
        .args([
            "-c",
            "apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium",
        ])
        .status()
        .context("running apt-get")?;
    if !status.success() {
        bail!(
            "could not install chromium (needs root and Debian's archive); or set CHROMIUM=/path"
        );
    }
    find().context("chromium still not found after installing it")
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// Runs headless Chromium with `extra` arguments on `url`, killing it after the timeout;
/// returns its stdout.
fn run_chromium(chromium: &Path, extra: &[String], url: &str) -> Result<String> {
    let profile = std::env::temp_dir().join(format!("xtask-chromium-{}", std::process::id()));
    let mut args = vec![
        "--headless".to_owned(),
        "--disable-gpu".to_owned(),
        "--no-first-run".to_owned(),
        "--hide-scrollbars".to_owned(),
        format!("--user-data-dir={}", profile.display()),
        format!("--virtual-time-budget={VIRTUAL_TIME_MS}"),
    ];
    if is_root() {
        // Chromium refuses to run as root with its sandbox on.
        args.push("--no-sandbox".to_owned());
    }
    args.extend_from_slice(extra);
    args.push(url.to_owned());
    let mut child = Command::new(chromium)
        .args(&args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("starting {}", chromium.display()))?;
    let mut stdout = child.stdout.take().context("no stdout")?;
    let reader = std::thread::spawn(move || {
        let mut out = String::new();
        let _ = stdout.read_to_string(&mut out);
        out
    });
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if started.elapsed() > CHROMIUM_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            let _ = std::fs::remove_dir_all(&profile);
            bail!("chromium did not finish in {CHROMIUM_TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let out = reader.join().unwrap_or_default();
    let _ = std::fs::remove_dir_all(&profile);
    if !status.success() {
        bail!("chromium exited with {status}");
    }
    Ok(out)
}

/// The text of the element with `id` in `dom` (the self-test writes plain text).
fn element_text<'a>(dom: &'a str, id: &str) -> Option<&'a str> {
    let start = dom.find(&format!("id=\"{id}\""))?;
    let open_end = start + dom[start..].find('>')? + 1;
    let close = open_end + dom[open_end..].find("</")?;
    Some(&dom[open_end..close])
}

/// The items of the self-test's failure list.
fn failures(dom: &str) -> Vec<&str> {
    let Some(start) = dom.find("id=\"selftest-failures\"") else {
        return Vec::new();
    };
    let list = &dom[start..];
    let list = &list[..list.find("</ul>").unwrap_or(list.len())];
    list.split("<li>")
        .skip(1)
        .map(|item| item.split("</li>").next().unwrap_or(item))
        .collect()
}

/// `(passed, failed)` from `N passed, M failed`.
fn verdict(line: &str) -> Option<(u32, u32)> {
    let (passed, failed) = line.trim().split_once(" passed, ")?;
    Some((
        passed.parse().ok()?,
        failed.strip_suffix(" failed")?.parse().ok()?,
    ))
}

/// Sends a few real photos through the emulator so the requests panel has something to
/// show, pausing so each gets its thumbnails.
fn populate(url: &str) -> Result<()> {
    use baidu_imageprocess::BlockingClient;
    let client = BlockingClient::builder()
        .endpoint(url)
        .api_key("readme", "readme")
        .build()?;
    let photo = |name: &str| std::fs::read(Path::new("examples/images").join(name));
    let pause = || std::thread::sleep(Duration::from_millis(1500));
    client.dehaze(photo("hazy.jpg")?)?;
    pause();
    client.contrast_enhance(photo("chelsea.jpg")?)?;
    pause();
    client.dehaze(photo("coffee.jpg")?)?;
    pause();
    Ok(())
}

/// Saves a screenshot of the console after a demo request to `out`.
pub fn screenshot(chromium: &Path, url: &str, out: &Path) -> Result<()> {
    populate(url)?;
    if let Some(dir) = out.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let out = std::fs::canonicalize(out.parent().unwrap_or(Path::new(".")))?.join(
        out.file_name()
            .context("screenshot path has no file name")?,
    );
    run_chromium(
        chromium,
        &[
            "--window-size=1400,1000".to_owned(),
            format!("--screenshot={}", out.display()),
        ],
        &format!("{url}/?demo=1&op=dehaze"),
    )?;
    println!("wrote {}", out.display());
    Ok(())
}

/// Builds and starts the emulator, and saves the console's screenshot to `out` (for
/// `cargo xtask readme-images`).
pub fn console_screenshot(out: &Path) -> Result<()> {
    let chromium = chromium()?;
    let emulator = start_emulator(&emulator_binary(&[])?, &[])?;
    screenshot(&chromium, &emulator.1, out)
}

pub fn run(args: &[String]) -> Result<()> {
    let chromium = chromium()?;
    let bin = emulator_binary(args)?;
    let started = Instant::now();
    let extra: &[&str] = if args.iter().any(|a| a == "--echo") {
        &["--echo"]
    } else {
        &[]
    };
    let emulator = start_emulator(&bin, extra)?;
    let dom = run_chromium(
        &chromium,
        &["--dump-dom".to_owned()],
        &format!("{}/?selftest=1", emulator.1),
    )?;
    let line = element_text(&dom, "selftest")
        .unwrap_or("")
        .trim()
        .to_owned();
    for failure in failures(&dom) {
        println!("  failed: {failure}");
    }
    let self_test_time = started.elapsed();
    drop(emulator);
    if args.iter().any(|a| a == "--screenshot") {
        // A fresh emulator, so the picture shows a user's requests, not the self-test's.
        let fresh = start_emulator(&bin, &[])?;
        screenshot(&chromium, &fresh.1, Path::new("docs/images/console.png"))?;
    }
    println!("browser-test: {line}");
    println!(
        "self-test {:.1} s, whole run {:.1} s (emulator build and chromium install not counted)",
        self_test_time.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
    match verdict(&line) {
        Some((passed, 0)) if passed > 0 => Ok(()),
        Some(_) => bail!("the console's self-test failed: {line}"),
        None => bail!("the page wrote no self-test verdict (the page did not run?)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_verdict_is_read_from_the_dom() {
        let dom = r#"<p id="selftest" class="passed">14 passed, 0 failed</p><ul id="selftest-failures" hidden=""></ul>"#;
        assert_eq!(element_text(dom, "selftest"), Some("14 passed, 0 failed"));
        assert_eq!(verdict("14 passed, 0 failed"), Some((14, 0)));
        assert_eq!(verdict("3 passed, 2 failed"), Some((3, 2)));
        assert_eq!(verdict(""), None);
        assert!(failures(dom).is_empty());
        let dom = r#"<p id="selftest">1 passed, 2 failed</p><ul id="selftest-failures"><li>a: x</li><li>b: y</li></ul><li>no</li>"#;
        assert_eq!(failures(dom), vec!["a: x", "b: y"]);
    }
}
