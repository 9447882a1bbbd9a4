//! Haze removal: He et al.'s dark channel prior, with the transmission refined by a
//! guided filter, a robust atmospheric light, a transmission floor, and the haze removed
//! per region no more than a smooth veil measured from the photo (a clear foreground
//! keeps its blacks and is left alone; a veiled background behind it is corrected).
//!
//! Estimation runs on an area-downscaled copy (at most about 0.5 MP); only the guided
//! filter's linear coefficients are upsampled and applied at full resolution (He's
//! "fast guided filter"), so a 4096 × 4096 photo costs a few full-size passes.

use image::RgbImage;
use rayon::prelude::*;

use crate::filters::channels::{LUMA, luma};
use crate::filters::planes::{Plane, guided_coefficients, min_filter};

/// Share of haze removed where the prior says there is haze (He's ω).
const OMEGA: f32 = 0.90;
/// Lowest transmission, so dense haze is not amplified into noise.
const T_FLOOR: f32 = 0.1;
/// Pixels of the estimation image.
const ESTIMATION_PIXELS: usize = 500_000;
/// The veil is smooth: it may rise by at most this much per short side of the frame
/// (the slope of its lower envelope, below). Haze rising with distance climbs from a
/// clear foreground to a veiled horizon over a third of the frame or more; a bright
/// object lifts the darkest places of its own cells only, and the envelope cannot climb
/// that fast from the dark cells around it. 1 was chosen over 2 on the training photos'
/// development families (`cargo xtask quality-families --tune`): +0.1 dB on hazy inputs,
/// haze-free photos 31.2 dB against 28.2.
const VEIL_SLOPE: f32 = 1.0;
/// Cells of the veil's envelope across the frame's short side.
const VEIL_CELLS: usize = 16;
/// Quantile of the normalised dark channel taken as a cell's floor (a few dark pixels,
/// such as JPEG undershoot next to an edge, do not decide it alone).
const CELL_FLOOR: f32 = 0.05;
/// Envelope values below `VEIL_NONE` are read as no haze; the correction reaches full
/// strength at `VEIL_FULL`. Chosen on the training photos' development families
/// (`cargo xtask quality-families --tune`) among 0.06–0.12, 0.12–0.20 and 0.16–0.26:
/// hazy inputs 19.74, 19.61, 19.40 dB (DCP 17.84), haze-free photos 31.2, 35.0, 37.8 dB.
const VEIL_NONE: f32 = 0.16;
const VEIL_FULL: f32 = 0.26;
/// Quantile of a cell's colour spread taken as its evidence of haze.
const CHROMA_QUANTILE: f32 = 0.9;
/// Colour spread (sine of the angle to the air light) at which the correction may reach
/// full strength; below it the correction fades in proportion. Chosen on the training
/// photos' development families (`cargo xtask quality-families --tune`) among 0.02, 0.05
/// and 0.1: pale close-ups 15.7, 21.3, 28.9 dB against 11.4 without the cue, but hazy
/// inputs 18.97, 18.37, 17.68 dB (19.40 without; bar DCP + 1 = 18.84), so the smallest.
const CHROMA_FULL: f32 = 0.02;
/// Input blockiness from which the 8 × 8 grid of a JPEG is smoothed before dehazing (the
/// division by a small transmission would otherwise amplify it).
const BLOCKY: f32 = 1.08;

