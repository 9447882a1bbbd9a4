//! Checking an image against an operation's limits from its header alone.
//!
//! Nothing here decodes pixels: the format comes from magic bytes and the dimensions from
//! the header, so a PNG that claims 100 000 × 100 000 is rejected in microseconds.

use crate::format::{ImageFormat, ImageInfo};
use crate::operation::Operation;
use crate::violation::LimitViolation;

/// The spec's size cap on the base64 text of an image for its four operations: 4 MiB.
pub const MAX_BASE64_LEN: usize = 4 * 1024 * 1024;

/// Largest reply body any transport accepts: the biggest result (a 10 MiB upload's
/// result, or `sky_seg`'s two maps) as base64, with room to spare. The one definition
/// every transport honours.
pub const MAX_REPLY_BYTES: usize = 32 * 1024 * 1024;

/// The image limits of one operation, from Baidu's request-parameter tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Largest `width × height`, if the operation bounds the pixel count.
    pub max_pixels: Option<u64>,
    /// Smallest allowed shortest side, in pixels.
    pub min_side: u32,
    /// Largest allowed longest side, in pixels.
    pub max_side: u32,
    /// Largest allowed `longest / shortest` ratio, if bounded.
    pub max_aspect: Option<u32>,
    /// Largest base64 text of the image, in bytes.
    pub max_base64_len: usize,
}

impl Limits {
    /// Limits with the given sides, aspect and base64 cap, documented, no pixel cap.
    pub const fn sides(
        min_side: u32,
        max_side: u32,
        max_aspect: Option<u32>,
        max_base64_len: usize,
    ) -> Self {
        Self {
            max_pixels: None,
            min_side,
            max_side,
            max_aspect,
            max_base64_len,
        }
    }

    /// The same limits with a pixel cap.
    #[must_use]
    pub const fn with_max_pixels(mut self, max: u64) -> Self {
        self.max_pixels = Some(max);
        self
    }
}

/// Length of the base64 text (with padding) of `n` bytes.
pub const fn base64_len(n: usize) -> usize {
    n.div_ceil(3).saturating_mul(4)
}

/// Recognises the format from magic bytes and reads the dimensions from the header.
pub fn sniff(bytes: &[u8]) -> Result<ImageInfo, LimitViolation> {
    if bytes.is_empty() {
        return Err(LimitViolation::Empty);
    }
    let format = detect_format(bytes)?;
    let corrupt = LimitViolation::CorruptHeader { format };
    let dimensions = if format == ImageFormat::Bmp {
        bmp_dimensions(bytes)
    } else {
        imagesize::blob_size(bytes)
            .ok()
            .and_then(|s| Some((u32::try_from(s.width).ok()?, u32::try_from(s.height).ok()?)))
    };
    let Some((width, height)) = dimensions else {
        return Err(corrupt);
    };
    if width == 0 || height == 0 {
        return Err(corrupt);
    }
    Ok(ImageInfo {
        format,
        width,
        height,
    })
}

/// BMP dimensions from the DIB header; a negative height means top-down rows.
fn bmp_dimensions(bytes: &[u8]) -> Option<(u32, u32)> {
    let u16_at = |i: usize| Some(u16::from_le_bytes(bytes.get(i..i + 2)?.try_into().ok()?));
    let i32_at = |i: usize| Some(i32::from_le_bytes(bytes.get(i..i + 4)?.try_into().ok()?));
    let header_size = i32_at(14)?;
    if header_size == 12 {
        return Some((u32::from(u16_at(18)?), u32::from(u16_at(20)?)));
    }
    let (width, height) = (i32_at(18)?, i32_at(22)?);
    (width > 0 && height != 0).then(|| (width.unsigned_abs(), height.unsigned_abs()))
}

