//! Inpainting: fills rectangles from their surroundings, continuing texture; pixels
//! outside the rectangles are left bit-identical.
//!
//! Method: each rectangle is first filled smoothly (a membrane: Laplace's equation with the
//! surrounding pixels as boundary), then refined by patch-based synthesis in the manner
//! of Wexler, Shechtman and Irani: every 7 × 7 patch overlapping the hole is matched to
//! its nearest patch of known pixels nearby (PatchMatch: random search and propagation),
//! and each hole pixel becomes the similarity-weighted vote of the matched patches that
//! cover it. A few rounds of matching and voting copy texture in from the surroundings
//! while the overlapping votes keep the seams soft. Only pixels inside the rectangles
//! are ever written.

use image::RgbImage;

use baidu_imageprocess_protocol::Rect;

/// Patch radius (7 × 7 patches).
const PATCH_RADIUS: i64 = 3;
/// Search margin around the rectangle, beyond its own size.
const SEARCH_MARGIN: i64 = 48;
/// Voting rounds, and PatchMatch iterations per round.
const ROUNDS: usize = 5;
const PATCHMATCH_ITERATIONS: usize = 3;
/// Membrane relaxation sweeps.
const MEMBRANE_SWEEPS: usize = 400;

/// The image with every rectangle (already checked to lie inside it) filled.
pub(crate) fn inpaint(img: &RgbImage, rects: &[Rect]) -> RgbImage {
    let (w, h) = (i64::from(img.width()), i64::from(img.height()));
    if rects.is_empty() || w == 0 || h == 0 {
        return img.clone();
    }
    let mut canvas = Canvas {
        w,
        h,
        px: img.pixels().map(|p| p.0.map(f32::from)).collect(),
        hole: vec![false; (w * h) as usize],
    };
    for r in rects {
        for y in i64::from(r.top)..i64::from(r.top + r.height) {
            for x in i64::from(r.left)..i64::from(r.left + r.width) {
                canvas.hole[(y * w + x) as usize] = true;
            }
        }
    }
    for r in rects {
        membrane(&mut canvas, r);
    }
    let mut rng = 0x9e37_79b9_7f4a_7c15u64;
    for r in rects {
        synthesise(&mut canvas, r, &mut rng);
    }
    let mut out = img.clone();
    for (i, p) in out.pixels_mut().enumerate() {
        if canvas.hole[i] {
            p.0 = canvas.px[i].map(|v| (v + 0.5).clamp(0.0, 255.0) as u8);
        }
    }
    out
}

struct Canvas {
    w: i64,
    h: i64,
    px: Vec<[f32; 3]>,
    hole: Vec<bool>,
}

impl Canvas {
    fn idx(&self, x: i64, y: i64) -> usize {
        (y * self.w + x) as usize
    }
}

/// Smooth fill of the rectangle's hole pixels by Gauss-Seidel relaxation of Laplace's
/// equation, starting from the mean of the known border.
fn membrane(c: &mut Canvas, r: &Rect) {
    let (x0, y0) = (i64::from(r.left), i64::from(r.top));
    let (x1, y1) = (x0 + i64::from(r.width), y0 + i64::from(r.height));
    // Start from the mean of the known pixels around the rectangle.
    let (mut sum, mut n) = ([0.0f32; 3], 0.0f32);
    for y in (y0 - 1).max(0)..(y1 + 1).min(c.h) {
        for x in (x0 - 1).max(0)..(x1 + 1).min(c.w) {
            let i = c.idx(x, y);
            if !c.hole[i] {
                for (acc, v) in sum.iter_mut().zip(c.px[i]) {
                    *acc += v;
                }
                n += 1.0;
            }
        }
    }
    let start = if n > 0.0 {
        sum.map(|s| s / n)
    } else {
        [128.0; 3]
    };
    for y in y0..y1 {
        for x in x0..x1 {
            let i = c.idx(x, y);
            c.px[i] = start;
        }
    }
    // Over-relaxed Gauss-Seidel; image borders are reflecting (only in-image neighbours).
    let omega = 1.8f32;
    for _ in 0..MEMBRANE_SWEEPS {
        for y in y0..y1 {
            for x in x0..x1 {
                let i = c.idx(x, y);
                let (mut s, mut k) = ([0.0f32; 3], 0.0f32);
                for (dx, dy) in [(-1, 0), (1, 0), (0, -1), (0, 1)] {
                    let (nx, ny) = (x + dx, y + dy);
                    if nx >= 0 && ny >= 0 && nx < c.w && ny < c.h {
                        let p = c.px[c.idx(nx, ny)];
                        for (acc, v) in s.iter_mut().zip(p) {
                            *acc += v;
                        }
                        k += 1.0;
                    }
                }
                if k > 0.0 {
                    for (v, total) in c.px[i].iter_mut().zip(s) {
                        *v += omega * (total / k - *v);
                    }
                }
            }
        }
    }
}

