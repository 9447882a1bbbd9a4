//! Sky segmentation: a 0/255 sky mask and a 0–255 sky probability map.
//!
//! Decided on an area-downscaled copy (long side ≤ 320 px): each pixel gets a sky score
//! from its colour (clearly blue, or bright, nearly grey and not warm as clouds and
//! overcast skies are; foliage green is vetoed), its smoothness (low local gradient) and a mild
//! preference for the top of the frame. Sky must be connected to the top edge: a flood
//! fill from the top row through high-scoring pixels keeps only such regions, and
//! non-sky pockets enclosed by sky (clouds, birds, wires) are filled in. The low-resolution
//! probability is then refined along the full-resolution edges by a guided filter whose
//! linear coefficients are computed small and applied large (He's fast guided filter);
//! the mask is the probability thresholded at one half.

use std::collections::VecDeque;

use image::{GrayImage, RgbImage};

use crate::filters::npr::{self, smoothstep};
use crate::filters::planes::{Plane, box_mean, guided_coefficients};

/// Long side of the copy the decision is made on.
const WORK_SIDE: usize = 320;
/// Score a top-row pixel needs to seed the sky.
const SEED_SCORE: f32 = 0.4;
/// Score a pixel needs to join a sky region.
const GROW_SCORE: f32 = 0.28;
/// Colour score and largest colour step (summed over channels) that let a textured
/// pixel join the sky.
const CLOUD_COLOUR: f32 = 0.45;
const CLOUD_STEP: f32 = 0.06;
/// Guided filter radius (work pixels) and regularisation.
const GUIDE_RADIUS: usize = 3;
const GUIDE_EPS: f32 = 2e-3;

/// (mask, probability), both the input's size.
pub(crate) fn segment(img: &RgbImage) -> (GrayImage, GrayImage) {
    let (w, h) = (img.width() as usize, img.height() as usize);
    if w == 0 || h == 0 {
        return (
            GrayImage::new(img.width(), img.height()),
            GrayImage::new(img.width(), img.height()),
        );
    }
    let full = npr::planes_of(img);
    let (small, _) = npr::shrink(&full, WORK_SIDE);
    let prob_small = probability(&small);
    // Fast guided filter: coefficients from the small luma, applied to the full one.
    let guide_small = npr::luma(&small);
    let (a, b) = guided_coefficients(&guide_small, &prob_small, GUIDE_RADIUS, GUIDE_EPS);
    let (a, b) = (a.upscale_to(w, h), b.upscale_to(w, h));
    let guide = npr::luma(&full);
    let mut mask = vec![0u8; w * h];
    let mut score = vec![0u8; w * h];
    for i in 0..w * h {
        let p = (a.data[i] * guide.data[i] + b.data[i]).clamp(0.0, 1.0);
        score[i] = (p * 255.0).round() as u8;
        mask[i] = if p >= 0.5 { 255 } else { 0 };
    }
    let to_image = |v: Vec<u8>| GrayImage::from_raw(w as u32, h as u32, v).unwrap_or_default();
    (to_image(mask), to_image(score))
}

/// Sky probability (0..1) of each pixel of the work-size image.
fn probability(img: &npr::Rgb) -> Plane {
    let (w, h) = npr::dims(img);
    let l = npr::luma(img);
    let texture = box_mean(&npr::gradient_magnitude(&l), 2);
    let colour = Plane::from_fn(w, h, |x, y| colour_score(npr::px(img, y * w + x)));
    let score = Plane::from_fn(w, h, |x, y| {
        let colour = colour.at(x, y);
        let smooth = 1.0 - smoothstep(0.012, 0.05, texture.at(x, y));
        let height = 1.0 - 0.3 * y as f32 / h as f32;
        colour * smooth * height
    });
    let sky = connected_to_top(img, &score, &colour);
    let raw = Plane::from_fn(w, h, |x, y| {
        let s = score.at(x, y);
        if sky[y * w + x] {
            0.6 + 0.4 * s.max(0.5)
        } else {
            // Sky-coloured but cut off from the top (reflections, blue walls): unlikely.
            0.35 * s
        }
    });
    box_mean(&raw, 1)
}

/// How sky-like a colour is: clearly blue, or bright, nearly grey and not warm.
fn colour_score(c: [f32; 3]) -> f32 {
    let [r, g, b] = c;
    let max = r.max(g).max(b);
    let min = r.min(g).min(b);
    let sat = (max - min) / max.max(1e-3);
    let l = npr::luma_of(c);
    // Clearly blue counts even when dark (dusk and night skies).
    let blue =
        smoothstep(0.02, 0.1, b - r) * smoothstep(0.1, 0.25, max) * smoothstep(-0.08, 0.02, b - g);
    // Grey must not be warm: beige walls and studio backdrops are smooth and bright too.
    let grey = smoothstep(0.45, 0.7, l)
        * (1.0 - smoothstep(0.1, 0.28, sat))
        * smoothstep(-0.06, -0.01, b - r);
    let foliage = smoothstep(0.0, 0.06, g - b.max(r));
    blue.max(grey) * (1.0 - foliage)
}

