//! The degradations the restoration operations are evaluated on (issue 15), seeded and
//! deterministic so every run scores the same inputs.

use std::io::Cursor;

use anyhow::Result;
use baidu_imageprocess_protocol::Rect;
use image::{RgbImage, imageops};

fn to_u8(v: f32) -> u8 {
    (v + 0.5).clamp(0.0, 255.0) as u8
}

/// Standard normal samples (Box-Muller).
pub fn normal(rng: &mut fastrand::Rng) -> f32 {
    let u = rng.f32().max(1e-7);
    let v = rng.f32();
    (-2.0 * u.ln()).sqrt() * (std::f32::consts::TAU * v).cos()
}

/// Additive white Gaussian noise of `sigma` (0..255 scale) on every channel.
pub fn gaussian_noise(img: &RgbImage, sigma: f32, seed: u64) -> RgbImage {
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut out = img.clone();
    for v in out.iter_mut() {
        *v = to_u8(f32::from(*v) + sigma * normal(&mut rng));
    }
    out
}

/// Gaussian blur (edges clamped).
pub fn blur(img: &RgbImage, sigma: f32) -> RgbImage {
    let r = (3.0 * sigma).ceil() as i64;
    let mut k: Vec<f32> = (-r..=r)
        .map(|i| (-(i * i) as f32 / (2.0 * sigma * sigma)).exp())
        .collect();
    let s: f32 = k.iter().sum();
    k.iter_mut().for_each(|v| *v /= s);
    let (w, h) = (i64::from(img.width()), i64::from(img.height()));
    let src: Vec<f32> = img.as_raw().iter().map(|&v| f32::from(v)).collect();
    let mut tmp = vec![0.0f32; src.len()];
    for y in 0..h {
        for x in 0..w {
            for c in 0..3 {
                let mut acc = 0.0;
                for (i, &t) in k.iter().enumerate() {
                    let xx = (x + i as i64 - r).clamp(0, w - 1);
                    acc += t * src[((y * w + xx) * 3 + c) as usize];
                }
                tmp[((y * w + x) * 3 + c) as usize] = acc;
            }
        }
    }
    let mut out = img.clone();
    let raw: &mut [u8] = &mut out;
    for y in 0..h {
        for x in 0..w {
            for c in 0..3 {
                let mut acc = 0.0;
                for (i, &t) in k.iter().enumerate() {
                    let yy = (y + i as i64 - r).clamp(0, h - 1);
                    acc += t * tmp[((yy * w + x) * 3 + c) as usize];
                }
                raw[((y * w + x) * 3 + c) as usize] = to_u8(acc);
            }
        }
    }
    out
}

/// JPEG round trip at `quality`.
pub fn jpeg(img: &RgbImage, quality: u8) -> Result<RgbImage> {
    let mut buf = Cursor::new(Vec::new());
    img.write_with_encoder(image::codecs::jpeg::JpegEncoder::new_with_quality(
        &mut buf, quality,
    ))?;
    Ok(image::load_from_memory(buf.get_ref())?.to_rgb8())
}

/// HSV saturation times `factor` (hue and value kept; saturation clipped to 1).
pub fn saturate(img: &RgbImage, factor: f32) -> RgbImage {
    let mut out = img.clone();
    for px in out.pixels_mut() {
        let max = f32::from(px.0.iter().copied().max().unwrap_or(0));
        let min = f32::from(px.0.iter().copied().min().unwrap_or(0));
        if max <= 0.0 || max == min {
            continue;
        }
        let s = (max - min) / max;
        let scale = (s * factor).min(1.0) / s;
        for c in &mut px.0 {
            *c = to_u8(max - (max - f32::from(*c)) * scale);
        }
    }
    out
}

/// Resized by `fx` horizontally and `fy` vertically with `filter`.
pub fn stretch(img: &RgbImage, fx: f32, fy: f32, filter: imageops::FilterType) -> RgbImage {
    let w = (img.width() as f32 * fx).round().max(1.0) as u32;
    let h = (img.height() as f32 * fy).round().max(1.0) as u32;
    imageops::resize(img, w, h, filter)
}

