//! The fifteen operations of the API, by name: each listed once below with its wire name
//! (the API's spelling, from which its path derives) and the name `bdip` gives its
//! subcommand. What each one takes and returns is data in [`crate::optable`].

use std::fmt;
use std::str::FromStr;

/// Prefix of every operation's path.
pub const PATH_PREFIX: &str = "/rest/2.0/image-process/v1/";

/// Writes [`Operation`] and its name tables from one list: a new operation is one line
/// here and one row in [`crate::optable`].
macro_rules! operations {
    ($($(#[$doc:meta])* $variant:ident = $wire:literal, cli $cli:literal;)*) => {
        /// One of the API's operations.
        /// Not `#[non_exhaustive]`, on purpose: the set is Baidu's, and a new member must be a
        /// compile error in every `match` of the workspace (and a new major version), never a
        /// silent fallback arm.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Operation {
            $($(#[$doc])* $variant,)*
        }

        const COUNT: usize = [$($wire),*].len();

        impl Operation {
            /// Every operation: the specification's four first, then the others in
            /// Baidu's order.
            pub const ALL: [Operation; COUNT] = [$(Operation::$variant),*];

            /// The path segment and wire name (the API's spelling), e.g.
            /// `image_quality_enhance`.
            pub const fn name(self) -> &'static str {
                match self {
                    $(Self::$variant => $wire,)*
                }
            }

            /// The request path, e.g. `/rest/2.0/image-process/v1/dehaze`.
            pub const fn path(self) -> &'static str {
                match self {
                    $(Self::$variant => concat!("/rest/2.0/image-process/v1/", $wire),)*
                }
            }

            /// The name of `bdip`'s subcommand, e.g. `colour-enhance` for `color_enhance`.
            pub const fn cli_name(self) -> &'static str {
                match self {
                    $(Self::$variant => $cli,)*
                }
            }
        }
    };
}

operations! {
    /// "Lossless" 2x upscale (`image_quality_enhance`).
    ImageQualityEnhance = "image_quality_enhance", cli "enhance";
    /// Haze removal (`dehaze`).
    Dehaze = "dehaze", cli "dehaze";
    /// Contrast enhancement (`contrast_enhance`).
    ContrastEnhance = "contrast_enhance", cli "contrast";
    /// Black-and-white to colour (`colourize`); needs the account's permission.
    Colourize = "colourize", cli "colourize";
    /// Undo a horizontal or vertical stretch (`stretch_restore`).
    StretchRestore = "stretch_restore", cli "stretch-restore";
    /// Sharpen a soft, compressed photo (`image_definition_enhance`).
    ImageDefinitionEnhance = "image_definition_enhance", cli "definition";
    /// Restore faded colour (`color_enhance`).
    ColorEnhance = "color_enhance", cli "colour-enhance";
    /// One of nine painterly styles (`style_trans`).
    StyleTrans = "style_trans", cli "style";
    /// Anime look for portraits, optionally with a mask overlay (`selfie_anime`).
    SelfieAnime = "selfie_anime", cli "anime";
    /// Fill rectangles from their surroundings (`inpainting`, JSON body).
    Inpainting = "inpainting", cli "inpaint";
    /// Sky mask and sky probability map (`sky_seg`).
    SkySeg = "sky_seg", cli "sky-seg";
    /// Remove moiré from photographed screens and prints (`remove_moire`).
    RemoveMoire = "remove_moire", cli "demoire";
    /// Remove shading and shadows from photographed documents (`doc_repair`).
    DocRepair = "doc_repair", cli "doc-repair";
    /// Remove noise at a strength of 0–200 (`denoise`).
    Denoise = "denoise", cli "denoise";
    /// One of thirty style presets, or the look of a style image (`customize_stylization`).
    CustomizeStylization = "customize_stylization", cli "stylize";
}

