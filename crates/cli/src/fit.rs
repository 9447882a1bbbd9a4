//! `--fit`: shrink, grow or pad an image until it meets an operation's limits.
//!
//! Bounded in time and memory whatever the file claims. PNG and JPEG are streamed: the
//! header is checked against [`STREAM_MAX_PIXELS`](crate::stream::STREAM_MAX_PIXELS), then
//! rows are decoded and shrunk by area averaging as they come ([`crate::stream`]), so the
//! memory is the output's, whatever the input's size. Other formats (BMP) and interlaced
//! PNGs are decoded whole: their header is checked against [`FIT_MAX_PIXELS`] before any
//! pixel is allocated and decoding runs under `image`'s allocation limits. One image is
//! fitted at a time; the target size is computed before any canvas is made, so padding a
//! 65535×1 strip costs a 4096-wide canvas, not a 65535-wide one.

use std::borrow::Cow;
use std::io::{BufRead, Cursor, Seek};
use std::sync::{Mutex, PoisonError};

use baidu_imageprocess::{Operation, protocol};
use image::{DynamicImage, ImageFormat, ImageReader, imageops::FilterType};

use crate::resample::BoxResampler;
use crate::stream;

/// Most pixels `--fit` decodes whole (BMP, interlaced PNG): about 8000×6000.
pub const FIT_MAX_PIXELS: u64 = 50_000_000;
/// Most bytes one whole decode may allocate (a 50 Mpx 16-bit RGBA image is 400 MB).
const FIT_MAX_ALLOC: u64 = 512 * 1024 * 1024;
/// Most bytes of a file read whole for `--fit` (formats that are not streamed, stdin).
pub const FIT_MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;
/// Most bytes of a PNG or JPEG file `--fit` streams: beyond, the decoding time, not the
/// memory, is what grows.
pub const FIT_MAX_STREAMED_FILE_BYTES: u64 = 4 * 1024 * 1024 * 1024;

/// Why `--fit` could not produce an image.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FitError {
    /// Not a format the API takes.
    #[error("{0} images are not accepted (use JPEG, PNG or BMP)")]
    Unsupported(String),
    /// The header could not be read.
    #[error("cannot read the image: {0}")]
    Header(String),
    /// More pixels than `--fit` decodes, from the header.
    #[error(
        "is {width}×{height} ({:.0} Mpx); --fit handles at most {max_mpx} Mpx of {what}: {hint}",
        *width as f64 * *height as f64 / 1e6
    )]
    TooManyPixels {
        /// Its width.
        width: u32,
        /// Its height.
        height: u32,
        /// The cap, in millions of pixels.
        max_mpx: u64,
        /// The kind of image the cap is for.
        what: &'static str,
        /// What to do.
        hint: &'static str,
    },
    /// Not valid image data (truncated, corrupt).
    #[error("cannot decode the image: {0}")]
    Decode(String),
    /// Cannot be streamed (the caller may decode it whole): what it is.
    #[error("{0} is not streamed")]
    NotStreamed(&'static str),
    /// The fitted image could not be encoded.
    #[error("cannot encode the fitted image: {0}")]
    Encode(String),
    /// No size within the operation's limits was found.
    #[error("{0}")]
    CannotFit(String),
}

impl FitError {
    pub(crate) fn io(e: &std::io::Error) -> Self {
        Self::Decode(format!("cannot read the file: {e}"))
    }
}

/// Callers that report failures as text.
impl From<FitError> for String {
    fn from(e: FitError) -> Self {
        e.to_string()
    }
}

/// Decodes are serialised: several large images at once would multiply peak memory.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// Waits for the turn to decode a large image; the turn lasts as long as the guard.
pub fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(PoisonError::into_inner)
}

