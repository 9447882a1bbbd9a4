//! Moiré removal: suppresses the interference patterns of photographed screens and
//! halftone prints.
//!
//! Method: spectral notch filtering in overlapping tiles. Moiré is a near-periodic
//! pattern multiplied into the picture, so in the logarithm of the luma it is added, and
//! in the spectrum it shows as isolated sharp peaks standing far above their
//! neighbourhood (natural image spectra are smooth, falling off with frequency). Each
//! [`TILE`]-pixel tile (half-overlapping, sine-windowed for perfect reconstruction) is
//! transformed; every coefficient more than [`PEAK_FACTOR`] times the local mean magnitude
//! around it, away from the lowest frequencies, is scaled down to that mean. The ratio of
//! filtered to original luma is then applied to all three channels, which undoes a
//! multiplicative pattern without shifting colours.

use image::RgbImage;
use rayon::prelude::*;

use crate::filters::planes::{Plane, box_mean};

/// Tile side (a power of two) and hop.
const TILE: usize = 128;
const HOP: usize = TILE / 2;
/// A frequency is part of a pattern when, averaged over the tiles, its magnitude is this
/// many times its neighbourhood's mean.
const PEAK_FACTOR: f32 = 2.0;
/// Neighbourhood radius (bins) of the local mean.
const NEIGHBOURHOOD: usize = 4;
/// Frequencies within this radius (bins) of zero are never touched.
const MIN_RADIUS: f32 = 3.0;

/// The image with moiré suppressed.
pub(crate) fn remove(img: &RgbImage) -> RgbImage {
    let (w, h) = (img.width() as usize, img.height() as usize);
    if w < TILE / 2 || h < TILE / 2 {
        return img.clone();
    }
    let raw = img.as_raw();
    let log_luma = Plane::from_fn(w, h, |x, y| {
        let i = (y * w + x) * 3;
        let l = 0.299 * f32::from(raw[i])
            + 0.587 * f32::from(raw[i + 1])
            + 0.114 * f32::from(raw[i + 2]);
        (l + 1.0).ln()
    });
    let filtered = filter_tiles(&log_luma);
    let mut out = img.clone();
    out.par_chunks_mut(w * 3).enumerate().for_each(|(y, row)| {
        for x in 0..w {
            let gain = (filtered.at(x, y) - log_luma.at(x, y)).exp();
            for v in &mut row[x * 3..x * 3 + 3] {
                *v = (f32::from(*v) * gain + 0.5).clamp(0.0, 255.0) as u8;
            }
        }
    });
    out
}

/// Mirror index into `0..len`.
fn mirror(i: isize, len: usize) -> usize {
    let n = len as isize;
    if n <= 1 {
        return 0;
    }
    let period = 2 * (n - 1);
    let m = i.rem_euclid(period);
    (if m >= n { period - m } else { m }) as usize
}

/// A tile's windowed samples (mean removed) and its mean.
fn load_tile(p: &Plane, x0: isize, y0: isize, window: &[f32], re: &mut [f32]) -> f32 {
    let (w, h) = (p.width, p.height);
    for y in 0..TILE {
        let row = &p.data[mirror(y0 + y as isize, h) * w..][..w];
        for x in 0..TILE {
            re[y * TILE + x] = row[mirror(x0 + x as isize, w)];
        }
    }
    let mean = re.iter().sum::<f32>() / (TILE * TILE) as f32;
    for y in 0..TILE {
        for x in 0..TILE {
            re[y * TILE + x] = (re[y * TILE + x] - mean) * window[x] * window[y];
        }
    }
    mean
}

/// Magnitudes and their local means, both indexed like the spectrum.
fn magnitude_and_background(re: &[f32], im: &[f32]) -> (Vec<f32>, Vec<f32>) {
    let magnitude: Vec<f32> = re.iter().zip(im).map(|(a, b)| a.hypot(*b)).collect();
    // Shift zero frequency to the centre so the box mean sees true neighbours.
    let shift = |i: usize| ((i / TILE + TILE / 2) % TILE) * TILE + (i % TILE + TILE / 2) % TILE;
    let shifted = Plane::from_fn(TILE, TILE, |x, y| magnitude[shift(y * TILE + x)]);
    let local = box_mean(&shifted, NEIGHBOURHOOD);
    let mut background = vec![0.0f32; TILE * TILE];
    for (i, &v) in local.data.iter().enumerate() {
        background[shift(i)] = v;
    }
    (magnitude, background)
}

