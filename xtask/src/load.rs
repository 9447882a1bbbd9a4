//! `cargo xtask load`: Load-test a release emulator: --seconds N --concurrency C.

use anyhow::{Result, bail};

pub fn run(_args: &[String]) -> Result<()> {
    bail!("`cargo xtask load` is not implemented yet")
}
