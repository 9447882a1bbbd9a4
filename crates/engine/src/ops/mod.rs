//! The fifteen operations, one module each, named by the API's wire name.

pub(crate) mod color_enhance;
#[doc(hidden)]
pub mod colourize;
#[doc(hidden)]
pub mod contrast_enhance;
pub(crate) mod customize_stylization;
pub(crate) mod dehaze;
pub(crate) mod denoise;
pub(crate) mod doc_repair;
pub(crate) mod image_definition_enhance;
#[doc(hidden)]
pub mod image_quality_enhance;
pub(crate) mod inpainting;
pub(crate) mod remove_moire;
pub(crate) mod selfie_anime;
pub(crate) mod sky_seg;
pub(crate) mod stretch_restore;
pub(crate) mod style_trans;
