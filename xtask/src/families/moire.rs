//! Moiré families, made the ways moiré forms: a photographed screen, a scanned halftone
//! print, a fine regular pattern aliased by downsampling (luma or colour); and fine real
//! textures (fabric, brick, a fence) that are not moiré and must be kept.
//!
//! Every family returns (degraded, reference): the reference went through the same
//! resampling without the pattern, so only the moiré is scored.

use std::f32::consts::{PI, TAU};

use image::RgbImage;

use super::field::fbm;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Formation {
    /// A screen's RGB subpixel grid photographed at a slight angle and scale.
    Screen,
    /// A CMY halftone print scanned at a resolution near its screen's.
    Halftone,
    /// Gratings multiplied into the luma, then a 2x box downscale.
    AliasedLuma,
    /// The same with the gratings out of phase between channels (colour moiré).
    AliasedColour,
}

impl Formation {
    pub const ALL: [Formation; 4] = [
        Formation::Screen,
        Formation::Halftone,
        Formation::AliasedLuma,
        Formation::AliasedColour,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Formation::Screen => "photographed screen",
            Formation::Halftone => "scanned halftone print",
            Formation::AliasedLuma => "fine pattern aliased by downsampling, luma",
            Formation::AliasedColour => "fine pattern aliased by downsampling, colour",
        }
    }

    pub fn held_out(self) -> bool {
        matches!(self, Formation::Halftone | Formation::AliasedColour)
    }
}

fn to_u8(v: f32) -> u8 {
    (v + 0.5).clamp(0.0, 255.0) as u8
}

/// Bilinear sample of channel `c` at (x, y), clamped to the image.
fn sample(img: &RgbImage, x: f32, y: f32, c: usize) -> f32 {
    let (w, h) = (img.width() as f32, img.height() as f32);
    let (x, y) = ((x - 0.5).clamp(0.0, w - 1.0), (y - 0.5).clamp(0.0, h - 1.0));
    let (x0, y0) = (x.floor() as u32, y.floor() as u32);
    let (x1, y1) = (
        (x0 + 1).min(img.width() - 1),
        (y0 + 1).min(img.height() - 1),
    );
    let (fx, fy) = (x.fract(), y.fract());
    let p = |xx, yy| f32::from(img.get_pixel(xx, yy).0[c]);
    (p(x0, y0) * (1.0 - fx) + p(x1, y0) * fx) * (1.0 - fy)
        + (p(x0, y1) * (1.0 - fx) + p(x1, y1) * fx) * fy
}

/// The moiré input of `formation` over `clean` and its reference.
pub fn degrade(
    clean: &RgbImage,
    formation: Formation,
    rng: &mut fastrand::Rng,
) -> (RgbImage, RgbImage, String) {
    match formation {
        Formation::Screen => screen(clean, rng),
        Formation::Halftone => halftone(clean, rng),
        Formation::AliasedLuma => aliased(clean, rng, false),
        Formation::AliasedColour => aliased(clean, rng, true),
    }
}

/// A screen showing `clean` one photo pixel per screen pixel, each screen pixel three
/// vertical R, G, B stripes with dark gaps; the camera sees it rotated by a small angle
/// with a little more than one camera pixel per screen pixel, integrating 4 × 4 samples
/// per pixel. The optics' blur is modelled by the grid's contrast.
fn screen(clean: &RgbImage, rng: &mut fastrand::Rng) -> (RgbImage, RgbImage, String) {
    let angle = (0.5 + 2.5 * rng.f32()).to_radians() * if rng.bool() { 1.0 } else { -1.0 };
    let k = 0.72 + 0.22 * rng.f32(); // screen pixels per camera pixel
    let contrast = 0.25 + 0.35 * rng.f32();
    let (w, h) = (clean.width(), clean.height());
    let (cx, cy) = (w as f32 / 2.0, h as f32 / 2.0);
    let (ca, sa) = (angle.cos(), angle.sin());
    // Subpixel mask of channel c at the fractional position (fx, fy) in a screen pixel.
    let mask = |c: usize, fx: f32, fy: f32| {
        let stripe = (fx * 3.0).floor() as usize == c && (fx * 3.0).fract() < 0.85;
        let row = fy < 0.85;
        let raw = if stripe && row {
            1.0 / (0.85 / 3.0 * 0.85)
        } else {
            0.0
        };
        1.0 + contrast * (raw - 1.0)
    };
    const S: usize = 4;
    let mut out = RgbImage::new(w, h);
    let mut reference = RgbImage::new(w, h);
    for y in 0..h {
        for x in 0..w {
            let (mut acc, mut acc_ref) = ([0.0f32; 3], [0.0f32; 3]);
            for j in 0..S {
                for i in 0..S {
                    let u = x as f32 + (i as f32 + 0.5) / S as f32 - cx;
                    let v = y as f32 + (j as f32 + 0.5) / S as f32 - cy;
                    let (px, py) = (cx + k * (ca * u - sa * v), cy + k * (sa * u + ca * v));
                    let (qx, qy) = (
                        px.floor().clamp(0.0, w as f32 - 1.0),
                        py.floor().clamp(0.0, h as f32 - 1.0),
                    );
                    let p = clean.get_pixel(qx as u32, qy as u32).0;
                    for c in 0..3 {
                        let value = f32::from(p[c]);
                        acc[c] += value * mask(c, px - px.floor(), py - py.floor());
                        acc_ref[c] += value;
                    }
                }
            }
            let n = (S * S) as f32;
            out.put_pixel(x, y, image::Rgb(acc.map(|a| to_u8(a / n))));
            reference.put_pixel(x, y, image::Rgb(acc_ref.map(|a| to_u8(a / n))));
        }
    }
    let label = format!(
        "angle {:.1}°, {k:.2} screen px per camera px, grid contrast {contrast:.2}",
        angle.to_degrees()
    );
    (out, reference, label)
}

