//! The engine's insides for `cargo xtask`: the trainers of the learned models, the quality
//! harness and the benchmarks. Compiled only with the `training` feature, which xtask
//! enables; not a stable API (the public way in is [`crate::Engine::process`]).
//!
//! The harness runs an operation on decoded pixels with [`run`], through the same
//! dispatch table as [`crate::Engine::process`]; the trainers reach an operation's learned
//! model in its module under [`crate::ops`].

use baidu_imageprocess_protocol::Params;
use image::RgbImage;

use crate::EngineError;
use crate::codec::Decoded;
use crate::ops::Produced;

pub use crate::codec::encode_jpeg_rgb;
pub use crate::filters::linalg::cholesky_solve;
pub use crate::filters::planes;
pub use crate::ops;

/// Runs the operation of `params` on decoded pixels, as [`crate::Engine::process`] would
/// on an image that decodes to them: `jpeg_quality` is the libjpeg quality of the JPEG
/// they came from (`None` for a lossless source). Results that are not one image (sky
/// segmentation's two masks) are refused.
pub fn run(
    params: &Params<'_>,
    rgb: &RgbImage,
    jpeg_quality: Option<u8>,
) -> Result<RgbImage, EngineError> {
    let decoded = Decoded {
        rgb: rgb.clone(),
        alpha: None,
        format: image::ImageFormat::Png,
        grey: false,
        jpeg_quality,
    };
    let entry = ops::entry(params.operation())?;
    match (entry.run)(&decoded, params)? {
        Produced::Image(out) => Ok(out),
        Produced::Encoded(_) => Err(EngineError::Unsupported(format!(
            "{} returns encoded masks; use Engine::process",
            params.operation()
        ))),
    }
}
