//! The smooth fill: a membrane, Laplace's equation over the hole with the surrounding
//! pixels as its boundary, solved coarse to fine so that large holes converge in a
//! bounded number of sweeps.

use super::canvas::{Canvas, mask_box};

/// Holes at most this many pixels across are relaxed directly; larger ones start from
/// the half-size solution.
const DIRECT_ACROSS: i64 = 24;
/// Over-relaxed Gauss-Seidel sweeps: from a flat start, and from an upsampled solution.
const SWEEPS_FROM_FLAT: usize = 400;
const SWEEPS_FROM_COARSE: usize = 60;
/// Above this many pixels, fewer sweeps from the upsampled solution: the time bound for
/// huge holes (whose error after upsampling is already smooth).
const LARGE_AREA: usize = 100_000;
const SWEEPS_LARGE: usize = 6;

/// Fills the `target` pixels of `c` smoothly from the pixels around them.
pub(super) fn fill(c: &mut Canvas, target: &[bool]) {
    let Some((x0, y0, x1, y1)) = mask_box(target, c.w) else {
        return;
    };
    let across = (x1 - x0).max(y1 - y0);
    let cells: Vec<usize> = (y0..y1)
        .flat_map(|y| (x0..x1).map(move |x| (x, y)))
        .map(|(x, y)| c.idx(x, y))
        .filter(|&i| target[i])
        .collect();
    let sweeps = if across > DIRECT_ACROSS {
        // Solve at half size on a crop around the hole, then start from that.
        let (cx0, cy0) = ((x0 - 2).max(0), (y0 - 2).max(0));
        let (cx1, cy1) = ((x1 + 2).min(c.w), (y1 + 2).min(c.h));
        let crop = c.crop(cx0, cy0, cx1, cy1);
        let crop_target = crop_mask(target, c.w, (cx0, cy0, cx1, cy1));
        let mut coarse = crop.half();
        let coarse_target = half_mask(&crop_target, crop.w, crop.h);
        fill(&mut coarse, &coarse_target);
        for &i in &cells {
            let (x, y) = ((i as i64 % c.w) - cx0, (i as i64 / c.w) - cy0);
            c.px[i] = coarse.bilinear((x as f32 - 0.5) / 2.0, (y as f32 - 0.5) / 2.0);
        }
        if cells.len() > LARGE_AREA {
            SWEEPS_LARGE
        } else {
            SWEEPS_FROM_COARSE
        }
    } else {
        let start = mean_around(c, target, (x0, y0, x1, y1));
        for &i in &cells {
            c.px[i] = start;
        }
        SWEEPS_FROM_FLAT
    };
    // Over-relaxed Gauss-Seidel; borders are reflecting (only in-image neighbours).
    let omega = 1.8f32;
    for _ in 0..sweeps {
        for &i in &cells {
            let (x, y) = (i as i64 % c.w, i as i64 / c.w);
            let (mut s, mut k) = ([0.0f32; 3], 0.0f32);
            for (dx, dy) in [(-1, 0), (1, 0), (0, -1), (0, 1)] {
                let (nx, ny) = (x + dx, y + dy);
                if nx >= 0 && ny >= 0 && nx < c.w && ny < c.h {
                    for (acc, v) in s.iter_mut().zip(c.px[c.idx(nx, ny)]) {
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

/// The mean of the non-target pixels next to the target (its boundary), or mid-grey if
/// there are none (the target covers the canvas).
fn mean_around(c: &Canvas, target: &[bool], (x0, y0, x1, y1): (i64, i64, i64, i64)) -> [f32; 3] {
    let (mut sum, mut n) = ([0.0f32; 3], 0.0f32);
    for y in (y0 - 1).max(0)..(y1 + 1).min(c.h) {
        for x in (x0 - 1).max(0)..(x1 + 1).min(c.w) {
            let i = c.idx(x, y);
            if target[i] {
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
    if n > 0.0 {
        sum.map(|s| s / n)
    } else {
        [128.0; 3]
    }
}

/// The part of a `w`-wide mask inside the box, as a mask of the box.
pub(super) fn crop_mask(
    mask: &[bool],
    w: i64,
    (x0, y0, x1, y1): (i64, i64, i64, i64),
) -> Vec<bool> {
    (y0..y1)
        .flat_map(|y| (x0..x1).map(move |x| (x, y)))
        .map(|(x, y)| mask[(y * w + x) as usize])
        .collect()
}

/// A mask at half size: a pixel is set if any of its 2 × 2 fine pixels is.
pub(super) fn half_mask(mask: &[bool], w: i64, h: i64) -> Vec<bool> {
    let (hw, hh) = ((w + 1) / 2, (h + 1) / 2);
    (0..hh)
        .flat_map(|y| (0..hw).map(move |x| (x, y)))
        .map(|(x, y)| {
            [(0, 0), (1, 0), (0, 1), (1, 1)].iter().any(|&(dx, dy)| {
                let (fx, fy) = (2 * x + dx, 2 * y + dy);
                fx < w && fy < h && mask[(fy * w + fx) as usize]
            })
        })
        .collect()
}
