//! Patch-based synthesis after Wexler, Shechtman and Irani: every 7 × 7 patch overlapping
//! the target is matched to its nearest fully known patch (PatchMatch: propagation and
//! random search), then the target pixels are rebuilt from the matches.

use super::canvas::{Canvas, mask_box, next};

/// Patch radius (7 × 7 patches).
pub(super) const PATCH_RADIUS: i64 = 3;

/// How one level is synthesised.
pub(super) struct Schedule {
    /// Rounds of matching then rebuilding.
    pub(super) rounds: usize,
    /// PatchMatch sweeps per round.
    pub(super) iterations: usize,
    /// Vote weights fall with the match error relative to the median error times this:
    /// smaller lets fewer, better patches decide (sharper, less averaged).
    pub(super) spread: f32,
    /// Whether the last round copies each pixel from its own patch's match instead of
    /// voting: the texture as it is, without the averaging of misaligned copies.
    pub(super) copy_last: bool,
}

/// A nearest-neighbour field: for each target patch centre in a box, its source centre.
pub(super) struct Nnf {
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

/// Synthesises the `target` pixels of `c` by the schedule, starting from `coarser`'s
/// matches where there are any (and then first rebuilding the target from them). Returns
/// the matches, or `None` (the canvas untouched) if no source patch exists.
pub(super) fn synthesise(
    c: &mut Canvas,
    target: &[bool],
    coarser: Option<&Nnf>,
    schedule: &Schedule,
    rng: &mut u64,
) -> Option<Nnf> {
    let pr = PATCH_RADIUS;
    let (w, h) = (c.w, c.h);
    if w < 2 * pr + 1 || h < 2 * pr + 1 {
        return None;
    }
    let clamp_x = |x: i64| x.clamp(pr, w - 1 - pr);
    let clamp_y = |y: i64| y.clamp(pr, h - 1 - pr);
    // A centre is a source if no hole pixel lies within its patch: count holes in a
    // window with a summed-area table.
    let mut sat = vec![0u32; ((w + 1) * (h + 1)) as usize];
    for y in 0..h {
        let mut row = 0u32;
        for x in 0..w {
            row += u32::from(c.hole[c.idx(x, y)]);
            sat[((y + 1) * (w + 1) + x + 1) as usize] = sat[(y * (w + 1) + x + 1) as usize] + row;
        }
    }
    let at = |x: i64, y: i64| sat[(y * (w + 1) + x) as usize];
    let mut valid = vec![false; (w * h) as usize];
    let mut sources = Vec::new();
    for y in pr..h - pr {
        for x in pr..w - pr {
            let (ax, ay, ex, ey) = (x - pr, y - pr, x + pr + 1, y + pr + 1);
            if at(ex, ey) + at(ax, ay) == at(ax, ey) + at(ex, ay) {
                valid[(y * w + x) as usize] = true;
                sources.push((x, y));
            }
        }
    }
    if sources.is_empty() {
        return None; // nothing to copy from: the fill stays as it is
    }
    let is_valid =
        |x: i64, y: i64| x >= 0 && y >= 0 && x < w && y < h && valid[(y * w + x) as usize];
    let (bx0, by0, bx1, by1) = mask_box(target, w)?;
    // Target centres: every patch overlapping the target (clamped into the canvas).
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
    if coarser.is_some() {
        // The coarser level's matches, upsampled, copy this level's own pixels into the
        // target: it starts with texture instead of the smooth upsampled fill, which
        // would otherwise attract smooth matches.
        vote(c, target, &nnf, schedule.spread);
    }
    let max_radius = w.max(h);
    for round in 0..schedule.rounds {
        // Distances change as the fill changes: recompute them first.
        for (k, e) in nnf.matches.iter_mut().enumerate() {
            let (tx, ty) = (tx0 + k as i64 % tw, ty0 + k as i64 / tw);
            e.2 = distance(c, tx, ty, e.0, e.1, f32::INFINITY);
        }
        for iteration in 0..schedule.iterations {
            let forward = iteration % 2 == 0;
            let step: i64 = if forward { 1 } else { -1 };
            for j in 0..th {
                let ty = if forward { ty0 + j } else { ty1 - j };
                for i in 0..tw {
                    let tx = if forward { tx0 + i } else { tx1 - i };
                    let here = ((ty - ty0) * tw + tx - tx0) as usize;
                    let mut best = nnf.matches[here];
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
                    nnf.matches[here] = best;
                }
            }
        }
        if schedule.copy_last && round + 1 == schedule.rounds {
            copy_centres(c, target, &nnf);
        } else {
            vote(c, target, &nnf, schedule.spread);
        }
    }
    Some(nnf)
}

/// Each target pixel becomes the pixel its own patch's match has at its centre.
fn copy_centres(c: &mut Canvas, target: &[bool], nnf: &Nnf) {
    let mut out = c.px.clone();
    for (k, &(sx, sy, _)) in nnf.matches.iter().enumerate() {
        let t = c.idx(nnf.x0 + k as i64 % nnf.w, nnf.y0 + k as i64 / nnf.w);
        if target[t] {
            out[t] = c.px[c.idx(sx, sy)];
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
    let median = errors.get(errors.len() / 2).copied().unwrap_or(1.0);
    // A match distance is infinite only before matching; treat that as "no preference".
    let scale = if median.is_finite() {
        median.max(1.0) * spread
    } else {
        f32::INFINITY
    };
    let mut acc = vec![[0.0f32; 4]; (c.w * c.h) as usize];
    for (k, &(sx, sy, d)) in nnf.matches.iter().enumerate() {
        let (tx, ty) = (nnf.x0 + k as i64 % nnf.w, nnf.y0 + k as i64 / nnf.w);
        let weight = if scale.is_finite() && d.is_finite() {
            (-(d / area) / (2.0 * scale)).exp().max(1e-12)
        } else {
            1.0
        };
        for dy in -pr..=pr {
            for dx in -pr..=pr {
                let t = c.idx(tx + dx, ty + dy);
                if !target[t] {
                    continue;
                }
                let p = c.px[c.idx(sx + dx, sy + dy)];
                let a = &mut acc[t];
                for ch in 0..3 {
                    a[ch] += weight * p[ch];
                }
                a[3] += weight;
            }
        }
    }
    for (i, a) in acc.iter().enumerate() {
        if target[i] && a[3] > 0.0 {
            c.px[i] = [a[0] / a[3], a[1] / a[3], a[2] / a[3]];
        }
    }
}
