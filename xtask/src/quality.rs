//! `cargo xtask quality`: Degrade the shipped photos, run the engine and the OpenCV baselines, report PSNR (docs/quality.md).

use anyhow::{Result, bail};

pub fn run(_args: &[String]) -> Result<()> {
    bail!("`cargo xtask quality` is not implemented yet")
}