/// The three rectangles of the inpainting evaluation (40×40, 60×30, 30×80), placed at
/// seeded positions that do not overlap and keep 8 px from the border.
pub fn inpaint_rects(width: u32, height: u32, seed: u64) -> Vec<Rect> {
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut rects: Vec<Rect> = Vec::new();
    for (rw, rh) in [(40, 40), (60, 30), (30, 80)] {
        if width < rw + 16 || height < rh + 16 {
            continue;
        }
        for _ in 0..200 {
            let r = Rect {
                left: rng.u32(8..=width - rw - 8),
                top: rng.u32(8..=height - rh - 8),
                width: rw,
                height: rh,
            };
            let apart = rects.iter().all(|o| {
                r.left > o.left + o.width + 8
                    || o.left > r.left + r.width + 8
                    || r.top > o.top + o.height + 8
                    || o.top > r.top + r.height + 8
            });
            if apart {
                rects.push(r);
                break;
            }
        }
    }
    rects
}

/// `img` with `rects` painted black.
pub fn black_out(img: &RgbImage, rects: &[Rect]) -> RgbImage {
    let mut out = img.clone();
    for r in rects {
        for y in r.top..r.top + r.height {
            for x in r.left..r.left + r.width {
                out.put_pixel(x, y, image::Rgb([0, 0, 0]));
            }
        }
    }
    out
}

fn fill(img: &mut RgbImage, x0: i64, y0: i64, w: i64, h: i64, colour: [u8; 3]) {
    let (iw, ih) = (i64::from(img.width()), i64::from(img.height()));
    for y in y0.max(0)..(y0 + h).min(ih) {
        for x in x0.max(0)..(x0 + w).min(iw) {
            img.put_pixel(x as u32, y as u32, image::Rgb(colour));
        }
    }
}

/// A clean synthetic page: white paper with lines of glyph-like text, ruled lines, an
/// outlined table and a tinted header band.
pub fn synthetic_page(width: u32, height: u32, seed: u64) -> RgbImage {
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut page = RgbImage::from_pixel(width, height, image::Rgb([255, 255, 255]));
    let (w, h) = (i64::from(width), i64::from(height));
    let ink = [[25, 25, 30], [20, 30, 90], [110, 20, 20]];
    // Header band.
    let band = [rng.u8(200..235), rng.u8(215..240), rng.u8(230..250)];
    fill(&mut page, 40, 30, w - 80, 48, band);
    let mut y = 100;
    while y < h - 60 {
        match rng.u8(0..10) {
            0 => {
                // Ruled line.
                fill(&mut page, 40, y, w - 80, rng.i64(1..3), ink[0]);
                y += 16;
            }
            1 if y + 150 < h - 60 => {
                // Table outline with a grid.
                let (tw, th) = (rng.i64(200..(w - 80).max(201)), rng.i64(80..150));
                let cols = rng.i64(2..5);
                let rows = rng.i64(2..5);
                for i in 0..=cols {
                    fill(&mut page, 40 + i * tw / cols, y, 2, th, ink[0]);
                }
                for j in 0..=rows {
                    fill(&mut page, 40, y + j * th / rows, tw + 2, 2, ink[0]);
                }
                y += th + 24;
            }
            _ => {
                // A line of words.
                let colour = ink[usize::from(rng.u8(0..10) == 0) * rng.usize(1..3)];
                let size = rng.i64(9..16);
                let mut x = 40;
                while x < w - 40 - size {
                    let letters = rng.i64(2..9);
                    for _ in 0..letters {
                        if x >= w - 40 - size {
                            break;
                        }
                        let stroke = 1 + i64::from(size > 12);
                        for _ in 0..rng.u8(2..4) {
                            if rng.bool() {
                                let x0 = x + rng.i64(0..size * 2 / 3);
                                fill(&mut page, x0, y, stroke, size, colour);
                            } else {
                                let y0 = y + rng.i64(0..size);
                                fill(&mut page, x, y0, size * 2 / 3, stroke, colour);
                            }
                        }
                        x += size * 2 / 3 + 2;
                    }
                    x += size;
                }
                y += size * 2;
            }
        }
    }
    page
}

