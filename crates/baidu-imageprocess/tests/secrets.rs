//! Secrets never leak: every log line at TRACE, every `Debug`/`Display`, every error
//! chain, during a run with retries and token refreshes.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use baidu_imageprocess::protocol::{HttpRequest, HttpResponse, Transport, TransportError};
use baidu_imageprocess::{BlockingClient, Client, Credentials, RetryPolicy};
use baidu_imageprocess_emulator::Emulator;
use baidu_imageprocess_transport_blocking::{UreqConfig, UreqTransport};

const SECRET: &str = "sentinel-secret-9f2a";

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn png(w: u32, h: u32) -> Vec<u8> {
    let mut v = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
    v.extend_from_slice(&w.to_be_bytes());
    v.extend_from_slice(&h.to_be_bytes());
    v.extend_from_slice(&[8, 2, 0, 0, 0, 0, 0, 0, 0]);
    v.resize(1000, 1);
    v
}

fn chain(e: &dyn std::error::Error) -> String {
    let mut out = format!("{e} | {e:?} | {e:#?}");
    let mut source = e.source();
    while let Some(s) = source {
        out += &[" <- ", &s.to_string(), " | ", &format!("{s:?}")].concat();
        source = s.source();
    }
    out
}

#[test]
fn no_secret_or_token_in_trace_logs_debug_or_errors() {
    let capture = Capture::default();
    let writer = capture.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    let emu = Emulator::builder()
        .echo(true)
        .credentials("ak", SECRET)
        .token_ttl(Duration::from_secs(1))
        .fail_rate(0.3)
        .seed(11)
        .latency(Duration::from_millis(20))
        .start()
        .unwrap();
    // Record every token the emulator issues, by reading the token replies on the way in.
    let tokens = Arc::new(Mutex::new(Vec::<String>::new()));
    let seen = Arc::clone(&tokens);
    let inner = UreqTransport::new(&UreqConfig::default()).unwrap();
    let spy = move |request: HttpRequest| -> Result<HttpResponse, TransportError> {
        let is_token = request.uri().path().ends_with("/oauth/2.0/token");
        let response = inner.send(request)?;
        if is_token
            && let Ok(v) = serde_json::from_slice::<serde_json::Value>(response.body())
            && let Some(t) = v["access_token"].as_str()
        {
            seen.lock().unwrap().push(t.to_owned());
        }
        Ok(response)
    };
    let retry = RetryPolicy::default().with_initial_backoff(Duration::from_millis(5));
    let mut texts = Vec::new();
    tracing::subscriber::with_default(subscriber, || {
        let client = BlockingClient::builder()
            .api_key("ak", SECRET)
            .endpoint(emu.base_url())
            .retry_policy(retry.clone())
            .transport(spy)
            .build()
            .unwrap();
        texts.push(format!("{client:?}"));
        for _ in 0..60 {
            client.dehaze(png(320, 240)).unwrap();
        }
        // Failures too: wrong secret, and a transport error carrying a token in its URL.
        let bad = BlockingClient::builder()
            .api_key("ak", "wrong")
            .endpoint(emu.base_url())
            .build()
            .unwrap();
        texts.push(chain(&bad.dehaze(png(320, 240)).unwrap_err()));
        let refused = BlockingClient::builder()
            .access_token(SECRET)
            .endpoint("http://127.0.0.1:1")
            .retry_policy(RetryPolicy::disabled())
            .build()
            .unwrap();
        texts.push(chain(&refused.dehaze(png(320, 240)).unwrap_err()));
        texts.push(format!("{:?}", Credentials::api_key("ak", SECRET)));
        texts.push(format!(
            "{:?}",
            BlockingClient::builder().api_key("ak", SECRET)
        ));
        let token = client.token().unwrap();
        texts.push(format!("{token:?} {token:#?}"));
    });
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let refused = Client::builder()
            .access_token(SECRET)
            .endpoint("http://127.0.0.1:1")
            .retry_policy(RetryPolicy::disabled())
            .build()
            .unwrap();
        texts.push(chain(&refused.dehaze(png(320, 240)).await.unwrap_err()));
        texts.push(format!("{refused:?}"));
    });
    let logs = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("retrying"), "expected retries in the logs");
    let tokens = tokens.lock().unwrap().clone();
    assert!(
        tokens.len() >= 2,
        "expected token refreshes, saw {}",
        tokens.len()
    );
    let everything = format!("{logs}\n{}", texts.join("\n"));
    assert!(!everything.contains(SECRET), "the secret key leaked");
    for t in &tokens {
        assert!(!everything.contains(t.as_str()), "a token leaked");
    }
    assert!(
        !everything.contains("access_token="),
        "a query string leaked"
    );
}
