//! Inpainting: fills rectangles from their surroundings, continuing texture; pixels
//! outside the rectangles are left bit-identical.
//!
//! Method: coarse-to-fine patch synthesis after Wexler, Shechtman and Irani. Around each
//! rectangle a crop is reduced to a pyramid (2 × 2 means; a coarse pixel is known only if
//! all of its fine pixels are). At the coarsest level the hole is small: it is filled
//! smoothly first (a membrane: Laplace's equation with the surrounding pixels as
//! boundary). Then, at every level from coarse to fine, every 7 × 7 patch overlapping the
//! hole is matched to its nearest fully known patch (PatchMatch: propagation and random
//! search), and each hole pixel becomes the similarity-weighted vote of the matched
//! patches covering it; the matches and the fill are carried to the next finer level. The
//! coarse levels lay out the structure (which region continues where), the fine levels
//! copy the texture itself, so the fill carries its surroundings' grain instead of a
//! smooth smear. Only pixels inside the rectangles are ever written.

use image::RgbImage;

use crate::Rect;

/// Patch radius (7 × 7 patches).
const PATCH_RADIUS: i64 = 3;
/// Search margin around the rectangle, beyond its own size (at full resolution).
const SEARCH_MARGIN: i64 = 48;
/// Matching and voting rounds at the coarsest level and at every finer one; PatchMatch
/// iterations per round.
const COARSE_ROUNDS: usize = 6;
const FINE_ROUNDS: usize = 3;
const PATCHMATCH_ITERATIONS: usize = 2;
/// The coarsest level is the first whose hole is at most this many pixels across (or
/// whose crop would become too small to hold patches).
const COARSE_HOLE: i64 = 10;
/// Membrane relaxation sweeps (at the coarsest level, where the hole is small).
const MEMBRANE_SWEEPS: usize = 200;
/// Vote weights fall with the match error relative to the median error times this:
/// smaller keeps the fine levels' texture sharper (fewer, better patches decide).
const VOTE_SPREAD_COARSE: f32 = 2.0;
const VOTE_SPREAD_FINE: f32 = 0.5;

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
    let mut rng = 0x9e37_79b9_7f4a_7c15u64;
    for r in rects {
        fill_rect(&mut canvas, r, &mut rng);
    }
    let mut out = img.clone();
    for (i, p) in out.pixels_mut().enumerate() {
        if canvas.hole[i] {
            p.0 = canvas.px[i].map(|v| (v + 0.5).clamp(0.0, 255.0) as u8);
        }
    }
    out
}

/// An image with a hole: the whole canvas, a crop of it, or a pyramid level.
#[derive(Clone)]
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

    fn crop(&self, x0: i64, y0: i64, x1: i64, y1: i64) -> Canvas {
        let (w, h) = (x1 - x0, y1 - y0);
        let mut px = Vec::with_capacity((w * h) as usize);
        let mut hole = Vec::with_capacity((w * h) as usize);
        for y in y0..y1 {
            for x in x0..x1 {
                let i = self.idx(x, y);
                px.push(self.px[i]);
                hole.push(self.hole[i]);
            }
        }
        Canvas { w, h, px, hole }
    }

    /// Half the size: 2 × 2 means of the known pixels; a pixel is a hole if any of its
    /// fine pixels is.
    fn half(&self) -> Canvas {
        let (w, h) = ((self.w + 1) / 2, (self.h + 1) / 2);
        let mut px = Vec::with_capacity((w * h) as usize);
        let mut hole = Vec::with_capacity((w * h) as usize);
        for y in 0..h {
            for x in 0..w {
                let (mut sum, mut n, mut any_hole) = ([0.0f32; 3], 0.0f32, false);
                for (dx, dy) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
                    let (fx, fy) = (2 * x + dx, 2 * y + dy);
                    if fx >= self.w || fy >= self.h {
                        continue;
                    }
                    let i = self.idx(fx, fy);
                    if self.hole[i] {
                        any_hole = true;
                    } else {
                        for (s, v) in sum.iter_mut().zip(self.px[i]) {
                            *s += v;
                        }
                        n += 1.0;
                    }
                }
                px.push(if n > 0.0 { sum.map(|s| s / n) } else { [0.0; 3] });
                hole.push(any_hole);
            }
        }
        Canvas { w, h, px, hole }
    }
}

/// The bounding box of a canvas's hole pixels, if any: (x0, y0, x1, y1), exclusive ends.
fn hole_box(c: &Canvas) -> Option<(i64, i64, i64, i64)> {
    let mut b: Option<(i64, i64, i64, i64)> = None;
    for y in 0..c.h {
        for x in 0..c.w {
            if c.hole[c.idx(x, y)] {
                b = Some(match b {
                    None => (x, y, x + 1, y + 1),
                    Some((a, bb, cc, d)) => (a.min(x), bb.min(y), cc.max(x + 1), d.max(y + 1)),
                });
            }
        }
    }
    b
}

