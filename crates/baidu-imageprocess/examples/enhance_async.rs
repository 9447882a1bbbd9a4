//! 2x-enhance one image with the async client.
//!
//! ```sh
//! cargo run -p baidu-imageprocess --example enhance_async -- small.png small.2x.png
//! ```
//! Uses BAIDU_API_KEY / BAIDU_SECRET_KEY (and BAIDU_IMAGEPROCESS_ENDPOINT) when set;
//! otherwise starts the local emulator and runs against it.

mod common;

use baidu_imageprocess::Async;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(input), Some(output)) = (args.next(), args.next()) else {
        anyhow::bail!("usage: enhance_async INPUT OUTPUT");
    };
    let (builder, _emulator) = common::configure::<Async>()?;
    let client = builder.build()?;
    let reply = client.image_quality_enhance(std::fs::read(&input)?).await?;
    std::fs::write(&output, &reply.image)?;
    println!("wrote {output} (log_id {})", reply.log_id);
    Ok(())
}
