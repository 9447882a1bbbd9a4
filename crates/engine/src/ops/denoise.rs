//! Denoising with the API's strength parameter: `strength` 0–200 is tuned for Gaussian
//! noise of σ ≈ strength / 4 (on 0–255 values); 0 leaves the image untouched.
//!
//! Method: sliding-window DCT shrinkage (Yu and Sapiro's "DCT image denoising", with
//! BM3D's aggregation weights) in an orthonormal luma-chroma space, where white RGB
//! noise keeps its σ in every channel while the chroma signal is much smoother. Every
//! 8 × 8 patch on a grid of stride [`LUMA_STEP`] (chroma: [`CHROMA_STEP`]) is transformed,
//! small coefficients are zeroed (hard threshold), and the overlapping patch estimates are
//! averaged, each weighted by the inverse of its kept-coefficient count (sparser patches
//! are more trustworthy). A second pass shrinks the noisy coefficients with the empirical
//! Wiener gain taken from the first pass's estimate.
//!
//! The separable transform is computed as whole-row passes (horizontal DCTs of every row
//! once, vertical DCTs per patch row), and overlapping patch rows are accumulated in
//! passes whose rows do not overlap, so rows run in parallel and the result does not
//! depend on the thread count.

use image::RgbImage;
use rayon::prelude::*;

use crate::filters::channels::{from_planes, to_planes};
use crate::filters::opponent::{from_opponent, to_opponent};
use crate::filters::planes::Plane;

/// Patch side.
const N: usize = 8;
/// Patch grid stride of luma and chroma (must divide [`N`]).
const LUMA_STEP: usize = 2;
const CHROMA_STEP: usize = 4;
/// Hard threshold, in units of σ.
const THRESHOLD: f32 = 2.7;

/// The denoised image; `strength` is 0–200 (checked by the caller).
pub(crate) fn denoise(img: &RgbImage, strength: u8) -> RgbImage {
    if strength == 0 || img.width() == 0 || img.height() == 0 {
        return img.clone();
    }
    let sigma = f32::from(strength) / 4.0 / 255.0;
    let opp = to_opponent(&to_planes(img));
    let out: Vec<Plane> = opp
        .par_iter()
        .enumerate()
        .map(|(c, p)| {
            let step = if c == 0 { LUMA_STEP } else { CHROMA_STEP };
            denoise_plane(p, sigma, step)
        })
        .collect();
    let [a, b, c]: [Plane; 3] = match out.try_into() {
        Ok(v) => v,
        Err(_) => return img.clone(),
    };
    from_planes(&from_opponent(&[a, b, c]))
}

/// Orthonormal DCT-II basis: `basis[k][j]`.
fn dct_basis() -> [[f32; N]; N] {
    std::array::from_fn(|k| {
        let a = if k == 0 {
            (1.0 / N as f32).sqrt()
        } else {
            (2.0 / N as f32).sqrt()
        };
        std::array::from_fn(|j| {
            a * (std::f32::consts::PI * (2 * j + 1) as f32 * k as f32 / (2 * N) as f32).cos()
        })
    })
}

/// Index into `len` with mirror reflection at both ends (`len` ≥ 1).
fn mirror(i: isize, len: usize) -> usize {
    let n = len as isize;
    if n == 1 {
        return 0;
    }
    let period = 2 * (n - 1);
    let mut m = i.rem_euclid(period);
    if m >= n {
        m = period - m;
    }
    m as usize
}

/// `src` padded by `before` mirrored samples on the left/top and enough on the
/// right/bottom that the padded size is at least [`N`] and `(size − N)` is a multiple of
/// `step`, plus `before` more.
fn pad(src: &Plane, before: usize, step: usize) -> Plane {
    let padded = |len: usize| {
        let inner = (len + 2 * before).max(N);
        N + (inner - N).div_ceil(step) * step
    };
    let (w, h) = (padded(src.width), padded(src.height));
    Plane::from_fn(w, h, |x, y| {
        src.at(
            mirror(x as isize - before as isize, src.width),
            mirror(y as isize - before as isize, src.height),
        )
    })
}

/// Horizontal DCTs of every row at every patch column: `[y][k][xi]`.
fn row_transforms(p: &Plane, step: usize, nx: usize, basis: &[[f32; N]; N]) -> Vec<f32> {
    let mut out = vec![0.0f32; p.height * N * nx];
    out.par_chunks_mut(N * nx)
        .zip(p.data.par_chunks(p.width))
        .for_each(|(dst, row)| {
            for (k, coefs) in dst.chunks_mut(nx).enumerate() {
                for (xi, c) in coefs.iter_mut().enumerate() {
                    let x0 = xi * step;
                    let mut acc = 0.0;
                    for j in 0..N {
                        acc += basis[k][j] * row[x0 + j];
                    }
                    *c = acc;
                }
            }
        });
    out
}