/// Pixels reachable from the top row through scores ≥ [`GROW_SCORE`], starting at
/// top-row pixels scoring ≥ [`SEED_SCORE`], plus the non-sky pockets they enclose.
fn connected_to_top(img: &npr::Rgb, score: &Plane, colour: &Plane) -> Vec<bool> {
    let (w, h) = (score.width, score.height);
    // A sky-coloured pixel also joins through a gentle colour step even where the texture
    // is high: the soft, ragged edges of clouds.
    let step = |i: usize, j: usize| {
        let (a, b) = (npr::px(img, i), npr::px(img, j));
        (a[0] - b[0]).abs() + (a[1] - b[1]).abs() + (a[2] - b[2]).abs()
    };
    let mut sky = vec![false; w * h];
    let mut queue = VecDeque::new();
    for (x, (seed, &s)) in sky.iter_mut().zip(&score.data[..w]).enumerate() {
        if s >= SEED_SCORE {
            *seed = true;
            queue.push_back(x);
        }
    }
    flood(&mut sky, &mut queue, w, h, |from, to| {
        score.data[to] >= GROW_SCORE
            || (colour.data[to] >= CLOUD_COLOUR && step(from, to) < CLOUD_STEP)
    });
    // Everything not sky that reaches the bottom edge, or the side edges where the colour
    // is clearly not sky's, is ground; the rest (clouds, whose ragged edges break the
    // growth, birds, wires) is sky.
    let mut ground = vec![false; w * h];
    let mut queue = VecDeque::new();
    let sides = (0..h)
        .flat_map(|y| [y * w, y * w + w - 1])
        .filter(|&i| colour.data[i] < GROW_SCORE);
    for i in sides.chain((0..w).map(|x| (h - 1) * w + x)) {
        if !sky[i] && !ground[i] {
            ground[i] = true;
            queue.push_back(i);
        }
    }
    flood(&mut ground, &mut queue, w, h, |_, to| !sky[to]);
    ground.iter().map(|g| !g).collect()
}

