//! Writing results so that an interrupted run never leaves a half-written file.

use std::io::Write as _;
use std::path::Path;

/// Writes `bytes` to a temporary file beside `path`, then renames it into place.
pub fn atomic_write(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir)?;
    let mut builder = tempfile::Builder::new();
    builder.prefix(".bdip-").suffix(".part");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        // Results are ordinary files (the umask still applies), not private temp files.
        builder.permissions(std::fs::Permissions::from_mode(0o644));
    }
    let mut tmp = builder.tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// A side-by-side before/after PNG.
pub fn compare_png(before: &[u8], after: &[u8]) -> Result<Vec<u8>, String> {
    let a = image::load_from_memory(before)
        .map_err(|e| e.to_string())?
        .to_rgb8();
    let b = image::load_from_memory(after)
        .map_err(|e| e.to_string())?
        .to_rgb8();
    // Show both at the result's height.
    let h = b.height();
    let aw = (u64::from(a.width()) * u64::from(h) / u64::from(a.height().max(1))) as u32;
    let a = image::imageops::resize(&a, aw.max(1), h, image::imageops::FilterType::Triangle);
    let gap = 8;
    let mut canvas =
        image::RgbImage::from_pixel(a.width() + gap + b.width(), h, image::Rgb([255, 255, 255]));
    image::imageops::overlay(&mut canvas, &a, 0, 0);
    image::imageops::overlay(&mut canvas, &b, i64::from(a.width() + gap), 0);
    let mut out = std::io::Cursor::new(Vec::new());
    canvas
        .write_to(&mut out, image::ImageFormat::Png)
        .map_err(|e| e.to_string())?;
    Ok(out.into_inner())
}