/// A CMY halftone print of `clean` (amplitude-modulated dots, screens at 15°, 75° and 0°
/// plus a common rotation) with a dot period of `period` print pixels, scanned at
/// `scale` print pixels per scan pixel (4 × 4 samples a pixel). The reference is the
/// photo itself: a perfect descreen.
fn halftone(clean: &RgbImage, rng: &mut fastrand::Rng) -> (RgbImage, RgbImage, String) {
    let period = 3.0 + 1.5 * rng.f32();
    let scale = 2.0 + 1.0 * rng.f32();
    let turn = rng.f32() * 0.3;
    let angles = [15.0f32, 75.0, 0.0].map(|a| a.to_radians() + turn);
    let (w, h) = (clean.width(), clean.height());
    const S: usize = 4;
    let out = RgbImage::from_fn(w, h, |x, y| {
        let mut acc = [0.0f32; 3];
        for j in 0..S {
            for i in 0..S {
                let (ox, oy) = (
                    x as f32 + (i as f32 + 0.5) / S as f32,
                    y as f32 + (j as f32 + 0.5) / S as f32,
                );
                let (px, py) = (ox * scale, oy * scale);
                for (c, a) in acc.iter_mut().enumerate() {
                    let ink = 1.0 - sample(clean, ox, oy, c) / 255.0;
                    let (ca, sa) = (angles[c].cos(), angles[c].sin());
                    let (u, v) = (ca * px + sa * py, -sa * px + ca * py);
                    // Spot function: dots grow from the cell centres as ink rises.
                    let spot = 0.5 - 0.25 * ((TAU * u / period).cos() + (TAU * v / period).cos());
                    *a += if ink > spot { 0.06 } else { 0.97 };
                }
            }
        }
        image::Rgb(acc.map(|a| to_u8(255.0 * a / (S * S) as f32)))
    });
    // The print's tone scale (paper 0.97, ink 0.06) is part of the print, not the moiré:
    // the reference is the photo on that scale.
    let reference = RgbImage::from_fn(w, h, |x, y| {
        image::Rgb(clean.get_pixel(x, y).0.map(|v| {
            let ink = 1.0 - f32::from(v) / 255.0;
            to_u8(255.0 * (0.97 - 0.91 * ink))
        }))
    });
    let label = format!("dot period {period:.2} print px, {scale:.2} print px per scan px");
    (out, reference, label)
}

/// Two gratings of near frequency (0.3–0.48 cycles per pixel, angles a little apart,
/// amplitude 0.1–0.3 each) multiplied in, then a 2x box downscale; with `colour`, each
/// channel's gratings are shifted by a third of a period.
fn aliased(
    clean: &RgbImage,
    rng: &mut fastrand::Rng,
    colour: bool,
) -> (RgbImage, RgbImage, String) {
    let f1 = 0.3 + 0.18 * rng.f32();
    let f2 = f1 * (1.02 + 0.08 * rng.f32());
    let a1 = rng.f32() * PI;
    let a2 = a1 + 0.03 + 0.15 * rng.f32();
    let amplitude = 0.1 + 0.2 * rng.f32();
    let (w, h) = (clean.width() & !1, clean.height() & !1);
    let mut patterned = RgbImage::new(w, h);
    for y in 0..h {
        for x in 0..w {
            let (fx, fy) = (x as f32, y as f32);
            let p = clean.get_pixel(x, y).0;
            let px = std::array::from_fn(|c| {
                let shift = if colour { TAU * c as f32 / 3.0 } else { 0.0 };
                let g = |f: f32, a: f32| {
                    1.0 + amplitude * (TAU * f * (fx * a.cos() + fy * a.sin()) + shift).cos()
                };
                to_u8(f32::from(p[c]) * g(f1, a1) * g(f2, a2))
            });
            patterned.put_pixel(x, y, image::Rgb(px));
        }
    }
    let half = |img: &RgbImage| {
        RgbImage::from_fn(w / 2, h / 2, |x, y| {
            let mut acc = [0u32; 3];
            for (dx, dy) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
                let p = img.get_pixel(2 * x + dx, 2 * y + dy).0;
                for c in 0..3 {
                    acc[c] += u32::from(p[c]);
                }
            }
            image::Rgb(acc.map(|a| ((a + 2) / 4) as u8))
        })
    };
    let label = format!(
        "{f1:.3} and {f2:.3} cycles/px, {:.0}° apart, amplitude {amplitude:.2}",
        (a2 - a1).to_degrees()
    );
    (half(&patterned), half(&crop(clean, w, h)), label)
}