fn accepted_format(bytes: &[u8]) -> Result<ImageFormat, FitError> {
    let format = image::guess_format(bytes).map_err(|e| FitError::Header(e.to_string()))?;
    if matches!(
        format,
        ImageFormat::Jpeg | ImageFormat::Png | ImageFormat::Bmp
    ) {
        Ok(format)
    } else {
        Err(FitError::Unsupported(format!("{format:?}")))
    }
}

/// The format of an image that starts with `head`, if `--fit` streams it.
pub fn streamed_format(head: &[u8]) -> Option<ImageFormat> {
    accepted_format(head)
        .ok()
        .filter(|f| matches!(f, ImageFormat::Png | ImageFormat::Jpeg))
}

/// Decodes `bytes` with the header checked against [`FIT_MAX_PIXELS`] first and the
/// decoder's allocations limited.
pub fn decode_bounded(bytes: &[u8]) -> Result<DynamicImage, FitError> {
    let format = accepted_format(bytes)?;
    // The header alone, without the decoder: nothing is allocated for a bomb.
    let info = protocol::sniff(bytes).map_err(|e| FitError::Header(e.to_string()))?;
    let (w, h) = (info.width, info.height);
    if u64::from(w) * u64::from(h) > FIT_MAX_PIXELS {
        let what = match format {
            ImageFormat::Png => "an interlaced PNG",
            ImageFormat::Jpeg => "a JPEG that is not streamed",
            _ => "a BMP",
        };
        return Err(FitError::TooManyPixels {
            width: w,
            height: h,
            max_mpx: FIT_MAX_PIXELS / 1_000_000,
            what,
            hint: "convert it to a PNG or baseline JPEG (streamed up to 1000 Mpx), or shrink it first",
        });
    }
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(w);
    limits.max_image_height = Some(h);
    limits.max_alloc = Some(FIT_MAX_ALLOC);
    reader.limits(limits);
    reader.decode().map_err(|e| FitError::Decode(e.to_string()))
}

/// Returns image bytes that meet `op`'s limits, re-encoded in the same format: PNG and
/// JPEG streamed from `bytes`, other formats decoded whole.
pub fn fit(bytes: &[u8], op: Operation) -> Result<Vec<u8>, FitError> {
    let _turn = one_at_a_time();
    let format = accepted_format(bytes)?;
    if streamed_format(bytes).is_some() {
        match streamed(Cursor::new(bytes), format, op) {
            Err(FitError::NotStreamed(_)) => {}
            done => return done,
        }
    }
    let img = to_8_bit(decode_bounded(bytes)?);
    let size = (img.width(), img.height());
    finish(&img, size, format, op)
}

/// [`fit`] for a PNG or JPEG read from `reader` (a file, buffered) without holding it:
/// [`FitError::NotStreamed`] when it cannot be streamed (an interlaced PNG).
pub fn fit_streamed<R: BufRead + Seek>(
    reader: R,
    format: ImageFormat,
    op: Operation,
) -> Result<Vec<u8>, FitError> {
    let _turn = one_at_a_time();
    streamed(reader, format, op)
}

fn streamed<R: BufRead + Seek>(
    reader: R,
    format: ImageFormat,
    op: Operation,
) -> Result<Vec<u8>, FitError> {
    let limits = op.limits();
    let target = |w, h| plan(w, h, &limits, 1.0).map(|p| p.content);
    let (img, source) = match format {
        ImageFormat::Png => stream::png(reader, target)?,
        ImageFormat::Jpeg => stream::jpeg(reader, target)?,
        _ => return Err(FitError::NotStreamed("an image that is not PNG or JPEG")),
    };
    finish(&img, source, format, op)
}

