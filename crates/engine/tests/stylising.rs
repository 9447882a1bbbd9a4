//! The stylising operations through the public entry point: every style, anime mask,
//! preset and style image on any size, aspect and pixel format; the same bytes on any
//! thread count; styles that differ from each other.

use baidu_imageprocess_engine::{Engine, PRESETS};
use baidu_imageprocess_protocol::{AnimeMask, CustomStyle, Params, Style, StyleId};
use image::{DynamicImage, ImageFormat, RgbImage};
use proptest::prelude::*;

fn encode(img: &DynamicImage, format: ImageFormat) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, format).unwrap();
    out.into_inner()
}

/// A photo-like test picture: a sky gradient over a textured ground, a disc for a face.
fn picture(w: u32, h: u32) -> RgbImage {
    RgbImage::from_fn(w, h, |x, y| {
        let (fx, fy) = (x as f32 / w as f32, y as f32 / h as f32);
        let d = ((fx - 0.5).powi(2) + (fy - 0.5).powi(2)).sqrt();
        if d < 0.18 {
            image::Rgb([220, 170, 140])
        } else if fy < 0.45 {
            image::Rgb([(90.0 + 100.0 * fy) as u8, (140.0 + 60.0 * fy) as u8, 235])
        } else {
            let t = ((x * 7 + y * 13) % 17) as u8;
            image::Rgb([70 + 3 * t, 110 + 2 * t, 40 + t])
        }
    })
}

/// Every stylising request, the style image encoded in `style_png`.
fn requests(style_png: &[u8]) -> Vec<Params<'_>> {
    let mut out: Vec<Params<'_>> = Style::ALL.iter().map(|s| Params::StyleTrans(*s)).collect();
    out.push(Params::SelfieAnime { mask: None });
    out.extend((1..=8).map(|m| Params::SelfieAnime {
        mask: Some(AnimeMask::new(m).unwrap()),
    }));
    out.extend(
        (0..30)
            .map(|id| Params::CustomizeStylization(CustomStyle::Preset(StyleId::new(id).unwrap()))),
    );
    out.push(Params::CustomizeStylization(CustomStyle::Image(
        style_png.into(),
    )));
    out.push(Params::SkySeg);
    out
}

fn style_png() -> Vec<u8> {
    let style = RgbImage::from_fn(90, 60, |x, y| {
        image::Rgb([(200 + x / 2) as u8, (80 + y) as u8, (30 + x) as u8])
    });
    encode(&DynamicImage::ImageRgb8(style), ImageFormat::Png)
}

fn decoded_size(bytes: &[u8]) -> (u32, u32) {
    let img = image::load_from_memory(bytes).unwrap();
    (img.width(), img.height())
}

#[test]
fn every_request_keeps_size_and_format() {
    let engine = Engine::new();
    let style = style_png();
    let rgb = DynamicImage::ImageRgb8(picture(97, 61));
    for format in [ImageFormat::Png, ImageFormat::Jpeg, ImageFormat::Bmp] {
        let input = encode(&rgb, format);
        for request in requests(&style) {
            let out = engine.process(&request, &input).unwrap();
            assert_eq!(decoded_size(&out.image), (97, 61), "{request:?}");
            if request == Params::SkySeg {
                assert_eq!(image::guess_format(&out.image).unwrap(), ImageFormat::Png);
                assert_eq!(decoded_size(&out.scoremap.unwrap()), (97, 61));
            } else {
                assert_eq!(
                    image::guess_format(&out.image).unwrap(),
                    format,
                    "{request:?}"
                );
            }
        }
    }
}

#[test]
fn grey_rgba_and_palette_inputs() {
    let engine = Engine::new();
    let style = style_png();
    let base = picture(64, 80);
    let grey = encode(
        &DynamicImage::ImageRgb8(base.clone()).grayscale(),
        ImageFormat::Png,
    );
    let rgba = encode(
        &DynamicImage::ImageRgba8(image::RgbaImage::from_fn(64, 80, |x, y| {
            let p = base.get_pixel(x, y).0;
            image::Rgba([p[0], p[1], p[2], (x * 4) as u8])
        })),
        ImageFormat::Png,
    );
    // `image` cannot write indexed PNGs, so a minimal one is built by hand.
    let palette = palette_png(64, 80);
    for request in requests(&style) {
        for (name, input) in [("grey", &grey), ("rgba", &rgba), ("palette", &palette)] {
            let out = engine
                .process(&request, input)
                .unwrap_or_else(|e| panic!("{name} {request:?}: {e}"));
            assert_eq!(decoded_size(&out.image), (64, 80), "{name} {request:?}");
            if name == "rgba" && request != Params::SkySeg {
                let img = image::load_from_memory(&out.image).unwrap();
                assert!(img.color().has_alpha(), "{request:?} lost the alpha");
            }
        }
    }
}

