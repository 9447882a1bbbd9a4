//! The texture layer: coarse-to-fine patch synthesis from the structure fill.
//!
//! The crop is reduced to a pyramid of 2 × 2 means until the hole is a few pixels across.
//! The coarsest level keeps the structure fill (already the best smooth estimate) and is
//! refined by matching and voting; every finer level starts from the coarser level's
//! matches, so the layout decided coarse is kept while the patches copied in at full
//! resolution bring the surroundings' grain. The last round at full resolution copies
//! each pixel from its own patch's match: the texture as it is, not averaged away.

use super::canvas::{Canvas, mask_box};
use super::membrane::half_mask;
use super::patchmatch::{self, Nnf, PATCH_RADIUS, Schedule};

/// The coarsest level is the first whose hole is at most this many pixels across (or
/// whose canvas would become too small to hold patches).
const COARSE_HOLE: i64 = 10;

const COARSEST: Schedule = Schedule {
    rounds: 6,
    iterations: 2,
    spread: 2.0,
    copy_last: false,
};
const MIDDLE: Schedule = Schedule {
    rounds: 3,
    iterations: 2,
    spread: 2.0,
    copy_last: false,
};
const FINEST: Schedule = Schedule {
    rounds: 3,
    iterations: 2,
    spread: 0.5,
    copy_last: true,
};
/// The finest level of holes larger than `LIGHT_AREA` pixels: one round, which keeps a
/// hole of 200 × 300 near the time of a 200 × 150 one at the full schedule.
const LIGHT: Schedule = Schedule {
    rounds: 1,
    iterations: 2,
    spread: 0.5,
    copy_last: true,
};
const LIGHT_AREA: usize = 40_000;

/// Replaces the `target` pixels of `c` (holding the structure fill) by synthesised
/// texture. Levels whose target is larger than `max_area` pixels are only upsampled
/// (the bound on the work for very large holes).
pub(super) fn synthesise(c: &mut Canvas, target: &[bool], max_area: usize, rng: &mut u64) {
    let mut levels = vec![c.clone()];
    let mut targets = vec![target.to_vec()];
    loop {
        let (last, t) = (&levels[levels.len() - 1], &targets[targets.len() - 1]);
        let Some((x0, y0, x1, y1)) = mask_box(t, last.w) else {
            return;
        };
        if (x1 - x0).max(y1 - y0) <= COARSE_HOLE
            || last.w < 8 * PATCH_RADIUS
            || last.h < 8 * PATCH_RADIUS
        {
            break;
        }
        let half_target = half_mask(t, last.w, last.h);
        let half = last.half();
        levels.push(half);
        targets.push(half_target);
    }
    let coarsest = levels.len() - 1;
    let mut nnf: Option<Nnf> = None;
    for level in (0..=coarsest).rev() {
        let target = &targets[level];
        if level < coarsest {
            // The finer level starts from the coarser fill, upsampled.
            let (fine, coarse) = levels.split_at_mut(level + 1);
            let (fine, coarse) = (&mut fine[level], &coarse[0]);
            for (i, _) in target.iter().enumerate().filter(|(_, t)| **t) {
                let (x, y) = (i as i64 % fine.w, i as i64 / fine.w);
                fine.px[i] = coarse.bilinear((x as f32 - 0.5) / 2.0, (y as f32 - 0.5) / 2.0);
            }
        }
        let area = target.iter().filter(|t| **t).count();
        if area > max_area {
            nnf = None;
            continue;
        }
        let schedule = match level {
            0 if area > LIGHT_AREA => &LIGHT,
            0 => &FINEST,
            l if l == coarsest => &COARSEST,
            _ => &MIDDLE,
        };
        nnf = patchmatch::synthesise(&mut levels[level], target, nnf.as_ref(), schedule, rng);
    }
    let finest = levels.swap_remove(0);
    for (i, _) in target.iter().enumerate().filter(|(_, t)| **t) {
        c.px[i] = finest.px[i];
    }
}
