//! The injected faults (`qps`, `fail-rate`, `latency-ms`, `deny`), changeable while the
//! emulator runs: the server reads them on every request, the console's
//! `/__emulator/faults` endpoint replaces them.

use std::sync::{PoisonError, RwLock};
use std::time::Duration;

use baidu_imageprocess_protocol::Operation;
use serde::{Deserialize, Serialize};

use crate::config::EmulatorConfig;

/// Longest latency that can be set at run time: longer would only hang the caller.
pub(crate) const MAX_LATENCY_MS: u64 = 60_000;
/// Highest QPS that can be set at run time (the command line's own bound is separate).
pub(crate) const MAX_QPS: f64 = 1_000_000.0;

/// The faults in force, as the endpoint shows them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct FaultSettings {
    /// Operation requests per second before error 18 (`None`: unlimited).
    pub(crate) qps: Option<f64>,
    /// Share of operation requests failed with 1, 2 or 282000.
    pub(crate) fail_rate: f64,
    /// Delay before answering each operation request.
    pub(crate) latency_ms: u64,
    /// Operations answered with error 6, by wire name.
    #[serde(serialize_with = "wire_names")]
    pub(crate) deny: Vec<Operation>,
}

fn wire_names<S: serde::Serializer>(ops: &[Operation], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(ops.iter().map(|op| op.name()))
}

/// A change to the faults: absent fields stay as they are; `qps` of `null` or `0` turns
/// the limit off.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FaultUpdate {
    #[serde(default, deserialize_with = "qps_change")]
    qps: Option<QpsChange>,
    fail_rate: Option<f64>,
    latency_ms: Option<u64>,
    deny: Option<Vec<String>>,
}

/// A new QPS limit.
#[derive(Debug, Clone, Copy)]
enum QpsChange {
    /// `null` or `0`.
    Unlimited,
    PerSecond(f64),
}

/// Keeps `"qps": null` (turn the limit off) apart from a missing `qps` (leave it).
fn qps_change<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<QpsChange>, D::Error> {
    Ok(Some(match Option::<f64>::deserialize(d)? {
        None | Some(0.0) => QpsChange::Unlimited,
        Some(q) => QpsChange::PerSecond(q),
    }))
}

/// Shared, run-time-changeable faults.
#[derive(Debug)]
pub(crate) struct LiveFaults(RwLock<FaultSettings>);

impl LiveFaults {
    /// The faults the configuration starts with.
    pub(crate) fn from_config(config: &EmulatorConfig) -> Self {
        Self(RwLock::new(FaultSettings {
            qps: config.qps.filter(|&q| q.is_finite() && q > 0.0),
            fail_rate: config.fail_rate,
            latency_ms: u64::try_from(config.latency.as_millis()).unwrap_or(u64::MAX),
            deny: config.deny.clone(),
        }))
    }

    /// A copy of the faults in force.
    pub(crate) fn snapshot(&self) -> FaultSettings {
        self.0
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The QPS limit, if any.
    pub(crate) fn qps(&self) -> Option<f64> {
        self.0.read().unwrap_or_else(PoisonError::into_inner).qps
    }

    /// The share of requests to fail on purpose.
    pub(crate) fn fail_rate(&self) -> f64 {
        self.0
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .fail_rate
    }

    /// The delay added before each operation reply.
    pub(crate) fn latency(&self) -> Duration {
        Duration::from_millis(
            self.0
                .read()
                .unwrap_or_else(PoisonError::into_inner)
                .latency_ms,
        )
    }

    /// Whether `op` is answered with error 6.
    pub(crate) fn denies(&self, op: Operation) -> bool {
        self.0
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .deny
            .contains(&op)
    }

    /// Checks `update` as a whole and applies it, or changes nothing and says why.
    pub(crate) fn apply(&self, update: FaultUpdate) -> Result<FaultSettings, String> {
        let mut next = self.snapshot();
        if let Some(qps) = update.qps {
            match qps {
                QpsChange::PerSecond(q) if !(q > 0.0 && q <= MAX_QPS) => {
                    return Err(format!(
                        "qps: a number above 0 and at most {MAX_QPS}, got {q}"
                    ));
                }
                QpsChange::PerSecond(q) => next.qps = Some(q),
                QpsChange::Unlimited => next.qps = None,
            }
        }
        if let Some(rate) = update.fail_rate {
            if !(0.0..=1.0).contains(&rate) {
                return Err(format!("fail_rate: a number from 0 to 1, got {rate}"));
            }
            next.fail_rate = rate;
        }
        if let Some(ms) = update.latency_ms {
            if ms > MAX_LATENCY_MS {
                return Err(format!("latency_ms: at most {MAX_LATENCY_MS}, got {ms}"));
            }
            next.latency_ms = ms;
        }
        if let Some(names) = update.deny {
            let mut deny = Vec::with_capacity(names.len());
            for name in names {
                let op: Operation = name.parse().map_err(|e| format!("deny: {e}"))?;
                if !deny.contains(&op) {
                    deny.push(op);
                }
            }
            next.deny = deny;
        }
        *self.0.write().unwrap_or_else(PoisonError::into_inner) = next.clone();
        Ok(next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn update(json: &str) -> FaultUpdate {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn absent_fields_stay_and_null_qps_turns_the_limit_off() {
        let config = EmulatorConfig {
            qps: Some(5.0),
            fail_rate: 0.25,
            latency: Duration::from_millis(40),
            deny: vec![Operation::Dehaze],
            ..EmulatorConfig::default()
        };
        let faults = LiveFaults::from_config(&config);
        assert_eq!(faults.qps(), Some(5.0));
        let after = faults.apply(update(r#"{"latency_ms": 7}"#)).unwrap();
        assert_eq!(after.qps, Some(5.0));
        assert_eq!(after.deny, vec![Operation::Dehaze]);
        assert_eq!(faults.latency(), Duration::from_millis(7));
        faults
            .apply(update(r#"{"qps": null, "deny": []}"#))
            .unwrap();
        assert_eq!(faults.qps(), None);
        assert!(!faults.denies(Operation::Dehaze));
        faults.apply(update(r#"{"qps": 0}"#)).unwrap();
        assert_eq!(faults.qps(), None);
        assert!((faults.fail_rate() - 0.25).abs() < f64::EPSILON);
    }

    #[test]
    fn a_bad_field_changes_nothing() {
        let faults = LiveFaults::from_config(&EmulatorConfig::default());
        let before = faults.snapshot();
        for bad in [
            r#"{"fail_rate": 1.5, "latency_ms": 3}"#,
            r#"{"fail_rate": -0.1}"#,
            r#"{"latency_ms": 60001}"#,
            r#"{"deny": ["dehaze", "sharpen"]}"#,
        ] {
            assert!(faults.apply(update(bad)).is_err(), "{bad}");
            assert_eq!(faults.snapshot(), before, "{bad}");
        }
        assert!(serde_json::from_str::<FaultUpdate>(r#"{"echo": true}"#).is_err());
    }

    #[test]
    fn deny_accepts_short_names_and_shows_wire_names() {
        let faults = LiveFaults::from_config(&EmulatorConfig::default());
        let after = faults
            .apply(update(r#"{"deny": ["enhance", "dehaze", "dehaze"]}"#))
            .unwrap();
        let shown = serde_json::to_value(&after).unwrap();
        assert_eq!(
            shown["deny"],
            serde_json::json!(["image_quality_enhance", "dehaze"])
        );
        assert!(faults.denies(Operation::ImageQualityEnhance));
    }
}
