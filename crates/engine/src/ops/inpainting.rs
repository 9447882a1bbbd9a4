//! Inpainting: fills rectangles from their surroundings, carrying their texture in;
//! pixels outside the rectangles are left bit-identical.
//!
//! Method: structure and texture are filled separately and added, as in Bertalmio et
//! al.'s "simultaneous structure and texture inpainting", so the fill keeps the smooth
//! fill's accuracy and is as grainy as its surroundings. Around each rectangle, on a crop
//! (the search region: the rectangle's own size plus 48 px on every side):
//!
//! - **structure**: a membrane, Laplace's equation with the surrounding pixels as
//!   boundary, solved coarse to fine (`membrane.rs`): the smooth estimate that scores best
//!   in squared error;
//! - **texture**: coarse-to-fine patch synthesis after Wexler, Shechtman and Irani,
//!   starting from the structure fill (`texture.rs`, `patchmatch.rs`), which copies the
//!   surroundings' grain in at full resolution;
//! - the fill is the structure's low frequencies plus the texture's high frequencies
//!   (a Gaussian split at σ 1.5), the texture band scaled (×1 to ×2) so its energy
//!   matches that band's in a ring around the rectangle. The fine band is where a
//!   smooth fill visibly lacks texture, and costs little squared error when it is not
//!   exactly the lost one; mid-scale detail copied from elsewhere costs much more.
//!
//! The work is bounded: beyond a total of 60 000 hole pixels per request, rectangles
//! get the smooth fill only; a rectangle with no fully known patch in its search region
//! (it covers nearly the whole image) keeps the smooth fill too. Deterministic: the
//! random search is a seeded xorshift.

mod canvas;
mod membrane;
mod patchmatch;
mod texture;

use image::RgbImage;

use baidu_imageprocess_protocol::Rect;

use canvas::{Canvas, mask_box};

/// Search margin around the rectangle, beyond its own size.
const SEARCH_MARGIN: i64 = 48;
/// Hole pixels synthesised per request, over all rectangles; beyond it a rectangle gets
/// the smooth fill (membrane) only. Bounds the time for huge or very many rectangles
/// (synthesis costs roughly 6–16 µs a hole pixel on one thread).
const SYNTHESIS_BUDGET: usize = 60_000;

/// The Gaussian split between structure (below) and texture (above), in pixels: chosen
/// on the validation photos (σ 1 left the fill at half its surroundings' texture, σ 2
/// cost 0.35 dB more than 1.5).
const SPLIT_SIGMA: f32 = 1.5;
/// The most the texture band may be amplified to match its surroundings' energy.
const MAX_GAIN: f32 = 2.0;

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
        let (x0, y0) = (i64::from(r.left).min(w), i64::from(r.top).min(h));
        let (x1, y1) = (
            (x0 + i64::from(r.width)).min(w),
            (y0 + i64::from(r.height)).min(h),
        );
        for y in y0..y1 {
            for x in x0..x1 {
                canvas.hole[(y * w + x) as usize] = true;
            }
        }
    }
    let mut rng = 0x9e37_79b9_7f4a_7c15u64;
    let mut budget = SYNTHESIS_BUDGET;
    for r in rects {
        fill_rect(&mut canvas, r, &mut budget, &mut rng);
    }
    let mut out = img.clone();
    for (i, p) in out.pixels_mut().enumerate() {
        if canvas.hole[i] {
            p.0 = canvas.px[i].map(|v| (v + 0.5).clamp(0.0, 255.0) as u8);
        }
    }
    out
}

