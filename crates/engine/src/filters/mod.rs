//! Building blocks the operations share: planar f32 images and their filters, conversions
//! between RGB images and channels, and the non-photorealistic rendering blocks.

pub(crate) mod blockiness;
pub(crate) mod channels;
#[cfg_attr(not(feature = "training"), allow(dead_code))] // only the trainers solve systems
pub(crate) mod linalg;
pub(crate) mod npr;
pub(crate) mod opponent;
#[doc(hidden)]
pub mod planes;
pub(crate) mod styles;
