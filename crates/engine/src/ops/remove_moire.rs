//! Moiré removal: suppresses the interference patterns of photographed screens, halftone
//! prints and fine patterns aliased by downsampling.
//!
//! Method: spectral notch filtering in overlapping tiles, in luma and in chroma. Moiré is
//! a near-periodic pattern multiplied into the picture, so in the logarithm of the luma
//! it is added, and in the spectrum it shows as isolated sharp peaks standing far above
//! their neighbourhood (natural image spectra are smooth, falling off with frequency).
//! Each [`TILE`]-pixel tile (half-overlapping, sine-windowed for perfect reconstruction)
//! is transformed; a frequency is part of the pattern when it stands more than
//! [`PEAK_FACTOR`] times above its neighbourhood's mean on average **and in most tiles**
//! ([`MIN_COVER`]: moiré covers the capture, a fence or a brick wall lies on an object in
//! part of it), and is a strict local maximum. Those bins are scaled down to their
//! neighbourhood in every tile where they stand out. The luma's gain carries to chroma
//! (a multiplicative pattern scales both); chroma is then notched the same way, and
//! where its notch found a pattern, a guided filter on the clean luma removes the colour
//! that luma does not explain ([`clean_chroma`]).

use std::sync::Arc;

use image::RgbImage;

use rayon::prelude::*;
use rustfft::num_complex::Complex32;

use crate::filters::channels::{from_planes, to_planes};
use crate::filters::opponent::{from_opponent, to_opponent};
use crate::filters::planes::{Plane, box_mean, guided_filter};

/// Tile side (a power of two) and hop.
const TILE: usize = 128;
const HOP: usize = TILE / 2;
/// A frequency is part of a pattern when, averaged over the tiles, its magnitude is this
/// many times its neighbourhood's mean.
const PEAK_FACTOR: f32 = 2.0;
/// Neighbourhood radius (bins) of the local mean.
const NEIGHBOURHOOD: usize = 4;
/// A frequency is part of a pattern only when it stands out in at least this share of
/// the tiles: moiré covers the capture, while a picture's own regular texture (a fence,
/// a brick wall) lies on an object in part of the frame.
const MIN_COVER: f32 = 0.85;
/// Luma offset (0..1 scale) of the gain carried from luma to chroma, so near-black
/// pixels do not get wild gains.
const GAIN_OFFSET: f32 = 0.004;
/// Radius of the local energy of what the chroma notch removed, and the RMS (0..1
/// scale) at which that energy counts as a pattern in full.
const EVIDENCE_RADIUS: usize = 8;
const EVIDENCE_LEVEL: f32 = 0.01;
/// Guided filter of chroma by luma: radius and regulariser.
const GUIDE_RADIUS: usize = 3;
const GUIDE_EPS: f32 = 1e-3;
/// The 8-bit rounding noise (σ = 1/√12 of a level) in log luma at mid-grey, and in an
/// opponent chroma plane (0..1 scale; the transform is orthonormal).
const LOG_LUMA_NOISE: f32 = 0.29 / 128.5;
const CHROMA_NOISE: f32 = 0.29 / 255.0;
/// Frequencies within this radius (bins) of zero are never touched.
const MIN_RADIUS: f32 = 3.0;

/// The image with moiré suppressed.
pub(crate) fn remove(img: &RgbImage) -> RgbImage {
    let (w, h) = (img.width() as usize, img.height() as usize);
    if w < TILE / 2 || h < TILE / 2 {
        return img.clone();
    }
    let [luma, red_blue, green] = to_opponent(&to_planes(img));
    // Luma: the pattern multiplies the picture, so it is notched in the logarithm.
    let log = luma.map(|v| (v * 255.0 + 1.0).ln());
    let clean_luma = match filter_tiles(&log, LOG_LUMA_NOISE) {
        Some(filtered) => filtered.map(|v| (v.exp() - 1.0) / 255.0),
        None => luma.clone(),
    };
    // A multiplicative pattern scales chroma as it scales luma: undo the same gain.
    let gain = clean_luma.zip(&luma, |a, b| {
        ((a + GAIN_OFFSET) / (b + GAIN_OFFSET)).clamp(0.5, 2.0)
    });
    let chroma = |c: &Plane| clean_chroma(&c.zip(&gain, |c, g| c * g), &clean_luma);
    let (red_blue, green) = (chroma(&red_blue), chroma(&green));
    from_planes(&from_opponent(&[clean_luma, red_blue, green]))
}

