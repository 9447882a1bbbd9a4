//! What one `bdip` operation subcommand asks for: the operation with its typed
//! parameters, where sky segmentation's scoremap goes, and how results are named.

use std::borrow::Cow;
use std::path::Path;

use baidu_imageprocess::Operation;
use baidu_imageprocess::protocol::optable::{self, ReplyKind};
use baidu_imageprocess::protocol::{CustomStyle, Params};

use crate::args::{
    AnimeArgs, Command, DenoiseArgs, InpaintArgs, ProcessArgs, SkySegArgs, StyleArgs, StylizeArgs,
};
use crate::inputs::Destination;

/// One operation subcommand, resolved.
#[derive(Debug, Clone)]
pub struct Task {
    /// The subcommand's name (`style`), as the report names the operation.
    pub name: String,
    pub operation: Operation,
    /// The request's parameters (a `--style-image` is read into them once).
    pub params: Params<'static>,
    /// What derived result names carry after the input's name: the subcommand, and the
    /// style, preset, strength or mask that tells one result from another
    /// (`style-cartoon`, `stylize-7`, `denoise-80`, `anime-mask4`; `dehaze`).
    pub tag: String,
    /// `sky-seg --scoremap FILE` (`-`: stdout).
    pub scoremap: Option<Destination>,
}

impl Task {
    /// `--scoremap FILE`'s file (none for stdout).
    pub fn scoremap_path(&self) -> Option<&Path> {
        match &self.scoremap {
            Some(Destination::File { path, .. }) => Some(path),
            Some(Destination::Stdout) | None => None,
        }
    }

    /// Whether results are PNG masks whatever the input's format.
    pub fn writes_png(&self) -> bool {
        optable::spec(self.operation).reply == ReplyKind::SkySegmentation
    }
}

/// A style image's name as a file-name tag: its stem, with anything but letters, digits,
/// `_` and `-` replaced, at most 32 characters (`starry night.jpg` → `starry_night`).
fn file_tag(path: &Path) -> String {
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

/// The operation each operation subcommand runs, by the subcommand's name; the command
/// line's test checks it against the operation table both ways.
pub fn subcommands() -> [(&'static str, Operation); 15] {
    [
        ("enhance", Operation::ImageQualityEnhance),
        ("dehaze", Operation::Dehaze),
        ("contrast", Operation::ContrastEnhance),
        ("colourize", Operation::Colourize),
        ("stretch-restore", Operation::StretchRestore),
        ("definition", Operation::ImageDefinitionEnhance),
        ("colour-enhance", Operation::ColorEnhance),
        ("style", Operation::StyleTrans),
        ("anime", Operation::SelfieAnime),
        ("inpaint", Operation::Inpainting),
        ("sky-seg", Operation::SkySeg),
        ("demoire", Operation::RemoveMoire),
        ("doc-repair", Operation::DocRepair),
        ("denoise", Operation::Denoise),
        ("stylize", Operation::CustomizeStylization),
    ]
}

/// The parameters of an operation subcommand and the tag that tells its results apart.
fn params_of(command: &Command) -> Result<Option<(Params<'static>, Option<String>)>, String> {
    let plain = |op| {
        Params::defaults(op)
            .map(|params| Some((params, None)))
            .map_err(|e| e.to_string())
    };
    match command {
        Command::Enhance(_) => plain(Operation::ImageQualityEnhance),
        Command::Dehaze(_) => plain(Operation::Dehaze),
        Command::Contrast(_) => plain(Operation::ContrastEnhance),
        Command::Colourize(_) => plain(Operation::Colourize),
        Command::StretchRestore(_) => plain(Operation::StretchRestore),
        Command::Definition(_) => plain(Operation::ImageDefinitionEnhance),
        Command::ColourEnhance(_) => plain(Operation::ColorEnhance),
        Command::Demoire(_) => plain(Operation::RemoveMoire),
        Command::DocRepair(_) => plain(Operation::DocRepair),
        Command::SkySeg(_) => plain(Operation::SkySeg),
        Command::Style(StyleArgs { style, .. }) => Ok(Some((
            Params::StyleTrans(*style),
            Some(style.name().to_owned()),
        ))),
        Command::Anime(AnimeArgs { mask_id, .. }) => Ok(Some((
            Params::SelfieAnime { mask: *mask_id },
            mask_id.map(|mask| format!("mask{}", mask.get())),
        ))),
        Command::Inpaint(InpaintArgs { rects, .. }) => {
            Ok(Some((Params::Inpainting(Cow::Owned(rects.clone())), None)))
        }
        Command::Denoise(DenoiseArgs { strength, .. }) => Ok(Some((
            Params::Denoise(*strength),
            Some(strength.get().to_string()),
        ))),
        Command::Stylize(StylizeArgs {
            style_id,
            style_image,
            ..
        }) => match (style_id, style_image) {
            // The style image wins, as on the wire.
            (_, Some(path)) => {
                let bytes = std::fs::read(path)
                    .map_err(|e| format!("cannot read the style image {}: {e}", path.display()))?;
                Ok(Some((
                    Params::CustomizeStylization(CustomStyle::Image(Cow::Owned(bytes))),
                    Some(file_tag(path)),
                )))
            }
            (Some(id), None) => Ok(Some((
                Params::CustomizeStylization(CustomStyle::Preset(*id)),
                Some(id.get().to_string()),
            ))),
            (None, None) => Err("stylize needs --style-id N or --style-image FILE".into()),
        },
        Command::Token(_) | Command::Serve(_) | Command::Completions { .. } => Ok(None),
    }
}

/// The shared arguments of an operation subcommand; `None` for the others.
fn process_args(command: &Command) -> Option<&ProcessArgs> {
    match command {
        Command::Enhance(a)
        | Command::Dehaze(a)
        | Command::Contrast(a)
        | Command::Colourize(a)
        | Command::StretchRestore(a)
        | Command::Definition(a)
        | Command::ColourEnhance(a)
        | Command::Demoire(a)
        | Command::DocRepair(a)
        | Command::Style(StyleArgs { process: a, .. })
        | Command::Anime(AnimeArgs { process: a, .. })
        | Command::Inpaint(InpaintArgs { process: a, .. })
        | Command::SkySeg(SkySegArgs { process: a, .. })
        | Command::Denoise(DenoiseArgs { process: a, .. })
        | Command::Stylize(StylizeArgs { process: a, .. }) => Some(a),
        Command::Token(_) | Command::Serve(_) | Command::Completions { .. } => None,
    }
}

/// The task and the shared arguments of the operation subcommand `name`; `Ok(None)` for
/// the other subcommands; an error (a usage error) when its parameters cannot be formed.
pub fn of<'c>(name: &str, command: &'c Command) -> Result<Option<(Task, &'c ProcessArgs)>, String> {
    let (Some((params, variant)), Some(args)) = (params_of(command)?, process_args(command)) else {
        return Ok(None);
    };
    let tag = match variant {
        Some(variant) => format!("{name}-{variant}"),
        None => name.to_owned(),
    };
    let scoremap = match command {
        Command::SkySeg(SkySegArgs {
            scoremap: Some(path),
            ..
        }) => Some(if path.as_os_str() == "-" {
            Destination::Stdout
        } else {
            Destination::File {
                path: path.clone(),
                explicit: true,
            }
        }),
        _ => None,
    };
    Ok(Some((
        Task {
            name: name.to_owned(),
            operation: params.operation(),
            params,
            tag,
            scoremap,
        },
        args,
    )))
}
