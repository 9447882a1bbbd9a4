//! The per-image outcome, the closing summary and the `--report` JSON.
//!
//! Report schema:
//! ```json
//! { "operation": "dehaze", "backend": "local" | "remote",
//!   "summary": { "done": 3, "failed": 1, "skipped": 0, "elapsed_ms": 1234 },
//!   "images": [ { "input": "a.jpg", "output": "a.dehaze.jpg" | null,
//!                 "status": "done" | "failed" | "skipped",
//!                 "log_id": 123 | null, "error_code": 216202 | null,
//!                 "error_message": "..." | null, "ms": 42 } ] }
//! ```

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Done,
    Failed,
    Skipped,
}

#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    pub input: String,
    pub output: Option<String>,
    pub status: Status,
    pub log_id: Option<u64>,
    pub error_code: Option<u32>,
    pub error_message: Option<String>,
    pub ms: u64,
    /// Whether the failure is about credentials (exit code 2).
    #[serde(skip)]
    pub auth_failure: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub done: usize,
    pub failed: usize,
    pub skipped: usize,
    pub elapsed_ms: u64,
}

impl Summary {
    pub fn of(outcomes: &[Outcome], elapsed_ms: u64) -> Self {
        let count = |s| outcomes.iter().filter(|o| o.status == s).count();
        Self {
            done: count(Status::Done),
            failed: count(Status::Failed),
            skipped: count(Status::Skipped),
            elapsed_ms,
        }
    }

    pub fn line(&self) -> String {
        let secs = self.elapsed_ms as f64 / 1000.0;
        let rate = if secs > 0.0 {
            self.done as f64 / secs
        } else {
            0.0
        };
        format!(
            "done {}, failed {}, skipped {} in {secs:.1} s ({rate:.1} images/s)",
            self.done, self.failed, self.skipped
        )
    }
}

#[derive(Debug, Serialize)]
pub struct Report<'a> {
    pub operation: &'a str,
    pub backend: &'a str,
    pub summary: &'a Summary,
    pub images: &'a [Outcome],
}