/// Lanes processed together by the vertical transforms (fixed-size arrays, so the
/// compiler keeps them in vector registers).
const LANES: usize = 8;

/// `out[k2][xi] = Σ_r m[k2][r] · rows[r][xi]` for eight input rows and eight output rows
/// of length `nx` (the vertical DCT or its inverse when `m` is transposed).
fn mix8(m: &[[f32; N]; N], rows: [&[f32]; N], out: &mut [&mut [f32]; N], accumulate: bool) {
    let nx = rows[0].len();
    let mut xi = 0;
    while xi < nx {
        let mut v = [[0.0f32; LANES]; N];
        let lanes = if xi + LANES <= nx {
            for (vr, row) in v.iter_mut().zip(rows) {
                vr.copy_from_slice(&row[xi..xi + LANES]);
            }
            LANES
        } else {
            for (vr, row) in v.iter_mut().zip(rows) {
                for (d, &s) in vr.iter_mut().zip(&row[xi..]) {
                    *d = s;
                }
            }
            nx - xi
        };
        for (k, o) in out.iter_mut().enumerate() {
            let mut acc = [0.0f32; LANES];
            for (r, vr) in v.iter().enumerate() {
                let b = m[k][r];
                for l in 0..LANES {
                    acc[l] += b * vr[l];
                }
            }
            let dst = &mut o[xi..xi + lanes];
            if accumulate {
                for (d, a) in dst.iter_mut().zip(acc) {
                    *d += a;
                }
            } else {
                for (d, a) in dst.iter_mut().zip(acc) {
                    *d = a;
                }
            }
        }
        xi += lanes;
    }
}

/// Vertical DCTs of the patch row at `y0` from the row transforms `src` (`[y][k][xi]`),
/// into `coef[k2][k1][xi]`.
fn vertical_forward(src: &[f32], y0: usize, nx: usize, basis: &[[f32; N]; N], coef: &mut [f32]) {
    for k1 in 0..N {
        let rows: [&[f32]; N] = std::array::from_fn(|r| {
            let start = ((y0 + r) * N + k1) * nx;
            &src[start..start + nx]
        });
        let mut outs: Vec<&mut [f32]> = coef
            .chunks_mut(nx)
            .enumerate()
            .filter(|(i, _)| i % N == k1)
            .map(|(_, c)| c)
            .collect();
        let Ok(mut outs): Result<[&mut [f32]; N], _> = std::mem::take(&mut outs).try_into() else {
            return;
        };
        mix8(basis, rows, &mut outs, false);
    }
}

