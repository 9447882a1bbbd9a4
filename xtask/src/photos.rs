//! `cargo xtask photos [--dir DIR]`: fetches the freely licensed photographs the engine is
//! trained and measured on, and writes their manifest.
//!
//! Sources: Debian's wallpaper packages (`apt-get download` + `dpkg-deb -x`, nothing is
//! installed) and the sample photos shipped inside the scikit-image, matplotlib and
//! scikit-learn wheels (`pip download --no-deps`, unzipped). Only photographs are kept; the
//! renders and drawings of the packages were looked at and left out (see [`CATALOGUE`]).
//!
//! The photos are not committed; `xtask/photos.tsv` (name, source, licence, split, notes) is.
//! Other tasks find the photos with [`photo_dir`] and load a split with [`load`].

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};
use image::RgbImage;

/// Where the photos go unless `--dir` (or `BDIP_PHOTOS` for the readers) says otherwise.
pub const DEFAULT_DIR: &str = "target/photos";
/// The committed manifest.
pub const MANIFEST: &str = "xtask/photos.tsv";

const DEBIAN_PACKAGES: [&str; 3] = [
    "lomiri-wallpapers-16.04",
    "lomiri-wallpapers-20.04",
    "plasma-workspace-wallpapers",
];
const WHEELS: [&str; 3] = ["scikit-image", "matplotlib", "scikit-learn"];

