//! Planar f32 fields and the few filters the degradation families need (box mean, min
//! filter, guided filter, fractal noise). Kept here rather than borrowed from the engine so
//! the harness and its baselines do not share code with what they measure.

use image::RgbImage;

#[derive(Clone, Debug)]
pub struct Field {
    pub width: usize,
    pub height: usize,
    pub data: Vec<f32>,
}

impl Field {
    pub fn from_fn(width: usize, height: usize, f: impl Fn(usize, usize) -> f32) -> Self {
        let mut data = Vec::with_capacity(width * height);
        for y in 0..height {
            for x in 0..width {
                data.push(f(x, y));
            }
        }
        Self {
            width,
            height,
            data,
        }
    }

    pub fn at(&self, x: usize, y: usize) -> f32 {
        self.data[y * self.width + x]
    }

    pub fn map(&self, f: impl Fn(f32) -> f32) -> Self {
        Self {
            width: self.width,
            height: self.height,
            data: self.data.iter().map(|&v| f(v)).collect(),
        }
    }

    pub fn map2(&self, other: &Field, f: impl Fn(f32, f32) -> f32) -> Self {
        Self {
            width: self.width,
            height: self.height,
            data: self
                .data
                .iter()
                .zip(&other.data)
                .map(|(&a, &b)| f(a, b))
                .collect(),
        }
    }

    /// Rec. 601 luma in 0..1.
    pub fn luma(img: &RgbImage) -> Self {
        let (w, h) = (img.width() as usize, img.height() as usize);
        Self::from_fn(w, h, |x, y| {
            let p = img.get_pixel(x as u32, y as u32).0;
            (0.299 * f32::from(p[0]) + 0.587 * f32::from(p[1]) + 0.114 * f32::from(p[2])) / 255.0
        })
    }

    /// Rescaled so its `lo` and `hi` quantiles map to 0 and 1 (clamped).
    pub fn normalised(&self, lo: f32, hi: f32) -> Self {
        let mut sorted = self.data.clone();
        sorted.sort_by(f32::total_cmp);
        let q = |p: f32| sorted[((sorted.len() - 1) as f32 * p) as usize];
        let (a, b) = (q(lo), q(hi));
        self.map(|v| ((v - a) / (b - a).max(1e-6)).clamp(0.0, 1.0))
    }
}

pub fn smoothstep(a: f32, b: f32, x: f32) -> f32 {
    let t = ((x - a) / (b - a)).clamp(0.0, 1.0);
    t * t * (3.0 - 2.0 * t)
}

/// Mean over the (2r+1)² window, clipped at the borders (summed-area table).
pub fn box_mean(src: &Field, r: usize) -> Field {
    let (w, h) = (src.width, src.height);
    let mut sat = vec![0.0f64; (w + 1) * (h + 1)];
    for y in 0..h {
        let mut row = 0.0f64;
        for x in 0..w {
            row += f64::from(src.at(x, y));
            sat[(y + 1) * (w + 1) + x + 1] = sat[y * (w + 1) + x + 1] + row;
        }
    }
    Field::from_fn(w, h, |x, y| {
        let (x0, y0) = (x.saturating_sub(r), y.saturating_sub(r));
        let (x1, y1) = ((x + r + 1).min(w), (y + r + 1).min(h));
        let s = sat[y1 * (w + 1) + x1] - sat[y0 * (w + 1) + x1] - sat[y1 * (w + 1) + x0]
            + sat[y0 * (w + 1) + x0];
        (s / ((x1 - x0) * (y1 - y0)) as f64) as f32
    })
}

/// Minimum over the (2r+1)² window, clipped at the borders (separable).
pub fn min_filter(src: &Field, r: usize) -> Field {
    let (w, h) = (src.width, src.height);
    let rows = Field::from_fn(w, h, |x, y| {
        let (x0, x1) = (x.saturating_sub(r), (x + r + 1).min(w));
        src.data[y * w + x0..y * w + x1]
            .iter()
            .copied()
            .fold(f32::INFINITY, f32::min)
    });
    Field::from_fn(w, h, |x, y| {
        let (y0, y1) = (y.saturating_sub(r), (y + r + 1).min(h));
        (y0..y1)
            .map(|yy| rows.data[yy * w + x])
            .fold(f32::INFINITY, f32::min)
    })
}

/// He's guided filter of `input` by `guide`.
pub fn guided(guide: &Field, input: &Field, r: usize, eps: f32) -> Field {
    let mi = box_mean(guide, r);
    let mp = box_mean(input, r);
    let mip = box_mean(&guide.map2(input, |a, b| a * b), r);
    let mii = box_mean(&guide.map(|a| a * a), r);
    let a = mip
        .map2(&mi.map2(&mp, |a, b| a * b), |c, d| c - d)
        .map2(&mii.map2(&mi, |s, m| s - m * m), |cov, var| {
            cov / (var + eps)
        });
    let b = mp.map2(&a.map2(&mi, |a, m| a * m), |p, am| p - am);
    let (ma, mb) = (box_mean(&a, r), box_mean(&b, r));
    Field::from_fn(guide.width, guide.height, |x, y| {
        ma.at(x, y) * guide.at(x, y) + mb.at(x, y)
    })
}

/// Fractal value noise in 0..1: `octaves` octaves, the coarsest with `cells` cells across
/// the shorter side.
pub fn fbm(w: usize, h: usize, cells: f32, octaves: usize, seed: u64) -> Field {
    let hash = |ix: i64, iy: i64, o: usize| {
        let mut v = (ix as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15)
            ^ (iy as u64).wrapping_mul(0xc2b2_ae3d_27d4_eb4f)
            ^ (o as u64).wrapping_mul(0x1656_67b1_9e37_79f9)
            ^ seed;
        v ^= v >> 29;
        v = v.wrapping_mul(0xbf58_476d_1ce4_e5b9);
        v ^= v >> 32;
        (v >> 40) as f32 / (1u64 << 24) as f32
    };
    let side = w.min(h).max(1) as f32;
    let mut out = Field::from_fn(w, h, |_, _| 0.0);
    let mut total = 0.0;
    for o in 0..octaves {
        let scale = cells * (1 << o) as f32 / side;
        let amp = 0.5f32.powi(o as i32);
        total += amp;
        for y in 0..h {
            for x in 0..w {
                let (fx, fy) = (x as f32 * scale, y as f32 * scale);
                let (ix, iy) = (fx.floor() as i64, fy.floor() as i64);
                let (tx, ty) = (
                    smoothstep(0.0, 1.0, fx.fract()),
                    smoothstep(0.0, 1.0, fy.fract()),
                );
                let top = hash(ix, iy, o) * (1.0 - tx) + hash(ix + 1, iy, o) * tx;
                let bottom = hash(ix, iy + 1, o) * (1.0 - tx) + hash(ix + 1, iy + 1, o) * tx;
                out.data[y * w + x] += amp * (top * (1.0 - ty) + bottom * ty);
            }
        }
    }
    out.map(|v| v / total)
}
