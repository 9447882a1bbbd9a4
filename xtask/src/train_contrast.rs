//! `cargo xtask train-contrast [--photos DIR]`: fits the contrast model (what natural photos'
//! quantiles look like) to the training split, chooses its prior and temperature by
//! leave-one-photo-out PSNR on the training photos, writes
//! crates/engine/models/contrast.bin, and prints those figures next to the 1st–99th
//! percentile stretch.
//!
//! Every degradation is a per-sample curve, so a photo is needed only as the histogram of
//! its samples: a degraded photo's histogram is the clean one pushed through the curve, and
//! its PSNR after restoration follows from the same histogram. Deterministic: sequential
//! f64 sums, a fixed grid.

use anyhow::{Result, bail};
use baidu_imageprocess_engine::contrast::{self, Curve, FEATURES, Model};
use image::RgbImage;

use crate::photos::{self, Split};
use crate::quality::prepare;

pub const MODEL_PATH: &str = "crates/engine/models/contrast.bin";
/// The photo and nine crops of it (halves, quarters, the centre): more of the variety of
/// natural histograms than the photos alone.
fn crops(img: &RgbImage) -> Vec<RgbImage> {
    let (w, h) = (img.width(), img.height());
    let (hw, hh) = (w / 2, h / 2);
    let rects = [
        (0, 0, w, h),
        (0, 0, hw, h),
        (hw, 0, w - hw, h),
        (0, 0, w, hh),
        (0, hh, w, h - hh),
        (0, 0, hw, hh),
        (hw, 0, w - hw, hh),
        (0, hh, hw, h - hh),
        (hw, hh, w - hw, h - hh),
        (w / 4, h / 4, hw, hh),
    ];
    rects
        .iter()
        .map(|&(x, y, cw, ch)| image::imageops::crop_imm(img, x, y, cw, ch).to_image())
        .collect()
}

/// The 8-bit table of a degradation.
fn degrade_lut(c: &Curve) -> [u8; 256] {
    std::array::from_fn(|i| (c.degrade(i as f32 / 255.0) * 255.0 + 0.5) as u8)
}

/// PSNR of a photo (as its histogram) degraded by `deg` and restored by `restore`.
fn psnr(hist: &[u64; 256], deg: &[u8; 256], restore: &[u8; 256]) -> f64 {
    let n = hist.iter().sum::<u64>().max(1) as f64;
    let mse: f64 = hist
        .iter()
        .enumerate()
        .map(|(v, &c)| {
            let d = f64::from(restore[usize::from(deg[v])]) - v as f64;
            c as f64 * d * d
        })
        .sum::<f64>()
        / n;
    if mse < 1e-10 {
        60.0
    } else {
        (10.0 * (255.0f64 * 255.0 / mse).log10()).min(60.0)
    }
}