/// Removes haze from `img`.
pub(crate) fn dehaze(img: &RgbImage) -> RgbImage {
    let (w, h) = (img.width() as usize, img.height() as usize);
    if w == 0 || h == 0 {
        return img.clone();
    }
    let factor = ((w * h) as f64 / ESTIMATION_PIXELS as f64)
        .sqrt()
        .ceil()
        .max(1.0) as usize;
    let small = downscale_rgb(img, factor);
    let (sw, sh) = (small[0].width, small[0].height);
    let radius = (sw.min(sh) / 57).max(2);

    let dark = min_filter(
        &small[0].zip(&small[1], f32::min).zip(&small[2], f32::min),
        radius,
    );
    let air = atmospheric_light(&small, &dark);

    let normalised = small[0]
        .map(|v| v / air[0])
        .zip(&small[1].map(|v| v / air[1]), f32::min)
        .zip(&small[2].map(|v| v / air[2]), f32::min);
    let normalised_dark = min_filter(&normalised, radius);
    let veil = veil_envelope(&normalised_dark);
    if veil.data.iter().all(|&v| v <= VEIL_NONE) {
        return img.clone();
    }
    // Haze removed per pixel: the dark channel's own estimate, but never more than the
    // smooth veil there (a bright object inside the haze is not more haze).
    let evidence = chroma_evidence(&small, air, veil.width.min(veil.height) / VEIL_CELLS);
    let transmission = Plane::from_fn(sw, sh, |x, y| {
        let i = y * sw + x;
        let (d, v) = (normalised_dark.data[i], veil.data[i]);
        let strength = ((v - VEIL_NONE) / (VEIL_FULL - VEIL_NONE)).clamp(0.0, 1.0)
            * (evidence.data[i] / CHROMA_FULL).clamp(0.0, 1.0);
        1.0 - OMEGA * strength * d.min(v)
    });
    let (a, b) = guided_coefficients(&luma(&small), &transmission, radius * 4, 1e-3);
    let full_luma = crate::filters::channels::luma_plane(img);
    if crate::filters::blockiness::blockiness(&full_luma) >= BLOCKY {
        recover(&deblock(img), &a, &b, air)
    } else {
        recover(img, &a, &b, air)
    }
}

/// The veil over the frame, per region: the lower envelope, rising by at most
/// [`VEIL_SLOPE`] per short side, of the floors of the normalised dark channel in
/// [`VEIL_CELLS`]-across cells. Haze lies where it lies: a clear foreground keeps its own
/// blacks and gets none, a veiled background behind it is corrected in full, and a bright
/// object among dark cells cannot raise the envelope above what the slope allows.
/// Bilinear between cell centres, at the estimation image's size.
fn veil_envelope(normalised_dark: &Plane) -> Plane {
    let (w, h) = (normalised_dark.width, normalised_dark.height);
    let cell = (w.min(h) / VEIL_CELLS).max(1);
    let (gx, gy) = (w.div_ceil(cell), h.div_ceil(cell));
    let floors: Vec<f32> = (0..gx * gy)
        .map(|c| {
            let (x0, y0) = ((c % gx) * cell, (c / gx) * cell);
            let mut v: Vec<f32> = (y0..(y0 + cell).min(h))
                .flat_map(|y| {
                    normalised_dark.data[y * w + x0..y * w + (x0 + cell).min(w)]
                        .iter()
                        .copied()
                })
                .collect();
            let k = ((v.len().saturating_sub(1)) as f32 * CELL_FLOOR) as usize;
            v.select_nth_unstable_by(k, f32::total_cmp);
            v[k]
        })
        .collect();
    // Slope per cell: VEIL_SLOPE per short side, which spans VEIL_CELLS cells.
    let slope = VEIL_SLOPE / (w.min(h) as f32 / cell as f32);
    let envelope: Vec<f32> = (0..gx * gy)
        .map(|c| {
            let (cx, cy) = ((c % gx) as f32, (c / gx) as f32);
            floors
                .iter()
                .enumerate()
                .map(|(d, &f)| {
                    let (dx, dy) = ((d % gx) as f32 - cx, (d / gx) as f32 - cy);
                    f + slope * dx.hypot(dy)
                })
                .fold(f32::INFINITY, f32::min)
        })
        .collect();
    let grid = Plane {
        width: gx,
        height: gy,
        data: envelope,
    };
    // Cell centres sit at (i + ½)·cell; upscale_to aligns centres the same way when the
    // grid covers the frame exactly, which it nearly does.
    grid.upscale_to(w, h)
}

