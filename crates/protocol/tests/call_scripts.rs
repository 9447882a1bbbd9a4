//! Scripted runs of the call state machine: a transport that answers from a script, a
//! fake clock that only moves when the machine sleeps (or a scripted request "takes
//! time"), jitter off. No I/O, no real sleeping: every duration below is exact.

// Helpers outside `#[test]` functions may fail loudly too.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use baidu_imageprocess_protocol::{
    AttemptTimeout, AuthError, Call, ClientConfig, Credentials, DecodeErrorKind, Endpoint, Error,
    ErrorCode, HttpRequest, HttpResponse, ImageReply, LogId, Machine, Operation, RetryPolicy,
    Session, Step, TOKEN_PATH, Timeouts, TransportError, TransportErrorKind, drive_with,
};
use support::{api_error, ok_image, png_header, response, token_ok, transport_error};

const MS: fn(u64) -> Duration = Duration::from_millis;

/// What the driver did, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Ev {
    /// Sent a token request.
    Token,
    /// Sent an operation request.
    Op,
    /// Slept this long.
    Sleep(Duration),
}

/// One operation request, then one more after each of `backoffs`, in order.
fn ops_after_backoffs(backoffs: &[Duration]) -> Vec<Ev> {
    let mut log = vec![Ev::Op];
    for &d in backoffs {
        log.extend([Ev::Sleep(d), Ev::Op]);
    }
    log
}

/// A token request, then [`ops_after_backoffs`].
fn token_then_ops(backoffs: &[Duration]) -> Vec<Ev> {
    let mut log = vec![Ev::Token];
    log.extend(ops_after_backoffs(backoffs));
    log
}

type Reply = Result<HttpResponse, TransportError>;

/// A scripted transport and a fake clock.
struct Harness {
    clock: Cell<Instant>,
    replies: RefCell<VecDeque<(Duration, Reply)>>,
    log: RefCell<Vec<Ev>>,
    requests: RefCell<Vec<HttpRequest>>,
}

impl Harness {
    fn new(replies: impl IntoIterator<Item = Reply>) -> Self {
        Self::with_latency(replies.into_iter().map(|r| (Duration::ZERO, r)))
    }

    /// Each reply arrives `latency` after its request is sent (the clock moves).
    fn with_latency(replies: impl IntoIterator<Item = (Duration, Reply)>) -> Self {
        Self {
            clock: Cell::new(Instant::now()),
            replies: RefCell::new(replies.into_iter().collect()),
            log: RefCell::new(Vec::new()),
            requests: RefCell::new(Vec::new()),
        }
    }

    fn now(&self) -> Instant {
        self.clock.get()
    }

    fn advance(&self, d: Duration) {
        self.clock.set(self.clock.get() + d);
    }

    fn respond(&self, request: HttpRequest) -> Reply {
        let ev = if request.uri().path() == TOKEN_PATH {
            Ev::Token
        } else {
            Ev::Op
        };
        self.log.borrow_mut().push(ev);
        self.requests.borrow_mut().push(request);
        let (latency, reply) =
            self.replies.borrow_mut().pop_front().unwrap_or_else(|| {
                panic!("unscripted request; log so far {:?}", self.log.borrow())
            });
        self.advance(latency);
        reply
    }

    fn run<M: Machine>(&self, machine: M) -> Result<M::Output, Error> {
        let sleeps = Cell::new(0u32);
        drive_with(
            &|request: HttpRequest| self.respond(request),
            machine,
            || self.now(),
            |d| {
                sleeps.set(sleeps.get() + 1);
                assert!(sleeps.get() < 10_000, "the machine keeps sleeping");
                self.log.borrow_mut().push(Ev::Sleep(d));
                self.advance(d);
            },
        )
    }

    fn log(&self) -> Vec<Ev> {
        self.log.borrow().clone()
    }

    fn unused_replies(&self) -> usize {
        self.replies.borrow().len()
    }

