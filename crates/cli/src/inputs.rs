//! Turning INPUT arguments into (source, destination) jobs.
//!
//! Paths stay `OsStr` end to end (a non-UTF-8 name is an ordinary name). Each file is
//! visited once however many links or arguments lead to it, directories are entered once
//! (a symlink loop ends), only regular files are collected, and every job gets a result
//! name of its own that is never one of the inputs: a job whose name is taken fails with
//! a message instead of overwriting another's result.

use std::collections::{HashMap, HashSet};
use std::ffi::{OsStr, OsString};
use std::path::{Component, Path, PathBuf};

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
    /// Where the `--compare` image goes, if asked for.
    pub compare: Option<PathBuf>,
    /// Why this job cannot run (its result name is taken); it is reported as failed.
    pub conflict: Option<String>,
}

const EXTENSIONS: [&str; 4] = ["jpg", "jpeg", "png", "bmp"];

/// Image formats people keep beside their photos that the API does not take, by
/// extension, with the name a message gives them.
const UNSUPPORTED: [(&str, &str); 9] = [
    ("gif", "GIF"),
    ("webp", "WebP"),
    ("tif", "TIFF"),
    ("tiff", "TIFF"),
    ("heic", "HEIC"),
    ("heif", "HEIF"),
    ("avif", "AVIF"),
    ("svg", "SVG"),
    ("ico", "ICO"),
];

/// What a file found in a directory is to this run.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Entry {
    /// An image to process.
    Image,
    /// A file this run would itself write (`photo.dehaze.jpg` when running dehaze).
    OwnResult,
    /// Not something the API takes; the reason says why.
    NotAccepted(String),
}

/// Whether `stem` ends with `.SUFFIX` after something.
fn ends_with_suffix(stem: &[u8], suffix: &str) -> bool {
    let s = suffix.as_bytes();
    stem.len() > s.len() + 1 && stem.ends_with(s) && stem[stem.len() - s.len() - 1] == b'.'
}

/// Classifies a directory entry by its name: only JPEG, PNG and BMP files are taken, and
/// of those not the ones this run would write itself (`NAME.SUFFIX.EXT` and their
/// `--compare` images), so running twice on a folder does not process its own outputs,
/// while other operations' results and a user's `my.style.jpg` are ordinary inputs.
fn classify(path: &Path, naming: Naming<'_>) -> Entry {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let Some(ext) = ext.filter(|e| EXTENSIONS.contains(&e.as_str())) else {
        let reason = match path.extension().and_then(|e| e.to_str()) {
            Some(e) => match UNSUPPORTED
                .iter()
                .find(|(known, _)| e.eq_ignore_ascii_case(known))
            {
                Some((_, format)) => {
                    format!("{format} images are not accepted (JPEG, PNG or BMP only)")
                }
                None => {
                    format!("not an image (.{e}); only .jpg, .jpeg, .png and .bmp files are read")
                }
            },
            None => "not an image (no extension); only .jpg, .jpeg, .png and .bmp files are read"
                .to_owned(),
        };
        return Entry::NotAccepted(reason);
    };
    let stem = path.file_stem().unwrap_or_default().as_encoded_bytes();
    if ends_with_suffix(stem, naming.suffix) {
        return Entry::OwnResult;
    }
    // `NAME.SUFFIX.compare.png` and `NAME.SUFFIX.EXT.compare.png`.
    if ext == "png"
        && let Some(before) = stem.strip_suffix(b".compare")
    {
        let without_ext = before
            .iter()
            .rposition(|&b| b == b'.')
            .map_or(&before[..0], |dot| &before[..dot]);
        if ends_with_suffix(before, naming.suffix) || ends_with_suffix(without_ext, naming.suffix) {
            return Entry::OwnResult;
        }
    }
    Entry::Image
}

/// How results are named: `NAME.SUFFIX.EXT`, EXT the input's unless `extension` says.
#[derive(Debug, Clone, Copy)]
pub struct Naming<'a> {
    pub suffix: &'a str,
    pub extension: Option<&'a str>,
}