fn next(rng: &mut u64) -> u64 {
    *rng ^= *rng << 13;
    *rng ^= *rng >> 7;
    *rng ^= *rng << 17;
    *rng
}

/// Patch-based refinement of one rectangle's hole pixels.
fn synthesise(c: &mut Canvas, r: &Rect, rng: &mut u64) {
    let pr = PATCH_RADIUS;
    let (x0, y0) = (i64::from(r.left), i64::from(r.top));
    let (x1, y1) = (x0 + i64::from(r.width), y0 + i64::from(r.height));
    if c.w < 2 * pr + 1 || c.h < 2 * pr + 1 {
        return;
    }
    // Patch centres must keep the whole patch in the image.
    let clamp_x = |x: i64| x.clamp(pr, c.w - 1 - pr);
    let clamp_y = |y: i64| y.clamp(pr, c.h - 1 - pr);
    // Source centres: whole patch known, within the search box.
    let margin = SEARCH_MARGIN + i64::from(r.width.max(r.height));
    let (sx0, sy0) = (clamp_x(x0 - margin), clamp_y(y0 - margin));
    let (sx1, sy1) = (clamp_x(x1 + margin), clamp_y(y1 + margin));
    let sw = sx1 - sx0 + 1;
    let mut valid = vec![false; (sw * (sy1 - sy0 + 1)) as usize];
    let mut sources = Vec::new();
    // A centre is valid if no hole pixel lies within its patch: count holes in a window
    // with a summed-area table over the search box.
    let (bx0, by0) = (sx0 - pr, sy0 - pr);
    let (bw, bh) = (sx1 + pr - bx0 + 1, sy1 + pr - by0 + 1);
    let mut sat = vec![0u32; ((bw + 1) * (bh + 1)) as usize];
    for y in 0..bh {
        let mut row = 0u32;
        for x in 0..bw {
            row += u32::from(c.hole[c.idx(bx0 + x, by0 + y)]);
            sat[((y + 1) * (bw + 1) + x + 1) as usize] = sat[(y * (bw + 1) + x + 1) as usize] + row;
        }
    }
    let holes_in = |cx: i64, cy: i64| {
        let (ax, ay) = (cx - pr - bx0, cy - pr - by0);
        let (ex, ey) = (ax + 2 * pr + 1, ay + 2 * pr + 1);
        let at = |x: i64, y: i64| sat[(y * (bw + 1) + x) as usize];
        at(ex, ey) + at(ax, ay) - at(ax, ey) - at(ex, ay)
    };
    for y in sy0..=sy1 {
        for x in sx0..=sx1 {
            if holes_in(x, y) == 0 {
                valid[((y - sy0) * sw + x - sx0) as usize] = true;
                sources.push((x, y));
            }
        }
    }
    if sources.is_empty() {
        return; // nothing to copy from: the membrane stays
    }
    let is_valid = |x: i64, y: i64| {
        x >= sx0 && x <= sx1 && y >= sy0 && y <= sy1 && valid[((y - sy0) * sw + x - sx0) as usize]
    };
    // Target centres: every patch overlapping the hole (clamped into the image).
    let (tx0, ty0) = (clamp_x(x0 - pr), clamp_y(y0 - pr));
    let (tx1, ty1) = (clamp_x(x1 - 1 + pr), clamp_y(y1 - 1 + pr));
    let tw = tx1 - tx0 + 1;
    let th = ty1 - ty0 + 1;
    let mut nnf: Vec<(i64, i64, f32)> = Vec::with_capacity((tw * th) as usize);
    for _ in 0..tw * th {
        let s = sources[(next(rng) % sources.len() as u64) as usize];
        nnf.push((s.0, s.1, f32::INFINITY));
    }
    let distance = |c: &Canvas, tx: i64, ty: i64, sx: i64, sy: i64, limit: f32| -> f32 {
        let mut d = 0.0f32;
        for dy in -pr..=pr {
            let (ti, si) = (c.idx(tx - pr, ty + dy), c.idx(sx - pr, sy + dy));
            for k in 0..(2 * pr + 1) as usize {
                let (a, b) = (c.px[ti + k], c.px[si + k]);
                d += (a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2) + (a[2] - b[2]).powi(2);
            }
            if d > limit {
                return d;
            }
        }
        d
    };
    let max_radius = (sx1 - sx0).max(sy1 - sy0).max(1);
    for _round in 0..ROUNDS {
        // Distances change as the fill changes: recompute them first.
        for ty in ty0..=ty1 {
            for tx in tx0..=tx1 {
                let e = &mut nnf[((ty - ty0) * tw + tx - tx0) as usize];
                e.2 = distance(c, tx, ty, e.0, e.1, f32::INFINITY);
            }
        }
        for iteration in 0..PATCHMATCH_ITERATIONS {
            let forward = iteration % 2 == 0;
            let step: i64 = if forward { 1 } else { -1 };
            for j in 0..th {
                let ty = if forward { ty0 + j } else { ty1 - j };
                for i in 0..tw {
                    let tx = if forward { tx0 + i } else { tx1 - i };
                    let at = ((ty - ty0) * tw + tx - tx0) as usize;
                    let mut best = nnf[at];
                    let consider = |sx: i64, sy: i64, best: &mut (i64, i64, f32)| {
                        if is_valid(sx, sy) {
                            let d = distance(c, tx, ty, sx, sy, best.2);
                            if d < best.2 {
                                *best = (sx, sy, d);
                            }
                        }
                    };
                    // Propagation from the already visited neighbours.
                    if tx - step >= tx0 && tx - step <= tx1 {
                        let n = nnf[((ty - ty0) * tw + tx - step - tx0) as usize];
                        consider(n.0 + step, n.1, &mut best);
                    }
                    if ty - step >= ty0 && ty - step <= ty1 {
                        let n = nnf[((ty - step - ty0) * tw + tx - tx0) as usize];
                        consider(n.0, n.1 + step, &mut best);
                    }
                    // Random search in shrinking windows.
                    let mut radius = max_radius;
                    while radius >= 1 {
                        let span = (2 * radius + 1) as u64;
                        let sx = best.0 + (next(rng) % span) as i64 - radius;
                        let sy = best.1 + (next(rng) % span) as i64 - radius;
                        consider(sx, sy, &mut best);
                        radius /= 2;
                    }
                    nnf[at] = best;
                }
            }
        }
        vote(c, &nnf, (tx0, ty0, tw, th), (x0, y0, x1, y1));
    }
}

