//! `cargo xtask readme-images`: renders the before/after pictures of the README and
//! docs/quality.md into docs/images/ with the embedded engine (what `bdip` runs locally).

use crate::engine_ops::EngineOps as _;
use std::path::Path;

use anyhow::Result;
use baidu_imageprocess_engine::Engine;
use baidu_imageprocess_protocol::{AnimeMask, CustomStyle, Params, Rect, Strength, Style, StyleId};
use image::{RgbImage, imageops};

use crate::quality::{add_haze, downscale_2x};

/// `selfie_anime`'s parameters, with overlay `mask` (1–8) or none.
fn anime_params(mask: Option<u8>) -> Params<'static> {
    Params::SelfieAnime {
        mask: mask.map(|m| AnimeMask::new(m).expect("a mask of 1-8")),
    }
}

/// `customize_stylization`'s parameters for preset `id` (0–29).
fn preset(id: u8) -> Params<'static> {
    Params::CustomizeStylization(CustomStyle::Preset(
        StyleId::new(id).expect("a preset of 0-29"),
    ))
}

/// `left` and `right` side by side (same height), with a white gap.
fn side_by_side(left: &RgbImage, right: &RgbImage) -> RgbImage {
    let h = left.height().max(right.height());
    let mut canvas = RgbImage::from_pixel(
        left.width() + 8 + right.width(),
        h,
        image::Rgb([255, 255, 255]),
    );
    imageops::overlay(&mut canvas, left, 0, 0);
    imageops::overlay(&mut canvas, right, i64::from(left.width() + 8), 0);
    canvas
}

fn save_jpeg(img: &RgbImage, path: &Path) -> Result<()> {
    let mut out = std::fs::File::create(path)?;
    img.write_with_encoder(image::codecs::jpeg::JpegEncoder::new_with_quality(
        &mut out, 85,
    ))?;
    println!(
        "wrote {} ({}×{})",
        path.display(),
        img.width(),
        img.height()
    );
    Ok(())
}

fn open(name: &str) -> Result<RgbImage> {
    Ok(image::open(Path::new("examples/images").join(name))?.to_rgb8())
}

fn fit_width(img: &RgbImage, width: u32) -> RgbImage {
    let h = (u64::from(img.height()) * u64::from(width) / u64::from(img.width().max(1))) as u32;
    imageops::resize(img, width, h.max(1), imageops::FilterType::Lanczos3)
}

pub fn run(_args: &[String]) -> Result<()> {
    let engine = Engine::new();
    let dir = Path::new("docs/images");
    std::fs::create_dir_all(dir)?;

    let hazy = open("hazy.jpg")?;
    save_jpeg(
        &side_by_side(
            &fit_width(&hazy, 400),
            &fit_width(&engine.dehaze(&hazy), 400),
        ),
        &dir.join("dehaze.jpg"),
    )?;

    let dark = open("dark.jpg")?;
    save_jpeg(
        &side_by_side(
            &fit_width(&dark, 400),
            &fit_width(&engine.contrast(&dark), 400),
        ),
        &dir.join("contrast.jpg"),
    )?;

    // Enhance at 100 % zoom: a crop of a 2x-downscaled photo, bicubic next to ours.
    let photo = open("astronaut.jpg")?;
    let small = downscale_2x(&photo);
    let crop = imageops::crop_imm(&small, 60, 40, 120, 120).to_image();
    let bicubic = imageops::resize(&crop, 240, 240, imageops::FilterType::CatmullRom);
    save_jpeg(
        &side_by_side(&bicubic, &engine.enhance(&crop)),
        &dir.join("enhance.jpg"),
    )?;

    let colour = open("chelsea.jpg")?;
    let grey = image::DynamicImage::ImageRgb8(colour).to_luma8();
    let grey_rgb = image::DynamicImage::ImageLuma8(grey.clone()).to_rgb8();
    save_jpeg(
        &side_by_side(
            &fit_width(&grey_rgb, 400),
            &fit_width(&engine.colourize(&grey), 400),
        ),
        &dir.join("colourize.jpg"),
    )?;

    // The quality harness's synthetic degradation, for docs/quality.md.
    let rocket = open("rocket.jpg")?;
    let hazed = add_haze(&rocket);
    save_jpeg(
        &side_by_side(
            &fit_width(&hazed, 400),
            &fit_width(&engine.dehaze(&hazed), 400),
        ),
        &dir.join("dehaze-synthetic.jpg"),
    )?;
    the_other_eleven(&engine, dir)?;
    crate::contact_sheet::write(&engine, dir, None)?;

    crate::browser_test::console_screenshot(&dir.join("console.png"))?;
    Ok(())
}

