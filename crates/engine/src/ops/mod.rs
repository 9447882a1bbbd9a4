//! The fifteen operations, one module each, named by the API's wire name, and the
//! dispatch table that runs them: one [`Entry`] per operation.

use baidu_imageprocess_protocol::{AnimeMask, CustomStyle, Operation, Params};
use image::RgbImage;

use crate::codec::{self, Decoded};
use crate::{EngineError, Output};

/// Declares the operation modules: crate-private, but public (and hidden) with the
/// `training` feature, where xtask's trainers reach the learned models' insides. Without
/// the feature, a module takes the lint attribute given first.
macro_rules! operation_modules {
    (#[$without_trainers:meta] $($name:ident),* $(,)?) => {$(
        #[cfg(feature = "training")]
        #[doc(hidden)]
        #[allow(rustdoc::private_intra_doc_links)] // written for the engine's own readers
        pub mod $name;
        #[cfg(not(feature = "training"))]
        #[$without_trainers]
        mod $name;
    )*};
}

// The learned operations: without the trainers, their half of the module is unused, and
// its signatures are the trainers' API, linted as such with the feature.
operation_modules!(
    #[allow(dead_code, clippy::trivially_copy_pass_by_ref)]
    colourize,
    contrast_enhance,
    image_quality_enhance,
);
// Every other operation is linted in full either way (`warn` is the default level).
operation_modules!(
    #[warn(dead_code)]
    color_enhance,
    customize_stylization,
    dehaze,
    denoise,
    doc_repair,
    image_definition_enhance,
    inpainting,
    remove_moire,
    selfie_anime,
    sky_seg,
    stretch_restore,
    style_trans,
);

pub use customize_stylization::PRESETS;

/// What an operation produced.
pub(crate) enum Produced {
    /// An image still to encode like the input.
    Image(RgbImage),
    /// The finished output (sky segmentation's masks).
    Encoded(Output),
}

/// How the engine runs one operation.
pub(crate) struct Entry {
    /// The operation.
    pub(crate) operation: Operation,
    /// Whether a greyscale input gives a greyscale result; `false` for the operations
    /// that add colour (colourize and the stylising ones).
    pub(crate) grey_stays_grey: bool,
    /// Runs the operation on a decoded input with its parameters (those of
    /// `operation`).
    pub(crate) run: fn(&Decoded, &Params<'_>) -> Result<Produced, EngineError>,
}

/// The entry of `op`.
pub(crate) fn entry(op: Operation) -> Result<&'static Entry, EngineError> {
    TABLE
        .iter()
        .find(|entry| entry.operation == op)
        .ok_or_else(|| EngineError::Unsupported(format!("the engine has no operation {op}")))
}

/// The refusal of parameters that belong to another operation than the entry's (the
/// entry is looked up by the parameters' own operation, so this is a bug, not an input).
fn mismatch(op: Operation, params: &Params<'_>) -> EngineError {
    EngineError::InvalidParameter(format!("{} parameters given to {op}", params.operation()))
}

/// An entry's result for an image still to encode.
#[allow(clippy::unnecessary_wraps)] // the shape every entry returns
fn image(rgb: RgbImage) -> Result<Produced, EngineError> {
    Ok(Produced::Image(rgb))
}

/// One entry per operation, in [`Operation::ALL`]'s order.
static TABLE: [Entry; 15] = [
    Entry {
        operation: Operation::ImageQualityEnhance,
        grey_stays_grey: true,
        run: |input, _| {
            image(match input.jpeg_quality {
                Some(quality) => image_quality_enhance::upscale_2x_in(
                    &input.rgb,
                    Some(image_quality_enhance::bank_for_jpeg(quality)),
                ),
                None => image_quality_enhance::upscale_2x(&input.rgb),
            })
        },
    },
    Entry {
        operation: Operation::Dehaze,
        grey_stays_grey: true,
        run: |input, _| image(dehaze::dehaze(&input.rgb)),
    },
    Entry {
        operation: Operation::ContrastEnhance,
        grey_stays_grey: true,
        run: |input, _| image(contrast_enhance::contrast(&input.rgb)),
    },
    Entry {
        operation: Operation::Colourize,
        grey_stays_grey: false,
        run: |input, _| image(colourize::colourize(&codec::luma(&input.rgb))),
    },
    Entry {
        operation: Operation::StretchRestore,
        grey_stays_grey: true,
        run: |input, _| image(stretch_restore::restore(&input.rgb)),
    },
    Entry {
        operation: Operation::ImageDefinitionEnhance,
        grey_stays_grey: true,
        run: |input, _| image(image_definition_enhance::sharpen(&input.rgb)),
    },
    Entry {
        operation: Operation::ColorEnhance,
        grey_stays_grey: true,
        run: |input, _| image(color_enhance::enhance(&input.rgb)),
    },
    Entry {
        operation: Operation::StyleTrans,
        grey_stays_grey: false,
        run: |input, params| match params {
            Params::StyleTrans(style) => image(style_trans::transfer(&input.rgb, *style)),
            other => Err(mismatch(Operation::StyleTrans, other)),
        },
    },
    Entry {
        operation: Operation::SelfieAnime,
        grey_stays_grey: false,
        run: |input, params| match params {
            Params::SelfieAnime { mask } => image(selfie_anime::selfie_anime(
                &input.rgb,
                mask.map(AnimeMask::get),
            )),
            other => Err(mismatch(Operation::SelfieAnime, other)),
        },
    },
    Entry {
        operation: Operation::Inpainting,
        grey_stays_grey: true,
        run: |input, params| match params {
            Params::Inpainting(rects) => {
                crate::check_rects(rects, input.rgb.width(), input.rgb.height())?;
                image(inpainting::inpaint(&input.rgb, rects))
            }
            other => Err(mismatch(Operation::Inpainting, other)),
        },
    },
    Entry {
        operation: Operation::SkySeg,
        grey_stays_grey: true,
        run: |input, _| {
            let (labelmap, scoremap) = sky_seg::segment(&input.rgb);
            Ok(Produced::Encoded(Output {
                image: codec::encode_grey_png(&labelmap)?,
                scoremap: Some(codec::encode_grey_png(&scoremap)?),
            }))
        },
    },
    Entry {
        operation: Operation::RemoveMoire,
        grey_stays_grey: true,
        run: |input, _| image(remove_moire::remove(&input.rgb)),
    },
    Entry {
        operation: Operation::DocRepair,
        grey_stays_grey: true,
        run: |input, _| image(doc_repair::repair(&input.rgb)),
    },
    Entry {
        operation: Operation::Denoise,
        grey_stays_grey: true,
        run: |input, params| match params {
            Params::Denoise(strength) => image(denoise::denoise(&input.rgb, strength.get())),
            other => Err(mismatch(Operation::Denoise, other)),
        },
    },
    Entry {
        operation: Operation::CustomizeStylization,
        grey_stays_grey: false,
        run: |input, params| match params {
            Params::CustomizeStylization(CustomStyle::Preset(id)) => {
                image(customize_stylization::preset(&input.rgb, id.get()))
            }
            Params::CustomizeStylization(CustomStyle::Image(style)) => {
                let style = codec::decode(style)?;
                image(customize_stylization::transfer(&input.rgb, &style.rgb))
            }
            other => Err(mismatch(Operation::CustomizeStylization, other)),
        },
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_has_one_entry_in_order() {
        assert_eq!(TABLE.len(), Operation::ALL.len());
        for (entry, op) in TABLE.iter().zip(Operation::ALL) {
            assert_eq!(entry.operation, op);
        }
    }
}