/// One chroma plane with its pattern removed. Colour moiré (a screen's subpixels, the
/// inks of a print) is a pattern in chroma that luma does not explain. Its spectral
/// peaks are notched as in luma; where the notch found a pattern, what remains of it
/// (the part between the peaks, smeared by the window) is removed by a guided filter
/// on the clean luma, which keeps every colour that follows the luma (a tinted texture,
/// a coloured edge) and flattens the rest. Where the notch found nothing, the plane is
/// left as it is: a photo's own colour detail is not moiré.
fn clean_chroma(c: &Plane, clean_luma: &Plane) -> Plane {
    let Some(notched) = filter_tiles(c, CHROMA_NOISE) else {
        return c.clone();
    };
    let removed = c.zip(&notched, |a, b| (a - b) * (a - b));
    let evidence = box_mean(&removed, EVIDENCE_RADIUS);
    let guided = guided_filter(clean_luma, &notched, GUIDE_RADIUS, GUIDE_EPS);
    let mut out = notched.clone();
    out.data
        .par_iter_mut()
        .zip(&guided.data)
        .zip(&evidence.data)
        .for_each(|((o, &g), &e)| {
            let s = (e.sqrt() / EVIDENCE_LEVEL).min(1.0);
            *o += s * (g - *o);
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

/// A tile's windowed samples (mean removed), written to the real or imaginary part of
/// `buf`, and its mean.
fn load_tile(
    p: &Plane,
    (x0, y0): (isize, isize),
    window: &[f32],
    buf: &mut [Complex32],
    imaginary: bool,
) -> f32 {
    let (w, h) = (p.width, p.height);
    // Mirrored indices once per tile, not per pixel.
    let mut cols = [0usize; TILE];
    let mut rows = [0usize; TILE];
    for i in 0..TILE {
        cols[i] = mirror(x0 + i as isize, w);
        rows[i] = mirror(y0 + i as isize, h) * w;
    }
    let mut values = [0.0f32; TILE];
    let mut sum = 0.0f32;
    for (y, &row) in rows.iter().enumerate() {
        let line = &p.data[row..row + w];
        let mut line_sum = 0.0f32;
        for (x, &c) in cols.iter().enumerate() {
            values[x] = line[c];
            line_sum += line[c];
        }
        sum += line_sum;
        let out = &mut buf[y * TILE..(y + 1) * TILE];
        for ((z, &v), &wx) in out.iter_mut().zip(&values).zip(window) {
            let v = v * wx * window[y];
            if imaginary {
                z.im = v;
            } else {
                z.re = v;
            }
        }
    }
    let mean = sum / (TILE * TILE) as f32;
    // The windowed mean, removed after the fact: (v − mean)·w = v·w − mean·w.
    for y in 0..TILE {
        let out = &mut buf[y * TILE..(y + 1) * TILE];
        for (z, &wx) in out.iter_mut().zip(window) {
            let m = mean * wx * window[y];
            if imaginary {
                z.im -= m;
            } else {
                z.re -= m;
            }
        }
    }
    mean
}

/// Index of the frequency opposite to `i` (the conjugate bin of a real signal).
fn opposite(i: usize) -> usize {
    let (r, c) = (i / TILE, i % TILE);
    ((TILE - r) % TILE) * TILE + (TILE - c) % TILE
}

/// The spectra of the two real tiles packed as `re + i·im` in `z`: `A = (Z(k) +
/// conj Z(−k)) / 2`, `B = (Z(k) − conj Z(−k)) / 2i`.
fn split(z: &[Complex32]) -> (Vec<Complex32>, Vec<Complex32>) {
    (0..z.len())
        .map(|i| {
            let (p, q) = (z[i], z[opposite(i)].conj());
            let a = (p + q) * 0.5;
            let d = (p - q) * 0.5;
            (a, Complex32::new(d.im, -d.re))
        })
        .unzip()
}

/// The local mean magnitude around each frequency (its spectral envelope): the mean
/// over the `(2·NEIGHBOURHOOD + 1)²` bins around it, wrapping round (a spectrum is
/// periodic). Indexed like the spectrum.
fn background(magnitude: &[f32]) -> Vec<f32> {
    const R: usize = NEIGHBOURHOOD;
    let wrap = |i: usize| (i + TILE - R) % TILE;
    let mut horizontal = vec![0.0f32; TILE * TILE];
    for (row, out) in magnitude
        .chunks_exact(TILE)
        .zip(horizontal.chunks_exact_mut(TILE))
    {
        let mut sum: f32 = (0..=2 * R).map(|k| row[wrap(k)]).sum();
        for (c, o) in out.iter_mut().enumerate() {
            *o = sum;
            // Slide: drop c − R, add c + R + 1.
            sum += row[(c + R + 1) % TILE] - row[wrap(c)];
        }
    }
    let mut out = vec![0.0f32; TILE * TILE];
    let norm = 1.0 / ((2 * R + 1) * (2 * R + 1)) as f32;
    let mut sum: Vec<f32> = (0..TILE)
        .map(|c| (0..=2 * R).map(|k| horizontal[wrap(k) * TILE + c]).sum())
        .collect();
    for r in 0..TILE {
        for c in 0..TILE {
            out[r * TILE + c] = sum[c] * norm;
            sum[c] += horizontal[((r + R + 1) % TILE) * TILE + c] - horizontal[wrap(r) * TILE + c];
        }
    }
    out
}

/// [`background`] at one frequency.
fn background_at(magnitude: &[f32], i: usize) -> f32 {
    const R: usize = NEIGHBOURHOOD;
    let (r, c) = (i / TILE, i % TILE);
    let mut sum = 0.0f32;
    for dr in 0..=2 * R {
        let row = &magnitude[((r + TILE + dr - R) % TILE) * TILE..][..TILE];
        for dc in 0..=2 * R {
            sum += row[(c + TILE + dc - R) % TILE];
        }
    }
    sum / ((2 * R + 1) * (2 * R + 1)) as f32
}

/// Tile origins: tiles start at -HOP so every pixel is covered by four tiles.
fn origins(w: usize, h: usize) -> (usize, Vec<(isize, isize)>) {
    let nx = (w + HOP).div_ceil(HOP);
    let ny = (h + HOP).div_ceil(HOP);
    let all = (0..nx * ny)
        .map(|t| {
            (
                (t % nx) as isize * HOP as isize - HOP as isize,
                (t / nx) as isize * HOP as isize - HOP as isize,
            )
        })
        .collect();
    (nx, all)
}

/// Overlap-add notch filtering of the whole plane (`None`: no pattern found). Pass one counts, over the tiles, how
/// far and how often each frequency stands above its neighbourhood; a pattern that
/// covers the picture stands out in the same bins everywhere, while picture structure
/// does not. Pass two scales those bins down to their neighbourhood in every tile. Two
/// real tiles share one complex transform.
fn filter_tiles(p: &Plane, noise: f32) -> Option<Plane> {
    // The envelope never falls below the 8-bit rounding noise's: in a flat tile, a
    // trace of a pattern elsewhere is not a peak. White noise of σ under the window
    // has a mean magnitude of about σ·TILE/2.
    let floor = noise * (TILE / 2) as f32;
    let (w, h) = (p.width, p.height);
    let (nx, origin) = origins(w, h);
    // sin window: analysis × synthesis = sin², which sums to 1 at half overlap.
    let window: Vec<f32> = (0..TILE)
        .map(|i| (std::f32::consts::PI * (i as f32 + 0.5) / TILE as f32).sin())
        .collect();
    let fft = Fft2::new();
    let low = |i: usize| {
        let signed = |u: usize| {
            if u < TILE / 2 {
                u as f32
            } else {
                u as f32 - TILE as f32
            }
        };
        signed(i % TILE).hypot(signed(i / TILE)) < MIN_RADIUS
    };
    // Non-overlapping tiles suffice to find the pattern. Fixed chunks of pairs, summed in
    // order: the result does not depend on the thread count.
    let survey: Vec<usize> = (0..origin.len())
        .filter(|t| (t % nx).is_multiple_of(2) && (t / nx).is_multiple_of(2))
        .collect();
    let pairs: Vec<&[usize]> = survey.chunks(2).collect();
    let parts: Vec<Vec<f32>> = pairs
        .par_chunks(8)
        .map(|chunk| {
            // Ratios to the neighbourhood, magnitudes, and how many tiles stood out.
            let mut acc = vec![0.0f32; 3 * TILE * TILE];
            let mut work = fft.buffers();
            for pair in chunk {
                work.0.fill(Complex32::default());
                for (k, &t) in pair.iter().enumerate() {
                    load_tile(p, origin[t], &window, &mut work.0, k == 1);
                }
                let spectrum = fft.forward(&mut work);
                let (a, b) = split(spectrum);
                for spec in [a, b].iter().take(pair.len()) {
                    let m: Vec<f32> = spec.iter().map(|z| z.norm_sqr().sqrt()).collect();
                    let bg = background(&m);
                    let (ratios, rest) = acc.split_at_mut(TILE * TILE);
                    let (magnitudes, counts) = rest.split_at_mut(TILE * TILE);
                    for i in 0..TILE * TILE {
                        let bg = bg[i].max(floor);
                        ratios[i] += (m[i] / bg).min(20.0);
                        magnitudes[i] += m[i];
                        if m[i] > PEAK_FACTOR * bg {
                            counts[i] += 1.0;
                        }
                    }
                }
            }
            acc
        })
        .collect();
    let mut acc = vec![0.0f32; 3 * TILE * TILE];
    for part in parts {
        acc.iter_mut().zip(part).for_each(|(a, b)| *a += b);
    }
    let tiles_count = survey.len().max(1) as f32;
    let (ratio, rest) = acc.split_at(TILE * TILE);
    let (magnitude, counts) = rest.split_at(TILE * TILE);
    // A pattern is an isolated peak: well above its neighbourhood on average and in most
    // tiles, and a strict local maximum of the mean magnitude. Straight edges in the
    // picture make ridges through the origin instead, which fall steadily along their
    // length.
    let at = |v: &[f32], u: isize, w: isize| {
        v[(w.rem_euclid(TILE as isize) as usize) * TILE + u.rem_euclid(TILE as isize) as usize]
    };
    let mut pattern = vec![false; TILE * TILE];
    for i in 0..TILE * TILE {
        if low(i) || ratio[i] / tiles_count <= PEAK_FACTOR || counts[i] / tiles_count < MIN_COVER {
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
        return None;
    }
    // Symmetric, since the magnitudes are.
    let pattern_bins: Vec<usize> = (0..TILE * TILE)
        .filter(|&i| pattern[i] || pattern[opposite(i)])
        .collect();
    let all: Vec<usize> = (0..origin.len()).collect();
    let tiles: Vec<(usize, Vec<f32>)> = all
        .par_chunks(2)
        .flat_map_iter(|pair| {
            let mut work = fft.buffers();
            let mut means = [0.0f32; 2];
            for (k, &t) in pair.iter().enumerate() {
                means[k] = load_tile(p, origin[t], &window, &mut work.0, k == 1);
            }
            let spectrum = fft.forward(&mut work);
            // Only the pattern bins change: Z(k) = A(k) + i·B(k) is rebuilt there with
            // each tile's gain (its bin down to its neighbourhood), the same at k and −k
            // so each filtered tile stays real.
            let (ma, mb): (Vec<f32>, Vec<f32>) = (0..TILE * TILE)
                .map(|i| {
                    let (p, q) = (spectrum[i], spectrum[opposite(i)].conj());
                    (
                        (p + q).norm_sqr().sqrt() * 0.5,
                        (p - q).norm_sqr().sqrt() * 0.5,
                    )
                })
                .unzip();
            let gain = |m: &[f32], i: usize| {
                let bg = background_at(m, i).max(floor);
                if m[i] > PEAK_FACTOR * bg {
                    bg / m[i]
                } else {
                    1.0
                }
            };
            let spectrum = &work.1;
            let mut updates = Vec::with_capacity(pattern_bins.len());
            for &i in &pattern_bins {
                let j = opposite(i);
                let ga = gain(&ma, i).min(gain(&ma, j));
                let gb = gain(&mb, i).min(gain(&mb, j));
                let (p, q) = (spectrum[i], spectrum[j].conj());
                let a = (p + q) * 0.5;
                let d = (p - q) * 0.5;
                // B = d / i; i·gb·B = gb·d.
                updates.push((i, a * ga + d * gb));
            }
            for (i, z) in updates {
                work.1[i] = z;
            }
            let spatial = fft.inverse(&mut work);
            let scale = 1.0 / (TILE * TILE) as f32;
            pair.iter()
                .enumerate()
                .map(|(k, &t)| {
                    let mut tile = vec![0.0f32; TILE * TILE];
                    for y in 0..TILE {
                        for x in 0..TILE {
                            let wxy = window[x] * window[y];
                            let z = spatial[y * TILE + x] * scale;
                            let v = if k == 1 { z.im } else { z.re };
                            tile[y * TILE + x] = (v + means[k] * wxy) * wxy;
                        }
                    }
                    (t, tile)
                })
                .collect::<Vec<_>>()
        })
        .collect();
    let mut out = Plane::new(w, h);
    for (t, tile) in tiles {
        let (x0, y0) = origin[t];
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
    Some(out)
}

/// Work buffers of one 2-D transform: the data, its transpose, and FFT scratch.
type Buffers = (Vec<Complex32>, Vec<Complex32>, Vec<Complex32>);

/// 2-D FFT of a `TILE × TILE` block (rustfft on the rows, a transpose, the rows again).
/// The spectrum comes out transposed (`[u][v]`); the inverse takes it in that layout and
/// returns the block as it was. Every use here is symmetric in u and v.
struct Fft2 {
    forward: Arc<dyn rustfft::Fft<f32>>,
    inverse: Arc<dyn rustfft::Fft<f32>>,
}

impl Fft2 {
    fn new() -> Self {
        let mut planner = rustfft::FftPlanner::new();
        Self {
            forward: planner.plan_fft_forward(TILE),
            inverse: planner.plan_fft_inverse(TILE),
        }
    }

    fn buffers(&self) -> Buffers {
        let scratch = self
            .forward
            .get_inplace_scratch_len()
            .max(self.inverse.get_inplace_scratch_len());
        (
            vec![Complex32::default(); TILE * TILE],
            vec![Complex32::default(); TILE * TILE],
            vec![Complex32::default(); scratch],
        )
    }

    /// Transforms `buffers.0` (spatial); the spectrum is left in `buffers.1`.
    fn forward<'a>(&self, (data, other, scratch): &'a mut Buffers) -> &'a [Complex32] {
        self.forward.process_with_scratch(data, scratch);
        transpose(data, other);
        self.forward.process_with_scratch(other, scratch);
        other
    }

    /// Inverse-transforms the spectrum in `buffers.1`; the block (unscaled) is left in
    /// `buffers.0`.
    fn inverse<'a>(&self, (data, other, scratch): &'a mut Buffers) -> &'a [Complex32] {
        self.inverse.process_with_scratch(other, scratch);
        transpose(other, data);
        self.inverse.process_with_scratch(data, scratch);
        data
    }
}

fn transpose(src: &[Complex32], dst: &mut [Complex32]) {
    const B: usize = 16;
    for by in (0..TILE).step_by(B) {
        for bx in (0..TILE).step_by(B) {
            for y in by..by + B {
                for x in bx..bx + B {
                    dst[x * TILE + y] = src[y * TILE + x];
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packed_transform_splits_two_tiles_and_round_trips() {
        let fft = Fft2::new();
        let mut work = fft.buffers();
        let tone =
            |i: usize, f: f32| ((i % TILE) as f32 * std::f32::consts::TAU * f / TILE as f32).cos();
        for (i, z) in work.0.iter_mut().enumerate() {
            *z = Complex32::new(tone(i, 3.0), tone(i / TILE, 5.0));
        }
        let orig = work.0.clone();
        let (a, b) = split(fft.forward(&mut work));
        // Tile a: all its energy at x-frequency ±3; tile b at y-frequency ±5 (the
        // spectrum is transposed: index [u][v]).
        let n = (TILE * TILE) as f32 / 2.0;
        assert!((a[3 * TILE].re - n).abs() < 1e-2 && a[3].norm() < 1e-2);
        assert!((b[5].re - n).abs() < 1e-2 && b[5 * TILE].norm() < 1e-2);
        let spatial = fft.inverse(&mut work).to_vec();
        for (p, q) in spatial.iter().zip(&orig) {
            assert!((p / (TILE * TILE) as f32 - q).norm() < 1e-4);
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
    fn keeps_a_fence_in_part_of_the_frame() {
        // A regular texture on an object (the lower 40 %) is not moiré: it does not
        // cover the capture, so it must come back as it went in.
        let mut fence = scene(512, 512);
        for (x, y, p) in fence.enumerate_pixels_mut() {
            if y >= 307 && x % 12 < 4 {
                for c in &mut p.0 {
                    *c /= 4;
                }
            }
        }
        let out = remove(&fence);
        let worst = out
            .as_raw()
            .iter()
            .zip(fence.as_raw())
            .map(|(&a, &b)| a.abs_diff(b))
            .max();
        assert!(worst.is_some_and(|d| d <= 2), "{worst:?}");
    }

    #[test]
    fn small_images_pass_through() {
        for (w, h) in [(1, 1), (63, 200), (200, 10)] {
            assert_eq!(remove(&scene(w, h)).dimensions(), (w, h));
        }
    }
}
