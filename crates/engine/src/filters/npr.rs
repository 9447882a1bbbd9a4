//! Building blocks of non-photorealistic rendering shared by style transfer, selfie anime
//! and custom stylisation: edge-preserving smoothing (Gastal and Oliveira's domain
//! transform), a smooth-weighted Kuwahara filter, Gaussian blur, difference-of-Gaussians
//! lines, soft quantisation, gradient maps, hatching, flow-guided smoothing and warping,
//! and deterministic procedural noise.
//!
//! Images are three planes of f32 RGB in 0..1. Every pass is parallel over rows (or over
//! planes) with no cross-row reduction, so results do not depend on the thread count.
//! Radii are given in *reference pixels*, tuned for a 600 px short side and scaled by
//! [`unit`], so a style looks the same at any resolution.
// Colours are written 0xRRGGBB, as in CSS; separators would hide the channels.
#![allow(clippy::unreadable_literal)]

use image::RgbImage;
use rayon::prelude::*;

use crate::filters::channels;
use crate::filters::planes::{Plane, box_mean};

/// An RGB image as three planes in 0..1.
pub(crate) type Rgb = [Plane; 3];

/// Short side the radii of the styles are tuned for.
const REFERENCE_SIDE: f32 = 600.0;

/// The image as planes.
pub(crate) fn planes_of(img: &RgbImage) -> Rgb {
    channels::to_planes(img)
}

/// Back to 8-bit RGB.
pub(crate) fn image_of(img: &Rgb) -> RgbImage {
    channels::from_planes(img)
}

/// Largest image a style renders at full resolution. Larger ones are rendered at this
/// many pixels and resized back: every layer is a few f32 planes, so this bounds memory
/// (~0.4 GB) and time at the API's 4096 × 4096 limit.
pub(crate) const MAX_RENDER_PIXELS: u64 = 4_200_000;

/// Runs `f` on `img`, or on a copy of at most [`MAX_RENDER_PIXELS`] whose result is
/// resized back to `img`'s size.
pub(crate) fn render_capped(img: &RgbImage, f: impl FnOnce(&RgbImage) -> RgbImage) -> RgbImage {
    let (w, h) = img.dimensions();
    let pixels = u64::from(w) * u64::from(h);
    if pixels <= MAX_RENDER_PIXELS {
        return f(img);
    }
    let scale = (MAX_RENDER_PIXELS as f64 / pixels as f64).sqrt();
    let sw = ((f64::from(w) * scale) as u32).max(1);
    let sh = ((f64::from(h) * scale) as u32).max(1);
    let small = image::imageops::resize(img, sw, sh, image::imageops::FilterType::Triangle);
    image::imageops::resize(&f(&small), w, h, image::imageops::FilterType::CatmullRom)
}

/// Pixels per reference pixel for an image of this size.
pub(crate) fn unit(img: &Rgb) -> f32 {
    (img[0].width.min(img[0].height) as f32 / REFERENCE_SIDE).clamp(0.05, 16.0)
}

/// Luma in 0..1.
pub(crate) fn luma(img: &Rgb) -> Plane {
    channels::luma(img)
}

/// Width and height.
pub(crate) fn dims(img: &Rgb) -> (usize, usize) {
    (img[0].width, img[0].height)
}

/// A new image from a per-pixel function of its coordinates.
pub(crate) fn render(
    width: usize,
    height: usize,
    f: impl Fn(usize, usize) -> [f32; 3] + Sync,
) -> Rgb {
    let mut out = [
        Plane::new(width, height),
        Plane::new(width, height),
        Plane::new(width, height),
    ];
    let [r, g, b] = &mut out;
    let row = width.max(1);
    r.data
        .par_chunks_mut(row)
        .zip(g.data.par_chunks_mut(row))
        .zip(b.data.par_chunks_mut(row))
        .enumerate()
        .for_each(|(y, ((r, g), b))| {
            for x in 0..width {
                let [vr, vg, vb] = f(x, y);
                r[x] = vr;
                g[x] = vg;
                b[x] = vb;
            }
        });
    out
}