/// The page under an illumination gradient (slightly warm) and a soft shadow, with
/// light sensor noise.
pub fn shade_page(page: &RgbImage, seed: u64) -> RgbImage {
    let mut rng = fastrand::Rng::with_seed(seed ^ 0x5eed);
    let (w, h) = (page.width() as f32, page.height() as f32);
    let angle = rng.f32() * std::f32::consts::TAU;
    let (dx, dy) = (angle.cos(), angle.sin());
    let (low, high) = (0.45 + 0.2 * rng.f32(), 0.95);
    let tint = [1.0, 0.96, 0.88];
    // Shadow: a tilted half-plane through a random point, edge softened over ~40 px.
    let (sx, sy) = (w * (0.3 + 0.4 * rng.f32()), h * (0.3 + 0.4 * rng.f32()));
    let sa = rng.f32() * std::f32::consts::TAU;
    let (nx, ny) = (sa.cos(), sa.sin());
    let depth = 0.45 + 0.2 * rng.f32();
    let soft = 15.0 + 30.0 * rng.f32();
    let mut out = page.clone();
    for (x, y, px) in out.enumerate_pixels_mut() {
        let (fx, fy) = (x as f32, y as f32);
        let t = ((fx / w - 0.5) * dx + (fy / h - 0.5) * dy + 0.71) / 1.42;
        let light = low + (high - low) * t.clamp(0.0, 1.0);
        let d = (fx - sx) * nx + (fy - sy) * ny;
        let shadow = 1.0 - depth / (1.0 + (-d / soft).exp());
        for (c, v) in px.0.iter_mut().enumerate() {
            let lit = f32::from(*v) * light * shadow * tint[c];
            *v = to_u8(lit + 3.0 * normal(&mut rng));
        }
    }
    out
}

/// Area (box) downscale by an integer `factor` (the image must be a multiple of it).
fn area_down(img: &RgbImage, factor: u32) -> RgbImage {
    let (w, h) = (img.width() / factor, img.height() / factor);
    let n = factor * factor;
    RgbImage::from_fn(w, h, |x, y| {
        let mut acc = [0u32; 3];
        for dy in 0..factor {
            for dx in 0..factor {
                let p = img.get_pixel(x * factor + dx, y * factor + dy).0;
                for c in 0..3 {
                    acc[c] += u32::from(p[c]);
                }
            }
        }
        image::Rgb(acc.map(|a| ((a + n / 2) / n) as u8))
    })
}

/// Two near-frequency gratings multiplied into `img`, then a 2x area downscale and a
/// bilinear upscale back, which aliases them into moiré. Returns (degraded, reference):
/// the reference is `img` through the same down- and upscale without the gratings, so
/// only the moiré is scored, not the resolution the rescale loses.
pub fn moire(img: &RgbImage, seed: u64) -> (RgbImage, RgbImage) {
    let mut rng = fastrand::Rng::with_seed(seed ^ 0x3017e);
    let (w, h) = (img.width() & !1, img.height() & !1);
    let img = imageops::crop_imm(img, 0, 0, w, h).to_image();
    let f1 = 0.30 + 0.15 * rng.f32();
    let f2 = f1 * (1.03 + 0.05 * rng.f32());
    let a1 = rng.f32() * std::f32::consts::PI;
    let a2 = a1 + 0.05 + 0.1 * rng.f32();
    let amplitude = 0.25;
    let mut gratings = img.clone();
    for (x, y, px) in gratings.enumerate_pixels_mut() {
        let (fx, fy) = (x as f32, y as f32);
        let g = |f: f32, a: f32| {
            1.0 + amplitude * (std::f32::consts::TAU * f * (fx * a.cos() + fy * a.sin())).cos()
        };
        let m = g(f1, a1) * g(f2, a2);
        for v in &mut px.0 {
            *v = to_u8(f32::from(*v) * m);
        }
    }
    let round_trip =
        |i: &RgbImage| imageops::resize(&area_down(i, 2), w, h, imageops::FilterType::Triangle);
    (round_trip(&gratings), round_trip(&img))
}

/// A way to halve a photo other than the quality harness's 2 × 2 box (OpenCV's
/// `INTER_AREA`, `quality::downscale_2x`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Downscaler {
    /// Antialiased Catmull-Rom (PIL's and the `image` crate's bicubic).
    Bicubic,
    /// Antialiased Lanczos-3.
    Lanczos,
    /// Gaussian blur (σ 0.8) before the box.
    Gaussian,
}

/// `img` (even sides) halved by `how`.
pub fn downscale_2x_with(img: &RgbImage, how: Downscaler) -> RgbImage {
    let (w, h) = (img.width() / 2, img.height() / 2);
    let resize = |f| image::imageops::resize(img, w, h, f);
    match how {
        Downscaler::Bicubic => resize(image::imageops::FilterType::CatmullRom),
        Downscaler::Lanczos => resize(image::imageops::FilterType::Lanczos3),
        Downscaler::Gaussian => crate::quality::downscale_2x(&blur(img, 0.8)),
    }
}