/// How far, per region, the colours leave the air light's direction: the sine of the
/// angle between a pixel and the air light, at quantile [`CHROMA_QUANTILE`] of each
/// [`VEIL_CELLS`]-across cell, bilinear between cell centres. Haze mixes each scene
/// colour with the air light in proportion to the transmission, so a veiled scene spreads
/// along lines towards the air light; a pale surface filling the frame, or a grey scene
/// under grey air, is shading of one colour (shading multiplies, so the direction stays
/// put) and gives no evidence that anything was added, only that the scene is pale.
fn chroma_evidence(planes: &[Plane; 3], air: [f32; 3], cell: usize) -> Plane {
    let (w, h) = (planes[0].width, planes[0].height);
    let cell = cell.max(1);
    let norm = (air[0] * air[0] + air[1] * air[1] + air[2] * air[2])
        .sqrt()
        .max(1e-6);
    let dir = air.map(|a| a / norm);
    let sine = Plane::from_fn(w, h, |x, y| {
        let i = y * w + x;
        let p = [planes[0].data[i], planes[1].data[i], planes[2].data[i]];
        let len2 = p[0] * p[0] + p[1] * p[1] + p[2] * p[2];
        if len2 < 1e-6 {
            return 0.0;
        }
        let along = p[0] * dir[0] + p[1] * dir[1] + p[2] * dir[2];
        ((len2 - along * along).max(0.0) / len2).sqrt()
    });
    let (gx, gy) = (w.div_ceil(cell), h.div_ceil(cell));
    let q = CHROMA_QUANTILE;
    let data: Vec<f32> = (0..gx * gy)
        .map(|c| {
            let (x0, y0) = ((c % gx) * cell, (c / gx) * cell);
            let mut v: Vec<f32> = (y0..(y0 + cell).min(h))
                .flat_map(|y| {
                    sine.data[y * w + x0..y * w + (x0 + cell).min(w)]
                        .iter()
                        .copied()
                })
                .collect();
            let k = ((v.len().saturating_sub(1)) as f32 * q) as usize;
            v.select_nth_unstable_by(k, f32::total_cmp);
            v[k]
        })
        .collect();
    Plane {
        width: gx,
        height: gy,
        data,
    }
    .upscale_to(w, h)
}

/// Smooths small steps across the 8 × 8 block boundaries of a decoded JPEG (an
/// H.264-style edge filter: a step is smoothed only where both sides are flat, so real
/// edges on the grid are kept).
fn deblock(img: &RgbImage) -> RgbImage {
    const STEP: i32 = 10;
    const FLAT: i32 = 5;
    const CLIP: i32 = 4;
    let (w, h) = (img.width() as usize, img.height() as usize);
    let mut out = img.as_raw().clone();
    // One pass across vertical boundaries, then one across horizontal ones: `at(i, k)`
    // is the sample `k` pixels from the boundary's left or top side (k = -2..=1).
    let filter = |buf: &mut [u8], idx: [usize; 4]| {
        let [p1, p0, q0, q1] = idx.map(|i| i32::from(buf[i]));
        if (p0 - q0).abs() < STEP && (p1 - p0).abs() < FLAT && (q1 - q0).abs() < FLAT {
            let delta = ((4 * (q0 - p0) + (p1 - q1) + 4) >> 3).clamp(-CLIP, CLIP);
            let set = |v: i32| v.clamp(0, 255) as u8;
            buf[idx[1]] = set(p0 + delta);
            buf[idx[2]] = set(q0 - delta);
            buf[idx[0]] = set(p1 + delta / 2);
            buf[idx[3]] = set(q1 - delta / 2);
        }
    };
    out.par_chunks_mut((w * 3).max(1)).for_each(|row| {
        for bx in (8..w.saturating_sub(1)).step_by(8) {
            for c in 0..3 {
                filter(row, [bx - 2, bx - 1, bx, bx + 1].map(|x| x * 3 + c));
            }
        }
    });
    for by in (8..h.saturating_sub(1)).step_by(8) {
        for x in 0..w {
            for c in 0..3 {
                filter(
                    &mut out,
                    [by - 2, by - 1, by, by + 1].map(|y| (y * w + x) * 3 + c),
                );
            }
        }
    }
    RgbImage::from_raw(w as u32, h as u32, out).unwrap_or_else(|| img.clone())
}

