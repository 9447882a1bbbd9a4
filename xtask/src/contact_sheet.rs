//! `cargo xtask contact-sheet [--out DIR]`: renders the stylising operations on the sample
//! photos into `docs/images/styles.jpg` (the nine styles, selfie anime with its eight
//! masks, ten presets and the sky masks) and `docs/images/presets.jpg` (all thirty
//! presets, the thumbnails docs/quality.md refers to). `--out DIR` also writes every
//! rendering at full size, for a close look. `cargo xtask readme-images` calls this too.

use std::path::Path;

use anyhow::{Context, Result};
use baidu_imageprocess_engine::Engine;
use baidu_imageprocess_protocol::{AnimeMask, CustomStyle, Params, Style, StyleId};
use image::{RgbImage, imageops};

/// `selfie_anime`'s parameters, with overlay `mask` (1–8) or none.
pub(crate) fn anime_params(mask: Option<u8>) -> Params<'static> {
    Params::SelfieAnime {
        mask: mask.map(|m| AnimeMask::new(m).expect("a mask of 1-8")),
    }
}

/// `customize_stylization`'s parameters for preset `id` (0–29).
pub(crate) fn preset(id: u8) -> Params<'static> {
    Params::CustomizeStylization(CustomStyle::Preset(
        StyleId::new(id).expect("a preset of 0-29"),
    ))
}

/// `customize_stylization`'s parameters for a style image.
pub(crate) fn style_image(bytes: &[u8]) -> Params<'_> {
    Params::CustomizeStylization(CustomStyle::Image(bytes.into()))
}

/// Thumbnail width of one cell.
const CELL: u32 = 180;
/// Gap between cells and around the sheet.
const GAP: u32 = 6;
/// Height of the label strip under each cell.
const LABEL: u32 = 22;
/// Presets shown on the main sheet.
const SHEET_PRESETS: [u8; 10] = [0, 3, 6, 9, 12, 15, 18, 21, 24, 27];

/// Style names in the API's spelling, in `Style::ALL` order.
pub const STYLE_NAMES: [&str; 9] = [
    "cartoon",
    "pencil",
    "color_pencil",
    "warm",
    "wave",
    "lavender",
    "mononoke",
    "scream",
    "gothic",
];

fn png(img: &RgbImage) -> Result<Vec<u8>> {
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png)?;
    Ok(out.into_inner())
}

/// Runs `request` on `img` through the public entry point (PNG in, PNG out).
fn apply(engine: &Engine, request: &Params<'_>, img: &RgbImage) -> Result<RgbImage> {
    let out = engine
        .process(request, &png(img)?)
        .with_context(|| format!("{request:?}"))?;
    Ok(image::load_from_memory(&out.image)?.to_rgb8())
}

/// Sky mask and probability as RGB pictures (the probability as a heat-free grey).
fn sky(engine: &Engine, img: &RgbImage) -> Result<(RgbImage, RgbImage)> {
    let out = engine.process(&Params::SkySeg, &png(img)?)?;
    let mask = image::load_from_memory(&out.image)?.to_rgb8();
    let score = match out.scoremap {
        Some(s) => image::load_from_memory(&s)?.to_rgb8(),
        None => RgbImage::new(img.width(), img.height()),
    };
    // The mask drawn over the photo: sky tinted blue, the rest dimmed.
    let overlay = RgbImage::from_fn(img.width(), img.height(), |x, y| {
        let p = img.get_pixel(x, y).0;
        if mask.get_pixel(x, y).0[0] > 127 {
            image::Rgb([
                p[0] / 3,
                p[1] / 3 + 60,
                (u16::from(p[2]) / 3 + 160).min(255) as u8,
            ])
        } else {
            image::Rgb([p[0] / 2, p[1] / 2, p[2] / 2])
        }
    });
    Ok((overlay, score))
}