/// `NAME.SUFFIX.EXT`, as an `OsString` (the input's name need not be UTF-8).
fn derived_name(input: &Path, naming: Naming<'_>) -> OsString {
    let mut name = input
        .file_stem()
        .map_or_else(|| OsString::from("image"), OsStr::to_os_string);
    name.push(".");
    name.push(naming.suffix);
    name.push(".");
    match naming.extension {
        Some(ext) => name.push(ext),
        None => name.push(input.extension().unwrap_or(OsStr::new("png"))),
    }
    name
}

/// `NAME.SUFFIX.EXT` in `out_dir` or next to `input`.
pub fn derived_path(input: &Path, naming: Naming<'_>, out_dir: Option<&Path>) -> PathBuf {
    let name = derived_name(input, naming);
    match out_dir {
        Some(dir) => dir.join(name),
        None => input.with_file_name(name),
    }
}

/// The `--compare` image beside a result: `NAME.OP.compare.png` for a PNG result,
/// `NAME.OP.EXT.compare.png` otherwise, so `x.png` and `x.bmp` get different ones.
pub fn compare_path(result: &Path) -> PathBuf {
    let is_png = result
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("png"));
    let mut name = if is_png {
        result.file_stem().unwrap_or_default().to_os_string()
    } else {
        result.file_name().unwrap_or_default().to_os_string()
    };
    name.push(".compare.png");
    result.with_file_name(name)
}

/// A file's identity, so links and repeated arguments count once (`None` where the
/// platform has none).
#[cfg(unix)]
#[allow(clippy::unnecessary_wraps)] // `None` on other platforms
fn identity(meta: &std::fs::Metadata) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt as _;
    Some((meta.dev(), meta.ino()))
}

#[cfg(not(unix))]
fn identity(_: &std::fs::Metadata) -> Option<(u64, u64)> {
    None
}

/// A file of a directory argument that is not processed, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetAside {
    /// The file (or the directory argument, for `NothingToDo`).
    pub input: String,
    pub reason: String,
    pub kind: SetAsideKind,
}

/// Why a [`SetAside`] entry was set aside.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetAsideKind {
    /// Not JPEG, PNG or BMP by its name (a GIF, a text file…).
    NotAnImage,
    /// A FIFO, device or socket named like an image (reading it could block forever).
    NotARegularFile,
    /// A result this run would write itself.
    OwnResult,
    /// A directory argument that gave nothing to process: a failure, not a skip.
    NothingToDo,
}

/// Collects image files under a directory, each once, and what it passes over.
struct Walker<'n> {
    naming: Naming<'n>,
    recursive: bool,
    dirs_seen: HashSet<(u64, u64)>,
    files_seen: HashSet<(u64, u64)>,
    /// (path, path relative to the directory argument).
    found: Vec<(PathBuf, PathBuf)>,
    set_aside: Vec<SetAside>,
}

impl Walker<'_> {
    fn set_aside(&mut self, path: &Path, kind: SetAsideKind, reason: String) {
        self.set_aside.push(SetAside {
            input: path.display().to_string(),
            reason,
            kind,
        });
    }

    fn walk(&mut self, dir: &Path, relative: &Path) -> std::io::Result<()> {
        let mut entries: Vec<(PathBuf, OsString)> = std::fs::read_dir(dir)?
            .filter_map(|e| e.ok().map(|e| (e.path(), e.file_name())))
            .collect();
        entries.sort();
        for (path, name) in entries {
            // Follows symlinks; a dangling one has no metadata and is skipped.
            let Ok(meta) = std::fs::metadata(&path) else {
                continue;
            };
            if meta.is_dir() {
                let first_visit = identity(&meta).is_none_or(|id| self.dirs_seen.insert(id));
                if self.recursive && first_visit {
                    self.walk(&path, &relative.join(&name))?;
                }
                continue;
            }
            match classify(&path, self.naming) {
                Entry::NotAccepted(reason) => {
                    self.set_aside(&path, SetAsideKind::NotAnImage, reason);
                }
                Entry::OwnResult => {
                    let reason = format!(
                        "named like a result of this command (NAME.{}.EXT), so taken for an earlier result; rename it, or give it by name, to process it",
                        self.naming.suffix
                    );
                    self.set_aside(&path, SetAsideKind::OwnResult, reason);
                }
                Entry::Image if !meta.is_file() => self.set_aside(
                    &path,
                    SetAsideKind::NotARegularFile,
                    "not a regular file (a FIFO, device or socket); only files are read".into(),
                ),
                Entry::Image => {
                    if identity(&meta).is_none_or(|id| self.files_seen.insert(id)) {
                        self.found.push((path, relative.join(&name)));
                    }
                }
            }
        }
        Ok(())
    }
}