    /// The `access_token` query of the `i`-th request.
    fn token_of(&self, i: usize) -> Option<String> {
        let requests = self.requests.borrow();
        let query = requests[i].uri().query()?;
        query
            .split('&')
            .find_map(|p| p.strip_prefix("access_token="))
            .map(str::to_owned)
    }
}

fn config(credentials: Credentials) -> ClientConfig {
    ClientConfig::new(credentials)
        .with_endpoint(Endpoint::baidu())
        .with_retry(RetryPolicy::default().with_jitter(false))
        .with_rate_limit(None)
        .with_jitter_seed(7)
}

fn api_key() -> Credentials {
    Credentials::api_key("ak", "sk")
}

fn session(config: ClientConfig) -> Arc<Session> {
    Session::new(config)
}

fn dehaze(session: &Arc<Session>, h: &Harness) -> Call {
    session
        .call(Operation::Dehaze, &png_header(300, 300), h.now())
        .expect("a valid image")
}

fn api_error_with_log(code: u32, log_id: u64) -> HttpResponse {
    response(
        200,
        &format!(r#"{{"error_code":{code},"error_msg":"attempt {log_id}","log_id":{log_id}}}"#),
        &[],
    )
}

fn assert_ok(result: &Result<ImageReply, Error>) {
    match result {
        Ok(reply) => {
            assert_eq!(reply.image, b"ok");
            assert_eq!(reply.log_id, LogId(739_539_874));
        }
        Err(e) => panic!("expected success, got {e:?}"),
    }
}

fn refresh_once_then_success(code: u32) {
    let h = Harness::new([
        Ok(token_ok("t1", 2_592_000)),
        Ok(api_error(code)),
        Ok(token_ok("t2", 2_592_000)),
        Ok(ok_image()),
    ]);
    let s = session(config(api_key()));
    assert_ok(&h.run(dehaze(&s, &h)));
    assert_eq!(h.log(), [Ev::Token, Ev::Op, Ev::Token, Ev::Op]);
    assert_eq!(h.token_of(1).as_deref(), Some("t1"));
    assert_eq!(h.token_of(3).as_deref(), Some("t2"));
    // The refreshed token is cached for the next call.
    let h2 = Harness::new([Ok(ok_image())]);
    assert_ok(&h2.run(dehaze(&s, &h2)));
    assert_eq!(h2.log(), [Ev::Op]);
    assert_eq!(h2.token_of(0).as_deref(), Some("t2"));
}

#[test]
fn error_110_refreshes_once_then_succeeds() {
    refresh_once_then_success(110);
}

#[test]
fn error_111_refreshes_once_then_succeeds() {
    refresh_once_then_success(111);
}

#[test]
fn second_110_after_refresh_is_an_auth_error_not_a_loop() {
    let h = Harness::new([
        Ok(token_ok("t1", 2_592_000)),
        Ok(api_error(110)),
        Ok(token_ok("t2", 2_592_000)),
        Ok(api_error_with_log(110, 99)),
    ]);
    let s = session(config(api_key()));
    match h.run(dehaze(&s, &h)) {
        Err(Error::Auth(AuthError::TokenRejected { code, log_id, .. })) => {
            assert_eq!(code, ErrorCode::ACCESS_TOKEN_INVALID);
            assert_eq!(log_id, Some(LogId(99)));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(h.log(), [Ev::Token, Ev::Op, Ev::Token, Ev::Op]);
    assert_eq!(h.unused_replies(), 0);
}

#[test]
fn qps_limit_backs_off_then_succeeds() {
    let h = Harness::new([
        Ok(token_ok("t", 2_592_000)),
        Ok(api_error(18)),
        Ok(api_error(18)),
        Ok(api_error(4)),
        Ok(ok_image()),
    ]);
    let s = session(config(api_key()));
    assert_ok(&h.run(dehaze(&s, &h)));
    // Throttled backoff starts at 500 ms and doubles; no jitter.
    assert_eq!(h.log(), token_then_ops(&[MS(500), MS(1000), MS(2000)]));
}

/// The exact `Step`s of an 18-then-success call, stepped by hand.
#[test]
fn qps_limit_exact_steps() {
    let s = session(config(Credentials::access_token("fixed")));
    let t0 = Instant::now();
    let mut call = s
        .call(Operation::ContrastEnhance, &png_header(64, 64), t0)
        .unwrap();
    let Step::Send(first) = call.next(t0) else {
        panic!("expected the operation request first")
    };
    assert_eq!(first.uri().path(), Operation::ContrastEnhance.path());
    call.handle_response(t0, api_error(18));
    let Step::Sleep(delay) = call.next(t0) else {
        panic!("expected a backoff")
    };
    assert_eq!(delay, MS(500));
    // Asking early only sleeps for the rest.
    let Step::Sleep(rest) = call.next(t0 + MS(200)) else {
        panic!("expected the rest of the backoff")
    };
    assert_eq!(rest, MS(300));
    let Step::Send(second) = call.next(t0 + MS(500)) else {
        panic!("expected the retry")
    };
    assert_eq!(second.uri(), first.uri());
    call.handle_response(t0 + MS(500), ok_image());
    match call.next(t0 + MS(500)) {
        Step::Done(result) => assert_ok(&result),
        other => panic!("{other:?}"),
    }
    assert_eq!(call.attempts(), 2);
    // A finished call stays finished.
    assert!(matches!(call.next(t0 + MS(600)), Step::Done(Err(_))));
}

#[test]
fn internal_error_gives_up_after_max_attempts_with_the_last_error() {
    let h = Harness::new([
        Ok(token_ok("t", 2_592_000)),
        Ok(api_error_with_log(282_000, 1)),
        Ok(api_error_with_log(282_000, 2)),
        Ok(api_error_with_log(282_000, 3)),
        Ok(api_error_with_log(282_000, 4)),
    ]);
    let mut c = config(api_key());
    c.retry = c.retry.clone().with_max_attempts(4);
    let s = session(c);
    match h.run(dehaze(&s, &h)) {
        Err(Error::Api { code, log_id, .. }) => {
            assert_eq!(code, ErrorCode::INTERNAL_ERROR);
            assert_eq!(log_id, Some(LogId(4)), "the last attempt's error");
        }
        other => panic!("{other:?}"),
    }
    // The token fetch does not use up an attempt: 4 operation requests.
    assert_eq!(h.log(), token_then_ops(&[MS(100), MS(200), MS(400)]));
    assert_eq!(h.unused_replies(), 0);
}

#[test]
fn retries_disabled_means_one_attempt() {
    let h = Harness::new([Ok(token_ok("t", 2_592_000)), Ok(api_error(282_000))]);
    let s = session(config(api_key()).with_retry(RetryPolicy::disabled()));
    assert!(matches!(h.run(dehaze(&s, &h)), Err(Error::Api { code, .. }) if code.get() == 282_000));
    assert_eq!(h.log(), [Ev::Token, Ev::Op]);
}

#[test]
fn quota_and_caller_errors_are_not_retried() {
    for code in [17, 19, 6, 100, 216_201, 216_202, 13, 424_242] {
        let h = Harness::new([Ok(token_ok("t", 2_592_000)), Ok(api_error(code))]);
        let s = session(config(api_key()));
        match h.run(dehaze(&s, &h)) {
            Err(Error::Api { code: got, .. }) => assert_eq!(got.get(), code),
            other => panic!("{code}: {other:?}"),
        }
        assert_eq!(h.log(), [Ev::Token, Ev::Op], "code {code}");
    }
}

#[test]
fn deadline_inside_a_backoff_times_out_without_sleeping() {
    let h = Harness::new([Ok(token_ok("t", 2_592_000)), Ok(api_error(282_000))]);
    let mut c = config(api_key()).with_timeouts(Timeouts::default().with_total(MS(1000)));
    c.retry = c.retry.clone().with_initial_backoff(MS(2000));
    let s = session(c);
    match h.run(dehaze(&s, &h)) {
        Err(Error::Timeout { attempts, last, .. }) => {
            assert_eq!(attempts, 2);
            assert!(
                matches!(last.as_deref(), Some(Error::Api { code, .. }) if code.get() == 282_000)
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(h.log(), [Ev::Token, Ev::Op]);
}

#[test]
fn deadline_passing_during_backoffs_and_slow_replies_times_out() {
    // 400 ms backoff, then a reply that takes 700 ms: the deadline (1 s) passes while
    // the second attempt is in flight; the retry's backoff is never slept.
    let h = Harness::with_latency([
        (Duration::ZERO, Ok(token_ok("t", 2_592_000))),
        (Duration::ZERO, Ok(api_error(282_000))),
        (MS(700), Ok(api_error(2))),
    ]);
    let mut c = config(api_key()).with_timeouts(Timeouts::default().with_total(MS(1000)));
    c.retry = c.retry.clone().with_initial_backoff(MS(400));
    let s = session(c);
    let started = h.now();
    match h.run(dehaze(&s, &h)) {
        Err(Error::Timeout {
            attempts,
            last,
            elapsed,
        }) => {
            assert_eq!(attempts, 3);
            assert_eq!(elapsed, MS(1100));
            assert!(matches!(last.as_deref(), Some(Error::Api { code, .. }) if code.get() == 2));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(h.log(), token_then_ops(&[MS(400)]));
    assert_eq!(h.now() - started, MS(1100));
    // Each attempt's timeout is capped by what is left of the deadline.
    let requests = h.requests.borrow();
    let timeout = |i: usize| requests[i].extensions().get::<AttemptTimeout>().copied();
    assert_eq!(timeout(1), Some(AttemptTimeout(MS(1000))));
    assert_eq!(timeout(2), Some(AttemptTimeout(MS(600))));
}

#[test]
fn retry_after_is_honoured_when_longer_than_the_backoff() {
    let h = Harness::new([
        Ok(token_ok("t", 2_592_000)),
        Ok(response(
            200,
            r#"{"error_code":18,"error_msg":"Open api qps request limit reached"}"#,
            &[("retry-after", "3")],
        )),
        Ok(response(
            429,
            "<html>Too Many Requests</html>",
            &[("Retry-After", " 2 ")],
        )),
        // Shorter than the backoff: the backoff wins.
        Ok(response(503, "", &[("Retry-After", "0")])),
        // Not a number of seconds (an HTTP date): ignored.
        Ok(response(
            503,
            "",
            &[("Retry-After", "Wed, 21 Oct 2015 07:28:00 GMT")],
        )),
        // Absurdly long: ignored.
        Ok(response(503, "", &[("Retry-After", "86400")])),
        Ok(ok_image()),
    ]);
    let s = session(config(api_key()));
    assert_ok(&h.run(dehaze(&s, &h)));
    assert_eq!(
        h.log(),
        token_then_ops(&[
            Duration::from_secs(3),
            // 429 counts as throttled: 500 ms × 2 (second retry) < 2 s.
            Duration::from_secs(2),
            MS(400),
            MS(800),
            MS(1600),
        ])
    );
}

#[test]
fn invalid_client_fails_after_exactly_one_token_request() {
    let h = Harness::new([Ok(response(
        401,
        r#"{"error":"invalid_client","error_description":"unknown client id"}"#,
        &[],
    ))]);
    let s = session(config(api_key()));
    match h.run(dehaze(&s, &h)) {
        Err(Error::Auth(AuthError::InvalidClient { error, description })) => {
            assert_eq!(error, "invalid_client");
            assert_eq!(description, "unknown client id");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(h.log(), [Ev::Token]);
    // The next call of the batch is refused without asking again.
    let h2 = Harness::new([]);
    assert!(matches!(
        h2.run(dehaze(&s, &h2)),
        Err(Error::Auth(AuthError::InvalidClient { .. }))
    ));
    assert_eq!(h2.log(), []);
}

#[test]
fn token_is_refreshed_ahead_of_expiry() {
    // 1000 s lifetime: refreshed 100 s (a tenth, at most 5 min) before it expires.
    let h = Harness::new([
        Ok(token_ok("t1", 1000)),
        Ok(ok_image()),
        Ok(ok_image()),
        Ok(token_ok("t2", 1000)),
        Ok(ok_image()),
    ]);
    let s = session(config(api_key()));
    assert_ok(&h.run(dehaze(&s, &h)));
    h.advance(Duration::from_secs(899));
    assert_ok(&h.run(dehaze(&s, &h)));
    h.advance(Duration::from_secs(2));
    assert_ok(&h.run(dehaze(&s, &h)));
    assert_eq!(h.log(), [Ev::Token, Ev::Op, Ev::Op, Ev::Token, Ev::Op]);
    assert_eq!(h.token_of(2).as_deref(), Some("t1"));
    assert_eq!(h.token_of(4).as_deref(), Some("t2"));
}

/// A call's state in the hand-run scheduler below.
#[allow(clippy::large_enum_variant)]
enum Slot {
    Idle(Call),
    InFlight(Call, HttpRequest),
    Sleeping(Call, Instant),
    Done(Result<ImageReply, Error>),
}

#[test]
fn single_flight_many_calls_one_token_request() {
    const CALLS: usize = 8;
    let s = session(config(api_key()));
    let t0 = Instant::now();
    let image = png_header(300, 300);
    let mut slots: Vec<Option<Slot>> = (0..CALLS)
        .map(|_| Some(Slot::Idle(s.call(Operation::Dehaze, &image, t0).unwrap())))
        .collect();
    let (mut token_requests, mut op_requests) = (0, 0);
    let mut now = t0;
    for round in 0..100 {
        // Every idle call takes one step before any reply arrives.
        let mut sends_this_round = Vec::new();
        for slot in &mut slots {
            *slot = Some(match slot.take().unwrap() {
                Slot::Sleeping(call, until) if now < until => Slot::Sleeping(call, until),
                Slot::Idle(mut call) | Slot::Sleeping(mut call, _) => match call.next(now) {
                    Step::Send(request) => {
                        sends_this_round.push(request.uri().path() == TOKEN_PATH);
                        Slot::InFlight(call, request)
                    }
                    Step::Sleep(d) => Slot::Sleeping(call, now + d),
                    Step::Reserve(turn) => Slot::Sleeping(call, now + turn.reserve()),
                    Step::Done(result) => Slot::Done(result),
                },
                other => other,
            });
        }
        if round == 0 {
            // One call fetches; the others wait for it.
            assert_eq!(sends_this_round, [true]);
            let waiting = slots
                .iter()
                .filter(|s| matches!(s, Some(Slot::Sleeping(..))))
                .count();
            assert_eq!(waiting, CALLS - 1);
        }
        // Then the replies arrive.
        for slot in &mut slots {
            *slot = Some(match slot.take().unwrap() {
                Slot::InFlight(mut call, request) => {
                    let reply = if request.uri().path() == TOKEN_PATH {
                        token_requests += 1;
                        token_ok("shared", 2_592_000)
                    } else {
                        op_requests += 1;
                        ok_image()
                    };
                    call.handle_response(now, reply);
                    Slot::Idle(call)
                }
                other => other,
            });
        }
        if slots.iter().all(|s| matches!(s, Some(Slot::Done(_)))) {
            break;
        }
        now += MS(10);
    }
    assert_eq!(token_requests, 1);
    assert_eq!(op_requests, CALLS);
    for slot in &slots {
        match slot {
            Some(Slot::Done(result)) => assert_ok(result),
            _ => panic!("a call did not finish"),
        }
    }
}

#[test]
fn a_call_dropped_mid_fetch_releases_the_lease() {
    let s = session(config(api_key()));
    let t0 = Instant::now();
    let image = png_header(300, 300);
    let mut a = s.call(Operation::Dehaze, &image, t0).unwrap();
    let mut b = s.call(Operation::Dehaze, &image, t0).unwrap();
    assert!(matches!(a.next(t0), Step::Send(r) if r.uri().path() == TOKEN_PATH));
    assert!(matches!(b.next(t0), Step::Sleep(_)));
    // While `a` holds the lease, `b` keeps waiting.
    assert!(matches!(b.next(t0 + MS(10)), Step::Sleep(_)));
    drop(a);
    // Now `b` fetches itself instead of waiting for a fetch nobody will finish.
    assert!(matches!(b.next(t0 + MS(20)), Step::Send(r) if r.uri().path() == TOKEN_PATH));
    b.handle_response(t0 + MS(20), token_ok("t", 2_592_000));
    assert!(
        matches!(b.next(t0 + MS(20)), Step::Send(r) if r.uri().path() == Operation::Dehaze.path())
    );
}

#[test]
fn transport_failures_are_retried_by_kind() {
    let h = Harness::new([
        Err(transport_error(TransportErrorKind::Connect)),
        Ok(token_ok("t", 2_592_000)),
        Err(transport_error(TransportErrorKind::Connect)),
        Err(transport_error(TransportErrorKind::Timeout)),
        Err(transport_error(TransportErrorKind::Io)),
        Ok(ok_image()),
    ]);
    let s = session(config(api_key()));
    assert_ok(&h.run(dehaze(&s, &h)));
    assert_eq!(
        h.log(),
        [
            [Ev::Token, Ev::Sleep(MS(100))].as_slice(),
            token_then_ops(&[MS(200), MS(400), MS(800)]).as_slice(),
        ]
        .concat()
    );

    for kind in [TransportErrorKind::Tls, TransportErrorKind::BodyTooLarge] {
        let h = Harness::new([Ok(token_ok("t", 2_592_000)), Err(transport_error(kind))]);
        let s = session(config(api_key()));
        match h.run(dehaze(&s, &h)) {
            Err(Error::Transport(e)) => assert_eq!(e.kind(), kind),
            other => panic!("{kind:?}: {other:?}"),
        }
        assert_eq!(h.log(), [Ev::Token, Ev::Op]);
    }
}

#[test]
fn html_error_pages_are_retried() {
    let h = Harness::new([
        Ok(token_ok("t", 2_592_000)),
        Ok(response(
            502,
            "<html><head><title>502 Bad Gateway</title></head></html>",
            &[("content-type", "text/html")],
        )),
        // A body cut short with HTTP 200 is retried too.
        Ok(response(200, r#"{"log_id":1,"image":"aGVs"#, &[])),
        Ok(ok_image()),
    ]);
    let s = session(config(api_key()));
    assert_ok(&h.run(dehaze(&s, &h)));
    assert_eq!(h.log(), token_then_ops(&[MS(100), MS(200)]));

    // A 404 page is not.
    let h = Harness::new([
        Ok(token_ok("t", 2_592_000)),
        Ok(response(404, "<html/>", &[])),
    ]);
    let s = session(config(api_key()));
    match h.run(dehaze(&s, &h)) {
        Err(Error::Decode(d)) => {
            assert_eq!((d.kind(), d.status()), (DecodeErrorKind::HttpStatus, 404));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn fixed_token_rejected_is_an_auth_error_without_a_token_request() {
    let h = Harness::new([Ok(api_error(110))]);
    let s = session(config(Credentials::access_token("24.fixed+token")));
    match h.run(dehaze(&s, &h)) {
        Err(Error::Auth(AuthError::TokenRejected { code, .. })) => {
            assert_eq!(code, ErrorCode::ACCESS_TOKEN_INVALID);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(h.log(), [Ev::Op]);
    assert_eq!(h.token_of(0).as_deref(), Some("24.fixed%2Btoken"));
}

fn fixed_wall_clock() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000)
}

#[test]
fn bce_auth_v1_requests_are_signed_and_carry_no_token() {
    let h = Harness::new([Ok(ok_image())]);
    let c = config(Credentials::bce_auth_v1("AKIDexample", "SKexample"))
        .with_endpoint("http://127.0.0.1:8080".parse().unwrap())
        .with_wall_clock(fixed_wall_clock);
    let s = session(c);
    assert_ok(&h.run(dehaze(&s, &h)));
    assert_eq!(h.log(), [Ev::Op]);
    let requests = h.requests.borrow();
    let r = &requests[0];
    assert_eq!(r.uri().query(), None);
    let header = |name: &str| r.headers().get(name).and_then(|v| v.to_str().ok());
    assert_eq!(header("x-bce-date"), Some("2023-11-14T22:13:20Z"));
    // The SDK signs and sends the host name without the port.
    assert_eq!(header("host"), Some("127.0.0.1"));
    let auth = header("authorization").unwrap();
    assert!(
        auth.starts_with("bce-auth-v1/AKIDexample/2023-11-14T22:13:20Z/1800/host;x-bce-date/"),
        "{auth}"
    );
}

#[test]
fn jitter_is_reproducible_per_seed_and_bounded_by_the_backoff() {
    let sleeps = |seed: u64| {
        let h = Harness::new([
            Ok(api_error(282_000)),
            Ok(api_error(282_000)),
            Ok(api_error(282_000)),
            Ok(ok_image()),
        ]);
        let mut c = config(Credentials::access_token("t")).with_jitter_seed(seed);
        c.retry = c.retry.clone().with_jitter(true);
        let s = session(c);
        assert_ok(&h.run(dehaze(&s, &h)));
        h.log()
            .into_iter()
            .filter_map(|e| match e {
                Ev::Sleep(d) => Some(d),
                _ => None,
            })
            .collect::<Vec<_>>()
    };
    let a = sleeps(7);
    assert_eq!(a.len(), 3);
    assert_eq!(a, sleeps(7), "same seed, same delays");
    assert_ne!(a, sleeps(8), "another seed, other delays");
    for (d, cap) in a.iter().zip([MS(100), MS(200), MS(400)]) {
        assert!(*d <= cap, "{d:?} over {cap:?}");
    }
    assert!(
        a.iter().zip([100, 200, 400]).any(|(d, cap)| *d < MS(cap)),
        "{a:?}: no jitter"
    );
}

#[test]
fn a_qps_ceiling_paces_calls_with_sleeps() {
    let h = Harness::new([Ok(ok_image()), Ok(ok_image()), Ok(ok_image())]);
    let c = config(Credentials::access_token("t"))
        .with_rate_limit(Some(baidu_imageprocess_protocol::RateLimit::qps(2.0)));
    let s = session(c);
    let calls: Vec<Call> = (0..3).map(|_| dehaze(&s, &h)).collect();
    for call in calls {
        assert_ok(&h.run(call));
    }
    assert_eq!(h.log(), ops_after_backoffs(&[MS(500), MS(500)]));
}

#[test]
fn a_qps_error_slows_the_next_calls_down() {
    let h = Harness::new([Ok(api_error(18)), Ok(ok_image()), Ok(ok_image())]);
    let c = config(Credentials::access_token("t"))
        .with_rate_limit(Some(baidu_imageprocess_protocol::RateLimit::default()));
    let s = session(c);
    assert_ok(&h.run(dehaze(&s, &h)));
    assert_ok(&h.run(dehaze(&s, &h)));
    let log = h.log();
    assert_eq!(log[..3], [Ev::Op, Ev::Sleep(MS(500)), Ev::Op]);
    // Unpaced before the error; paced (a sleep before sending) after it.
    assert!(
        matches!(log[3], Ev::Sleep(d) if d > Duration::ZERO),
        "{log:?}"
    );
    assert_eq!(log[4..], [Ev::Op]);
    assert!(s.rate_limiter().unwrap().current_qps().unwrap() <= 1.0);
}
