//! Command-line arguments.

use std::path::PathBuf;

use baidu_imageprocess::protocol::{AnimeMask, Rect, Strength, Style, StyleId, optable};
use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
use clap::{Args, CommandFactory as _, Parser, Subcommand};

/// The command line, with each operation's limits in its `--help`.
pub fn command() -> clap::Command {
    let mut command = Cli::command();
    for (name, op) in crate::task::subcommands() {
        let spec = optable::spec(op);
        let limits = optable::describe_limits(&spec.limits);
        let wire = op.name();
        command = command.mut_subcommand(name, |sub| {
            sub.after_help(format!(
                "Limits ({wire}): JPEG, PNG or BMP; {limits}. Images are checked before upload (--fit shrinks or pads instead)."
            ))
        });
    }
    command
}

const EXAMPLES: &str = "\
Examples:
  bdip dehaze examples/images/hazy.jpg -o dehazed.jpg     # embedded local engine
  bdip enhance photo.jpg -o photo-2x.png                  # a PNG: the name says so
  bdip enhance photos/ -r --out-dir big/ --jobs 8         # a whole folder
  bdip style --style pencil portrait.jpg                  # portrait.style-pencil.jpg
  bdip inpaint --rect 40,30,120,80 photo.png              # fill a rectangle
  bdip sky-seg city.jpg --scoremap city.sky.png           # mask, and the probability map
  bdip denoise --strength 80 https://example.com/a.jpg    # a URL is sent as `url`
  BAIDU_API_KEY=.. BAIDU_SECRET_KEY=.. bdip contrast dim.jpg   # Baidu's service
  bdip colourize old.png --endpoint http://127.0.0.1:8080 # an emulator or proxy
  cat in.jpg | bdip dehaze - -o - > out.jpg               # stdin to stdout
  bdip serve --listen 127.0.0.1:8080                      # run the emulator
  bdip token                                              # check credentials

Exit status: 0 all done, 1 some images failed, or a directory argument had nothing to
process (or the --report could not be written), 2 usage or configuration error (an output
that cannot be written is found before anything is sent), 130 interrupted (Ctrl-C: images in flight finish and the
summary and report are written; a second Ctrl-C stops at once).";

