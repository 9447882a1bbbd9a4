//! Stretch restore: estimates how much a photo was stretched along one axis and
//! resamples it back to its natural aspect.
//!
//! Method: the periodic trace of resampling. Upscaling an axis by `s` interpolates each
//! output sample at a fractional source position that repeats with frequency `1/s`
//! cycles per pixel, so the strength of the local second derivative carries a faint
//! periodic ripple at the folded frequency `f = 1 − 1/s` (for 1 < s ≤ 2). Along each axis
//! the absolute second difference of the luma is averaged across the other axis, its
//! local mean removed, and its spectrum evaluated at the frequencies of candidate
//! stretches; a peak that stands [`MIN_PEAK_RATIO`] times above the spectrum's median
//! gives the stretch. Frequencies near multiples of 1/8 are skipped (JPEG's 8-pixel
//! blocks leave peaks there), so a stretch of exactly 4/3 or 8/7 is not recognised.
//!
//! Photos that were scaled as a whole carry the same trace on both axes: their aspect is
//! kept. When both axes carry different traces (a scaled photo later stretched), the
//! stronger, fresher one wins.
//!
//! The stretched axis is shrunk back; the other side is kept. A photo without a clear
//! trace (never resampled, or resampled and then heavily recompressed) comes back
//! unchanged.

use image::{RgbImage, imageops};

/// Candidate stretches.
const MIN_STRETCH: f32 = 1.05;
const MAX_STRETCH: f32 = 2.0;
/// Required peak height over the median of the candidate spectrum.
const MIN_PEAK_RATIO: f32 = 80.0;
/// Two axes whose traces give stretches this close were resampled together (the photo
/// was scaled, not stretched).
const SAME_STRETCH: f32 = 0.02;
/// Frequencies this close to a multiple of 1/8 are skipped (JPEG blocks).
const BLOCK_GUARD: f32 = 0.006;
/// Shortest axis worth analysing.
const MIN_LEN: usize = 32;

/// The image resampled to its estimated natural aspect.
pub(crate) fn restore(img: &RgbImage) -> RgbImage {
    let (w, h) = (img.width(), img.height());
    let luma = luma(img);
    let horizontal = estimate(&luma, w as usize, h as usize, true);
    let vertical = estimate(&luma, w as usize, h as usize, false);
    let best = match (horizontal, vertical) {
        (Some(a), Some(b)) if (a.0 - b.0).abs() < SAME_STRETCH => None,
        (Some(a), Some(b)) => Some(if a.1 >= b.1 {
            (true, a.0)
        } else {
            (false, b.0)
        }),
        (Some(a), None) => Some((true, a.0)),
        (None, Some(b)) => Some((false, b.0)),
        (None, None) => None,
    };
    match best {
        Some((true, s)) => {
            let nw = ((w as f32 / s).round() as u32).max(1);
            imageops::resize(img, nw, h, imageops::FilterType::CatmullRom)
        }
        Some((false, s)) => {
            let nh = ((h as f32 / s).round() as u32).max(1);
            imageops::resize(img, w, nh, imageops::FilterType::CatmullRom)
        }
        None => img.clone(),
    }
}

fn luma(img: &RgbImage) -> Vec<f32> {
    img.pixels()
        .map(|p| 0.299 * f32::from(p.0[0]) + 0.587 * f32::from(p.0[1]) + 0.114 * f32::from(p.0[2]))
        .collect()
}

