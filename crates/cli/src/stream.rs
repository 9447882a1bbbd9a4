//! Streaming decodes for `--fit`: a PNG is read row by row from its file and each row goes
//! straight into the [`BoxResampler`], so a 1 GiB panorama costs its output, not its
//! pixels. A JPEG is decoded at 1/2, 1/4 or 1/8 scale when the target allows (the IDCT
//! computes only the low frequencies), so it costs at most the scaled image. The
//! dimensions are checked from the header, before the decoder allocates anything.

use std::io::{BufRead, Read, Seek, SeekFrom};

use image::{DynamicImage, GrayAlphaImage, GrayImage, RgbImage, RgbaImage};

use crate::fit::FitError;
use crate::resample::BoxResampler;

/// Most pixels a streamed image may have (from its header): about 4 minutes of decoding.
pub const STREAM_MAX_PIXELS: u64 = 1_000_000_000;
/// Longest side a streamed image may have: one row of it, 16-bit RGBA, is then 8 MiB.
pub const STREAM_MAX_SIDE: u32 = 1 << 20;
/// Most bytes the PNG decoder allocates (rows and ancillary chunks, never the image).
const PNG_MAX_ALLOC: usize = 256 * 1024 * 1024;
/// Most bytes of the (scaled) image the JPEG decoder returns. The target of any operation
/// is at most 4096 px a side, and the decoder's scale is at most twice that a side, so a
/// 3-channel result stays below 8192² × 3 = 192 MiB; this is the backstop.
const JPEG_MAX_BUFFER: usize = 256 * 1024 * 1024;
/// Most bytes of DCT coefficients a progressive JPEG may need: its scans refine every
/// block of the whole image, which the decoder therefore holds unscaled (2 bytes a
/// coefficient, 64 a block).
const PROGRESSIVE_MAX_COEFFICIENT_BYTES: u64 = 384 * 1024 * 1024;
/// What to do with an image above the streaming cap.
const SHRINK_FIRST: &str = "shrink it with an image editor first";

/// Refuses dimensions beyond what streaming takes.
fn check_dims(w: u32, h: u32, what: &str) -> Result<(), FitError> {
    if w == 0 || h == 0 {
        return Err(FitError::Decode(format!("{what} of {w}×{h} pixels")));
    }
    if u64::from(w) * u64::from(h) > STREAM_MAX_PIXELS || w.max(h) > STREAM_MAX_SIDE {
        return Err(FitError::TooManyPixels {
            width: w,
            height: h,
            max_mpx: STREAM_MAX_PIXELS / 1_000_000,
            what: "a PNG or JPEG",
            hint: SHRINK_FIRST,
        });
    }
    Ok(())
}

/// An interleaved 8-bit image of `channels` samples a pixel.
pub(crate) fn image_from(
    (w, h): (u32, u32),
    channels: usize,
    pixels: Vec<u8>,
) -> Result<DynamicImage, FitError> {
    let short = || FitError::Decode("the resampled image is short of pixels".into());
    Ok(match channels {
        1 => DynamicImage::ImageLuma8(GrayImage::from_raw(w, h, pixels).ok_or_else(short)?),
        2 => DynamicImage::ImageLumaA8(GrayAlphaImage::from_raw(w, h, pixels).ok_or_else(short)?),
        3 => DynamicImage::ImageRgb8(RgbImage::from_raw(w, h, pixels).ok_or_else(short)?),
        _ => DynamicImage::ImageRgba8(RgbaImage::from_raw(w, h, pixels).ok_or_else(short)?),
    })
}

fn png_error(e: png::DecodingError) -> FitError {
    match e {
        png::DecodingError::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            FitError::Decode("the file ends before the image does (truncated?)".into())
        }
        png::DecodingError::LimitsExceeded => FitError::Decode(
            "the PNG needs more memory than --fit allows (a huge ancillary chunk?)".into(),
        ),
        other => FitError::Decode(other.to_string()),
    }
}

/// Decodes the PNG `reader` holds (from its current position) row by row, shrinking it by
/// area averaging to `target(width, height)` (each side at most the source's). Returns the
/// shrunk 8-bit image and the source's size. An interlaced PNG is [`FitError::NotStreamed`]:
/// its passes revisit every row.
pub fn png<R: BufRead + Seek>(
    mut reader: R,
    target: impl FnOnce(u32, u32) -> Result<(u32, u32), FitError>,
) -> Result<(DynamicImage, (u32, u32)), FitError> {
    // The IHDR fields are read raw first: a forged header is refused for its size even
    // when its CRC (which the decoder checks first) is wrong.
    let start = reader.stream_position().map_err(|e| FitError::io(&e))?;
    let mut head = [0u8; 29];
    reader
        .read_exact(&mut head)
        .map_err(|_| FitError::Decode("the file is too short to be a PNG".into()))?;
    if &head[12..16] != b"IHDR" {
        return Err(FitError::Decode("the PNG does not start with IHDR".into()));
    }
    let field =
        |at: usize| u32::from_be_bytes([head[at], head[at + 1], head[at + 2], head[at + 3]]);
    let (w, h) = (field(16), field(20));
    check_dims(w, h, "a PNG")?;
    if head[28] != 0 {
        return Err(FitError::NotStreamed("an interlaced PNG"));
    }
    reader
        .seek(SeekFrom::Start(start))
        .map_err(|e| FitError::io(&e))?;
    let mut decoder = png::Decoder::new_with_limits(
        reader,
        png::Limits {
            bytes: PNG_MAX_ALLOC,
        },
    );
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    decoder.set_ignore_text_chunk(true);
    decoder.set_ignore_iccp_chunk(true);
    let mut rows = decoder.read_info().map_err(png_error)?;
    let info = rows.info();
    if (info.width, info.height) != (w, h) || info.interlaced {
        return Err(FitError::Decode(
            "the PNG header changed under the decoder".into(),
        ));
    }
    let (channels, alpha) = match rows.output_color_type().0 {
        png::ColorType::Grayscale => (1, false),
        png::ColorType::GrayscaleAlpha => (2, true),
        png::ColorType::Rgb => (3, false),
        png::ColorType::Rgba => (4, true),
        png::ColorType::Indexed => {
            return Err(FitError::Decode("a palette PNG was not expanded".into()));
        }
    };
    let out = target(w, h)?;
    let mut resampler = BoxResampler::new((w, h), out, channels, alpha);
    while resampler.rows_left() > 0 {
        match rows.next_row().map_err(png_error)? {
            Some(row) => resampler.push_row(row.data()),
            None => break,
        }
    }
    let size = resampler.out_size();
    let pixels = resampler
        .finish()
        .ok_or_else(|| FitError::Decode("the image data ends early (truncated?)".into()))?;
    Ok((image_from(size, channels, pixels)?, (w, h)))
}

