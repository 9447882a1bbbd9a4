//! Haze removal: He et al.'s dark channel prior, with the transmission refined by a
//! guided filter, a robust atmospheric light, a transmission floor, and the haze removed
//! per region only as far as the region gives evidence of haze (a clear foreground keeps
//! its blacks, a veiled background behind it is corrected, a bright or pale surface that
//! shows no sign of an added veil is left nearly as it came).
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
/// Cells across the frame's short side: the regions the haze is decided in.
const VEIL_CELLS: usize = 16;
/// Quantile of the normalised dark channel taken as a cell's floor (a few dark pixels,
/// such as JPEG undershoot next to an edge, do not decide it alone).
const CELL_FLOOR: f32 = 0.05;
/// A cell's luma spread (90th minus 10th percentile) from which its floor starts to count
/// as a reading of the veil, and from which it counts fully. The dark channel prior holds
/// where there is texture (shadows, dark or saturated objects); a flat cell (sky, a wall,
/// an out-of-focus background) has no dark pixel to read the veil from, and takes its
/// veil from the textured cells around it. 0.03 is well above JPEG and sensor noise.
const TEXTURE_NONE: f32 = 0.03;
const TEXTURE_FULL: f32 = 0.08;
/// Spread (in cells) of the normalised convolution that carries the textured cells'
/// floors across the frame (haze is smooth across edges).
const VEIL_SIGMA: f32 = 1.5;
/// Weight, against about 14 for a neighbourhood of textured cells, of the frame's mean
/// floor in a cell with no textured cell near it.
const VEIL_PRIOR: f32 = 0.05;
/// Veil values below `VEIL_NONE` are read as no haze; the correction reaches full
/// strength at `VEIL_FULL` (set in the previous round, kept).
const VEIL_NONE: f32 = 0.16;
const VEIL_FULL: f32 = 0.26;
/// Quantile of a cell's colour spread taken as its evidence of haze.
const CHROMA_QUANTILE: f32 = 0.9;
/// Colour spread (sine of the angle to the air light) at which a cell's colours are full
/// evidence of haze; below it the correction fades in proportion. Chosen on the training
/// photos' fit families (`cargo xtask quality-families --tune`, 27 photos) among 0.02,
/// 0.04 and 0.08: hazy inputs 18.31, 18.02, 17.42 dB (DCP 17.84); haze-free controls
/// below 30 dB 39, 35, 29 of 78; hazy inputs made worse than they came 51 (157 dB lost
/// in all), 45 (113), 17 (53). The largest, because a false positive costs far more
/// than a missed correction (issue 24: every haze-free photo ≥ 30 dB).
const CHROMA_FULL: f32 = 0.08;
/// Spread (in cells) over which colour evidence reaches neighbouring cells: haze is one
/// veil over the scene, so a grey wall next to a veiled red bowl is veiled too.
const EVIDENCE_SIGMA: f32 = 3.0;
/// Grey balance of a cell's floor colour relative to the air light (the darkest channel
/// over the brightest, each divided by the air light's) from which the floor may be haze,
/// and from which it counts fully. A veil adds the air light's colour, so the darkest
/// pixels of a veiled cell (the veil over a shadow) take that colour; a blue sky or a
/// yellow-lit wall under a white air light is a colour of its own, not a veil.
const AIR_COLOUR_NONE: f32 = 0.6;
const AIR_COLOUR_FULL: f32 = 0.9;
/// Input blockiness from which the 8 × 8 grid of a JPEG is smoothed before dehazing (the
/// division by a small transmission would otherwise amplify it). 1.0 is "no stronger
/// steps across the grid than inside the blocks": at 1.08 the grid of 7 of 120 validation
/// JPEG inputs (4 of 72 on the training photos' fit families) came out more visible
/// than it went in; at 1.0 none did, and the hazy mean moved by 0.01 dB. The filter only
/// touches small steps between flat sides, so an image without a grid loses nothing.
const BLOCKY: f32 = 1.0;

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
    let small_luma = luma(&small);
    let Some(transmission) =
        regional_transmission(&small, &small_luma, &normalised, &normalised_dark, air)
    else {
        return img.clone();
    };
    let (a, b) = guided_coefficients(&small_luma, &transmission, radius * 4, 1e-3);
    let full_luma = crate::filters::channels::luma_plane(img);
    if crate::filters::blockiness::blockiness(&full_luma) >= BLOCKY {
        recover(&deblock(img), &a, &b, air)
    } else {
        recover(img, &a, &b, air)
    }
}

