//! `bdip --budget`: several real `bdip` processes share one QPS budget and one token
//! through a real `redis-server` (each test starts its own) against a real emulator
//! (`bdip serve`) that refuses with error 18 above its `--qps`.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use baidu_imageprocess_redis::testing::{RedisServer, free_port};
use baidu_imageprocess_test_support::spawn_listening;
use support::{stderr_of, tmp, write_png};

/// `bdip serve` on a free loopback port, killed when dropped.
struct Emulator {
    child: Child,
    url: String,
}

impl Emulator {
    fn start(args: &[&str]) -> Self {
        let (child, url) = spawn_listening(
            Command::new(env!("CARGO_BIN_EXE_bdip"))
                .args(["serve", "--listen", "127.0.0.1:0", "--no-console", "--echo"])
                .args(args)
                .stderr(Stdio::null()),
        );
        Self { child, url }
    }

    /// The emulator's counters (`GET /__emulator/stats`).
    fn stats(&self) -> serde_json::Value {
        serde_json::from_str(&http10(&self.url, "GET", "/__emulator/stats", "", "")).unwrap()
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `n` small PNGs in `dir`.
fn images(dir: &Path, n: usize) -> Vec<PathBuf> {
    std::fs::create_dir_all(dir).unwrap();
    (0..n)
        .map(|i| {
            let path = dir.join(format!("img{i}.png"));
            write_png(&path, 64, 64);
            path
        })
        .collect()
}

/// `bdip contrast` on `dir` into `out`, against `endpoint`, sharing `budget`.
fn spawn_bdip(dir: &Path, out: &Path, endpoint: &str, budget: &str, qps: &str) -> Child {
    Command::new(env!("CARGO_BIN_EXE_bdip"))
        .env_remove("BAIDU_API_KEY")
        .env_remove("BAIDU_SECRET_KEY")
        .env_remove("RUST_LOG")
        .env("BDIP_BUDGET", budget)
        .args([
            "contrast",
            "--jobs",
            "3",
            "--qps",
            qps,
            "--endpoint",
            endpoint,
        ])
        .args([
            "--api-key",
            "AK-fleet",
            "--secret-key",
            "SK-fleet",
            "--out-dir",
        ])
        .arg(out)
        .arg(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// `processes` runs of [`spawn_bdip`], the `p`-th on `per_process` new images in `in{p}`
/// under `t` into `out{p}`; each child with its output folder.
fn spawn_fleet(
    t: &Path,
    processes: usize,
    per_process: usize,
    endpoint: &str,
    budget: &str,
    qps: &str,
) -> Vec<(Child, PathBuf)> {
    (0..processes)
        .map(|p| {
            let dir = t.join(format!("in{p}"));
            let out = t.join(format!("out{p}"));
            images(&dir, per_process);
            (spawn_bdip(&dir, &out, endpoint, budget, qps), out)
        })
        .collect()
}

/// Waits for `child` at most `limit` (killing it after), and returns its output: a hung
/// process fails its test instead of stalling the suite. The pipes carry a few lines
/// only, so they cannot fill while it runs.
fn finish(mut child: Child, limit: Duration) -> std::process::Output {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    if child.try_wait().unwrap().is_none() {
        let _ = child.kill();
    }
    child.wait_with_output().unwrap()
}

/// The processes (pids) in the budget's heartbeat set, one set per application.
fn members(redis: &RedisServer) -> Vec<u32> {
    let keys: Vec<String> = redis.query(&["KEYS", "bdip:*:members"]);
    keys.iter()
        .flat_map(|key| redis.query::<Vec<String>>(&["ZRANGE", key, "0", "-1"]))
        .filter_map(|member| member.split_once('-')?.0.parse().ok())
        .collect()
}

fn written(out: &Path) -> usize {
    std::fs::read_dir(out).map_or(0, Iterator::count)
}

#[test]
fn three_processes_share_one_rate_and_one_token() {
    let redis = RedisServer::start();
    let q = 10.0;
    let emulator = Emulator::start(&["--qps", "10"]);
    let t = tmp();
    let (processes, per_process) = (3, 8);
    let t0 = Instant::now();
    let children = spawn_fleet(
        t.path(),
        processes,
        per_process,
        &emulator.url,
        &redis.url(),
        "10",
    );
    let mut total = 0;
    for (child, out) in children {
        let output = finish(child, Duration::from_secs(120));
        assert!(output.status.success(), "{}", stderr_of(&output));
        total += written(&out);
    }
    let elapsed = t0.elapsed().as_secs_f64();
    let images = (processes * per_process) as f64;
    assert_eq!(total, processes * per_process, "every image written");
    let stats = emulator.stats();
    assert_eq!(stats["errors"].get("18"), None, "{stats}");
    assert_eq!(
        stats["tokens_issued"], 1,
        "one token for the fleet: {stats}"
    );
    let ideal = images / q;
    eprintln!(
        "{processes} processes, {images} images at {q} QPS: {elapsed:.2} s (ideal {ideal:.2} s)"
    );
    assert!(
        (0.85 * ideal..=1.5 * ideal).contains(&elapsed),
        "{elapsed:.2} s for {images} images at {q} QPS"
    );
}

#[test]
fn without_a_budget_the_same_fleet_overruns_the_account() {
    // The control for the test above: the same three processes, each at --qps 10 alone,
    // are refused with 18 (and retry): this is what the budget prevents.
    let emulator = Emulator::start(&["--qps", "10"]);
    let t = tmp();
    let children: Vec<Child> = (0..3)
        .map(|p| {
            let dir = t.path().join(format!("in{p}"));
            images(&dir, 8);
            let mut cmd = Command::new(env!("CARGO_BIN_EXE_bdip"));
            cmd.env_remove("BDIP_BUDGET")
                .args(["contrast", "--jobs", "3", "--qps", "10", "--endpoint"])
                .arg(&emulator.url)
                .arg("--out-dir")
                .arg(t.path().join(format!("out{p}")))
                .arg(&dir)
                .stdout(Stdio::null())
                .stderr(Stdio::null());
            cmd.spawn().unwrap()
        })
        .collect();
    for child in children {
        finish(child, Duration::from_secs(120));
    }
    let stats = emulator.stats();
    assert!(stats["errors"].get("18").is_some(), "{stats}");
}

#[test]
fn an_unreachable_budget_is_a_usage_error_and_nothing_is_sent() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let port = free_port();
    let t = tmp();
    let input = t.path().join("a.png");
    write_png(&input, 64, 64);
    let output = Command::new(env!("CARGO_BIN_EXE_bdip"))
        .args(["contrast", "--endpoint", &endpoint, "--budget"])
        .arg(format!("redis://:hunter2@127.0.0.1:{port}/0"))
        .arg(&input)
        .output()
        .unwrap();
    let stderr = stderr_of(&output);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains(&format!("127.0.0.1:{port}")), "{stderr}");
    assert!(!stderr.contains("hunter2"), "{stderr}");
    assert!(listener.accept().is_err(), "a request was sent");
}

#[test]
fn losing_redis_mid_run_warns_once_and_loses_nothing() {
    let mut redis = RedisServer::start();
    let emulator = Emulator::start(&["--qps", "10"]);
    let t = tmp();
    let children = spawn_fleet(t.path(), 2, 8, &emulator.url, &redis.url(), "10");
    std::thread::sleep(Duration::from_millis(600));
    redis.kill();
    for (child, out) in children {
        let output = finish(child, Duration::from_secs(120));
        let stderr = stderr_of(&output);
        assert!(output.status.success(), "{stderr}");
        assert_eq!(written(&out), 8, "{stderr}");
        assert_eq!(
            stderr.matches("lost the shared QPS budget").count(),
            1,
            "{stderr}"
        );
    }
}

/// A bare HTTP/1.0 POST to `base` + `path`; the reply's body.
fn post(base: &str, path: &str, body: &str) -> String {
    let headers = format!(
        "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n",
        body.len()
    );
    http10(base, "POST", path, &headers, body)
}

/// The body of the reply to one bare HTTP/1.0 request to `base`: `method path`, a Host
/// header, then `headers` (each line ending in CRLF) and `body`.
fn http10(base: &str, method: &str, path: &str, headers: &str, body: &str) -> String {
    use std::io::{Read as _, Write as _};
    let addr = base.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    write!(
        stream,
        "{method} {path} HTTP/1.0\r\nHost: {addr}\r\n{headers}\r\n{body}"
    )
    .unwrap();
    let mut reply = String::new();
    stream.read_to_string(&mut reply).unwrap();
    reply.split_once("\r\n\r\n").unwrap().1.to_owned()
}

/// Two `bdip serve` at 10 QPS sharing the budget at `redis_url` and one token secret.
fn fleet_of_two(redis_url: &str) -> (Emulator, Emulator) {
    let shared = [
        "--qps",
        "10",
        "--budget",
        redis_url,
        "--token-secret",
        "fleet-secret",
    ];
    (Emulator::start(&shared), Emulator::start(&shared))
}

/// An access token `emu` issues to the `AK`/`SK` client.
fn token_from(emu: &Emulator) -> String {
    let reply = post(
        &emu.url,
        "/oauth/2.0/token",
        "grant_type=client_credentials&client_id=AK&client_secret=SK",
    );
    let reply: serde_json::Value = serde_json::from_str(&reply).unwrap();
    reply["access_token"].as_str().unwrap().to_owned()
}

#[test]
fn two_emulators_share_one_qps_and_accept_each_others_tokens() {
    let redis = RedisServer::start();
    let (a, b) = fleet_of_two(&redis.url());
    // A token issued by `a` is accepted by `b`; an unknown one is not (110).
    let token = token_from(&a);
    let op = "/rest/2.0/image-process/v1/contrast_enhance?access_token=";
    let on_b = post(&b.url, &format!("{op}{token}"), "");
    assert!(
        !on_b.contains("\"error_code\":110") && !on_b.contains("\"error_code\":111"),
        "{on_b}"
    );
    let forged = post(&b.url, &format!("{op}24.1-2.3.deadbeef"), "");
    assert!(forged.contains("110"), "{forged}");
    // Two clients at 10 QPS each, one on each instance: 20 QPS offered to one shared
    // 10 QPS account, so the instances together refuse some (each alone would not).
    let t = tmp();
    let children: Vec<(Child, PathBuf)> = [&a, &b]
        .iter()
        .enumerate()
        .map(|(i, emulator)| {
            let dir = t.path().join(format!("in{i}"));
            let out = t.path().join(format!("out{i}"));
            images(&dir, 10);
            let mut cmd = Command::new(env!("CARGO_BIN_EXE_bdip"));
            cmd.env_remove("BDIP_BUDGET")
                .args(["contrast", "--jobs", "3", "--qps", "10", "--endpoint"])
                .arg(&emulator.url)
                .arg("--out-dir")
                .arg(&out)
                .arg(&dir)
                .stdout(Stdio::null())
                .stderr(Stdio::piped());
            (cmd.spawn().unwrap(), out)
        })
        .collect();
    for (child, out) in children {
        let output = finish(child, Duration::from_secs(120));
        assert!(output.status.success(), "{}", stderr_of(&output));
        assert_eq!(written(&out), 10);
    }
    let refused = |e: &Emulator| e.stats()["errors"]["18"].as_u64().unwrap_or(0);
    assert!(refused(&a) + refused(&b) > 0, "{} {}", a.stats(), b.stats());
}

#[test]
fn redis_restarted_mid_run_each_process_warns_once_and_rejoins() {
    let mut redis = RedisServer::start();
    let emulator = Emulator::start(&["--qps", "10"]);
    let t = tmp();
    let per_process = 24;
    let children = spawn_fleet(t.path(), 2, per_process, &emulator.url, &redis.url(), "10");
    let pids: Vec<u32> = children.iter().map(|(c, _)| c.id()).collect();
    // 48 images at 10 QPS take about 5 s: Redis goes away at 0.7 s for 0.8 s, and comes
    // back empty on the same port.
    std::thread::sleep(Duration::from_millis(700));
    redis.kill();
    std::thread::sleep(Duration::from_millis(800));
    redis.restart();
    for (child, out) in children {
        let output = finish(child, Duration::from_secs(120));
        let stderr = stderr_of(&output);
        assert!(output.status.success(), "{stderr}");
        assert_eq!(written(&out), per_process, "{stderr}");
        assert_eq!(
            stderr.matches("lost the shared QPS budget").count(),
            1,
            "{stderr}"
        );
        assert_eq!(
            stderr.matches("rejoined the shared QPS budget").count(),
            1,
            "{stderr}"
        );
    }
    // Only a process that rejoined can have put itself into the new, empty server's
    // heartbeat set.
    let mut seen = members(&redis);
    seen.sort_unstable();
    let mut expected = pids;
    expected.sort_unstable();
    assert_eq!(seen, expected, "the heartbeats after the restart");
    // The service may refuse a few calls around the two changeovers (turns already handed
    // out by the old server while the local stand-ins start; a process that rejoined
    // while the other still paces locally): the clients retry those, and none reaches
    // the user, as the exit codes and the written images above show.
    let stats = emulator.stats();
    eprintln!("Redis restarted mid-run: {stats}");
    assert_eq!(stats["successes"], 2 * per_process, "{stats}");
}

#[test]
fn an_error_18_in_one_process_slows_the_whole_fleet() {
    let redis = RedisServer::start();
    // `strict` allows 2 QPS: the lone process sent there at the fleet's 6 QPS is refused
    // with 18. `open` refuses nothing: the processes sent there only slow down if the
    // fleet's shared rate went down.
    let strict = Emulator::start(&["--qps", "2"]);
    let open = Emulator::start(&[]);
    let t = tmp();
    let q = 6.0;
    let dir = t.path().join("in-strict");
    images(&dir, 4);
    let out = t.path().join("out-strict");
    let child = spawn_bdip(&dir, &out, &strict.url, &redis.url(), "6");
    let output = finish(child, Duration::from_secs(120));
    assert!(output.status.success(), "{}", stderr_of(&output));
    assert_eq!(written(&out), 4);
    assert!(
        strict.stats()["errors"].get("18").is_some(),
        "{}",
        strict.stats()
    );

    // The lowered rate is in Redis, with an expiry.
    let lowered = |redis: &RedisServer| -> (f64, i64) {
        let keys: Vec<String> = redis.query(&["KEYS", "bdip:*:rate"]);
        assert_eq!(keys.len(), 1, "{keys:?}");
        let rate: String = redis.query(&["HGET", &keys[0], "rate"]);
        (rate.parse().unwrap(), redis.query(&["PTTL", &keys[0]]))
    };
    let (rate, ttl) = lowered(&redis);
    assert!(rate < q / 2.0 + 0.5, "shared rate {rate} after error 18");
    assert!(ttl > 0, "the lowered rate has no expiry ({ttl})");

    // Two processes that never see an 18 go at the lowered rate, creeping back up by
    // 0.05 QPS per success: 8 images, which take 1.33 s at the full 6 QPS, take longer.
    let t0 = Instant::now();
    let children = spawn_fleet(t.path(), 2, 4, &open.url, &redis.url(), "6");
    for (child, out) in children {
        let output = finish(child, Duration::from_secs(120));
        assert!(output.status.success(), "{}", stderr_of(&output));
        assert_eq!(written(&out), 4);
    }
    let elapsed = t0.elapsed().as_secs_f64();
    let full_rate = 8.0 / q;
    eprintln!(
        "after an error 18 elsewhere (shared rate {rate:.2} QPS): 8 images in {elapsed:.2} s (at the full {q} QPS: {full_rate:.2} s)"
    );
    assert!(
        elapsed > 1.5 * full_rate,
        "{elapsed:.2} s: the fleet did not slow down"
    );
    let (after, ttl) = lowered(&redis);
    assert!(
        after > rate && after < q && ttl > 0,
        "{rate} -> {after} ({ttl} ms)"
    );
    assert_eq!(open.stats()["errors"].get("18"), None);
}

#[test]
fn emulators_that_lose_redis_each_admit_their_share() {
    let mut redis = RedisServer::start();
    let (a, b) = fleet_of_two(&redis.url());
    let token = token_from(&a);
    let op = format!("/rest/2.0/image-process/v1/contrast_enhance?access_token={token}");
    // Each instance's heartbeat reaches Redis; `a` then hears that there are two.
    for e in [&a, &b, &a] {
        post(&e.url, &op, "");
    }
    redis.kill();
    // Two seconds of requests as fast as they come, to `a` alone: at its share (5 QPS,
    // holding 5) about 15 get through; at the whole --qps (10, holding 10) about 30.
    let t0 = Instant::now();
    let (mut sent, mut admitted) = (0, 0);
    while t0.elapsed() < Duration::from_secs(2) && sent < 5_000 {
        sent += 1;
        if !post(&a.url, &op, "").contains("\"error_code\":18") {
            admitted += 1;
        }
    }
    eprintln!("Redis lost: {admitted} of {sent} admitted by one of two instances in 2 s");
    assert!(sent > 40, "too few requests to tell: {sent}");
    assert!(
        (8..=21).contains(&admitted),
        "{admitted} of {sent} admitted in 2 s"
    );
}
