//! Both clients against the real emulator on loopback.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use baidu_imageprocess::{BlockingClient, Client, Error, ErrorCode, Operation, RetryPolicy};
use baidu_imageprocess_emulator::Emulator;

/// A PNG header of `w × h`; the emulator's echo mode never decodes pixels.
fn png(w: u32, h: u32) -> Vec<u8> {
    let mut v = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
    v.extend_from_slice(&w.to_be_bytes());
    v.extend_from_slice(&h.to_be_bytes());
    v.extend_from_slice(&[8, 2, 0, 0, 0, 0, 0, 0, 0]);
    v.resize(2000, 7);
    v
}

fn fast_retries() -> RetryPolicy {
    RetryPolicy::default()
        .with_initial_backoff(Duration::from_millis(5))
        .with_throttled_backoff(Duration::from_millis(20))
}

fn client(emu: &Emulator) -> Client {
    Client::builder()
        .api_key("ak", "sk")
        .endpoint(emu.base_url())
        .retry_policy(fast_retries())
        .build()
        .unwrap()
}

fn blocking(emu: &Emulator) -> BlockingClient {
    BlockingClient::builder()
        .api_key("ak", "sk")
        .endpoint(emu.base_url())
        .retry_policy(fast_retries())
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixty_four_first_calls_share_one_token_request() {
    let emu = Emulator::builder().echo(true).start().unwrap();
    let base = client(&emu);
    let image = Arc::new(png(320, 240));
    let tasks: Vec<_> = (0..64)
        .map(|_| {
            let c = base.clone();
            let image = Arc::clone(&image);
            tokio::spawn(async move { c.dehaze(&*image).await })
        })
        .collect();
    for t in tasks {
        let reply = t.await.unwrap().unwrap();
        assert_eq!(reply.image, *image);
    }
    assert_eq!(emu.stats().token_requests(), 1);
}

#[test]
fn blocking_clones_share_one_token_request() {
    let emu = Emulator::builder().echo(true).start().unwrap();
    let base = blocking(&emu);
    let image = png(320, 240);
    std::thread::scope(|s| {
        for _ in 0..16 {
            let c = base.clone();
            let image = &image;
            s.spawn(move || c.contrast_enhance(image).unwrap());
        }
    });
    assert_eq!(emu.stats().token_requests(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn tokens_expiring_every_second_lose_no_call() {
    let emu = Emulator::builder()
        .echo(true)
        .token_ttl(Duration::from_secs(1))
        .latency(Duration::from_millis(40))
        .start()
        .unwrap();
    let c = client(&emu);
    let image = png(320, 240);
    let failures = run_batch(&c, &image, 200, 8).await;
    assert!(failures.is_empty(), "{failures:?}");
    assert!(emu.stats().token_requests() >= 2, "{:?}", emu.stats());
}

/// Runs `n` dehaze calls, `concurrency` at a time; returns the errors.
async fn run_batch(c: &Client, image: &[u8], n: usize, concurrency: usize) -> Vec<Error> {
    let image: Arc<[u8]> = Arc::from(image);
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let errors = Arc::new(Mutex::new(Vec::new()));
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            let (c, image, next, errors) = (
                c.clone(),
                Arc::clone(&image),
                Arc::clone(&next),
                Arc::clone(&errors),
            );
            tokio::spawn(async move {
                while next.fetch_add(1, std::sync::atomic::Ordering::SeqCst) < n {
                    if let Err(e) = c.dehaze(&*image).await {
                        errors.lock().unwrap().push(e);
                    }
                }
            })
        })
        .collect();
    for w in workers {
        w.await.unwrap();
    }
    Arc::try_unwrap(errors).unwrap().into_inner().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn injected_failures_are_retried_away() {
    let emu = Emulator::builder()
        .echo(true)
        .fail_rate(0.2)
        .seed(7)
        .start()
        .unwrap();
    let failures = run_batch(&client(&emu), &png(320, 240), 200, 8).await;
    assert!(failures.is_empty(), "{failures:?}");
    assert!(
        emu.stats().errors.values().sum::<u64>() > 0,
        "no failure was injected"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn without_retries_injected_failures_surface_as_retryable() {
    let emu = Emulator::builder()
        .echo(true)
        .fail_rate(0.2)
        .seed(7)
        .start()
        .unwrap();
    let c = Client::builder()
        .api_key("ak", "sk")
        .endpoint(emu.base_url())
        .retry_policy(RetryPolicy::disabled())
        .build()
        .unwrap();
    let failures = run_batch(&c, &png(320, 240), 200, 8).await;
    assert!(!failures.is_empty());
    for e in &failures {
        assert!(matches!(e, Error::Api { .. }) && e.is_retryable(), "{e:?}");
        assert!(
            matches!(e.code().map(ErrorCode::get), Some(1 | 2 | 282_000)),
            "{e:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn client_rate_limit_matches_the_service() {
    let emu = Emulator::builder().echo(true).qps(5).start().unwrap();
    let c = Client::builder()
        .api_key("ak", "sk")
        .endpoint(emu.base_url())
        .qps(5.0)
        .build()
        .unwrap();
    let started = Instant::now();
    let failures = run_batch(&c, &png(320, 240), 20, 8).await;
    let elapsed = started.elapsed();
    assert!(failures.is_empty(), "{failures:?}");
    assert_eq!(emu.stats().errors_with(18), 0, "{:?}", emu.stats());
    // 20 calls paced at 5/s need 3.8 s; allow generous slack for a loaded machine.
    assert!(elapsed >= Duration::from_millis(3700), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(8), "{elapsed:?}");
}

#[tokio::test]
async fn a_server_that_never_answers_times_out_on_time() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let holder = std::thread::spawn(move || {
        // Accept and hold connections without answering, for a bounded time.
        listener.set_nonblocking(true).unwrap();
        let mut held = Vec::new();
        let until = Instant::now() + Duration::from_secs(5);
        while Instant::now() < until {
            if let Ok((s, _)) = listener.accept() {
                held.push(s);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    });
    let c = Client::builder()
        .access_token("fixed")
        .endpoint(format!("http://{addr}"))
        .timeout(Duration::from_secs(1))
        .build()
        .unwrap();
    let started = Instant::now();
    let err = c.dehaze(png(320, 240)).await.unwrap_err();
    let elapsed = started.elapsed();
    assert!(matches!(err, Error::Timeout { .. }), "{err:?}");
    assert!(
        elapsed >= Duration::from_millis(950) && elapsed < Duration::from_millis(1500),
        "{elapsed:?}"
    );
    holder.join().unwrap();
}

#[tokio::test]
async fn refused_connection_is_a_transport_error() {
    let c = Client::builder()
        .api_key("ak", "sk")
        .endpoint("http://127.0.0.1:1")
        .retry_policy(
            RetryPolicy::default()
                .with_max_attempts(2)
                .with_initial_backoff(Duration::from_millis(1)),
        )
        .build()
        .unwrap();
    let err = c.dehaze(png(320, 240)).await.unwrap_err();
    assert!(matches!(err, Error::Transport(_)), "{err:?}");
    assert!(err.is_retryable());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn wrong_credentials_fail_fast_with_few_token_requests() {
    let emu = Emulator::builder()
        .echo(true)
        .credentials("ak", "sk")
        .start()
        .unwrap();
    let c = Client::builder()
        .api_key("ak", "wrong")
        .endpoint(emu.base_url())
        .build()
        .unwrap();
    let failures = run_batch(&c, &png(320, 240), 16, 8).await;
    assert_eq!(failures.len(), 16);
    for e in &failures {
        assert!(e.is_auth(), "{e:?}");
        assert!(e.to_string().contains("authentication"), "{e}");
    }
    assert!(emu.stats().token_requests() <= 2, "{:?}", emu.stats());
    let b = BlockingClient::builder()
        .api_key("nobody", "sk")
        .endpoint(emu.base_url())
        .build()
        .unwrap();
    let err = b.dehaze(png(320, 240)).unwrap_err();
    let chain = format!("{err:?}");
    assert!(chain.contains("invalid_client"), "{chain}");
}

#[tokio::test]
async fn denied_colourize_is_error_6_with_log_id() {
    let emu = Emulator::builder()
        .echo(true)
        .deny(Operation::Colourize)
        .start()
        .unwrap();
    let err = client(&emu).colourize(png(320, 240)).await.unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::NO_PERMISSION));
    assert!(err.log_id().is_some());
    assert!(!err.is_retryable());
    let err = blocking(&emu).colourize(png(320, 240)).unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::NO_PERMISSION));
}

#[tokio::test]
async fn limits_are_checked_before_sending() {
    let emu = Emulator::builder().echo(true).start().unwrap();
    let err = client(&emu).dehaze(png(5000, 3000)).await.unwrap_err();
    assert!(matches!(err, Error::InvalidInput(_)), "{err:?}");
    assert_eq!(err.code(), Some(ErrorCode::IMAGE_SIZE_ERROR));
    assert_eq!(emu.stats().token_requests(), 0);
}

#[test]
fn blocking_token_and_all_operations() {
    let emu = Emulator::builder().echo(true).start().unwrap();
    let c = blocking(&emu);
    let info = c.token().unwrap();
    assert!(info.expires_in > Duration::from_secs(3600));
    for op in Operation::ALL {
        let image = png(320, 240);
        assert_eq!(c.process(op, &image).unwrap().image, image);
    }
}