/// 0 at or below `lo`, 1 at or above `hi`, linear between.
fn ramp(v: f32, lo: f32, hi: f32) -> f32 {
    ((v - lo) / (hi - lo).max(1e-6)).clamp(0.0, 1.0)
}

/// What one cell of the frame says about the haze over it.
struct Cell {
    /// The veil read from the cell: the [`CELL_FLOOR`] quantile of the normalised dark
    /// channel.
    floor: f32,
    /// How far the floor can be trusted as a reading of the veil (texture, 0..1).
    texture: f32,
    /// How close the colour of the cell's darkest pixels is to the air light's (0..1).
    air_colour: f32,
    /// Evidence of haze from the cell's colours (0..1).
    chroma: f32,
}

/// Value at `q` (0..1) of `v` (reordered).
fn quantile(v: &mut [f32], q: f32) -> f32 {
    if v.is_empty() {
        return 0.0;
    }
    let k = ((v.len() - 1) as f32 * q) as usize;
    v.select_nth_unstable_by(k, f32::total_cmp);
    v[k]
}

/// Sine of the angle between `p` and the unit direction `dir`.
fn sine_to(p: [f32; 3], dir: [f32; 3]) -> f32 {
    let len2 = p[0] * p[0] + p[1] * p[1] + p[2] * p[2];
    if len2 < 1e-6 {
        return 0.0;
    }
    let along = p[0] * dir[0] + p[1] * dir[1] + p[2] * dir[2];
    ((len2 - along * along).max(0.0) / len2).sqrt()
}

/// The statistics of the cell whose pixels are `idx`; `air_dir` is the air light as a
/// unit vector.
fn cell_stats(
    planes: &[Plane; 3],
    lum: &Plane,
    normalised: &Plane,
    normalised_dark: &Plane,
    (air, air_dir): ([f32; 3], [f32; 3]),
    idx: &[usize],
) -> Cell {
    let mut v: Vec<f32> = idx.iter().map(|&i| normalised_dark.data[i]).collect();
    let floor = quantile(&mut v, CELL_FLOOR);
    v.clear();
    v.extend(idx.iter().map(|&i| lum.data[i]));
    let spread = quantile(&mut v, 0.9) - quantile(&mut v, 0.1);
    // The darkest tenth of the pixels (by their own normalised minimum, before the
    // minimum filter spreads it): under a veil, the veil over the scene's shadows.
    v.clear();
    v.extend(idx.iter().map(|&i| normalised.data[i]));
    let cut = quantile(&mut v, 0.1);
    let mut dark = [0.0f32; 3];
    for &i in idx.iter().filter(|&&i| normalised.data[i] <= cut) {
        for (c, d) in dark.iter_mut().enumerate() {
            *d += planes[c].data[i] / air[c];
        }
    }
    let lo = dark[0].min(dark[1]).min(dark[2]);
    let hi = dark[0].max(dark[1]).max(dark[2]);
    let air_colour = if hi > 1e-6 { lo / hi } else { 0.0 };
    v.clear();
    v.extend(
        idx.iter()
            .map(|&i| sine_to([0, 1, 2].map(|c| planes[c].data[i]), air_dir)),
    );
    let chroma = quantile(&mut v, CHROMA_QUANTILE);
    Cell {
        floor,
        texture: ramp(spread, TEXTURE_NONE, TEXTURE_FULL),
        air_colour: ramp(air_colour, AIR_COLOUR_NONE, AIR_COLOUR_FULL),
        chroma: ramp(chroma, 0.0, CHROMA_FULL),
    }
}

/// Gaussian-weighted mean of `value` over the `gx`-wide grid around each cell, each cell
/// weighted also by `weight` (normalised convolution), as (sum of weights, mean).
fn spread_over(
    gx: usize,
    gy: usize,
    sigma: f32,
    weight: impl Fn(usize) -> f32,
    value: impl Fn(usize) -> f32,
) -> Vec<(f32, f32)> {
    let reach = (3.0 * sigma).ceil() as isize;
    let kernel: Vec<f32> = (-reach..=reach)
        .map(|d| (-((d * d) as f32) / (2.0 * sigma * sigma)).exp())
        .collect();
    (0..gx * gy)
        .map(|c| {
            let (cx, cy) = ((c % gx) as isize, (c / gx) as isize);
            let (mut sw, mut sv) = (0.0f32, 0.0f32);
            for (ky, dy) in (-reach..=reach).enumerate() {
                let y = cy + dy;
                if y < 0 || y >= gy as isize {
                    continue;
                }
                for (kx, dx) in (-reach..=reach).enumerate() {
                    let x = cx + dx;
                    if x < 0 || x >= gx as isize {
                        continue;
                    }
                    let d = y as usize * gx + x as usize;
                    let g = kernel[ky] * kernel[kx] * weight(d);
                    sw += g;
                    sv += g * value(d);
                }
            }
            (sw, if sw > 0.0 { sv / sw } else { 0.0 })
        })
        .collect()
}

