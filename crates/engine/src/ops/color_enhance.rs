//! Colour enhance: restores faded saturation without pushing vivid photos into clipping.
//!
//! A faded photo is recognised by its most saturated pixels: almost every natural photo
//! has some pixels near full HSV saturation, and fading scales them all down. The gain
//! is the ratio between a typical photo's high saturation percentile and this one's,
//! limited to [1, [`MAX_GAIN`]], so an already vivid photo is left as it is. Saturation is
//! scaled in HSV (hue and value kept, so no channel is pushed past 0 or 255), with a
//! soft shoulder that keeps the few most saturated pixels from collapsing onto full
//! saturation.

use image::RgbImage;
use rayon::prelude::*;

/// Largest saturation gain (a photo faded to 55 % saturation comes back fully).
const MAX_GAIN: f32 = 1.8;
/// The saturation percentile that is measured, and its typical value in natural photos.
const PERCENTILE: f32 = 0.99;
const TYPICAL_HIGH_SATURATION: f32 = 0.93;
/// Pixels darker than this (HSV value) have unreliable saturation and are not counted.
const MIN_VALUE: u8 = 40;
/// Saturation above which the gain is eased off towards 1.
const SHOULDER: f32 = 0.9;

/// The image with its colour restored.
pub(crate) fn enhance(img: &RgbImage) -> RgbImage {
    let gain = saturation_gain(img);
    if gain <= 1.001 {
        return img.clone();
    }
    let mut out = img.clone();
    out.par_chunks_mut(3).for_each(|px| {
        let max = px[0].max(px[1]).max(px[2]);
        let min = px[0].min(px[1]).min(px[2]);
        if max == 0 || max == min {
            return;
        }
        let v = f32::from(max);
        let s = (v - f32::from(min)) / v;
        let scale = boosted(s, gain) / s;
        for c in px.iter_mut() {
            // c = V·(1 − S·t) in HSV with t ∈ [0, 1]: scaling S scales V − c.
            let value = v - (v - f32::from(*c)) * scale;
            *c = (value + 0.5).clamp(0.0, 255.0) as u8;
        }
    });
    out
}

/// `s · gain`, bent smoothly below 1 above the shoulder.
fn boosted(s: f32, gain: f32) -> f32 {
    let linear = s * gain;
    if linear <= SHOULDER {
        return linear;
    }
    // Exponential approach to 1, continuous and with slope 1 at the shoulder.
    let room = 1.0 - SHOULDER;
    SHOULDER + room * (1.0 - (-(linear - SHOULDER) / room).exp())
}

/// The estimated fading: typical high saturation over this photo's, in [1, MAX_GAIN].
fn saturation_gain(img: &RgbImage) -> f32 {
    let mut hist = [0u64; 256];
    let mut n = 0u64;
    for px in img.pixels() {
        let [r, g, b] = px.0;
        let max = r.max(g).max(b);
        if max < MIN_VALUE {
            continue;
        }
        let min = r.min(g).min(b);
        let s = u32::from(max - min) * 255 / u32::from(max);
        hist[s as usize] += 1;
        n += 1;
    }
    // Too few bright pixels, or a grey image: nothing to measure.
    if n < 16 {
        return 1.0;
    }
    let target = ((n as f32) * PERCENTILE) as u64;
    let mut seen = 0;
    let mut high = 255;
    for (s, &count) in hist.iter().enumerate() {
        seen += count;
        if seen > target {
            high = s;
            break;
        }
    }
    let high = high as f32 / 255.0;
    if high < 0.05 {
        return 1.0;
    }
    (TYPICAL_HIGH_SATURATION / high).clamp(1.0, MAX_GAIN)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn photo_like() -> RgbImage {
        RgbImage::from_fn(64, 48, |x, y| {
            let t = x as f32 / 63.0;
            image::Rgb([
                (40.0 + 200.0 * t) as u8,
                (60 + y * 3) as u8,
                (230.0 - 200.0 * t) as u8,
            ])
        })
    }

    fn faded(img: &RgbImage, factor: f32) -> RgbImage {
        let mut out = img.clone();
        for px in out.pixels_mut() {
            let v = f32::from(px.0.iter().copied().max().unwrap_or(0));
            for c in &mut px.0 {
                *c = (v - (v - f32::from(*c)) * factor).round() as u8;
            }
        }
        out
    }

    #[test]
    fn a_faded_photo_gets_its_saturation_back() {
        let clean = photo_like();
        let dull = faded(&clean, 0.6);
        let restored = enhance(&dull);
        let err = |a: &RgbImage| -> f32 {
            a.as_raw()
                .iter()
                .zip(clean.as_raw())
                .map(|(&p, &q)| (f32::from(p) - f32::from(q)).abs())
                .sum::<f32>()
                / a.as_raw().len() as f32
        };
        assert!(
            err(&restored) < err(&dull) / 3.0,
            "{} vs {}",
            err(&restored),
            err(&dull)
        );
    }

    #[test]
    fn vivid_and_grey_images_are_left_alone() {
        let vivid = RgbImage::from_fn(30, 30, |x, _| image::Rgb([250, (x * 8) as u8, 5]));
        assert_eq!(enhance(&vivid), vivid);
        let grey = RgbImage::from_fn(30, 30, |x, y| {
            let v = (x * 4 + y) as u8;
            image::Rgb([v, v, v])
        });
        assert_eq!(enhance(&grey), grey);
    }
}
