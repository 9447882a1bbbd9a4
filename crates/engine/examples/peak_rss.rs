//! Peak memory of one dehaze on a 4096×4096 JPEG, read from the kernel's high-water mark:
//! `cargo run --release -p baidu-imageprocess-engine --example peak_rss`.

use baidu_imageprocess_engine::Engine;
use baidu_imageprocess_protocol::Params;
use image::{ImageFormat, RgbImage};
use std::io::Cursor;

fn vm_hwm() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM"))
                .map(str::to_owned)
        })
        .unwrap_or_else(|| "VmHWM unavailable".to_owned())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let side = 4096;
    // A smooth gradient with haze-like lift so the full dehaze path runs.
    let img = RgbImage::from_fn(side, side, |x, y| {
        let v = (120 + (x + y) * 100 / (2 * side)) as u8;
        image::Rgb([v, v.saturating_add(5), v.saturating_add(10)])
    });
    let mut jpeg = Vec::new();
    img.write_to(&mut Cursor::new(&mut jpeg), ImageFormat::Jpeg)?;
    drop(img);
    println!("before: {}", vm_hwm());
    let out = Engine::new().process(&Params::Dehaze, &jpeg)?.image;
    println!(
        "after dehaze of {side}x{side} ({} bytes out): {}",
        out.len(),
        vm_hwm()
    );
    Ok(())
}
