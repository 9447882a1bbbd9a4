//! `cargo xtask fuzz`: Fuzz reply parsing and image sniffing: --seconds N.

use anyhow::{Result, bail};

pub fn run(_args: &[String]) -> Result<()> {
    bail!("`cargo xtask fuzz` is not implemented yet")
}