/// Fills one rectangle's hole pixels, coarse to fine, on a crop around it.
fn fill_rect(canvas: &mut Canvas, r: &Rect, rng: &mut u64) {
    let (rx0, ry0) = (i64::from(r.left), i64::from(r.top));
    let (rx1, ry1) = (rx0 + i64::from(r.width), ry0 + i64::from(r.height));
    let margin = SEARCH_MARGIN + i64::from(r.width.max(r.height));
    let (cx0, cy0) = ((rx0 - margin).max(0), (ry0 - margin).max(0));
    let (cx1, cy1) = ((rx1 + margin).min(canvas.w), (ry1 + margin).min(canvas.h));
    let mut crop = canvas.crop(cx0, cy0, cx1, cy1);
    // Only this rectangle is synthesised now; the other holes in the crop stay holes
    // (never copied from) and keep whatever they hold.
    let target: Vec<bool> = (0..crop.h)
        .flat_map(|y| (0..crop.w).map(move |x| (x, y)))
        .map(|(x, y)| {
            let (gx, gy) = (x + cx0, y + cy0);
            gx >= rx0 && gx < rx1 && gy >= ry0 && gy < ry1
        })
        .collect();
    let mut levels = vec![crop.clone()];
    let mut targets = vec![target];
    loop {
        let last = &levels[levels.len() - 1];
        let Some((x0, y0, x1, y1)) = hole_box_of(last, &targets[targets.len() - 1]) else {
            return;
        };
        let across = (x1 - x0).max(y1 - y0);
        if across <= COARSE_HOLE || last.w < 8 * PATCH_RADIUS || last.h < 8 * PATCH_RADIUS {
            break;
        }
        let t = &targets[targets.len() - 1];
        let (w, h) = ((last.w + 1) / 2, (last.h + 1) / 2);
        let half_target: Vec<bool> = (0..h)
            .flat_map(|y| (0..w).map(move |x| (x, y)))
            .map(|(x, y)| {
                [(0, 0), (1, 0), (0, 1), (1, 1)].iter().any(|&(dx, dy)| {
                    let (fx, fy) = (2 * x + dx, 2 * y + dy);
                    fx < last.w && fy < last.h && t[(fy * last.w + fx) as usize]
                })
            })
            .collect();
        let half = last.half();
        levels.push(half);
        targets.push(half_target);
    }
    let coarsest = levels.len() - 1;
    let mut nnf: Option<Nnf> = None;
    for level in (0..=coarsest).rev() {
        let target = &targets[level];
        if level == coarsest {
            membrane(&mut levels[level], target);
        } else {
            // The finer level starts from the coarser fill, upsampled.
            let (fine, coarse) = levels.split_at_mut(level + 1);
            let (fine, coarse) = (&mut fine[level], &coarse[0]);
            for y in 0..fine.h {
                for x in 0..fine.w {
                    let i = fine.idx(x, y);
                    if target[i] {
                        fine.px[i] = bilinear(coarse, (x as f32 - 0.5) / 2.0, (y as f32 - 0.5) / 2.0);
                    }
                }
            }
        }
        let rounds = if level == coarsest { COARSE_ROUNDS } else { FINE_ROUNDS };
        let spread = if level == 0 { VOTE_SPREAD_FINE } else { VOTE_SPREAD_COARSE };
        nnf = synthesise(
            &mut levels[level],
            target,
            nnf.as_ref(),
            rounds,
            spread,
            level == 0,
            rng,
        );
    }
    crop = levels.swap_remove(0);
    let target = &targets[0];
    for y in 0..crop.h {
        for x in 0..crop.w {
            let i = crop.idx(x, y);
            if target[i] {
                let j = canvas.idx(x + cx0, y + cy0);
                canvas.px[j] = crop.px[i];
            }
        }
    }
}

fn hole_box_of(c: &Canvas, target: &[bool]) -> Option<(i64, i64, i64, i64)> {
    let masked = Canvas {
        w: c.w,
        h: c.h,
        px: Vec::new(),
        hole: target.to_vec(),
    };
    hole_box(&masked)
}

/// Bilinear sample of a level at (x, y) in its pixel coordinates, clamped to it.
fn bilinear(c: &Canvas, x: f32, y: f32) -> [f32; 3] {
    let x = x.clamp(0.0, (c.w - 1) as f32);
    let y = y.clamp(0.0, (c.h - 1) as f32);
    let (x0, y0) = (x.floor() as i64, y.floor() as i64);
    let (x1, y1) = ((x0 + 1).min(c.w - 1), (y0 + 1).min(c.h - 1));
    let (fx, fy) = (x - x0 as f32, y - y0 as f32);
    let p = |xx, yy| c.px[c.idx(xx, yy)];
    let (a, b, cc, d) = (p(x0, y0), p(x1, y0), p(x0, y1), p(x1, y1));
    std::array::from_fn(|k| {
        (a[k] * (1.0 - fx) + b[k] * fx) * (1.0 - fy) + (cc[k] * (1.0 - fx) + d[k] * fx) * fy
    })
}