/// Where a photo comes from.
#[derive(Clone, Copy, Debug)]
enum Origin {
    /// A Debian package and the file's path inside it.
    Deb(&'static str, &'static str),
    /// A Plasma wallpaper: the largest image of `usr/share/wallpapers/<name>/contents/images`.
    Plasma(&'static str),
    /// A Python wheel (project name) and the file's path inside it, with the licence its
    /// own documentation gives (the wheels carry no per-file copyright file).
    Wheel(&'static str, &'static str, &'static str),
}

/// One photograph: the file name it gets, where it comes from, and what it shows that matters
/// for the operations (naturally hazy, dark, flat or nearly grey photos are named).
#[derive(Clone, Copy, Debug)]
struct Entry {
    name: &'static str,
    origin: Origin,
    notes: &'static str,
}

const L16: &str = "lomiri-wallpapers-16.04";
const L20: &str = "lomiri-wallpapers-20.04";
const BG: &str = "usr/share/backgrounds/";

/// Every photograph kept. Left out after looking at them: `umang_by_Abhishek_Mudgal`
/// (a colour gradient), `Fossa_by_Jasper_Roks` and `Painting-Colors_by__herobrine7gamer`
/// (drawings), `Infinite-Sea_by_Aury88` (a photo under a graphic colour overlay); in Plasma
/// Altai, Autumn, Canopee, Cascade, Cluster, Elarun, Flow, FlyingKonqui, Honeywave, IceCold,
/// Kay, Kokkini, MilkyWay, Opal, PastelHills, Patak, SafeLanding, Shell and Volna (renders);
/// in scikit-image the microscopy, astronomy, medical and synthetic images.
const CATALOGUE: &[Entry] = &[
    deb(L16, "Bridge_by_Sander_Klootwijk.jpg", "sky, thin cables"),
    deb(L16, "Dragonfly_by_Bolly.jpg", "foliage, fine detail"),
    deb(L16, "Picture_0B_by_freespace.jpg", "saturated red"),
    deb(L16, "Picture_1A_by_freespace.jpg", "saturated brushes"),
    deb(L16, "Wine_by_Jakkub_Mede.jpg", "indoor"),
    deb(
        L16,
        "aitzgorri_by_Aitzol_Berasategi.jpg",
        "landscape, light haze",
    ),
    deb(
        L16,
        "analogpattern_by_Peter_Nerlich.jpg",
        "textured glass, flat",
    ),
    deb(L16, "free_by_Peter_Nerlich.jpg", "bright, low contrast"),
    deb(L16, "friends_by_Aitzol_Berasategi.jpg", "dog, white walls"),
    deb(L16, "greentock_by_Peter_Nerlich.jpg", "nearly grey, flat"),
    deb(L16, "life_by_Aitzol_Berasategi.jpg", "stream, texture"),
    deb(
        L16,
        "picosdeeuropa_by_Aitzol_Berasategi.jpg",
        "mountains, sky",
    ),
    deb(
        L16,
        "seeding_by_Clements_Engelhardt.jpg",
        "dandelions, bokeh",
    ),
    deb(
        L16,
        "sunset_by_Aitzol_Berasategi.jpg",
        "backlit sun, hazy distance",
    ),
    deb(L20, "Kleiber_by_Lukas_Baubkus.jpg", "bird on bark, bokeh"),
    plasma("plasma-BytheWater.jpg", "BytheWater", "jetty, toned"),
    plasma(
        "plasma-ColdRipple.jpg",
        "ColdRipple",
        "fog, nearly grey, hazy",
    ),
    plasma("plasma-ColorfulCups.jpg", "ColorfulCups", "saturated cups"),
    plasma("plasma-DarkestHour.jpg", "DarkestHour", "dark, hazy, flat"),
    plasma("plasma-EveningGlow.jpg", "EveningGlow", "boats at dusk"),
    plasma("plasma-FallenLeaf.jpg", "FallenLeaf", "leaf, bokeh"),
    plasma("plasma-Grey.jpg", "Grey", "monochrome architecture"),
    plasma("plasma-Kite.jpg", "Kite", "sky, clouds"),
    plasma(
        "plasma-OneStandsOut.jpg",
        "OneStandsOut",
        "plants from above, dark",
    ),
    plasma("plasma-Path.jpg", "Path", "forest path, dark"),
    plasma(
        "plasma-summer_1am.jpg",
        "summer_1am",
        "lake at dawn, hazy, flat",
    ),
    wheel(
        "skimage-astronaut.png",
        "scikit-image",
        "skimage/data/astronaut.png",
        "public domain (NASA; skimage.data.astronaut)",
        "portrait",
    ),
    wheel(
        "skimage-chelsea.png",
        "scikit-image",
        "skimage/data/chelsea.png",
        "CC0-1.0 (Stefan van der Walt; skimage.data.chelsea)",
        "cat, fur",
    ),
    wheel(
        "skimage-coffee.png",
        "scikit-image",
        "skimage/data/coffee.png",
        "CC0-1.0 (Rachel Michetti; skimage.data.coffee)",
        "cup, wood",
    ),
    wheel(
        "skimage-rocket.jpg",
        "scikit-image",
        "skimage/data/rocket.jpg",
        "public domain (SpaceX; skimage.data.rocket)",
        "launch, sky, JPEG artefacts",
    ),
    wheel(
        "skimage-motorcycle_left.png",
        "scikit-image",
        "skimage/data/motorcycle_left.png",
        "Middlebury 2014 stereo data set (skimage.data.stereo_motorcycle)",
        "indoor, machine",
    ),
    wheel(
        "sklearn-china.jpg",
        "scikit-learn",
        "sklearn/datasets/images/china.jpg",
        "CC-BY-2.0 (danielbuechele; sklearn/datasets/images/README.txt)",
        "temple, sky",
    ),
    wheel(
        "sklearn-flower.jpg",
        "scikit-learn",
        "sklearn/datasets/images/flower.jpg",
        "CC-BY-2.0 (vultilion; sklearn/datasets/images/README.txt)",
        "flower, saturated",
    ),
    wheel(
        "matplotlib-grace_hopper.jpg",
        "matplotlib",
        "matplotlib/mpl-data/sample_data/grace_hopper.jpg",
        "public domain (US Navy photograph; shipped under matplotlib's LICENSE)",
        "portrait",
    ),
];

const fn deb(package: &'static str, file: &'static str, notes: &'static str) -> Entry {
    Entry {
        name: file,
        origin: Origin::Deb(package, file),
        notes,
    }
}

const fn plasma(name: &'static str, wallpaper: &'static str, notes: &'static str) -> Entry {
    Entry {
        name,
        origin: Origin::Plasma(wallpaper),
        notes,
    }
}

const fn wheel(
    name: &'static str,
    project: &'static str,
    path: &'static str,
    licence: &'static str,
    notes: &'static str,
) -> Entry {
    Entry {
        name,
        origin: Origin::Wheel(project, path, licence),
        notes,
    }
}

/// Training or validation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Split {
    Train,
    Validation,
}

impl Split {
    fn as_str(self) -> &'static str {
        match self {
            Split::Train => "train",
            Split::Validation => "validation",
        }
    }
}

/// The fixed rule: FNV-1a of the photo's name; one in three goes to validation. It depends
/// on nothing but the name, so adding a photo never moves another.
fn split_of(name: &str) -> Split {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in name.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    if h.is_multiple_of(3) {
        Split::Validation
    } else {
        Split::Train
    }
}

