//! Selfie anime: smooth regions, clean outlines and flat bright shading, with one of
//! eight optional procedural overlays.
//!
//! The rendering is cel shading: two rounds of domain-transform smoothing flatten skin
//! and cloth, luma is quantised into three bright bands (shadow, base, highlight) with
//! colour kept and raised, and thin dark outlines come from a difference of Gaussians.
//! The overlays are drawn with anti-aliased shape tests (4 samples a pixel) at positions
//! from a fixed hash, kept away from the centre of the frame where a selfie's face is.
// Colours are written 0xRRGGBB, as in CSS; separators would hide the channels.
#![allow(clippy::unreadable_literal)]

use image::RgbImage;

use crate::filters::npr::{self, Rgb, hash, hex, mix, smoothstep};
use crate::filters::styles::outlines;

/// The anime rendering; `mask` (1–8, checked by the caller) adds that overlay.
pub(crate) fn selfie_anime(img: &RgbImage, mask: Option<u8>) -> RgbImage {
    if img.width() == 0 || img.height() == 0 {
        return img.clone();
    }
    npr::render_capped(img, |img| {
        let mut out = cel(&npr::planes_of(img));
        if let Some(id) = mask {
            overlay(&mut out, id);
        }
        npr::image_of(&out)
    })
}

/// Cel shading with clean outlines.
fn cel(img: &Rgb) -> Rgb {
    let u = npr::unit(img);
    let smooth = npr::at_work_size(img, npr::WORK_PIXELS, |s| {
        let su = npr::unit(s);
        npr::edge_preserving(&npr::edge_preserving(s, 45.0 * su, 0.3), 25.0 * su, 0.2)
    });
    let lines = outlines(img, u, 0.7);
    let borders = crate::filters::styles::boundaries(&smooth, u);
    npr::map(&smooth, |x, y, c| {
        let l = npr::luma_of(c).clamp(0.0, 1.0);
        // Three bands, lifted: anime shading is bright and flat.
        let band = npr::quantise(l.powf(0.75), 3.0, 9.0);
        let lum = 0.18 + 0.8 * band + 0.06 * smoothstep(0.8, 0.95, l);
        let c = npr::saturate(npr::with_luma(c, lum), 1.3);
        let c = npr::clamp01(c);
        // Outlines in a deep warm grey rather than pure black, as inked cels are.
        mix(
            hex(0x1e1618),
            c,
            lines.at(x, y).min(0.3 + 0.7 * borders.at(x, y)),
        )
    })
}

/// Sub-pixel sample offsets for anti-aliased coverage.
const SUBSAMPLES: [(f32, f32); 4] = [(-0.25, -0.25), (0.25, -0.25), (-0.25, 0.25), (0.25, 0.25)];

/// A shape in its own unit square: `true` inside.
type Shape = fn(f32, f32) -> bool;

/// One placed shape: centre, radius in px, rotation, colour, opacity.
struct Stamp {
    cx: f32,
    cy: f32,
    size: f32,
    angle: f32,
    colour: [f32; 3],
    opacity: f32,
}

/// Blends `stamp.colour` over `img` where `shape` covers, touching only its bounding box.
fn draw(img: &mut Rgb, shape: Shape, s: &Stamp) {
    let (w, h) = npr::dims(img);
    let reach = s.size * 1.5;
    let x0 = (s.cx - reach).floor().max(0.0) as usize;
    let y0 = (s.cy - reach).floor().max(0.0) as usize;
    let x1 = ((s.cx + reach).ceil().max(0.0) as usize).min(w);
    let y1 = ((s.cy + reach).ceil().max(0.0) as usize).min(h);
    let (sin, cos) = s.angle.sin_cos();
    let inv = 1.0 / s.size.max(0.5);
    for y in y0..y1 {
        for x in x0..x1 {
            let mut covered = 0u8;
            for (ox, oy) in SUBSAMPLES {
                let dx = x as f32 + 0.5 + ox - s.cx;
                let dy = y as f32 + 0.5 + oy - s.cy;
                let (u, v) = ((dx * cos + dy * sin) * inv, (-dx * sin + dy * cos) * inv);
                covered += u8::from(shape(u, v));
            }
            if covered > 0 {
                let a = s.opacity * f32::from(covered) / 4.0;
                let i = y * w + x;
                for (plane, &c) in img.iter_mut().zip(&s.colour) {
                    plane.data[i] += (c - plane.data[i]) * a;
                }
            }
        }
    }
}

