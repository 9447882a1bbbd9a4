//! Results are written in the format their file name says: `-o big.png` of a JPEG input
//! gets PNG bytes, `-o small.jpg` of a PNG gets JPEG. The service answers in its input's
//! format (sky segmentation in PNG), so a result whose name asks for another JPEG, PNG or
//! BMP is re-encoded; a name with no image extension (`-o -`, `-o /dev/null`, `-o result`)
//! gets the bytes as they came, and a name asking for a format bdip cannot write
//! (`-o out.gif`) is refused before anything is sent.

use std::borrow::Cow;
use std::io::Cursor;
use std::path::Path;

use image::ImageFormat;

/// JPEG quality of a re-encoded result: visually lossless, still much smaller than PNG.
const JPEG_QUALITY: u8 = 95;

/// What a result's file name asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wanted {
    /// `.jpg`/`.jpeg`, `.png` or `.bmp`.
    Format(ImageFormat),
    /// No image extension: the bytes as the service sent them.
    AsReceived,
    /// An image format bdip does not write (its name).
    Unsupported(&'static str),
}

/// The format `path`'s extension names.
pub fn wanted(path: &Path) -> Wanted {
    let Some(ext) = path.extension().and_then(|e| e.to_str()) else {
        return Wanted::AsReceived;
    };
    match ext.to_ascii_lowercase().as_str() {
        "jpg" | "jpeg" => Wanted::Format(ImageFormat::Jpeg),
        "png" => Wanted::Format(ImageFormat::Png),
        "bmp" => Wanted::Format(ImageFormat::Bmp),
        "gif" => Wanted::Unsupported("GIF"),
        "webp" => Wanted::Unsupported("WebP"),
        "tif" | "tiff" => Wanted::Unsupported("TIFF"),
        "avif" => Wanted::Unsupported("AVIF"),
        "heic" | "heif" => Wanted::Unsupported("HEIC"),
        _ => Wanted::AsReceived,
    }
}

/// A usage error for a result name whose format bdip cannot write (`what` is the flag).
pub fn check_name(path: &Path, what: &str) -> Result<(), String> {
    match wanted(path) {
        Wanted::Unsupported(format) => Err(format!(
            "{what} {} asks for {format}, which bdip does not write; name the file .jpg, .png or .bmp",
            path.display()
        )),
        Wanted::Format(_) | Wanted::AsReceived => Ok(()),
    }
}

/// `bytes` (an image) in the format `path` asks for; unchanged when it already is, or
/// when the name asks for none.
pub fn for_path<'a>(path: &Path, bytes: &'a [u8]) -> Result<Cow<'a, [u8]>, String> {
    let Wanted::Format(target) = wanted(path) else {
        return Ok(Cow::Borrowed(bytes));
    };
    if image::guess_format(bytes).ok() == Some(target) {
        return Ok(Cow::Borrowed(bytes));
    }
    let decoded = {
        let _turn = crate::fit::one_at_a_time();
        crate::fit::decode_bounded(bytes)?
    };
    encode(&decoded, target).map(Cow::Owned).map_err(|e| {
        format!(
            "cannot convert the result to {target:?} for {}: {e}",
            path.display()
        )
    })
}

fn encode(img: &image::DynamicImage, format: ImageFormat) -> image::ImageResult<Vec<u8>> {
    let mut out = Cursor::new(Vec::new());
    match format {
        // JPEG holds no alpha and no 16-bit samples.
        ImageFormat::Jpeg => {
            let encoder =
                image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, JPEG_QUALITY);
            if img.color().has_color() {
                img.to_rgb8().write_with_encoder(encoder)?;
            } else {
                img.to_luma8().write_with_encoder(encoder)?;
            }
        }
        ImageFormat::Bmp if img.color().has_alpha() => {
            img.to_rgba8().write_to(&mut out, format)?;
        }
        ImageFormat::Bmp => img.to_rgb8().write_to(&mut out, format)?,
        _ => img.write_to(&mut out, format)?,
    }
    Ok(out.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(w: u32, h: u32) -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        image::RgbImage::from_fn(w, h, |x, y| image::Rgb([x as u8, y as u8, 9]))
            .write_to(&mut out, ImageFormat::Png)
            .unwrap();
        out.into_inner()
    }

    #[test]
    fn results_take_the_format_their_name_asks_for() {
        let source = png(20, 10);
        for (name, format) in [
            ("a.jpg", ImageFormat::Jpeg),
            ("a.JPEG", ImageFormat::Jpeg),
            ("a.bmp", ImageFormat::Bmp),
            ("a.png", ImageFormat::Png),
        ] {
            let bytes = for_path(Path::new(name), &source).unwrap();
            assert_eq!(image::guess_format(&bytes).unwrap(), format, "{name}");
            assert_eq!(
                image::load_from_memory(&bytes).unwrap().width(),
                20,
                "{name}"
            );
        }
        for name in ["-", "out", "/dev/null", "a.bin"] {
            assert_eq!(for_path(Path::new(name), &source).unwrap(), &source[..]);
        }
        assert!(
            check_name(Path::new("x.gif"), "-o")
                .unwrap_err()
                .contains("GIF")
        );
        assert!(check_name(Path::new("x.jpeg"), "-o").is_ok());
    }
}