fn detect_format(bytes: &[u8]) -> Result<ImageFormat, LimitViolation> {
    const OTHERS: &[(&[u8], &str)] = &[
        (b"GIF87a", "GIF"),
        (b"GIF89a", "GIF"),
        (b"II*\0", "TIFF"),
        (b"MM\0*", "TIFF"),
        (b"\0\0\x01\0", "ICO"),
        (b"8BPS", "PSD"),
        (b"%PDF", "PDF"),
    ];
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Ok(ImageFormat::Jpeg);
    }
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Ok(ImageFormat::Png);
    }
    if bytes.starts_with(b"BM") {
        return Ok(ImageFormat::Bmp);
    }
    if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        return Err(LimitViolation::UnsupportedFormat { detected: "WebP" });
    }
    if bytes.len() >= 12 && &bytes[4..8] == b"ftyp" {
        return Err(LimitViolation::UnsupportedFormat {
            detected: "HEIF/AVIF",
        });
    }
    match OTHERS.iter().find(|(magic, _)| bytes.starts_with(magic)) {
        Some((_, name)) => Err(LimitViolation::UnsupportedFormat { detected: name }),
        None => Err(LimitViolation::NotAnImage),
    }
}

/// Checks `width × height` against all of `op`'s dimension limits.
pub fn check_dimensions(op: Operation, width: u32, height: u32) -> Result<(), LimitViolation> {
    check_limits(op, op.limits(), width, height)
}

/// Checks `width × height` against `limits` (reported as `op`'s).
pub(crate) fn check_limits(
    op: Operation,
    limits: Limits,
    width: u32,
    height: u32,
) -> Result<(), LimitViolation> {
    let Limits {
        max_pixels,
        min_side,
        max_side,
        max_aspect,
        ..
    } = limits;
    let (short, long) = (width.min(height), width.max(height));
    if let Some(max) = max_pixels
        && u64::from(width) * u64::from(height) > max
    {
        return Err(LimitViolation::TooManyPixels {
            op,
            width,
            height,
            max,
        });
    }
    if long > max_side {
        return Err(LimitViolation::SideTooLong {
            op,
            side: long,
            max: max_side,
        });
    }
    if short < min_side {
        return Err(LimitViolation::SideTooShort {
            op,
            side: short,
            min: min_side,
        });
    }
    if let Some(max) = max_aspect
        && u64::from(long) > u64::from(short) * u64::from(max)
    {
        return Err(LimitViolation::AspectTooWide {
            op,
            width,
            height,
            max,
        });
    }
    Ok(())
}

/// Checks an image file's bytes against `op`'s limits from its table row: format, base64
/// size, pixel count, sides and aspect ratio, all from the header. Clients, `bdip`'s
/// local engine and the emulator judge every image by this one function, so an image one
/// path accepts is never refused by another.
pub fn validate(op: Operation, bytes: &[u8]) -> Result<ImageInfo, LimitViolation> {
    validate_with(op, op.limits(), bytes)
}

/// Checks `bytes` against `limits`.
pub(crate) fn validate_with(
    op: Operation,
    limits: Limits,
    bytes: &[u8],
) -> Result<ImageInfo, LimitViolation> {
    let info = sniff(bytes)?;
    check_base64_len(bytes.len(), limits.max_base64_len)?;
    check_limits(op, limits, info.width, info.height)?;
    Ok(info)
}