/// Area-downscales an 8-bit image straight into R, G, B planes in 0..1.
fn downscale_rgb(img: &RgbImage, factor: usize) -> [Plane; 3] {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let raw = img.as_raw();
    let (sw, sh) = (w.div_ceil(factor), h.div_ceil(factor));
    std::array::from_fn(|c| {
        Plane::from_fn(sw, sh, |x, y| {
            let (x0, y0) = (x * factor, y * factor);
            let (x1, y1) = ((x0 + factor).min(w), (y0 + factor).min(h));
            let mut sum = 0u32;
            for yy in y0..y1 {
                for xx in x0..x1 {
                    sum += u32::from(raw[(yy * w + xx) * 3 + c]);
                }
            }
            sum as f32 / (255.0 * ((x1 - x0) * (y1 - y0)) as f32)
        })
    })
}

/// The full-resolution pass: the guided filter's coefficients, bilinearly upsampled on the
/// fly, give each pixel's transmission from its luma; the scene radiance follows. One
/// read of the input and one write of the output.
fn recover(img: &RgbImage, a: &Plane, b: &Plane, air: [f32; 3]) -> RgbImage {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let (sw, sh) = (a.width, a.height);
    let axis = |i: usize, n: usize, small: usize| {
        let f = ((i as f32 + 0.5) * small as f32 / n as f32 - 0.5).clamp(0.0, (small - 1) as f32);
        let i0 = f as usize;
        (i0, (i0 + 1).min(small - 1), f - i0 as f32)
    };
    let columns: Vec<(usize, usize, f32)> = (0..w).map(|x| axis(x, w, sw)).collect();
    let raw = img.as_raw();
    let mut out = vec![0u8; raw.len()];
    out.par_chunks_mut((w * 3).max(1))
        .enumerate()
        .for_each(|(y, row)| {
            let (y0, y1, fy) = axis(y, h, sh);
            let lerp_row = |p: &Plane, x0: usize, x1: usize, fx: f32| {
                let top = p.data[y0 * sw + x0] * (1.0 - fx) + p.data[y0 * sw + x1] * fx;
                let bottom = p.data[y1 * sw + x0] * (1.0 - fx) + p.data[y1 * sw + x1] * fx;
                top * (1.0 - fy) + bottom * fy
            };
            let src = &raw[y * w * 3..(y + 1) * w * 3];
            for (x, &(x0, x1, fx)) in columns.iter().enumerate() {
                let px = &src[x * 3..x * 3 + 3];
                let rgb = [0, 1, 2].map(|c| f32::from(px[c]) / 255.0);
                let l = LUMA[0] * rgb[0] + LUMA[1] * rgb[1] + LUMA[2] * rgb[2];
                let t = (lerp_row(a, x0, x1, fx) * l + lerp_row(b, x0, x1, fx)).clamp(T_FLOOR, 1.0);
                for c in 0..3 {
                    let v = ((rgb[c] - air[c]) / t + air[c]).clamp(0.0, 1.0);
                    row[x * 3 + c] = (v * 255.0 + 0.5) as u8;
                }
            }
        });
    RgbImage::from_raw(w as u32, h as u32, out).unwrap_or_else(|| img.clone())
}

