//! The fifteen operations of the API, by name. What each one takes and returns is data in
//! [`crate::optable`].

use std::fmt;
use std::str::FromStr;

/// One of the API's operations.
/// Not `#[non_exhaustive]`, on purpose: the set is Baidu's, and a new member must be a
/// compile error in every `match` of the workspace (and a new major version), never a
/// silent fallback arm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Operation {
    /// "Lossless" 2x upscale (`image_quality_enhance`).
    ImageQualityEnhance,
    /// Haze removal (`dehaze`).
    Dehaze,
    /// Contrast enhancement (`contrast_enhance`).
    ContrastEnhance,
    /// Black-and-white to colour (`colourize`); needs the account's permission.
    Colourize,
    /// Undo a horizontal or vertical stretch (`stretch_restore`).
    StretchRestore,
    /// Sharpen a soft, compressed photo (`image_definition_enhance`).
    ImageDefinitionEnhance,
    /// Restore faded colour (`color_enhance`).
    ColorEnhance,
    /// One of nine painterly styles (`style_trans`).
    StyleTrans,
    /// Anime look for portraits, optionally with a mask overlay (`selfie_anime`).
    SelfieAnime,
    /// Fill rectangles from their surroundings (`inpainting`, JSON body).
    Inpainting,
    /// Sky mask and sky probability map (`sky_seg`).
    SkySeg,
    /// Remove moiré from photographed screens and prints (`remove_moire`).
    RemoveMoire,
    /// Remove shading and shadows from photographed documents (`doc_repair`).
    DocRepair,
    /// Remove noise at a strength of 0–200 (`denoise`).
    Denoise,
    /// One of thirty style presets, or the look of a style image (`customize_stylization`).
    CustomizeStylization,
}

/// Prefix of every operation's path.
pub const PATH_PREFIX: &str = "/rest/2.0/image-process/v1/";

impl Operation {
    /// Every operation: the specification's four first, then the others in Baidu's order.
    pub const ALL: [Operation; 15] = [
        Operation::ImageQualityEnhance,
        Operation::Dehaze,
        Operation::ContrastEnhance,
        Operation::Colourize,
        Operation::StretchRestore,
        Operation::ImageDefinitionEnhance,
        Operation::ColorEnhance,
        Operation::StyleTrans,
        Operation::SelfieAnime,
        Operation::Inpainting,
        Operation::SkySeg,
        Operation::RemoveMoire,
        Operation::DocRepair,
        Operation::Denoise,
        Operation::CustomizeStylization,
    ];

    /// The path segment and wire name, e.g. `image_quality_enhance`.
    pub const fn name(self) -> &'static str {
        match self {
            Self::ImageQualityEnhance => "image_quality_enhance",
            Self::Dehaze => "dehaze",
            Self::ContrastEnhance => "contrast_enhance",
            Self::Colourize => "colourize",
            Self::StretchRestore => "stretch_restore",
            Self::ImageDefinitionEnhance => "image_definition_enhance",
            Self::ColorEnhance => "color_enhance",
            Self::StyleTrans => "style_trans",
            Self::SelfieAnime => "selfie_anime",
            Self::Inpainting => "inpainting",
            Self::SkySeg => "sky_seg",
            Self::RemoveMoire => "remove_moire",
            Self::DocRepair => "doc_repair",
            Self::Denoise => "denoise",
            Self::CustomizeStylization => "customize_stylization",
        }
    }

    /// The operation served at `path`, if any (also accepts the spec's `image-classify`
    /// typo in its curl examples).
    pub fn from_path(path: &str) -> Option<Self> {
        let name = path
            .strip_prefix(PATH_PREFIX)
            .or_else(|| path.strip_prefix("/rest/2.0/image-classify/v1/"))?;
        Self::ALL.into_iter().find(|op| op.name() == name)
    }

    /// Output size for an input of `width × height` when the operation keeps the input's
    /// geometry; enhance doubles both sides. `stretch_restore` changes the aspect ratio
    /// by an amount only the result tells, so this is its input size.
    pub const fn output_dimensions(self, width: u32, height: u32) -> (u32, u32) {
        match self {
            Self::ImageQualityEnhance => (width.saturating_mul(2), height.saturating_mul(2)),
            Self::Dehaze
            | Self::ContrastEnhance
            | Self::Colourize
            | Self::StretchRestore
            | Self::ImageDefinitionEnhance
            | Self::ColorEnhance
            | Self::StyleTrans
            | Self::SelfieAnime
            | Self::Inpainting
            | Self::SkySeg
            | Self::RemoveMoire
            | Self::DocRepair
            | Self::Denoise
            | Self::CustomizeStylization => (width, height),
        }
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The text did not name an operation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown operation `{0}`: expected one of {names} (or bdip's subcommand names, e.g. inpaint)", names = wire_names())]
pub struct UnknownOperation(pub String);

/// The fifteen wire names, comma-separated.
fn wire_names() -> String {
    Operation::ALL.map(Operation::name).join(", ")
}

impl FromStr for Operation {
    type Err = UnknownOperation;

    /// Accepts the wire names (`-` may stand for `_`), `bdip`'s subcommand names
    /// (`enhance`, `contrast`, `definition`, `colour-enhance`, `style`, `anime`,
    /// `inpaint`, `demoire`, `stylize`) and the American `colorize`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wire = s.trim().to_ascii_lowercase().replace('-', "_");
        let alias = match wire.as_str() {
            "enhance" => Some(Self::ImageQualityEnhance),
            "contrast" => Some(Self::ContrastEnhance),
            "colorize" => Some(Self::Colourize),
            "definition" => Some(Self::ImageDefinitionEnhance),
            "colour_enhance" => Some(Self::ColorEnhance),
            "style" => Some(Self::StyleTrans),
            "anime" => Some(Self::SelfieAnime),
            "inpaint" => Some(Self::Inpainting),
            "demoire" => Some(Self::RemoveMoire),
            "stylize" => Some(Self::CustomizeStylization),
            _ => None,
        };
        alias
            .or_else(|| Self::ALL.into_iter().find(|op| op.name() == wire))
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
            assert!(op.path().ends_with(op.name()));
            assert!(op.path().starts_with(PATH_PREFIX));
        }
        assert_eq!(
            Operation::from_path("/rest/2.0/image-classify/v1/dehaze"),
            Some(Operation::Dehaze)
        );
        assert_eq!(
            Operation::from_path("/rest/2.0/image-process/v1/nope"),
            None
        );
        let unknown = "sharpen".parse::<Operation>().unwrap_err().to_string();
        for op in Operation::ALL {
            assert!(unknown.contains(op.name()), "{unknown}");
        }
        for (cli, op) in [
            ("inpaint", Operation::Inpainting),
            ("colour-enhance", Operation::ColorEnhance),
            ("demoire", Operation::RemoveMoire),
            ("stylize", Operation::CustomizeStylization),
            ("definition", Operation::ImageDefinitionEnhance),
            ("style", Operation::StyleTrans),
            ("anime", Operation::SelfieAnime),
        ] {
            assert_eq!(cli.parse(), Ok(op), "{cli}");
        }
        assert_eq!("colorize".parse(), Ok(Operation::Colourize));
    }
}
