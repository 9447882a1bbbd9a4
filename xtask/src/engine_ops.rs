//! The harness's shorthand for running one engine operation on decoded pixels: the old
//! per-operation entry points, now thin calls of the engine's one dispatch table
//! ([`training::run`]), so the harness reads as before while the engine names each
//! operation in one place.

use baidu_imageprocess_engine::training;
use baidu_imageprocess_engine::{Engine, EngineError};
use baidu_imageprocess_protocol::{Params, Rect, Strength};
use image::{GrayImage, RgbImage};

/// Runs `params` on `img`; the harness's inputs are valid, so a refusal is a bug.
fn run(params: &Params<'_>, img: &RgbImage, jpeg_quality: Option<u8>) -> RgbImage {
    match training::run(params, img, jpeg_quality) {
        Ok(out) => out,
        Err(e) => panic!("{} refused a harness image: {e}", params.operation()),
    }
}

/// Denoise at `strength` (0–200; more is 200).
pub fn denoise(img: &RgbImage, strength: u8) -> RgbImage {
    match Strength::new(strength.min(Strength::MAX)) {
        Ok(strength) => run(&Params::Denoise(strength), img, None),
        Err(e) => panic!("{e}"),
    }
}

/// Definition enhance.
pub fn definition(img: &RgbImage) -> RgbImage {
    run(&Params::ImageDefinitionEnhance, img, None)
}

/// Colour enhance.
pub fn colour_enhance(img: &RgbImage) -> RgbImage {
    run(&Params::ColorEnhance, img, None)
}

/// Stretch restore (the output's dimensions change).
pub fn stretch_restore(img: &RgbImage) -> RgbImage {
    run(&Params::StretchRestore, img, None)
}

/// Inpainting; rectangles not inside the image are an error.
pub fn inpaint(img: &RgbImage, rects: &[Rect]) -> Result<RgbImage, EngineError> {
    training::run(&Params::Inpainting(rects.into()), img, None)
}

/// Document de-shading.
pub fn doc_repair(img: &RgbImage) -> RgbImage {
    run(&Params::DocRepair, img, None)
}

/// Moiré removal.
pub fn demoire(img: &RgbImage) -> RgbImage {
    run(&Params::RemoveMoire, img, None)
}

/// The four operations of the spec as methods, as the harness has always called them.
pub trait EngineOps {
    /// 2x upscale of lossless pixels.
    fn enhance(&self, img: &RgbImage) -> RgbImage;
    /// 2x upscale of pixels decoded from a JPEG of libjpeg `quality`.
    fn enhance_jpeg(&self, img: &RgbImage, quality: u8) -> RgbImage;
    /// Haze removal.
    fn dehaze(&self, img: &RgbImage) -> RgbImage;
    /// Contrast enhancement.
    fn contrast(&self, img: &RgbImage) -> RgbImage;
    /// Colour from luminance.
    fn colourize(&self, img: &GrayImage) -> RgbImage;
}

impl EngineOps for Engine {
    fn enhance(&self, img: &RgbImage) -> RgbImage {
        run(&Params::ImageQualityEnhance, img, None)
    }

    fn enhance_jpeg(&self, img: &RgbImage, quality: u8) -> RgbImage {
        run(&Params::ImageQualityEnhance, img, Some(quality))
    }

    fn dehaze(&self, img: &RgbImage) -> RgbImage {
        run(&Params::Dehaze, img, None)
    }

    fn contrast(&self, img: &RgbImage) -> RgbImage {
        run(&Params::ContrastEnhance, img, None)
    }

    fn colourize(&self, img: &GrayImage) -> RgbImage {
        let rgb = RgbImage::from_fn(img.width(), img.height(), |x, y| {
            let [v] = img.get_pixel(x, y).0;
            image::Rgb([v, v, v])
        });
        run(&Params::Colourize, &rgb, None)
    }
}
