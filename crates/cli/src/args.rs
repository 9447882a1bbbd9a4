//! Command-line arguments: the built-in subcommands, and one subcommand per row of the
//! operation table, its parameters offered as the typed flags the row describes.

use std::path::PathBuf;

use baidu_imageprocess::protocol::optable::{
    self, Flag, OperationSpec, ParamKind, ParamSpec, ReplyKind,
};
use baidu_imageprocess::protocol::{Params, Rect};
use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
use clap::{Arg, ArgAction, ArgGroup, Args, CommandFactory as _, Parser, Subcommand};

/// The command line: the operations' subcommands, generated from the operation table,
/// then the built-in ones.
pub fn command() -> clap::Command {
    let mut command = Cli::command();
    for (order, row) in optable::table().enumerate() {
        command = command.subcommand(operation_command(row).display_order(order));
    }
    for (order, builtin) in ["token", "serve", "completions"].into_iter().enumerate() {
        command = command.mut_subcommand(builtin, |sub| sub.display_order(100 + order));
    }
    command
}

/// The id of `sky_seg`-like operations' `--scoremap FILE`.
pub const SCOREMAP: &str = "scoremap";

/// The subcommand of one operation: the shared arguments, a flag per parameter the row
/// offers, and the limits in `--help`.
fn operation_command(row: &'static OperationSpec) -> clap::Command {
    let wire = row.operation.name();
    let limits = optable::describe_limits(&row.limits);
    let mut sub = ProcessArgs::augment_args(clap::Command::new(row.cli))
        .about(format!("{} (`{wire}`)", sentence(row.summary)))
        .after_help(format!(
            "Limits ({wire}): JPEG, PNG or BMP; {limits}. Images are checked before upload (--fit shrinks or pads instead)."
        ));
    if row.cli.contains("colour") {
        sub = sub.alias(row.cli.replace("colour", "color"));
    }
    let flagged: Vec<(&'static ParamSpec, &'static Flag)> = flags(row).collect();
    for &(param, flag) in &flagged {
        sub = sub.arg(flag_arg(param, flag));
    }
    // An operation that needs a parameter none of which is required alone (a preset or a
    // style image) takes exactly one of their flags.
    if Params::defaults(row.operation).is_err() && !row.params.iter().any(|p| p.required) {
        sub = sub.group(
            ArgGroup::new("parameter")
                .args(flagged.iter().map(|(param, _)| param.name))
                .required(true)
                .multiple(false),
        );
    }
    if row.reply == ReplyKind::SkySegmentation {
        sub = sub.arg(
            Arg::new(SCOREMAP)
                .long(SCOREMAP)
                .value_name("FILE")
                .value_parser(clap::value_parser!(PathBuf))
                .help(
                    "Also write the sky probability map (0–255, PNG unless FILE's extension names \
                     another format) to FILE (one input only; `-` for stdout, when the mask is not \
                     written there; never the input or the mask's file).",
                ),
        );
    }
    sub
}

/// The parameters of `row` that `bdip` offers as flags, in the row's order.
pub fn flags(
    row: &'static OperationSpec,
) -> impl Iterator<Item = (&'static ParamSpec, &'static Flag)> {
    row.params
        .iter()
        .filter_map(|param| param.flag.as_ref().map(|flag| (param, flag)))
}

/// `summary` as a sentence: its first letter upper case.
fn sentence(summary: &str) -> String {
    let mut chars = summary.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}