/// Baidu's image-process API (all fifteen operations) from the terminal, or on the
/// embedded local engine when no credentials are set.
#[derive(Debug, Parser)]
#[command(name = "bdip", version, after_help = EXAMPLES)]
pub struct Cli {
    /// More logging on stderr (-v debug, -vv trace); RUST_LOG overrides. Secrets are never logged.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// 2x "lossless" upscale (input area at most 800×800 px).
    Enhance(ProcessArgs),
    /// Remove haze (sides 200–4096 px, aspect at most 3:1).
    Dehaze(ProcessArgs),
    /// Enhance contrast (sides 64–4096 px, aspect at most 3:1).
    Contrast(ProcessArgs),
    /// Colourise a black-and-white photo (sides 64–800 px, aspect at most 3:1).
    #[command(alias = "colorize")]
    Colourize(ProcessArgs),
    /// Undo a horizontal or vertical stretch (`stretch_restore`).
    StretchRestore(ProcessArgs),
    /// Sharpen a soft, compressed photo (`image_definition_enhance`).
    Definition(ProcessArgs),
    /// Restore faded colour (`color_enhance`).
    #[command(alias = "color-enhance")]
    ColourEnhance(ProcessArgs),
    /// Paint the photo in one of nine styles (`style_trans`).
    Style(StyleArgs),
    /// Anime look for portraits, optionally wearing a mask (`selfie_anime`).
    Anime(AnimeArgs),
    /// Fill rectangles from their surroundings (`inpainting`).
    Inpaint(InpaintArgs),
    /// Sky segmentation: writes the 0/255 sky mask as PNG (`sky_seg`).
    SkySeg(SkySegArgs),
    /// Remove moiré from photographed screens and prints (`remove_moire`).
    Demoire(ProcessArgs),
    /// Remove shading and shadows from photographed documents (`doc_repair`).
    DocRepair(ProcessArgs),
    /// Remove noise (`denoise`).
    Denoise(DenoiseArgs),
    /// One of thirty style presets, or the look of a style image (`customize_stylization`).
    Stylize(StylizeArgs),
    /// Fetch an access token and print its lifetime (the token itself only with --show).
    Token(TokenArgs),
    /// Serve the API locally (the emulator), backed by the embedded engine.
    Serve(baidu_imageprocess_emulator::cli::ServeArgs),
    /// Print shell completions.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

/// Where requests go and how they authenticate.
#[derive(Debug, Clone, Args)]
pub struct Connection {
    /// Baidu API Key.
    #[arg(long, env = "BAIDU_API_KEY", hide_env_values = true)]
    pub api_key: Option<String>,
    /// Baidu Secret Key.
    #[arg(long, env = "BAIDU_SECRET_KEY", hide_env_values = true)]
    pub secret_key: Option<String>,
    /// Base URL of the service (an emulator or a proxy); default `https://aip.baidubce.com`.
    #[arg(long, env = "BAIDU_IMAGEPROCESS_ENDPOINT")]
    pub endpoint: Option<String>,
    /// Most seconds for one image, retries included (1–86400).
    #[arg(long, value_name = "SECS", default_value_t = 180, value_parser = timeout_secs)]
    pub timeout: u64,
    /// Share one QPS budget and one access token, through Redis, with every bdip process
    /// (on any machine) given the same URL and API key: `redis://[:PASSWORD@]HOST:PORT/DB`.
    /// --qps is then the whole fleet's rate per operation. Unreachable at start: exit 2,
    /// nothing sent; lost mid-run: a warning, then this process paces at its share.
    #[arg(long, value_name = "URL", env = "BDIP_BUDGET", hide_env_values = true)]
    pub budget: Option<String>,
}

/// Arguments every operation takes.
#[allow(clippy::struct_excessive_bools)] // independent command-line switches
#[derive(Debug, Clone, Args)]
pub struct ProcessArgs {
    /// Image files or directories; `-` reads one image from stdin; an http:// or https://
    /// URL is sent as `url` (the service fetches it; the local engine fetches it itself).
    /// Only regular files are read (FIFOs and devices are refused), each once.
    #[arg(required = true, value_name = "INPUT")]
    pub inputs: Vec<PathBuf>,
    /// Result file for a single input (`-` for stdout), written in the format its
    /// extension names (.jpg/.jpeg, .png or .bmp; other extensions get the service's bytes
    /// as they are; .gif, .webp, .tiff are refused); overwritten if it is a regular file,
    /// written through if it is a symlink, written into if it is a device or FIFO. Never
    /// the input itself unless --force. Missing parent directories are created.
    #[arg(short, long, value_name = "FILE", conflicts_with = "out_dir")]
    pub output: Option<PathBuf>,
    /// Write results into this directory, keeping each image's folder relative to its
    /// directory argument (default: next to each input). Created if missing. Results are
    /// named NAME.OP.EXT, with the style, preset, strength or mask of parameterised
    /// operations (NAME.style-cartoon.EXT, NAME.stylize-7.EXT, NAME.denoise-80.EXT).
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
    /// Descend into directories. In a directory, files other than .jpg, .jpeg, .png and
    /// .bmp, and files named like this command's own results, are skipped and counted (-v
    /// lists them).
    #[arg(short, long)]
    pub recursive: bool,
    /// Replace existing result files with derived names (never an input file), and let
    /// -o or --scoremap name the input itself, which is then replaced by the result.
    #[arg(long)]
    pub force: bool,
    /// Shrink (or pad) images that exceed the operation's limits instead of failing them.
    /// PNG and JPEG files are decoded streaming (up to 1000 Mpx and 4 GiB, in bounded
    /// memory); BMP, interlaced PNG and stdin are read whole (up to 50 Mpx and 64 MiB).
    #[arg(long)]
    pub fit: bool,
    /// Images processed at once (1–256).
    #[arg(short, long, value_name = "N", default_value_t = 4, value_parser = jobs)]
    pub jobs: usize,
    /// At most N requests per second (the service's QPS limit; 0.001–10000).
    #[arg(long, value_name = "N", value_parser = qps)]
    pub qps: Option<f64>,
    /// Write a JSON report of every image to FILE (missing parent directories are
    /// created); a report that cannot be written makes the run fail.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// Also write a side-by-side before/after PNG next to each result.
    #[arg(long)]
    pub compare: bool,
    /// Use the embedded local engine even if credentials are set.
    #[arg(long)]
    pub local: bool,
    /// Connection settings.
    #[command(flatten)]
    pub connection: Connection,
}

/// Arguments of `bdip token`.
#[derive(Debug, Clone, Args)]
pub struct TokenArgs {
    /// Print the token itself (it grants access to your account: keep it secret).
    #[arg(long)]
    pub show: bool,
    /// Connection settings.
    #[command(flatten)]
    pub connection: Connection,
}

/// Most images at once: more only multiplies memory and open connections.
pub const MAX_JOBS: usize = 256;
/// Longest `--timeout`: one day.
pub const MAX_TIMEOUT_SECS: u64 = 86_400;
/// `--qps` range: below one request in 1000 s, or above 10 000 per second, is a typo.
pub const QPS_RANGE: (f64, f64) = (0.001, 10_000.0);

fn jobs(text: &str) -> Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(n) if (1..=MAX_JOBS).contains(&n) => Ok(n),
        _ => Err(format!("expected a whole number from 1 to {MAX_JOBS}")),
    }
}

