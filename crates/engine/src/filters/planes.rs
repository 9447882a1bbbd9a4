//! Planar f32 images and the filters the operations share: area downscale, bilinear
//! upscale, O(1) box filter, O(1) min filter (van Herk / Gil-Werman), guided filter.
//! Rows are processed in parallel with rayon; every result is independent of the
//! thread count (no reductions across rows).

use rayon::prelude::*;

/// One channel of `width × height` f32 samples, row-major (internal; exposed for the
/// trainers).
#[derive(Debug, Clone, PartialEq)]
pub struct Plane {
    pub width: usize,
    pub height: usize,
    pub data: Vec<f32>,
}

impl Plane {
    pub fn new(width: usize, height: usize) -> Self {
        Self {
            width,
            height,
            data: vec![0.0; width * height],
        }
    }

    pub fn from_fn(width: usize, height: usize, f: impl Fn(usize, usize) -> f32 + Sync) -> Self {
        let mut p = Self::new(width, height);
        p.data
            .par_chunks_mut(width.max(1))
            .enumerate()
            .for_each(|(y, row)| {
                for (x, v) in row.iter_mut().enumerate() {
                    *v = f(x, y);
                }
            });
        p
    }

    pub fn at(&self, x: usize, y: usize) -> f32 {
        self.data[y * self.width + x]
    }

    /// Elementwise combination of two planes of the same size.
    #[must_use]
    pub fn zip(&self, other: &Plane, f: impl Fn(f32, f32) -> f32 + Sync) -> Plane {
        let mut out = Plane::new(self.width, self.height);
        out.data
            .par_iter_mut()
            .zip(self.data.par_iter().zip(other.data.par_iter()))
            .for_each(|(o, (&a, &b))| *o = f(a, b));
        out
    }

    #[must_use]
    pub fn map(&self, f: impl Fn(f32) -> f32 + Sync) -> Plane {
        let mut out = self.clone();
        out.data.par_iter_mut().for_each(|v| *v = f(*v));
        out
    }

    /// Mean of `factor × factor` blocks (the last block of a row or column may be
    /// partial).
    #[must_use]
    pub fn downscale(&self, factor: usize) -> Plane {
        if factor <= 1 {
            return self.clone();
        }
        let (w, h) = (self.width.div_ceil(factor), self.height.div_ceil(factor));
        Plane::from_fn(w, h, |x, y| {
            let (x0, y0) = (x * factor, y * factor);
            let (x1, y1) = (
                (x0 + factor).min(self.width),
                (y0 + factor).min(self.height),
            );
            let mut sum = 0.0;
            for yy in y0..y1 {
                sum += self.data[yy * self.width + x0..yy * self.width + x1]
                    .iter()
                    .sum::<f32>();
            }
            sum / ((x1 - x0) * (y1 - y0)) as f32
        })
    }

    /// Bilinear resize to `width × height` (sample centres aligned).
    #[must_use]
    pub fn upscale_to(&self, width: usize, height: usize) -> Plane {
        if width == self.width && height == self.height {
            return self.clone();
        }
        let sx = self.width as f32 / width as f32;
        let sy = self.height as f32 / height as f32;
        let max_x = self.width.saturating_sub(1) as f32;
        let max_y = self.height.saturating_sub(1) as f32;
        Plane::from_fn(width, height, |x, y| {
            let fx = ((x as f32 + 0.5) * sx - 0.5).clamp(0.0, max_x);
            let fy = ((y as f32 + 0.5) * sy - 0.5).clamp(0.0, max_y);
            let (x0, y0) = (fx as usize, fy as usize);
            let (x1, y1) = ((x0 + 1).min(self.width - 1), (y0 + 1).min(self.height - 1));
            let (tx, ty) = (fx - x0 as f32, fy - y0 as f32);
            let top = self.at(x0, y0) * (1.0 - tx) + self.at(x1, y0) * tx;
            let bottom = self.at(x0, y1) * (1.0 - tx) + self.at(x1, y1) * tx;
            top * (1.0 - ty) + bottom * ty
        })
    }
}