/// Runs `request` through the engine's public entry point (PNG in, PNG out).
fn process(engine: &Engine, request: &Params<'_>, img: &RgbImage) -> Result<RgbImage> {
    let mut png = std::io::Cursor::new(Vec::new());
    img.write_to(&mut png, image::ImageFormat::Png)?;
    let out = engine.process(request, png.get_ref())?;
    Ok(image::load_from_memory(&out.image)?.to_rgb8())
}

/// A deterministic pseudo-random sequence for the synthetic degradations.
fn noise(seed: &mut u64) -> f32 {
    *seed = seed
        .wrapping_mul(6_364_136_223_846_793_005)
        .wrapping_add(1_442_695_040_888_963_407);
    ((*seed >> 40) as f32 / (1u64 << 24) as f32) - 0.5
}

fn map_pixels(img: &RgbImage, mut f: impl FnMut(u32, u32, [f32; 3]) -> [f32; 3]) -> RgbImage {
    RgbImage::from_fn(img.width(), img.height(), |x, y| {
        let p = img.get_pixel(x, y).0.map(f32::from);
        image::Rgb(f(x, y, p).map(|v| v.round().clamp(0.0, 255.0) as u8))
    })
}

fn save_pair(before: &RgbImage, after: &RgbImage, path: &Path) -> Result<()> {
    save_jpeg(
        &side_by_side(&fit_width(before, 400), &fit_width(after, 400)),
        path,
    )
}