/// The degradation families of `cargo xtask quality`.
pub fn families() -> [(&'static str, Curve); 5] {
    [
        (
            "contrast halved",
            Curve {
                lift: 0.0,
                ln_gamma: 0.0,
                ln_contrast: 0.5f32.ln(),
            },
        ),
        (
            "darkened (gamma 2.2)",
            Curve {
                lift: 0.0,
                ln_gamma: 2.2f32.ln(),
                ln_contrast: 0.0,
            },
        ),
        (
            "washed out",
            Curve {
                lift: 0.2,
                ln_gamma: 0.5f32.ln(),
                ln_contrast: 0.0,
            },
        ),
        (
            "halved and darkened",
            Curve {
                lift: 0.0,
                ln_gamma: 2.2f32.ln(),
                ln_contrast: 0.5f32.ln(),
            },
        ),
        ("well-exposed", Curve::IDENTITY),
    ]
}

fn push(hist: &[u64; 256], lut: &[u8; 256]) -> [u64; 256] {
    let mut out = [0u64; 256];
    for (v, &n) in hist.iter().enumerate() {
        out[usize::from(lut[v])] += n;
    }
    out
}

/// Mean and precision (inverse of the covariance plus `ridge` times its mean variance) of
/// quantile vectors.
fn fit(samples: &[[f32; FEATURES]], ridge: f64) -> ([f32; FEATURES], Vec<f32>) {
    let n = samples.len().max(1) as f64;
    let mut mean = [0f64; FEATURES];
    for s in samples {
        for (m, &v) in mean.iter_mut().zip(s) {
            *m += f64::from(v) / n;
        }
    }
    let mut cov = vec![0f64; FEATURES * FEATURES];
    for s in samples {
        for i in 0..FEATURES {
            for j in 0..FEATURES {
                cov[i * FEATURES + j] +=
                    (f64::from(s[i]) - mean[i]) * (f64::from(s[j]) - mean[j]) / n;
            }
        }
    }
    let mean_var = (0..FEATURES).map(|i| cov[i * FEATURES + i]).sum::<f64>() / FEATURES as f64;
    for i in 0..FEATURES {
        cov[i * FEATURES + i] += ridge * mean_var;
    }
    (
        mean.map(|m| m as f32),
        invert(&cov).into_iter().map(|v| v as f32).collect(),
    )
}

/// Gauss-Jordan inverse of a symmetric positive definite matrix.
fn invert(a: &[f64]) -> Vec<f64> {
    let n = FEATURES;
    let mut m = a.to_vec();
    let mut inv = vec![0f64; n * n];
    for i in 0..n {
        inv[i * n + i] = 1.0;
    }
    for col in 0..n {
        let pivot = m[col * n + col];
        for k in 0..n {
            m[col * n + k] /= pivot;
            inv[col * n + k] /= pivot;
        }
        for row in 0..n {
            if row != col {
                let f = m[row * n + col];
                for k in 0..n {
                    m[row * n + k] -= f * m[col * n + k];
                    inv[row * n + k] -= f * inv[col * n + k];
                }
            }
        }
    }
    inv
}

/// Leave-one-photo-out PSNR per family (rows) and photo (columns).
fn validate(
    hists: &[[u64; 256]],
    naturals: &[(usize, [f32; FEATURES])],
    ridge: f64,
    prior: [f32; 3],
    temperature: f32,
    gap_weight: f32,
) -> Vec<Vec<f64>> {
    let models: Vec<Model> = (0..hists.len())
        .map(|p| {
            let others: Vec<[f32; FEATURES]> = naturals
                .iter()
                .filter(|(o, _)| *o != p)
                .map(|(_, q)| *q)
                .collect();
            let (mean, precision) = fit(&others, ridge);
            Model {
                mean,
                precision,
                prior,
                temperature,
                gap_weight,
            }
        })
        .collect();
    families()
        .iter()
        .map(|(_, curve)| {
            let deg = degrade_lut(curve);
            hists
                .iter()
                .zip(&models)
                .map(|(hist, model)| psnr(hist, &deg, &model.restore_lut(&push(hist, &deg))))
                .collect()
        })
        .collect()
}

fn stat(v: &[f64]) -> (f64, f64) {
    (
        v.iter().sum::<f64>() / v.len().max(1) as f64,
        v.iter().copied().fold(f64::INFINITY, f64::min),
    )
}

pub fn run(args: &[String]) -> Result<()> {
    let train = photos::load(&photos::photo_dir(args), Split::Train)?;
    if train.is_empty() {
        bail!("no training photos; run `cargo xtask photos`");
    }
    let prepared: Vec<RgbImage> = train.iter().map(|(_, img)| prepare(img)).collect();
    let hists: Vec<[u64; 256]> = prepared
        .iter()
        .map(|img| contrast::histogram(img.as_raw()))
        .collect();
    let naturals: Vec<(usize, [f32; FEATURES])> = prepared
        .iter()
        .enumerate()
        .flat_map(|(p, img)| {
            crops(img)
                .into_iter()
                .map(move |c| (p, contrast::quantiles(&contrast::histogram(c.as_raw()))))
        })
        .collect();

    // The objective: the margins over the stretch summed, with every shortfall counted ten
    // times (the bar is to beat the best baseline in every family's mean).
    let stretch_means: Vec<f64> = families()
        .iter()
        .map(|(_, curve)| {
            let deg = degrade_lut(curve);
            let v: Vec<f64> = hists
                .iter()
                .map(|hist| psnr(hist, &deg, &contrast::stretch_lut(&push(hist, &deg))))
                .collect();
            stat(&v).0
        })
        .collect();
    let mut best: Option<(f64, f64, [f32; 3], f32, f32)> = None;
    let ridge = 0.1;
    let temperature = 1.0;
    for (prior_stretch, gap_weight) in [0.0f32, 10.0, 30.0]
        .into_iter()
        .flat_map(|p| [10.0f32, 30.0, 100.0].map(|g| (p, g)))
    {
        for prior_gamma in [100.0f32, 300.0, 1000.0] {
            for jacobian in [0.1f32, 0.3] {
                let prior = [prior_stretch, prior_gamma, jacobian];
                let table = validate(&hists, &naturals, ridge, prior, temperature, gap_weight);
                let margins: Vec<f64> = table
                    .iter()
                    .zip(&stretch_means)
                    .map(|(v, b)| stat(v).0 - b)
                    .collect();
                let score = margins.iter().map(|m| m + 9.0 * m.min(0.0)).sum::<f64>();
                println!(
                    "prior {prior:?} gap weight {gap_weight}: margins {}",
                    margins
                        .iter()
                        .map(|m| format!("{m:+.2}"))
                        .collect::<Vec<_>>()
                        .join(" ")
                );
                if best.is_none_or(|b| score > b.0) {
                    best = Some((score, ridge, prior, temperature, gap_weight));
                }
            }
        }
    }
    let Some((_, ridge, prior, temperature, gap_weight)) = best else {
        bail!("no hyperparameters tried");
    };
    let all: Vec<[f32; FEATURES]> = naturals.iter().map(|(_, q)| *q).collect();
    let (mean, precision) = fit(&all, ridge);
    let model = Model {
        mean,
        precision,
        prior,
        temperature,
        gap_weight,
    };
    let bytes = model.to_bytes();
    std::fs::write(MODEL_PATH, &bytes)?;
    println!(
        "wrote {MODEL_PATH}: {} bytes; {} natural quantile vectors from {} photos; ridge {ridge}, prior {prior:?}, temperature {temperature}, gap weight {gap_weight}",
        bytes.len(),
        all.len(),
        train.len()
    );

    println!("\nleave-one-photo-out PSNR on the training photos, mean (worst):");
    println!("| family | ours | stretch 1-99 % |\n|---|---|---|");
    let table = validate(&hists, &naturals, ridge, prior, temperature, gap_weight);
    for ((name, curve), ours) in families().iter().zip(&table) {
        let deg = degrade_lut(curve);
        let base: Vec<f64> = hists
            .iter()
            .map(|hist| psnr(hist, &deg, &contrast::stretch_lut(&push(hist, &deg))))
            .collect();
        let ((om, ow), (bm, bw)) = (stat(ours), stat(&base));
        println!("| {name} | {om:.2} ({ow:.2}) | {bm:.2} ({bw:.2}) |");
    }
    Ok(())
}
