//! Decoding inputs (JPEG, PNG, BMP) safely and encoding results in the input's format.

pub(crate) mod jpeg;
pub mod jpeg_quality;

use std::io::Cursor;

use image::{DynamicImage, GrayImage, ImageDecoder as _, ImageFormat, ImageReader, RgbImage};

use crate::EngineError;

/// Largest side the engine decodes: the longest side any operation's table row admits.
/// Most rows stop at 4096 px a side, but `image_quality_enhance` bounds only the pixel
/// count (800 × 800), so a 640 000 × 1 image is within the API's limits. (A test in the
/// emulator, which sees both the table and the engine, checks this against the table.)
pub const MAX_SIDE: u32 = 640_000;
/// Largest pixel count the engine decodes.
pub const MAX_PIXELS: u64 = 64 * 1024 * 1024;
/// JPEG quality of results.
const JPEG_QUALITY: u8 = 92;

/// A decoded input.
pub(crate) struct Decoded {
    pub rgb: RgbImage,
    pub alpha: Option<GrayImage>,
    pub format: ImageFormat,
    pub grey: bool,
    /// For a JPEG, the libjpeg quality its luminance table corresponds to.
    pub jpeg_quality: Option<u8>,
}

/// Decodes `bytes`, checking the dimensions from the header before allocating pixels,
/// and applies the EXIF orientation.
pub(crate) fn decode(bytes: &[u8]) -> Result<Decoded, EngineError> {
    if bytes.is_empty() {
        return Err(EngineError::Decode("empty input".into()));
    }
    let format = image::guess_format(bytes)
        .map_err(|_| EngineError::Unsupported("unrecognised format".into()))?;
    if !matches!(
        format,
        ImageFormat::Jpeg | ImageFormat::Png | ImageFormat::Bmp
    ) {
        return Err(EngineError::Unsupported(format!(
            "{format:?} (use JPEG, PNG or BMP)"
        )));
    }
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    // The sides are checked below from the header, to answer `TooLarge` rather than a
    // decoder error; the allocation cap stays as a backstop.
    let mut limits = image::Limits::default();
    limits.max_alloc = Some(MAX_PIXELS * 8);
    reader.limits(limits);
    let mut decoder = reader
        .into_decoder()
        .map_err(|e| EngineError::Decode(e.to_string()))?;
    let (w, h) = decoder.dimensions();
    if w == 0 || h == 0 || w > MAX_SIDE || h > MAX_SIDE || u64::from(w) * u64::from(h) > MAX_PIXELS
    {
        return Err(EngineError::TooLarge {
            width: w,
            height: h,
        });
    }
    let orientation = decoder.orientation().ok();
    let mut img =
        DynamicImage::from_decoder(decoder).map_err(|e| EngineError::Decode(e.to_string()))?;
    if let Some(o) = orientation {
        img.apply_orientation(o);
    }
    let color = img.color();
    let alpha = color.has_alpha().then(|| {
        let rgba = img.to_rgba8();
        GrayImage::from_fn(rgba.width(), rgba.height(), |x, y| {
            image::Luma([rgba.get_pixel(x, y).0[3]])
        })
    });
    Ok(Decoded {
        // No copy when the decoder already produced 8-bit RGB (every colour JPEG).
        rgb: img.into_rgb8(),
        alpha,
        format,
        grey: !color.has_color(),
        jpeg_quality: if format == ImageFormat::Jpeg {
            crate::codec::jpeg_quality::estimated_quality(bytes)
        } else {
            None
        },
    })
}

/// The luminance of `rgb`, as `image`'s greyscale conversion computes it, without copying
/// the colour image first.
pub(crate) fn luma(rgb: &RgbImage) -> GrayImage {
    image::imageops::grayscale(rgb)
}

