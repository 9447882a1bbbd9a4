//! Images for tests: real encoded images with structure ([`photo`], [`gradient_png`]),
//! and headers alone ([`png_header`], [`jpeg_header`], [`bmp_header`]) for code that
//! reads only dimensions.

use std::path::Path;

use image::{ImageFormat, Rgb, RgbImage};

/// A `w × h` picture with a gradient in red and green (a blue of 128), so every
/// operation has structure to see.
pub fn gradient(w: u32, h: u32) -> RgbImage {
    RgbImage::from_fn(w, h, |x, y| Rgb([(x % 256) as u8, (y % 256) as u8, 128]))
}

/// [`gradient`] encoded as `format` (PNG, JPEG, BMP).
pub fn photo(w: u32, h: u32, format: ImageFormat) -> Vec<u8> {
    encode(&gradient(w, h), format)
}

/// [`gradient`] encoded as PNG.
pub fn gradient_png(w: u32, h: u32) -> Vec<u8> {
    photo(w, h, ImageFormat::Png)
}

/// A `w × h` image of one colour, encoded as `format`.
pub fn solid(w: u32, h: u32, rgb: [u8; 3], format: ImageFormat) -> Vec<u8> {
    encode(&RgbImage::from_pixel(w, h, Rgb(rgb)), format)
}

/// Writes [`gradient`] to `path`, in the format its extension names.
pub fn write_photo(path: &Path, w: u32, h: u32) {
    gradient(w, h).save(path).unwrap();
}

/// `image` encoded as `format`.
pub fn encode(image: &RgbImage, format: ImageFormat) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    image.write_to(&mut out, format).unwrap();
    out.into_inner()
}

/// A PNG signature and IHDR claiming `width × height` (8-bit RGB), no pixel data:
/// enough for code that reads only the header (validation, the emulator's echo mode).
pub fn png_header(width: u32, height: u32) -> Vec<u8> {
    let mut v = b"\x89PNG\r\n\x1a\n".to_vec();
    v.extend_from_slice(&13u32.to_be_bytes());
    v.extend_from_slice(b"IHDR");
    v.extend_from_slice(&width.to_be_bytes());
    v.extend_from_slice(&height.to_be_bytes());
    v.extend_from_slice(&[8, 2, 0, 0, 0, 0, 0, 0, 0]);
    v
}

/// [`png_header`] padded with filler bytes to `len` bytes (a body of a chosen size).
pub fn fake_png(width: u32, height: u32, len: usize) -> Vec<u8> {
    let mut v = png_header(width, height);
    v.resize(len.max(v.len()), 7);
    v
}

/// A BMP file header and BITMAPINFOHEADER (a negative height means top-down rows).
pub fn bmp_header(width: i32, height: i32) -> Vec<u8> {
    let mut v = b"BM".to_vec();
    v.extend_from_slice(&[0; 12]);
    v.extend_from_slice(&40u32.to_le_bytes());
    v.extend_from_slice(&width.to_le_bytes());
    v.extend_from_slice(&height.to_le_bytes());
    v.extend_from_slice(&[1, 0, 24, 0]);
    v.extend_from_slice(&[0; 24]);
    v
}

/// A JPEG with a JFIF APP0 and an SOF2 segment claiming `width × height`, no scan.
pub fn jpeg_header(width: u16, height: u16) -> Vec<u8> {
    let mut v = vec![0xFF, 0xD8, 0xFF, 0xE0, 0, 16];
    v.extend_from_slice(b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0");
    v.extend_from_slice(&[0xFF, 0xC2, 0, 17, 8]);
    v.extend_from_slice(&height.to_be_bytes());
    v.extend_from_slice(&width.to_be_bytes());
    v.extend_from_slice(&[3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1]);
    v.extend_from_slice(&[0xFF, 0xD9]);
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_images_have_the_asked_size_and_format() {
        for format in [ImageFormat::Png, ImageFormat::Jpeg, ImageFormat::Bmp] {
            let bytes = photo(31, 17, format);
            assert_eq!(image::guess_format(&bytes).unwrap(), format);
            let decoded = image::load_from_memory(&bytes).unwrap();
            assert_eq!((decoded.width(), decoded.height()), (31, 17));
        }
        let header = fake_png(4000, 3000, 500);
        assert_eq!(header.len(), 500);
        assert_eq!(&header[16..24], &[0, 0, 0x0f, 0xa0, 0, 0, 0x0b, 0xb8]);
    }
}
