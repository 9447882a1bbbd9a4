//! Haze removal: He et al.'s dark channel prior, with the transmission refined by a
//! guided filter, a robust atmospheric light, a transmission floor, and a measured haze
//! amount that scales the correction (haze-free photos come back nearly unchanged).
//!
//! Estimation runs on an area-downscaled copy (at most about 0.5 MP); only the guided
//! filter's linear coefficients are upsampled and applied at full resolution (He's
//! "fast guided filter"), so a 4096 × 4096 photo costs a few full-size passes.

use image::RgbImage;
use rayon::prelude::*;

use crate::color::{from_planes, luma, to_planes};
use crate::planes::{Plane, guided_coefficients, min_filter};

/// Share of haze removed where the prior says there is haze (He's ω).
const OMEGA: f32 = 0.90;
/// Lowest transmission, so dense haze is not amplified into noise.
const T_FLOOR: f32 = 0.1;
/// Pixels of the estimation image.
const ESTIMATION_PIXELS: usize = 500_000;
/// Haze amounts (mean normalised dark channel) below `HAZE_NONE` leave the photo alone;
/// above `HAZE_FULL` the full correction applies.
const HAZE_NONE: f32 = 0.20;
const HAZE_FULL: f32 = 0.50;

/// Removes haze from `img`.
pub(crate) fn dehaze(img: &RgbImage) -> RgbImage {
    let full = to_planes(img);
    let (w, h) = (full[0].width, full[0].height);
    if w == 0 || h == 0 {
        return img.clone();
    }
    let factor = ((w * h) as f64 / ESTIMATION_PIXELS as f64)
        .sqrt()
        .ceil()
        .max(1.0) as usize;
    let small: [Plane; 3] = std::array::from_fn(|c| full[c].downscale(factor));
    let (sw, sh) = (small[0].width, small[0].height);
    let radius = (sw.min(sh) / 57).max(2);

    let dark = min_filter(
        &small[0].zip(&small[1], f32::min).zip(&small[2], f32::min),
        radius,
    );
    let air = atmospheric_light(&small, &dark);

    let normalised = small[0]
        .map(|v| v / air[0])
        .zip(&small[1].map(|v| v / air[1]), f32::min)
        .zip(&small[2].map(|v| v / air[2]), f32::min);
    let normalised_dark = min_filter(&normalised, radius);
    let haze = mean(&normalised_dark);
    let strength = ((haze - HAZE_NONE) / (HAZE_FULL - HAZE_NONE)).clamp(0.0, 1.0);
    if strength <= 0.0 {
        return img.clone();
    }
    let transmission = normalised_dark.map(|d| 1.0 - OMEGA * strength * d);

    let guide_small = luma(&small);
    let (a, b) = guided_coefficients(&guide_small, &transmission, radius * 4, 1e-3);
    let (a, b) = (a.upscale_to(w, h), b.upscale_to(w, h));
    let guide = luma(&full);
    let mut out = full;
    out.iter_mut().enumerate().for_each(|(c, plane)| {
        let air_c = air[c];
        plane.data.par_iter_mut().enumerate().for_each(|(i, v)| {
            let t = (a.data[i] * guide.data[i] + b.data[i]).clamp(T_FLOOR, 1.0);
            *v = ((*v - air_c) / t + air_c).clamp(0.0, 1.0);
        });
    });
    from_planes(&out)
}

/// Atmospheric light: the mean colour of the 0.1 % of pixels with the brightest dark
/// channel (a mean, not one pixel, so a white object or a specular highlight does not
/// decide it alone).
fn atmospheric_light(planes: &[Plane; 3], dark: &Plane) -> [f32; 3] {
    let n = dark.data.len();
    let count = (n / 1000).max(1);
    let mut order: Vec<usize> = (0..n).collect();
    // Ties broken by index so the choice never depends on sort internals.
    order.select_nth_unstable_by(count - 1, |&i, &j| {
        dark.data[j].total_cmp(&dark.data[i]).then(i.cmp(&j))
    });
    let mut air = [0.0f32; 3];
    for &i in &order[..count] {
        for (c, a) in air.iter_mut().enumerate() {
            *a += planes[c].data[i];
        }
    }
    air.map(|a| (a / count as f32).clamp(0.05, 1.0))
}

fn mean(p: &Plane) -> f32 {
    // Row sums first, then a sequential sum: the same result at any thread count.
    let rows: Vec<f64> = p
        .data
        .par_chunks(p.width.max(1))
        .map(|r| r.iter().map(|&v| f64::from(v)).sum())
        .collect();
    (rows.iter().sum::<f64>() / p.data.len().max(1) as f64) as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A haze-free scene: bright colours next to deep shadows in every patch, as the
    /// dark channel prior expects of clear photos.
    fn scene(w: u32, h: u32) -> RgbImage {
        RgbImage::from_fn(w, h, |x, y| match (x / 6 + y / 6) % 3 {
            0 => image::Rgb([200, 150, 60]),
            1 => image::Rgb([40, 110, 190]),
            _ => image::Rgb([12, 16, 10]),
        })
    }

    #[test]
    fn haze_free_photo_is_unchanged() {
        let img = scene(240, 200);
        assert!(dehaze(&img) == img, "a clear scene was altered");
    }

    #[test]
    fn hazy_photo_gains_contrast() {
        let clean = scene(240, 200);
        let hazy = RgbImage::from_fn(240, 200, |x, y| {
            let p = clean.get_pixel(x, y).0;
            image::Rgb(p.map(|c| (f32::from(c) * 0.4 + 220.0 * 0.6) as u8))
        });
        let out = dehaze(&hazy);
        let spread = |img: &RgbImage| {
            let v: Vec<u8> = img.pixels().map(|p| p.0[0]).collect();
            i32::from(*v.iter().max().unwrap()) - i32::from(*v.iter().min().unwrap())
        };
        assert!(
            spread(&out) > spread(&hazy) + 30,
            "{} vs {}",
            spread(&out),
            spread(&hazy)
        );
    }
}
