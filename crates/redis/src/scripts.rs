//! The Lua scripts Redis runs atomically, and the keys they touch.
//!
//! Every key of one application carries the application in a hash tag (`{…}`), so a
//! Redis Cluster keeps them on one slot and the scripts stay single-slot.

use std::sync::LazyLock;

use baidu_imageprocess_protocol::Operation;

/// GCRA by reservation (as go-redis/redis_rate and redis-cell, but reserving instead of
/// refusing): one call advances the theoretical arrival time (TAT) and says how long the
/// caller waits for its turn. The clock is Redis's `TIME`, so machines need not agree on
/// theirs.
///
/// It also keeps the fleet's adaptive rate (halved on a QPS-limit error, at most once a
/// second, creeping back by 0.05 QPS per success, stored with an expiry) and the
/// heartbeats that count the processes sharing the budget.
///
/// One call may reserve `n` consecutive turns for `n` requests of one process waiting at
/// once (the async driver batches them): the TAT moves `n` intervals, exactly as `n`
/// calls back to back would move it, so the fleet's rate is the same; only the round
/// trips are fewer.
///
/// KEYS: 1 TAT, 2 lowered rate (hash: rate, cut_at), 3 members (sorted set by last seen),
///       4 send counts per second (hash; measured only while unpaced).
/// ARGV: 1 ceiling QPS (0: none), 2 burst, 3 throttled (0/1), 4 successes, 5 adaptive
///       (0/1), 6 member id, 7 heartbeat TTL ms, 8 lowered-rate TTL ms, 9 floor QPS,
///       10 turns `n` (≥ 1).
/// Returns: { µs from now to the first turn's start, members seen, rate in milli-QPS
/// (0: unpaced), interval in ns }. Turn `j` (from 0) goes at
/// `max(0, start + j × interval − (burst − 1) × interval)`.
const RESERVE: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local ceiling = tonumber(ARGV[1])
local burst = math.max(tonumber(ARGV[2]), 1)
local throttled = ARGV[3] == '1'
local successes = tonumber(ARGV[4])
local adaptive = ARGV[5] == '1'
local heartbeat_ms = tonumber(ARGV[7])
local lowered_ms = tonumber(ARGV[8])
local floor = tonumber(ARGV[9])
local n = math.max(tonumber(ARGV[10]) or 1, 1)

redis.call('ZADD', KEYS[3], now, ARGV[6])
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now - heartbeat_ms * 1000)
redis.call('PEXPIRE', KEYS[3], heartbeat_ms)
local members = redis.call('ZCARD', KEYS[3])

local second = math.floor(now / 1000000)
local lowered = redis.call('HMGET', KEYS[2], 'rate', 'cut_at')
local rate = tonumber(lowered[1])
local cut_at = tonumber(lowered[2]) or 0
if adaptive then
  if throttled and now - cut_at >= 1000000 then
    local base = rate
    if not base and ceiling > 0 then base = ceiling end
    if not base then
      local counts = redis.call('HMGET', KEYS[4], tostring(second), tostring(second - 1))
      base = math.max(tonumber(counts[1]) or 0, tonumber(counts[2]) or 0, 1)
    end
    rate = math.max(base / 2, floor)
    redis.call('HSET', KEYS[2], 'rate', tostring(rate), 'cut_at', tostring(now))
    redis.call('PEXPIRE', KEYS[2], lowered_ms)
  elseif rate and successes > 0 then
    rate = rate + 0.05 * successes
    if ceiling > 0 and rate >= ceiling then
      redis.call('DEL', KEYS[2])
      rate = nil
    else
      redis.call('HSET', KEYS[2], 'rate', tostring(rate))
      redis.call('PEXPIRE', KEYS[2], lowered_ms)
    end
  end
end
if not rate and ceiling > 0 then rate = ceiling end
if not rate then
  redis.call('HINCRBY', KEYS[4], tostring(second), n)
  redis.call('PEXPIRE', KEYS[4], 3000)
  return {0, members, 0, 0}
end

local interval = 1000000 / rate
local tat = tonumber(redis.call('GET', KEYS[1])) or now
local start = math.max(tat, now)
local new_tat = start + n * interval
redis.call('SET', KEYS[1], string.format('%.0f', new_tat), 'PX', math.ceil((new_tat - now) / 1000) + 1000)
return {math.floor(start - now), members, math.floor(rate * 1000), math.floor(interval * 1000)}
";

