//! Image quality metrics shared by the quality harness and the trainers.

use image::RgbImage;

/// PSNR over all RGB samples, in dB (capped at 99).
pub fn psnr(a: &RgbImage, b: &RgbImage) -> f64 {
    let mse = a
        .as_raw()
        .iter()
        .zip(b.as_raw())
        .map(|(&x, &y)| (f64::from(x) - f64::from(y)).powi(2))
        .sum::<f64>()
        / a.as_raw().len().max(1) as f64;
    to_db(mse)
}

fn to_db(mse: f64) -> f64 {
    if mse <= 1e-10 {
        99.0
    } else {
        (10.0 * (255.0f64 * 255.0 / mse).log10()).min(99.0)
    }
}

/// Rec. 601 luma of a pixel, 0..255.
pub fn luma(p: [u8; 3]) -> f64 {
    0.299 * f64::from(p[0]) + 0.587 * f64::from(p[1]) + 0.114 * f64::from(p[2])
}

/// PSNR of luma, ignoring a `border`-pixel frame (where upscalers differ only by padding).
pub fn y_psnr(a: &RgbImage, b: &RgbImage, border: u32) -> f64 {
    let (w, h) = (a.width().min(b.width()), a.height().min(b.height()));
    let (mut sum, mut n) = (0.0, 0u64);
    for y in border..h.saturating_sub(border) {
        for x in border..w.saturating_sub(border) {
            let d = luma(a.get_pixel(x, y).0) - luma(b.get_pixel(x, y).0);
            sum += d * d;
            n += 1;
        }
    }
    to_db(sum / n.max(1) as f64)
}

/// Hasler and Süsstrunk's colourfulness.
pub fn colourfulness(img: &RgbImage) -> f64 {
    let n = f64::from(img.width()) * f64::from(img.height());
    let (mut srg, mut syb, mut srg2, mut syb2) = (0.0, 0.0, 0.0, 0.0);
    for p in img.pixels() {
        let [r, g, b] = p.0.map(f64::from);
        let rg = r - g;
        let yb = 0.5 * (r + g) - b;
        srg += rg;
        syb += yb;
        srg2 += rg * rg;
        syb2 += yb * yb;
    }
    let (mrg, myb) = (srg / n, syb / n);
    let (vrg, vyb) = (
        (srg2 / n - mrg * mrg).max(0.0),
        (syb2 / n - myb * myb).max(0.0),
    );
    (vrg + vyb).sqrt() + 0.3 * (mrg * mrg + myb * myb).sqrt()
}

/// Blockiness: the mean luma step across the boundaries of a `period`-pixel grid over the
/// mean step elsewhere (about 1 without blocking; JPEG's 8 × 8 grid raises it).
pub fn blockiness(img: &RgbImage, period: u32) -> f64 {
    let (w, h) = (img.width(), img.height());
    let y = |x: u32, yy: u32| luma(img.get_pixel(x, yy).0);
    let (mut edge, mut ne, mut inner, mut ni) = (0.0, 0u64, 0.0, 0u64);
    for yy in 0..h {
        for x in 0..w {
            if x + 1 < w {
                let d = (y(x + 1, yy) - y(x, yy)).abs();
                if (x + 1) % period == 0 {
                    edge += d;
                    ne += 1;
                } else {
                    inner += d;
                    ni += 1;
                }
            }
            if yy + 1 < h {
                let d = (y(x, yy + 1) - y(x, yy)).abs();
                if (yy + 1) % period == 0 {
                    edge += d;
                    ne += 1;
                } else {
                    inner += d;
                    ni += 1;
                }
            }
        }
    }
    (edge / ne.max(1) as f64) / (inner / ni.max(1) as f64).max(1e-9)
}
