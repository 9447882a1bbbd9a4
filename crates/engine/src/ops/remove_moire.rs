//! Moiré removal: suppresses the interference patterns of photographed screens, scanned
//! halftone prints and finely patterned subjects aliased by a sensor or a downscale.
//!
//! Method: spectral notch filtering in overlapping tiles. Moiré is a near-periodic
//! pattern multiplied into the picture, so in the logarithm of each channel it is added,
//! and in the spectrum it shows as isolated sharp peaks standing far above their
//! neighbourhood (natural image spectra are smooth, falling off with frequency). The log
//! channels are split into their mean (luma-like, full resolution) and two differences
//! (chroma, at half resolution: colour moiré is coarse once aliased, and the eye reads
//! colour at lower resolution). In each plane a survey of the tiles finds the frequencies
//! that stand out on average (the moiré's: it covers the picture, structure does not);
//! each [`TILE`]-pixel tile (half-overlapping, sine-windowed for perfect reconstruction)
//! then has those frequencies scaled down to their neighbourhood where they stand out.
//! Two real tiles share one complex transform. A photo without such peaks comes back
//! bit-identical.

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
    let log = |c: usize| Plane::from_fn(w, h, |x, y| (f32::from(raw[(y * w + x) * 3 + c]) + 1.0).ln());
    let [lr, lg, lb] = [log(0), log(1), log(2)];
    let mean = lr.zip(&lg, |a, b| a + b).zip(&lb, |s, b| (s + b) / 3.0);
    let u = lr.zip(&lg, |r, g| r - g).downscale(2);
    let v = lb.zip(&lg, |b, g| b - g).downscale(2);
    let chroma = u.width >= TILE / 2 && u.height >= TILE / 2;
    let planes: Vec<&Plane> = if chroma {
        vec![&mean, &u, &v]
    } else {
        vec![&mean]
    };
    let Some(changes) = filter_planes(&planes) else {
        return img.clone();
    };
    let zero = || Plane::new(w, h);
    let dy = changes[0].clone().unwrap_or_else(zero);
    let du = changes.get(1).cloned().flatten().map_or_else(zero, |p| p.upscale_to(w, h));
    let dv = changes.get(2).cloned().flatten().map_or_else(zero, |p| p.upscale_to(w, h));
    let mut out = img.clone();
    out.par_chunks_mut(w * 3).enumerate().for_each(|(y, row)| {
        for x in 0..w {
            let i = y * w + x;
            let dg = dy.data[i] - (du.data[i] + dv.data[i]) / 3.0;
            let delta = [dg + du.data[i], dg, dg + dv.data[i]];
            for (c, d) in delta.into_iter().enumerate() {
                let s = &mut row[x * 3 + c];
                *s = ((f32::from(*s) + 1.0) * d.exp() - 1.0 + 0.5).clamp(0.0, 255.0) as u8;
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
fn load_tile(p: &Plane, x0: isize, y0: isize, window: &[f32], out: &mut [f32]) -> f32 {
    let (w, h) = (p.width, p.height);
    for y in 0..TILE {
        let row = &p.data[mirror(y0 + y as isize, h) * w..][..w];
        for x in 0..TILE {
            out[y * TILE + x] = row[mirror(x0 + x as isize, w)];
        }
    }
    let mean = out.iter().sum::<f32>() / (TILE * TILE) as f32;
    for y in 0..TILE {
        for x in 0..TILE {
            out[y * TILE + x] = (out[y * TILE + x] - mean) * window[x] * window[y];
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

/// One tile of one plane: (plane, tile index).
type Job = (usize, usize);

/// The tiles of a plane: origins start at -HOP so every pixel is covered by four tiles.
struct Grid {
    nx: usize,
    ny: usize,
}

impl Grid {
    fn of(p: &Plane) -> Self {
        Self {
            nx: (p.width + HOP).div_ceil(HOP),
            ny: (p.height + HOP).div_ceil(HOP),
        }
    }

    fn origin(&self, t: usize) -> (isize, isize) {
        (
            (t % self.nx) as isize * HOP as isize - HOP as isize,
            (t / self.nx) as isize * HOP as isize - HOP as isize,
        )
    }
}

/// Transforms two real tiles at once (the first in the real part, the second in the
/// imaginary part) and separates their spectra: (re, im) of each.
struct PairSpectra {
    spectra: [(Vec<f32>, Vec<f32>); 2],
    means: [f32; 2],
}

fn conjugate_index(i: usize) -> usize {
    let (u, v) = (i % TILE, i / TILE);
    ((TILE - v) % TILE) * TILE + (TILE - u) % TILE
}

fn pair_spectra(planes: &[&Plane], jobs: &[Job], window: &[f32], fft: &Fft) -> PairSpectra {
    let mut re = vec![0.0f32; TILE * TILE];
    let mut im = vec![0.0f32; TILE * TILE];
    let mut means = [0.0f32; 2];
    for (k, &(p, t)) in jobs.iter().enumerate() {
        let (x0, y0) = Grid::of(planes[p]).origin(t);
        let buf = if k == 0 { &mut re } else { &mut im };
        means[k] = load_tile(planes[p], x0, y0, window, buf);
    }
    fft.forward_2d(&mut re, &mut im);
    let n = TILE * TILE;
    let (mut ar, mut ai, mut br, mut bi) = (vec![0.0; n], vec![0.0; n], vec![0.0; n], vec![0.0; n]);
    for i in 0..n {
        let j = conjugate_index(i);
        ar[i] = 0.5 * (re[i] + re[j]);
        ai[i] = 0.5 * (im[i] - im[j]);
        br[i] = 0.5 * (im[i] + im[j]);
        bi[i] = -0.5 * (re[i] - re[j]);
    }
    PairSpectra {
        spectra: [(ar, ai), (br, bi)],
        means,
    }
}

fn is_low(i: usize) -> bool {
    let (u, v) = (i % TILE, i / TILE);
    let signed = |k: usize| if k < TILE / 2 { k as f32 } else { k as f32 - TILE as f32 };
    signed(u).hypot(signed(v)) < MIN_RADIUS
}

/// The frequencies of a plane's pattern, from the survey's summed ratios to the
/// neighbourhood and magnitudes: isolated peaks that stand out on average.
fn pattern_of(ratio: &[f32], magnitude: &[f32], tiles: f32) -> Vec<bool> {
    // Straight edges in the picture make ridges through the origin instead, which fall
    // steadily along their length: a pattern must be a strict local maximum.
    let at = |v: &[f32], u: isize, w: isize| {
        v[(w.rem_euclid(TILE as isize) as usize) * TILE + u.rem_euclid(TILE as isize) as usize]
    };
    let mut pattern = vec![false; TILE * TILE];
    for i in 0..TILE * TILE {
        if is_low(i) || ratio[i] / tiles <= PEAK_FACTOR {
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
                    pattern[j] = !is_low(j);
                }
            }
        }
    }
    pattern
}

/// Overlap-add notch filtering of each plane. Pass one averages, over non-overlapping
/// tiles, how far each frequency stands above its neighbourhood; a pattern that covers
/// the picture stands out in the same bins everywhere, while picture structure does not.
/// Pass two scales those bins down to their neighbourhood in every tile. Returns each
/// plane's change (filtered − original), `None` for a plane without a pattern, and
/// `None` overall when no plane has one.
fn filter_planes(planes: &[&Plane]) -> Option<Vec<Option<Plane>>> {
    // sin window: analysis × synthesis = sin², which sums to 1 at half overlap.
    let window: Vec<f32> = (0..TILE)
        .map(|i| (std::f32::consts::PI * (i as f32 + 0.5) / TILE as f32).sin())
        .collect();
    let fft = Fft::new(TILE);
    let grids: Vec<Grid> = planes.iter().map(|p| Grid::of(p)).collect();
    // Fixed pairs and chunks, summed in order: the result does not depend on the thread
    // count.
    let survey: Vec<Job> = grids
        .iter()
        .enumerate()
        .flat_map(|(p, g)| {
            (0..g.nx * g.ny)
                .filter(move |t| (t % g.nx).is_multiple_of(2) && (t / g.nx).is_multiple_of(2))
                .map(move |t| (p, t))
        })
        .collect();
    let n = TILE * TILE;
    let parts: Vec<Vec<Vec<f32>>> = survey
        .par_chunks(16)
        .map(|chunk| {
            // Per plane: ratios to the neighbourhood, then magnitudes.
            let mut acc = vec![vec![0.0f32; 2 * n]; planes.len()];
            for pair in chunk.chunks(2) {
                let spectra = pair_spectra(planes, pair, &window, &fft);
                for (k, &(p, _)) in pair.iter().enumerate() {
                    let (re, im) = &spectra.spectra[k];
                    let (m, bg) = magnitude_and_background(re, im);
                    let (ratios, magnitudes) = acc[p].split_at_mut(n);
                    for (((a, s), &mi), &b) in
                        ratios.iter_mut().zip(magnitudes.iter_mut()).zip(&m).zip(&bg)
                    {
                        *a += (mi / b.max(1e-6)).min(20.0);
                        *s += mi;
                    }
                }
            }
            acc
        })
        .collect();
    let mut sums = vec![vec![0.0f32; 2 * n]; planes.len()];
    for part in parts {
        for (s, p) in sums.iter_mut().zip(part) {
            s.iter_mut().zip(p).for_each(|(a, b)| *a += b);
        }
    }
    let patterns: Vec<Option<Vec<bool>>> = sums
        .iter()
        .enumerate()
        .map(|(p, s)| {
            let tiles = survey.iter().filter(|j| j.0 == p).count().max(1) as f32;
            let (ratio, magnitude) = s.split_at(n);
            let pattern = pattern_of(ratio, magnitude, tiles);
            pattern.iter().any(|&b| b).then_some(pattern)
        })
        .collect();
    if patterns.iter().all(Option::is_none) {
        return None;
    }
    let jobs: Vec<Job> = grids
        .iter()
        .enumerate()
        .filter(|(p, _)| patterns[*p].is_some())
        .flat_map(|(p, g)| (0..g.nx * g.ny).map(move |t| (p, t)))
        .collect();
    let tiles: Vec<(Job, Vec<f32>)> = jobs
        .par_chunks(2)
        .flat_map_iter(|pair| {
            let PairSpectra { mut spectra, means } = pair_spectra(planes, pair, &window, &fft);
            for (k, &(p, _)) in pair.iter().enumerate() {
                let Some(pattern) = &patterns[p] else { continue };
                let (re, im) = &mut spectra[k];
                let (m, bg) = magnitude_and_background(re, im);
                let gain: Vec<f32> = (0..n)
                    .map(|i| {
                        if pattern[i] && m[i] > PEAK_FACTOR * bg[i] {
                            bg[i] / m[i]
                        } else {
                            1.0
                        }
                    })
                    .collect();
                // The same gain at k and −k keeps the tile real, so the two tiles of a
                // pair do not leak into each other.
                for i in 0..n {
                    let g = gain[i].min(gain[conjugate_index(i)]);
                    re[i] *= g;
                    im[i] *= g;
                }
            }
            // Recombine into one complex spectrum: A + iB.
            let [(ar, ai), (br, bi)] = &spectra;
            let mut re: Vec<f32> = ar.iter().zip(bi).map(|(a, b)| a - b).collect();
            let mut im: Vec<f32> = ai.iter().zip(br).map(|(a, b)| a + b).collect();
            fft.inverse_2d(&mut re, &mut im);
            let mut out = Vec::with_capacity(2);
            for (k, &job) in pair.iter().enumerate() {
                let src = if k == 0 { &re } else { &im };
                let mut tile = vec![0.0f32; n];
                for y in 0..TILE {
                    for x in 0..TILE {
                        let wxy = window[x] * window[y];
                        tile[y * TILE + x] = (src[y * TILE + x] + means[k] * wxy) * wxy;
                    }
                }
                out.push((job, tile));
            }
            out
        })
        .collect();
    let mut filtered: Vec<Option<Plane>> = planes
        .iter()
        .enumerate()
        .map(|(p, plane)| patterns[p].as_ref().map(|_| Plane::new(plane.width, plane.height)))
        .collect();
    for ((p, t), tile) in tiles {
        let Some(out) = filtered[p].as_mut() else { continue };
        let (w, h) = (out.width, out.height);
        let (x0, y0) = grids[p].origin(t);
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
    Some(
        filtered
            .into_iter()
            .zip(planes)
            .map(|(f, p)| f.map(|f| f.zip(p, |a, b| a - b)))
            .collect(),
    )
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