/// Fills one rectangle on a crop around it (the search region) and writes it back.
fn fill_rect(canvas: &mut Canvas, r: &Rect, budget: &mut usize, rng: &mut u64) {
    let (rx0, ry0) = (i64::from(r.left), i64::from(r.top));
    let (rx1, ry1) = (
        (rx0 + i64::from(r.width)).min(canvas.w),
        (ry0 + i64::from(r.height)).min(canvas.h),
    );
    if rx0 >= rx1 || ry0 >= ry1 {
        return;
    }
    let margin = SEARCH_MARGIN + i64::from(r.width.max(r.height));
    let (cx0, cy0) = ((rx0 - margin).max(0), (ry0 - margin).max(0));
    let (cx1, cy1) = ((rx1 + margin).min(canvas.w), (ry1 + margin).min(canvas.h));
    let crop = canvas.crop(cx0, cy0, cx1, cy1);
    // Only this rectangle is filled now; other holes in the crop stay holes (never
    // copied from) and keep what they hold.
    let target: Vec<bool> = (0..crop.h)
        .flat_map(|y| (0..crop.w).map(move |x| (x + cx0, y + cy0)))
        .map(|(x, y)| x >= rx0 && x < rx1 && y >= ry0 && y < ry1)
        .collect();
    let area = ((rx1 - rx0) * (ry1 - ry0)) as usize;
    let affordable = area <= *budget;
    let mut structure = crop;
    membrane::fill(&mut structure, &target);
    let filled = if affordable {
        *budget -= area;
        let mut texture = structure.clone();
        texture::synthesise(&mut texture, &target, area, rng);
        combine(&structure, &texture, &target)
    } else {
        structure
    };
    for (i, _) in target.iter().enumerate().filter(|(_, t)| **t) {
        let (x, y) = (i as i64 % filled.w + cx0, i as i64 / filled.w + cy0);
        let j = canvas.idx(x, y);
        canvas.px[j] = filled.px[i];
    }
}

/// The structure's low frequencies plus the texture's high frequencies, on the target.
/// The texture band is scaled so that its energy inside the target matches that of the
/// same band in a ring of known pixels around it (never scaled down): the synthesis
/// averages some grain away, and the fill should be as grainy as its surroundings.
fn combine(structure: &Canvas, texture: &Canvas, target: &[bool]) -> Canvas {
    let sigma = SPLIT_SIGMA;
    let mut out = structure.clone();
    let Some((x0, y0, x1, y1)) = mask_box(target, structure.w) else {
        return out;
    };
    // Blur only around the target: a box reaching past it by the kernel's radius and
    // the ring.
    let reach = (3.0 * sigma).ceil() as i64 + 1 + RING;
    let (bx0, by0) = ((x0 - reach).max(0), (y0 - reach).max(0));
    let (bx1, by1) = ((x1 + reach).min(structure.w), (y1 + reach).min(structure.h));
    let s = structure.crop(bx0, by0, bx1, by1);
    let t = texture.crop(bx0, by0, bx1, by1);
    let (s_low, t_low) = (s.blurred(sigma), t.blurred(sigma));
    let band = |b: usize| luma(t.px[b]) - luma(t_low[b]);
    let (mut inside, mut n_inside, mut ring, mut n_ring) = (0.0f64, 0u32, 0.0f64, 0u32);
    for y in by0..by1 {
        for x in bx0..bx1 {
            let i = structure.idx(x, y);
            let b = s.idx(x - bx0, y - by0);
            let e = f64::from(band(b)).powi(2);
            if target[i] {
                inside += e;
                n_inside += 1;
            } else if !structure.hole[i]
                && x >= x0 - RING
                && x < x1 + RING
                && y >= y0 - RING
                && y < y1 + RING
            {
                ring += e;
                n_ring += 1;
            }
        }
    }
    let gain = if n_ring > 0 && inside > 0.0 {
        let ratio = (ring / f64::from(n_ring)) / (inside / f64::from(n_inside.max(1)));
        (ratio.sqrt() as f32).clamp(1.0, MAX_GAIN)
    } else {
        1.0
    };
    for y in y0..y1 {
        for x in x0..x1 {
            let i = structure.idx(x, y);
            if !target[i] {
                continue;
            }
            let b = s.idx(x - bx0, y - by0);
            out.px[i] = std::array::from_fn(|k| s_low[b][k] + gain * (t.px[b][k] - t_low[b][k]));
        }
    }
    out
}

/// The ring around a rectangle whose texture the fill's is matched to, in pixels.
const RING: i64 = 8;