impl Operation {
    /// The operation served at `path`, if any (also accepts the spec's `image-classify`
    /// typo in its curl examples). Exact: the service's paths are case-sensitive.
    pub fn from_path(path: &str) -> Option<Self> {
        let name = path
            .strip_prefix(PATH_PREFIX)
            .or_else(|| path.strip_prefix("/rest/2.0/image-classify/v1/"))?;
        Self::ALL.into_iter().find(|op| op.name() == name)
    }

    /// Every name [`Operation::from_str`] accepts for an operation, as one line for error
    /// messages: `image_quality_enhance (enhance), dehaze, …`.
    pub fn accepted_names() -> String {
        let mut out = String::new();
        for op in Self::ALL {
            if !out.is_empty() {
                out.push_str(", ");
            }
            out.push_str(op.name());
            if op.cli_name() != op.name() {
                out.push_str(" (");
                out.push_str(op.cli_name());
                out.push(')');
            }
        }
        out
    }
}

/// A name as [`Operation::from_str`] compares it: lower case, `_` for `-` and spaces, the
/// API's `color` for `colour`.
fn normalise(name: &str) -> String {
    name.trim()
        .to_ascii_lowercase()
        .replace(['-', ' '], "_")
        .replace("colour", "color")
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The text did not name an operation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown operation `{0}`: expected one of {names}", names = Operation::accepted_names())]
pub struct UnknownOperation(pub String);

impl FromStr for Operation {
    type Err = UnknownOperation;

    /// Accepts, in any case, the wire name (`color_enhance`), `bdip`'s name for it
    /// (`colour-enhance`, `inpaint`, `demoire`, `stylize`, …), with `-` or `_` and
    /// `colour` or `color` alike (so `colorize` too). (Servers route by the exact path: [`Operation::from_path`].)
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = normalise(s);
        Self::ALL
            .into_iter()
            .find(|op| normalise(op.name()) == wanted || normalise(op.cli_name()) == wanted)
            .ok_or_else(|| UnknownOperation(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_paths_and_parsing_agree() {
        for op in Operation::ALL {
            assert_eq!(Operation::from_path(op.path()), Some(op));
            assert_eq!(op.name().parse::<Operation>(), Ok(op));
            assert_eq!(op.name().replace('_', "-").parse::<Operation>(), Ok(op));
            assert_eq!(op.cli_name().parse::<Operation>(), Ok(op));
            assert_eq!(op.cli_name().to_uppercase().parse::<Operation>(), Ok(op));
            assert_eq!(op.path(), format!("{PATH_PREFIX}{}", op.name()));
        }
        assert_eq!(
            Operation::from_path("/rest/2.0/image-classify/v1/dehaze"),
            Some(Operation::Dehaze)
        );
        assert_eq!(
            Operation::from_path("/rest/2.0/image-process/v1/nope"),
            None
        );
        assert!("sharpen".parse::<Operation>().is_err());
        for (text, op) in [
            ("colorize", Operation::Colourize),
            ("colourize", Operation::Colourize),
            ("colour-enhance", Operation::ColorEnhance),
            ("colour_enhance", Operation::ColorEnhance),
            ("color-enhance", Operation::ColorEnhance),
            ("demoire", Operation::RemoveMoire),
            ("inpaint", Operation::Inpainting),
            ("stylize", Operation::CustomizeStylization),
            ("style", Operation::StyleTrans),
            ("enhance", Operation::ImageQualityEnhance),
            ("contrast", Operation::ContrastEnhance),
            ("definition", Operation::ImageDefinitionEnhance),
            ("anime", Operation::SelfieAnime),
        ] {
            assert_eq!(text.parse(), Ok(op), "{text}");
        }
    }

    #[test]
    fn the_refusal_lists_every_accepted_name() {
        let message = "sharpen".parse::<Operation>().unwrap_err().to_string();
        for op in Operation::ALL {
            assert!(message.contains(op.name()), "{message}");
            assert!(message.contains(op.cli_name()), "{message}");
        }
        assert!(
            message.contains("color_enhance (colour-enhance)"),
            "{message}"
        );
        assert!(message.contains(", dehaze,"), "{message}");
    }
}
