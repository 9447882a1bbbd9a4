//! The Redis budget: one script call per request, local pacing while Redis is away.

use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use baidu_imageprocess_protocol::{BoxFuture, Budget, Claim};
use redis::aio::MultiplexedConnection;

use crate::batch::{Batches, Leading, Message, Role, Turns};
use crate::error::{BudgetError, scrubbed};
use crate::fallback::{Fallback, Reservation};
use crate::scripts::{BudgetKeys, RESERVE_SCRIPT};
use crate::url::BudgetUrl;

/// Lowest shared rate after repeated QPS-limit errors (as the local limiter's floor).
const FLOOR_QPS: f64 = 0.2;
/// How long Redis may take to accept a connection or answer before it counts as lost.
const DEFAULT_TIMEOUT: Duration = Duration::from_millis(500);
/// While Redis is lost, how often a reservation tries it again.
const REJOIN_EVERY: Duration = Duration::from_secs(1);

/// A QPS budget shared through Redis by every process using the same Redis and API key.
///
/// Attach it to a client (`baidu-imageprocess`'s `redis` feature: the builder's
/// `.budget(..)`). Each request then costs one atomic script call (GCRA by reservation:
/// Redis says when the request may go, the caller sleeps until then). An error 18 seen by
/// any process halves the shared rate for all, and successes raise it back to the
/// ceiling. If Redis goes away mid-run, each process paces itself locally at its share
/// (the rate divided by the processes last seen), warns once, and rejoins when Redis
/// answers again: no call fails because of Redis.
///
/// Cheap to clone; clones share connections and state.
#[derive(Clone)]
pub struct RedisBudget {
    inner: Arc<Inner>,
}

struct Inner {
    url: BudgetUrl,
    client: redis::Client,
    settings: Settings,
    /// This process in the heartbeat set (random, so restarts count as new members).
    member: String,
    blocking: Mutex<Option<redis::Connection>>,
    multiplexed: tokio::sync::Mutex<Option<MultiplexedConnection>>,
    health: Health,
    fallback: Fallback,
    batches: Arc<Batches>,
}

#[derive(Debug, Clone)]
struct Settings {
    prefix: String,
    burst: u32,
    timeout: Duration,
    heartbeat: Duration,
    lowered_rate_ttl: Duration,
    stderr_warning: bool,
}

impl fmt::Debug for RedisBudget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisBudget")
            .field("url", &self.inner.url)
            .field("burst", &self.inner.settings.burst)
            .field("connected", &self.is_connected())
            .finish_non_exhaustive()
    }
}

/// Configures a [`RedisBudget`]: `RedisBudget::builder(url)?.burst(2).connect()?`.
#[derive(Debug)]
#[must_use]
pub struct RedisBudgetBuilder {
    url: BudgetUrl,
    settings: Settings,
}

impl RedisBudgetBuilder {
    /// Requests allowed at once above the steady rate (GCRA's burst). Default 1: requests
    /// are spaced evenly, as the local limiter spaces them.
    pub fn burst(mut self, burst: u32) -> Self {
        self.settings.burst = burst.max(1);
        self
    }