/// One row of the manifest.
#[derive(Clone, Debug)]
pub struct ManifestRow {
    pub name: String,
    pub source: String,
    pub licence: String,
    pub split: Split,
    pub notes: String,
}

/// The photo folder: `BDIP_PHOTOS`, else `--photos DIR` in `args`, else [`DEFAULT_DIR`].
pub fn photo_dir(args: &[String]) -> PathBuf {
    if let Some(d) = args
        .iter()
        .position(|a| a == "--photos")
        .and_then(|i| args.get(i + 1))
    {
        return PathBuf::from(d);
    }
    std::env::var_os("BDIP_PHOTOS").map_or_else(|| PathBuf::from(DEFAULT_DIR), PathBuf::from)
}

/// Reads the committed manifest.
pub fn manifest() -> Result<Vec<ManifestRow>> {
    let text = std::fs::read_to_string(MANIFEST)
        .with_context(|| format!("reading {MANIFEST} (run from the workspace root)"))?;
    let mut rows = Vec::new();
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split('\t').collect();
        let [name, source, licence, split, notes] = f.as_slice() else {
            bail!("malformed manifest line: {line}");
        };
        rows.push(ManifestRow {
            name: (*name).to_owned(),
            source: (*source).to_owned(),
            licence: (*licence).to_owned(),
            split: if *split == "validation" {
                Split::Validation
            } else {
                Split::Train
            },
            notes: (*notes).to_owned(),
        });
    }
    Ok(rows)
}

/// Loads every photo of `split` from `dir`, in manifest order.
pub fn load(dir: &Path, split: Split) -> Result<Vec<(String, RgbImage)>> {
    let mut out = Vec::new();
    for row in manifest()?.into_iter().filter(|r| r.split == split) {
        let path = dir.join(&row.name);
        let img = image::open(&path).with_context(|| {
            format!(
                "reading {}; fetch the photos with `cargo xtask photos --dir {}`",
                path.display(),
                dir.display()
            )
        })?;
        out.push((row.name, img.to_rgb8()));
    }
    Ok(out)
}

fn run_ok(cmd: &mut Command) -> Result<()> {
    let status = cmd.status().with_context(|| format!("running {cmd:?}"))?;
    if !status.success() {
        bail!("{cmd:?} failed ({status})");
    }
    Ok(())
}

pub fn run(args: &[String]) -> Result<()> {
    let dir = args
        .iter()
        .position(|a| a == "--dir")
        .and_then(|i| args.get(i + 1))
        .map_or_else(|| PathBuf::from(DEFAULT_DIR), PathBuf::from);
    std::fs::create_dir_all(&dir)?;
    let work = dir.join(".download");
    std::fs::create_dir_all(&work)?;

    // Debian packages: download only, then unpack the archives without installing.
    let download = || {
        Command::new("apt-get")
            .arg("download")
            .args(DEBIAN_PACKAGES)
            .current_dir(&work)
            .status()
            .is_ok_and(|s| s.success())
    };
    if !download() {
        eprintln!("apt-get download failed; running apt-get update once and retrying");
        run_ok(Command::new("apt-get").arg("update"))?;
        if !download() {
            bail!("apt-get download {DEBIAN_PACKAGES:?} failed");
        }
    }
    for package in DEBIAN_PACKAGES {
        let deb = std::fs::read_dir(&work)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .find(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with(&format!("{package}_")) && n.ends_with(".deb"))
            })
            .with_context(|| format!("no .deb for {package}"))?;
        run_ok(
            Command::new("dpkg-deb")
                .arg("-x")
                .arg(&deb)
                .arg(work.join(package)),
        )?;
    }

    // Python wheels: download without dependencies and unzip.
    let wheels = work.join("wheels");
    run_ok(
        Command::new("python3")
            .args([
                "-m",
                "pip",
                "download",
                "--quiet",
                "--no-deps",
                "--disable-pip-version-check",
                "-d",
            ])
            .arg(&wheels)
            .args(WHEELS),
    )?;
    let unzipped = work.join("py");
    for entry in std::fs::read_dir(&wheels)? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "whl") {
            run_ok(
                Command::new("python3")
                    .args(["-m", "zipfile", "-e"])
                    .arg(&path)
                    .arg(&unzipped),
            )?;
        }
    }

    let mut rows = Vec::new();
    for entry in CATALOGUE {
        let (from, source, licence) = match entry.origin {
            Origin::Deb(package, file) => {
                let licence = debian_licence(&work.join(package), package, file)?;
                (
                    work.join(package).join(BG).join(file),
                    format!("debian:{package}"),
                    licence,
                )
            }
            Origin::Plasma(name) => {
                let package = "plasma-workspace-wallpapers";
                let root = work.join(package).join("usr/share/wallpapers").join(name);
                let file = largest_image(&root.join("contents/images"))?;
                let copyright = debian_licence(&work.join(package), package, name)?;
                let meta = metadata_licence(&root).unwrap_or_default();
                (
                    file,
                    format!("debian:{package}"),
                    if meta.is_empty() {
                        copyright
                    } else {
                        format!("{copyright} (metadata.json: {meta})")
                    },
                )
            }
            Origin::Wheel(project, path, licence) => (
                unzipped.join(path),
                format!("pypi:{project}"),
                licence.to_owned(),
            ),
        };
        let name = entry.name.to_owned();
        std::fs::copy(&from, dir.join(&name))
            .with_context(|| format!("copying {}", from.display()))?;
        let split = split_of(&name);
        rows.push(ManifestRow {
            name,
            source,
            licence,
            split,
            notes: entry.notes.to_owned(),
        });
    }
    std::fs::remove_dir_all(&work)?;

    let mut tsv = String::from("name\tsource\tlicence\tsplit\tnotes\n");
    for r in &rows {
        tsv.push_str(&format!(
            "{}\t{}\t{}\t{}\t{}\n",
            r.name,
            r.source,
            r.licence,
            r.split.as_str(),
            r.notes
        ));
    }
    std::fs::write(dir.join("manifest.tsv"), &tsv)?;
    if Path::new("xtask").is_dir() {
        std::fs::write(MANIFEST, &tsv)?;
        println!("wrote {MANIFEST}");
    }
    let validation = rows.iter().filter(|r| r.split == Split::Validation).count();
    println!(
        "{} photos in {} ({} training, {validation} validation)",
        rows.len(),
        dir.display(),
        rows.len() - validation
    );
    Ok(())
}