/// A 2-bit indexed-colour PNG (colour type 3) of `w × h`, stripes of four colours.
fn palette_png(w: u32, h: u32) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut encoder = png_encoder(&mut out, w, h);
        let mut data = Vec::new();
        for y in 0..h {
            data.push(0u8); // filter: none
            for x in 0..w {
                data.push(((x / 8 + y / 10) % 4) as u8);
            }
        }
        encoder(&data);
    }
    out
}

/// Minimal PNG writer for an 8-bit indexed image (stored, uncompressed deflate blocks).
fn png_encoder(out: &mut Vec<u8>, w: u32, h: u32) -> impl FnMut(&[u8]) + '_ {
    fn crc(bytes: &[u8]) -> u32 {
        let mut c = 0xFFFF_FFFFu32;
        for &b in bytes {
            c ^= u32::from(b);
            for _ in 0..8 {
                c = if c & 1 == 1 {
                    0xEDB8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                };
            }
        }
        !c
    }
    fn chunk(out: &mut Vec<u8>, kind: &[u8], data: &[u8]) {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let mut body = kind.to_vec();
        body.extend_from_slice(data);
        out.extend_from_slice(&body);
        out.extend_from_slice(&crc(&body).to_be_bytes());
    }
    move |raw: &[u8]| {
        out.extend_from_slice(b"\x89PNG\r\n\x1a\n");
        let mut ihdr = Vec::new();
        ihdr.extend_from_slice(&w.to_be_bytes());
        ihdr.extend_from_slice(&h.to_be_bytes());
        ihdr.extend_from_slice(&[8, 3, 0, 0, 0]);
        chunk(out, b"IHDR", &ihdr);
        chunk(
            out,
            b"PLTE",
            &[250, 240, 220, 30, 60, 120, 200, 60, 40, 90, 160, 80],
        );
        // zlib stream of stored blocks.
        let mut z = vec![0x78, 0x01];
        let blocks: Vec<&[u8]> = raw.chunks(65_535).collect();
        for (k, block) in blocks.iter().enumerate() {
            z.push(u8::from(k + 1 == blocks.len()));
            let len = block.len() as u16;
            z.extend_from_slice(&len.to_le_bytes());
            z.extend_from_slice(&(!len).to_le_bytes());
            z.extend_from_slice(block);
        }
        let (mut a, mut b) = (1u32, 0u32);
        for &byte in raw {
            a = (a + u32::from(byte)) % 65_521;
            b = (b + a) % 65_521;
        }
        z.extend_from_slice(&((b << 16) | a).to_be_bytes());
        chunk(out, b"IDAT", &z);
        chunk(out, b"IEND", &[]);
    }
}

#[test]
fn the_palette_png_really_is_indexed() {
    let bytes = palette_png(10, 10);
    let decoder = image::codecs::png::PngDecoder::new(std::io::Cursor::new(&bytes)).unwrap();
    assert_eq!(image::ImageDecoder::dimensions(&decoder), (10, 10));
    assert_eq!(bytes[25], 3, "colour type");
}

#[test]
fn same_bytes_on_any_thread_count() {
    let style = style_png();
    let input = encode(
        &DynamicImage::ImageRgb8(picture(203, 117)),
        ImageFormat::Png,
    );
    let run = |threads: usize| -> Vec<Vec<u8>> {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            let engine = Engine::new();
            requests(&style)
                .iter()
                .map(|r| {
                    let out = engine.process(r, &input).unwrap();
                    let mut bytes = out.image;
                    bytes.extend(out.scoremap.unwrap_or_default());
                    bytes
                })
                .collect()
        })
    };
    let one = run(1);
    for threads in [2, 3, 8] {
        let many = run(threads);
        for (k, (a, b)) in one.iter().zip(&many).enumerate() {
            assert!(a == b, "request {k} differs on {threads} threads");
        }
    }
}