    /// Prefix of every key (default `bdip`), to keep several deployments apart in one
    /// Redis database.
    pub fn key_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.settings.prefix = prefix.into();
        self
    }

    /// Most time Redis may take to connect or answer before it counts as lost (default
    /// 500 ms).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.settings.timeout = timeout.max(Duration::from_millis(1));
        self
    }

    /// A process counts towards the fleet's size for this long after its last request
    /// (default 10 s); the share each process paces at while Redis is lost follows it.
    pub fn heartbeat(mut self, ttl: Duration) -> Self {
        self.settings.heartbeat = ttl.max(Duration::from_millis(100));
        self
    }

    /// Also print the one warning about a lost Redis on stderr (command-line tools);
    /// otherwise it is a `tracing` warning only.
    pub fn stderr_warning(mut self, on: bool) -> Self {
        self.settings.stderr_warning = on;
        self
    }

    /// Builds the budget and checks that Redis answers (blocking, bounded by the
    /// timeout): an unreachable Redis is an error here, before anything is sent.
    pub fn connect(self) -> Result<RedisBudget, BudgetError> {
        let budget = self.connect_lazy()?;
        budget.check()?;
        Ok(budget)
    }

    /// Builds the budget without contacting Redis: the first request connects (and
    /// paces locally if that fails).
    pub fn connect_lazy(self) -> Result<RedisBudget, BudgetError> {
        let client =
            redis::Client::open(self.url.expose()).map_err(|e| BudgetError::InvalidUrl {
                url: self.url.to_string(),
                reason: scrubbed(&e, self.url.expose()),
            })?;
        let member = format!("{}-{:016x}", std::process::id(), fastrand::u64(..));
        Ok(RedisBudget {
            inner: Arc::new(Inner {
                url: self.url,
                client,
                settings: self.settings,
                member,
                blocking: Mutex::new(None),
                multiplexed: tokio::sync::Mutex::new(None),
                health: Health::default(),
                fallback: Fallback::default(),
                batches: Arc::default(),
            }),
        })
    }
}

impl RedisBudget {
    /// Starts configuring a budget on `url` (`redis://[:PASSWORD@]HOST:PORT/DB`).
    pub fn builder(url: &str) -> Result<RedisBudgetBuilder, BudgetError> {
        Ok(RedisBudgetBuilder {
            url: BudgetUrl::parse(url)?,
            settings: Settings {
                prefix: "bdip".into(),
                burst: 1,
                timeout: DEFAULT_TIMEOUT,
                heartbeat: Duration::from_secs(10),
                lowered_rate_ttl: Duration::from_secs(60),
                stderr_warning: false,
            },
        })
    }

    /// A budget with default settings on `url`, checked to answer.
    pub fn connect(url: &str) -> Result<Self, BudgetError> {
        Self::builder(url)?.connect()
    }

    /// Where the budget lives (password masked when shown).
    pub fn url(&self) -> &BudgetUrl {
        &self.inner.url
    }

    /// Whether the last exchange with Redis succeeded (false while pacing locally).
    pub fn is_connected(&self) -> bool {
        !self.inner.health.lost.load(Ordering::Relaxed)
    }

    /// Pings Redis (blocking).
    pub fn check(&self) -> Result<(), BudgetError> {
        let unreachable = |e: &redis::RedisError| BudgetError::Unreachable {
            url: self.inner.url.to_string(),
            reason: scrubbed(e, self.inner.url.expose()),
        };
        self.with_blocking(|conn| redis::cmd("PING").query::<String>(conn))
            .map(drop)
            .map_err(|e| unreachable(&e))
    }

    pub(crate) fn prefix(&self) -> &str {
        &self.inner.settings.prefix
    }

    /// Runs `f` on the blocking connection, connecting first if needed; a failure drops
    /// the connection so the next use reconnects.
    pub(crate) fn with_blocking<T>(
        &self,
        f: impl FnOnce(&mut redis::Connection) -> redis::RedisResult<T>,
    ) -> redis::RedisResult<T> {
        let mut guard = lock(&self.inner.blocking);
        let conn = match &mut *guard {
            Some(conn) => conn,
            slot => {
                let timeout = self.inner.settings.timeout;
                let conn = self.inner.client.get_connection_with_timeout(timeout)?;
                conn.set_read_timeout(Some(timeout))?;
                conn.set_write_timeout(Some(timeout))?;
                slot.insert(conn)
            }
        };
        let result = f(conn);
        if result.is_err() {
            *guard = None;
        }
        result
    }