/// A shared token bucket that refuses instead of reserving (the emulator's `--qps` shared
/// by several instances, as Baidu's service refuses with error 18): capacity
/// `max(rate, 1)`, refilled at `rate` per second on Redis's clock. It also keeps the
/// heartbeats of the instances sharing the bucket, so each knows its share if Redis goes.
/// KEYS: 1 the bucket (hash: tokens, at), 2 members (sorted set by last seen).
/// ARGV: 1 rate, 2 member id, 3 heartbeat TTL ms.
/// Returns: { 1 if admitted else 0, members seen }.
const ADMIT: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local rate = tonumber(ARGV[1])
local heartbeat_ms = tonumber(ARGV[3])
redis.call('ZADD', KEYS[2], now, ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - heartbeat_ms * 1000)
redis.call('PEXPIRE', KEYS[2], heartbeat_ms)
local members = redis.call('ZCARD', KEYS[2])
local cap = math.max(rate, 1)
local b = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(b[1]) or cap
local at = tonumber(b[2]) or now
tokens = math.min(cap, tokens + math.max(now - at, 0) / 1000000 * rate)
local ok = 0
if tokens >= 1 then
  tokens = tokens - 1
  ok = 1
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', string.format('%.0f', now))
redis.call('PEXPIRE', KEYS[1], math.ceil(cap / rate * 1000) + 1000)
return {ok, members}
";

/// Deletes a key only if it still holds the given value (a lock's owner releasing it, or
/// the first process to see a token rejected dropping it: the rest find the new one).
/// KEYS: 1 the key. ARGV: 1 the value. Returns 1 if deleted.
const DELETE_IF: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
";

/// Deletes the shared token if it is the rejected one. The token is stored as JSON, so
/// the comparison is on its `access_token` field.
/// KEYS: 1 the token key. ARGV: 1 the rejected token. Returns 1 if deleted.
const DROP_TOKEN: &str = r"
local stored = redis.call('GET', KEYS[1])
if stored and cjson.decode(stored)['access_token'] == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
";

pub(crate) static RESERVE_SCRIPT: LazyLock<redis::Script> =
    LazyLock::new(|| redis::Script::new(RESERVE));
pub(crate) static ADMIT_SCRIPT: LazyLock<redis::Script> =
    LazyLock::new(|| redis::Script::new(ADMIT));
pub(crate) static DELETE_IF_SCRIPT: LazyLock<redis::Script> =
    LazyLock::new(|| redis::Script::new(DELETE_IF));
pub(crate) static DROP_TOKEN_SCRIPT: LazyLock<redis::Script> =
    LazyLock::new(|| redis::Script::new(DROP_TOKEN));

/// The keys of one application's budget for one operation.
pub(crate) struct BudgetKeys {
    pub(crate) tat: String,
    pub(crate) rate: String,
    pub(crate) members: String,
    pub(crate) counts: String,
}

impl BudgetKeys {
    pub(crate) fn new(prefix: &str, application: &str, op: Operation) -> Self {
        let app = app_tag(application);
        let op = op.name();
        Self {
            tat: format!("{prefix}:{{{app}}}:{op}:tat"),
            rate: format!("{prefix}:{{{app}}}:{op}:rate"),
            members: format!("{prefix}:{{{app}}}:members"),
            counts: format!("{prefix}:{{{app}}}:{op}:counts"),
        }
    }
}

/// The keys of one application's shared token at one endpoint.
pub(crate) struct TokenKeys {
    pub(crate) token: String,
    pub(crate) lock: String,
}

impl TokenKeys {
    pub(crate) fn new(prefix: &str, application: &str, endpoint: &str) -> Self {
        use sha2::Digest as _;
        let app = app_tag(application);
        let endpoint = &hex::encode(sha2::Sha256::digest(endpoint.as_bytes()))[..16];
        Self {
            token: format!("{prefix}:{{{app}}}:token:{endpoint}"),
            lock: format!("{prefix}:{{{app}}}:token:{endpoint}:lock"),
        }
    }
}

/// The application's tag in key names: a prefix of its hash is enough to tell
/// applications apart and keeps the keys short.
fn app_tag(application: &str) -> &str {
    application.get(..32).unwrap_or(application)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_share_one_hash_tag_and_hold_no_key() {
        let app = baidu_imageprocess_protocol::application_id(
            &baidu_imageprocess_protocol::Credentials::api_key("AK-visible", "SK"),
        );
        let k = BudgetKeys::new("bdip", &app, Operation::Dehaze);
        let t = TokenKeys::new("bdip", &app, "http://127.0.0.1:1");
        let tag = format!("{{{}}}", &app[..32]);
        for key in [&k.tat, &k.rate, &k.members, &k.counts, &t.token, &t.lock] {
            assert!(key.contains(&tag), "{key}");
            assert!(!key.contains("AK-visible"), "{key}");
        }
        assert_ne!(
            k.tat,
            BudgetKeys::new("bdip", &app, Operation::Colourize).tat
        );
    }
}