fn luma(p: [f32; 3]) -> f32 {
    0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2]
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

    fn rect(left: u32, top: u32, width: u32, height: u32) -> Rect {
        Rect {
            left,
            top,
            width,
            height,
        }
    }

    /// Seeded noise: a texture with no structure to continue, only grain.
    fn grain(w: u32, h: u32) -> RgbImage {
        let mut state = 0x1234_5678_9abc_def1u64;
        RgbImage::from_fn(w, h, |_, _| {
            let v = 88 + (canvas::next(&mut state) % 81) as u8;
            image::Rgb([v, v / 2 + 40, 255 - v])
        })
    }

    /// Mean squared luma gradient inside `r` and in an 8-px ring around it.
    fn energy(img: &RgbImage, r: &Rect) -> (f64, f64) {
        let l = |x: u32, y: u32| {
            let p = img.get_pixel(x, y).0;
            0.299 * f64::from(p[0]) + 0.587 * f64::from(p[1]) + 0.114 * f64::from(p[2])
        };
        let inside = |x: u32, y: u32| {
            x >= r.left && x < r.left + r.width && y >= r.top && y < r.top + r.height
        };
        let near = |x: u32, y: u32| {
            x + 8 >= r.left
                && x < r.left + r.width + 8
                && y + 8 >= r.top
                && y < r.top + r.height + 8
        };
        let (mut e_in, mut n_in, mut e_ring, mut n_ring) = (0.0, 0.0, 0.0, 0.0);
        for y in 0..img.height() - 1 {
            for x in 0..img.width() - 1 {
                let g = (l(x + 1, y) - l(x, y)).powi(2) + (l(x, y + 1) - l(x, y)).powi(2);
                let pts = [(x, y), (x + 1, y), (x, y + 1)];
                if pts.iter().all(|&(a, b)| inside(a, b)) {
                    e_in += g;
                    n_in += 1.0;
                } else if pts.iter().all(|&(a, b)| !inside(a, b) && near(a, b)) {
                    e_ring += g;
                    n_ring += 1.0;
                }
            }
        }
        (e_in / n_in, e_ring / n_ring)
    }

    #[test]
    fn the_fill_carries_the_surroundings_grain() {
        let clean = grain(128, 112);
        let r = rect(44, 36, 40, 40);
        let out = inpaint(&clean, &[r]);
        let (inside, ring) = energy(&out, &r);
        // A smooth fill (membrane, TELEA) would be near 0 here.
        let ratio = inside / ring;
        assert!(
            (0.6..=1.4).contains(&ratio),
            "texture {ratio:.2} of the ring's"
        );
    }

    #[test]
    fn edge_cases_keep_the_outside_and_grey_stays_grey() {
        let grey = RgbImage::from_fn(64, 48, |x, y| {
            let v = ((x * 7 + y * 3) % 50 + 100) as u8;
            image::Rgb([v, v, v])
        });
        let cases: Vec<Vec<Rect>> = vec![
            vec![rect(0, 0, 64, 10)],                         // the whole top edge
            vec![rect(50, 30, 14, 18)],                       // the bottom-right corner
            vec![rect(10, 10, 20, 20), rect(20, 15, 25, 10)], // overlapping
            vec![rect(2, 2, 60, 44)],                         // most of the image
            vec![rect(0, 0, 1, 1), rect(63, 47, 1, 1), rect(30, 20, 1, 1)],
            vec![rect(0, 0, 64, 48)], // all of it
        ];
        for rects in &cases {
            let out = inpaint(&grey, rects);
            assert_eq!(out, inpaint(&grey, rects), "not deterministic: {rects:?}");
            for (x, y, p) in out.enumerate_pixels() {
                let inside = rects.iter().any(|q| {
                    x >= q.left && x < q.left + q.width && y >= q.top && y < q.top + q.height
                });
                if !inside {
                    assert_eq!(p, grey.get_pixel(x, y), "{rects:?} changed ({x}, {y})");
                }
                assert!(
                    p.0[0] == p.0[1] && p.0[1] == p.0[2],
                    "{rects:?}: colour at ({x}, {y})"
                );
            }
        }
    }
}