/// The stretch along one axis and its peak ratio, if there is a clear one.
fn estimate(luma: &[f32], w: usize, h: usize, horizontal: bool) -> Option<(f32, f32)> {
    let (len, across) = if horizontal { (w, h) } else { (h, w) };
    if len < MIN_LEN || across < 1 {
        return None;
    }
    let at = |i: usize, j: usize| {
        if horizontal {
            luma[j * w + i]
        } else {
            luma[i * w + j]
        }
    };
    // Mean absolute second difference at each position along the axis.
    let mut profile = vec![0.0f32; len];
    for (i, p) in profile.iter_mut().enumerate().take(len - 1).skip(1) {
        let mut sum = 0.0;
        for j in 0..across {
            sum += (at(i - 1, j) - 2.0 * at(i, j) + at(i + 1, j)).abs();
        }
        *p = sum / across as f32;
    }
    profile[0] = profile[1];
    profile[len - 1] = profile[len - 2];
    // Remove the local mean (content), keeping the fine periodic ripple.
    let r = 4usize;
    let detrended: Vec<f32> = (0..len)
        .map(|i| {
            let (lo, hi) = (i.saturating_sub(r), (i + r + 1).min(len));
            profile[i] - profile[lo..hi].iter().sum::<f32>() / (hi - lo) as f32
        })
        .collect();
    // Spectrum at candidate frequencies, with a resolution finer than 1/len.
    let (f_lo, f_hi) = (1.0 - 1.0 / MIN_STRETCH, 1.0 - 1.0 / MAX_STRETCH);
    let df = 0.25 / len as f32;
    let mut spectrum = Vec::new();
    let mut f = f_lo;
    while f <= f_hi {
        let near_block = ((f * 8.0).round() / 8.0 - f).abs() < BLOCK_GUARD;
        if !near_block {
            let (mut re, mut im) = (0.0f64, 0.0f64);
            let w0 = std::f64::consts::TAU * f64::from(f);
            for (x, &v) in detrended.iter().enumerate() {
                let phase = w0 * x as f64;
                re += f64::from(v) * phase.cos();
                im += f64::from(v) * phase.sin();
            }
            spectrum.push((f, (re * re + im * im) as f32));
        }
        f += df;
    }
    if spectrum.len() < 8 {
        return None;
    }
    let mut powers: Vec<f32> = spectrum.iter().map(|s| s.1).collect();
    powers.sort_by(f32::total_cmp);
    let median = powers[powers.len() / 2].max(f32::MIN_POSITIVE);
    let (f_peak, p_peak) = spectrum
        .iter()
        .copied()
        .max_by(|a, b| a.1.total_cmp(&b.1))?;
    let ratio = p_peak / median;
    (ratio >= MIN_PEAK_RATIO).then(|| (1.0 / (1.0 - f_peak), ratio))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Smooth but detailed content with no periodic structure near the candidates.
    fn scene(w: u32, h: u32) -> RgbImage {
        let mut seed = 99u64;
        let mut noise = || {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (seed >> 40) as f32 / (1u64 << 24) as f32
        };
        let base: Vec<f32> = (0..w * h).map(|_| noise()).collect();
        RgbImage::from_fn(w, h, |x, y| {
            let v = base[(y * w + x) as usize] * 120.0 + 60.0;
            image::Rgb([v as u8, (v * 0.9) as u8, (v * 0.8) as u8])
        })
    }

    #[test]
    fn undoes_a_horizontal_stretch_and_keeps_the_height() {
        let clean = scene(200, 150);
        let stretched = imageops::resize(&clean, 280, 150, imageops::FilterType::Triangle);
        let out = restore(&stretched);
        assert_eq!(out.height(), 150);
        assert!((i64::from(out.width()) - 200).abs() <= 6, "{}", out.width());
    }

    #[test]
    fn undoes_a_vertical_stretch() {
        let clean = scene(180, 160);
        let stretched = imageops::resize(&clean, 180, 208, imageops::FilterType::CatmullRom);
        let out = restore(&stretched);
        assert_eq!(out.width(), 180);
        assert!(
            (i64::from(out.height()) - 160).abs() <= 6,
            "{}",
            out.height()
        );
    }

    #[test]
    fn leaves_an_unstretched_image_and_tiny_ones_alone() {
        let clean = scene(200, 150);
        assert_eq!(restore(&clean).dimensions(), (200, 150));
        for (w, h) in [(1, 1), (1, 50), (50, 1), (3, 40)] {
            assert_eq!(restore(&scene(w, h)).dimensions(), (w, h));
        }
    }
}
