//! The budget against a real `redis-server` (each test starts its own).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use baidu_imageprocess_protocol::{
    Budget, Claim, Credentials, HttpRequest, HttpResponse, Operation, Transport, TransportError,
    application_id,
};
use baidu_imageprocess_redis::testing::RedisServer;
use baidu_imageprocess_redis::{BudgetError, RedisBudget};

fn app() -> Arc<str> {
    Arc::from(application_id(&Credentials::api_key("AK-test", "SK")))
}

fn claim(qps: f64, throttled: bool) -> Claim {
    Claim::new(app(), Operation::Dehaze, Some(qps), true, throttled, 0)
}

fn budget(server: &RedisServer) -> RedisBudget {
    RedisBudget::connect(&server.url()).unwrap()
}

#[test]
fn two_processes_share_one_rate() {
    let server = RedisServer::start();
    let (a, b) = (budget(&server), budget(&server));
    // 10 QPS shared: whoever asks, turns are 100 ms apart.
    let mut waits: Vec<Duration> = (0..10)
        .map(|i| if i % 2 == 0 { &a } else { &b }.reserve(&claim(10.0, false)))
        .collect();
    waits.sort();
    for (i, wait) in waits.iter().enumerate() {
        let expected = Duration::from_millis(100 * i as u64);
        let slack = Duration::from_millis(30);
        assert!(
            *wait + slack >= expected && *wait <= expected + slack,
            "turn {i}: {wait:?}"
        );
    }
    // Another operation has its own bucket.
    let other = Claim::new(app(), Operation::Colourize, Some(10.0), true, false, 0);
    assert_eq!(a.reserve(&other), Duration::ZERO);
}

#[test]
fn an_error_18_in_one_process_slows_every_process() {
    let server = RedisServer::start();
    let (a, b) = (budget(&server), budget(&server));
    let first = a.reserve(&claim(10.0, false));
    assert_eq!(first, Duration::ZERO);
    // `a` was refused: the fleet's rate halves to 5 QPS, so `b` waits a 200 ms turn.
    let after = a.reserve(&claim(10.0, true));
    let next = b.reserve(&claim(10.0, false));
    assert!(
        next >= after + Duration::from_millis(170),
        "{after:?} then {next:?}"
    );
    // Successes anywhere raise it back: 100 of them (+0.05 QPS each) reach the ceiling.
    let recovered = Claim::new(app(), Operation::Dehaze, Some(10.0), true, false, 100);
    let before = b.reserve(&recovered);
    let then = a.reserve(&claim(10.0, false));
    let gap = then.saturating_sub(before);
    assert!(
        gap <= Duration::from_millis(130),
        "back at 10 QPS: {before:?} then {then:?}"
    );
}

#[test]
fn unreachable_redis_is_an_error_naming_the_url_without_its_password() {
    let port = baidu_imageprocess_redis::testing::free_port();
    let url = format!("redis://:hunter2@127.0.0.1:{port}/0");
    let error = RedisBudget::connect(&url).unwrap_err();
    assert!(matches!(error, BudgetError::Unreachable { .. }));
    let text = error.to_string();
    assert!(
        text.contains(&format!("127.0.0.1:{port}")) && !text.contains("hunter2"),
        "{text}"
    );
}

