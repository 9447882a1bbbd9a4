//! `cargo xtask bench-client`: Blocking and async clients vs the official Python SDK against the --echo emulator.

use anyhow::{Result, bail};

pub fn run(_args: &[String]) -> Result<()> {
    bail!("`cargo xtask bench-client` is not implemented yet")
}
