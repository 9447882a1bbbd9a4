//! Dehaze every image of a folder, at most 4 at a time and 2 per second.
//!
//! ```sh
//! cargo run -p baidu-imageprocess --example batch_async -- examples/images out/
//! ```

use std::path::PathBuf;
use std::sync::Arc;

mod common;

use baidu_imageprocess::Async;
use tokio::sync::Semaphore;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(input), Some(output)) = (args.next(), args.next()) else {
        anyhow::bail!("usage: batch_async INPUT_DIR OUTPUT_DIR");
    };
    let (builder, _emulator) = common::configure::<Async>()?;
    // At most 2 calls per second across all tasks (the free tier's limit).
    let client = builder.qps(2.0).build()?;
    std::fs::create_dir_all(&output)?;
    let limit = Arc::new(Semaphore::new(4));
    let mut tasks = Vec::new();
    for entry in std::fs::read_dir(&input)? {
        let path = entry?.path();
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or("")
            .to_ascii_lowercase();
        if !matches!(ext.as_str(), "jpg" | "jpeg" | "png" | "bmp") {
            continue;
        }
        let (client, limit) = (client.clone(), Arc::clone(&limit));
        let target = PathBuf::from(&output).join(path.file_name().unwrap_or_default());
        tasks.push(tokio::spawn(async move {
            let _permit = limit.acquire_owned().await?;
            let reply = client.dehaze(tokio::fs::read(&path).await?).await?;
            tokio::fs::write(&target, &reply.image).await?;
            anyhow::Ok(target)
        }));
    }
    for task in tasks {
        match task.await? {
            Ok(path) => println!("ok   {}", path.display()),
            Err(e) => println!("fail {e:#}"),
        }
    }
    Ok(())
}