/// What a directory argument gave nothing to process: why, in words.
fn nothing_to_do(dir: &Path, set_aside: &[SetAside], recursive: bool) -> String {
    let count = |kind| set_aside.iter().filter(|s| s.kind == kind).count();
    let mut parts = Vec::new();
    for (kind, what) in [
        (SetAsideKind::OwnResult, "named like this command's results"),
        (SetAsideKind::NotAnImage, "not JPEG, PNG or BMP"),
        (SetAsideKind::NotARegularFile, "not regular files"),
    ] {
        let n = count(kind);
        if n > 0 {
            parts.push(format!("{n} {what}"));
        }
    }
    let hint = if recursive {
        ""
    } else {
        " (use -r for subdirectories)"
    };
    if parts.is_empty() {
        format!(
            "no .jpg/.jpeg/.png/.bmp images in {}{hint}: nothing to do",
            dir.display()
        )
    } else {
        format!(
            "no images to process in {}{hint}: skipped {}",
            dir.display(),
            parts.join(", ")
        )
    }
}

/// A path with `.` components removed and its existing parent resolved, for comparing
/// result names.
fn name_key(path: &Path) -> PathBuf {
    let lexical: PathBuf = path
        .components()
        .filter(|c| !matches!(c, Component::CurDir))
        .collect();
    let parent = match lexical.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    match (std::fs::canonicalize(&parent), lexical.file_name()) {
        (Ok(dir), Some(name)) => dir.join(name),
        _ => lexical,
    }
}

/// What the command line says about inputs and where their results go.
#[derive(Debug, Clone, Copy)]
pub struct Plan<'a> {
    pub inputs: &'a [PathBuf],
    pub naming: Naming<'a>,
    /// `-o`.
    pub output: Option<&'a Path>,
    pub out_dir: Option<&'a Path>,
    pub recursive: bool,
    pub compare: bool,
    /// `--force`: lets `-o` name the input itself.
    pub force: bool,
}

/// The jobs of a run, and the files of directory arguments it passes over.
#[derive(Debug)]
pub struct Collected {
    pub jobs: Vec<Job>,
    pub set_aside: Vec<SetAside>,
}

/// Whether two paths name the same file (by name, or by identity when both exist).
pub fn same_file(a: &Path, b: &Path) -> bool {
    if name_key(a) == name_key(b) {
        return true;
    }
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(x), Ok(y)) => identity(&x).is_some_and(|id| identity(&y) == Some(id)),
        _ => false,
    }
}

