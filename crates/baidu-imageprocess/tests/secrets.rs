//! Secrets never leak: every log line at TRACE, every `Debug`/`Display`, every error
//! chain, during a run with retries and token refreshes.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use baidu_imageprocess::protocol::{
    AsyncTransport, HttpRequest, HttpResponse, Transport, TransportError,
};
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
    baidu_imageprocess_test_support::fake_png(w, h, 1000)
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

/// Records the `access_token` of every token reply (other replies have none).
fn record_token(seen: &Mutex<Vec<String>>, response: &HttpResponse) {
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(response.body())
        && let Some(t) = v["access_token"].as_str()
    {
        seen.lock().unwrap().push(t.to_owned());
    }
}

/// The async twin of the blocking spy closure.
struct TokenSpy {
    inner: baidu_imageprocess_transport_async::ReqwestTransport,
    seen: Arc<Mutex<Vec<String>>>,
}

impl AsyncTransport for TokenSpy {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        let response = self.inner.send(request).await?;
        record_token(&self.seen, &response);
        Ok(response)
    }
}

#[test]
fn no_secret_or_token_in_trace_logs_debug_or_errors() {
    let capture = Capture::default();
    let writer = capture.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::FULL)
        .with_ansi(false)
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
        let response = inner.send(request)?;
        record_token(&seen, &response);
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
        // The async client under the same subscriber (a current-thread runtime runs here).
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let spy = TokenSpy {
                inner: baidu_imageprocess_transport_async::ReqwestTransport::new(
                    &baidu_imageprocess_transport_async::ReqwestConfig::default(),
                )
                .unwrap(),
                seen: Arc::clone(&tokens),
            };
            let client = Client::builder()
                .api_key("ak", SECRET)
                .endpoint(emu.base_url())
                .retry_policy(retry.clone())
                .transport(spy)
                .build()
                .unwrap();
            for _ in 0..60 {
                client.dehaze(png(320, 240)).await.unwrap();
            }
            texts.push(format!("{client:?}"));
            let refused = Client::builder()
                .access_token(SECRET)
                .endpoint("http://127.0.0.1:1")
                .retry_policy(RetryPolicy::disabled())
                .build()
                .unwrap();
            texts.push(chain(&refused.dehaze(png(320, 240)).await.unwrap_err()));
            texts.push(format!("{refused:?}"));
        });
    });
    let logs = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("retrying"), "expected retries in the logs");
    assert!(
        logs.contains("baidu_imageprocess.call") && logs.contains("log_id="),
        "expected the per-call spans in the logs:\n{}",
        &logs[logs.len().saturating_sub(3000)..]
    );
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

/// `{}`, `{:?}` and `{:#?}` of a value (Display only where the type has it).
macro_rules! all_formats {
    ($out:ident, debug: $($v:expr),+ $(,)?) => {
        $( { let v = $v; $out.push(format!("{v:?} {v:#?}")); } )+
    };
    ($out:ident, display: $($v:expr),+ $(,)?) => {
        $( { let v = $v; $out.push(format!("{v} {v:?} {v:#?}")); } )+
    };
}

#[test]
fn every_public_type_formats_without_the_secret() {
    use baidu_imageprocess::protocol::{
        AccessToken, ClientConfig, Machine as _, SecretKey, Session, TransportErrorKind, scrub,
    };
    use baidu_imageprocess::{BuildError, Operation};

    let proxy = format!("http://user:{SECRET}@proxy.invalid:3128");
    let mut out = Vec::new();
    let credentials = [
        Credentials::api_key("ak", SECRET),
        Credentials::access_token(SECRET),
        Credentials::bce_auth_v1("ak", SECRET),
    ];
    for c in &credentials {
        all_formats!(out, debug: c);
        let config = ClientConfig::new(c.clone());
        all_formats!(out, debug: &config);
        let session = Session::new(config);
        all_formats!(out, debug: &session);
        let client = Client::builder()
            .credentials(c.clone())
            .proxy(&proxy)
            .endpoint("http://127.0.0.1:1");
        all_formats!(out, debug: &client);
        let client = client.build().unwrap();
        all_formats!(out, debug: &client);
        let blocking = BlockingClient::builder()
            .credentials(c.clone())
            .proxy(&proxy)
            .endpoint("http://127.0.0.1:1");
        all_formats!(out, debug: &blocking);
        all_formats!(out, debug: &blocking.build().unwrap());
        // The sans-IO steps users may print while driving a call by hand.
        let mut call = session
            .call(Operation::Dehaze, &png(320, 240), std::time::Instant::now())
            .unwrap();
        all_formats!(out, debug: &call);
        all_formats!(out, debug: &call.next(std::time::Instant::now()));
        let mut token_call = session.token_call();
        all_formats!(out, debug: &token_call);
        all_formats!(out, debug: &token_call.next(std::time::Instant::now()));
    }
    all_formats!(out, debug: &SecretKey::from(SECRET), &AccessToken::from(SECRET));
    let transport_error = baidu_imageprocess::protocol::TransportError::new(
        TransportErrorKind::Connect,
        scrub(&format!(
            "error sending request for url (http://h/x?access_token={SECRET})"
        )),
    );
    out.push(chain(&transport_error));
    out.push(chain(&BuildError::MissingCredentials));
    let everything = out.join("\n");
    assert!(
        !everything.contains(SECRET),
        "the secret leaked:\n{everything}"
    );
    assert!(
        !everything.contains("access_token="),
        "a query string leaked"
    );
}