fn thumb(img: &RgbImage) -> RgbImage {
    let h = (u64::from(img.height()) * u64::from(CELL) / u64::from(img.width().max(1))) as u32;
    imageops::resize(img, CELL, h.max(1), imageops::FilterType::Lanczos3)
}

/// A 3×5 pixel font: 15 bits per glyph, rows top to bottom.
fn glyph(c: char) -> u16 {
    let rows: &str = match c.to_ascii_uppercase() {
        'A' => "010101111101101",
        'B' => "110101110101110",
        'C' => "011100100100011",
        'D' => "110101101101110",
        'E' => "111100110100111",
        'F' => "111100110100100",
        'G' => "011100101101011",
        'H' => "101101111101101",
        'I' => "111010010010111",
        'J' => "001001001101010",
        'K' => "101101110101101",
        'L' => "100100100100111",
        'M' => "101111111101101",
        'N' => "110101101101101",
        'O' => "010101101101010",
        'P' => "110101110100100",
        'Q' => "010101101110011",
        'R' => "110101110101101",
        'S' => "011100010001110",
        'T' => "111010010010010",
        'U' => "101101101101111",
        'V' => "101101101101010",
        'W' => "101101111111101",
        'X' => "101101010101101",
        'Y' => "101101010010010",
        'Z' => "111001010100111",
        '0' => "111101101101111",
        '1' => "010110010010111",
        '2' => "110001010100111",
        '3' => "110001010001110",
        '4' => "101101111001001",
        '5' => "111100110001110",
        '6' => "011100111101111",
        '7' => "111001010010010",
        '8' => "111101111101111",
        '9' => "111101111001110",
        '-' => "000000111000000",
        '_' => "000000000000111",
        _ => "000000000000000",
    };
    rows.bytes()
        .fold(0, |acc, b| (acc << 1) | u16::from(b == b'1'))
}