    /// The multiplexed async connection (one per budget, shared by every task), made on
    /// first use and again after a failure.
    pub(crate) async fn multiplexed(&self) -> redis::RedisResult<MultiplexedConnection> {
        let mut guard = self.inner.multiplexed.lock().await;
        if let Some(conn) = &*guard {
            return Ok(conn.clone());
        }
        let timeout = self.inner.settings.timeout;
        let config = redis::AsyncConnectionConfig::new()
            .set_connection_timeout(Some(timeout))
            .set_response_timeout(Some(timeout));
        let conn = self
            .inner
            .client
            .get_multiplexed_async_connection_with_config(&config)
            .await?;
        *guard = Some(conn.clone());
        Ok(conn)
    }

    /// Forgets the async connection after a failure (the next use reconnects).
    pub(crate) async fn drop_multiplexed(&self) {
        *self.inner.multiplexed.lock().await = None;
    }

    /// Whether to try Redis now: always while connected; once a second while lost.
    pub(crate) fn should_try(&self) -> bool {
        self.inner.health.should_try()
    }

    /// Records that Redis answered.
    pub(crate) fn answered(&self) {
        if self.inner.health.lost.swap(false, Ordering::Relaxed) {
            tracing::info!(budget = %self.inner.url, "the shared budget's Redis is back; pacing with the fleet again");
            if self.inner.settings.stderr_warning {
                // The counterpart of the one warning: whoever read it learns it is over.
                eprintln!(
                    "note: rejoined the shared QPS budget (Redis at {})",
                    self.inner.url
                );
            }
        }
    }

    /// Records that Redis did not answer: warns once, then paces locally.
    pub(crate) fn failed(&self, error: &redis::RedisError) {
        if self.inner.health.lost.swap(true, Ordering::Relaxed) {
            return;
        }
        self.inner.health.schedule_retry();
        let reason = scrubbed(error, self.inner.url.expose());
        let share = self.inner.fallback.describe_share();
        tracing::warn!(budget = %self.inner.url, %reason, "lost the shared budget's Redis; pacing locally");
        if self.inner.settings.stderr_warning
            && !self.inner.health.warned.swap(true, Ordering::Relaxed)
        {
            eprintln!(
                "warning: lost the shared QPS budget (Redis at {}: {reason}); pacing locally at {share} until it returns",
                self.inner.url
            );
        }
    }

    fn keys(&self, claim: &Claim) -> BudgetKeys {
        BudgetKeys::new(self.prefix(), &claim.application, claim.operation)
    }

