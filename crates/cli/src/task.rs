//! What one `bdip` operation subcommand asks for: the operation with its typed
//! parameters, read from its flags through the protocol's own parameter decoder, where
//! sky segmentation's scoremap goes, and how results are named.

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use baidu_imageprocess::Operation;
use baidu_imageprocess::protocol::optable::{self, OperationSpec, ParamKind, ReplyKind};
use baidu_imageprocess::protocol::{LimitViolation, ParamFields, Params, Rect, decode_params};
use base64::Engine as _;
use clap::{ArgMatches, FromArgMatches as _};

use crate::args::{self, ProcessArgs};
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

/// The flags of one subcommand as the wire fields they set, for [`decode_params`].
#[derive(Debug, Default)]
struct FlagFields {
    texts: Vec<(&'static str, String)>,
    rectangle: Option<serde_json::Value>,
    /// What results are named with, from the first given flag that tags them.
    variant: Option<String>,
}

impl ParamFields for FlagFields {
    fn text(&self, name: &str) -> Option<Cow<'_, str>> {
        self.texts
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, text)| Cow::Borrowed(text.as_str()))
    }

    fn rectangle(&self) -> Option<Result<serde_json::Value, LimitViolation>> {
        self.rectangle.clone().map(Ok)
    }
}

impl FlagFields {
    /// The fields `row`'s flags set in `matches` (a style image is read here, once).
    fn read(row: &'static OperationSpec, matches: &ArgMatches) -> Result<Self, String> {
        let mut fields = Self::default();
        for (param, flag) in args::flags(row) {
            let (text, tag) = match param.kind {
                ParamKind::Choice { .. } => match matches.get_one::<String>(param.name) {
                    Some(word) => (word.clone(), word.clone()),
                    None => continue,
                },
                ParamKind::Integer { .. } => match matches.get_one::<i64>(param.name) {
                    Some(n) => (n.to_string(), n.to_string()),
                    None => continue,
                },
                ParamKind::Rectangles => {
                    let rects: Vec<&Rect> = matches
                        .get_many::<Rect>(param.name)
                        .map(Iterator::collect)
                        .unwrap_or_default();
                    if !rects.is_empty() {
                        fields.rectangle = Some(rects_json(&rects));
                    }
                    continue;
                }
                ParamKind::Image(_) => match matches.get_one::<PathBuf>(param.name) {
                    Some(path) => {
                        let bytes = std::fs::read(path).map_err(|e| {
                            format!("cannot read --{} {}: {e}", flag.long, path.display())
                        })?;
                        (
                            base64::engine::general_purpose::STANDARD.encode(bytes),
                            file_tag(path),
                        )
                    }
                    None => continue,
                },
                _ => {
                    return Err(format!(
                        "this bdip cannot send --{}; upgrade bdip",
                        flag.long
                    ));
                }
            };
            // A flag valid only with another field's value sets that field too
            // (`--mask-id` is `type=anime_mask`).
            if let Some((field, value)) = param.only_with
                && row.param(field).is_some()
            {
                fields.texts.push((field, value.to_owned()));
            }
            fields.texts.push((param.name, text));
            if let (Some(prefix), None) = (flag.tag, &fields.variant) {
                fields.variant = Some(format!("{prefix}{tag}"));
            }
        }
        Ok(fields)
    }
}

/// Rectangles as the wire's JSON array.
fn rects_json(rects: &[&Rect]) -> serde_json::Value {
    rects
        .iter()
        .map(|r| {
            serde_json::json!({"left": r.left, "top": r.top, "width": r.width, "height": r.height})
        })
        .collect()
}

/// The task and the shared arguments of an operation subcommand; `Ok(None)` for the
/// built-in subcommands; an error (a usage error) when its parameters cannot be formed.
pub fn of(matches: &ArgMatches) -> Result<Option<(Task, ProcessArgs)>, String> {
    let Some((name, sub)) = matches.subcommand() else {
        return Ok(None);
    };
    let Some(row) = optable::table().find(|row| row.cli == name) else {
        return Ok(None);
    };
    let args = ProcessArgs::from_arg_matches(sub).map_err(|e| e.to_string())?;
    let fields = FlagFields::read(row, sub)?;
    let params = decode_params(row.operation, &fields).map_err(|e| format!("{name}: {e}"))?;
    let tag = match &fields.variant {
        Some(variant) => format!("{name}-{variant}"),
        None => name.to_owned(),
    };
    let scoremap = sub
        .try_get_one::<PathBuf>(args::SCOREMAP)
        .ok()
        .flatten()
        .map(|path| {
            if path.as_os_str() == "-" {
                Destination::Stdout
            } else {
                Destination::File {
                    path: path.clone(),
                    explicit: true,
                }
            }
        });
    Ok(Some((
        Task {
            name: name.to_owned(),
            operation: row.operation,
            params,
            tag,
            scoremap,
        },
        args,
    )))
}