fn timeout_secs(text: &str) -> Result<u64, String> {
    match text.trim().parse::<u64>() {
        Ok(n) if (1..=MAX_TIMEOUT_SECS).contains(&n) => Ok(n),
        _ => Err(format!(
            "expected a whole number of seconds from 1 to {MAX_TIMEOUT_SECS}"
        )),
    }
}

fn qps(text: &str) -> Result<f64, String> {
    let (low, high) = QPS_RANGE;
    match text.trim().parse::<f64>() {
        Ok(q) if q.is_finite() && (low..=high).contains(&q) => Ok(q),
        _ => Err(format!("expected a number from {low} to {high}")),
    }
}

/// `--style NAME`: the nine styles of `style_trans` by their API names (hyphens and the
/// British spelling accepted for `color_pencil`), parsed into the protocol's [`Style`].
fn style_parser() -> impl TypedValueParser<Value = Style> {
    let names = Style::ALL.map(|style| {
        let value = PossibleValue::new(style.name());
        match style {
            Style::ColorPencil => value.aliases(["color-pencil", "colour-pencil", "colour_pencil"]),
            Style::Cartoon
            | Style::Pencil
            | Style::Warm
            | Style::Wave
            | Style::Lavender
            | Style::Mononoke
            | Style::Scream
            | Style::Gothic => value,
        }
    });
    PossibleValuesParser::new(names).try_map(|name| name.parse::<Style>())
}

/// An integer flag within a protocol parameter's range, parsed into its type (clap
/// states the range when a value is outside it).
macro_rules! bounded_parser {
    ($name:ident, $type:ty) => {
        fn $name() -> impl TypedValueParser<Value = $type> {
            clap::value_parser!(u8)
                .range(i64::from(<$type>::MIN)..=i64::from(<$type>::MAX))
                .try_map(<$type>::new)
        }
    };
}
bounded_parser!(mask_parser, AnimeMask);
bounded_parser!(strength_parser, Strength);
bounded_parser!(style_id_parser, StyleId);

/// Arguments of `bdip style`.
#[derive(Debug, Clone, Args)]
pub struct StyleArgs {
    /// The style.
    #[arg(long, value_name = "NAME", value_parser = style_parser())]
    pub style: Style,
    #[command(flatten)]
    pub process: ProcessArgs,
}

