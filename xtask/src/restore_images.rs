//! `cargo xtask restore-images`: renders the before/after pictures of the restoration
//! operations into docs/images/ (degraded input on the left, the engine's result on the
//! right; inpainting also shows OpenCV's TELEA in the middle), from the shipped photos.

use std::path::Path;
use std::process::Command;

use crate::engine_ops as restoration;
use anyhow::Result;
use baidu_imageprocess_protocol::Rect;
use image::{RgbImage, imageops};

use crate::degrade;

fn row(panels: &[&RgbImage]) -> RgbImage {
    let h = panels.iter().map(|p| p.height()).max().unwrap_or(1);
    let w = panels
        .iter()
        .map(|p| p.width() + 8)
        .sum::<u32>()
        .saturating_sub(8);
    let mut canvas = RgbImage::from_pixel(w.max(1), h, image::Rgb([255, 255, 255]));
    let mut x = 0;
    for p in panels {
        imageops::overlay(&mut canvas, *p, i64::from(x), 0);
        x += p.width() + 8;
    }
    canvas
}

fn save(img: &RgbImage, name: &str) -> Result<()> {
    let path = Path::new("docs/images").join(name);
    let mut out = std::fs::File::create(&path)?;
    img.write_with_encoder(image::codecs::jpeg::JpegEncoder::new_with_quality(
        &mut out, 88,
    ))?;
    println!(
        "wrote {} ({}×{})",
        path.display(),
        img.width(),
        img.height()
    );
    Ok(())
}

fn crop(img: &RgbImage, x: u32, y: u32, w: u32, h: u32) -> RgbImage {
    imageops::crop_imm(img, x, y, w.min(img.width() - x), h.min(img.height() - y)).to_image()
}

/// Nearest-neighbour zoom, so restored detail is visible in the README.
fn zoom(img: &RgbImage, k: u32) -> RgbImage {
    imageops::resize(
        img,
        img.width() * k,
        img.height() * k,
        imageops::FilterType::Nearest,
    )
}

fn open(name: &str) -> Result<RgbImage> {
    Ok(image::open(Path::new("examples/images").join(name))?.to_rgb8())
}

pub fn run(_args: &[String]) -> Result<()> {
    std::fs::create_dir_all("docs/images")?;
    let chelsea = open("chelsea.jpg")?;
    let astronaut = open("astronaut.jpg")?;
    let rocket = open("rocket.jpg")?;

    // Denoise: σ 25, strength 100, a 2x crop of the cat's face.
    let face = crop(&chelsea, 100, 40, 220, 160);
    let noisy = degrade::gaussian_noise(&face, 25.0, 1);
    save(
        &row(&[
            &zoom(&noisy, 2),
            &zoom(&restoration::denoise(&noisy, 100), 2),
        ]),
        "denoise.jpg",
    )?;

    // Definition: blur σ 1.2 + JPEG q85.
    let detail = crop(&astronaut, 150, 60, 220, 200);
    let soft = degrade::jpeg(&degrade::blur(&detail, 1.2), 85)?;
    save(
        &row(&[&zoom(&soft, 2), &zoom(&restoration::definition(&soft), 2)]),
        "definition.jpg",
    )?;

    // Colour enhance: saturation × 0.6.
    let small = imageops::resize(&astronaut, 320, 320, imageops::FilterType::Lanczos3);
    let faded = degrade::saturate(&small, 0.6);
    save(
        &row(&[&faded, &restoration::colour_enhance(&faded)]),
        "colour-enhance.jpg",
    )?;

    // Stretch restore: 1.4× wide.
    let base = imageops::resize(&chelsea, 300, 200, imageops::FilterType::Lanczos3);
    let wide = degrade::stretch(&base, 1.4, 1.0, imageops::FilterType::CatmullRom);
    save(
        &row(&[&wide, &restoration::stretch_restore(&wide)]),
        "stretch-restore.jpg",
    )?;

    // Inpainting: the three rectangles; black | OpenCV TELEA | ours.
    let scene = crop(&rocket, 0, 80, 420, 300);
    let rects: Vec<Rect> = degrade::inpaint_rects(scene.width(), scene.height(), 11);
    let holed = degrade::black_out(&scene, &rects);
    let ours = restoration::inpaint(&holed, &rects)?;
    let dir = std::env::temp_dir().join(format!("bdip-restore-images-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    holed.save(dir.join("in.png"))?;
    let mut mask = image::GrayImage::new(scene.width(), scene.height());
    for r in &rects {
        for y in r.top..r.top + r.height {
            for x in r.left..r.left + r.width {
                mask.put_pixel(x, y, image::Luma([255]));
            }
        }
    }
    mask.save(dir.join("mask.png"))?;
    let telea = Command::new("python3")
        .arg("-c")
        .arg("import cv2,sys; d=sys.argv[1]; cv2.imwrite(d+'/telea.png', cv2.inpaint(cv2.imread(d+'/in.png'), cv2.imread(d+'/mask.png',0), 5, cv2.INPAINT_TELEA))")
        .arg(&dir)
        .status()
        .ok()
        .filter(std::process::ExitStatus::success)
        .and_then(|_| image::open(dir.join("telea.png")).ok())
        .map(|i| i.to_rgb8());
    match &telea {
        Some(t) => save(&row(&[&holed, t, &ours]), "inpaint-telea.jpg")?,
        None => save(&row(&[&holed, &ours]), "inpaint-telea.jpg")?,
    }
    let _ = std::fs::remove_dir_all(&dir);

    // Document de-shading: a synthetic page, half size.
    let page = degrade::shade_page(&degrade::synthetic_page(720, 960, 4), 4);
    let half = |i: &RgbImage| imageops::resize(i, 360, 480, imageops::FilterType::Triangle);
    save(
        &row(&[&half(&page), &half(&restoration::doc_repair(&page))]),
        "doc-repair.jpg",
    )?;

    // Moiré: a crop at 1:1.
    let (moire, _) = degrade::moire(&chelsea, 2);
    let m = crop(&moire, 80, 20, 300, 240);
    let fixed = crop(&restoration::demoire(&moire), 80, 20, 300, 240);
    save(&row(&[&m, &fixed]), "demoire.jpg")?;
    Ok(())
}
