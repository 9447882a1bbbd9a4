//! How hard a JPEG file was compressed, read from its header: the libjpeg quality whose
//! scaled luminance table is nearest the file's. The decoded pixels only hint at this (a
//! busy photo hides its 8 × 8 grid, a smooth one shows it at any quality); the table says
//! it outright. Encoders with tables of their own (cameras, some editors) get the
//! libjpeg quality that quantises about as coarsely.

use crate::codec::jpeg::{LUMA_QUANT, ZIGZAG, scaled_table};

/// The libjpeg-equivalent quality (1–100) of the JPEG in `bytes`, or `None` when `bytes`
/// is not a JPEG or its header holds no usable luminance table before the first scan.
/// Reads only the header's marker segments; never panics on any input.
pub fn estimated_quality(bytes: &[u8]) -> Option<u8> {
    let table = luma_table(bytes)?;
    (1..=100u8).min_by_key(|&q| {
        let reference = scaled_table(&LUMA_QUANT, q);
        ZIGZAG
            .iter()
            .zip(&table)
            .map(|(&natural, &value)| u32::from(reference[natural]).abs_diff(u32::from(value)))
            .sum::<u32>()
    })
}

/// The quantisation table (zigzag order) of the frame's first component, which is the
/// luma of a YCbCr or greyscale JPEG.
fn luma_table(bytes: &[u8]) -> Option<[u16; 64]> {
    let mut tables: [Option<[u16; 64]>; 4] = [None; 4];
    let mut luma_id = None;
    for (marker, payload) in segments(bytes)? {
        match marker {
            0xDB => read_tables(payload, &mut tables)?,
            // Start of frame: every 0xC0–0xCF but DHT (C4), JPG (C8) and DAC (CC).
            0xC0..=0xCF if !matches!(marker, 0xC4 | 0xC8 | 0xCC) => {
                // precision, height, width, component count, then (id, sampling, table).
                luma_id = payload.get(8).map(|&t| usize::from(t & 0x0F));
            }
            _ => {}
        }
    }
    tables.get(luma_id.unwrap_or(0)).copied().flatten()
}

/// Reads every table of one DQT segment into `tables` (by destination id).
fn read_tables(mut payload: &[u8], tables: &mut [Option<[u16; 64]>; 4]) -> Option<()> {
    while let Some((&head, rest)) = payload.split_first() {
        let wide = head >> 4 == 1;
        let id = usize::from(head & 0x0F);
        let size = if wide { 128 } else { 64 };
        let body = rest.get(..size)?;
        let mut table = [0u16; 64];
        for (i, value) in table.iter_mut().enumerate() {
            *value = if wide {
                u16::from_be_bytes([body[2 * i], body[2 * i + 1]])
            } else {
                u16::from(body[i])
            };
        }
        *tables.get_mut(id)? = Some(table);
        payload = &rest[size..];
    }
    Some(())
}

/// The header's marker segments, `(marker, payload)`, up to the first scan; `None` when
/// `bytes` does not start as a JPEG. Lazy, so a file of many tiny segments costs no memory.
fn segments(bytes: &[u8]) -> Option<Segments<'_>> {
    bytes
        .strip_prefix(&[0xFF, 0xD8])
        .map(|rest| Segments { rest })
}

/// Iterator of [`segments`].
struct Segments<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Segments<'a> {
    type Item = (u8, &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            // Fill bytes (0xFF runs) may precede a marker.
            let skip = self.rest.iter().take_while(|&&b| b == 0xFF).count();
            if skip == 0 {
                return None;
            }
            let (&marker, after) = self.rest[skip..].split_first()?;
            // Markers without a length: TEM and the restart markers.
            if marker == 0x01 || (0xD0..=0xD7).contains(&marker) {
                self.rest = after;
                continue;
            }
            // The first scan (or the end of the image) ends the header.
            if marker == 0xDA || marker == 0xD9 {
                self.rest = &[];
                return None;
            }
            let [hi, lo, ..] = *after else {
                return None;
            };
            let length = usize::from(u16::from_be_bytes([hi, lo])).max(2);
            let payload = after.get(2..length)?;
            self.rest = &after[length..];
            return Some((marker, payload));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn photo_like(w: u32, h: u32) -> image::RgbImage {
        image::RgbImage::from_fn(w, h, |x, y| {
            image::Rgb([
                (x * 5 % 256) as u8,
                (y * 3 % 256) as u8,
                ((x ^ y) % 256) as u8,
            ])
        })
    }

    fn encoded_by_image_crate(img: &image::RgbImage, quality: u8) -> Vec<u8> {
        let mut out = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality)
            .encode_image(img)
            .unwrap();
        out
    }

    #[test]
    fn reads_the_quality_of_libjpeg_style_tables() {
        let img = photo_like(40, 24);
        for quality in [10u8, 50, 75, 80, 90, 92, 95, 100] {
            let ours = crate::codec::jpeg::encode(
                crate::codec::jpeg::Pixels::Rgb(img.as_raw()),
                40,
                24,
                quality,
            )
            .unwrap();
            assert_eq!(estimated_quality(&ours), Some(quality), "our encoder");
            let theirs = encoded_by_image_crate(&img, quality);
            let estimate = estimated_quality(&theirs).unwrap();
            assert!(
                estimate.abs_diff(quality) <= 1,
                "image crate at {quality}: {estimate}"
            );
        }
    }

    #[test]
    fn sixteen_bit_tables_and_the_frames_own_table_id_are_followed() {
        // A header by hand: table 1 is q50's luma in 16 bits, table 0 is junk, and the
        // frame's one component uses table 1.
        let mut bytes = vec![0xFF, 0xD8, 0xFF, 0xFF, 0xDB];
        let q50 = scaled_table(&LUMA_QUANT, 50);
        let mut dqt = vec![0x00];
        dqt.extend([1u8; 64]);
        dqt.push(0x11);
        for &n in &ZIGZAG {
            dqt.extend_from_slice(&q50[n].to_be_bytes());
        }
        bytes.extend_from_slice(&((dqt.len() + 2) as u16).to_be_bytes());
        bytes.extend_from_slice(&dqt);
        bytes.extend_from_slice(&[0xFF, 0xC0, 0, 11, 8, 0, 8, 0, 8, 1, 1, 0x11, 1]);
        bytes.extend_from_slice(&[0xFF, 0xDA, 0, 2]);
        assert_eq!(estimated_quality(&bytes), Some(50));
    }

    #[test]
    fn not_a_jpeg_or_no_table_is_none() {
        assert_eq!(estimated_quality(b""), None);
        assert_eq!(estimated_quality(b"\x89PNG\r\n\x1a\n"), None);
        assert_eq!(estimated_quality(&[0xFF, 0xD8]), None);
        assert_eq!(estimated_quality(&[0xFF, 0xD8, 0xFF, 0xDB, 0, 67, 0]), None);
        let full = encoded_by_image_crate(&photo_like(16, 16), 80);
        for cut in [3, 10, 25, 60] {
            assert_eq!(estimated_quality(&full[..cut]), None, "cut at {cut}");
        }
    }

    proptest! {
        #[test]
        fn any_bytes_after_a_jpeg_start_never_panic(tail in proptest::collection::vec(any::<u8>(), 0..300)) {
            let mut bytes = vec![0xFF, 0xD8];
            bytes.extend(tail);
            let _ = estimated_quality(&bytes);
        }
    }
}