/// Catmull-Rom weights of the four taps around a sample at fraction `t`.
pub(crate) fn catmull_rom(t: f32) -> [f32; 4] {
    let (t2, t3) = (t * t, t * t * t);
    [
        (-t3 + 2.0 * t2 - t) / 2.0,
        1.5 * t3 - 2.5 * t2 + 1.0,
        (-3.0 * t3 + 4.0 * t2 + t) / 2.0,
        (t3 - t2) / 2.0,
    ]
}

/// Exactly 2x Catmull-Rom upscale with centre-aligned samples (edges clamped). At 2x every
/// output sample falls a quarter pixel from a source sample, so there are only two
/// kernels; separable, a few multiply-adds per output sample.
#[must_use]
pub fn upscale_2x(src: &Plane) -> Plane {
    let (w, h) = (src.width, src.height);
    let (near, far) = (catmull_rom(0.75), catmull_rom(0.25));
    let tap = |row: &[f32], i: isize| row[i.clamp(0, row.len() as isize - 1) as usize];
    // Horizontal: w -> 2w.
    let mut horiz = Plane::new(2 * w, h);
    horiz
        .data
        .par_chunks_mut((2 * w).max(1))
        .enumerate()
        .for_each(|(y, out)| {
            let row = &src.data[y * w..(y + 1) * w];
            for i in 0..w as isize {
                let s = [
                    tap(row, i - 2),
                    tap(row, i - 1),
                    tap(row, i),
                    tap(row, i + 1),
                    tap(row, i + 2),
                ];
                out[2 * i as usize] =
                    near[0] * s[0] + near[1] * s[1] + near[2] * s[2] + near[3] * s[3];
                out[2 * i as usize + 1] =
                    far[0] * s[1] + far[1] * s[2] + far[2] * s[3] + far[3] * s[4];
            }
        });
    // Vertical: h -> 2h, whole rows at a time.
    let mut out = Plane::new(2 * w, 2 * h);
    let ow = 2 * w;
    out.data
        .par_chunks_mut(ow.max(1))
        .enumerate()
        .for_each(|(oy, o)| {
            let i = (oy / 2) as isize;
            let (k, base) = if oy % 2 == 0 {
                (near, i - 2)
            } else {
                (far, i - 1)
            };
            let rows: [&[f32]; 4] = std::array::from_fn(|t| {
                let r = (base + t as isize).clamp(0, h as isize - 1) as usize;
                &horiz.data[r * ow..(r + 1) * ow]
            });
            for (x, v) in o.iter_mut().enumerate() {
                *v = k[0] * rows[0][x] + k[1] * rows[1][x] + k[2] * rows[2][x] + k[3] * rows[3][x];
            }
        });
    out
}

/// Mean over the `(2r+1)²` window clipped to the image, in O(1) per pixel.
///
/// Sliding sums in f64 (exact enough that the order of additions never shows in an f32
/// result): along each row, then down strips of columns, each strip carrying one running
/// sum per column, so no pass allocates more than a row.
pub fn box_mean(src: &Plane, r: usize) -> Plane {
    let (w, h) = (src.width, src.height);
    if w == 0 || h == 0 {
        return src.clone();
    }
    // Reciprocals of the clipped window lengths along an axis of `n` samples.
    let inverse_lengths = |n: usize| -> Vec<f64> {
        (0..n)
            .map(|i| 1.0 / ((i + r + 1).min(n) - i.saturating_sub(r)) as f64)
            .collect()
    };
    let (inv_w, inv_h) = (inverse_lengths(w), inverse_lengths(h));
    let mut horiz = Plane::new(w, h);
    horiz
        .data
        .par_chunks_mut(w)
        .zip(src.data.par_chunks(w))
        .for_each(|(out, row)| {
            let mut acc: f64 = row[..(r + 1).min(w)].iter().map(|&v| f64::from(v)).sum();
            for x in 0..w {
                out[x] = (acc * inv_w[x]) as f32;
                if x + r + 1 < w {
                    acc += f64::from(row[x + r + 1]);
                }
                if x >= r {
                    acc -= f64::from(row[x - r]);
                }
            }
        });
    // Columns in strips: every strip slides its own sums down the image.
    const STRIP: usize = 256;
    let strips: Vec<(usize, Vec<f32>)> = (0..w.div_ceil(STRIP))
        .into_par_iter()
        .map(|s| {
            let (x0, x1) = (s * STRIP, ((s + 1) * STRIP).min(w));
            let sw = x1 - x0;
            let row = |y: usize| &horiz.data[y * w + x0..y * w + x1];
            let mut acc = vec![0.0f64; sw];
            for y in 0..(r + 1).min(h) {
                acc.iter_mut()
                    .zip(row(y))
                    .for_each(|(a, &v)| *a += f64::from(v));
            }
            let mut strip = vec![0.0f32; sw * h];
            for y in 0..h {
                let inv = inv_h[y];
                strip[y * sw..(y + 1) * sw]
                    .iter_mut()
                    .zip(&acc)
                    .for_each(|(o, &a)| *o = (a * inv) as f32);
                if y + r + 1 < h {
                    acc.iter_mut()
                        .zip(row(y + r + 1))
                        .for_each(|(a, &v)| *a += f64::from(v));
                }
                if y >= r {
                    acc.iter_mut()
                        .zip(row(y - r))
                        .for_each(|(a, &v)| *a -= f64::from(v));
                }
            }
            (x0, strip)
        })
        .collect();
    let mut out = Plane::new(w, h);
    for (x0, strip) in strips {
        let sw = strip.len() / h;
        for y in 0..h {
            out.data[y * w + x0..y * w + x0 + sw].copy_from_slice(&strip[y * sw..(y + 1) * sw]);
        }
    }
    out
}