/// Overlap-add notch filtering of the whole plane. Pass one averages, over all tiles,
/// how far each frequency stands above its neighbourhood; a pattern that covers the
/// picture stands out in the same bins everywhere, while picture structure does not.
/// Pass two scales those bins down to their neighbourhood in every tile.
fn filter_tiles(p: &Plane) -> Plane {
    let (w, h) = (p.width, p.height);
    // Tiles start at -HOP so every pixel is covered by four tiles.
    let nx = (w + HOP).div_ceil(HOP);
    let ny = (h + HOP).div_ceil(HOP);
    let origin = |t: usize| {
        (
            (t % nx) as isize * HOP as isize - HOP as isize,
            (t / nx) as isize * HOP as isize - HOP as isize,
        )
    };
    // sin window: analysis × synthesis = sin², which sums to 1 at half overlap.
    let window: Vec<f32> = (0..TILE)
        .map(|i| (std::f32::consts::PI * (i as f32 + 0.5) / TILE as f32).sin())
        .collect();
    let fft = Fft::new(TILE);
    let low = |i: usize| {
        let (u, v) = (i % TILE, i / TILE);
        let fu = if u < TILE / 2 {
            u as f32
        } else {
            u as f32 - TILE as f32
        };
        let fv = if v < TILE / 2 {
            v as f32
        } else {
            v as f32 - TILE as f32
        };
        fu.hypot(fv) < MIN_RADIUS
    };
    // Non-overlapping tiles suffice to find the pattern. Fixed chunks, summed in order:
    // the result does not depend on the thread count.
    let survey: Vec<usize> = (0..nx * ny)
        .filter(|t| (t % nx).is_multiple_of(2) && (t / nx).is_multiple_of(2))
        .collect();
    let ratio_parts: Vec<Vec<f32>> = survey
        .par_chunks(16)
        .map(|chunk| {
            // Ratios to the neighbourhood, then magnitudes.
            let mut acc = vec![0.0f32; 2 * TILE * TILE];
            let mut re = vec![0.0f32; TILE * TILE];
            let mut im = vec![0.0f32; TILE * TILE];
            for &t in chunk {
                let (x0, y0) = origin(t);
                im.fill(0.0);
                load_tile(p, x0, y0, &window, &mut re);
                fft.forward_2d(&mut re, &mut im);
                let (m, bg) = magnitude_and_background(&re, &im);
                let (ratios, magnitudes) = acc.split_at_mut(TILE * TILE);
                for (((a, s), &mi), &b) in ratios
                    .iter_mut()
                    .zip(magnitudes.iter_mut())
                    .zip(&m)
                    .zip(&bg)
                {
                    *a += (mi / b.max(1e-6)).min(20.0);
                    *s += mi;
                }
            }
            acc
        })
        .collect();
    let mut ratio = vec![0.0f32; 2 * TILE * TILE];
    for part in ratio_parts {
        ratio.iter_mut().zip(part).for_each(|(a, b)| *a += b);
    }
    let tiles_count = survey.len().max(1) as f32;
    let (ratio, magnitude) = ratio.split_at(TILE * TILE);
    // A pattern is an isolated peak: well above its neighbourhood on average, and a
    // strict local maximum of the mean magnitude. Straight edges in the picture make
    // ridges through the origin instead, which fall steadily along their length.
    let at = |v: &[f32], u: isize, w: isize| {
        v[(w.rem_euclid(TILE as isize) as usize) * TILE + u.rem_euclid(TILE as isize) as usize]
    };
    let mut pattern = vec![false; TILE * TILE];
    for i in 0..TILE * TILE {
        if low(i) || ratio[i] / tiles_count <= PEAK_FACTOR {
            continue;
        }
        let (u, v) = ((i % TILE) as isize, (i / TILE) as isize);
        let centre = magnitude[i];
        let isolated = (-1..=1).all(|dv| {
            (-1..=1).all(|du| (du == 0 && dv == 0) || at(magnitude, u + du, v + dv) < centre)
        });
        if isolated {
            // The window spreads a peak over its neighbours: take them too.
            for dv in -1..=1isize {
                for du in -1..=1isize {
                    let j = ((v + dv).rem_euclid(TILE as isize) as usize) * TILE
                        + (u + du).rem_euclid(TILE as isize) as usize;
                    pattern[j] = !low(j);
                }
            }
        }
    }
    if !pattern.iter().any(|&b| b) {
        return p.clone();
    }
    let tiles: Vec<(usize, Vec<f32>)> = (0..nx * ny)
        .into_par_iter()
        .map(|t| {
            let (x0, y0) = origin(t);
            let mut re = vec![0.0f32; TILE * TILE];
            let mut im = vec![0.0f32; TILE * TILE];
            let mean = load_tile(p, x0, y0, &window, &mut re);
            fft.forward_2d(&mut re, &mut im);
            let (m, bg) = magnitude_and_background(&re, &im);
            for i in 0..TILE * TILE {
                if pattern[i] && m[i] > PEAK_FACTOR * bg[i] {
                    let g = bg[i] / m[i];
                    re[i] *= g;
                    im[i] *= g;
                }
            }
            fft.inverse_2d(&mut re, &mut im);
            for y in 0..TILE {
                for x in 0..TILE {
                    let wxy = window[x] * window[y];
                    re[y * TILE + x] = (re[y * TILE + x] + mean * wxy) * wxy;
                }
            }
            (t, re)
        })
        .collect();
    let mut out = Plane::new(w, h);
    for (t, tile) in tiles {
        let (x0, y0) = origin(t);
        for y in 0..TILE {
            let yy = y0 + y as isize;
            if yy < 0 || yy >= h as isize {
                continue;
            }
            for x in 0..TILE {
                let xx = x0 + x as isize;
                if xx < 0 || xx >= w as isize {
                    continue;
                }
                out.data[yy as usize * w + xx as usize] += tile[y * TILE + x];
            }
        }
    }
    out
}