/// The flag of one parameter, parsed into what its kind allows (clap states the allowed
/// values or the range when a value is outside them).
fn flag_arg(param: &'static ParamSpec, flag: &'static Flag) -> Arg {
    let arg = Arg::new(param.name)
        .long(flag.long)
        .value_name(flag.value_name)
        .help(flag.help.trim_end_matches('.'))
        .required(param.required);
    match param.kind {
        ParamKind::Choice { values, .. } => arg.value_parser(choice_parser(values)),
        ParamKind::Integer { min, max, .. } => {
            arg.value_parser(clap::value_parser!(i64).range(min..=max))
        }
        ParamKind::Rectangles => arg.value_parser(parse_rect).action(ArgAction::Append),
        ParamKind::Image(_) => arg.value_parser(clap::value_parser!(PathBuf)),
        // A kind this `bdip` predates: refused with advice rather than sent unchecked.
        _ => arg.value_parser(|_: &str| -> Result<String, String> {
            Err("this bdip cannot send this parameter; upgrade bdip".to_owned())
        }),
    }
}

/// One of a choice's words: its wire form, or with hyphens for underscores and the
/// British `colour` for `color` (`color-pencil`, `colour_pencil`); parsed to the wire form.
fn choice_parser(values: &'static [&'static str]) -> impl TypedValueParser<Value = String> {
    let words = values
        .iter()
        .map(|&value| PossibleValue::new(value).aliases(spellings(value)));
    PossibleValuesParser::new(words).map(move |given| {
        values
            .iter()
            .find(|&&value| value == given || spellings(value).contains(&given))
            .map_or(given, |&value| value.to_owned())
    })
}

/// The other spellings of a choice's word that `bdip` accepts.
fn spellings(value: &str) -> Vec<String> {
    let mut forms: Vec<String> = Vec::new();
    for spelling in [value.to_owned(), value.replace("color", "colour")] {
        for form in [spelling.replace('_', "-"), spelling] {
            if form != value && !forms.contains(&form) {
                forms.push(form);
            }
        }
    }
    forms
}

// Prose for `--help`, kept beside the code that uses it.
const EXAMPLES: &str = include_str!("examples.txt");

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

/// The built-in subcommands (the operations' come from the table: [`command`]).
#[derive(Debug, Subcommand)]
pub enum Command {
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
        command().debug_assert();
    }

    /// The subcommands and flags DESIGN.md promises, as the table generates them: one
    /// subcommand per row, each flag with its long name and kind.
    #[test]
    fn the_table_generates_the_promised_command_line() {
        let command = command();
        for row in optable::table() {
            let sub = command
                .find_subcommand(row.cli)
                .unwrap_or_else(|| panic!("no subcommand {}", row.cli));
            for (param, flag) in flags(row) {
                let arg = sub
                    .get_arguments()
                    .find(|arg| arg.get_id() == param.name)
                    .unwrap_or_else(|| panic!("{} has no --{}", row.cli, flag.long));
                assert_eq!(arg.get_long(), Some(flag.long));
            }
        }
        let promised = [
            ("style", "style"),
            ("anime", "mask-id"),
            ("inpaint", "rect"),
            ("denoise", "strength"),
            ("stylize", "style-id"),
            ("stylize", "style-image"),
            ("sky-seg", "scoremap"),
        ];
        for (name, long) in promised {
            let sub = command.find_subcommand(name).unwrap();
            assert!(
                sub.get_arguments().any(|arg| arg.get_long() == Some(long)),
                "bdip {name} --{long}"
            );
        }
        for alias in ["colorize", "color-enhance"] {
            assert!(command.find_subcommand(alias).is_some(), "{alias}");
        }
        let names: Vec<&str> = command
            .get_subcommands()
            .map(clap::Command::get_name)
            .collect();
        assert_eq!(names.len(), optable::table().count() + 3, "{names:?}");
    }

    #[test]
    fn choices_take_hyphens_and_the_british_spelling() {
        let matches = command()
            .try_get_matches_from(["bdip", "style", "--style", "colour-pencil", "a.jpg"])
            .unwrap();
        let (_, sub) = matches.subcommand().unwrap();
        assert_eq!(
            sub.get_one::<String>("option").map(String::as_str),
            Some("color_pencil")
        );
        assert!(
            command()
                .try_get_matches_from(["bdip", "style", "--style", "crayon", "a.jpg"])
                .is_err()
        );
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
