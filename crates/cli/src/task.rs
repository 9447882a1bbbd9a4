//! What one `bdip` operation subcommand asks for: the operation, its parameters, and
//! how results are named.

use std::path::PathBuf;

use crate::args::{
    AnimeArgs, Command, DenoiseArgs, InpaintArgs, ProcessArgs, RectArg, SkySegArgs, StyleArgs,
    StyleName, StylizeArgs,
};

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
    /// The subcommand's name, used in derived file names (`photo.style.jpg`).
    pub suffix: &'static str,
    pub params: TaskParams,
    /// `sky-seg --scoremap FILE`.
    pub scoremap: Option<PathBuf>,
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

    /// Whether results are PNG masks whatever the input's format.
    pub fn writes_png(&self) -> bool {
        self.wire == "sky_seg"
    }
}

/// Every derived-name suffix, so a folder's earlier results are not taken for inputs.
pub const SUFFIXES: [&str; 15] = [
    "enhance",
    "dehaze",
    "contrast",
    "colourize",
    "stretch-restore",
    "definition",
    "colour-enhance",
    "style",
    "anime",
    "inpaint",
    "sky-seg",
    "demoire",
    "doc-repair",
    "denoise",
    "stylize",
];

/// Each operation subcommand's image limits, in words (JPEG, PNG or BMP, no `data:`
/// header, for all).
pub const LIMITS: [(&str, &str); 15] = [
    (
        "enhance",
        "base64 ≤ 4 MiB; width × height ≤ 640000 px (800 × 800)",
    ),
    ("dehaze", "base64 ≤ 4 MiB; sides 200–4096 px; aspect ≤ 3:1"),
    ("contrast", "base64 ≤ 4 MiB; sides 64–4096 px; aspect ≤ 3:1"),
    ("colourize", "base64 ≤ 4 MiB; sides 64–800 px; aspect ≤ 3:1"),
    (
        "stretch-restore",
        "base64 ≤ 10 MiB; sides 10–5000 px; aspect ≤ 4:1",
    ),
    (
        "definition",
        "base64 ≤ 10 MiB; sides 10–5000 px; aspect ≤ 4:1",
    ),
    (
        "colour-enhance",
        "base64 ≤ 10 MiB; sides 10–5000 px; aspect ≤ 4:1",
    ),
    ("style", "base64 ≤ 10 MiB; sides 10–5000 px; aspect ≤ 4:1"),
    ("anime", "base64 ≤ 10 MiB; sides 10–5000 px; aspect ≤ 4:1"),
    (
        "inpaint",
        "base64 ≤ 10 MiB; sides 10–5000 px; aspect ≤ 4:1; rectangles inside the image",
    ),
    ("sky-seg", "base64 ≤ 10 MiB; sides 10–5000 px; aspect ≤ 4:1"),
    ("demoire", "base64 ≤ 4 MiB; sides 15–4096 px"),
    ("doc-repair", "base64 ≤ 4 MiB; sides 50–4096 px"),
    ("denoise", "base64 ≤ 3 MiB; sides 50–1999 px"),
    (
        "stylize",
        "base64 ≤ 4 MiB; sides 50–4096 px (the style image too)",
    ),
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
                scoremap: scoremap.clone(),
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
