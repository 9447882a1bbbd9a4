//! Contrast enhancement: decide globally first, add local contrast second. A tone curve
//! chosen from the histogram of all samples (levels stretch between the 1st and 99th
//! percentiles, then a mid-tone gamma in proportion to how narrow the tonal range was) is
//! applied to every channel alike; then a light CLAHE on luminance adds local contrast,
//! applied as a luminance ratio so colour is kept.

use image::RgbImage;
use rayon::prelude::*;

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

/// Enhances the contrast of `img`. Works on 8-bit samples throughout: the global curve
/// is a 256-entry table, CLAHE runs on 8-bit luma, and the last pass fuses the CLAHE
/// interpolation with the colour-preserving write, so a 1080p photo costs a few passes.
pub(crate) fn contrast(img: &RgbImage) -> RgbImage {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let raw = img.as_raw();
    if raw.is_empty() {
        return img.clone();
    }
    // The global curve goes through each channel alike: the usual degradations (flat
    // light, under-exposure) act on every channel the same way, so this undoes them
    // without shifting hue.
    let lut = tone_lut(raw);
    let mut out: Vec<u8> = raw.par_iter().map(|&v| lut[usize::from(v)]).collect();
    let luma: Vec<u8> = out
        .par_chunks(3)
        .map(|p| {
            ((77 * u32::from(p[0]) + 150 * u32::from(p[1]) + 29 * u32::from(p[2]) + 128) >> 8) as u8
        })
        .collect();
    let clahe = Clahe::new(&luma, w, h);
    out.par_chunks_mut((w * 3).max(1))
        .enumerate()
        .for_each(|(row, px_row)| {
            let weights = clahe.row(row);
            for (x, px) in px_row.chunks_exact_mut(3).enumerate() {
                let y = luma[row * w + x];
                let local = clahe.at(&weights, x, y);
                let old = f32::from(y) / 255.0;
                let new = old + LOCAL_AMOUNT * (local - old);
                // Local contrast as a luminance ratio keeps colour; near black, add instead.
                let ratio = if old > 1e-3 { new / old } else { 1.0 };
                let offset = if old > 1e-3 { 0.0 } else { new - old };
                let mut rgb = [0f32; 3];
                for (c, v) in rgb.iter_mut().enumerate() {
                    *v = f32::from(px[c]) / 255.0 * ratio + offset;
                }
                // A channel that overflows pulls the pixel towards its luminance (hue kept).
                let m = rgb[0].max(rgb[1]).max(rgb[2]);
                if m > 1.0 {
                    let l = LUMA[0] * rgb[0] + LUMA[1] * rgb[1] + LUMA[2] * rgb[2];
                    let k = if m - l > 1e-6 {
                        ((1.0 - l) / (m - l)).clamp(0.0, 1.0)
                    } else {
                        0.0
                    };
                    for v in &mut rgb {
                        *v = l + (*v - l) * k;
                    }
                }
                for (o, v) in px.iter_mut().zip(rgb) {
                    *o = (v * 255.0 + 0.5).clamp(0.0, 255.0) as u8;
                }
            }
        });
    RgbImage::from_raw(w as u32, h as u32, out).unwrap_or_else(|| img.clone())
}