/// Smooth fill of the target pixels by Gauss-Seidel relaxation of Laplace's equation,
/// starting from the mean of the known pixels next to them.
fn membrane(c: &mut Canvas, target: &[bool]) {
    let (mut sum, mut n) = ([0.0f32; 3], 0.0f32);
    for y in 0..c.h {
        for x in 0..c.w {
            let i = c.idx(x, y);
            if c.hole[i] {
                continue;
            }
            let next_to = [(-1, 0), (1, 0), (0, -1), (0, 1)].iter().any(|&(dx, dy)| {
                let (nx, ny) = (x + dx, y + dy);
                nx >= 0 && ny >= 0 && nx < c.w && ny < c.h && target[c.idx(nx, ny)]
            });
            if next_to {
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
    let cells: Vec<(i64, i64)> = (0..c.h)
        .flat_map(|y| (0..c.w).map(move |x| (x, y)))
        .filter(|&(x, y)| target[(y * c.w + x) as usize])
        .collect();
    for &(x, y) in &cells {
        let i = c.idx(x, y);
        c.px[i] = start;
    }
    // Over-relaxed Gauss-Seidel; borders are reflecting (only in-image neighbours).
    let omega = 1.8f32;
    for _ in 0..MEMBRANE_SWEEPS {
        for &(x, y) in &cells {
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

fn next(rng: &mut u64) -> u64 {
    *rng ^= *rng << 13;
    *rng ^= *rng >> 7;
    *rng ^= *rng << 17;
    *rng
}

/// A nearest-neighbour field: for each target patch centre in a box, its source centre.
struct Nnf {
    /// Target centres' box: x0, y0, width, height.
    x0: i64,
    y0: i64,
    w: i64,
    h: i64,
    /// Source centre and match distance, row-major over the box.
    matches: Vec<(i64, i64, f32)>,
}

impl Nnf {
    /// The coarser level's match for a target centre at (x, y) of the finer level.
    fn upsampled(&self, x: i64, y: i64) -> Option<(i64, i64)> {
        let (cx, cy) = (x / 2, y / 2);
        if cx < self.x0 || cy < self.y0 || cx >= self.x0 + self.w || cy >= self.y0 + self.h {
            return None;
        }
        let m = self.matches[((cy - self.y0) * self.w + cx - self.x0) as usize];
        Some((2 * m.0 + x % 2, 2 * m.1 + y % 2))
    }
}

/// Patch-based synthesis of the target pixels of one level: `rounds` of matching and
/// voting. Starts from `coarser`'s matches where there are any. Returns the matches.
fn synthesise(
    c: &mut Canvas,
    target: &[bool],
    coarser: Option<&Nnf>,
    rounds: usize,
    spread: f32,
    finest: bool,
    rng: &mut u64,
) -> Option<Nnf> {
    let pr = PATCH_RADIUS;
    if c.w < 2 * pr + 1 || c.h < 2 * pr + 1 {
        return None;
    }
    let clamp_x = |x: i64| x.clamp(pr, c.w - 1 - pr);
    let clamp_y = |y: i64| y.clamp(pr, c.h - 1 - pr);
    // A centre is a source if no hole pixel lies within its patch: count holes in a
    // window with a summed-area table.
    let (w, h) = (c.w, c.h);
    let mut sat = vec![0u32; ((w + 1) * (h + 1)) as usize];
    for y in 0..h {
        let mut row = 0u32;
        for x in 0..w {
            row += u32::from(c.hole[c.idx(x, y)]);
            sat[((y + 1) * (w + 1) + x + 1) as usize] = sat[(y * (w + 1) + x + 1) as usize] + row;
        }
    }
    let holes_in = |cx: i64, cy: i64| {
        let (ax, ay) = (cx - pr, cy - pr);
        let (ex, ey) = (cx + pr + 1, cy + pr + 1);
        let at = |x: i64, y: i64| sat[(y * (w + 1) + x) as usize];
        at(ex, ey) + at(ax, ay) - at(ax, ey) - at(ex, ay)
    };
    let mut valid = vec![false; (w * h) as usize];
    let mut sources = Vec::new();
    for y in pr..h - pr {
        for x in pr..w - pr {
            if holes_in(x, y) == 0 {
                valid[(y * w + x) as usize] = true;
                sources.push((x, y));
            }
        }
    }
    if sources.is_empty() {
        return None; // nothing to copy from: the smooth fill stays
    }
    let is_valid = |x: i64, y: i64| x >= 0 && y >= 0 && x < w && y < h && valid[(y * w + x) as usize];
    let (bx0, by0, bx1, by1) = hole_box_of(c, target)?;
    // Target centres: every patch overlapping the target (clamped into the image).
    let (tx0, ty0) = (clamp_x(bx0 - pr), clamp_y(by0 - pr));
    let (tx1, ty1) = (clamp_x(bx1 - 1 + pr), clamp_y(by1 - 1 + pr));
    let (tw, th) = (tx1 - tx0 + 1, ty1 - ty0 + 1);
    let mut nnf = Nnf {
        x0: tx0,
        y0: ty0,
        w: tw,
        h: th,
        matches: Vec::with_capacity((tw * th) as usize),
    };
    for ty in ty0..=ty1 {
        for tx in tx0..=tx1 {
            let s = coarser
                .and_then(|n| n.upsampled(tx, ty))
                .filter(|&(sx, sy)| is_valid(sx, sy))
                .unwrap_or_else(|| sources[(next(rng) % sources.len() as u64) as usize]);
            nnf.matches.push((s.0, s.1, f32::INFINITY));
        }
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
    let max_radius = w.max(h);
    if coarser.is_some() {
        // The coarser level's matches, upsampled, copy the finer level's own pixels into
        // the hole: the fill starts with texture instead of the smooth upsampled fill,
        // which would otherwise attract smooth matches.
        vote(c, target, &nnf, spread);
    }
    for round in 0..rounds {
        let last = round + 1 == rounds;
        // Distances change as the fill changes: recompute them first.
        for ty in ty0..=ty1 {
            for tx in tx0..=tx1 {
                let e = &mut nnf.matches[((ty - ty0) * tw + tx - tx0) as usize];
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
                    let mut best = nnf.matches[at];
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
                        let n = nnf.matches[((ty - ty0) * tw + tx - step - tx0) as usize];
                        consider(n.0 + step, n.1, &mut best);
                    }
                    if ty - step >= ty0 && ty - step <= ty1 {
                        let n = nnf.matches[((ty - step - ty0) * tw + tx - tx0) as usize];
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
                    nnf.matches[at] = best;
                }
            }
        }
        if last && finest {
            copy_centres(c, target, &nnf);
        } else {
            vote(c, target, &nnf, spread);
        }
    }
    Some(nnf)
}

/// Each target pixel becomes the pixel its own patch's match has at its centre: the
/// final pass at full resolution, which copies texture as it is instead of averaging
/// overlapping, slightly misaligned copies into a blur.
fn copy_centres(c: &mut Canvas, target: &[bool], nnf: &Nnf) {
    let mut out = c.px.clone();
    for j in 0..nnf.h {
        for i in 0..nnf.w {
            let (tx, ty) = (nnf.x0 + i, nnf.y0 + j);
            let t = c.idx(tx, ty);
            if target[t] {
                let (sx, sy, _) = nnf.matches[(j * nnf.w + i) as usize];
                out[t] = c.px[c.idx(sx, sy)];
            }
        }
    }
    c.px = out;
}

/// Each target pixel becomes the weighted mean of the matched patches covering it;
/// weights fall with the match distance, relative to the median distance times `spread`.
fn vote(c: &mut Canvas, target: &[bool], nnf: &Nnf, spread: f32) {
    let pr = PATCH_RADIUS;
    let area = ((2 * pr + 1) * (2 * pr + 1) * 3) as f32;
    let mut errors: Vec<f32> = nnf.matches.iter().map(|e| e.2 / area).collect();
    errors.sort_by(f32::total_cmp);
    let scale = errors
        .get(errors.len() / 2)
        .copied()
        .unwrap_or(1.0)
        .max(1.0)
        * spread;
    let mut acc = vec![[0.0f32; 4]; (c.w * c.h) as usize];
    for j in 0..nnf.h {
        for i in 0..nnf.w {
            let (tx, ty) = (nnf.x0 + i, nnf.y0 + j);
            let (sx, sy, d) = nnf.matches[(j * nnf.w + i) as usize];
            let weight = (-(d / area) / (2.0 * scale)).exp().max(1e-12);
            for dy in -pr..=pr {
                for dx in -pr..=pr {
                    let t = c.idx(tx + dx, ty + dy);
                    if !target[t] {
                        continue;
                    }
                    let p = c.px[c.idx(sx + dx, sy + dy)];
                    let a = &mut acc[t];
                    for k in 0..3 {
                        a[k] += weight * p[k];
                    }
                    a[3] += weight;
                }
            }
        }
    }
    for (i, a) in acc.iter().enumerate() {
        if target[i] && a[3] > 0.0 {
            c.px[i] = [a[0] / a[3], a[1] / a[3], a[2] / a[3]];
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
