//! Turning INPUT arguments into (source, destination) jobs.

use std::path::{Path, PathBuf};

use baidu_imageprocess::Operation;

/// Where an image comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Stdin,
    File(PathBuf),
}

impl Source {
    pub fn display(&self) -> String {
        match self {
            Self::Stdin => "-".to_owned(),
            Self::File(p) => p.display().to_string(),
        }
    }
}

/// Where a result goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    Stdout,
    /// `explicit`: named with `-o`, so it may be overwritten.
    File {
        path: PathBuf,
        explicit: bool,
    },
}

/// One image to process.
#[derive(Debug, Clone)]
pub struct Job {
    pub source: Source,
    pub destination: Destination,
}

const EXTENSIONS: [&str; 4] = ["jpg", "jpeg", "png", "bmp"];

/// The short name used in derived file names.
pub fn op_suffix(op: Operation) -> &'static str {
    match op {
        Operation::ImageQualityEnhance => "enhance",
        Operation::Dehaze => "dehaze",
        Operation::ContrastEnhance => "contrast",
        Operation::Colourize => "colourize",
        Operation::StretchRestore
        | Operation::ImageDefinitionEnhance
        | Operation::ColorEnhance
        | Operation::StyleTrans
        | Operation::SelfieAnime
        | Operation::Inpainting
        | Operation::SkySeg
        | Operation::RemoveMoire
        | Operation::DocRepair
        | Operation::Denoise
        | Operation::CustomizeStylization => op.name(),
    }
}

fn is_image(path: &Path) -> bool {
    let Some(ext) = path.extension().and_then(|e| e.to_str()) else {
        return false;
    };
    let ext = ext.to_ascii_lowercase();
    if !EXTENSIONS.contains(&ext.as_str()) {
        return false;
    }
    // Skip our own results (`photo.dehaze.jpg`, `photo.dehaze.compare.png`) so running
    // twice on a folder does not process outputs.
    let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("");
    !["enhance", "dehaze", "contrast", "colourize", "compare"]
        .iter()
        .any(|s| stem.ends_with(&format!(".{s}")))
}

/// `NAME.OP.EXT` in `out_dir` or next to `input`.
pub fn derived_path(input: &Path, op: Operation, out_dir: Option<&Path>) -> PathBuf {
    let stem = input
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("image");
    let ext = input.extension().and_then(|e| e.to_str()).unwrap_or("png");
    let name = format!("{stem}.{}.{ext}", op_suffix(op));
    match out_dir {
        Some(dir) => dir.join(name),
        None => input.with_file_name(name),
    }
}

fn walk(dir: &Path, recursive: bool, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            if recursive {
                walk(&path, recursive, out)?;
            }
        } else if is_image(&path) {
            out.push(path);
        }
    }
    Ok(())
}

/// Expands the INPUT arguments into jobs.
pub fn collect(
    inputs: &[String],
    op: Operation,
    output: Option<&Path>,
    out_dir: Option<&Path>,
    recursive: bool,
) -> Result<Vec<Job>, String> {
    let mut sources = Vec::new();
    for input in inputs {
        if input == "-" {
            sources.push(Source::Stdin);
            continue;
        }
        let path = PathBuf::from(input);
        if path.is_dir() {
            let mut found = Vec::new();
            walk(&path, recursive, &mut found)
                .map_err(|e| format!("cannot read directory {input}: {e}"))?;
            if found.is_empty() {
                eprintln!(
                    "bdip: no .jpg/.jpeg/.png/.bmp images in {input}{}",
                    if recursive {
                        ""
                    } else {
                        " (use -r for subdirectories)"
                    }
                );
            }
            sources.extend(found.into_iter().map(Source::File));
        } else {
            // Missing files become per-image failures later, so the others still run.
            sources.push(Source::File(path));
        }
    }
    if output.is_some() && sources.len() != 1 {
        return Err(format!(
            "-o/--output names one result but {} inputs were given; use --out-dir for several",
            sources.len()
        ));
    }
    if sources.iter().filter(|s| **s == Source::Stdin).count() > 1 {
        return Err("stdin (-) can be read only once".into());
    }
    Ok(sources
        .into_iter()
        .map(|source| {
            let destination = match (output, &source) {
                (Some(o), _) if o.as_os_str() == "-" => Destination::Stdout,
                (Some(o), _) => Destination::File {
                    path: o.to_path_buf(),
                    explicit: true,
                },
                (None, Source::Stdin) => Destination::Stdout,
                (None, Source::File(p)) => Destination::File {
                    path: derived_path(p, op, out_dir),
                    explicit: false,
                },
            };
            Job {
                source,
                destination,
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_names() {
        assert_eq!(
            derived_path(Path::new("a/photo.jpg"), Operation::Dehaze, None),
            PathBuf::from("a/photo.dehaze.jpg")
        );
        assert_eq!(
            derived_path(
                Path::new("a/photo.PNG"),
                Operation::ImageQualityEnhance,
                Some(Path::new("out"))
            ),
            PathBuf::from("out/photo.enhance.PNG")
        );
        assert!(!is_image(Path::new("photo.dehaze.jpg")));
        assert!(is_image(Path::new("photo.JPEG")));
        assert!(!is_image(Path::new("notes.txt")));
    }

    #[test]
    fn output_needs_a_single_input() {
        let err = collect(
            &["a.jpg".into(), "b.jpg".into()],
            Operation::Dehaze,
            Some(Path::new("x.jpg")),
            None,
            false,
        )
        .unwrap_err();
        assert!(err.contains("--out-dir"));
    }
}
