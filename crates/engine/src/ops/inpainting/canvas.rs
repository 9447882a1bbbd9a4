//! The working image of the inpainting: float pixels, which of them are holes, and the
//! crops and half-size levels the synthesis runs on.

/// An image with holes: the whole picture, a crop of it, or a pyramid level.
#[derive(Clone)]
pub(super) struct Canvas {
    pub(super) w: i64,
    pub(super) h: i64,
    /// RGB, 0–255, row-major.
    pub(super) px: Vec<[f32; 3]>,
    /// Pixels that are not known (inside some rectangle): never copied from.
    pub(super) hole: Vec<bool>,
}

impl Canvas {
    pub(super) fn idx(&self, x: i64, y: i64) -> usize {
        (y * self.w + x) as usize
    }

    /// The box `[x0, x1) × [y0, y1)`, which must lie inside the canvas.
    pub(super) fn crop(&self, x0: i64, y0: i64, x1: i64, y1: i64) -> Canvas {
        let (w, h) = (x1 - x0, y1 - y0);
        let mut px = Vec::with_capacity((w * h) as usize);
        let mut hole = Vec::with_capacity((w * h) as usize);
        for y in y0..y1 {
            let row = self.idx(x0, y)..self.idx(x1, y);
            px.extend_from_slice(&self.px[row.clone()]);
            hole.extend_from_slice(&self.hole[row]);
        }
        Canvas { w, h, px, hole }
    }

    /// Half the size: 2 × 2 means of the known pixels; a pixel is a hole if any of its
    /// fine pixels is (so a coarse source patch never averages in unknown pixels).
    pub(super) fn half(&self) -> Canvas {
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
                    any_hole |= self.hole[i];
                    for (s, v) in sum.iter_mut().zip(self.px[i]) {
                        *s += v;
                    }
                    n += 1.0;
                }
                px.push(sum.map(|s| s / n.max(1.0)));
                hole.push(any_hole);
            }
        }
        Canvas { w, h, px, hole }
    }

    /// Bilinear sample at (x, y) in pixel coordinates, clamped to the canvas.
    pub(super) fn bilinear(&self, x: f32, y: f32) -> [f32; 3] {
        let x = x.clamp(0.0, (self.w - 1) as f32);
        let y = y.clamp(0.0, (self.h - 1) as f32);
        let (x0, y0) = (x.floor() as i64, y.floor() as i64);
        let (x1, y1) = ((x0 + 1).min(self.w - 1), (y0 + 1).min(self.h - 1));
        let (fx, fy) = (x - x0 as f32, y - y0 as f32);
        let p = |xx, yy| self.px[self.idx(xx, yy)];
        let (a, b, c, d) = (p(x0, y0), p(x1, y0), p(x0, y1), p(x1, y1));
        std::array::from_fn(|k| {
            (a[k] * (1.0 - fx) + b[k] * fx) * (1.0 - fy) + (c[k] * (1.0 - fx) + d[k] * fx) * fy
        })
    }

    /// Separable Gaussian blur of the whole canvas (edges clamped).
    pub(super) fn blurred(&self, sigma: f32) -> Vec<[f32; 3]> {
        let radius = (3.0 * sigma).ceil().max(1.0) as i64;
        let kernel: Vec<f32> = (-radius..=radius)
            .map(|d| (-((d * d) as f32) / (2.0 * sigma * sigma)).exp())
            .collect();
        let total: f32 = kernel.iter().sum();
        let kernel: Vec<f32> = kernel.iter().map(|k| k / total).collect();
        let pass = |src: &[[f32; 3]], horizontal: bool| -> Vec<[f32; 3]> {
            let mut out = vec![[0.0f32; 3]; src.len()];
            for y in 0..self.h {
                for x in 0..self.w {
                    let mut acc = [0.0f32; 3];
                    for (k, &wk) in kernel.iter().enumerate() {
                        let d = k as i64 - radius;
                        let (sx, sy) = if horizontal {
                            ((x + d).clamp(0, self.w - 1), y)
                        } else {
                            (x, (y + d).clamp(0, self.h - 1))
                        };
                        let p = src[self.idx(sx, sy)];
                        for (a, v) in acc.iter_mut().zip(p) {
                            *a += wk * v;
                        }
                    }
                    out[self.idx(x, y)] = acc;
                }
            }
            out
        };
        pass(&pass(&self.px, true), false)
    }
}

/// The bounding box of the set pixels of `mask` (one per canvas pixel, row-major, width
/// `w`), if any: (x0, y0, x1, y1), exclusive ends.
pub(super) fn mask_box(mask: &[bool], w: i64) -> Option<(i64, i64, i64, i64)> {
    let mut b: Option<(i64, i64, i64, i64)> = None;
    for (i, _) in mask.iter().enumerate().filter(|(_, m)| **m) {
        let (x, y) = (i as i64 % w, i as i64 / w);
        b = Some(match b {
            None => (x, y, x + 1, y + 1),
            Some((a, c, d, e)) => (a.min(x), c.min(y), d.max(x + 1), e.max(y + 1)),
        });
    }
    b
}

/// Xorshift: the synthesis's random numbers, seeded, so results are reproducible.
pub(super) fn next(rng: &mut u64) -> u64 {
    *rng ^= *rng << 13;
    *rng ^= *rng >> 7;
    *rng ^= *rng << 17;
    *rng
}
