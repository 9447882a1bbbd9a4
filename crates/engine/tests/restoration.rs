//! The seven restoration operations through `Engine::process`: every input format and
//! colour type, tiny and extreme-aspect images, without a panic and in the input's format.

use std::io::Cursor;

use baidu_imageprocess_engine::{Engine, EngineError};
use baidu_imageprocess_protocol::{Params, Rect, Strength};
use image::{DynamicImage, ImageFormat};

fn denoise(strength: u8) -> Params<'static> {
    Params::Denoise(Strength::new(strength).unwrap())
}

fn requests() -> Vec<Params<'static>> {
    vec![
        denoise(0),
        denoise(60),
        denoise(200),
        Params::ImageDefinitionEnhance,
        Params::ColorEnhance,
        Params::StretchRestore,
        Params::Inpainting(vec![Rect::new(0, 0, 1, 1)].into()),
        Params::DocRepair,
        Params::RemoveMoire,
    ]
}

fn encode(img: &DynamicImage, format: ImageFormat) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, format).unwrap();
    out.into_inner()
}

fn textured(w: u32, h: u32) -> image::RgbaImage {
    image::RgbaImage::from_fn(w, h, |x, y| {
        let v = ((x * 37 + y * 91) % 251) as u8;
        image::Rgba([v, v.wrapping_mul(3), 255 - v, (x + y) as u8])
    })
}

#[test]
fn every_colour_type_and_format_round_trips() {
    let engine = Engine::new();
    let rgba = DynamicImage::ImageRgba8(textured(90, 70));
    let cases = [
        (DynamicImage::ImageRgb8(rgba.to_rgb8()), ImageFormat::Jpeg),
        (DynamicImage::ImageRgb8(rgba.to_rgb8()), ImageFormat::Bmp),
        (rgba.clone(), ImageFormat::Png),
        (DynamicImage::ImageLuma8(rgba.to_luma8()), ImageFormat::Png),
        (
            DynamicImage::ImageLumaA8(rgba.to_luma_alpha8()),
            ImageFormat::Png,
        ),
        (
            DynamicImage::ImageLuma16(rgba.to_luma16()),
            ImageFormat::Png,
        ),
    ];
    for (img, format) in cases {
        let bytes = encode(&img, format);
        for request in requests() {
            let out = engine.process(&request, &bytes).unwrap().image;
            assert_eq!(image::guess_format(&out).unwrap(), format, "{request:?}");
            let decoded = image::load_from_memory(&out).unwrap();
            assert_eq!(
                decoded.color().has_alpha(),
                img.color().has_alpha(),
                "{request:?}"
            );
            // Grey stays grey; grey with alpha comes back as RGBA (the shared encoder's
            // choice), so only plain grey is checked.
            if !img.color().has_alpha() {
                assert_eq!(
                    decoded.color().has_color(),
                    img.color().has_color(),
                    "{request:?}"
                );
            }
            if request != Params::StretchRestore {
                assert_eq!((decoded.width(), decoded.height()), (90, 70), "{request:?}");
            }
        }
    }
}

#[test]
fn tiny_and_extreme_aspect_images_do_not_panic() {
    let engine = Engine::new();
    for (w, h) in [
        (1, 1),
        (2, 3),
        (1, 300),
        (300, 1),
        (2000, 2),
        (3, 700),
        (9, 9),
    ] {
        let png = encode(&DynamicImage::ImageRgba8(textured(w, h)), ImageFormat::Png);
        for request in requests() {
            let out = engine.process(&request, &png);
            assert!(out.is_ok(), "{w}x{h} {request:?}: {out:?}");
        }
    }
}

#[test]
fn inpainting_rejects_rectangles_outside_and_keeps_every_other_pixel() {
    let engine = Engine::new();
    let img = DynamicImage::ImageRgb8(DynamicImage::ImageRgba8(textured(64, 48)).to_rgb8());
    let png = encode(&img, ImageFormat::Png);
    let outside = [Rect {
        left: 60,
        top: 0,
        width: 10,
        height: 10,
    }];
    assert!(matches!(
        engine.process(&Params::Inpainting(outside[..].into()), &png),
        Err(EngineError::InvalidParameter(_))
    ));
    let rects = [
        Rect {
            left: 5,
            top: 5,
            width: 12,
            height: 9,
        },
        Rect {
            left: 30,
            top: 20,
            width: 20,
            height: 20,
        },
    ];
    let out = engine
        .process(&Params::Inpainting(rects[..].into()), &png)
        .unwrap()
        .image;
    let out = image::load_from_memory(&out).unwrap().to_rgb8();
    let src = img.to_rgb8();
    for (x, y, p) in out.enumerate_pixels() {
        let inside = rects
            .iter()
            .any(|r| x >= r.left && x < r.left + r.width && y >= r.top && y < r.top + r.height);
        if !inside {
            assert_eq!(p, src.get_pixel(x, y), "({x}, {y})");
        }
    }
}