fn jpeg_error(e: jpeg_decoder::Error) -> FitError {
    match e {
        jpeg_decoder::Error::Io(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            FitError::Decode("the file ends before the image does (truncated?)".into())
        }
        // Arithmetic coding, hierarchical frames, 12-bit samples: the whole decode may
        // know them.
        jpeg_decoder::Error::Unsupported(_) => {
            FitError::NotStreamed("a JPEG the scaling decoder does not read")
        }
        other => FitError::Decode(other.to_string()),
    }
}

/// Ink to light: what a CMYK JPEG's pixel looks like on screen.
fn cmyk_to_rgb(cmyk: &[u8], rgb: &mut Vec<u8>) {
    rgb.clear();
    for px in cmyk.chunks_exact(4) {
        let k = 255 - u16::from(px[3]);
        for &ink in &px[..3] {
            rgb.push(((255 - u16::from(ink)) * k / 255) as u8);
        }
    }
}

/// Decodes the JPEG `reader` holds at the smallest DCT scale (1/8, 1/4, 1/2 or 1) whose
/// result is still at least `target(width, height)`, then shrinks that by area averaging
/// to the target (each side at most the source's). Returns the shrunk 8-bit image and the
/// source's size.
pub fn jpeg<R: Read>(
    reader: R,
    target: impl FnOnce(u32, u32) -> Result<(u32, u32), FitError>,
) -> Result<(DynamicImage, (u32, u32)), FitError> {
    let mut decoder = jpeg_decoder::Decoder::new(reader);
    decoder.set_max_decoding_buffer_size(JPEG_MAX_BUFFER);
    decoder.read_info().map_err(jpeg_error)?;
    let info = decoder
        .info()
        .ok_or_else(|| FitError::Decode("the JPEG has no frame header".into()))?;
    let (w, h) = (u32::from(info.width), u32::from(info.height));
    check_dims(w, h, "a JPEG")?;
    let components: u32 = match info.pixel_format {
        jpeg_decoder::PixelFormat::L8 => 1,
        jpeg_decoder::PixelFormat::RGB24 => 3,
        jpeg_decoder::PixelFormat::CMYK32 => 4,
        jpeg_decoder::PixelFormat::L16 => return Err(FitError::NotStreamed("a 16-bit JPEG")),
    };
    if info.coding_process == jpeg_decoder::CodingProcess::DctProgressive
        && u64::from(w) * u64::from(h) * u64::from(components) * 2
            > PROGRESSIVE_MAX_COEFFICIENT_BYTES
    {
        let max = PROGRESSIVE_MAX_COEFFICIENT_BYTES / (u64::from(components) * 2);
        return Err(FitError::TooManyPixels {
            width: w,
            height: h,
            max_mpx: max / 1_000_000,
            what: "a progressive JPEG",
            hint: "re-save it as a baseline JPEG or a PNG (streamed up to 1000 Mpx), or shrink it first",
        });
    }
    let out = target(w, h)?;
    let side = |v: u32| u16::try_from(v).unwrap_or(u16::MAX);
    let (sw, sh) = decoder
        .scale(side(out.0), side(out.1))
        .map_err(jpeg_error)?;
    let (sw, sh) = (u32::from(sw), u32::from(sh));
    // The decoder is fuzzed, but a panic in it must stay a failed image, never a crash.
    let pixels = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| decoder.decode()))
        .map_err(|_| FitError::Decode("the JPEG decoder failed".into()))?
        .map_err(jpeg_error)?;
    let row_len = sw as usize * components as usize;
    if row_len == 0 || pixels.len() < row_len * sh as usize {
        return Err(FitError::Decode(
            "the JPEG decoder returned too few pixels".into(),
        ));
    }
    let channels = if components == 1 { 1 } else { 3 };
    let mut resampler = BoxResampler::new((sw, sh), out, channels, false);
    let mut rgb = Vec::with_capacity(sw as usize * 3);
    for row in pixels.chunks_exact(row_len).take(sh as usize) {
        if components == 4 {
            cmyk_to_rgb(row, &mut rgb);
            resampler.push_row(&rgb);
        } else {
            resampler.push_row(row);
        }
    }
    drop(pixels);
    let size = resampler.out_size();
    let pixels = resampler
        .finish()
        .ok_or_else(|| FitError::Decode("the JPEG has fewer rows than it claims".into()))?;
    Ok((image_from(size, channels, pixels)?, (w, h)))
}