fn heart(u: f32, v: f32) -> bool {
    let (x, y) = (u * 1.2, -v * 1.2 + 0.15);
    let a = x * x + y * y - 1.0;
    a * a * a - x * x * y * y * y <= 0.0
}

fn sparkle(u: f32, v: f32) -> bool {
    u.abs().sqrt() + v.abs().sqrt() <= 1.0
}

fn disc(u: f32, v: f32) -> bool {
    u * u + v * v <= 1.0
}

fn ring(u: f32, v: f32) -> bool {
    let r = u * u + v * v;
    (0.78..=1.0).contains(&r)
}

fn petal(u: f32, v: f32) -> bool {
    let body = (u / 0.55) * (u / 0.55) + v * v <= 1.0;
    let notch = u * u + (v + 1.05) * (v + 1.05) <= 0.09;
    body && !notch
}

fn snowflake(u: f32, v: f32) -> bool {
    let r = (u * u + v * v).sqrt();
    if r > 1.0 {
        return false;
    }
    let sector = std::f32::consts::PI / 3.0;
    let theta = v.atan2(u).rem_euclid(sector);
    let off = theta.min(sector - theta);
    let (along, across) = (r * off.cos(), r * off.sin());
    let spoke = across < 0.07;
    // Side branches at 60 % of each spoke.
    let bx = along - 0.6;
    let branch = bx > 0.0 && bx < 0.3 && (across - bx * 1.0).abs() < 0.06;
    spoke || branch || r < 0.15
}

fn star5(u: f32, v: f32) -> bool {
    let r = (u * u + v * v).sqrt();
    let sector = std::f32::consts::TAU / 5.0;
    let theta = (v.atan2(u) + std::f32::consts::FRAC_PI_2).rem_euclid(sector) - sector / 2.0;
    // Radius of the star's outline at this angle: from 1 at a point to 0.45 between.
    let edge = 0.45 + 0.55 * (1.0 - theta.abs() / (sector / 2.0)).powf(2.0);
    r <= edge
}

/// Deterministic positions away from the central (face) ellipse.
fn scatter(w: usize, h: usize, count: usize, seed: u32) -> Vec<(f32, f32, f32)> {
    let mut out = Vec::with_capacity(count);
    let mut k = 0i64;
    while out.len() < count && k < 64 * count as i64 + 64 {
        let fx = hash(k, 1, seed);
        let fy = hash(k, 2, seed);
        let size = hash(k, 3, seed);
        k += 1;
        let (nx, ny) = (fx * 2.0 - 1.0, fy * 2.0 - 1.0);
        if (nx / 0.55) * (nx / 0.55) + (ny / 0.7) * (ny / 0.7) < 1.0 {
            continue;
        }
        out.push((fx * w as f32, fy * h as f32, size));
    }
    out
}

