//! Contrast enhancement: a global tone curve chosen from the luminance histogram (levels
//! stretch between the 0.5th and 99.5th percentiles, then a gamma that brings a dark
//! photo's median up), followed by a light CLAHE on luminance only. Colour is kept by
//! scaling R, G and B by the same luminance ratio.

use image::RgbImage;
use rayon::prelude::*;

use crate::color::{LUMA, from_planes, luma, to_planes};
use crate::planes::Plane;

/// CLAHE tiles per side.
const TILES: usize = 8;
/// CLAHE clip limit, as a multiple of the mean bin count.
const CLIP: f32 = 2.0;
/// Share of CLAHE blended over the globally corrected luminance.
const LOCAL_AMOUNT: f32 = 0.1;
/// Largest stretch gain, so noise in flat photos is not blown up.
const MAX_GAIN: f32 = 4.0;
/// Gamma applied to a photo with a narrow tonal range. A narrow range says the light was
/// flat or the exposure short, and both also compress the mid-tones downwards; a median
/// target would instead misjudge photos that are dark by intent (night, low key).
const DULL_GAMMA: f32 = 0.72;
/// Percentiles the levels stretch maps to black and white.
const STRETCH_LOW: f64 = 0.01;
const STRETCH_HIGH: f64 = 0.99;
/// Tonal ranges (99th minus 1st percentile) at and above which no gamma is applied, and
/// at and below which the full gamma is.
const FULL_RANGE: f32 = 0.85;
const NARROW_RANGE: f32 = 0.55;

/// Enhances the contrast of `img`.
pub(crate) fn contrast(img: &RgbImage) -> RgbImage {
    let planes = to_planes(img);
    if planes[0].data.is_empty() {
        return img.clone();
    }
    // The global curve goes through each channel alike: the usual degradations (flat
    // light, under-exposure) act on every channel the same way, so this undoes them
    // without shifting hue.
    let curve = tone_curve(&planes);
    let apply = |v: f32| curve[(v.clamp(0.0, 1.0) * 1023.0 + 0.5) as usize];
    let global: [Plane; 3] = std::array::from_fn(|c| planes[c].map(apply));
    let y = luma(&global);
    let local = clahe(&y);
    let mut out = global;
    for plane in &mut out {
        plane.data.par_iter_mut().enumerate().for_each(|(i, v)| {
            let (old, new) = (
                y.data[i],
                y.data[i] + LOCAL_AMOUNT * (local.data[i] - y.data[i]),
            );
            // Local contrast as a luminance ratio keeps colour; near black, add instead.
            *v = if old > 1e-3 {
                *v * new / old
            } else {
                *v + (new - old)
            };
        });
    }
    clip_keeping_hue(&mut out);
    from_planes(&out)
}

/// Pulls pixels whose brightest channel overflows back towards their luminance.
fn clip_keeping_hue(out: &mut [Plane; 3]) {
    let (r, rest) = out.split_at_mut(1);
    let (g, b) = rest.split_at_mut(1);
    r[0].data
        .par_iter_mut()
        .zip(g[0].data.par_iter_mut().zip(b[0].data.par_iter_mut()))
        .for_each(|(r, (g, b))| {
            let m = r.max(*g).max(*b);
            if m > 1.0 {
                let l = LUMA[0] * *r + LUMA[1] * *g + LUMA[2] * *b;
                let k = if m - l > 1e-6 {
                    ((1.0 - l) / (m - l)).clamp(0.0, 1.0)
                } else {
                    0.0
                };
                for c in [r, g, b] {
                    *c = (l + (*c - l) * k).clamp(0.0, 1.0);
                }
            }
        });
}

/// A 1024-entry curve chosen from the histogram of all channel samples: a levels
/// stretch between the 1st and 99th percentiles, then, in proportion to how little
/// tonal range the photo had, a gamma that lifts the mid-tones. A photo that already spans
/// the range (even a dark, low-key one) keeps its gamma.
fn tone_curve(planes: &[Plane; 3]) -> Vec<f32> {
    let hists = planes.each_ref().map(|p| histogram(&p.data, 1024));
    let hist: Vec<u64> = (0..1024)
        .map(|i| hists.iter().map(|h| h[i]).sum())
        .collect();
    let n: u64 = hist.iter().sum();
    let percentile = |q: f64| -> f32 {
        let mut acc = 0u64;
        for (i, &c) in hist.iter().enumerate() {
            acc += c;
            if acc as f64 >= q * n as f64 {
                return i as f32 / 1023.0;
            }
        }
        1.0
    };
    let (lo, hi) = (percentile(STRETCH_LOW), percentile(STRETCH_HIGH));
    let range = hi - lo;
    let span = range.max(1.0 / MAX_GAIN);
    let stretch = |v: f32| ((v - lo) / span).clamp(0.0, 1.0);
    let lack_of_range = ((FULL_RANGE - range) / (FULL_RANGE - NARROW_RANGE)).clamp(0.0, 1.0);
    let gamma = 1.0 + lack_of_range * (DULL_GAMMA - 1.0);
    (0..1024)
        .map(|i| stretch(i as f32 / 1023.0).powf(gamma))
        .collect()
}

