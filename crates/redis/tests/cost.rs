//! The budget's cost against a real loopback `redis-server` (docs/benchmarks.md):
//! `cargo test -p baidu-imageprocess-redis --test cost -- --ignored --nocapture`.
//! Ignored by default: figures, not pass/fail, on a shared machine.

use std::sync::Arc;
use std::time::{Duration, Instant};

use baidu_imageprocess_protocol::{Budget, Claim, Credentials, Operation, application_id};
use baidu_imageprocess_redis::RedisBudget;
use baidu_imageprocess_redis::testing::RedisServer;

fn claim() -> Claim {
    let app = Arc::from(application_id(&Credentials::api_key("AK-bench", "SK")));
    // A ceiling far above what is measured: every reservation is a full script call
    // that answers "go now", so only the round trip is timed.
    Claim::new(app, Operation::Dehaze, Some(1e9), true, false, 0)
}

#[test]
#[ignore = "a measurement; run with --ignored --nocapture"]
fn blocking_reservation_round_trip() {
    let server = RedisServer::start();
    let budget = RedisBudget::connect(&server.url()).unwrap();
    let claim = claim();
    for _ in 0..200 {
        budget.reserve(&claim);
    }
    let n = 5_000;
    let mut samples: Vec<Duration> = (0..n)
        .map(|_| {
            let t = Instant::now();
            budget.reserve(&claim);
            t.elapsed()
        })
        .collect();
    assert!(budget.is_connected());
    samples.sort();
    let mean = samples.iter().sum::<Duration>() / n;
    let p50 = samples[n as usize / 2];
    let p99 = samples[n as usize * 99 / 100];
    println!(
        "blocking reservation: mean {:.3} ms, p50 {:.3} ms, p99 {:.3} ms ({n} calls, one process)",
        mean.as_secs_f64() * 1e3,
        p50.as_secs_f64() * 1e3,
        p99.as_secs_f64() * 1e3
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement; run with --ignored --nocapture"]
async fn async_reservations_per_second() {
    let server = RedisServer::start();
    let budget = RedisBudget::connect(&server.url()).unwrap();
    let claim = Arc::new(claim());
    for concurrency in [1usize, 16, 64, 256] {
        let per_task = 40_000 / concurrency;
        let t0 = Instant::now();
        let tasks: Vec<_> = (0..concurrency)
            .map(|_| {
                let (budget, claim) = (budget.clone(), Arc::clone(&claim));
                tokio::spawn(async move {
                    for _ in 0..per_task {
                        budget.reserve_async(&claim).await;
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        let total = (per_task * concurrency) as f64;
        assert!(budget.is_connected());
        println!(
            "async reservations, {concurrency} tasks: {:.0}/s ({total} in {:.2} s, one process, one multiplexed connection)",
            total / t0.elapsed().as_secs_f64(),
            t0.elapsed().as_secs_f64()
        );
    }
}
