//! `--fit`: shrink, grow or pad an image until it meets an operation's limits.
//!
//! Bounded in time and memory whatever the file claims: the header is read first and an
//! image above [`FIT_MAX_PIXELS`] is refused before any pixel is allocated; decoding runs
//! under `image`'s allocation limits; one image is fitted at a time; the target size is
//! computed before any canvas is made, so padding a 65535×1 strip costs a 4096-wide
//! canvas, not a 65535-wide one.

use std::io::Cursor;
use std::sync::{Mutex, PoisonError};

use baidu_imageprocess::{Operation, protocol};
use image::{DynamicImage, ImageFormat, ImageReader, imageops::FilterType};

/// Most pixels `--fit` decodes (about 8000×6000; 12000×3000 panoramas fit).
pub const FIT_MAX_PIXELS: u64 = 50_000_000;
/// Most bytes one decode may allocate (a 50 Mpx 16-bit RGBA image is 400 MB).
const FIT_MAX_ALLOC: u64 = 512 * 1024 * 1024;
/// Most bytes of a file read for `--fit`.
pub const FIT_MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// Decodes are serialised: several large images at once would multiply peak memory.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// Waits for the turn to decode a large image; the turn lasts as long as the guard.
pub fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(PoisonError::into_inner)
}

fn accepted_format(bytes: &[u8]) -> Result<ImageFormat, String> {
    let format = image::guess_format(bytes).map_err(|e| format!("cannot read the image: {e}"))?;
    if matches!(
        format,
        ImageFormat::Jpeg | ImageFormat::Png | ImageFormat::Bmp
    ) {
        Ok(format)
    } else {
        Err(format!(
            "{format:?} images are not accepted (use JPEG, PNG or BMP)"
        ))
    }
}

/// Decodes `bytes` with the header checked against [`FIT_MAX_PIXELS`] first and the
/// decoder's allocations limited.
pub fn decode_bounded(bytes: &[u8]) -> Result<DynamicImage, String> {
    let format = accepted_format(bytes)?;
    // The header alone, without the decoder: nothing is allocated for a bomb.
    let info = protocol::sniff(bytes).map_err(|e| format!("cannot read the image: {e}"))?;
    let (w, h) = (info.width, info.height);
    let pixels = u64::from(w) * u64::from(h);
    if pixels > FIT_MAX_PIXELS {
        return Err(format!(
            "is {w}×{h} ({:.0} Mpx); --fit handles at most {} Mpx",
            pixels as f64 / 1e6,
            FIT_MAX_PIXELS / 1_000_000
        ));
    }
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(w);
    limits.max_image_height = Some(h);
    limits.max_alloc = Some(FIT_MAX_ALLOC);
    reader.limits(limits);
    reader
        .decode()
        .map_err(|e| format!("cannot decode the image: {e}"))
}

/// Returns image bytes that meet `op`'s limits, re-encoded in the same format.
pub fn fit(bytes: &[u8], op: Operation) -> Result<Vec<u8>, String> {
    let _turn = one_at_a_time();
    let format = accepted_format(bytes)?;
    let img = to_8_bit(decode_bounded(bytes)?);
    let limits = op.limits();
    // Encoded size also counts: shrink further (bounded) until the base64 fits.
    let mut extra = 1.0f64;
    for _ in 0..6 {
        let plan = plan(img.width(), img.height(), &limits, extra)?;
        let encoded = encode(&render(&img, plan), format)?;
        match protocol::validate(op, &encoded) {
            Ok(_) => return Ok(encoded),
            Err(protocol::LimitViolation::TooLarge { .. }) => extra *= 0.8,
            Err(other) => return Err(format!("cannot fit the image: {other}")),
        }
    }
    Err("cannot fit the image under the 4 MiB limit".into())
}

/// 16-bit and float images become 8-bit: half the memory, and what the API returns.
fn to_8_bit(img: DynamicImage) -> DynamicImage {
    match img {
        DynamicImage::ImageLuma8(_)
        | DynamicImage::ImageLumaA8(_)
        | DynamicImage::ImageRgb8(_)
        | DynamicImage::ImageRgba8(_) => img,
        DynamicImage::ImageLuma16(_) => DynamicImage::ImageLuma8(img.to_luma8()),
        DynamicImage::ImageLumaA16(_) => DynamicImage::ImageLumaA8(img.to_luma_alpha8()),
        other if other.color().has_alpha() => DynamicImage::ImageRgba8(other.to_rgba8()),
        other => DynamicImage::ImageRgb8(other.to_rgb8()),
    }
}

/// The size of the resized image and of the canvas it is centred on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Plan {
    content: (u32, u32),
    canvas: (u32, u32),
}