/// One plane of `step`-strided 8 × 8 DCT hard thresholding.
fn shrink_plane(noisy: &Plane, sigma: f32, step: usize) -> Plane {
    let basis = dct_basis();
    let transposed: [[f32; N]; N] = std::array::from_fn(|r| std::array::from_fn(|k| basis[k][r]));
    let (w, h) = (noisy.width, noisy.height);
    let nx = (w - N) / step + 1;
    let rows = row_transforms(noisy, step, nx, &basis);
    // Accumulated inverse-vertical transforms `[y][k][xi]` and weights `[y][xi]`.
    let mut acc = vec![0.0f32; h * N * nx];
    let mut weights = vec![0.0f32; h * nx];
    let row_len = N * nx;
    // Patch rows `yi ≡ pass (mod N / step)` start N rows apart and never overlap.
    for pass in 0..N / step {
        let y_first = pass * step;
        if y_first + N > h {
            break;
        }
        acc[y_first * row_len..]
            .par_chunks_mut(N * row_len)
            .zip(weights[y_first * nx..].par_chunks_mut(N * nx))
            .enumerate()
            .for_each_init(
                || (vec![0.0f32; N * N * nx], vec![0.0f32; nx]),
                |(coef, patch_weight), (band, (acc_band, weight_band))| {
                    let y0 = y_first + band * N;
                    if y0 + N > h {
                        return;
                    }
                    vertical_forward(&rows, y0, nx, &basis, coef);
                    let t = THRESHOLD * sigma;
                    // Count kept coefficients per patch (the DC, first, always stays).
                    patch_weight.fill(1.0);
                    for chunk in coef.chunks_mut(nx).skip(1) {
                        for (c, k) in chunk.iter_mut().zip(patch_weight.iter_mut()) {
                            let keep = c.abs() >= t;
                            *c = if keep { *c } else { 0.0 };
                            *k += f32::from(u8::from(keep));
                        }
                    }
                    for k in patch_weight.iter_mut() {
                        *k = 1.0 / *k;
                    }
                    // Weight, then vertical inverse into the band's rows.
                    for chunk in coef.chunks_mut(nx) {
                        for (c, &pw) in chunk.iter_mut().zip(patch_weight.iter()) {
                            *c *= pw;
                        }
                    }
                    for k1 in 0..N {
                        let rows: [&[f32]; N] = std::array::from_fn(|k2| {
                            &coef[(k2 * N + k1) * nx..(k2 * N + k1 + 1) * nx]
                        });
                        let mut outs: Vec<&mut [f32]> = acc_band
                            .chunks_mut(nx)
                            .enumerate()
                            .filter(|(i, _)| i % N == k1)
                            .map(|(_, c)| c)
                            .take(N)
                            .collect();
                        let Ok(mut outs): Result<[&mut [f32]; N], _> =
                            std::mem::take(&mut outs).try_into()
                        else {
                            return;
                        };
                        mix8(&transposed, rows, &mut outs, true);
                    }
                    for r in 0..N {
                        for (wd, &pw) in weight_band[r * nx..(r + 1) * nx]
                            .iter_mut()
                            .zip(patch_weight.iter())
                        {
                            *wd += pw;
                        }
                    }
                },
            );
    }
    // Horizontal inverse and normalisation, one image row at a time.
    let mut out = Plane::new(w, h);
    out.data.par_chunks_mut(w).enumerate().for_each(|(y, row)| {
        let mut norm = vec![0.0f32; w];
        let a = &acc[y * row_len..(y + 1) * row_len];
        let wt = &weights[y * nx..(y + 1) * nx];
        for xi in 0..nx {
            let x0 = xi * step;
            for j in 0..N {
                let mut v = 0.0;
                for k in 0..N {
                    v += basis[k][j] * a[k * nx + xi];
                }
                row[x0 + j] += v;
                norm[x0 + j] += wt[xi];
            }
        }
        for (v, n) in row.iter_mut().zip(norm) {
            if n > 0.0 {
                *v /= n;
            }
        }
    });
    out
}

/// DCT hard-threshold denoising of one plane.
fn denoise_plane(src: &Plane, sigma: f32, step: usize) -> Plane {
    let border = N / 2;
    let padded = pad(src, border, step);
    let out = shrink_plane(&padded, sigma, step);
    Plane::from_fn(src.width, src.height, |x, y| out.at(x + border, y + border))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn noisy_ramp(w: u32, h: u32, sigma: f32) -> (RgbImage, RgbImage) {
        let clean = RgbImage::from_fn(w, h, |x, y| {
            image::Rgb([(x * 2 + 30) as u8, (y * 2 + 40) as u8, 120])
        });
        let mut seed = 12_345u64;
        let mut noisy = clean.clone();
        for v in noisy.iter_mut() {
            // Sum of uniforms: close enough to Gaussian for a test.
            let mut s = 0.0;
            for _ in 0..12 {
                seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                s += (seed >> 40) as f32 / (1u64 << 24) as f32;
            }
            *v = (f32::from(*v) + (s - 6.0) * sigma)
                .round()
                .clamp(0.0, 255.0) as u8;
        }
        (clean, noisy)
    }

    fn mse(a: &RgbImage, b: &RgbImage) -> f32 {
        a.as_raw()
            .iter()
            .zip(b.as_raw())
            .map(|(&p, &q)| (f32::from(p) - f32::from(q)).powi(2))
            .sum::<f32>()
            / a.as_raw().len() as f32
    }

    #[test]
    fn strength_zero_is_the_identity() {
        let (_, noisy) = noisy_ramp(33, 20, 10.0);
        assert_eq!(denoise(&noisy, 0), noisy);
    }

    #[test]
    fn removes_most_of_the_noise() {
        let (clean, noisy) = noisy_ramp(90, 70, 15.0);
        let out = denoise(&noisy, 60);
        assert!(mse(&out, &clean) < mse(&noisy, &clean) / 5.0);
    }

    #[test]
    fn tiny_and_thin_images_keep_their_size() {
        for (w, h) in [(1, 1), (1, 40), (40, 1), (3, 9), (9, 8)] {
            let (_, noisy) = noisy_ramp(w, h, 10.0);
            let out = denoise(&noisy, 100);
            assert_eq!(out.dimensions(), (w, h));
        }
    }

    #[test]
    fn mirror_reflects() {
        assert_eq!(
            (-3..8).map(|i| mirror(i, 4)).collect::<Vec<_>>(),
            [3, 2, 1, 0, 1, 2, 3, 2, 1, 0, 1]
        );
        assert_eq!(mirror(5, 1), 0);
    }
}