fn histogram(values: &[f32], bins: usize) -> Vec<u64> {
    let partials: Vec<Vec<u64>> = values
        .par_chunks(1 << 16)
        .map(|chunk| {
            let mut h = vec![0u64; bins];
            for &v in chunk {
                h[((v.clamp(0.0, 1.0) * (bins - 1) as f32) + 0.5) as usize] += 1;
            }
            h
        })
        .collect();
    let mut hist = vec![0u64; bins];
    for p in partials {
        for (a, b) in hist.iter_mut().zip(p) {
            *a += b;
        }
    }
    hist
}

/// Contrast-limited adaptive histogram equalisation with bilinear blending of the tile
/// mappings.
fn clahe(y: &Plane) -> Plane {
    const BINS: usize = 256;
    let (w, h) = (y.width, y.height);
    let tile_w = w.div_ceil(TILES.min(w.max(1))).max(1);
    let tile_h = h.div_ceil(TILES.min(h.max(1))).max(1);
    // Every tile starts inside the image, even when the sizes do not divide evenly.
    let tiles_x = w.div_ceil(tile_w).max(1);
    let tiles_y = h.div_ceil(tile_h).max(1);
    let maps: Vec<Vec<f32>> = (0..tiles_x * tiles_y)
        .into_par_iter()
        .map(|t| {
            let (tx, ty) = (t % tiles_x, t / tiles_x);
            let (x0, y0) = (tx * tile_w, ty * tile_h);
            let (x1, y1) = ((x0 + tile_w).min(w), (y0 + tile_h).min(h));
            let mut hist = [0f32; BINS];
            for yy in y0..y1 {
                for &v in &y.data[yy * w + x0..yy * w + x1] {
                    hist[(v.clamp(0.0, 1.0) * 255.0 + 0.5) as usize] += 1.0;
                }
            }
            let count = ((x1 - x0) * (y1 - y0)).max(1) as f32;
            let limit = CLIP * count / BINS as f32;
            let mut excess = 0.0;
            for b in &mut hist {
                if *b > limit {
                    excess += *b - limit;
                    *b = limit;
                }
            }
            let bonus = excess / BINS as f32;
            let mut acc = 0.0;
            hist.iter()
                .map(|&b| {
                    acc += b + bonus;
                    acc / count
                })
                .collect()
        })
        .collect();
    Plane::from_fn(w, h, |x, yy| {
        let bin = (y.at(x, yy).clamp(0.0, 1.0) * 255.0 + 0.5) as usize;
        let fx = ((x as f32 + 0.5) / tile_w as f32 - 0.5).clamp(0.0, (tiles_x - 1) as f32);
        let fy = ((yy as f32 + 0.5) / tile_h as f32 - 0.5).clamp(0.0, (tiles_y - 1) as f32);
        let (tx0, ty0) = (fx as usize, fy as usize);
        let (tx1, ty1) = ((tx0 + 1).min(tiles_x - 1), (ty0 + 1).min(tiles_y - 1));
        let (ax, ay) = (fx - tx0 as f32, fy - ty0 as f32);
        let m = |tx: usize, ty: usize| maps[ty * tiles_x + tx][bin];
        let top = m(tx0, ty0) * (1.0 - ax) + m(tx1, ty0) * ax;
        let bottom = m(tx0, ty1) * (1.0 - ax) + m(tx1, ty1) * ax;
        top * (1.0 - ay) + bottom * ay
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dull_dark_photo_is_stretched() {
        let img = RgbImage::from_fn(128, 96, |x, y| {
            let v = 30 + ((x + y) % 40) as u8;
            image::Rgb([v, v + 5, v / 2])
        });
        let out = contrast(&img);
        let range = |img: &RgbImage| {
            let v: Vec<u8> = img.pixels().map(|p| p.0[1]).collect();
            (*v.iter().min().unwrap(), *v.iter().max().unwrap())
        };
        let (lo, hi) = range(&out);
        assert!(hi - lo > 120, "{lo}..{hi}");
    }

    #[test]
    fn well_exposed_photo_is_barely_touched() {
        // Full tonal range, mid-grey median: nothing to correct globally.
        let img = RgbImage::from_fn(128, 128, |x, y| {
            let v = ((x + y) * 255 / 254) as u8;
            image::Rgb([v, v, (f32::from(v) * 0.9) as u8])
        });
        let out = contrast(&img);
        let diff: f64 = img
            .as_raw()
            .iter()
            .zip(out.as_raw())
            .map(|(&a, &b)| f64::from((i16::from(a) - i16::from(b)).unsigned_abs()))
            .sum::<f64>()
            / img.as_raw().len() as f64;
        assert!(diff < 12.0, "mean abs change {diff}");
    }
}
