//! Both clients against the real emulator on loopback.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use baidu_imageprocess::protocol::{
    AsyncTransport, HttpRequest, HttpResponse, Transport as _, TransportError,
};
use baidu_imageprocess::{
    AnimeMask, BlockingClient, Client, CustomStyle, Error, ErrorCode, Input, Operation, Params,
    Rect, Request, RetryPolicy, Strength, Style,
};
use baidu_imageprocess_emulator::Emulator;
use baidu_imageprocess_test_support::silent_server;
use baidu_imageprocess_transport_blocking::{UreqConfig, UreqTransport};

/// A PNG header of `w × h` in a 2000-byte body; the emulator's echo mode never decodes
/// pixels.
fn png(w: u32, h: u32) -> Vec<u8> {
    baidu_imageprocess_test_support::fake_png(w, h, 2000)
}

fn fast_retries() -> RetryPolicy {
    RetryPolicy::default()
        .with_initial_backoff(Duration::from_millis(5))
        .with_throttled_backoff(Duration::from_millis(20))
}

/// Two attempts 1 ms apart: enough to see a failure retried, quickly.
fn two_quick_attempts() -> RetryPolicy {
    RetryPolicy::default()
        .with_max_attempts(2)
        .with_initial_backoff(Duration::from_millis(1))
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

/// An echoing emulator that fails one request in five (seeded: the same ones every run).
fn flaky_emulator() -> Emulator {
    Emulator::builder()
        .echo(true)
        .fail_rate(0.2)
        .seed(7)
        .start()
        .unwrap()
}

/// An echoing emulator whose tokens expire after a second and whose replies take 40 ms, so
/// a batch outlives its first token.
fn short_token_emulator() -> Emulator {
    Emulator::builder()
        .echo(true)
        .token_ttl(Duration::from_secs(1))
        .latency(Duration::from_millis(40))
        .start()
        .unwrap()
}

/// An echoing emulator that issues tokens only for `ak`/`sk`.
fn emulator_knowing_only_ak_sk() -> Emulator {
    Emulator::builder()
        .echo(true)
        .credentials("ak", "sk")
        .start()
        .unwrap()
}

/// Some calls failed, each with one of the retryable codes [`flaky_emulator`] injects.
fn assert_injected_failures(failures: &[Error]) {
    assert!(!failures.is_empty());
    for e in failures {
        assert!(matches!(e, Error::Api { .. }) && e.is_retryable(), "{e:?}");
        assert!(
            matches!(e.code().map(ErrorCode::get), Some(1 | 2 | 282_000)),
            "{e:?}"
        );
    }
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
fn sixty_four_blocking_first_calls_share_one_token_request() {
    let emu = Emulator::builder().echo(true).start().unwrap();
    let base = blocking(&emu);
    let image = png(320, 240);
    std::thread::scope(|s| {
        for _ in 0..64 {
            let c = base.clone();
            let image = &image;
            s.spawn(move || assert_eq!(c.contrast_enhance(image).unwrap().image, *image));
        }
    });
    assert_eq!(emu.stats().token_requests(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn tokens_expiring_every_second_lose_no_call() {
    let emu = short_token_emulator();
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

/// The blocking twin of [`run_batch`]: `n` dehaze calls on `concurrency` threads.
fn run_batch_blocking(
    c: &BlockingClient,
    image: &[u8],
    n: usize,
    concurrency: usize,
) -> Vec<Error> {
    let next = std::sync::atomic::AtomicUsize::new(0);
    let errors = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..concurrency {
            let (c, next, errors) = (c.clone(), &next, &errors);
            s.spawn(move || {
                while next.fetch_add(1, std::sync::atomic::Ordering::SeqCst) < n {
                    if let Err(e) = c.dehaze(image) {
                        errors.lock().unwrap().push(e);
                    }
                }
            });
        }
    });
    errors.into_inner().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn injected_failures_are_retried_away() {
    let emu = flaky_emulator();
    let failures = run_batch(&client(&emu), &png(320, 240), 200, 8).await;
    assert!(failures.is_empty(), "{failures:?}");
    assert!(
        emu.stats().errors.values().sum::<u64>() > 0,
        "no failure was injected"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn without_retries_injected_failures_surface_as_retryable() {
    let emu = flaky_emulator();
    let c = Client::builder()
        .api_key("ak", "sk")
        .endpoint(emu.base_url())
        .retry_policy(RetryPolicy::disabled())
        .build()
        .unwrap();
    let failures = run_batch(&c, &png(320, 240), 200, 8).await;
    assert_injected_failures(&failures);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn client_rate_limit_matches_the_service() {
    let emu = Emulator::builder().echo(true).qps(5.0).start().unwrap();
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
    report_pacing("async", elapsed);
    // The count is the contract; the time bound is generous for a loaded machine.
    assert!(elapsed < Duration::from_secs(8), "{elapsed:?}");
}

#[tokio::test]
async fn a_server_that_never_answers_times_out_on_time() {
    let (addr, holder) = silent_server();
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
    eprintln!("async: 1 s total timeout fired after {elapsed:?}");
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
        .retry_policy(two_quick_attempts())
        .build()
        .unwrap();
    let err = c.dehaze(png(320, 240)).await.unwrap_err();
    assert!(matches!(err, Error::Transport(_)), "{err:?}");
    assert!(err.is_retryable());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn wrong_credentials_fail_fast_with_few_token_requests() {
    let emu = emulator_knowing_only_ak_sk();
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

/// Wraps the async transport and records the `log_id` of every image reply as the
/// emulator sent it (parsed from the raw body, independently of the protocol crate).
struct LogIdSpy {
    inner: baidu_imageprocess_transport_async::ReqwestTransport,
    seen: Arc<Mutex<Vec<u64>>>,
}

impl AsyncTransport for LogIdSpy {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        let response = self.inner.send(request).await?;
        record_log_id(&self.seen, &response);
        Ok(response)
    }
}

fn record_log_id(seen: &Mutex<Vec<u64>>, response: &HttpResponse) {
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(response.body())
        && let Some(id) = v["log_id"].as_u64()
    {
        seen.lock().unwrap().push(id);
    }
}

#[tokio::test]
async fn denied_colourize_is_error_6_with_log_id() {
    let emu = Emulator::builder()
        .echo(true)
        .deny(Operation::Colourize)
        .start()
        .unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let spy = LogIdSpy {
        inner: baidu_imageprocess_transport_async::ReqwestTransport::new(
            &baidu_imageprocess_transport_async::ReqwestConfig::default(),
        )
        .unwrap(),
        seen: Arc::clone(&seen),
    };
    let c = Client::builder()
        .api_key("ak", "sk")
        .endpoint(emu.base_url())
        .transport(spy)
        .build()
        .unwrap();
    let err = c.colourize(png(320, 240)).await.unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::NO_PERMISSION));
    assert!(!err.is_retryable());
    assert_eq!(
        err.log_id().map(|l| l.0),
        seen.lock().unwrap().last().copied()
    );
    assert!(err.log_id().is_some());

    let seen = Arc::new(Mutex::new(Vec::new()));
    let recorder = Arc::clone(&seen);
    let inner = UreqTransport::new(&UreqConfig::default()).unwrap();
    let spy = move |request: HttpRequest| -> Result<HttpResponse, TransportError> {
        let response = inner.send(request)?;
        record_log_id(&recorder, &response);
        Ok(response)
    };
    let b = BlockingClient::builder()
        .api_key("ak", "sk")
        .endpoint(emu.base_url())
        .transport(spy)
        .build()
        .unwrap();
    let err = b.colourize(png(320, 240)).unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::NO_PERMISSION));
    assert!(!err.is_retryable());
    assert_eq!(
        err.log_id().map(|l| l.0),
        seen.lock().unwrap().last().copied()
    );
    assert!(err.log_id().is_some());
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
    let image = png(320, 240);
    let style = png(64, 64);
    let rects = [Rect::new(10, 20, 30, 40)];
    for op in Operation::ALL {
        let params = match op {
            Operation::StyleTrans => Params::StyleTrans(Style::Wave),
            Operation::SelfieAnime => Params::SelfieAnime {
                mask: AnimeMask::new(2).ok(),
            },
            Operation::Inpainting => Params::Inpainting(rects[..].into()),
            Operation::Denoise => Params::Denoise(Strength::new(80).unwrap()),
            Operation::CustomizeStylization => {
                Params::CustomizeStylization(CustomStyle::Image(style[..].into()))
            }
            _ => {
                // The parameterless ones also run through `process`.
                assert_eq!(c.process(op, &image).unwrap().image, image, "{op}");
                Params::defaults(op).unwrap()
            }
        };
        let request = Request::new(Input::image(&image[..]), params);
        assert_eq!(c.call(&request).unwrap().image, image, "{op}");
    }
}

#[test]
fn blocking_tokens_expiring_every_second_lose_no_call() {
    let emu = short_token_emulator();
    let failures = run_batch_blocking(&blocking(&emu), &png(320, 240), 200, 8);
    assert!(failures.is_empty(), "{failures:?}");
    assert!(emu.stats().token_requests() >= 2, "{:?}", emu.stats());
}

#[test]
fn blocking_injected_failures_are_retried_away_or_surface_as_retryable() {
    let emu = flaky_emulator();
    let failures = run_batch_blocking(&blocking(&emu), &png(320, 240), 200, 8);
    assert!(failures.is_empty(), "{failures:?}");
    let injected = emu.stats().errors.values().sum::<u64>();
    assert!(injected > 0, "no failure was injected");

    let no_retries = BlockingClient::builder()
        .api_key("ak", "sk")
        .endpoint(emu.base_url())
        .retry_policy(RetryPolicy::disabled())
        .build()
        .unwrap();
    let failures = run_batch_blocking(&no_retries, &png(320, 240), 200, 8);
    assert_injected_failures(&failures);
}

#[test]
fn blocking_client_rate_limit_matches_the_service() {
    let emu = Emulator::builder().echo(true).qps(5.0).start().unwrap();
    let c = BlockingClient::builder()
        .api_key("ak", "sk")
        .endpoint(emu.base_url())
        .qps(5.0)
        .build()
        .unwrap();
    let started = Instant::now();
    let failures = run_batch_blocking(&c, &png(320, 240), 20, 8);
    let elapsed = started.elapsed();
    assert!(failures.is_empty(), "{failures:?}");
    assert_eq!(emu.stats().errors_with(18), 0, "{:?}", emu.stats());
    report_pacing("blocking", elapsed);
    assert!(elapsed < Duration::from_secs(8), "{elapsed:?}");
}

/// Prints the pacing overhead against the minimum for 20 calls paced at 5/s: the first
/// goes at once, then 19 gaps of 0.2 s. Printed, not asserted tightly (shared CI cores).
fn report_pacing(which: &str, elapsed: Duration) {
    let minimum = Duration::from_millis(3800);
    let over = (elapsed.as_secs_f64() / minimum.as_secs_f64() - 1.0) * 100.0;
    eprintln!(
        "{which}: 20 calls at qps 5 took {elapsed:?} ({over:+.1} % over the {minimum:?} minimum)"
    );
}

#[test]
fn blocking_server_that_never_answers_times_out_on_time() {
    let (addr, holder) = silent_server();
    let c = BlockingClient::builder()
        .access_token("fixed")
        .endpoint(format!("http://{addr}"))
        .timeout(Duration::from_secs(1))
        .build()
        .unwrap();
    let started = Instant::now();
    let err = c.dehaze(png(320, 240)).unwrap_err();
    let elapsed = started.elapsed();
    assert!(matches!(err, Error::Timeout { .. }), "{err:?}");
    eprintln!("blocking: 1 s total timeout fired after {elapsed:?}");
    assert!(
        elapsed >= Duration::from_millis(950) && elapsed < Duration::from_millis(1500),
        "{elapsed:?}"
    );
    holder.join().unwrap();
}

#[test]
fn blocking_refused_connection_is_a_transport_error() {
    let c = BlockingClient::builder()
        .api_key("ak", "sk")
        .endpoint("http://127.0.0.1:1")
        .retry_policy(two_quick_attempts())
        .build()
        .unwrap();
    let err = c.dehaze(png(320, 240)).unwrap_err();
    assert!(matches!(err, Error::Transport(_)), "{err:?}");
    assert!(err.is_retryable());
}

#[test]
fn blocking_wrong_credentials_fail_fast_with_few_token_requests() {
    let emu = emulator_knowing_only_ak_sk();
    let c = BlockingClient::builder()
        .api_key("ak", "wrong")
        .endpoint(emu.base_url())
        .build()
        .unwrap();
    let failures = run_batch_blocking(&c, &png(320, 240), 16, 8);
    assert_eq!(failures.len(), 16);
    for e in &failures {
        assert!(e.is_auth(), "{e:?}");
    }
    assert!(emu.stats().token_requests() <= 2, "{:?}", emu.stats());
}

/// `https://` pointed at a plain-HTTP port: a TLS failure, not retried (one connection),
/// reported at once with a hint, by both clients.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_to_a_plain_http_port_fails_fast_after_one_connection() {
    use baidu_imageprocess::protocol::TransportErrorKind;
    use std::sync::atomic::Ordering;
    let is_tls =
        |err: &Error| matches!(err, Error::Transport(e) if e.kind() == TransportErrorKind::Tls);

    let (addr, connections, server) =
        baidu_imageprocess_test_support::plain_http_server(Duration::from_secs(3));
    let async_client = Client::builder()
        .api_key("ak", "sk")
        .endpoint(format!("https://{addr}"))
        .build()
        .unwrap();
    let started = Instant::now();
    let err = async_client.dehaze(png(320, 240)).await.unwrap_err();
    let elapsed = started.elapsed();
    assert!(is_tls(&err), "{err:?}");
    assert!(!err.is_retryable());
    assert_eq!(connections.load(Ordering::SeqCst), 1, "retried: {err:?}");
    assert!(elapsed < Duration::from_secs(1), "{elapsed:?}");
    let text = format!("{err}: {}", std::error::Error::source(&err).unwrap());
    // (With rustls the message also says to use http://; native-tls gives no such detail.)
    assert!(text.contains("TLS failure"), "{text}");

    let blocking_client = BlockingClient::builder()
        .api_key("ak", "sk")
        .endpoint(format!("https://{addr}"))
        .build()
        .unwrap();
    let started = Instant::now();
    let err =
        tokio::task::spawn_blocking(move || blocking_client.dehaze(png(320, 240)).unwrap_err())
            .await
            .unwrap();
    let elapsed = started.elapsed();
    assert!(is_tls(&err), "{err:?}");
    assert_eq!(connections.load(Ordering::SeqCst), 2, "retried: {err:?}");
    assert!(elapsed < Duration::from_secs(1), "{elapsed:?}");
    eprintln!("https to a plain-HTTP port: failed after one connection in {elapsed:?}");
    tokio::task::spawn_blocking(move || server.join().unwrap())
        .await
        .unwrap();
}