/// Expands the INPUT arguments into jobs.
pub fn collect(plan: &Plan<'_>) -> Result<Collected, String> {
    let Plan {
        inputs,
        naming,
        output,
        out_dir,
        recursive,
        compare,
        force,
    } = *plan;
    // (source, folder relative to its directory argument)
    let mut sources: Vec<(Source, PathBuf)> = Vec::new();
    let mut walker = Walker {
        naming,
        recursive,
        dirs_seen: HashSet::new(),
        files_seen: HashSet::new(),
        found: Vec::new(),
        set_aside: Vec::new(),
    };
    let mut set_aside = Vec::new();
    for input in inputs {
        if input.as_os_str() == "-" {
            sources.push((Source::Stdin, PathBuf::new()));
            continue;
        }
        if let Some(url) = input.to_str().filter(|i| is_url(i)) {
            sources.push((Source::Url(url.to_owned()), PathBuf::new()));
            continue;
        }
        match std::fs::metadata(input) {
            Ok(meta) if meta.is_dir() => {
                if identity(&meta).is_some_and(|id| !walker.dirs_seen.insert(id)) {
                    continue;
                }
                walker
                    .walk(input, Path::new(""))
                    .map_err(|e| format!("cannot read directory {}: {e}", input.display()))?;
                let found = std::mem::take(&mut walker.found);
                let passed_over = std::mem::take(&mut walker.set_aside);
                if found.is_empty() {
                    set_aside.push(SetAside {
                        input: input.display().to_string(),
                        reason: nothing_to_do(input, &passed_over, recursive),
                        kind: SetAsideKind::NothingToDo,
                    });
                }
                set_aside.extend(passed_over);
                sources.extend(found.into_iter().map(|(path, relative)| {
                    let folder = relative.parent().unwrap_or(Path::new("")).to_path_buf();
                    (Source::File(path), folder)
                }));
            }
            Ok(meta) => {
                if identity(&meta).is_none_or(|id| walker.files_seen.insert(id)) {
                    sources.push((Source::File(input.clone()), PathBuf::new()));
                }
            }
            // Missing files become per-image failures later, so the others still run.
            Err(_) => sources.push((Source::File(input.clone()), PathBuf::new())),
        }
    }
    if output.is_some() && sources.len() != 1 {
        return Err(format!(
            "-o/--output names one result but {} inputs were given; use --out-dir for several",
            sources.len()
        ));
    }
    if sources.iter().filter(|(s, _)| *s == Source::Stdin).count() > 1 {
        return Err("stdin (-) can be read only once".into());
    }
    if let (Some(o), [(Source::File(input), _)]) = (output, sources.as_slice())
        && o.as_os_str() != "-"
        && !force
        && same_file(o, input)
    {
        return Err(format!(
            "-o {} is the input itself: its result would replace it; name another file (or add --force to replace the input)",
            o.display()
        ));
    }
    let mut jobs: Vec<Job> = sources
        .into_iter()
        .map(|(source, folder)| {
            let destination = match (output, &source) {
                (Some(o), _) if o.as_os_str() == "-" => Destination::Stdout,
                (Some(o), _) => Destination::File {
                    path: o.to_path_buf(),
                    explicit: true,
                },
                (None, Source::Stdin) => Destination::Stdout,
                (None, Source::File(p)) => {
                    let dir = out_dir.map(|d| d.join(&folder));
                    Destination::File {
                        path: derived_path(p, naming, dir.as_deref()),
                        explicit: false,
                    }
                }
                // Named after the URL's last path segment, in --out-dir or here.
                (None, Source::Url(u)) => Destination::File {
                    path: derived_path(&url_file_name(u), naming, out_dir.or(Some(Path::new(".")))),
                    explicit: false,
                },
            };
            let compare = match &destination {
                Destination::File { path, .. } if compare => Some(compare_path(path)),
                _ => None,
            };
            Job {
                source,
                destination,
                compare,
                conflict: None,
            }
        })
        .collect();
    mark_conflicts(&mut jobs);
    Ok(Collected { jobs, set_aside })
}

