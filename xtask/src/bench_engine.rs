//! `cargo xtask bench-engine`: Time each engine operation at 1080p and 4K next to OpenCV baselines (docs/benchmarks.md).

use anyhow::{Result, bail};

pub fn run(_args: &[String]) -> Result<()> {
    bail!("`cargo xtask bench-engine` is not implemented yet")
}
