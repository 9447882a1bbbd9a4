//! Synthetic graphics: flat-coloured shapes with hard or anti-aliased edges, drawn from a
//! seed. Photos rarely hold a full-range step from black to white, but screenshots, logos
//! and diagrams are made of them, and a model trained on photos alone can ring on them.
//! The quality harness reports enhance on them as a family of its own. (Mixing a few into
//! the second stage's training raised its gain on them but cost 0.6 dB on soft photos, so
//! the trainer does not.)

use image::RgbImage;

/// One shape, in pixel coordinates (pixel centres at `x + 0.5`).
#[derive(Debug, Clone, Copy)]
enum Shape {
    /// Centre, half extents along its own axes, and the angle of those axes.
    Rect {
        cx: f32,
        cy: f32,
        half_w: f32,
        half_h: f32,
        angle: f32,
    },
    /// Centre, inner and outer radius (a disk when the inner radius is zero).
    Ring {
        cx: f32,
        cy: f32,
        inner: f32,
        outer: f32,
    },
    /// A segment of the given width.
    Stroke {
        from: [f32; 2],
        to: [f32; 2],
        width: f32,
    },
}

impl Shape {
    fn contains(&self, x: f32, y: f32) -> bool {
        match *self {
            Self::Rect {
                cx,
                cy,
                half_w,
                half_h,
                angle,
            } => {
                let (s, c) = angle.sin_cos();
                let (dx, dy) = (x - cx, y - cy);
                (dx * c + dy * s).abs() <= half_w && (dy * c - dx * s).abs() <= half_h
            }
            Self::Ring {
                cx,
                cy,
                inner,
                outer,
            } => {
                let d = (x - cx).powi(2) + (y - cy).powi(2);
                d >= inner * inner && d <= outer * outer
            }
            Self::Stroke {
                from: [x0, y0],
                to: [x1, y1],
                width,
            } => {
                let (vx, vy) = (x1 - x0, y1 - y0);
                let len2 = (vx * vx + vy * vy).max(1e-6);
                let t = (((x - x0) * vx + (y - y0) * vy) / len2).clamp(0.0, 1.0);
                let (px, py) = (x0 + t * vx - x, y0 + t * vy - y);
                px * px + py * py <= width * width / 4.0
            }
        }
    }

    /// Pixel bounds `(x0, y0, x1, y1)` (exclusive ends) that hold the shape.
    fn bounds(&self, side: u32) -> (u32, u32, u32, u32) {
        let (lx, ly, hx, hy) = match *self {
            Self::Rect {
                cx,
                cy,
                half_w,
                half_h,
                ..
            } => {
                let r = half_w.hypot(half_h);
                (cx - r, cy - r, cx + r, cy + r)
            }
            Self::Ring { cx, cy, outer, .. } => (cx - outer, cy - outer, cx + outer, cy + outer),
            Self::Stroke {
                from: [x0, y0],
                to: [x1, y1],
                width,
            } => (
                x0.min(x1) - width,
                y0.min(y1) - width,
                x0.max(x1) + width,
                y0.max(y1) + width,
            ),
        };
        let clamp = |v: f32| (v.floor().max(0.0) as u32).min(side);
        (clamp(lx), clamp(ly), clamp(hx + 1.0), clamp(hy + 1.0))
    }
}

/// A colour: half the time an extreme (black, white or a saturated primary), else any.
fn colour(rng: &mut fastrand::Rng) -> [f32; 3] {
    const EXTREMES: [[f32; 3]; 8] = [
        [0.0, 0.0, 0.0],
        [255.0, 255.0, 255.0],
        [255.0, 0.0, 0.0],
        [0.0, 160.0, 0.0],
        [0.0, 0.0, 255.0],
        [255.0, 220.0, 0.0],
        [0.0, 0.0, 0.0],
        [255.0, 255.0, 255.0],
    ];
    if rng.bool() {
        EXTREMES[rng.usize(..EXTREMES.len())]
    } else {
        [0; 3].map(|_| rng.f32() * 255.0)
    }
}

/// A line of glyph-like marks (two or three short strokes per letter cell), as text is.
fn text_line(rng: &mut fastrand::Rng, side: f32) -> Vec<Shape> {
    let height = 6.0 + rng.f32() * 14.0;
    let width = (height / 8.0).max(0.8) + rng.f32();
    let (mut x, y) = (rng.f32() * side * 0.8, rng.f32() * side);
    let mut marks = Vec::new();
    for _ in 0..4 + rng.usize(..12) {
        let cell = height * (0.5 + 0.3 * rng.f32());
        for _ in 0..2 + rng.usize(..2) {
            let point = |rng: &mut fastrand::Rng| (x + rng.f32() * cell, y + rng.f32() * height);
            let ((x0, y0), (x1, y1)) = (point(rng), point(rng));
            marks.push(Shape::Stroke {
                from: [x0, y0],
                to: [x1, y1],
                width,
            });
        }
        x += cell + width * 1.5;
    }
    marks
}