/// Computes sizes that satisfy `limits` exactly, rounding included: scale so the canvas
/// (the image padded to the aspect limit) fits the side and pixel limits, then round
/// the canvas's short side up to the aspect limit and shrink while the pixel count is
/// over.
fn plan(w: u32, h: u32, limits: &protocol::Limits, extra: f64) -> Result<Plan, String> {
    let (long, short) = (f64::from(w.max(h)), f64::from(w.min(h).max(1)));
    let aspect = limits.max_aspect.map(f64::from);
    let short_canvas = match aspect {
        Some(a) if long > short * a => long / a,
        _ => short,
    };
    let mut scale = 1.0f64.min(f64::from(limits.max_side) / long);
    if let Some(max) = limits.max_pixels {
        scale = scale.min((max as f64 / (long * short_canvas)).sqrt());
    }
    scale *= extra;
    if short_canvas * scale < f64::from(limits.min_side) {
        scale = f64::from(limits.min_side) / short_canvas;
    }
    let min_short = limits.min_side.max(1);
    // The small epsilon keeps 199 × (200/199) from flooring to 199.
    let mut long_px = ((long * scale + 1e-6).floor() as u32)
        .max(min_short)
        .clamp(1, limits.max_side.max(1));
    let short_for = |long_px: u32| -> u32 {
        let mut s =
            ((short_canvas * f64::from(long_px) / long + 1e-6).floor() as u32).max(min_short);
        if let Some(a) = limits.max_aspect {
            s = s.max(long_px.div_ceil(a));
        }
        s
    };
    let mut short_px = short_for(long_px);
    for _ in 0..100_000 {
        let over_pixels = limits
            .max_pixels
            .is_some_and(|max| u64::from(long_px) * u64::from(short_px) > max);
        if !over_pixels && short_px <= long_px.max(min_short) {
            let content_short =
                ((short * f64::from(long_px) / long + 1e-6).floor() as u32).clamp(1, short_px);
            let (content, canvas) = if w >= h {
                ((long_px, content_short), (long_px, short_px))
            } else {
                ((content_short, long_px), (short_px, long_px))
            };
            return Ok(Plan { content, canvas });
        }
        if long_px <= 1 {
            break;
        }
        long_px -= 1;
        short_px = short_for(long_px);
    }
    Err(format!(
        "cannot fit a {w}×{h} image within the operation's limits"
    ))
}

fn render(img: &DynamicImage, plan: Plan) -> DynamicImage {
    let resized = if (img.width(), img.height()) == plan.content {
        img.clone()
    } else {
        img.resize_exact(plan.content.0, plan.content.1, FilterType::Lanczos3)
    };
    if plan.content == plan.canvas {
        return resized;
    }
    let (cw, ch) = plan.canvas;
    let mut canvas = DynamicImage::new(cw, ch, resized.color());
    let x = (cw - plan.content.0) / 2;
    let y = (ch - plan.content.1) / 2;
    image::imageops::overlay(&mut canvas, &resized, i64::from(x), i64::from(y));
    canvas
}

fn encode(img: &DynamicImage, format: ImageFormat) -> Result<Vec<u8>, String> {
    let mut out = Cursor::new(Vec::new());
    let result = if format == ImageFormat::Jpeg {
        let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 92);
        img.to_rgb8().write_with_encoder(encoder)
    } else {
        img.write_to(&mut out, format)
    };
    result.map_err(|e| format!("cannot encode the fitted image: {e}"))?;
    Ok(out.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(w: u32, h: u32) -> Vec<u8> {
        let img = DynamicImage::new_rgb8(w, h);
        encode(&img, ImageFormat::Png).unwrap()
    }

    fn within(limits: &protocol::Limits, (w, h): (u32, u32)) -> bool {
        let (long, short) = (w.max(h), w.min(h));
        short >= limits.min_side
            && long <= limits.max_side
            && limits
                .max_aspect
                .is_none_or(|a| u64::from(long) <= u64::from(short) * u64::from(a))
            && limits
                .max_pixels
                .is_none_or(|m| u64::from(w) * u64::from(h) <= m)
    }

    #[test]
    fn shrinks_long_sides_and_pads_wide_images() {
        let fitted = fit(&png(5000, 3000), Operation::Dehaze).unwrap();
        let info = protocol::sniff(&fitted).unwrap();
        assert_eq!((info.width, info.height), (4096, 2457));
        let fitted = fit(&png(2000, 300), Operation::ContrastEnhance).unwrap();
        let info = protocol::sniff(&fitted).unwrap();
        assert!(info.width <= 3 * info.height, "{info:?}");
        let fitted = fit(&png(1200, 1000), Operation::ImageQualityEnhance).unwrap();
        let info = protocol::sniff(&fitted).unwrap();
        assert!(u64::from(info.width) * u64::from(info.height) <= 640_000);
    }

    #[test]
    fn every_plan_lands_inside_the_limits() {
        let sides = [
            1, 2, 3, 7, 63, 64, 65, 199, 200, 201, 799, 800, 801, 1365, 1366, 3000, 4095, 4096,
            4097, 8191, 12_000, 16_385, 65_535,
        ];
        for op in Operation::ALL {
            let limits = op.limits();
            for &w in &sides {
                for &h in &sides {
                    for extra in [1.0, 0.8, 0.64] {
                        let plan = plan(w, h, &limits, extra).unwrap();
                        assert!(within(&limits, plan.canvas), "{op} {w}×{h} -> {plan:?}");
                        assert!(
                            plan.content.0 <= plan.canvas.0 && plan.content.1 <= plan.canvas.1,
                            "{op} {w}×{h} -> {plan:?}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn a_12000_by_3000_panorama_fits_contrast() {
        let plan = plan(12_000, 3000, &Operation::ContrastEnhance.limits(), 1.0).unwrap();
        assert_eq!(plan.canvas, (4096, 1366));
        assert_eq!(plan.content, (4096, 1024));
    }

    #[test]
    fn an_image_above_the_pixel_budget_is_refused_from_its_header() {
        // A 20000×20000 PNG header: refused before any pixel is allocated.
        let mut bytes = png(1, 1);
        bytes[16..20].copy_from_slice(&20_000u32.to_be_bytes());
        bytes[20..24].copy_from_slice(&20_000u32.to_be_bytes());
        let err = fit(&bytes, Operation::Dehaze).unwrap_err();
        assert!(err.contains("at most 50 Mpx"), "{err}");
    }
}