    /// The script call reserving `turns` consecutive turns for requests of `claim`'s
    /// group; `throttled` and `successes` are what those requests report together.
    fn invocation(
        &self,
        claim: &Claim,
        turns: usize,
        throttled: bool,
        successes: u32,
    ) -> redis::ScriptInvocation<'static> {
        let keys = self.keys(claim);
        let s = &self.inner.settings;
        let mut invocation = RESERVE_SCRIPT.prepare_invoke();
        invocation
            .key(keys.tat)
            .key(keys.rate)
            .key(keys.members)
            .key(keys.counts)
            .arg(claim.max_qps.unwrap_or(0.0))
            .arg(s.burst)
            .arg(u8::from(throttled))
            .arg(successes)
            .arg(u8::from(claim.adaptive))
            .arg(&self.inner.member)
            .arg(millis(s.heartbeat))
            .arg(millis(s.lowered_rate_ttl))
            .arg(FLOOR_QPS)
            .arg(turns.max(1));
        invocation
    }

    /// Redis answered: remember the fleet, and the turns it gave.
    fn joined(&self, claim: &Claim, reply: Reply) -> Turns {
        let (start_us, members, milli_qps, interval_ns) = reply;
        self.answered();
        let rate = (milli_qps > 0).then(|| milli_qps as f64 / 1000.0);
        self.inner
            .fallback
            .joined(claim.operation, rate, members.max(1) as u64);
        Turns {
            start_us,
            interval_ns,
            burst: self.inner.settings.burst,
        }
    }

    fn local(&self, claim: &Claim) -> Duration {
        self.inner
            .fallback
            .reserve(&Reservation::of(claim), Instant::now())
    }

    /// Blocking reservation: one script call for this request.
    fn reserve_blocking(&self, claim: &Claim) -> Duration {
        if unpaced(claim) {
            return Duration::ZERO;
        }
        if self.should_try() {
            let invocation = self.invocation(claim, 1, claim.throttled, claim.successes);
            match self.with_blocking(|conn| invocation.invoke::<Reply>(conn)) {
                Ok(reply) => return self.joined(claim, reply).wait(0),
                Err(error) => self.failed(&error),
            }
        }
        self.local(claim)
    }

    /// Async reservation. While Redis answers, requests waiting at the same time share
    /// one script call (see `batch`): one round trip serves them all. While it is lost,
    /// each request paces locally, and one a second tries Redis again alone.
    async fn reserve_multiplexed(&self, claim: &Claim) -> Duration {
        if unpaced(claim) {
            return Duration::ZERO;
        }
        // A request whose leader was dropped mid-call joins again; bounded, then local.
        for _ in 0..4 {
            if !self.is_connected() {
                break;
            }
            let leading = match self.inner.batches.join(claim) {
                Role::Lead(leading) => leading,
                Role::Wait(turn) => match turn.await {
                    Ok(Message::Turn(wait)) => return wait,
                    Ok(Message::Lead(leading)) => leading,
                    Err(_) => continue,
                },
            };
            return self.lead(claim, leading).await;
        }
        self.reserve_alone(claim).await
    }

    /// One script call for `claim` and every request queued behind the previous call.
    async fn lead(&self, claim: &Claim, leading: Leading) -> Duration {
        let batch = leading.take();
        let throttled = claim.throttled || batch.iter().any(|w| w.claim.throttled);
        let successes = batch.iter().fold(claim.successes, |sum, w| {
            sum.saturating_add(w.claim.successes)
        });
        // Redis was lost while these requests queued: no call, everyone paces locally.
        let result = if self.is_connected() {
            let invocation = self.invocation(claim, 1 + batch.len(), throttled, successes);
            Some(self.invoke_async(&invocation).await)
        } else {
            None
        };
        // The next call may start while these turns are handed out.
        drop(leading);
        if let Some(Ok(reply)) = result {
            let turns = self.joined(claim, reply);
            for (j, waiter) in batch.into_iter().enumerate() {
                // A request dropped meanwhile leaves its turn unused: one interval.
                let _ = waiter.reply.send(Message::Turn(turns.wait(j + 1)));
            }
            return turns.wait(0);
        }
        if let Some(Err(error)) = result {
            self.failed(&error);
        }
        for waiter in batch {
            let wait = self.local(&waiter.claim);
            let _ = waiter.reply.send(Message::Turn(wait));
        }
        self.local(claim)
    }

    /// Runs `invocation` on the multiplexed connection (forgotten after a failure, so
    /// the next use reconnects).
    async fn invoke_async(
        &self,
        invocation: &redis::ScriptInvocation<'_>,
    ) -> redis::RedisResult<Reply> {
        let result = match self.multiplexed().await {
            Ok(mut conn) => invocation.invoke_async::<Reply>(&mut conn).await,
            Err(error) => Err(error),
        };
        if result.is_err() {
            self.drop_multiplexed().await;
        }
        result
    }

    /// One script call for `claim` alone (while Redis is lost: one a second).
    async fn reserve_alone(&self, claim: &Claim) -> Duration {
        if self.should_try() {
            let invocation = self.invocation(claim, 1, claim.throttled, claim.successes);
            match self.invoke_async(&invocation).await {
                Ok(reply) => return self.joined(claim, reply).wait(0),
                Err(error) => self.failed(&error),
            }
        }
        self.local(claim)
    }
}

/// The reserve script's reply: µs to the first turn's start, members, milli-QPS (0:
/// unpaced), interval in ns.
type Reply = (i64, i64, i64, i64);

