//! Parameterised operations with the async client: style transfer in a named style, and
//! inpainting of a rectangle given on the command line.
//!
//! ```sh
//! cargo run -p baidu-imageprocess --example style_async -- photo.jpg pencil 40,30,120,80
//! ```
//! Writes `photo.pencil.jpg` and `photo.inpaint.jpg`. Uses BAIDU_API_KEY /
//! BAIDU_SECRET_KEY (and BAIDU_IMAGEPROCESS_ENDPOINT) when set; otherwise starts the
//! local emulator and runs against it.

mod common;

use std::path::Path;

use baidu_imageprocess::{Async, Rect, Style};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(input), Some(style), Some(rect)) = (args.next(), args.next(), args.next()) else {
        anyhow::bail!("usage: style_async INPUT STYLE LEFT,TOP,WIDTH,HEIGHT");
    };
    // An unknown style is refused here, naming the nine that exist.
    let style: Style = style.parse()?;
    let numbers: Vec<u32> = rect.split(',').map(str::parse).collect::<Result<_, _>>()?;
    let [left, top, width, height] = numbers[..] else {
        anyhow::bail!("the rectangle is LEFT,TOP,WIDTH,HEIGHT");
    };
    let (builder, _emulator) = common::configure::<Async>()?;
    let client = builder.build()?;
    let photo = std::fs::read(&input)?;

    let painted = client.style_trans(&photo, style).await?;
    let path = Path::new(&input);
    let named = |what: &str| {
        let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("image");
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("png");
        path.with_file_name(format!("{stem}.{what}.{ext}"))
    };
    std::fs::write(named(style.name()), &painted.image)?;

    // Rectangles are checked inside the image (from its header) before anything is sent.
    let filled = client
        .inpainting(&photo, &[Rect::new(left, top, width, height)])
        .await?;
    std::fs::write(named("inpaint"), &filled.image)?;
    println!(
        "wrote {} and {} (log_ids {} and {})",
        named(style.name()).display(),
        named("inpaint").display(),
        painted.log_id,
        filled.log_id
    );
    Ok(())
}