/// Refuses `n` bytes whose base64 text would exceed `max`.
pub(crate) fn check_base64_len(n: usize, max: usize) -> Result<(), LimitViolation> {
    let encoded = base64_len(n);
    if encoded > max {
        return Err(LimitViolation::TooLarge {
            base64_len: encoded,
            max,
        });
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::code::ErrorCode;

    // The headers the sniffer reads, built as every crate's tests build them.
    pub(crate) use baidu_imageprocess_test_support::{bmp_header, jpeg_header, png_header};

    #[test]
    fn sniffs_each_accepted_format() {
        assert_eq!(
            sniff(&png_header(320, 240)),
            Ok(ImageInfo {
                format: ImageFormat::Png,
                width: 320,
                height: 240
            })
        );
        let jpeg = sniff(&jpeg_header(640, 480)).unwrap();
        assert_eq!(
            (jpeg.format, jpeg.width, jpeg.height),
            (ImageFormat::Jpeg, 640, 480)
        );
        let bmp = sniff(&bmp_header(300, -200)).unwrap();
        assert_eq!(
            (bmp.format, bmp.width, bmp.height),
            (ImageFormat::Bmp, 300, 200)
        );
    }

    #[test]
    fn refuses_other_formats_with_216201() {
        for (bytes, detected) in [
            (&b"GIF89a\x01\x00\x01\x00"[..], Some("GIF")),
            (&b"RIFF\0\0\0\0WEBPVP8 "[..], Some("WebP")),
            (&b"hello world"[..], None),
        ] {
            let err = sniff(bytes).unwrap_err();
            assert_eq!(err.code(), ErrorCode::IMAGE_FORMAT_ERROR);
            match detected {
                Some(d) => assert_eq!(err, LimitViolation::UnsupportedFormat { detected: d }),
                None => assert_eq!(err, LimitViolation::NotAnImage),
            }
        }
        assert_eq!(sniff(&[]), Err(LimitViolation::Empty));
        assert_eq!(LimitViolation::Empty.code(), ErrorCode::EMPTY_IMAGE);
    }

    #[test]
    fn truncated_headers_are_corrupt_not_panics() {
        let full = png_header(10, 10);
        // The dimensions end at byte 24; anything shorter cannot be judged.
        for n in 1..24 {
            let r = sniff(&full[..n]);
            assert!(r.is_err(), "prefix of {n} bytes accepted");
        }
        assert_eq!(
            sniff(&png_header(0, 10)),
            Err(LimitViolation::CorruptHeader {
                format: ImageFormat::Png
            })
        );
    }

    #[test]
    fn huge_claimed_dimensions_rejected_from_header() {
        let err = validate(Operation::Dehaze, &png_header(100_000, 100_000)).unwrap_err();
        assert_eq!(err.code(), ErrorCode::IMAGE_SIZE_ERROR);
        assert!(matches!(
            err,
            LimitViolation::SideTooLong { side: 100_000, .. }
        ));
    }

    /// (op, width, height, ok?) at and one past every bound of the spec's table.
    #[test]
    fn every_limit_edge() {
        use Operation::*;
        let cases = [
            (ImageQualityEnhance, 800, 800, true),
            (ImageQualityEnhance, 801, 800, false),
            (ImageQualityEnhance, 1600, 400, true),
            (ImageQualityEnhance, 1601, 400, false),
            (ImageQualityEnhance, 1, 1, true),
            (Dehaze, 200, 200, true),
            (Dehaze, 199, 300, false),
            (Dehaze, 4096, 2000, true),
            (Dehaze, 4097, 2000, false),
            (Dehaze, 600, 200, true),
            (Dehaze, 601, 200, false),
            (Dehaze, 200, 601, false),
            (ContrastEnhance, 64, 64, true),
            (ContrastEnhance, 63, 64, false),
            (ContrastEnhance, 4096, 1366, true),
            (ContrastEnhance, 4097, 1366, false),
            (ContrastEnhance, 192, 64, true),
            (ContrastEnhance, 193, 64, false),
            (Colourize, 64, 64, true),
            (Colourize, 64, 63, false),
            (Colourize, 800, 267, true),
            (Colourize, 801, 400, false),
            (Colourize, 192, 64, true),
            (Colourize, 193, 64, false),
        ];
        for (op, w, h, ok) in cases {
            let r = check_dimensions(op, w, h);
            assert_eq!(r.is_ok(), ok, "{op} {w}x{h}: {r:?}");
            if let Err(e) = r {
                assert_eq!(e.code(), ErrorCode::IMAGE_SIZE_ERROR);
            }
        }
    }

    #[test]
    fn base64_size_cap_at_the_edge() {
        // 3 145 728 bytes encode to exactly 4 MiB; one more byte goes over.
        assert_eq!(base64_len(3 * 1024 * 1024), 4 * 1024 * 1024);
        let mut at = png_header(320, 240);
        at.resize(3 * 1024 * 1024, 0);
        assert!(validate(Operation::Dehaze, &at).is_ok());
        at.push(0);
        assert!(matches!(
            validate(Operation::Dehaze, &at),
            Err(LimitViolation::TooLarge { .. })
        ));
    }

    #[test]
    fn messages_say_what_to_do() {
        let e = check_dimensions(Operation::Dehaze, 5000, 3000).unwrap_err();
        assert_eq!(
            e.to_string(),
            "longest side 5000 px exceeds 4096 px for dehaze: shrink the image"
        );
    }
}