/// Renders `img` (the image, already shrunk from `source` or not) at the planned size and
/// encodes it; shrinks further (bounded) while the encoded size is over the limit.
fn finish(
    img: &DynamicImage,
    source: (u32, u32),
    format: ImageFormat,
    op: Operation,
) -> Result<Vec<u8>, FitError> {
    let limits = op.limits();
    let mut extra = 1.0f64;
    for _ in 0..6 {
        let plan = plan(source.0, source.1, &limits, extra)?;
        let encoded = encode(&render(img, plan), format)?;
        match protocol::validate(op, &encoded) {
            Ok(_) => return Ok(encoded),
            // Encoded size grows about with the pixel count: aim just under the limit,
            // and shrink by at least a fifth so that six tries always reach it.
            Err(protocol::LimitViolation::TooLarge { base64_len, max }) => {
                let aim = (max as f64 / base64_len.max(1) as f64).sqrt() * 0.95;
                extra *= aim.min(0.8);
            }
            Err(other) => {
                return Err(FitError::CannotFit(format!(
                    "cannot fit the image: {other}"
                )));
            }
        }
    }
    Err(FitError::CannotFit(
        "cannot fit the image under the 4 MiB limit".into(),
    ))
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
fn plan(w: u32, h: u32, limits: &protocol::Limits, extra: f64) -> Result<Plan, FitError> {
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
    Err(FitError::CannotFit(format!(
        "cannot fit a {w}×{h} image within the operation's limits"
    )))
}

/// `img` at `size`: shrunk by area averaging, row by row (no float copy of the whole
/// image, unlike `image`'s filters), or enlarged with Lanczos.
fn resize(img: &DynamicImage, (w, h): (u32, u32)) -> DynamicImage {
    if w > img.width() || h > img.height() {
        return img.resize_exact(w, h, FilterType::Lanczos3);
    }
    let (channels, alpha, samples): (usize, bool, &[u8]) = match img {
        DynamicImage::ImageLuma8(i) => (1, false, i.as_raw()),
        DynamicImage::ImageLumaA8(i) => (2, true, i.as_raw()),
        DynamicImage::ImageRgb8(i) => (3, false, i.as_raw()),
        DynamicImage::ImageRgba8(i) => (4, true, i.as_raw()),
        other => return other.resize_exact(w, h, FilterType::Lanczos3),
    };
    let mut resampler = BoxResampler::new((img.width(), img.height()), (w, h), channels, alpha);
    for row in samples.chunks_exact(img.width() as usize * channels) {
        resampler.push_row(row);
    }
    let size = resampler.out_size();
    match resampler
        .finish()
        .map(|pixels| stream::image_from(size, channels, pixels))
    {
        Some(Ok(shrunk)) => shrunk,
        // Unreachable (every row was pushed); the filter is the fallback, not a panic.
        _ => img.resize_exact(w, h, FilterType::Lanczos3),
    }
}

/// `img` at the plan's size, padded to its canvas; `img` itself when that is what it is
/// already (no copy of a large image).
fn render(img: &DynamicImage, plan: Plan) -> Cow<'_, DynamicImage> {
    let resized = if (img.width(), img.height()) == plan.content {
        Cow::Borrowed(img)
    } else {
        Cow::Owned(resize(img, plan.content))
    };
    if plan.content == plan.canvas {
        return resized;
    }
    let (cw, ch) = plan.canvas;
    let mut canvas = DynamicImage::new(cw, ch, resized.color());
    let x = (cw - plan.content.0) / 2;
    let y = (ch - plan.content.1) / 2;
    image::imageops::overlay(&mut canvas, resized.as_ref(), i64::from(x), i64::from(y));
    Cow::Owned(canvas)
}