#[test]
fn losing_redis_paces_locally_at_the_share_and_rejoins() {
    let mut server = RedisServer::start();
    let (a, b) = (budget(&server), budget(&server));
    // Both processes are seen: each one's share is half of 8 QPS.
    b.reserve(&claim(8.0, false));
    a.reserve(&claim(8.0, false));
    server.kill();
    let t0 = Instant::now();
    let waits: Vec<Duration> = (0..3).map(|_| a.reserve(&claim(8.0, false))).collect();
    assert!(
        t0.elapsed() < Duration::from_secs(2),
        "a dead Redis stalled"
    );
    assert!(!a.is_connected());
    // 4 QPS locally: 250 ms apart.
    assert!(waits[1] >= Duration::from_millis(230), "{waits:?}");
    assert!(waits[2] >= Duration::from_millis(480), "{waits:?}");
    server.restart();
    // One reservation a second tries Redis again.
    std::thread::sleep(Duration::from_millis(1100));
    a.reserve(&claim(8.0, false));
    assert!(a.is_connected(), "did not rejoin");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_reservations_are_pipelined() {
    let server = RedisServer::start();
    let budget = budget(&server);
    let n = 2000;
    let claim = Arc::new(claim(1_000_000.0, false));
    let t0 = Instant::now();
    let tasks: Vec<_> = (0..n)
        .map(|_| {
            let (budget, claim) = (budget.clone(), Arc::clone(&claim));
            tokio::spawn(async move { budget.reserve_async(&claim).await })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    assert!(budget.is_connected());
    let per_second = n as f64 / t0.elapsed().as_secs_f64();
    assert!(per_second > 1000.0, "{per_second:.0} reservations/s");
    // Reservations waiting at the same time shared script calls.
    let calls = server.script_calls();
    assert!(calls < n / 2, "{calls} script calls for {n} reservations");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batched_reservations_keep_the_fleets_turns_apart() {
    let server = RedisServer::start();
    let (a, b) = (budget(&server), budget(&server));
    // Two processes, 20 requests each at once, sharing 50 QPS: 40 turns 20 ms apart,
    // however they were batched.
    let claim = Arc::new(claim(50.0, false));
    let tasks: Vec<_> = (0..40)
        .map(|i| {
            let budget = if i % 2 == 0 { a.clone() } else { b.clone() };
            let claim = Arc::clone(&claim);
            tokio::spawn(async move {
                let wait = budget.reserve_async(&claim).await;
                Instant::now() + wait
            })
        })
        .collect();
    let mut turns = Vec::new();
    for task in tasks {
        turns.push(task.await.unwrap());
    }
    turns.sort();
    let calls = server.script_calls();
    assert!(calls < 40, "no batching: {calls} script calls");
    // Scheduling on a shared machine moves when a task reads the clock by a few ms.
    let slack = Duration::from_millis(8);
    for pair in turns.windows(2) {
        let gap = pair[1] - pair[0];
        assert!(
            gap + slack >= Duration::from_millis(20),
            "turns {gap:?} apart"
        );
    }
    let span = turns[39] - turns[0];
    assert!(
        span + slack >= Duration::from_millis(39 * 20)
            && span <= Duration::from_millis(39 * 20) + slack,
        "40 turns over {span:?}"
    );
}

/// A token endpoint that counts its requests.
#[derive(Default)]
struct Endpoint {
    token_requests: AtomicUsize,
}

impl Transport for Endpoint {
    fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        assert!(request.uri().path().ends_with("/oauth/2.0/token"));
        self.token_requests.fetch_add(1, Ordering::SeqCst);
        std::thread::sleep(Duration::from_millis(100));
        Ok(HttpResponse::new(
            br#"{"access_token":"24.fleet","expires_in":2592000,"scope":"brain_all_scope"}"#
                .as_slice()
                .into(),
        ))
    }
}

fn token_request() -> HttpRequest {
    http::Request::post("http://127.0.0.1:9/oauth/2.0/token")
        .body(bytes::Bytes::from_static(b"grant_type=client_credentials"))
        .unwrap()
}

#[test]
fn one_process_fetches_the_token_for_the_fleet() {
    let server = RedisServer::start();
    let endpoint = Arc::new(Endpoint::default());
    let credentials = Credentials::api_key("AK-test", "SK");
    let processes: Vec<_> = (0..4)
        .map(|_| budget(&server).share_token(&credentials, Arc::clone(&endpoint)))
        .collect();
    std::thread::scope(|scope| {
        for p in &processes {
            scope.spawn(move || {
                let reply = p.send(token_request()).unwrap();
                let body = String::from_utf8_lossy(reply.body()).into_owned();
                assert!(body.contains("24.fleet"), "{body}");
            });
        }
    });
    assert_eq!(endpoint.token_requests.load(Ordering::SeqCst), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admitting_instances_know_their_share_when_redis_is_lost() {
    let mut server = RedisServer::start();
    let (a, b) = (budget(&server), budget(&server));
    let share = |b: &RedisBudget, scope| (b.share(scope, 12.0) * 1000.0).round() as u64;
    assert_eq!(share(&a, "emu"), 12_000, "no other instance seen yet");
    assert_eq!(a.admit("emu", 12.0).await, Some(true));
    assert_eq!(b.admit("emu", 12.0).await, Some(true));
    assert_eq!(a.admit("emu", 12.0).await, Some(true));
    assert_eq!(share(&a, "emu"), 6_000);
    // Another scope has its own instances.
    assert_eq!(share(&a, "other"), 12_000);
    server.kill();
    assert_eq!(a.admit("emu", 12.0).await, None);
    assert_eq!(share(&a, "emu"), 6_000, "the share outlives Redis");
}