/// Fails every job whose result (or comparison) name is already taken by an earlier
/// job's, or is one of the inputs.
fn mark_conflicts(jobs: &mut [Job]) {
    let input_keys: HashMap<PathBuf, String> = jobs
        .iter()
        .filter_map(|j| match &j.source {
            Source::File(p) => Some((name_key(p), j.source.display())),
            Source::Stdin | Source::Url(_) => None,
        })
        .collect();
    let input_ids: HashMap<(u64, u64), String> = jobs
        .iter()
        .filter_map(|j| match &j.source {
            Source::File(p) => std::fs::metadata(p)
                .ok()
                .and_then(|m| identity(&m))
                .map(|id| (id, j.source.display())),
            Source::Stdin | Source::Url(_) => None,
        })
        .collect();
    let mut taken: HashMap<PathBuf, String> = HashMap::new();
    for job in jobs.iter_mut() {
        let (result, explicit) = match &job.destination {
            Destination::File { path, explicit } => (path.clone(), *explicit),
            Destination::Stdout => continue,
        };
        let mut names = vec![(result, explicit)];
        names.extend(job.compare.clone().map(|c| (c, false)));
        for (name, explicit) in &names {
            let key = name_key(name);
            // `-o` may name the input itself (the user asked); derived names never may.
            let input = if *explicit {
                None
            } else {
                input_keys.get(&key).cloned().or_else(|| {
                    std::fs::metadata(name)
                        .ok()
                        .and_then(|m| identity(&m))
                        .and_then(|id| input_ids.get(&id).cloned())
                })
            };
            if let Some(input) = input {
                job.conflict = Some(format!(
                    "its result name {} is the input {input}; not overwriting an input",
                    name.display()
                ));
                break;
            }
            if let Some(other) = taken.get(&key) {
                job.conflict = Some(format!(
                    "its result name {} is also the result of {other}; rename one of them or process them separately",
                    name.display()
                ));
                break;
            }
        }
        if job.conflict.is_none() {
            for (name, _) in names {
                taken.insert(name_key(&name), job.source.display());
            }
        }
    }
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

    fn plan<'a>(inputs: &'a [PathBuf], output: Option<&'a Path>) -> Plan<'a> {
        Plan {
            inputs,
            naming: naming("dehaze"),
            output,
            out_dir: None,
            recursive: false,
            compare: false,
            force: false,
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
        let jobs = collect(&plan(&["http://h/p/cat.png".into()], None))
            .unwrap()
            .jobs;
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
        let dehaze = naming("dehaze");
        assert_eq!(
            classify(Path::new("photo.dehaze.jpg"), dehaze),
            Entry::OwnResult
        );
        assert_eq!(
            classify(Path::new("photo.dehaze.bmp.compare.png"), dehaze),
            Entry::OwnResult
        );
        assert_eq!(
            classify(Path::new("photo.dehaze.compare.png"), dehaze),
            Entry::OwnResult
        );
        // Other operations' results, and a user's own dotted names, are inputs.
        assert_eq!(
            classify(Path::new("photo.sky-seg.png"), dehaze),
            Entry::Image
        );
        assert_eq!(classify(Path::new("my.style.jpg"), dehaze), Entry::Image);
        assert_eq!(
            classify(Path::new("my.style.jpg"), naming("style-cartoon")),
            Entry::Image
        );
        assert_eq!(
            classify(Path::new("a.style-cartoon.jpg"), naming("style-cartoon")),
            Entry::OwnResult
        );
        let mask = Naming {
            suffix: "sky-seg",
            extension: Some("png"),
        };
        assert_eq!(
            derived_path(Path::new("photo.jpg"), mask, None),
            PathBuf::from("photo.sky-seg.png")
        );
        assert_eq!(classify(Path::new("photo.JPEG"), dehaze), Entry::Image);
        assert_eq!(classify(Path::new("dehaze.jpg"), dehaze), Entry::Image);
        for (name, reason) in [
            ("notes.txt", ".txt"),
            ("anim.gif", "GIF"),
            ("a.webp", "WebP"),
            ("scan.TIFF", "TIFF"),
            ("README", "no extension"),
        ] {
            let Entry::NotAccepted(why) = classify(Path::new(name), dehaze) else {
                panic!("{name} taken for an image");
            };
            assert!(why.contains(reason), "{name}: {why}");
        }
    }

    #[test]
    fn comparison_names_differ_by_result_format() {
        assert_eq!(
            compare_path(Path::new("d/x.dehaze.png")),
            PathBuf::from("d/x.dehaze.compare.png")
        );
        assert_eq!(
            compare_path(Path::new("d/x.dehaze.bmp")),
            PathBuf::from("d/x.dehaze.bmp.compare.png")
        );
    }

    #[cfg(unix)]
    #[test]
    fn non_utf8_names_keep_their_bytes() {
        use std::os::unix::ffi::OsStrExt as _;
        let a = Path::new(OsStr::from_bytes(b"dir/caf\xe9.jpg"));
        let b = Path::new(OsStr::from_bytes(b"dir/caf\xe8.jpg"));
        let da = derived_path(a, naming("dehaze"), None);
        let db = derived_path(b, naming("dehaze"), None);
        assert_ne!(da, db);
        assert_eq!(da.as_os_str().as_bytes(), b"dir/caf\xe9.dehaze.jpg");
    }

    #[test]
    fn output_needs_a_single_input() {
        let err = collect(&plan(
            &["a.jpg".into(), "b.jpg".into()],
            Some(Path::new("x.jpg")),
        ))
        .unwrap_err();
        assert!(err.contains("--out-dir"));
    }
}
