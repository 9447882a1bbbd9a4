//! `cargo xtask readme-images`: Render the before/after pictures under docs/images/.

use anyhow::{Result, bail};

pub fn run(_args: &[String]) -> Result<()> {
    bail!("`cargo xtask readme-images` is not implemented yet")
}