/// Mean absolute difference per sample of two same-sized images.
fn distance(a: &RgbImage, b: &RgbImage) -> f64 {
    let sum: u64 = a
        .as_raw()
        .iter()
        .zip(b.as_raw())
        .map(|(p, q)| u64::from(p.abs_diff(*q)))
        .sum();
    sum as f64 / a.as_raw().len() as f64
}

#[test]
fn the_nine_styles_differ_from_the_photo_and_each_other() {
    let engine = Engine::new();
    let photo = picture(160, 120);
    let input = encode(&DynamicImage::ImageRgb8(photo.clone()), ImageFormat::Png);
    let outs: Vec<RgbImage> = Style::ALL
        .iter()
        .map(|s| {
            let out = engine.process(&Params::StyleTrans(*s), &input).unwrap();
            image::load_from_memory(&out.image).unwrap().to_rgb8()
        })
        .collect();
    for (i, a) in outs.iter().enumerate() {
        assert!(
            distance(a, &photo) > 8.0,
            "{:?} is too close to the photo",
            Style::ALL[i]
        );
        for (j, b) in outs.iter().enumerate().skip(i + 1) {
            let d = distance(a, b);
            assert!(
                d > 8.0,
                "{:?} and {:?} differ by only {d:.1}",
                Style::ALL[i],
                Style::ALL[j]
            );
        }
    }
}

#[test]
fn presets_are_documented_and_a_bad_style_image_refused() {
    assert_eq!(PRESETS.len(), 30);
    for (name, what) in PRESETS {
        assert!(!name.is_empty() && what.len() > 10, "{name}");
    }
    let input = encode(&DynamicImage::ImageRgb8(picture(40, 40)), ImageFormat::Png);
    let engine = Engine::new();
    // Ids out of range cannot be built: the protocol's types refuse them.
    assert!(StyleId::new(30).is_err() && AnimeMask::new(9).is_err());
    assert!(
        engine
            .process(
                &Params::CustomizeStylization(CustomStyle::Image(b"not an image"[..].into())),
                &input
            )
            .is_err()
    );
}

#[test]
fn sky_of_the_test_picture_is_its_upper_part() {
    let engine = Engine::new();
    let input = encode(
        &DynamicImage::ImageRgb8(picture(200, 150)),
        ImageFormat::Png,
    );
    let out = engine.process(&Params::SkySeg, &input).unwrap();
    let mask = image::load_from_memory(&out.image).unwrap().to_luma8();
    // Top corners are sky, bottom corners ground.
    assert_eq!(mask.get_pixel(5, 5).0[0], 255);
    assert_eq!(mask.get_pixel(194, 5).0[0], 255);
    assert_eq!(mask.get_pixel(5, 145).0[0], 0);
    assert_eq!(mask.get_pixel(194, 145).0[0], 0);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]
    #[test]
    fn any_size_and_aspect_never_panics(w in 1u32..90, h in 1u32..90, seed in any::<u32>(), pick in 0usize..51) {
        let style = style_png();
        let mut rng = u64::from(seed) | 1;
        let img = RgbImage::from_fn(w, h, |_, _| {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            let v = rng as u8;
            image::Rgb([v, (rng >> 8) as u8, (rng >> 16) as u8])
        });
        let input = encode(&DynamicImage::ImageRgb8(img), ImageFormat::Png);
        let all = requests(&style);
        // One request chosen by proptest, plus the style image and sky on every case.
        for request in [&all[pick % all.len()], &all[all.len() - 2], &all[all.len() - 1]] {
            let out = Engine::new().process(request, &input);
            prop_assert!(out.is_ok(), "{request:?}: {out:?}");
            let out = out.unwrap();
            prop_assert_eq!(decoded_size(&out.image), (w, h));
        }
    }

    #[test]
    fn extreme_aspects_never_panic(long in 100u32..1200, short in 1u32..4, tall in any::<bool>()) {
        let (w, h) = if tall { (short, long) } else { (long, short) };
        let input = encode(&DynamicImage::ImageRgb8(picture(w, h)), ImageFormat::Png);
        let style = style_png();
        for request in requests(&style) {
            let out = Engine::new().process(&request, &input);
            prop_assert!(out.is_ok(), "{request:?}: {out:?}");
        }
    }
}
