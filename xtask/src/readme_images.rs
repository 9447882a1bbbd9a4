//! `cargo xtask readme-images`: renders the before/after pictures of the README and
//! docs/quality.md into docs/images/ with the embedded engine (what `bdip` runs locally).

use std::path::Path;

use anyhow::Result;
use baidu_imageprocess_engine::Engine;
use image::{RgbImage, imageops};

use crate::quality::{add_haze, downscale_2x};

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
    crate::contact_sheet::write(&engine, dir, None)?;
    Ok(())
}