/// Radix-2 complex FFT of one power-of-two size, with its twiddles.
struct Fft {
    n: usize,
    cos: Vec<f32>,
    sin: Vec<f32>,
}

impl Fft {
    fn new(n: usize) -> Self {
        let (cos, sin) = (0..n / 2)
            .map(|k| {
                let a = -std::f64::consts::TAU * k as f64 / n as f64;
                (a.cos() as f32, a.sin() as f32)
            })
            .unzip();
        Self { n, cos, sin }
    }

    /// In-place forward transform (inverse: conjugate twiddles, no scaling).
    fn transform(&self, re: &mut [f32], im: &mut [f32], inverse: bool) {
        let n = self.n;
        let mut j = 0;
        for i in 1..n {
            let mut bit = n >> 1;
            while j & bit != 0 {
                j ^= bit;
                bit >>= 1;
            }
            j |= bit;
            if i < j {
                re.swap(i, j);
                im.swap(i, j);
            }
        }
        let mut len = 2;
        while len <= n {
            let step = n / len;
            for start in (0..n).step_by(len) {
                for k in 0..len / 2 {
                    let (c, s) = (
                        self.cos[k * step],
                        if inverse {
                            -self.sin[k * step]
                        } else {
                            self.sin[k * step]
                        },
                    );
                    let (a, b) = (start + k, start + k + len / 2);
                    let tr = re[b] * c - im[b] * s;
                    let ti = re[b] * s + im[b] * c;
                    re[b] = re[a] - tr;
                    im[b] = im[a] - ti;
                    re[a] += tr;
                    im[a] += ti;
                }
            }
            len <<= 1;
        }
    }

    fn transform_2d(&self, re: &mut [f32], im: &mut [f32], inverse: bool) {
        let n = self.n;
        for r in 0..n {
            self.transform(
                &mut re[r * n..(r + 1) * n],
                &mut im[r * n..(r + 1) * n],
                inverse,
            );
        }
        let (mut cr, mut ci) = (vec![0.0f32; n], vec![0.0f32; n]);
        for c in 0..n {
            for r in 0..n {
                cr[r] = re[r * n + c];
                ci[r] = im[r * n + c];
            }
            self.transform(&mut cr, &mut ci, inverse);
            for r in 0..n {
                re[r * n + c] = cr[r];
                im[r * n + c] = ci[r];
            }
        }
    }

    fn forward_2d(&self, re: &mut [f32], im: &mut [f32]) {
        self.transform_2d(re, im, false);
    }

    fn inverse_2d(&self, re: &mut [f32], im: &mut [f32]) {
        self.transform_2d(re, im, true);
        let scale = 1.0 / (self.n * self.n) as f32;
        for v in re.iter_mut().chain(im.iter_mut()) {
            *v *= scale;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fft_round_trips_and_finds_a_tone() {
        let fft = Fft::new(16);
        let mut re: Vec<f32> = (0..256)
            .map(|i| ((i % 16) as f32 * std::f32::consts::TAU * 3.0 / 16.0).cos())
            .collect();
        let orig = re.clone();
        let mut im = vec![0.0; 256];
        fft.forward_2d(&mut re, &mut im);
        // All the energy at (u = ±3, v = 0).
        assert!((re[3] - 128.0).abs() < 1e-3 && (re[13] - 128.0).abs() < 1e-3);
        fft.inverse_2d(&mut re, &mut im);
        for (a, b) in re.iter().zip(&orig) {
            assert!((a - b).abs() < 1e-4);
        }
    }

    fn scene(w: u32, h: u32) -> RgbImage {
        RgbImage::from_fn(w, h, |x, y| {
            let v = 120.0 + 60.0 * ((x as f32 / 37.0).sin() * (y as f32 / 23.0).cos());
            image::Rgb([v as u8, (v * 0.8) as u8, (v * 0.6) as u8])
        })
    }

    #[test]
    fn removes_a_grating_and_keeps_the_scene() {
        let clean = scene(256, 200);
        let mut moire = clean.clone();
        for (x, y, p) in moire.enumerate_pixels_mut() {
            let m =
                1.0 + 0.15 * (std::f32::consts::TAU * (0.11 * x as f32 + 0.07 * y as f32)).cos();
            for c in &mut p.0 {
                *c = (f32::from(*c) * m).round().clamp(0.0, 255.0) as u8;
            }
        }
        let out = remove(&moire);
        let err = |a: &RgbImage| -> f32 {
            a.as_raw()
                .iter()
                .zip(clean.as_raw())
                .map(|(&p, &q)| (f32::from(p) - f32::from(q)).powi(2))
                .sum::<f32>()
        };
        assert!(
            err(&out) < err(&moire) / 4.0,
            "{} vs {}",
            err(&out),
            err(&moire)
        );
    }

    #[test]
    fn small_images_pass_through() {
        for (w, h) in [(1, 1), (63, 200), (200, 10)] {
            assert_eq!(remove(&scene(w, h)).dimensions(), (w, h));
        }
    }
}
