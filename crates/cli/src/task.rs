//! What one `bdip` operation subcommand asks for: the operation, its parameters, and
//! how results are named.

use std::path::PathBuf;

use crate::args::{
    AnimeArgs, Command, DenoiseArgs, InpaintArgs, ProcessArgs, RectArg, SkySegArgs, StyleArgs,
    StyleName, StylizeArgs,
};
use crate::inputs::Destination;

/// An operation's parameters, as typed on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaskParams {
    None,
    Style(StyleName),
    Anime {
        mask: Option<u8>,
    },
    Inpaint(Vec<RectArg>),
    Denoise {
        strength: u8,
    },
    StylizePreset(u8),
    /// The style image's path; read once before the batch starts.
    StylizeImage(PathBuf),
}

/// One operation subcommand, resolved.
#[derive(Debug, Clone)]
pub struct Task {
    /// The API's wire name, e.g. `style_trans`.
    pub wire: &'static str,
    /// The subcommand's name.
    pub suffix: &'static str,
    pub params: TaskParams,
    /// `sky-seg --scoremap FILE` (`-`: stdout).
    pub scoremap: Option<Destination>,
}

impl Task {
    fn new(wire: &'static str, suffix: &'static str, params: TaskParams) -> Self {
        Self {
            wire,
            suffix,
            params,
            scoremap: None,
        }
    }

    /// What derived result names carry after the input's name: the subcommand, and the
    /// style, preset, strength or mask that tells one result from another
    /// (`photo.style-cartoon.jpg`, `photo.stylize-7.jpg`, `photo.denoise-80.jpg`).
    pub fn result_tag(&self) -> String {
        let name = self.suffix;
        match &self.params {
            TaskParams::None | TaskParams::Inpaint(_) | TaskParams::Anime { mask: None } => {
                name.to_owned()
            }
            TaskParams::Style(style) => format!("{name}-{}", style.api_name()),
            TaskParams::Anime { mask: Some(mask) } => format!("{name}-mask{mask}"),
            TaskParams::Denoise { strength } => format!("{name}-{strength}"),
            TaskParams::StylizePreset(id) => format!("{name}-{id}"),
            TaskParams::StylizeImage(path) => format!("{name}-{}", file_tag(path)),
        }
    }

    /// `--scoremap FILE`'s file (none for stdout).
    pub fn scoremap_path(&self) -> Option<&std::path::Path> {
        match &self.scoremap {
            Some(Destination::File { path, .. }) => Some(path),
            Some(Destination::Stdout) | None => None,
        }
    }

    /// Whether results are PNG masks whatever the input's format.
    pub fn writes_png(&self) -> bool {
        self.wire == "sky_seg"
    }
}

/// A style image's name as a file-name tag: its stem, with anything but letters, digits,
/// `_` and `-` replaced, at most 32 characters (`starry night.jpg` → `starry_night`).
fn file_tag(path: &std::path::Path) -> String {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tag: String = stem
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .take(32)
        .collect();
    if tag.is_empty() {
        "image".to_owned()
    } else {
        tag
    }
}

/// Each operation subcommand and the operation it runs (for its `--help`).
pub const OPERATIONS: [(&str, &str); 15] = [
    ("enhance", "image_quality_enhance"),
    ("dehaze", "dehaze"),
    ("contrast", "contrast_enhance"),
    ("colourize", "colourize"),
    ("stretch-restore", "stretch_restore"),
    ("definition", "image_definition_enhance"),
    ("colour-enhance", "color_enhance"),
    ("style", "style_trans"),
    ("anime", "selfie_anime"),
    ("inpaint", "inpainting"),
    ("sky-seg", "sky_seg"),
    ("demoire", "remove_moire"),
    ("doc-repair", "doc_repair"),
    ("denoise", "denoise"),
    ("stylize", "customize_stylization"),
];

/// The task and the shared arguments of an operation subcommand; `None` for the others.
pub fn of(command: &Command) -> Option<(Task, &ProcessArgs)> {
    use TaskParams as P;
    let plain = |wire, suffix, args| Some((Task::new(wire, suffix, P::None), args));
    match command {
        Command::Enhance(a) => plain("image_quality_enhance", "enhance", a),
        Command::Dehaze(a) => plain("dehaze", "dehaze", a),
        Command::Contrast(a) => plain("contrast_enhance", "contrast", a),
        Command::Colourize(a) => plain("colourize", "colourize", a),
        Command::StretchRestore(a) => plain("stretch_restore", "stretch-restore", a),
        Command::Definition(a) => plain("image_definition_enhance", "definition", a),
        Command::ColourEnhance(a) => plain("color_enhance", "colour-enhance", a),
        Command::Demoire(a) => plain("remove_moire", "demoire", a),
        Command::DocRepair(a) => plain("doc_repair", "doc-repair", a),
        Command::Style(StyleArgs { style, process }) => {
            Some((Task::new("style_trans", "style", P::Style(*style)), process))
        }
        Command::Anime(AnimeArgs { mask_id, process }) => Some((
            Task::new("selfie_anime", "anime", P::Anime { mask: *mask_id }),
            process,
        )),
        Command::Inpaint(InpaintArgs { rects, process }) => Some((
            Task::new("inpainting", "inpaint", P::Inpaint(rects.clone())),
            process,
        )),
        Command::SkySeg(SkySegArgs { scoremap, process }) => Some((
            Task {
                scoremap: scoremap.as_ref().map(|path| {
                    if path.as_os_str() == "-" {
                        Destination::Stdout
                    } else {
                        Destination::File {
                            path: path.clone(),
                            explicit: true,
                        }
                    }
                }),
                ..Task::new("sky_seg", "sky-seg", P::None)
            },
            process,
        )),
        Command::Denoise(DenoiseArgs { strength, process }) => Some((
            Task::new(
                "denoise",
                "denoise",
                P::Denoise {
                    strength: *strength,
                },
            ),
            process,
        )),
        Command::Stylize(StylizeArgs {
            style_id,
            style_image,
            process,
        }) => {
            let params = match (style_id, style_image) {
                (_, Some(path)) => P::StylizeImage(path.clone()),
                (Some(id), None) => P::StylizePreset(*id),
                // clap's argument group requires one of the two.
                (None, None) => P::StylizePreset(0),
            };
            Some((
                Task::new("customize_stylization", "stylize", params),
                process,
            ))
        }
        Command::Token(_) | Command::Serve(_) | Command::Completions { .. } => None,
    }
}