/// Draws overlay `id` (1–8) onto `img`.
fn overlay(img: &mut Rgb, id: u8) {
    let (w, h) = npr::dims(img);
    let short = w.min(h) as f32;
    let seed = u32::from(id) * 7919;
    match id {
        1 => {
            // Hearts: pink with a white rim.
            for (k, (cx, cy, s)) in scatter(w, h, 16, seed).into_iter().enumerate() {
                let size = short * (0.035 + 0.04 * s);
                let angle = (hash(k as i64, 4, seed) - 0.5) * 0.8;
                let pink = if k % 3 == 0 {
                    hex(0xff4f7b)
                } else {
                    hex(0xff8fb1)
                };
                let rim = Stamp {
                    cx,
                    cy,
                    size: size * 1.18,
                    angle,
                    colour: [1.0; 3],
                    opacity: 0.95,
                };
                draw(img, heart, &rim);
                draw(
                    img,
                    heart,
                    &Stamp {
                        size,
                        colour: pink,
                        ..rim
                    },
                );
            }
        }
        2 => {
            // Sparkles: soft glow discs under four-pointed stars.
            for (k, (cx, cy, s)) in scatter(w, h, 22, seed).into_iter().enumerate() {
                let size = short * (0.025 + 0.05 * s);
                let glow = Stamp {
                    cx,
                    cy,
                    size: size * 0.45,
                    angle: 0.0,
                    colour: hex(0xfff3b0),
                    opacity: 0.35,
                };
                draw(img, disc, &glow);
                let angle = if k % 2 == 0 { 0.0 } else { 0.3 };
                draw(
                    img,
                    sparkle,
                    &Stamp {
                        size,
                        angle,
                        colour: hex(0xfffbe8),
                        opacity: 0.95,
                        ..glow
                    },
                );
            }
        }
        3 => {
            // Cherry blossom petals drifting across the frame.
            for (k, (cx, cy, s)) in scatter(w, h, 40, seed).into_iter().enumerate() {
                let size = short * (0.015 + 0.025 * s);
                let angle = hash(k as i64, 5, seed) * std::f32::consts::TAU;
                let colour = mix(hex(0xffc0d6), hex(0xff8db5), hash(k as i64, 6, seed));
                draw(
                    img,
                    petal,
                    &Stamp {
                        cx,
                        cy,
                        size,
                        angle,
                        colour,
                        opacity: 0.9,
                    },
                );
            }
        }
        4 => speed_lines(img, seed),
        5 => screentone(img),
        6 => {
            // Bubbles: a translucent body, a rim and a highlight.
            for (cx, cy, s) in scatter(w, h, 18, seed) {
                let size = short * (0.03 + 0.05 * s);
                let body = Stamp {
                    cx,
                    cy,
                    size,
                    angle: 0.0,
                    colour: hex(0xbfe8ff),
                    opacity: 0.18,
                };
                draw(img, disc, &body);
                draw(
                    img,
                    ring,
                    &Stamp {
                        colour: hex(0xe8f8ff),
                        opacity: 0.8,
                        ..body
                    },
                );
                let glint = Stamp {
                    cx: cx - size * 0.4,
                    cy: cy - size * 0.4,
                    size: size * 0.18,
                    colour: [1.0; 3],
                    opacity: 0.9,
                    ..body
                };
                draw(img, disc, &glint);
            }
        }
        7 => {
            // Snow: a cold tint and white flakes.
            let cold = npr::map(img, |_, _, c| mix(c, npr::mul(c, hex(0xd8e6ff)), 0.5));
            *img = cold;
            for (k, (cx, cy, s)) in scatter(w, h, 30, seed).into_iter().enumerate() {
                let size = short * (0.02 + 0.035 * s);
                let angle = hash(k as i64, 7, seed);
                draw(
                    img,
                    snowflake,
                    &Stamp {
                        cx,
                        cy,
                        size,
                        angle,
                        colour: [1.0; 3],
                        opacity: 0.9,
                    },
                );
            }
        }
        _ => comic_panel(img, seed),
    }
}

/// Manga focus lines: dark wedges radiating from the frame's edge towards the centre.
fn speed_lines(img: &mut Rgb, seed: u32) {
    let (w, h) = npr::dims(img);
    let (cx, cy) = (w as f32 / 2.0, h as f32 / 2.0);
    const RAYS: f32 = 180.0;
    let lined = npr::map(img, |x, y, c| {
        let (dx, dy) = ((x as f32 - cx) / cx.max(1.0), (y as f32 - cy) / cy.max(1.0));
        let r = (dx * dx + dy * dy).sqrt();
        let t = (dy.atan2(dx) / std::f32::consts::TAU + 0.5) * RAYS;
        let ray = t.floor() as i64;
        let inner = 0.62 + 0.3 * hash(ray, 1, seed);
        let width = 0.25 + 0.3 * hash(ray, 2, seed);
        // The wedge narrows towards its inner end.
        let along = smoothstep(inner, inner + 0.5, r);
        let across = (t - ray as f32 - 0.5).abs();
        let ink = f32::from(u8::from(
            across < width * along * 0.5 && hash(ray, 3, seed) > 0.25,
        ));
        mix(c, hex(0x141414), ink * 0.9)
    });
    *img = lined;
}

/// A halftone screentone frame: pink dots growing towards the edges.
fn screentone(img: &mut Rgb) {
    let (w, h) = npr::dims(img);
    let cell = (w.min(h) as f32 / 60.0).max(3.0);
    let toned = npr::map(img, |x, y, c| {
        let nx = (x as f32 + 0.5) / w as f32 * 2.0 - 1.0;
        let ny = (y as f32 + 0.5) / h as f32 * 2.0 - 1.0;
        let edge = smoothstep(0.55, 1.0, nx.abs().max(ny.abs()));
        // Dots on a 45° lattice.
        let (u, v) = ((x as f32 + y as f32) / cell, (x as f32 - y as f32) / cell);
        let (fu, fv) = (u - u.round(), v - v.round());
        let d = (fu * fu + fv * fv).sqrt();
        let radius = 0.62 * edge.sqrt();
        let dot = smoothstep(radius + 0.06, radius - 0.06, d) * smoothstep(0.0, 0.15, edge);
        mix(c, hex(0xff7eb6), dot * 0.85)
    });
    *img = toned;
}

