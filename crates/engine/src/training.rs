//! The engine's insides for `cargo xtask`: the trainers of the learned models, the quality
//! harness and the benchmarks. Compiled only with the `training` feature, which xtask
//! enables; not a stable API (the public way in is [`crate::Engine::process`]).

pub mod restoration;

pub use crate::codec::encode_jpeg_rgb;
pub use crate::filters::planes;
pub use crate::ops::colourize;
pub use crate::ops::contrast_enhance as contrast;
pub use crate::ops::image_quality_enhance as enhance;
