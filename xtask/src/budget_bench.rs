//! `cargo xtask budget-bench [--calls N] [--seconds S]`: the shared budget's cost against a
//! real `redis-server` on loopback (started here, persistence off, stopped at the end):
//! the blocking reservation's round trip, and the async reservations one process
//! sustains at 1 to 256 concurrent tasks (docs/benchmarks.md, "Shared budget").
//!
//! Every reservation is a real script call's answer: the claim's ceiling is far above
//! what is measured, so Redis always says "go now" and only the budget is timed. Each
//! phase stops after `--calls` reservations or `--seconds`, whichever comes first.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use baidu_imageprocess_protocol::{Budget as _, Claim, Credentials, Operation, application_id};
use baidu_imageprocess_redis::RedisBudget;
use baidu_imageprocess_redis::testing::RedisServer;

struct Options {
    calls: usize,
    seconds: f64,
}

fn options(args: &[String]) -> Result<Options> {
    let mut o = Options {
        calls: 40_000,
        seconds: 15.0,
    };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = || it.next().map(String::as_str).unwrap_or("");
        match arg.as_str() {
            "--calls" => o.calls = value().parse()?,
            "--seconds" => o.seconds = value().parse()?,
            other => bail!("unknown argument `{other}` (--calls N, --seconds S)"),
        }
    }
    if o.calls == 0 || o.seconds.is_nan() || o.seconds <= 0.0 {
        bail!("--calls and --seconds must be positive");
    }
    Ok(o)
}

fn claim() -> Claim {
    let app = Arc::from(application_id(&Credentials::api_key("AK-bench", "SK")));
    Claim::new(app, Operation::Dehaze, Some(1e9), true, false, 0)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

pub fn run(args: &[String]) -> Result<()> {
    let o = options(args)?;
    let server = RedisServer::start();
    let version: String = server.query(&["INFO", "server"]);
    let version = version
        .lines()
        .find_map(|l| l.strip_prefix("redis_version:"))
        .unwrap_or("?")
        .to_owned();
    let budget = RedisBudget::connect(&server.url())?;
    let claim = claim();
    println!(
        "redis-server {version} on 127.0.0.1:{} (persistence off); {} cores",
        server.port(),
        std::thread::available_parallelism().map_or(1, usize::from)
    );

    // Blocking: one script round trip per reservation.
    for _ in 0..200 {
        budget.reserve(&claim);
    }
    let deadline = Instant::now() + Duration::from_secs_f64(o.seconds);
    let n = o.calls.min(5_000);
    let mut samples = Vec::with_capacity(n);
    while samples.len() < n && Instant::now() < deadline {
        let t = Instant::now();
        budget.reserve(&claim);
        samples.push(t.elapsed());
    }
    if !budget.is_connected() {
        bail!("Redis stopped answering during the blocking phase");
    }
    samples.sort();
    let count = samples.len();
    let mean = samples.iter().sum::<Duration>() / u32::try_from(count)?;
    println!("| measure | figure |\n| --- | --- |");
    println!(
        "| blocking reservation, one script round trip ({count} calls) | mean {:.3} ms, p50 {:.3} ms, p99 {:.3} ms |",
        ms(mean),
        ms(samples[count / 2]),
        ms(samples[count * 99 / 100])
    );

    // Async: concurrent reservations share script calls.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let claim = Arc::new(claim);
    for concurrency in [1usize, 16, 64, 256] {
        let per_task = (o.calls / concurrency).max(1);
        let calls_before = server.script_calls();
        let deadline = Instant::now() + Duration::from_secs_f64(o.seconds);
        let t0 = Instant::now();
        let done: usize = runtime.block_on(async {
            let tasks: Vec<_> = (0..concurrency)
                .map(|_| {
                    let (budget, claim) = (budget.clone(), Arc::clone(&claim));
                    tokio::spawn(async move {
                        let mut done = 0;
                        while done < per_task && Instant::now() < deadline {
                            budget.reserve_async(&claim).await;
                            done += 1;
                        }
                        done
                    })
                })
                .collect();
            let mut total = 0;
            for task in tasks {
                total += task.await.unwrap_or(0);
            }
            total
        });
        let elapsed = t0.elapsed().as_secs_f64();
        if !budget.is_connected() {
            bail!("Redis stopped answering at {concurrency} tasks");
        }
        let calls = server.script_calls().saturating_sub(calls_before).max(1);
        println!(
            "| async reservations/s, {concurrency} task{} | {:.0}/s ({done} in {elapsed:.2} s, {:.1} per script call) |",
            if concurrency == 1 { "" } else { "s" },
            done as f64 / elapsed,
            done as f64 / calls as f64
        );
    }
    Ok(())
}
