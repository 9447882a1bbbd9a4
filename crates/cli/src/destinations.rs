//! Checks on where results go, made before the first request: a run that cannot write
//! its results, or would replace its own input, sends nothing (on Baidu's service every
//! request is paid quota).

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use crate::inputs::{Destination, Job, Source, same_file};

/// `sky-seg --scoremap`: refused when it would lose or replace something. It may be `-`
/// (stdout), like `-o -`, but not when the mask goes there too; it may not name the mask's
/// file or the comparison, and names the input only with `--force`.
pub fn check_scoremap(job: &Job, scoremap: &Destination, force: bool) -> Result<(), String> {
    let path = match scoremap {
        Destination::Stdout => {
            return if job.destination == Destination::Stdout {
                Err("--scoremap - and the mask both go to stdout, where one would be lost; give one of them a file name".into())
            } else {
                Ok(())
            };
        }
        Destination::File { path, .. } => path,
    };
    if let Destination::File { path: result, .. } = &job.destination
        && same_file(path, result)
    {
        return Err(format!(
            "--scoremap {} is also where the mask goes, and one would be lost; name another file",
            path.display()
        ));
    }
    if let Some(compare) = &job.compare
        && same_file(path, compare)
    {
        return Err(format!(
            "--scoremap {} is also where the --compare image goes; name another file",
            path.display()
        ));
    }
    if let Source::File(input) = &job.source
        && !force
        && same_file(path, input)
    {
        return Err(format!(
            "--scoremap {} is the input itself: the map would replace it; name another file (or add --force to replace the input)",
            path.display()
        ));
    }
    Ok(())
}

/// Checks that a file can be written at `path`: an existing `path` is not a directory, its
/// nearest existing ancestor is a directory (not a regular file), and a file can be
/// created in that directory. `probed` remembers directories already tried.
fn check_writable(path: &Path, probed: &mut HashSet<PathBuf>) -> Result<(), String> {
    if let Ok(meta) = std::fs::metadata(path) {
        return if meta.is_dir() {
            Err("is a directory".into())
        } else {
            // A file (replaced by rename), a device or FIFO (written into).
            Ok(())
        };
    }
    let mut dir = parent_of(path);
    let existing = loop {
        match std::fs::metadata(&dir) {
            Ok(meta) if meta.is_dir() => break dir,
            Ok(_) => {
                return Err(format!("{} is a file, not a directory", dir.display()));
            }
            Err(_) => match dir.parent() {
                Some(up) if !up.as_os_str().is_empty() => dir = up.to_path_buf(),
                _ => break PathBuf::from("."),
            },
        }
    };
    if probed.insert(existing.clone()) {
        tempfile::Builder::new()
            .prefix(".bdip-probe-")
            .tempfile_in(&existing)
            .map_err(|e| format!("cannot create files in {}: {e}", existing.display()))?;
    }
    Ok(())
}

fn parent_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Every file the run would write: each job's result and comparison, the scoremap and
/// the report, with what each one is, for messages.
pub fn check_all(
    jobs: &[Job],
    out_dir: Option<&Path>,
    scoremap: Option<&Destination>,
    report: Option<&Path>,
) -> Result<(), String> {
    let mut probed = HashSet::new();
    if let Some(dir) = out_dir
        && let Ok(meta) = std::fs::metadata(dir)
        && !meta.is_dir()
    {
        return Err(format!(
            "--out-dir {} is a file, not a directory; nothing was sent",
            dir.display()
        ));
    }
    let mut targets: Vec<(&Path, &str)> = Vec::new();
    for job in jobs.iter().filter(|j| j.conflict.is_none()) {
        if let Destination::File { path, .. } = &job.destination {
            targets.push((path, "the result"));
        }
        if let Some(compare) = &job.compare {
            targets.push((compare, "the --compare image"));
        }
    }
    if let Some(Destination::File { path, .. }) = scoremap {
        targets.push((path, "the --scoremap"));
    }
    if let Some(path) = report {
        targets.push((path, "the report"));
    }
    for (path, what) in targets {
        check_writable(path, &mut probed).map_err(|why| {
            format!(
                "cannot write {what} {}: {why}; nothing was sent",
                path.display()
            )
        })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_in_the_way_is_found_before_anything_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("file");
        std::fs::write(&file, b"x").unwrap();
        let mut probed = HashSet::new();
        let err = check_writable(&file.join("sub/x.jpg"), &mut probed).unwrap_err();
        assert!(err.contains("is a file, not a directory"), "{err}");
        assert!(check_writable(&dir.path().join("new/x.jpg"), &mut probed).is_ok());
        assert!(check_writable(dir.path(), &mut probed).is_err());
        assert!(!dir.path().join("new").exists(), "nothing is created");
        let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "the probe file is removed");
    }
}