/// Breadth-first 4-connected growth of `set` from `queue` into pixels passing `open`.
fn flood(
    set: &mut [bool],
    queue: &mut VecDeque<usize>,
    w: usize,
    h: usize,
    open: impl Fn(usize, usize) -> bool,
) {
    while let Some(i) = queue.pop_front() {
        let (x, y) = (i % w, i / w);
        let mut visit = |j: usize| {
            if !set[j] && open(i, j) {
                set[j] = true;
                queue.push_back(j);
            }
        };
        if x > 0 {
            visit(i - 1);
        }
        if x + 1 < w {
            visit(i + 1);
        }
        if y > 0 {
            visit(i - w);
        }
        if y + 1 < h {
            visit(i + w);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filters::npr::{fbm, hash};

    /// A synthetic scene and its true sky.
    struct Scene {
        image: RgbImage,
        sky: Vec<bool>,
    }

    fn noise(x: u32, y: u32, seed: u32, amount: f32) -> f32 {
        (hash(i64::from(x), i64::from(y), seed) - 0.5) * amount
    }

    fn to_u8(v: f32) -> u8 {
        (v * 255.0).round().clamp(0.0, 255.0) as u8
    }

    fn scene(
        w: u32,
        h: u32,
        horizon: impl Fn(u32) -> f32,
        sky: impl Fn(u32, u32) -> [f32; 3],
        ground: impl Fn(u32, u32) -> [f32; 3],
    ) -> Scene {
        let mut truth = Vec::new();
        let image = RgbImage::from_fn(w, h, |x, y| {
            let is_sky = (y as f32) < horizon(x);
            let c = if is_sky { sky(x, y) } else { ground(x, y) };
            // Sensor noise everywhere.
            let n = noise(x, y, 99, 0.025);
            image::Rgb([to_u8(c[0] + n), to_u8(c[1] + n), to_u8(c[2] + n)])
        });
        for y in 0..h {
            for x in 0..w {
                truth.push((y as f32) < horizon(x));
            }
        }
        Scene { image, sky: truth }
    }

    fn blue_sky(_: u32, y: u32, h: u32) -> [f32; 3] {
        let t = y as f32 / h as f32;
        [0.35 + 0.4 * t, 0.55 + 0.3 * t, 0.9 + 0.05 * t]
    }

    fn scenes() -> Vec<Scene> {
        let mut out = Vec::new();
        // Clear sky over green hills with grass texture.
        out.push(scene(
            640,
            420,
            |x| 200.0 + 40.0 * (x as f32 / 90.0).sin() + 15.0 * (x as f32 / 23.0).cos(),
            |x, y| blue_sky(x, y, 420),
            |x, y| {
                let t = fbm(x as f32 / 6.0, y as f32 / 6.0, 1);
                [0.15 + 0.2 * t, 0.35 + 0.3 * t, 0.1 + 0.1 * t]
            },
        ));
        // Overcast sky over a city skyline with lit windows.
        out.push(scene(
            600,
            400,
            |x| {
                let block = x / 50;
                140.0 + 120.0 * hash(i64::from(block), 0, 5)
            },
            |_, y| {
                let v = 0.82 - 0.1 * y as f32 / 400.0;
                [v, v, v + 0.02]
            },
            |x, y| {
                let window = x % 12 < 6 && y % 16 < 8;
                let base = 0.25 + 0.15 * hash(i64::from(x / 50), 1, 5);
                if window {
                    [0.85, 0.75, 0.4]
                } else {
                    [base, base * 0.95, base * 0.9]
                }
            },
        ));
        // Blue sky with white clouds over a brown field, a dark tree rising into it.
        out.push(scene(
            480,
            640,
            |x| {
                let tree = (x as f32 - 330.0).abs() < 60.0;
                if tree {
                    140.0 + ((x as f32 - 330.0) / 60.0).powi(2) * 150.0
                } else {
                    300.0
                }
            },
            |x, y| {
                let cloud = smoothstep(0.55, 0.7, fbm(x as f32 / 60.0, y as f32 / 30.0, 4));
                let base = blue_sky(x, y, 640);
                npr::mix(base, [0.95, 0.96, 0.97], cloud)
            },
            |x, y| {
                let t = fbm(x as f32 / 4.0, y as f32 / 4.0, 2);
                if y < 300 {
                    [0.05 + 0.1 * t, 0.2 + 0.2 * t, 0.05]
                } else {
                    [0.35 + 0.2 * t, 0.25 + 0.15 * t, 0.12]
                }
            },
        ));
        out
    }

    fn iou(mask: &GrayImage, truth: &[bool]) -> f64 {
        let (mut inter, mut union) = (0u64, 0u64);
        for (p, &t) in mask.pixels().zip(truth) {
            let m = p.0[0] > 127;
            inter += u64::from(m && t);
            union += u64::from(m || t);
        }
        inter as f64 / union.max(1) as f64
    }

    #[test]
    fn synthetic_scenes_reach_the_iou_bar() {
        for (k, s) in scenes().iter().enumerate() {
            let (mask, prob) = segment(&s.image);
            assert_eq!(mask.dimensions(), s.image.dimensions());
            assert!(mask.pixels().all(|p| p.0[0] == 0 || p.0[0] == 255));
            let score = iou(&mask, &s.sky);
            println!("scene {k}: IoU {score:.3}");
            if std::env::var_os("SKY_DEBUG").is_some() {
                s.image.save(format!("/tmp/sky{k}.png")).unwrap();
                mask.save(format!("/tmp/sky{k}-mask.png")).unwrap();
                prob.save(format!("/tmp/sky{k}-prob.png")).unwrap();
            }
            assert!(score >= 0.9, "scene {k}: IoU {score:.3}");
            // The probability agrees with the mask.
            for (m, p) in mask.pixels().zip(prob.pixels()) {
                assert_eq!(m.0[0] == 255, p.0[0] >= 128);
            }
        }
    }

    #[test]
    fn no_sky_in_an_indoor_texture() {
        let img = RgbImage::from_fn(200, 150, |x, y| {
            let t = fbm(x as f32 / 5.0, y as f32 / 5.0, 8);
            image::Rgb([
                to_u8(0.4 + 0.3 * t),
                to_u8(0.3 + 0.2 * t),
                to_u8(0.2 + 0.1 * t),
            ])
        });
        let (mask, _) = segment(&img);
        let sky = mask.pixels().filter(|p| p.0[0] > 0).count();
        assert!(sky < 200 * 150 / 50, "{sky} sky pixels");
    }

    #[test]
    fn tiny_images() {
        for (w, h) in [(1, 1), (1, 9), (9, 1), (3, 2)] {
            let (m, p) = segment(&RgbImage::from_pixel(w, h, image::Rgb([120, 170, 240])));
            assert_eq!((m.dimensions(), p.dimensions()), ((w, h), (w, h)));
        }
    }
}