/// A 256-entry curve chosen from the histogram of all channel samples: a levels
/// stretch between the 1st and 99th percentiles, then, in proportion to how little
/// tonal range the photo had, a gamma that lifts the mid-tones. A photo that already spans
/// the range (even a dark, low-key one) keeps its gamma.
fn tone_lut(samples: &[u8]) -> [u8; 256] {
    let hist = samples
        .par_chunks(1 << 16)
        .map(|chunk| {
            let mut h = [0u64; 256];
            for &v in chunk {
                h[usize::from(v)] += 1;
            }
            h
        })
        .reduce(
            || [0u64; 256],
            |mut a, b| {
                for (x, y) in a.iter_mut().zip(b) {
                    *x += y;
                }
                a
            },
        );
    let n = samples.len() as f64;
    let percentile = |q: f64| -> f32 {
        let mut acc = 0u64;
        for (i, &c) in hist.iter().enumerate() {
            acc += c;
            if acc as f64 >= q * n {
                return i as f32 / 255.0;
            }
        }
        1.0
    };
    let (lo, hi) = (percentile(STRETCH_LOW), percentile(STRETCH_HIGH));
    let range = hi - lo;
    let span = range.max(1.0 / MAX_GAIN);
    let lack_of_range = ((FULL_RANGE - range) / (FULL_RANGE - NARROW_RANGE)).clamp(0.0, 1.0);
    let gamma = 1.0 + lack_of_range * (DULL_GAMMA - 1.0);
    std::array::from_fn(|i| {
        let v = ((i as f32 / 255.0 - lo) / span).clamp(0.0, 1.0).powf(gamma);
        (v * 255.0 + 0.5) as u8
    })
}

/// Contrast-limited adaptive histogram equalisation of 8-bit luma: one clipped
/// cumulative mapping per tile, blended bilinearly between tile centres.
struct Clahe {
    maps: Vec<[f32; 256]>,
    columns: Vec<(usize, usize, f32)>,
    tiles_x: usize,
    tiles_y: usize,
    tile_h: usize,
}

impl Clahe {
    fn new(y: &[u8], w: usize, h: usize) -> Self {
        const BINS: usize = 256;
        let tile_w = w.div_ceil(TILES.min(w.max(1))).max(1);
        let tile_h = h.div_ceil(TILES.min(h.max(1))).max(1);
        // Every tile starts inside the image, even when the sizes do not divide evenly.
        let tiles_x = w.div_ceil(tile_w).max(1);
        let tiles_y = h.div_ceil(tile_h).max(1);
        let maps = (0..tiles_x * tiles_y)
            .into_par_iter()
            .map(|t| {
                let (tx, ty) = (t % tiles_x, t / tiles_x);
                let (x0, y0) = (tx * tile_w, ty * tile_h);
                let (x1, y1) = ((x0 + tile_w).min(w), (y0 + tile_h).min(h));
                let mut hist = [0f32; BINS];
                for row in y0..y1 {
                    for &v in &y[row * w + x0..row * w + x1] {
                        hist[usize::from(v)] += 1.0;
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
                let mut map = [0f32; BINS];
                for (m, &b) in map.iter_mut().zip(&hist) {
                    acc += b + bonus;
                    *m = acc / count;
                }
                map
            })
            .collect();
        let columns = (0..w).map(|x| weight(x, tile_w, tiles_x)).collect();
        Self {
            maps,
            columns,
            tiles_x,
            tiles_y,
            tile_h,
        }
    }

    /// The two tile rows around image row `row` and the weight of the second.
    fn row(&self, row: usize) -> (usize, usize, f32) {
        weight(row, self.tile_h, self.tiles_y)
    }

    /// The equalised value (0..1) of luma `v` at column `x` of a row.
    fn at(&self, &(ty0, ty1, ay): &(usize, usize, f32), x: usize, v: u8) -> f32 {
        let (tx0, tx1, ax) = self.columns[x];
        let bin = usize::from(v);
        let m = |ty: usize, tx: usize| self.maps[ty * self.tiles_x + tx][bin];
        let top = m(ty0, tx0) * (1.0 - ax) + m(ty0, tx1) * ax;
        let bottom = m(ty1, tx0) * (1.0 - ax) + m(ty1, tx1) * ax;
        top * (1.0 - ay) + bottom * ay
    }
}

/// Tile indices around position `i` and the weight of the second.
fn weight(i: usize, tile: usize, tiles: usize) -> (usize, usize, f32) {
    let f = ((i as f32 + 0.5) / tile as f32 - 0.5).clamp(0.0, (tiles - 1) as f32);
    let t0 = f as usize;
    (t0, (t0 + 1).min(tiles - 1), f - t0 as f32)
}

/// Rec. 601 luma weights.
const LUMA: [f32; 3] = crate::color::LUMA;

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