/// A comic panel: white gutter, black panel border and an empty speech balloon.
fn comic_panel(img: &mut Rgb, seed: u32) {
    let (w, h) = npr::dims(img);
    let short = w.min(h) as f32;
    let gutter = (short * 0.035).max(1.0);
    let border = (short * 0.012).max(1.0);
    let framed = npr::map(img, |x, y, c| {
        let (fx, fy) = (x as f32 + 0.5, y as f32 + 0.5);
        let d = fx.min(fy).min(w as f32 - fx).min(h as f32 - fy);
        if d < gutter {
            [0.98, 0.98, 0.98]
        } else if d < gutter + border {
            hex(0x111111)
        } else {
            c
        }
    });
    *img = framed;
    let size = short * 0.16;
    let cx = w as f32 * 0.76;
    let cy = (gutter + border + size * 0.9).min(h as f32 * 0.5);
    let balloon = Stamp {
        cx,
        cy,
        size: size * 1.06,
        angle: 0.0,
        colour: hex(0x111111),
        opacity: 1.0,
    };
    let tail: Shape = |u, v| v > 0.4 && v < 1.5 && u > -0.6 + v * 0.35 && u < -0.25 + v * 0.05;
    draw(img, oval, &balloon);
    draw(
        img,
        tail,
        &Stamp {
            size: size * 1.06,
            ..balloon
        },
    );
    draw(
        img,
        oval,
        &Stamp {
            size,
            colour: [1.0; 3],
            ..balloon
        },
    );
    draw(
        img,
        tail,
        &Stamp {
            size: size * 0.98,
            cx: cx + size * 0.03,
            colour: [1.0; 3],
            ..balloon
        },
    );
    // Three small stars in the opposite corner, for emphasis.
    for k in 0..3 {
        let s = Stamp {
            cx: w as f32 * (0.12 + 0.07 * k as f32),
            cy: h as f32 * (0.82 - 0.05 * k as f32),
            size: short * (0.03 + 0.01 * hash(k, 9, seed)),
            angle: 0.2 * k as f32,
            colour: hex(0xffd23f),
            opacity: 1.0,
        };
        draw(
            img,
            star5,
            &Stamp {
                size: s.size * 1.25,
                colour: hex(0x111111),
                ..s
            },
        );
        draw(img, star5, &s);
    }
}

fn oval(u: f32, v: f32) -> bool {
    (u / 1.35) * (u / 1.35) + (v / 0.85) * (v / 0.85) <= 1.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn portrait() -> RgbImage {
        RgbImage::from_fn(120, 160, |x, y| {
            let d = ((x as f32 - 60.0).powi(2) + (y as f32 - 70.0).powi(2)).sqrt();
            if d < 35.0 {
                image::Rgb([225, 180, 150])
            } else {
                image::Rgb([60, 90, (100 + y / 2) as u8])
            }
        })
    }

    #[test]
    fn every_mask_draws_something_different() {
        let base = selfie_anime(&portrait(), None);
        let mut seen = vec![base.clone()];
        for id in 1..=8 {
            let out = selfie_anime(&portrait(), Some(id));
            assert_eq!(out.dimensions(), base.dimensions());
            let changed = out
                .pixels()
                .zip(base.pixels())
                .filter(|(a, b)| a != b)
                .count();
            assert!(changed > 200, "mask {id} changed only {changed} pixels");
            assert!(
                !seen.contains(&out),
                "mask {id} repeats an earlier rendering"
            );
            seen.push(out);
        }
    }

    #[test]
    fn masks_leave_the_face_alone() {
        let base = selfie_anime(&portrait(), None);
        for id in [1, 2, 3, 6] {
            let out = selfie_anime(&portrait(), Some(id));
            assert_eq!(out.get_pixel(60, 70), base.get_pixel(60, 70), "mask {id}");
        }
    }

    #[test]
    fn shading_is_flat_and_bright() {
        let out = selfie_anime(&portrait(), None);
        // The face disc is one flat band.
        let a = out.get_pixel(55, 65).0;
        let b = out.get_pixel(65, 75).0;
        assert!(
            a.iter().zip(&b).all(|(p, q)| p.abs_diff(*q) < 6),
            "{a:?} {b:?}"
        );
        assert!(npr::luma_of(npr::hex(u32::from_be_bytes([0, a[0], a[1], a[2]]))) > 0.6);
    }
}
