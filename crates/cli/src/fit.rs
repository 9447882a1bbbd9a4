//! `--fit`: shrink, grow or pad an image until it meets an operation's limits.

use std::io::Cursor;

use baidu_imageprocess::{Operation, protocol};
use image::{DynamicImage, GenericImageView, ImageFormat, imageops::FilterType};

/// Returns image bytes that meet `op`'s limits, re-encoded in the same format.
pub fn fit(bytes: &[u8], op: Operation) -> Result<Vec<u8>, String> {
    let format = image::guess_format(bytes).map_err(|e| format!("cannot read the image: {e}"))?;
    let mut img =
        image::load_from_memory(bytes).map_err(|e| format!("cannot decode the image: {e}"))?;
    let limits = op.limits();
    if let Some(max) = limits.max_aspect {
        img = pad_to_aspect(&img, max);
    }
    let (w, h) = img.dimensions();
    let mut scale = 1.0f64;
    if let Some(max) = limits.max_pixels {
        scale = scale.min((max as f64 / (f64::from(w) * f64::from(h))).sqrt());
    }
    scale = scale.min(f64::from(limits.max_side) / f64::from(w.max(h)));
    if f64::from(w.min(h)) * scale < f64::from(limits.min_side) {
        scale = f64::from(limits.min_side) / f64::from(w.min(h));
    }
    // Encoded size also counts: shrink further (bounded) until the base64 fits.
    for _ in 0..6 {
        let resized = if (scale - 1.0).abs() > 1e-9 {
            let nw = ((f64::from(w) * scale).floor() as u32).max(1);
            let nh = ((f64::from(h) * scale).floor() as u32).max(1);
            img.resize_exact(nw, nh, FilterType::Lanczos3)
        } else {
            img.clone()
        };
        let encoded = encode(&resized, format)?;
        match protocol::validate(op, &encoded) {
            Ok(_) => return Ok(encoded),
            Err(protocol::LimitViolation::TooLarge { .. }) => scale *= 0.8,
            Err(other) => return Err(format!("cannot fit the image: {other}")),
        }
    }
    Err("cannot fit the image under the 4 MiB limit".into())
}

fn pad_to_aspect(img: &DynamicImage, max: u32) -> DynamicImage {
    let (w, h) = img.dimensions();
    let (long, short) = (w.max(h), w.min(h));
    if u64::from(long) <= u64::from(short) * u64::from(max) {
        return img.clone();
    }
    let needed = long.div_ceil(max);
    let (nw, nh) = if w >= h { (w, needed) } else { (needed, h) };
    let mut canvas = DynamicImage::new(nw, nh, img.color());
    let (x, y) = ((nw - w) / 2, (nh - h) / 2);
    image::imageops::overlay(&mut canvas, img, i64::from(x), i64::from(y));
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
}
