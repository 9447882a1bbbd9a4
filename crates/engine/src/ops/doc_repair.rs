//! Document de-shading: flattens uneven illumination and shadows on photographed pages.
//!
//! Method: background estimation and division. Each channel's paper brightness is
//! estimated on a coarse grid: the brightest sample of every [`BLOCK`]-pixel block (ink
//! is darker than paper), a closing on that grid (a max filter bridges text and lines,
//! the min filter after it brings shadow edges back), a small box smoothing, and a
//! bilinear upscale. Dividing by it removes gradients and shadows; the paper, now near
//! white but still noisy, is then pushed to white with a white point a little below it.

use image::RgbImage;

use crate::filters::channels::{from_planes, to_planes};
use crate::filters::planes::{Plane, box_mean, min_filter};

/// Side of the blocks whose brightest sample estimates the paper.
const BLOCK: usize = 8;
/// Radius of the closing on the block grid (in blocks): bridges ink up to ~40 px across.
const CLOSING_RADIUS: usize = 2;
/// Radius of the smoothing on the block grid.
const SMOOTH_RADIUS: usize = 1;
/// Divided values at or above this are paper and become white.
const WHITE_POINT: f32 = 0.88;

/// The page with shading removed.
pub(crate) fn repair(img: &RgbImage) -> RgbImage {
    if img.width() == 0 || img.height() == 0 {
        return img.clone();
    }
    let planes = to_planes(img);
    let out = planes.map(|p| {
        let background = paper_brightness(&p);
        p.zip(&background, |v, b| {
            (v / b.max(1.0 / 255.0) / WHITE_POINT).clamp(0.0, 1.0)
        })
    });
    from_planes(&out)
}

/// Brightest sample of each `block × block` block (partial blocks at the edges).
fn block_max(p: &Plane, block: usize) -> Plane {
    let (w, h) = (p.width.div_ceil(block), p.height.div_ceil(block));
    Plane::from_fn(w, h, |bx, by| {
        let mut m = 0.0f32;
        for y in by * block..((by + 1) * block).min(p.height) {
            let row = &p.data[y * p.width..(y + 1) * p.width];
            for &v in &row[bx * block..((bx + 1) * block).min(p.width)] {
                m = m.max(v);
            }
        }
        m
    })
}

fn max_filter(p: &Plane, r: usize) -> Plane {
    min_filter(&p.map(|v| -v), r).map(|v| -v)
}

/// The paper's brightness under the page's illumination, full size.
fn paper_brightness(p: &Plane) -> Plane {
    let coarse = block_max(p, BLOCK);
    let closed = min_filter(&max_filter(&coarse, CLOSING_RADIUS), CLOSING_RADIUS);
    box_mean(&closed, SMOOTH_RADIUS).upscale_to(p.width, p.height)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// White page with dark strokes, under a left-to-right illumination ramp.
    fn shaded_page() -> (RgbImage, RgbImage) {
        let clean = RgbImage::from_fn(160, 120, |x, y| {
            let ink = (y % 20 < 3 && x % 30 < 20) || (x % 40 == 5);
            if ink {
                image::Rgb([20, 20, 20])
            } else {
                image::Rgb([255, 255, 255])
            }
        });
        let mut shaded = clean.clone();
        for (x, _, p) in shaded.enumerate_pixels_mut() {
            let light = 0.5 + 0.5 * x as f32 / 159.0;
            for c in &mut p.0 {
                *c = (f32::from(*c) * light).round() as u8;
            }
        }
        (clean, shaded)
    }

    fn mean_abs(a: &RgbImage, b: &RgbImage) -> f32 {
        a.as_raw()
            .iter()
            .zip(b.as_raw())
            .map(|(&p, &q)| (f32::from(p) - f32::from(q)).abs())
            .sum::<f32>()
            / a.as_raw().len() as f32
    }

    #[test]
    fn removes_an_illumination_gradient() {
        let (clean, shaded) = shaded_page();
        let out = repair(&shaded);
        assert!(mean_abs(&out, &clean) < mean_abs(&shaded, &clean) / 8.0);
    }

    #[test]
    fn tiny_and_black_images() {
        for (w, h) in [(1, 1), (1, 30), (30, 1), (7, 3)] {
            let img = RgbImage::from_pixel(w, h, image::Rgb([0, 0, 0]));
            assert_eq!(repair(&img).dimensions(), (w, h));
        }
    }
}