/// Draws `text` in white at (x, y), 3 px per font pixel.
fn draw_text(canvas: &mut RgbImage, text: &str, x: u32, y: u32) {
    const S: u32 = 3;
    for (k, c) in text.chars().enumerate() {
        let bits = glyph(c);
        for row in 0..5u32 {
            for col in 0..3u32 {
                if bits >> (14 - (row * 3 + col)) & 1 == 1 {
                    for dy in 0..S {
                        for dx in 0..S {
                            let px = x + k as u32 * 4 * S + col * S + dx;
                            let py = y + row * S + dy;
                            if px < canvas.width() && py < canvas.height() {
                                canvas.put_pixel(px, py, image::Rgb([240, 240, 240]));
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Lays out rows of labelled cells on a dark canvas.
fn sheet(rows: &[Vec<(String, RgbImage)>]) -> RgbImage {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(1) as u32;
    let heights: Vec<u32> = rows
        .iter()
        .map(|r| r.iter().map(|(_, i)| i.height()).max().unwrap_or(0) + LABEL)
        .collect();
    let width = GAP + columns * (CELL + GAP);
    let height = GAP + heights.iter().map(|h| h + GAP).sum::<u32>();
    let mut canvas = RgbImage::from_pixel(width, height, image::Rgb([28, 28, 32]));
    let mut y = GAP;
    for (row, h) in rows.iter().zip(&heights) {
        for (k, (label, img)) in row.iter().enumerate() {
            let x = GAP + k as u32 * (CELL + GAP);
            imageops::overlay(&mut canvas, img, i64::from(x), i64::from(y));
            draw_text(&mut canvas, label, x + 2, y + img.height() + 4);
        }
        y += h + GAP;
    }
    canvas
}

fn open(name: &str) -> Result<RgbImage> {
    Ok(image::open(Path::new("examples/images").join(name))
        .with_context(|| format!("examples/images/{name}"))?
        .to_rgb8())
}

fn save(img: &RgbImage, path: &Path) -> Result<()> {
    let mut out = std::fs::File::create(path)?;
    img.write_with_encoder(image::codecs::jpeg::JpegEncoder::new_with_quality(
        &mut out, 80,
    ))?;
    println!(
        "wrote {} ({}×{})",
        path.display(),
        img.width(),
        img.height()
    );
    Ok(())
}

/// Renders both sheets into `dir`; with `full`, every full-size rendering too.
pub fn write(engine: &Engine, dir: &Path, full: Option<&Path>) -> Result<()> {
    let keep = |name: &str, img: &RgbImage| -> Result<()> {
        if let Some(out) = full {
            std::fs::create_dir_all(out)?;
            img.save(out.join(format!("{name}.png")))?;
        }
        Ok(())
    };
    let photos = [
        ("astronaut", open("astronaut.jpg")?),
        ("coffee", open("coffee.jpg")?),
        ("chelsea", open("chelsea.jpg")?),
    ];
    let mut rows = Vec::new();
    for (name, photo) in &photos {
        let mut row = vec![("photo".to_owned(), thumb(photo))];
        for (style, label) in Style::ALL.iter().zip(STYLE_NAMES) {
            let out = apply(engine, &Params::StyleTrans(*style), photo)?;
            keep(&format!("{name}-{label}"), &out)?;
            row.push((label.to_owned(), thumb(&out)));
        }
        rows.push(row);
    }
    let portrait = open("grace_hopper.jpg")?;
    let mut anime = vec![("photo".to_owned(), thumb(&portrait))];
    let plain = apply(engine, &anime_params(None), &portrait)?;
    keep("anime", &plain)?;
    anime.push(("anime".to_owned(), thumb(&plain)));
    for mask in 1..=8u8 {
        let out = apply(engine, &anime_params(Some(mask)), &portrait)?;
        keep(&format!("anime-mask{mask}"), &out)?;
        anime.push((format!("mask {mask}"), thumb(&out)));
    }
    rows.push(anime);
    let (_, coffee) = &photos[1];
    let mut presets = vec![("photo".to_owned(), thumb(coffee))];
    for id in SHEET_PRESETS {
        let out = apply(engine, &preset(id), coffee)?;
        presets.push((format!("preset {id}"), thumb(&out)));
    }
    rows.push(presets);
    let mut skies = Vec::new();
    for name in ["rocket.jpg", "hazy.jpg", "astronaut.jpg", "chelsea.jpg"] {
        let photo = open(name)?;
        let (overlay, score) = sky(engine, &photo)?;
        keep(&format!("sky-{}", name.trim_end_matches(".jpg")), &overlay)?;
        skies.push(("sky mask".to_owned(), thumb(&overlay)));
        skies.push(("sky prob".to_owned(), thumb(&score)));
    }
    // Style-image transfer: the look of one photo on another.
    let style_img = open("rocket.jpg")?;
    let transferred = apply(engine, &style_image(&png(&style_img)?), &photos[0].1)?;
    keep("transfer", &transferred)?;
    skies.push(("style img".to_owned(), thumb(&style_img)));
    skies.push(("transfer".to_owned(), thumb(&transferred)));
    rows.push(skies);
    std::fs::create_dir_all(dir)?;
    save(&sheet(&rows), &dir.join("styles.jpg"))?;

    let mut all = Vec::new();
    for chunk in (0..30u8).collect::<Vec<_>>().chunks(10) {
        let mut row = Vec::new();
        for &id in chunk {
            let out = apply(engine, &preset(id), coffee)?;
            keep(&format!("preset-{id}"), &out)?;
            row.push((format!("{id}"), thumb(&out)));
        }
        all.push(row);
    }
    save(&sheet(&all), &dir.join("presets.jpg"))?;
    Ok(())
}

pub fn run(args: &[String]) -> Result<()> {
    let full = args
        .iter()
        .position(|a| a == "--out")
        .and_then(|i| args.get(i + 1))
        .map(Path::new);
    write(&Engine::new(), Path::new("docs/images"), full)
}