fn crop(img: &RgbImage, w: u32, h: u32) -> RgbImage {
    image::imageops::crop_imm(img, 0, 0, w, h).to_image()
}

/// Fine regular textures that are part of the scene, not moiré.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Texture {
    Fabric,
    Brick,
    Fence,
}

impl Texture {
    pub const ALL: [Texture; 3] = [Texture::Fabric, Texture::Brick, Texture::Fence];

    pub fn name(self) -> &'static str {
        match self {
            Texture::Fabric => "fabric weave (vs itself)",
            Texture::Brick => "brick wall (vs itself)",
            Texture::Fence => "fence (vs itself)",
        }
    }
}

/// `clean` with a regular texture laid over a large region (shaded by the photo, so the
/// scene's light stays).
pub fn texture(clean: &RgbImage, kind: Texture, rng: &mut fastrand::Rng) -> RgbImage {
    let (w, h) = (clean.width(), clean.height());
    let wear = fbm(w as usize, h as usize, 12.0, 2, rng.u64(..));
    let angle = (rng.f32() - 0.5) * 0.2;
    let (ca, sa) = (angle.cos(), angle.sin());
    // Region: the lower part for a fence, most of the frame otherwise.
    let top = match kind {
        Texture::Fence => h as f32 * (0.4 + 0.2 * rng.f32()),
        _ => h as f32 * 0.15 * rng.f32(),
    };
    let period = match kind {
        Texture::Fabric => 4.0 + 3.0 * rng.f32(),
        Texture::Brick => 10.0 + 8.0 * rng.f32(),
        Texture::Fence => 9.0 + 9.0 * rng.f32(),
    };
    let colour: [f32; 3] = match kind {
        Texture::Fabric => [
            0.55 + 0.3 * rng.f32(),
            0.35 + 0.3 * rng.f32(),
            0.4 + 0.3 * rng.f32(),
        ],
        Texture::Brick => [0.62, 0.3, 0.22],
        Texture::Fence => [0.55, 0.42, 0.3],
    };
    let mut out = clean.clone();
    for (x, y, px) in out.enumerate_pixels_mut() {
        if (y as f32) < top {
            continue;
        }
        let (fx, fy) = (x as f32, y as f32);
        let (u, v) = (ca * fx + sa * fy, -sa * fx + ca * fy);
        let value = match kind {
            Texture::Fabric => {
                // Twill: diagonal ribs, threads crossing.
                let rib = 0.5 + 0.5 * (TAU * (u + v) / period).sin();
                let thread = 0.5 + 0.5 * (TAU * u / (period * 0.5)).sin();
                0.6 + 0.25 * rib + 0.15 * thread
            }
            Texture::Brick => {
                let row = (v / period).floor();
                let offset = if row as i64 % 2 == 0 { 0.0 } else { period };
                let (bu, bv) = ((u + offset).rem_euclid(2.0 * period), v.rem_euclid(period));
                if bu < 1.5 || bv < 1.5 {
                    1.25
                } else {
                    0.85 + 0.2 * wear.at(x as usize, y as usize)
                }
            }
            Texture::Fence => {
                let s = u.rem_euclid(period) / period;
                if s < 0.3 {
                    0.25
                } else {
                    0.9 + 0.1 * (PI * (s - 0.3) / 0.7).sin()
                }
            }
        };
        let p = px.0.map(|v| f32::from(v) / 255.0);
        let light = 0.35 + 0.65 * (0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2]);
        for (out, tint) in px.0.iter_mut().zip(colour) {
            *out = to_u8(255.0 * (tint * value * light * 1.3).min(1.0));
        }
    }
    out
}
