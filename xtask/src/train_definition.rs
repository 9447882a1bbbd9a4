//! `cargo xtask train-definition [--max-side N]`: trains the definition-enhance filters on
//! the train split of the fetched photos (else examples/images without the held-out photos),
//! degraded as in the evaluation (Gaussian blur σ 1.2, then JPEG quality 85), and writes
//! crates/engine/models/definition.bin. Deterministic: photos in name order, sums in f64.

use anyhow::{Result, bail};
use baidu_imageprocess_engine::training::ops::image_definition_enhance::{
    luma, model_bytes, training::Accumulator,
};
use rayon::prelude::*;

use crate::degrade;

pub const MODEL_PATH: &str = "crates/engine/models/definition.bin";
const RIDGE: f64 = 1e-4;

pub fn run(args: &[String]) -> Result<()> {
    let mut args = args.to_vec();
    if !args.iter().any(|a| a == "--photos" || a == "--split") {
        args.extend(["--split".to_owned(), "train".to_owned()]);
    }
    let (source, photos) = crate::quality_restore::load_photos(&args)?;
    if photos.is_empty() {
        bail!("no training photos");
    }
    println!("training on {} photos from {source}", photos.len());
    let parts: Vec<Accumulator> = photos
        .par_iter()
        .map(|(_, clean)| -> Result<Accumulator> {
            let soft = degrade::jpeg(&degrade::blur(clean, 1.2), 85)?;
            let mut acc = Accumulator::default();
            acc.add(&luma(&soft), &luma(clean), 2);
            Ok(acc)
        })
        .collect::<Result<_>>()?;
    let mut total = Accumulator::default();
    for p in &parts {
        total.merge(p);
    }
    println!("samples per class: {:?}", total.counts());
    let filters = total.solve(RIDGE);
    std::fs::write(MODEL_PATH, model_bytes(&filters))?;
    println!("wrote {MODEL_PATH}");
    Ok(())
}