/// The pixel at `i` (row-major index).
#[inline]
pub(crate) fn px(img: &Rgb, i: usize) -> [f32; 3] {
    [img[0].data[i], img[1].data[i], img[2].data[i]]
}

/// A per-pixel function of each pixel's colour and position.
pub(crate) fn map(img: &Rgb, f: impl Fn(usize, usize, [f32; 3]) -> [f32; 3] + Sync) -> Rgb {
    let (w, h) = dims(img);
    render(w, h, |x, y| f(x, y, px(img, y * w + x)))
}

/// Hermite step from 0 at `e0` to 1 at `e1`.
#[inline]
pub(crate) fn smoothstep(e0: f32, e1: f32, v: f32) -> f32 {
    let t = ((v - e0) / (e1 - e0)).clamp(0.0, 1.0);
    t * t * (3.0 - 2.0 * t)
}

/// Linear interpolation of two colours.
#[inline]
pub(crate) fn mix(a: [f32; 3], b: [f32; 3], t: f32) -> [f32; 3] {
    [
        a[0] + (b[0] - a[0]) * t,
        a[1] + (b[1] - a[1]) * t,
        a[2] + (b[2] - a[2]) * t,
    ]
}

/// Componentwise product.
#[inline]
pub(crate) fn mul(a: [f32; 3], b: [f32; 3]) -> [f32; 3] {
    [a[0] * b[0], a[1] * b[1], a[2] * b[2]]
}

/// Every component times `s`.
#[inline]
pub(crate) fn scale(a: [f32; 3], s: f32) -> [f32; 3] {
    [a[0] * s, a[1] * s, a[2] * s]
}

/// A colour from `0xRRGGBB`.
pub(crate) const fn hex(rgb: u32) -> [f32; 3] {
    [
        ((rgb >> 16) & 0xff) as f32 / 255.0,
        ((rgb >> 8) & 0xff) as f32 / 255.0,
        (rgb & 0xff) as f32 / 255.0,
    ]
}

/// Rec. 601 luma of one colour.
#[inline]
pub(crate) fn luma_of(c: [f32; 3]) -> f32 {
    channels::LUMA[0] * c[0] + channels::LUMA[1] * c[1] + channels::LUMA[2] * c[2]
}

/// Scales the chroma of `c` about its luma by `s` (0 grey, 1 unchanged).
#[inline]
pub(crate) fn saturate(c: [f32; 3], s: f32) -> [f32; 3] {
    let y = luma_of(c);
    [y + (c[0] - y) * s, y + (c[1] - y) * s, y + (c[2] - y) * s]
}

/// `c` with its luma replaced by `y`, chroma kept.
#[inline]
pub(crate) fn with_luma(c: [f32; 3], y: f32) -> [f32; 3] {
    let d = y - luma_of(c);
    [c[0] + d, c[1] + d, c[2] + d]
}

/// Clamps every component to 0..1.
#[inline]
pub(crate) fn clamp01(c: [f32; 3]) -> [f32; 3] {
    [
        c[0].clamp(0.0, 1.0),
        c[1].clamp(0.0, 1.0),
        c[2].clamp(0.0, 1.0),
    ]
}

/// Soft light blend of `top` over `base` (the Pegtop formula: no discontinuity).
#[inline]
pub(crate) fn soft_light(base: [f32; 3], top: [f32; 3]) -> [f32; 3] {
    std::array::from_fn(|c| {
        let (a, b) = (base[c], top[c]);
        (1.0 - 2.0 * b) * a * a + 2.0 * b * a
    })
}

/// Screen blend.
#[inline]
pub(crate) fn screen(base: [f32; 3], top: [f32; 3]) -> [f32; 3] {
    std::array::from_fn(|c| 1.0 - (1.0 - base[c]) * (1.0 - top[c]))
}

/// A piecewise-linear gradient through `(position, colour)` stops (positions rising).
pub(crate) fn gradient(stops: &[(f32, [f32; 3])], t: f32) -> [f32; 3] {
    let Some(&(first_t, first)) = stops.first() else {
        return [t, t, t];
    };
    if t <= first_t {
        return first;
    }
    for pair in stops.windows(2) {
        let ((t0, c0), (t1, c1)) = (pair[0], pair[1]);
        if t <= t1 {
            return mix(c0, c1, (t - t0) / (t1 - t0).max(1e-6));
        }
    }
    stops.last().map_or(first, |s| s.1)
}