/// The operations beyond the specification's four, each on a photo (or a synthetic
/// degradation of one) that shows what it is for.
fn the_other_eleven(engine: &Engine, dir: &Path) -> Result<()> {
    let astronaut = fit_width(&open("astronaut.jpg")?, 400);
    let chelsea = fit_width(&open("chelsea.jpg")?, 400);
    let coffee = fit_width(&open("coffee.jpg")?, 400);
    let rocket = fit_width(&open("rocket.jpg")?, 400);
    let portrait = fit_width(&open("grace_hopper.jpg")?, 400);

    // A photo stretched to 1.6 times its width.
    let stretched = imageops::resize(
        &astronaut,
        astronaut.width() * 8 / 5,
        astronaut.height(),
        imageops::FilterType::CatmullRom,
    );
    save_pair(
        &stretched,
        &process(engine, &Params::StretchRestore, &stretched)?,
        &dir.join("stretch-restore.jpg"),
    )?;

    // Soft: a third of the size, scaled back up.
    let soft = imageops::resize(
        &imageops::resize(
            &chelsea,
            chelsea.width() / 3,
            chelsea.height() / 3,
            imageops::FilterType::Triangle,
        ),
        chelsea.width(),
        chelsea.height(),
        imageops::FilterType::Triangle,
    );
    save_pair(
        &soft,
        &process(engine, &Params::ImageDefinitionEnhance, &soft)?,
        &dir.join("definition.jpg"),
    )?;

    // Faded: half the saturation.
    let faded = map_pixels(&coffee, |_, _, [r, g, b]| {
        let l = 0.299 * r + 0.587 * g + 0.114 * b;
        [l + (r - l) * 0.45, l + (g - l) * 0.45, l + (b - l) * 0.45]
    });
    save_pair(
        &faded,
        &process(engine, &Params::ColorEnhance, &faded)?,
        &dir.join("colour-enhance.jpg"),
    )?;

    save_pair(
        &rocket,
        &process(engine, &Params::StyleTrans(Style::Cartoon), &rocket)?,
        &dir.join("style.jpg"),
    )?;
    save_pair(
        &portrait,
        &process(engine, &anime_params(None), &portrait)?,
        &dir.join("anime.jpg"),
    )?;

    // Inpainting: the rectangle is outlined in red on the left.
    let rect = Rect {
        left: chelsea.width() / 2,
        top: chelsea.height() / 4,
        width: chelsea.width() / 5,
        height: chelsea.height() / 5,
    };
    let mut marked = chelsea.clone();
    for x in rect.left..rect.left + rect.width {
        for y in [rect.top, rect.top + rect.height - 1] {
            marked.put_pixel(x, y, image::Rgb([255, 0, 0]));
        }
    }
    for y in rect.top..rect.top + rect.height {
        for x in [rect.left, rect.left + rect.width - 1] {
            marked.put_pixel(x, y, image::Rgb([255, 0, 0]));
        }
    }
    save_pair(
        &marked,
        &process(engine, &Params::Inpainting(vec![rect].into()), &chelsea)?,
        &dir.join("inpaint.jpg"),
    )?;

    save_pair(
        &rocket,
        &process(engine, &Params::SkySeg, &rocket)?,
        &dir.join("sky-seg.jpg"),
    )?;

    // Moiré: two slightly rotated fine gratings multiplied in.
    let moire = map_pixels(&chelsea, |x, y, p| {
        let (x, y) = (x as f32, y as f32);
        let a = (x * 1.9 + y * 0.35).sin();
        let b = (x * 1.75 - y * 0.3).sin();
        let k = 1.0 + 0.22 * a * b;
        p.map(|v| v * k)
    });
    save_pair(
        &moire,
        &process(engine, &Params::RemoveMoire, &moire)?,
        &dir.join("demoire.jpg"),
    )?;

    // A photographed page: dark "text" lines on paper under uneven light and a shadow.
    let (w, h) = (400, 300);
    let mut seed = 7u64;
    let mut page = RgbImage::from_pixel(w, h, image::Rgb([245, 243, 236]));
    for line in 0..12 {
        let top = 24 + line * 22;
        let mut x = 30;
        while x < w - 40 {
            let word = 12 + ((noise(&mut seed) + 0.5) * 40.0) as u32;
            for dx in 0..word.min(w - 30 - x) {
                for dy in 0..9 {
                    page.put_pixel(x + dx, top + dy, image::Rgb([40, 40, 45]));
                }
            }
            x += word + 8;
        }
    }
    let shaded = map_pixels(&page, |x, y, p| {
        let light = 0.55 + 0.45 * (x as f32 / w as f32);
        let shadow = if x + y < 180 { 0.6 } else { 1.0 };
        p.map(|v| v * light * shadow)
    });
    save_pair(
        &shaded,
        &process(engine, &Params::DocRepair, &shaded)?,
        &dir.join("doc-repair.jpg"),
    )?;

    // Noise of σ ≈ 20 grey levels (three uniform draws), denoised at strength 80.
    let mut seed = 11u64;
    let noisy = map_pixels(&astronaut, |_, _, p| {
        let n = (noise(&mut seed) + noise(&mut seed) + noise(&mut seed)) * 40.0;
        p.map(|v| v + n)
    });
    save_pair(
        &noisy,
        &process(
            engine,
            &Params::Denoise(Strength::new(80).expect("in range")),
            &noisy,
        )?,
        &dir.join("denoise.jpg"),
    )?;

    save_pair(
        &chelsea,
        &process(engine, &preset(7), &chelsea)?,
        &dir.join("stylize.jpg"),
    )?;
    Ok(())
}
