//! Writing results so that an interrupted run never leaves a half-written file, and
//! never replaces what is not a regular file of ours.
//!
//! A regular file (or a new name) is written to a temporary file beside it and renamed
//! into place. A symlink is written through: its target gets the result and the link
//! stays. A device or FIFO (`-o /dev/null`) is written to directly, as a shell's `>` would,
//! and is never replaced. Temporary files in progress are registered so a second Ctrl-C
//! can remove them before exiting.

use std::collections::HashSet;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};

/// Temporary files being written; guarded so a rename and the emergency cleanup never
/// race.
static IN_PROGRESS: Mutex<Option<HashSet<PathBuf>>> = Mutex::new(None);

fn in_progress() -> MutexGuard<'static, Option<HashSet<PathBuf>>> {
    IN_PROGRESS.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Removes every temporary file still being written and exits with `code`. Holds the
/// registry lock until the process ends, so no rename can complete afterwards.
pub fn remove_temp_files_and_exit(code: i32) -> ! {
    // Held until the process ends (`exit` runs no destructors): no rename after this.
    let _registry = remove_temp_files();
    let _ = std::io::stderr().flush();
    std::process::exit(code)
}

/// Writes `bytes` to stdout and flushes. A closed pipe (`bdip … -o - | head -c 10`) is
/// the reader saying it has enough: bdip ends quietly, with status 0, instead of
/// panicking or reporting a failure.
pub fn write_stdout(bytes: &[u8]) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
            drop(out);
            remove_temp_files_and_exit(0)
        }
        result => result,
    }
}

/// Removes every registered temporary file; returns the registry still locked.
fn remove_temp_files() -> MutexGuard<'static, Option<HashSet<PathBuf>>> {
    let mut guard = in_progress();
    for path in guard.iter_mut().flat_map(std::mem::take) {
        let _ = std::fs::remove_file(path);
    }
    guard
}

/// Writes `bytes` to `path` (see the module documentation for what `path` may be).
/// Missing parent directories are created.
pub fn write_result(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => {
            // Write through the link, as `>` would; the link itself stays.
            let target = std::fs::canonicalize(path).map_err(|e| {
                std::io::Error::new(
                    e.kind(),
                    format!("is a symbolic link whose target cannot be resolved ({e})"),
                )
            })?;
            write_result(&target, bytes)
        }
        Ok(meta) if meta.is_dir() => Err(std::io::Error::new(
            std::io::ErrorKind::IsADirectory,
            "is a directory",
        )),
        Ok(meta) if !meta.is_file() => {
            // A device, FIFO or socket: write into it, never rename over it.
            let mut file = std::fs::OpenOptions::new().write(true).open(path)?;
            file.write_all(bytes)?;
            file.flush()
        }
        Ok(meta) => atomic_write(path, bytes, Some(meta.permissions())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => atomic_write(path, bytes, None),
        Err(e) => Err(e),
    }
}

/// Writes `bytes` to a temporary file beside `path`, then renames it into place.
fn atomic_write(
    path: &Path,
    bytes: &[u8],
    keep: Option<std::fs::Permissions>,
) -> std::io::Result<()> {
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
        // Results are ordinary files (the umask still applies), not private temp files;
        // a replaced file keeps its mode.
        builder.permissions(keep.unwrap_or_else(|| std::fs::Permissions::from_mode(0o644)));
    }
    #[cfg(not(unix))]
    let _ = keep;
    let mut tmp = {
        let mut registry = in_progress();
        let tmp = builder.tempfile_in(dir)?;
        registry
            .get_or_insert_with(HashSet::new)
            .insert(tmp.path().to_path_buf());
        tmp
    };
    let temp_path = tmp.path().to_path_buf();
    let written = tmp.write_all(bytes).and_then(|()| tmp.as_file().sync_all());
    let mut registry = in_progress();
    let result = written.and_then(|()| tmp.persist(path).map(drop).map_err(|e| e.error));
    if let Some(set) = registry.as_mut() {
        set.remove(&temp_path);
    }
    result
}

/// A side-by-side before/after PNG.
pub fn compare_png(before: &[u8], after: &[u8]) -> Result<Vec<u8>, String> {
    // Large decodes take turns (a hostile reply could be a 50 Mpx image).
    let _turn = crate::fit::one_at_a_time();
    let a = crate::fit::decode_bounded(before)?.to_rgb8();
    let b = crate::fit::decode_bounded(after)?.to_rgb8();
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_file_and_a_replaced_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/out.bin");
        write_result(&path, b"one").unwrap();
        write_result(&path, b"two").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        assert!(in_progress().iter().flatten().next().is_none());
    }

    #[test]
    fn an_emergency_stop_removes_temporary_files() {
        let dir = tempfile::tempdir().unwrap();
        let temp = dir.path().join(".bdip-x.part");
        std::fs::write(&temp, b"half").unwrap();
        in_progress()
            .get_or_insert_with(HashSet::new)
            .insert(temp.clone());
        drop(remove_temp_files());
        assert!(!temp.exists());
    }

    #[cfg(unix)]
    #[test]
    fn a_symlink_is_written_through() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("real.bin");
        std::fs::write(&target, b"old").unwrap();
        let link = dir.path().join("link.bin");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        write_result(&link, b"new").unwrap();
        assert!(
            std::fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(std::fs::read(&target).unwrap(), b"new");
    }
}
