//! `cargo xtask train-enhance`: Train the 2x enhance filters from examples/images/ (reproducible).

use anyhow::{Result, bail};

pub fn run(_args: &[String]) -> Result<()> {
    bail!("`cargo xtask train-enhance` is not implemented yet")
}