/// Each hole pixel of the rectangle becomes the weighted mean of the matched patches
/// covering it; weights fall with the match distance.
fn vote(
    c: &mut Canvas,
    nnf: &[(i64, i64, f32)],
    (tx0, ty0, tw, th): (i64, i64, i64, i64),
    (x0, y0, x1, y1): (i64, i64, i64, i64),
) {
    let pr = PATCH_RADIUS;
    let area = ((2 * pr + 1) * (2 * pr + 1) * 3) as f32;
    // Similarity scale: the median per-sample match error.
    let mut errors: Vec<f32> = nnf.iter().map(|e| e.2 / area).collect();
    errors.sort_by(f32::total_cmp);
    let scale = errors
        .get(errors.len() / 2)
        .copied()
        .unwrap_or(1.0)
        .max(1.0);
    let (rw, rh) = (x1 - x0, y1 - y0);
    let mut acc = vec![[0.0f32; 4]; (rw * rh) as usize];
    for j in 0..th {
        for i in 0..tw {
            let (tx, ty) = (tx0 + i, ty0 + j);
            let (sx, sy, d) = nnf[(j * tw + i) as usize];
            let weight = (-(d / area) / (2.0 * scale)).exp();
            for dy in -pr..=pr {
                let y = ty + dy;
                if y < y0 || y >= y1 {
                    continue;
                }
                for dx in -pr..=pr {
                    let x = tx + dx;
                    if x < x0 || x >= x1 {
                        continue;
                    }
                    let p = c.px[c.idx(sx + dx, sy + dy)];
                    let a = &mut acc[((y - y0) * rw + x - x0) as usize];
                    for k in 0..3 {
                        a[k] += weight * p[k];
                    }
                    a[3] += weight;
                }
            }
        }
    }
    for y in y0..y1 {
        for x in x0..x1 {
            let i = c.idx(x, y);
            let a = acc[((y - y0) * rw + x - x0) as usize];
            if c.hole[i] && a[3] > 0.0 {
                c.px[i] = [a[0] / a[3], a[1] / a[3], a[2] / a[3]];
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stripes(w: u32, h: u32) -> RgbImage {
        RgbImage::from_fn(w, h, |x, y| {
            let v = if (x / 4) % 2 == 0 { 200 } else { 40 };
            image::Rgb([v, (y * 2) as u8, 100])
        })
    }

    #[test]
    fn only_the_rectangles_change_and_texture_is_continued() {
        let clean = stripes(96, 80);
        let rect = Rect {
            left: 30,
            top: 25,
            width: 20,
            height: 24,
        };
        let mut holed = clean.clone();
        for y in 25..49 {
            for x in 30..50 {
                holed.put_pixel(x, y, image::Rgb([0, 0, 0]));
            }
        }
        let out = inpaint(&holed, &[rect]);
        let mut err = 0.0;
        for (x, y, p) in out.enumerate_pixels() {
            let inside = (30..50).contains(&x) && (25..49).contains(&y);
            if inside {
                err += (f32::from(p.0[0]) - f32::from(clean.get_pixel(x, y).0[0])).abs();
            } else {
                assert_eq!(p, holed.get_pixel(x, y));
            }
        }
        // The stripes (contrast 160) come back rather than a grey smear (error ~80).
        assert!(err / 480.0 < 40.0, "{}", err / 480.0);
    }

    #[test]
    fn whole_image_and_tiny_rectangles() {
        let img = stripes(12, 9);
        let all = Rect {
            left: 0,
            top: 0,
            width: 12,
            height: 9,
        };
        assert_eq!(inpaint(&img, &[all]).dimensions(), (12, 9));
        let one = Rect {
            left: 11,
            top: 8,
            width: 1,
            height: 1,
        };
        assert_eq!(inpaint(&img, &[one, all]).dimensions(), (12, 9));
        let tiny = RgbImage::new(1, 1);
        let r = Rect {
            left: 0,
            top: 0,
            width: 1,
            height: 1,
        };
        assert_eq!(inpaint(&tiny, &[r]).dimensions(), (1, 1));
    }
}
