//! Building blocks the operations share: planar f32 images and their filters, conversions
//! between RGB images and channels, and the non-photorealistic rendering blocks.

pub(crate) mod channels;
pub(crate) mod npr;
pub(crate) mod opponent;
#[doc(hidden)]
pub mod planes;