/// Minimum over a 1-D window of radius `r` (van Herk / Gil-Werman, O(1) per sample).
fn min_1d(src: &[f32], dst: &mut [f32], r: usize, g: &mut Vec<f32>, hbuf: &mut Vec<f32>) {
    let n = src.len();
    let k = 2 * r + 1;
    let padded = n + 2 * r;
    let value = |j: usize| {
        if j >= r && j - r < n {
            src[j - r]
        } else {
            f32::INFINITY
        }
    };
    g.clear();
    hbuf.clear();
    g.resize(padded, f32::INFINITY);
    hbuf.resize(padded, f32::INFINITY);
    for j in 0..padded {
        g[j] = if j % k == 0 {
            value(j)
        } else {
            g[j - 1].min(value(j))
        };
    }
    for j in (0..padded).rev() {
        hbuf[j] = if j % k == k - 1 || j == padded - 1 {
            value(j)
        } else {
            hbuf[j + 1].min(value(j))
        };
    }
    for (i, d) in dst.iter_mut().enumerate() {
        *d = hbuf[i].min(g[i + 2 * r]);
    }
}

/// Minimum over the `(2r+1)²` window clipped to the image.
pub fn min_filter(src: &Plane, r: usize) -> Plane {
    let (w, h) = (src.width, src.height);
    let mut rows = Plane::new(w, h);
    rows.data
        .par_chunks_mut(w.max(1))
        .zip(src.data.par_chunks(w.max(1)))
        .for_each_init(
            || (Vec::new(), Vec::new()),
            |(g, hb), (out, row)| min_1d(row, out, r, g, hb),
        );
    // Columns: transpose-free, one column strip at a time through a small buffer.
    let mut out = Plane::new(w, h);
    let columns: Vec<Vec<f32>> = (0..w)
        .into_par_iter()
        .map_init(
            || (Vec::new(), Vec::new(), Vec::new()),
            |(col, g, hb), x| {
                col.clear();
                col.extend((0..h).map(|y| rows.data[y * w + x]));
                let mut dst = vec![0.0; h];
                min_1d(col, &mut dst, r, g, hb);
                dst
            },
        )
        .collect();
    for (x, col) in columns.iter().enumerate() {
        for (y, &v) in col.iter().enumerate() {
            out.data[y * w + x] = v;
        }
    }
    out
}