fn encode(img: &DynamicImage, format: ImageFormat) -> Result<Vec<u8>, FitError> {
    let mut out = Cursor::new(Vec::new());
    let result = if format == ImageFormat::Jpeg {
        let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 92);
        img.to_rgb8().write_with_encoder(encoder)
    } else {
        img.write_to(&mut out, format)
    };
    result.map_err(|e| FitError::Encode(e.to_string()))?;
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

    /// `fitted`, from a 5000 × 3000 picture, is within dehaze's limits and keeps 5:3.
    fn assert_fits_dehaze_as_5_by_3(fitted: &[u8]) {
        let info = protocol::sniff(fitted).unwrap();
        // Uncompressed: shrunk further, to fit the base64 limit.
        assert!(within(
            &Operation::Dehaze.limits(),
            (info.width, info.height)
        ));
        assert_eq!(info.width * 3 / 5, info.height, "{info:?}");
        protocol::validate(Operation::Dehaze, fitted).unwrap();
    }

    #[test]
    fn shrinks_long_sides_and_pads_wide_images() {
        assert_fits_dehaze_as_5_by_3(&fit(&png(5000, 3000), Operation::Dehaze).unwrap());
        let fitted = fit(&png(2000, 300), Operation::ContrastEnhance).unwrap();
        let info = protocol::sniff(&fitted).unwrap();
        assert!(info.width <= 3 * info.height, "{info:?}");
        let fitted = fit(&png(1200, 1000), Operation::ImageQualityEnhance).unwrap();
        let info = protocol::sniff(&fitted).unwrap();
        assert!(u64::from(info.width) * u64::from(info.height) <= 640_000);
        // A BMP is decoded whole, then shrunk the same way.
        let bmp = encode(&DynamicImage::new_rgb8(5000, 3000), ImageFormat::Bmp).unwrap();
        let fitted = fit(&bmp, Operation::Dehaze).unwrap();
        assert_eq!(image::guess_format(&fitted).unwrap(), ImageFormat::Bmp);
        assert_fits_dehaze_as_5_by_3(&fitted);
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
        // A 40000×40000 PNG header: refused before the decoder sees its (now wrong) CRC.
        let mut bytes = png(1, 1);
        bytes[16..20].copy_from_slice(&40_000u32.to_be_bytes());
        bytes[20..24].copy_from_slice(&40_000u32.to_be_bytes());
        let err = fit(&bytes, Operation::Dehaze).unwrap_err();
        assert!(matches!(err, FitError::TooManyPixels { .. }), "{err}");
        assert!(err.to_string().contains("at most 1000 Mpx"), "{err}");
        // A BMP is decoded whole: its cap is lower and the message says what to do.
        let mut bmp = Vec::new();
        DynamicImage::new_rgb8(1, 1)
            .write_to(&mut Cursor::new(&mut bmp), ImageFormat::Bmp)
            .unwrap();
        bmp[18..22].copy_from_slice(&10_000i32.to_le_bytes());
        bmp[22..26].copy_from_slice(&10_000i32.to_le_bytes());
        let err = fit(&bmp, Operation::Dehaze).unwrap_err().to_string();
        assert!(
            err.contains("at most 50 Mpx") && err.contains("convert it to a PNG"),
            "{err}"
        );
    }

    fn noisy_png(w: u32, h: u32) -> Vec<u8> {
        let mut out = Vec::new();
        let mut encoder = png::Encoder::new(&mut out, w, h);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().unwrap();
        let mut seed = 7u32;
        let data: Vec<u8> = (0..w * h * 3)
            .map(|_| {
                seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                (seed >> 24) as u8
            })
            .collect();
        writer.write_image_data(&data).unwrap();
        writer.finish().unwrap();
        out
    }

    #[test]
    fn a_streamed_png_is_shrunk_inside_the_limits() {
        let bytes = noisy_png(6000, 900);
        let fitted = fit(&bytes, Operation::ContrastEnhance).unwrap();
        let info = protocol::sniff(&fitted).unwrap();
        assert!(within(
            &Operation::ContrastEnhance.limits(),
            (info.width, info.height)
        ));
        protocol::validate(Operation::ContrastEnhance, &fitted).unwrap();
        // An interlaced one (the flag is all streaming looks at first) is left to the
        // whole decode.
        let mut interlaced = bytes.clone();
        interlaced[28] = 1;
        let err = fit_streamed(
            Cursor::new(&interlaced),
            ImageFormat::Png,
            Operation::Dehaze,
        )
        .unwrap_err();
        assert!(matches!(err, FitError::NotStreamed(_)), "{err}");
    }

    #[test]
    fn a_truncated_png_is_a_decode_error() {
        let bytes = noisy_png(3000, 2000);
        // Cut in the header, half way and near the end of the rows (the last bytes are
        // the zlib checksum and IEND: every row is there without them).
        for cut in [40, bytes.len() / 2, bytes.len() * 9 / 10] {
            let result = fit(&bytes[..cut], Operation::Dehaze);
            let Err(err) = result else {
                panic!("a PNG cut at {cut} was fitted");
            };
            assert!(matches!(err, FitError::Decode(_)), "{cut}: {err}");
        }
    }

    fn halves_jpeg(w: u32, h: u32) -> Vec<u8> {
        // Dark left half, bright right half, with a little noise for detail.
        let mut seed = 11u32;
        let img = image::RgbImage::from_fn(w, h, |x, _| {
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let base: u8 = if x < w / 2 { 30 } else { 220 };
            let v = base.wrapping_add((seed >> 28) as u8);
            image::Rgb([v, v, v])
        });
        encode(&DynamicImage::ImageRgb8(img), ImageFormat::Jpeg).unwrap()
    }

    #[test]
    fn a_streamed_jpeg_is_scaled_down_with_its_picture_intact() {
        // 3000×2000 for a 640 000-pixel budget: decoded at 1/2 scale, then averaged.
        let bytes = halves_jpeg(3000, 2000);
        let op = Operation::ImageQualityEnhance;
        let fitted = fit(&bytes, op).unwrap();
        assert_eq!(image::guess_format(&fitted).unwrap(), ImageFormat::Jpeg);
        protocol::validate(op, &fitted).unwrap();
        let img = image::load_from_memory(&fitted).unwrap().to_luma8();
        assert!(
            within(&op.limits(), img.dimensions()),
            "{:?}",
            img.dimensions()
        );
        let (w, h) = img.dimensions();
        let left = img.get_pixel(w / 4, h / 2).0[0];
        let right = img.get_pixel(3 * w / 4, h / 2).0[0];
        assert!(left < 60 && right > 190, "left {left}, right {right}");
        // Streamed from a reader the same way.
        let streamed = fit_streamed(Cursor::new(&bytes), ImageFormat::Jpeg, op).unwrap();
        let dims = |b: &[u8]| protocol::sniff(b).map(|i| (i.width, i.height)).unwrap();
        assert_eq!(dims(&streamed), dims(&fitted));
    }

    #[test]
    fn a_corrupt_or_truncated_jpeg_is_a_decode_error() {
        let bytes = halves_jpeg(2000, 1200);
        for cut in [bytes.len() / 3, bytes.len() - 200] {
            let Err(err) = fit(&bytes[..cut], Operation::Dehaze) else {
                panic!("a JPEG cut at {cut} was fitted");
            };
            assert!(matches!(err, FitError::Decode(_)), "{cut}: {err}");
        }
        // Garbage after a valid header.
        let mut garbage = bytes[..600].to_vec();
        garbage.extend(std::iter::repeat_n(0xFFu8, 5000));
        let Err(err) = fit_streamed(Cursor::new(&garbage), ImageFormat::Jpeg, Operation::Dehaze)
        else {
            panic!("garbage was fitted");
        };
        assert!(matches!(err, FitError::Decode(_)), "{err}");
    }

    #[test]
    fn a_huge_progressive_jpeg_is_refused_from_its_header() {
        let header = baidu_imageprocess_test_support::jpeg_header(20_000, 20_000);
        let Err(err) = fit_streamed(Cursor::new(&header), ImageFormat::Jpeg, Operation::Dehaze)
        else {
            panic!("a 400 Mpx progressive JPEG header was fitted");
        };
        let text = err.to_string();
        assert!(matches!(err, FitError::TooManyPixels { .. }), "{text}");
        assert!(
            text.contains("progressive") && text.contains("baseline"),
            "{text}"
        );
    }
}
