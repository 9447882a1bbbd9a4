//! Where the examples send their requests: Baidu (or any endpoint) with
//! `BAIDU_API_KEY` / `BAIDU_SECRET_KEY` (and `BAIDU_IMAGEPROCESS_ENDPOINT`) when set;
//! `BAIDU_IMAGEPROCESS_ENDPOINT` alone with placeholder keys (an emulator accepts any);
//! otherwise a local emulator started for the run.

use baidu_imageprocess::{Builder, ENV_ENDPOINT, Flavor};
use baidu_imageprocess_emulator::Emulator;

/// A builder pointed at the right place, and the emulator to keep alive (if one was started).
pub fn configure<K: Flavor>() -> anyhow::Result<(Builder<K>, Option<Emulator>)> {
    if let Ok(builder) = Builder::<K>::default().from_env() {
        return Ok((builder, None));
    }
    if let Some(url) = std::env::var(ENV_ENDPOINT)
        .ok()
        .filter(|u| !u.trim().is_empty())
    {
        eprintln!("no BAIDU_API_KEY/BAIDU_SECRET_KEY: using {url} with placeholder keys");
        let builder = Builder::default().api_key("local", "local").endpoint(url);
        return Ok((builder, None));
    }
    let emulator = Emulator::builder().start()?;
    eprintln!(
        "no credentials: using a local emulator at {} (set BAIDU_API_KEY and BAIDU_SECRET_KEY for Baidu)",
        emulator.base_url()
    );
    let builder = Builder::default()
        .api_key("local", "local")
        .endpoint(emulator.base_url());
    Ok((builder, Some(emulator)))
}