/// Coefficients `(a, b)` of He's guided filter: the output is `a * guide + b`.
pub fn guided_coefficients(guide: &Plane, input: &Plane, r: usize, eps: f32) -> (Plane, Plane) {
    let mean_i = box_mean(guide, r);
    let mean_p = box_mean(input, r);
    let corr_ip = box_mean(&guide.zip(input, |a, b| a * b), r);
    let corr_ii = box_mean(&guide.map(|a| a * a), r);
    let mut a = Plane::new(guide.width, guide.height);
    let mut b = Plane::new(guide.width, guide.height);
    a.data
        .par_iter_mut()
        .zip(b.data.par_iter_mut())
        .enumerate()
        .for_each(|(i, (a, b))| {
            let (mi, mp) = (mean_i.data[i], mean_p.data[i]);
            let var = (corr_ii.data[i] - mi * mi).max(0.0);
            let cov = corr_ip.data[i] - mi * mp;
            *a = cov / (var + eps);
            *b = mp - *a * mi;
        });
    (box_mean(&a, r), box_mean(&b, r))
}

/// He's guided filter of `input` by `guide`.
pub fn guided_filter(guide: &Plane, input: &Plane, r: usize, eps: f32) -> Plane {
    let (a, b) = guided_coefficients(guide, input, r, eps);
    a.zip(guide, |a, i| a * i).zip(&b, |ai, b| ai + b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn brute_min(src: &Plane, r: usize) -> Plane {
        Plane::from_fn(src.width, src.height, |x, y| {
            let mut m = f32::INFINITY;
            for yy in y.saturating_sub(r)..(y + r + 1).min(src.height) {
                for xx in x.saturating_sub(r)..(x + r + 1).min(src.width) {
                    m = m.min(src.at(xx, yy));
                }
            }
            m
        })
    }

    fn brute_mean(src: &Plane, r: usize) -> Plane {
        Plane::from_fn(src.width, src.height, |x, y| {
            let (mut s, mut n) = (0.0, 0.0);
            for yy in y.saturating_sub(r)..(y + r + 1).min(src.height) {
                for xx in x.saturating_sub(r)..(x + r + 1).min(src.width) {
                    s += src.at(xx, yy);
                    n += 1.0;
                }
            }
            s / n
        })
    }

    #[test]
    fn upscale_keeps_constants_and_interpolates_ramps() {
        let flat = Plane::from_fn(5, 4, |_, _| 0.7);
        assert!(
            upscale_2x(&flat)
                .data
                .iter()
                .all(|v| (v - 0.7).abs() < 1e-6)
        );
        let ramp = Plane::from_fn(8, 3, |x, _| x as f32);
        let up = upscale_2x(&ramp);
        // Output x maps to source x/2 - 0.25; away from the edges a ramp stays exact.
        for x in 4..12 {
            assert!((up.at(x, 2) - (x as f32 / 2.0 - 0.25)).abs() < 1e-5, "{x}");
        }
    }

    fn noise(w: usize, h: usize) -> Plane {
        Plane::from_fn(w, h, |x, y| {
            (((x * 7919 + y * 104_729) % 1000) as f32) / 1000.0
        })
    }

    #[test]
    fn min_filter_matches_brute_force() {
        for (w, h, r) in [(17, 9, 2), (5, 31, 4), (1, 1, 3), (40, 23, 7)] {
            let p = noise(w, h);
            assert_eq!(min_filter(&p, r), brute_min(&p, r), "{w}x{h} r{r}");
        }
    }

    #[test]
    fn box_mean_matches_brute_force() {
        // Windows inside the image, wider than it, and strips of columns (257 > one
        // strip of 256).
        for (w, h, r) in [(33, 21, 3), (1, 1, 2), (5, 40, 9), (7, 3, 0), (257, 6, 4)] {
            let p = noise(w, h);
            let fast = box_mean(&p, r);
            let slow = brute_mean(&p, r);
            for (a, b) in fast.data.iter().zip(&slow.data) {
                assert!((a - b).abs() < 1e-5, "{w}x{h} r{r}: {a} vs {b}");
            }
        }
    }

    #[test]
    fn guided_filter_keeps_a_constant() {
        let guide = noise(20, 20);
        let flat = Plane::from_fn(20, 20, |_, _| 0.3);
        let out = guided_filter(&guide, &flat, 3, 1e-3);
        assert!(out.data.iter().all(|v| (v - 0.3).abs() < 1e-4));
    }
}