/// One shape, or a line of text-like marks, to draw in one colour.
fn marks(rng: &mut fastrand::Rng, side: f32) -> Vec<Shape> {
    if rng.u8(..6) == 0 {
        text_line(rng, side)
    } else {
        vec![shape(rng, side)]
    }
}

fn shape(rng: &mut fastrand::Rng, side: f32) -> Shape {
    let at = |rng: &mut fastrand::Rng| rng.f32() * side;
    let size = |rng: &mut fastrand::Rng, lo: f32, hi: f32| lo + rng.f32() * (hi - lo);
    match rng.u8(..10) {
        0..=2 => Shape::Rect {
            cx: at(rng),
            cy: at(rng),
            half_w: size(rng, 2.0, side / 5.0),
            half_h: size(rng, 2.0, side / 5.0),
            angle: if rng.bool() {
                0.0
            } else {
                rng.f32() * std::f32::consts::PI
            },
        },
        3..=4 => {
            let outer = size(rng, 2.0, side / 6.0);
            Shape::Ring {
                cx: at(rng),
                cy: at(rng),
                inner: if rng.bool() { 0.0 } else { outer * rng.f32() },
                outer,
            }
        }
        _ => {
            // Strokes from one to a few pixels wide, as in text and line art.
            let (x0, y0) = (at(rng), at(rng));
            let length = size(rng, 4.0, side / 3.0);
            let angle = if rng.bool() {
                f32::from(rng.u8(..4)) * std::f32::consts::FRAC_PI_4
            } else {
                rng.f32() * std::f32::consts::TAU
            };
            Shape::Stroke {
                from: [x0, y0],
                to: [x0 + length * angle.cos(), y0 + length * angle.sin()],
                width: size(rng, 0.8, 5.0),
            }
        }
    }
}

/// A `side × side` graphic from `seed`: a flat background and 10 to 40 shapes drawn over
/// it, either with hard edges (each pixel takes the colour at its centre, as pixel art and
/// unsmoothed screenshots have) or anti-aliased (4 × 4 samples per pixel), by seed.
pub fn graphic(seed: u64, side: u32) -> RgbImage {
    let mut rng = fastrand::Rng::with_seed(seed);
    let smooth = rng.bool();
    let samples: u32 = if smooth { 4 } else { 1 };
    let background = colour(&mut rng);
    let n = side as usize * side as usize;
    let mut canvas: Vec<[f32; 3]> = vec![background; n];
    let shapes = 10 + rng.usize(..31);
    for _ in 0..shapes {
        let c = colour(&mut rng);
        for s in marks(&mut rng, side as f32) {
            draw(&mut canvas, side, samples, &s, c);
        }
    }
    RgbImage::from_fn(side, side, |x, y| {
        let p = canvas[y as usize * side as usize + x as usize];
        image::Rgb(p.map(|v| v.round().clamp(0.0, 255.0) as u8))
    })
}

/// Paints `s` in colour `c` over `canvas`, each pixel by the share of its `samples ×
/// samples` sample points inside the shape.
fn draw(canvas: &mut [[f32; 3]], side: u32, samples: u32, s: &Shape, c: [f32; 3]) {
    let (x0, y0, x1, y1) = s.bounds(side);
    for y in y0..y1 {
        for x in x0..x1 {
            let mut inside = 0u32;
            for sy in 0..samples {
                for sx in 0..samples {
                    let fx = x as f32 + (sx as f32 + 0.5) / samples as f32;
                    let fy = y as f32 + (sy as f32 + 0.5) / samples as f32;
                    inside += u32::from(s.contains(fx, fy));
                }
            }
            if inside > 0 {
                let cover = inside as f32 / (samples * samples) as f32;
                let p = &mut canvas[y as usize * side as usize + x as usize];
                for (v, c) in p.iter_mut().zip(c) {
                    *v += (c - *v) * cover;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seed_always_draws_the_same_graphic() {
        assert_eq!(graphic(3, 64), graphic(3, 64));
        assert_ne!(graphic(3, 64), graphic(4, 64));
    }

    #[test]
    fn graphics_hold_full_range_steps() {
        // Over a handful of seeds, some neighbouring pixels differ by most of the range.
        let steepest = (0..8)
            .map(|seed| {
                let g = graphic(seed, 96);
                let mut best = 0i32;
                for y in 0..96 {
                    for x in 1..96 {
                        let a = i32::from(g.get_pixel(x, y).0[1]);
                        let b = i32::from(g.get_pixel(x - 1, y).0[1]);
                        best = best.max((a - b).abs());
                    }
                }
                best
            })
            .max();
        assert!(steepest >= Some(200), "{steepest:?}");
    }
}
