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
