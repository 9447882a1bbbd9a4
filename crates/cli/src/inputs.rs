//! Turning INPUT arguments into (source, destination) jobs.

use std::path::{Path, PathBuf};

use crate::task::SUFFIXES;

/// Where an image comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Stdin,
    File(PathBuf),
    /// An http:// or https:// address, sent as `url`.
    Url(String),
}

impl Source {
    pub fn display(&self) -> String {
        match self {
            Self::Stdin => "-".to_owned(),
            Self::File(p) => p.display().to_string(),
            Self::Url(u) => u.clone(),
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
    !SUFFIXES
        .iter()
        .chain(&["compare"])
        .any(|s| stem.ends_with(&format!(".{s}")))
}

/// How results are named: `NAME.SUFFIX.EXT`, EXT the input's unless `extension` says.
#[derive(Debug, Clone, Copy)]
pub struct Naming<'a> {
    pub suffix: &'a str,
    pub extension: Option<&'a str>,
}

/// `NAME.SUFFIX.EXT` in `out_dir` or next to `input`.
pub fn derived_path(input: &Path, naming: Naming<'_>, out_dir: Option<&Path>) -> PathBuf {
    let stem = input
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("image");
    let ext = naming
        .extension
        .or_else(|| input.extension().and_then(|e| e.to_str()))
        .unwrap_or("png");
    let name = format!("{stem}.{}.{ext}", naming.suffix);
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
    naming: Naming<'_>,
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
        if is_url(input) {
            sources.push(Source::Url(input.clone()));
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
                    path: derived_path(p, naming, out_dir),
                    explicit: false,
                },
                // Named after the URL's last path segment, in --out-dir or here.
                (None, Source::Url(u)) => Destination::File {
                    path: derived_path(&url_file_name(u), naming, out_dir.or(Some(Path::new(".")))),
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

/// Whether an INPUT is sent as `url`.
pub fn is_url(input: &str) -> bool {
    let lower = input.get(..8).unwrap_or(input).to_ascii_lowercase();
    lower.starts_with("http://") || lower.starts_with("https://")
}

/// The last path segment of `url` (without query), as a file name; `image.png` if none.
fn url_file_name(url: &str) -> PathBuf {
    let path = url.split(['?', '#']).next().unwrap_or(url);
    let after_scheme = path.split_once("://").map_or(path, |(_, rest)| rest);
    let name = after_scheme
        .split_once('/')
        .and_then(|(_, p)| p.rsplit('/').next())
        .filter(|n| !n.is_empty() && *n != "." && *n != "..")
        .unwrap_or("image.png");
    let name: String = name
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    PathBuf::from(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naming(suffix: &str) -> Naming<'_> {
        Naming {
            suffix,
            extension: None,
        }
    }

    #[test]
    fn urls_are_inputs_named_after_their_last_segment() {
        assert!(is_url("https://x.com/a.jpg") && is_url("HTTP://x") && !is_url("x.jpg"));
        assert_eq!(
            url_file_name("https://x.com/d/cat.jpg?s=1"),
            PathBuf::from("cat.jpg")
        );
        assert_eq!(url_file_name("https://x.com/"), PathBuf::from("image.png"));
        assert_eq!(url_file_name("http://x.com"), PathBuf::from("image.png"));
        assert_eq!(
            url_file_name("http://x.com/a%20b.png"),
            PathBuf::from("a_20b.png")
        );
        let jobs = collect(
            &["http://h/p/cat.png".into()],
            naming("dehaze"),
            None,
            None,
            false,
        )
        .unwrap();
        assert_eq!(jobs[0].source, Source::Url("http://h/p/cat.png".into()));
        assert_eq!(
            jobs[0].destination,
            Destination::File {
                path: PathBuf::from("./cat.dehaze.png"),
                explicit: false
            }
        );
    }

    #[test]
    fn derived_names() {
        assert_eq!(
            derived_path(Path::new("a/photo.jpg"), naming("dehaze"), None),
            PathBuf::from("a/photo.dehaze.jpg")
        );
        assert_eq!(
            derived_path(
                Path::new("a/photo.PNG"),
                naming("enhance"),
                Some(Path::new("out"))
            ),
            PathBuf::from("out/photo.enhance.PNG")
        );
        assert!(!is_image(Path::new("photo.dehaze.jpg")));
        assert!(!is_image(Path::new("photo.sky-seg.png")));
        let mask = Naming {
            suffix: "sky-seg",
            extension: Some("png"),
        };
        assert_eq!(
            derived_path(Path::new("photo.jpg"), mask, None),
            PathBuf::from("photo.sky-seg.png")
        );
        assert!(is_image(Path::new("photo.JPEG")));
        assert!(!is_image(Path::new("notes.txt")));
    }

    #[test]
    fn output_needs_a_single_input() {
        let err = collect(
            &["a.jpg".into(), "b.jpg".into()],
            naming("dehaze"),
            Some(Path::new("x.jpg")),
            None,
            false,
        )
        .unwrap_err();
        assert!(err.contains("--out-dir"));
    }
}