/// The licence of `file` from the package's Debian copyright file: the first `Files:`
/// stanza whose patterns match the file's name (the last path part), else `Files: *`.
fn debian_licence(root: &Path, package: &str, file: &str) -> Result<String> {
    let path = root.join("usr/share/doc").join(package).join("copyright");
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let mut fallback = None;
    for stanza in text.split("\n\n") {
        let field = |key: &str| {
            stanza
                .lines()
                .find_map(|l| l.strip_prefix(key))
                .map(|v| v.trim().to_owned())
        };
        let (Some(files), Some(licence)) = (field("Files:"), field("License:")) else {
            continue;
        };
        for pattern in files.split_whitespace() {
            if pattern == "*" {
                fallback.get_or_insert_with(|| licence.clone());
            } else if pattern.rsplit('/').next() == Some(file) {
                return Ok(licence);
            }
        }
    }
    fallback.with_context(|| format!("no licence for {file} in {}", path.display()))
}

fn metadata_licence(root: &Path) -> Option<String> {
    let text = std::fs::read_to_string(root.join("metadata.json")).ok()?;
    let json: serde_json::Value = serde_json::from_str(&text).ok()?;
    json.pointer("/KPlugin/License")
        .and_then(|v| v.as_str())
        .map(str::to_owned)
}

/// The image with the most pixels by its `WxH.ext` name.
fn largest_image(dir: &Path) -> Result<PathBuf> {
    let mut best: Option<(u64, PathBuf)> = None;
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        let Some(stem) = path.file_stem().and_then(|s| s.to_str()) else {
            continue;
        };
        let Some((w, h)) = stem.split_once('x') else {
            continue;
        };
        let (Ok(w), Ok(h)) = (w.parse::<u64>(), h.parse::<u64>()) else {
            continue;
        };
        if best.as_ref().is_none_or(|(a, _)| w * h > *a) {
            best = Some((w * h, path));
        }
    }
    best.map(|(_, p)| p)
        .with_context(|| format!("no image in {}", dir.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_is_a_function_of_the_name_and_takes_about_a_third() {
        let validation = CATALOGUE
            .iter()
            .filter(|e| split_of(e.name) == Split::Validation)
            .count();
        assert!(validation * 5 > CATALOGUE.len() && validation * 2 < CATALOGUE.len());
        assert_eq!(split_of("a.jpg"), split_of("a.jpg"));
    }
}