impl RedisBudget {
    /// Takes one request from the shared bucket `scope` refilled at `rate` per second
    /// (for servers that refuse rather than wait, such as the emulator's `--qps` shared by
    /// several instances). Each call is also this instance's heartbeat in `scope`.
    /// `None` while Redis is lost (warned once): the caller admits locally, at
    /// [`share`](Self::share) of the rate.
    pub async fn admit(&self, scope: &str, rate: f64) -> Option<bool> {
        if !self.should_try() {
            return None;
        }
        let key = format!("{}:{{admit}}:{scope}", self.prefix());
        let members = format!("{}:{{admit}}:{scope}:members", self.prefix());
        let result = match self.multiplexed().await {
            Ok(mut conn) => {
                crate::scripts::ADMIT_SCRIPT
                    .key(key)
                    .key(members)
                    .arg(rate)
                    .arg(&self.inner.member)
                    .arg(millis(self.inner.settings.heartbeat))
                    .invoke_async::<(i64, i64)>(&mut conn)
                    .await
            }
            Err(error) => Err(error),
        };
        match result {
            Ok((admitted, members)) => {
                self.answered();
                self.inner
                    .fallback
                    .seen_in(scope, rate, members.max(1) as u64);
                Some(admitted == 1)
            }
            Err(error) => {
                self.drop_multiplexed().await;
                self.failed(&error);
                None
            }
        }
    }

    /// This instance's share of `rate` in `scope`: `rate` divided by the instances last
    /// seen admitting there (all of `rate` if none was seen). What to admit locally at
    /// while [`admit`](Self::admit) answers `None`.
    pub fn share(&self, scope: &str, rate: f64) -> f64 {
        rate / self.inner.fallback.members_in(scope) as f64
    }
}

impl Budget for RedisBudget {
    fn reserve(&self, claim: &Claim) -> Duration {
        self.reserve_blocking(claim)
    }

    fn reserve_async<'a>(&'a self, claim: &'a Claim) -> BoxFuture<'a, Duration> {
        Box::pin(self.reserve_multiplexed(claim))
    }
}

/// A claim with no ceiling that never adapts: nothing to pace, nothing to ask.
fn unpaced(claim: &Claim) -> bool {
    claim.max_qps.is_none() && !claim.adaptive
}

fn millis(d: Duration) -> u64 {
    d.as_millis().try_into().unwrap_or(u64::MAX)
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Whether Redis is reachable, and when to try it again if not.
#[derive(Debug)]
struct Health {
    lost: AtomicBool,
    warned: AtomicBool,
    /// While lost: when the next reservation may try Redis again (ms since `epoch`).
    retry_at_ms: AtomicU64,
    epoch: Instant,
}

impl Default for Health {
    fn default() -> Self {
        Self {
            lost: AtomicBool::new(false),
            warned: AtomicBool::new(false),
            retry_at_ms: AtomicU64::new(0),
            epoch: Instant::now(),
        }
    }
}

impl Health {
    fn now_ms(&self) -> u64 {
        millis(self.epoch.elapsed())
    }

    fn schedule_retry(&self) {
        self.retry_at_ms
            .store(self.now_ms() + millis(REJOIN_EVERY), Ordering::Relaxed);
    }

    /// Connected: yes. Lost: one caller a second gets to try (the others pace locally
    /// meanwhile, so a dead Redis never stalls a batch).
    fn should_try(&self) -> bool {
        if !self.lost.load(Ordering::Relaxed) {
            return true;
        }
        let now = self.now_ms();
        let due = self.retry_at_ms.load(Ordering::Relaxed);
        now >= due
            && self
                .retry_at_ms
                .compare_exchange(
                    due,
                    now + millis(REJOIN_EVERY),
                    Ordering::Relaxed,
                    Ordering::Relaxed,
                )
                .is_ok()
    }
}