/// Atmospheric light: the mean colour of the 0.1 % of pixels with the brightest dark
/// channel (a mean, not one pixel, so a white object or a specular highlight does not
/// decide it alone).
fn atmospheric_light(planes: &[Plane; 3], dark: &Plane) -> [f32; 3] {
    let n = dark.data.len();
    let count = (n / 1000).max(1);
    let mut order: Vec<usize> = (0..n).collect();
    // Ties broken by index so the choice never depends on sort internals.
    order.select_nth_unstable_by(count - 1, |&i, &j| {
        dark.data[j].total_cmp(&dark.data[i]).then(i.cmp(&j))
    });
    let mut air = [0.0f32; 3];
    for &i in &order[..count] {
        for (c, a) in air.iter_mut().enumerate() {
            *a += planes[c].data[i];
        }
    }
    air.map(|a| (a / count as f32).clamp(0.05, 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A haze-free scene: bright colours next to deep shadows in every patch, as the
    /// dark channel prior expects of clear photos.
    fn scene(w: u32, h: u32) -> RgbImage {
        RgbImage::from_fn(w, h, |x, y| match (x / 6 + y / 6) % 3 {
            0 => image::Rgb([200, 150, 60]),
            1 => image::Rgb([40, 110, 190]),
            _ => image::Rgb([12, 16, 10]),
        })
    }

    #[test]
    fn haze_free_photo_is_unchanged() {
        let img = scene(240, 200);
        assert!(dehaze(&img) == img, "a clear scene was altered");
    }

    #[test]
    fn a_clear_foreground_does_not_veto_a_veiled_background() {
        // The scene under haze that rises with distance: none over the lower half, dense
        // over the upper third. The foreground must come back as it was and the
        // background must regain contrast.
        let (w, h) = (320u32, 240u32);
        let clean = scene(w, h);
        let hazy = RgbImage::from_fn(w, h, |x, y| {
            let far = 1.0 - ((y as f32 / h as f32 - 1.0 / 3.0) / (1.0 / 6.0)).clamp(0.0, 1.0);
            let t = 1.0 - 0.65 * far;
            let p = clean.get_pixel(x, y).0;
            image::Rgb(p.map(|c| (f32::from(c) * t + 225.0 * (1.0 - t)).round() as u8))
        });
        let out = dehaze(&hazy);
        let spread = |img: &RgbImage, rows: std::ops::Range<u32>| {
            let v: Vec<u8> = rows
                .flat_map(|y| (0..w).map(move |x| (x, y)))
                .map(|(x, y)| img.get_pixel(x, y).0[0])
                .collect();
            i32::from(*v.iter().max().unwrap()) - i32::from(*v.iter().min().unwrap())
        };
        assert!(
            spread(&out, 0..60) > spread(&hazy, 0..60) + 40,
            "background: {} vs {}",
            spread(&out, 0..60),
            spread(&hazy, 0..60)
        );
        let diff: u32 = (200..h)
            .flat_map(|y| (0..w).map(move |x| (x, y)))
            .map(|(x, y)| {
                let (a, b) = (out.get_pixel(x, y).0, hazy.get_pixel(x, y).0);
                (0..3).map(|c| u32::from(a[c].abs_diff(b[c]))).sum::<u32>()
            })
            .sum();
        let mean = f64::from(diff) / f64::from(3 * w * (h - 200));
        assert!(mean < 2.0, "foreground changed by {mean} levels on average");
    }

    #[test]
    fn hazy_photo_gains_contrast() {
        let clean = scene(240, 200);
        let hazy = RgbImage::from_fn(240, 200, |x, y| {
            let p = clean.get_pixel(x, y).0;
            image::Rgb(p.map(|c| (f32::from(c) * 0.4 + 220.0 * 0.6) as u8))
        });
        let out = dehaze(&hazy);
        let spread = |img: &RgbImage| {
            let v: Vec<u8> = img.pixels().map(|p| p.0[0]).collect();
            i32::from(*v.iter().max().unwrap()) - i32::from(*v.iter().min().unwrap())
        };
        assert!(
            spread(&out) > spread(&hazy) + 30,
            "{} vs {}",
            spread(&out),
            spread(&hazy)
        );
    }
}