/// Encodes `rgb` (and `alpha`, where the format has one) as `format`; grey stays grey.
pub(crate) fn encode(
    rgb: RgbImage,
    alpha: Option<&GrayImage>,
    format: ImageFormat,
    grey: bool,
) -> Result<Vec<u8>, EngineError> {
    let mut out = Cursor::new(Vec::new());
    let img = match (alpha, grey) {
        (Some(a), _) if format != ImageFormat::Jpeg => {
            let mut rgba = DynamicImage::ImageRgb8(rgb).to_rgba8();
            for (p, a) in rgba.pixels_mut().zip(a.pixels()) {
                p.0[3] = a.0[0];
            }
            DynamicImage::ImageRgba8(rgba)
        }
        (_, true) => DynamicImage::ImageLuma8(DynamicImage::ImageRgb8(rgb).to_luma8()),
        _ => DynamicImage::ImageRgb8(rgb),
    };
    if format == ImageFormat::Jpeg {
        return encode_jpeg(&img);
    }
    img.write_to(&mut out, format)
        .map_err(|e| EngineError::Encode(e.to_string()))?;
    Ok(out.into_inner())
}

/// Encodes `rgb` as the engine's JPEG output (for the benchmarks).
#[cfg(feature = "training")]
pub fn encode_jpeg_rgb(rgb: &RgbImage) -> Result<Vec<u8>, EngineError> {
    jpeg::encode(
        jpeg::Pixels::Rgb(rgb.as_raw()),
        rgb.width(),
        rgb.height(),
        JPEG_QUALITY,
    )
    .map_err(|e| EngineError::Encode(e.0))
}

/// JPEG at [`JPEG_QUALITY`] with the engine's own baseline encoder (libjpeg's default
/// tables and 4:2:0 chroma; see [`crate::codec::jpeg`]).
fn encode_jpeg(img: &DynamicImage) -> Result<Vec<u8>, EngineError> {
    let (w, h) = (img.width(), img.height());
    let result = match img {
        DynamicImage::ImageLuma8(g) => {
            jpeg::encode(jpeg::Pixels::Grey(g.as_raw()), w, h, JPEG_QUALITY)
        }
        DynamicImage::ImageRgb8(rgb) => {
            jpeg::encode(jpeg::Pixels::Rgb(rgb.as_raw()), w, h, JPEG_QUALITY)
        }
        other => {
            let rgb = other.to_rgb8();
            jpeg::encode(jpeg::Pixels::Rgb(rgb.as_raw()), w, h, JPEG_QUALITY)
        }
    };
    result.map_err(|e| EngineError::Encode(e.0))
}

/// Encodes a single-channel mask as 8-bit greyscale PNG.
pub(crate) fn encode_grey_png(mask: &GrayImage) -> Result<Vec<u8>, EngineError> {
    let mut out = Cursor::new(Vec::new());
    mask.write_to(&mut out, ImageFormat::Png)
        .map_err(|e| EngineError::Encode(e.to_string()))?;
    Ok(out.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_jpeg_input_carries_its_quality_and_other_formats_none() {
        let img = RgbImage::from_fn(24, 16, |x, y| {
            image::Rgb([(x * 9) as u8, (y * 13) as u8, 70])
        });
        let jpeg =
            crate::codec::jpeg::encode(crate::codec::jpeg::Pixels::Rgb(img.as_raw()), 24, 16, 70)
                .unwrap();
        assert_eq!(decode(&jpeg).unwrap().jpeg_quality, Some(70));
        let mut png = Cursor::new(Vec::new());
        img.write_to(&mut png, ImageFormat::Png).unwrap();
        assert_eq!(decode(png.get_ref()).unwrap().jpeg_quality, None);
    }

    fn png(width: u32, height: u32) -> Vec<u8> {
        let img = RgbImage::from_fn(width, height, |x, y| {
            image::Rgb([(x % 251) as u8, (y * 40) as u8, 90])
        });
        let mut png = Cursor::new(Vec::new());
        img.write_to(&mut png, ImageFormat::Png).unwrap();
        png.into_inner()
    }

    /// Enhance bounds only the pixel count, so a 16385 × 2 image is within the API's
    /// limits: it decodes (an earlier decoder stopped at 16384 a side).
    #[test]
    fn a_side_past_16384_within_the_limits_decodes() {
        let decoded = decode(&png(16_385, 2)).unwrap();
        assert_eq!(decoded.rgb.dimensions(), (16_385, 2));
    }
}