/// The transmission over the estimation image, decided per region; `None` when no region
/// shows haze.
///
/// The frame is cut into [`VEIL_CELLS`]-across cells. The **veil** of a cell is the floor
/// of its normalised dark channel, read only where the cell has texture (the dark channel
/// prior holds there) and carried to flat cells from the textured cells around them. The
/// **strength** of the correction in a cell is the product of three pieces of evidence,
/// each a ramp rather than a gate so that a wrong call costs in proportion: the veil is
/// raised; the colour of the cell's darkest pixels is the air light's (a veil adds the air
/// light, a coloured surface is its own colour); the cell's colours spread away from the
/// air light's direction, or its neighbours' do (shading of one pale surface does not).
/// The haze removed at a pixel is the dark channel's own estimate, never more than the
/// veil there (a bright object inside the haze is not more haze).
fn regional_transmission(
    planes: &[Plane; 3],
    lum: &Plane,
    normalised: &Plane,
    normalised_dark: &Plane,
    air: [f32; 3],
) -> Option<Plane> {
    let (w, h) = (normalised.width, normalised.height);
    let cell = (w.min(h) / VEIL_CELLS).max(1);
    let (gx, gy) = (w.div_ceil(cell), h.div_ceil(cell));
    let norm = (air[0] * air[0] + air[1] * air[1] + air[2] * air[2])
        .sqrt()
        .max(1e-6);
    let air_dir = air.map(|a| a / norm);
    let cells: Vec<Cell> = (0..gx * gy)
        .into_par_iter()
        .map(|c| {
            let (x0, y0) = ((c % gx) * cell, (c / gx) * cell);
            let idx: Vec<usize> = (y0..(y0 + cell).min(h))
                .flat_map(|y| (x0..(x0 + cell).min(w)).map(move |x| y * w + x))
                .collect();
            cell_stats(
                planes,
                lum,
                normalised,
                normalised_dark,
                (air, air_dir),
                &idx,
            )
        })
        .collect();
    // Fewer than one textured cell's worth: nothing to read the veil from.
    let textured: f32 = cells.iter().map(|c| c.texture).sum();
    if textured < 1.0 {
        return None;
    }
    let mean_floor = cells.iter().map(|c| c.floor * c.texture).sum::<f32>() / textured;
    let veil: Vec<f32> = spread_over(gx, gy, VEIL_SIGMA, |d| cells[d].texture, |d| cells[d].floor)
        .into_iter()
        .map(|(sw, v)| (sw * v + VEIL_PRIOR * mean_floor) / (sw + VEIL_PRIOR))
        .collect();
    let evidence = spread_over(gx, gy, EVIDENCE_SIGMA, |_| 1.0, |d| cells[d].chroma);
    let strength: Vec<f32> = (0..gx * gy)
        .map(|c| {
            ramp(veil[c], VEIL_NONE, VEIL_FULL)
                * cells[c].chroma.max(evidence[c].1)
                * cells[c].air_colour
        })
        .collect();
    if strength.iter().all(|&s| s <= 0.0) {
        return None;
    }
    let grid = |data: Vec<f32>| {
        Plane {
            width: gx,
            height: gy,
            data,
        }
        .upscale_to(w, h)
    };
    let (veil, strength) = (grid(veil), grid(strength));
    Some(Plane::from_fn(w, h, |x, y| {
        let i = y * w + x;
        1.0 - OMEGA * strength.data[i] * normalised_dark.data[i].min(veil.data[i])
    }))
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
    fn a_pale_grey_surface_is_left_alone() {
        // A frame-filling pale grey surface: the scene's pattern as shading from 0.6 to
        // 0.95 of white, no colour. Its dark channel is as high as fog's, but nothing in
        // it shows a veil over colours, so it must come back as it was.
        let clean = scene(240, 200);
        let pale = RgbImage::from_fn(240, 200, |x, y| {
            let p = clean.get_pixel(x, y).0.map(f32::from);
            let l = (0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2]) / 255.0;
            let v = (255.0 * (0.6 + 0.35 * l)).round() as u8;
            image::Rgb([v, v, v])
        });
        assert!(dehaze(&pale) == pale, "a pale grey surface was altered");
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
