//! `cargo xtask train-colourize`: Train the colourize model from examples/images/ (reproducible).

use anyhow::{Result, bail};

pub fn run(_args: &[String]) -> Result<()> {
    bail!("`cargo xtask train-colourize` is not implemented yet")
}
