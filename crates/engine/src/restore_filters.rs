//! Filters the restoration operations share: a separable Gaussian blur and an
//! orthonormal luma-chroma transform (so white noise keeps its σ in every channel).

use rayon::prelude::*;

use crate::planes::Plane;

/// Normalised Gaussian taps of standard deviation `sigma`, radius ⌈3σ⌉.
pub(crate) fn gaussian_kernel(sigma: f32) -> Vec<f32> {
    let r = (3.0 * sigma).ceil().max(1.0) as isize;
    let mut k: Vec<f32> = (-r..=r)
        .map(|i| (-(i * i) as f32 / (2.0 * sigma * sigma)).exp())
        .collect();
    let sum: f32 = k.iter().sum();
    k.iter_mut().for_each(|v| *v /= sum);
    k
}

/// Separable convolution with the symmetric `kernel` (odd length), edges clamped.
pub(crate) fn convolve_separable(src: &Plane, kernel: &[f32]) -> Plane {
    let (w, h) = (src.width, src.height);
    if w == 0 || h == 0 {
        return src.clone();
    }
    let r = (kernel.len() / 2) as isize;
    let mut horiz = Plane::new(w, h);
    horiz
        .data
        .par_chunks_mut(w)
        .zip(src.data.par_chunks(w))
        .for_each(|(out, row)| {
            for (x, o) in out.iter_mut().enumerate() {
                let mut acc = 0.0;
                for (k, &t) in kernel.iter().enumerate() {
                    let xx = (x as isize + k as isize - r).clamp(0, w as isize - 1) as usize;
                    acc += t * row[xx];
                }
                *o = acc;
            }
        });
    let mut out = Plane::new(w, h);
    out.data.par_chunks_mut(w).enumerate().for_each(|(y, o)| {
        for (k, &t) in kernel.iter().enumerate() {
            let yy = (y as isize + k as isize - r).clamp(0, h as isize - 1) as usize;
            let row = &horiz.data[yy * w..(yy + 1) * w];
            for (v, &s) in o.iter_mut().zip(row) {
                *v += t * s;
            }
        }
    });
    out
}

/// Gaussian blur of standard deviation `sigma` (pixels), edges clamped.
pub(crate) fn gaussian_blur(src: &Plane, sigma: f32) -> Plane {
    if sigma <= 0.0 {
        return src.clone();
    }
    convolve_separable(src, &gaussian_kernel(sigma))
}

const INV_SQRT3: f32 = 0.577_350_26;
const INV_SQRT2: f32 = 0.707_106_77;
const INV_SQRT6: f32 = 0.408_248_3;

/// RGB planes to an orthonormal opponent space: luma `(R+G+B)/√3`, and two chroma
/// axes. Orthonormal, so Gaussian noise of σ per RGB channel stays σ in each.
pub(crate) fn to_opponent(rgb: &[Plane; 3]) -> [Plane; 3] {
    let [r, g, b] = rgb;
    let luma = r.zip(g, |r, g| r + g).zip(b, |rg, b| (rg + b) * INV_SQRT3);
    let red_blue = r.zip(b, |r, b| (r - b) * INV_SQRT2);
    let green = r
        .zip(b, |r, b| r + b)
        .zip(g, |rb, g| (rb - 2.0 * g) * INV_SQRT6);
    [luma, red_blue, green]
}

/// The inverse of [`to_opponent`].
pub(crate) fn from_opponent(opp: &[Plane; 3]) -> [Plane; 3] {
    let [l, rb, gm] = opp;
    let lg = l.zip(gm, |l, g| l * INV_SQRT3 + g * INV_SQRT6);
    let r = lg.zip(rb, |lg, rb| lg + rb * INV_SQRT2);
    let b = lg.zip(rb, |lg, rb| lg - rb * INV_SQRT2);
    let g = l.zip(gm, |l, g| l * INV_SQRT3 - 2.0 * g * INV_SQRT6);
    [r, g, b]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opponent_round_trips() {
        let p = |s: usize| Plane::from_fn(7, 5, move |x, y| ((x * s + y * 3) % 11) as f32 / 11.0);
        let rgb = [p(1), p(2), p(5)];
        let back = from_opponent(&to_opponent(&rgb));
        for c in 0..3 {
            for (a, b) in back[c].data.iter().zip(&rgb[c].data) {
                assert!((a - b).abs() < 1e-5);
            }
        }
    }

    #[test]
    fn blur_keeps_a_constant_and_the_mean_of_a_ramp() {
        let flat = Plane::from_fn(9, 4, |_, _| 0.25);
        assert!(
            gaussian_blur(&flat, 1.5)
                .data
                .iter()
                .all(|v| (v - 0.25).abs() < 1e-6)
        );
        let ramp = Plane::from_fn(40, 3, |x, _| x as f32);
        let out = gaussian_blur(&ramp, 2.0);
        assert!((out.at(20, 1) - 20.0).abs() < 1e-3);
    }
}