/// Quantises `v` (0..1) to `levels` steps with smooth transitions of the given
/// `sharpness` (large: hard steps), Winnemöller's soft quantisation.
#[inline]
pub(crate) fn quantise(v: f32, levels: f32, sharpness: f32) -> f32 {
    let x = v.clamp(0.0, 1.0) * levels;
    let base = x.floor();
    let f = x - base - 0.5;
    let t = 0.5 + 0.5 * (f * sharpness).tanh() / (0.5 * sharpness).tanh();
    ((base + t) / levels).clamp(0.0, 1.0)
}

/// A deterministic hash of two integer coordinates and a seed, in 0..1.
#[inline]
pub(crate) fn hash(x: i64, y: i64, seed: u32) -> f32 {
    let mut h = (x as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
        ^ (y as u64).wrapping_mul(0xC2B2_AE3D_27D4_EB4F)
        ^ u64::from(seed).wrapping_mul(0x1656_67B1_9E37_79F9);
    h ^= h >> 33;
    h = h.wrapping_mul(0xFF51_AFD7_ED55_8CCD);
    h ^= h >> 33;
    h = h.wrapping_mul(0xC4CE_B9FE_1A85_EC53);
    h ^= h >> 33;
    (h >> 40) as f32 / (1u64 << 24) as f32
}

/// Smooth value noise in 0..1 with lattice spacing 1.
#[inline]
pub(crate) fn value_noise(x: f32, y: f32, seed: u32) -> f32 {
    let (fx, fy) = (x.floor(), y.floor());
    let (tx, ty) = (x - fx, y - fy);
    let (sx, sy) = (tx * tx * (3.0 - 2.0 * tx), ty * ty * (3.0 - 2.0 * ty));
    let (ix, iy) = (fx as i64, fy as i64);
    let a = hash(ix, iy, seed);
    let b = hash(ix + 1, iy, seed);
    let c = hash(ix, iy + 1, seed);
    let d = hash(ix + 1, iy + 1, seed);
    let top = a + (b - a) * sx;
    let bottom = c + (d - c) * sx;
    top + (bottom - top) * sy
}

/// Three octaves of value noise, in 0..1.
#[inline]
pub(crate) fn fbm(x: f32, y: f32, seed: u32) -> f32 {
    (0.57 * value_noise(x, y, seed)
        + 0.29 * value_noise(2.03 * x, 2.03 * y, seed ^ 0x55)
        + 0.14 * value_noise(4.1 * x, 4.1 * y, seed ^ 0xAA))
    .clamp(0.0, 1.0)
}

/// Gaussian blur of standard deviation `sigma` px, as three box passes (O(1) per pixel);
/// wide blurs run on an area-downscaled copy.
pub(crate) fn blur(p: &Plane, sigma: f32) -> Plane {
    if sigma < 0.4 || p.data.is_empty() {
        return p.clone();
    }
    if sigma > 12.0 {
        let factor = (sigma / 4.0) as usize;
        let small = p.downscale(factor);
        return blur(&small, sigma / factor as f32).upscale_to(p.width, p.height);
    }
    // Three boxes of width n have variance 3 (n² - 1) / 12.
    let n = (4.0 * sigma * sigma + 1.0).sqrt();
    let r = ((n - 1.0) / 2.0).round().max(1.0) as usize;
    box_mean(&box_mean(&box_mean(p, r), r), r)
}

/// [`blur`] of each plane.
pub(crate) fn blur_rgb(img: &Rgb, sigma: f32) -> Rgb {
    std::array::from_fn(|c| blur(&img[c], sigma))
}

/// Edge-preserving smoothing: Gastal and Oliveira's domain transform with the recursive
/// filter (three iterations), spatial scale `sigma_s` px and range scale `sigma_r` (in
/// summed 0..1 channel differences). Flat regions blur, edges stay sharp.
pub(crate) fn edge_preserving(img: &Rgb, sigma_s: f32, sigma_r: f32) -> Rgb {
    const ITERATIONS: i32 = 3;
    let (w, h) = dims(img);
    if w == 0 || h == 0 || sigma_s < 0.5 {
        return img.clone();
    }
    let ratio = sigma_s / sigma_r.max(1e-3);
    let step = |i: usize, j: usize| {
        1.0 + ratio
            * ((img[0].data[i] - img[0].data[j]).abs()
                + (img[1].data[i] - img[1].data[j]).abs()
                + (img[2].data[i] - img[2].data[j]).abs())
    };
    // The first iteration uses the widest kernel; each next one halves sigma, which
    // squares the feedback weight a^d, so the weights are exponentiated only once.
    let sigma_h0 =
        sigma_s * 3f32.sqrt() * 2f32.powi(ITERATIONS - 1) / (4f32.powi(ITERATIONS) - 1.0).sqrt();
    let ln_a = -(2f32.sqrt()) / sigma_h0;
    let mut wx = Plane::from_fn(w, h, |x, y| {
        if x == 0 {
            0.0
        } else {
            (ln_a * step(y * w + x, y * w + x - 1)).exp()
        }
    });
    let mut wy = Plane::from_fn(w, h, |x, y| {
        if y == 0 {
            0.0
        } else {
            (ln_a * step(y * w + x, (y - 1) * w + x)).exp()
        }
    });
    let mut out = img.clone();
    for iteration in 0..ITERATIONS {
        if iteration > 0 {
            wx = wx.map(|v| v * v);
            wy = wy.map(|v| v * v);
        }
        recursive_rows(&mut out, &wx);
        out.par_iter_mut()
            .for_each(|plane| recursive_columns(plane, &wy));
    }
    out
}

/// The recursive filter along rows, left to right then right to left, the three
/// planes in one loop (three independent dependency chains keep the core busy).
fn recursive_rows(img: &mut Rgb, weights: &Plane) {
    let w = weights.width.max(1);
    let [r, g, b] = img;
    r.data
        .par_chunks_mut(w)
        .zip(g.data.par_chunks_mut(w))
        .zip(b.data.par_chunks_mut(w))
        .zip(weights.data.par_chunks(w))
        .for_each(|(((r, g), b), k)| {
            for x in 1..k.len() {
                r[x] += k[x] * (r[x - 1] - r[x]);
                g[x] += k[x] * (g[x - 1] - g[x]);
                b[x] += k[x] * (b[x - 1] - b[x]);
            }
            for x in (0..k.len().saturating_sub(1)).rev() {
                r[x] += k[x + 1] * (r[x + 1] - r[x]);
                g[x] += k[x + 1] * (g[x + 1] - g[x]);
                b[x] += k[x + 1] * (b[x + 1] - b[x]);
            }
        });
}

/// The recursive filter along columns, as whole-row sweeps top to bottom and back.
fn recursive_columns(plane: &mut Plane, weights: &Plane) {
    let (w, h) = (plane.width, plane.height);
    for y in 1..h {
        let (done, rest) = plane.data.split_at_mut(y * w);
        let prev = &done[(y - 1) * w..];
        let wr = &weights.data[y * w..(y + 1) * w];
        for ((c, &p), &k) in rest[..w].iter_mut().zip(prev).zip(wr) {
            *c += k * (p - *c);
        }
    }
    for y in (0..h.saturating_sub(1)).rev() {
        let (done, rest) = plane.data.split_at_mut((y + 1) * w);
        let cur = &mut done[y * w..];
        let wr = &weights.data[(y + 1) * w..(y + 2) * w];
        for ((c, &n), &k) in cur.iter_mut().zip(&rest[..w]).zip(wr) {
            *c += k * (n - *c);
        }
    }
}

/// Runs `f` on an area-downscaled copy of at most about `max_pixels` pixels and resizes
/// its result back: for colour layers whose detail the full resolution would not
/// change (smoothing, paint patches), at a fraction of the cost. `f` sees the small
/// copy, so [`unit`] inside it scales its radii to match.
pub(crate) fn at_work_size(img: &Rgb, max_pixels: usize, f: impl FnOnce(&Rgb) -> Rgb) -> Rgb {
    let (w, h) = dims(img);
    let factor = ((w * h) as f32 / max_pixels.max(1) as f32).sqrt().ceil() as usize;
    if factor <= 1 {
        return f(img);
    }
    let small: Rgb = std::array::from_fn(|c| img[c].downscale(factor));
    resize(&f(&small), w, h)
}

/// [`edge_preserving`] with `sigma_s` in reference pixels, run at work size.
pub(crate) fn smooth(img: &Rgb, sigma_s: f32, sigma_r: f32) -> Rgb {
    at_work_size(img, WORK_PIXELS, |s| {
        edge_preserving(s, sigma_s * unit(s), sigma_r)
    })
}

/// Pixel budget of the work-size copies.
pub(crate) const WORK_PIXELS: usize = 600_000;

/// A smooth-weighted Kuwahara filter: each pixel takes the mean colour of the four
/// quadrant windows around it, weighted towards the least varied one, which flattens
/// texture into paint-like patches while keeping edges.
pub(crate) fn kuwahara(img: &Rgb, radius: f32) -> Rgb {
    let (w, h) = dims(img);
    let q = (radius / 2.0).round().max(1.0) as usize;
    if w == 0 || h == 0 {
        return img.clone();
    }
    let l = luma(img);
    let means: [Plane; 5] = [
        box_mean(&img[0], q),
        box_mean(&img[1], q),
        box_mean(&img[2], q),
        box_mean(&l, q),
        box_mean(&l.map(|v| v * v), q),
    ];
    let qi = q as isize;
    render(w, h, |x, y| {
        let mut acc = [0.0f32; 3];
        let mut total = 0.0f32;
        for (ox, oy) in [(-qi, -qi), (qi, -qi), (-qi, qi), (qi, qi)] {
            let sx = (x as isize + ox).clamp(0, w as isize - 1) as usize;
            let sy = (y as isize + oy).clamp(0, h as isize - 1) as usize;
            let i = sy * w + sx;
            let m = means[3].data[i];
            let var = (means[4].data[i] - m * m).max(0.0);
            let k = 1.0 / (1e-4 + var);
            let weight = k * k;
            for (a, plane) in acc.iter_mut().zip(&means) {
                *a += weight * plane.data[i];
            }
            total += weight;
        }
        scale(acc, 1.0 / total)
    })
}

/// Dark lines on white: 1 on paper, down to 0 on a line. A difference of Gaussians marks
/// where `l` is darker than its surroundings (valleys and the dark side of edges), soft
/// thresholded at `threshold` with slope `steepness`.
pub(crate) fn dog_lines(l: &Plane, sigma: f32, threshold: f32, steepness: f32) -> Plane {
    let inner = blur(l, sigma);
    let outer = blur(l, sigma * 1.6);
    inner.zip(&outer, |a, b| {
        1.0 - ((b - a - threshold).max(0.0) * steepness).tanh()
    })
}

/// Thickens dark lines by taking the minimum over a disc-ish window of `radius` px.
pub(crate) fn thicken(lines: &Plane, radius: f32) -> Plane {
    let r = radius.round() as usize;
    if r == 0 {
        lines.clone()
    } else {
        crate::filters::planes::min_filter(lines, r)
    }
}

/// Pencil hatching: 1 where a stroke darkens the paper, 0 on bare paper. Per-pixel noise
/// is averaged along the direction `angle` over `length` px each way (at most 8 taps a
/// side, spaced out on long strokes), giving streaks like graphite on grained paper;
/// `seed` decorrelates layers.
pub(crate) fn hatching(width: usize, height: usize, angle: f32, length: f32, seed: u32) -> Plane {
    let noise = Plane::from_fn(width, height, |x, y| hash(x as i64, y as i64, seed));
    let taps = (length.max(1.0) as i64).clamp(1, 8);
    let spacing = (length.max(1.0) / taps as f32).max(1.0);
    let (dx, dy) = (angle.cos() * spacing, angle.sin() * spacing);
    let offsets: Vec<(isize, isize)> = (-taps..=taps)
        .map(|k| {
            (
                (k as f32 * dx).round() as isize,
                (k as f32 * dy).round() as isize,
            )
        })
        .collect();
    // The mean of n uniform samples has a standard deviation of sqrt(1/12/n).
    let n = offsets.len() as f32;
    let norm = (12.0 * n).sqrt();
    let (wi, hi) = (width as isize, height as isize);
    Plane::from_fn(width, height, |x, y| {
        let mut sum = 0.0;
        for &(ox, oy) in &offsets {
            let sx = (x as isize + ox).rem_euclid(wi.max(1));
            let sy = (y as isize + oy).rem_euclid(hi.max(1));
            sum += noise.data[sy as usize * width + sx as usize];
        }
        let z = (sum / n - 0.5) * norm;
        smoothstep(-1.2, 1.6, z)
    })
}

/// Flow-guided smoothing (line integral convolution): each pixel becomes the mean of `img`
/// along the streamline of the direction field `angle` (radians), `length` px each way.
/// Noise or texture smeared this way reads as brush strokes following the field.
pub(crate) fn flow_smooth(img: &Rgb, angle: &Plane, length: f32) -> Rgb {
    let (w, h) = dims(img);
    let steps = (length.max(1.0) as usize).clamp(1, 48);
    let (wf, hf) = ((w as f32 - 1.0).max(0.0), (h as f32 - 1.0).max(0.0));
    render(w, h, |x, y| {
        let start = y * w + x;
        let mut acc = px(img, start);
        let mut n = 1.0;
        for sign in [1.0f32, -1.0] {
            let (mut fx, mut fy) = (x as f32, y as f32);
            let mut i = start;
            for _ in 0..steps {
                let a = angle.data[i];
                fx = (fx + sign * a.cos()).clamp(0.0, wf);
                fy = (fy + sign * a.sin()).clamp(0.0, hf);
                i = (fy + 0.5) as usize * w + (fx + 0.5) as usize;
                let p = px(img, i.min(w * h - 1));
                acc = [acc[0] + p[0], acc[1] + p[1], acc[2] + p[2]];
                n += 1.0;
            }
        }
        scale(acc, 1.0 / n)
    })
}

/// The edge-tangent direction of `l` (radians): the direction of least change, from the
/// structure tensor smoothed over `sigma` px, so it flows coherently along contours.
pub(crate) fn tangent_field(l: &Plane, sigma: f32) -> Plane {
    let (w, h) = (l.width, l.height);
    let grad = |x: usize, y: usize| {
        let gx = l.at((x + 1).min(w - 1), y) - l.at(x.saturating_sub(1), y);
        let gy = l.at(x, (y + 1).min(h - 1)) - l.at(x, y.saturating_sub(1));
        (gx, gy)
    };
    let exx = blur(&Plane::from_fn(w, h, |x, y| grad(x, y).0.powi(2)), sigma);
    let eyy = blur(&Plane::from_fn(w, h, |x, y| grad(x, y).1.powi(2)), sigma);
    let exy = blur(
        &Plane::from_fn(w, h, |x, y| {
            let (gx, gy) = grad(x, y);
            gx * gy
        }),
        sigma,
    );
    Plane::from_fn(w, h, |x, y| {
        let i = y * w + x;
        0.5 * (2.0 * exy.data[i]).atan2(exx.data[i] - eyy.data[i]) + std::f32::consts::FRAC_PI_2
    })
}

/// Brush strokes: `img` with a little per-pixel noise, smeared along its own contours
/// over `length` px each way, so texture reads as paint laid along the forms.
pub(crate) fn brush_strokes(img: &Rgb, length: f32, texture: f32, seed: u32) -> Rgb {
    let u = unit(img);
    let angle = tangent_field(&luma(img), 3.0 * u);
    let noisy = map(img, |x, y, c| {
        let n = (hash(x as i64, y as i64, seed) - 0.5) * texture;
        [c[0] + n, c[1] + n, c[2] + n]
    });
    flow_smooth(&noisy, &angle, length)
}

/// Samples `img` bilinearly at (fx, fy), clamped to the image.
#[inline]
pub(crate) fn sample(img: &Rgb, fx: f32, fy: f32) -> [f32; 3] {
    let (w, h) = dims(img);
    let fx = fx.clamp(0.0, (w as f32 - 1.0).max(0.0));
    let fy = fy.clamp(0.0, (h as f32 - 1.0).max(0.0));
    let (x0, y0) = (fx as usize, fy as usize);
    let (x1, y1) = ((x0 + 1).min(w - 1), (y0 + 1).min(h - 1));
    let (tx, ty) = (fx - x0 as f32, fy - y0 as f32);
    let top = mix(px(img, y0 * w + x0), px(img, y0 * w + x1), tx);
    let bottom = mix(px(img, y1 * w + x0), px(img, y1 * w + x1), tx);
    mix(top, bottom, ty)
}

/// Flow-guided distortion: every pixel is fetched from `offset(x, y)` away.
pub(crate) fn warp(img: &Rgb, offset: impl Fn(usize, usize) -> (f32, f32) + Sync) -> Rgb {
    let (w, h) = dims(img);
    render(w, h, |x, y| {
        let (dx, dy) = offset(x, y);
        sample(img, x as f32 + dx, y as f32 + dy)
    })
}

/// Darkening towards the corners: 1 in the middle, `1 - strength` in the corners.
#[inline]
pub(crate) fn vignette(x: usize, y: usize, w: usize, h: usize, strength: f32) -> f32 {
    let nx = (x as f32 + 0.5) / w.max(1) as f32 * 2.0 - 1.0;
    let ny = (y as f32 + 0.5) / h.max(1) as f32 * 2.0 - 1.0;
    let r2 = 0.5 * (nx * nx + ny * ny);
    1.0 - strength * r2 * r2.sqrt()
}

/// Paper: a warm off-white with fibre-scale grain.
#[inline]
pub(crate) fn paper(x: usize, y: usize, u: f32, tint: [f32; 3]) -> [f32; 3] {
    let coarse = fbm(x as f32 / (9.0 * u), y as f32 / (9.0 * u), 7);
    let fine = hash(x as i64, y as i64, 11);
    scale(tint, 0.94 + 0.05 * coarse + 0.02 * fine)
}

/// Area-downscales `img` so its long side is at most `max_side`; the factor used.
pub(crate) fn shrink(img: &Rgb, max_side: usize) -> (Rgb, usize) {
    let (w, h) = dims(img);
    let factor = w.max(h).div_ceil(max_side.max(1)).max(1);
    if factor == 1 {
        return (img.clone(), 1);
    }
    (std::array::from_fn(|c| img[c].downscale(factor)), factor)
}

/// Bilinear resize of each plane.
pub(crate) fn resize(img: &Rgb, width: usize, height: usize) -> Rgb {
    std::array::from_fn(|c| img[c].upscale_to(width, height))
}

/// Blocks of `block` px filled with their mean colour (a mosaic).
pub(crate) fn pixelate(img: &Rgb, block: usize) -> Rgb {
    let (w, h) = dims(img);
    let block = block.max(1);
    let small: Rgb = std::array::from_fn(|c| img[c].downscale(block));
    let sw = small[0].width;
    render(w, h, |x, y| px(&small, (y / block) * sw + x / block))
}

/// Halftone dot coverage (1 ink, 0 paper) for darkness `dark` at (x, y): dots on a
/// lattice of `cell` px rotated by `angle`, their area proportional to the darkness.
#[inline]
pub(crate) fn halftone(x: usize, y: usize, cell: f32, angle: f32, dark: f32) -> f32 {
    let (s, c) = angle.sin_cos();
    let (fx, fy) = (x as f32 + 0.5, y as f32 + 0.5);
    let (u, v) = ((fx * c + fy * s) / cell, (-fx * s + fy * c) / cell);
    let (du, dv) = (u - u.round(), v - v.round());
    let d = (du * du + dv * dv).sqrt();
    // A dot of radius r covers pi r^2 of the unit cell.
    let radius = (dark.clamp(0.0, 1.0) / std::f32::consts::PI).sqrt();
    smoothstep(radius + 0.08, radius - 0.08, d)
}

/// Gradient magnitude of `l` (central differences, clamped at the borders).
pub(crate) fn gradient_magnitude(l: &Plane) -> Plane {
    let (w, h) = (l.width, l.height);
    Plane::from_fn(w, h, |x, y| {
        let gx = l.at((x + 1).min(w - 1), y) - l.at(x.saturating_sub(1), y);
        let gy = l.at(x, (y + 1).min(h - 1)) - l.at(x, y.saturating_sub(1));
        (gx * gx + gy * gy).sqrt()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ramp(w: usize, h: usize) -> Rgb {
        render(w, h, |x, y| {
            let v = x as f32 / w as f32;
            [v, (y as f32 / h as f32), 0.5]
        })
    }

    #[test]
    fn edge_preserving_keeps_a_step_and_flattens_noise() {
        let img = render(64, 32, |x, y| {
            let base = if x < 32 { 0.2 } else { 0.8 };
            let n = (hash(x as i64, y as i64, 1) - 0.5) * 0.04;
            [base + n, base + n, base + n]
        });
        let out = edge_preserving(&img, 20.0, 0.4);
        // The step survives...
        assert!(out[0].at(30, 16) < 0.3 && out[0].at(33, 16) > 0.7);
        // ...and the noise on either side is smoothed.
        let spread = |p: &Plane| {
            let row: Vec<f32> = (2..28).map(|x| p.at(x, 16)).collect();
            row.iter().copied().fold(f32::MIN, f32::max)
                - row.iter().copied().fold(f32::MAX, f32::min)
        };
        assert!(spread(&out[0]) < spread(&img[0]) / 3.0);
    }

    #[test]
    fn quantise_has_the_requested_levels() {
        for v in [0.0f32, 0.1, 0.3, 0.7, 0.99, 1.0] {
            let q = quantise(v, 4.0, 40.0);
            let snapped = (q * 4.0).round() / 4.0;
            assert!((q - snapped).abs() < 0.02, "{v} -> {q}");
        }
    }

    #[test]
    fn blur_keeps_a_constant_and_the_mean() {
        let flat = Plane::from_fn(37, 23, |_, _| 0.4);
        assert!(blur(&flat, 5.0).data.iter().all(|v| (v - 0.4).abs() < 1e-5));
        let r = ramp(50, 40);
        let b = blur(&r[0], 30.0);
        assert_eq!((b.width, b.height), (50, 40));
    }

    #[test]
    fn large_images_render_capped_and_come_back_full_size() {
        let big = RgbImage::from_pixel(2100, 2100, image::Rgb([10, 20, 30]));
        let mut seen = (0, 0);
        let out = render_capped(&big, |small| {
            seen = small.dimensions();
            small.clone()
        });
        assert_eq!(out.dimensions(), (2100, 2100));
        assert!(
            u64::from(seen.0) * u64::from(seen.1) <= MAX_RENDER_PIXELS,
            "{seen:?}"
        );
        assert_eq!(out.get_pixel(1000, 1000).0, [10, 20, 30]);
        let small = RgbImage::new(300, 200);
        render_capped(&small, |s| {
            assert_eq!(s.dimensions(), (300, 200));
            s.clone()
        });
    }

    #[test]
    fn tiny_images_pass_through_every_block() {
        for (w, h) in [(1, 1), (1, 5), (7, 1), (2, 2)] {
            let img = ramp(w, h);
            let l = luma(&img);
            assert_eq!(edge_preserving(&img, 30.0, 0.4)[0].data.len(), w * h);
            assert_eq!(kuwahara(&img, 6.0)[1].data.len(), w * h);
            assert_eq!(dog_lines(&l, 2.0, 0.01, 30.0).data.len(), w * h);
            assert_eq!(flow_smooth(&img, &l, 5.0)[2].data.len(), w * h);
            assert_eq!(hatching(w, h, 0.7, 6.0, 3).data.len(), w * h);
            let (small, _) = shrink(&img, 1);
            assert_eq!(resize(&small, w, h)[0].data.len(), w * h);
        }
    }
}