/// Arguments of `bdip anime`.
#[derive(Debug, Clone, Args)]
pub struct AnimeArgs {
    /// Wear mask N (1–8); without it, no mask.
    #[arg(long, value_name = "N", value_parser = mask_parser())]
    pub mask_id: Option<AnimeMask>,
    #[command(flatten)]
    pub process: ProcessArgs,
}

/// Parses `LEFT,TOP,WIDTH,HEIGHT` (non-negative integers, width and height at least 1).
pub fn parse_rect(text: &str) -> Result<Rect, String> {
    let usage = || {
        format!(
            "`{text}` is not LEFT,TOP,WIDTH,HEIGHT: four non-negative integers in pixels, width and height at least 1 (e.g. 40,30,120,80)"
        )
    };
    let parts: Vec<u32> = text
        .split(',')
        .map(|p| p.trim().parse::<u32>())
        .collect::<Result<_, _>>()
        .map_err(|_| usage())?;
    match parts[..] {
        [left, top, width, height] if width > 0 && height > 0 => {
            Ok(Rect::new(left, top, width, height))
        }
        _ => Err(usage()),
    }
}

/// Arguments of `bdip inpaint`.
#[derive(Debug, Clone, Args)]
pub struct InpaintArgs {
    /// A rectangle to fill, in pixels (repeatable; each must lie inside the image).
    #[arg(long = "rect", value_name = "LEFT,TOP,WIDTH,HEIGHT", required = true, value_parser = parse_rect)]
    pub rects: Vec<Rect>,
    #[command(flatten)]
    pub process: ProcessArgs,
}

/// Arguments of `bdip sky-seg`.
#[derive(Debug, Clone, Args)]
pub struct SkySegArgs {
    /// Also write the sky probability map (0–255, PNG unless FILE's extension names
    /// another format) to FILE (one input only; `-` for stdout, when the mask is not
    /// written there; never the input or the mask's file).
    #[arg(long, value_name = "FILE")]
    pub scoremap: Option<PathBuf>,
    #[command(flatten)]
    pub process: ProcessArgs,
}

/// Arguments of `bdip denoise`.
#[derive(Debug, Clone, Args)]
pub struct DenoiseArgs {
    /// Strength, 0–200 (0 leaves the image as it is).
    #[arg(long, value_name = "N", value_parser = strength_parser())]
    pub strength: Strength,
    #[command(flatten)]
    pub process: ProcessArgs,
}

/// Arguments of `bdip stylize`.
#[derive(Debug, Clone, Args)]
#[group(id = "custom_style", required = true, multiple = false, args = ["style_id", "style_image"])]
pub struct StylizeArgs {
    /// One of the thirty presets, 0–29.
    #[arg(long, value_name = "N", value_parser = style_id_parser())]
    pub style_id: Option<StyleId>,
    /// Copy the look of this image (JPEG, PNG or BMP; at most 4 MB of base64, sides 50–4096 px).
    #[arg(long, value_name = "FILE")]
    pub style_image: Option<PathBuf>,
    #[command(flatten)]
    pub process: ProcessArgs,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_flags_are_bounded() {
        assert_eq!(jobs("8"), Ok(8));
        for bad in ["0", "257", "2305843009213693952", "-1", "x"] {
            assert!(jobs(bad).is_err(), "{bad}");
        }
        assert_eq!(timeout_secs("180"), Ok(180));
        for bad in ["0", "18446744073709551615", "86401"] {
            assert!(timeout_secs(bad).is_err(), "{bad}");
        }
        assert_eq!(qps("2.5"), Ok(2.5));
        for bad in ["1e-20", "0", "-1", "nan", "inf", "1e9"] {
            assert!(qps(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn rectangles() {
        assert_eq!(parse_rect("1, 2,3,4"), Ok(Rect::new(1, 2, 3, 4)));
        for bad in ["1,2,3", "1,2,3,0", "-1,2,3,4", "a,b,c,d", "1,2,3,4,5", ""] {
            assert!(
                parse_rect(bad)
                    .unwrap_err()
                    .contains("LEFT,TOP,WIDTH,HEIGHT"),
                "{bad}"
            );
        }
    }
}
