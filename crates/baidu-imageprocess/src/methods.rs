//! The per-operation methods, written once for both clients.
//!
//! [`crate::Client`] and [`crate::BlockingClient`] differ only in how a request is run:
//! each has its own `call` (async or blocking) and `token`. Everything built on `call` is
//! here, once, and expands into each client's `impl` with or without `async` / `.await`:
//!
//! ```ignore
//! impl Client { operation_methods!({async} {.await}); }
//! impl BlockingClient { operation_methods!({} {}); }
//! ```
//!
//! Method names are the operations' wire names (`dehaze`, `color_enhance`,
//! `inpainting`, ...), so the Rust method, the URL path and Baidu's documentation read
//! the same.

/// Expands to the per-operation methods. `$async` is `async` or nothing; `$await` is
/// `.await` or nothing. The invoking `impl` must have `call(&self, &Request)`; every type is named by its
/// full path, so the clients import no per-operation parameter type.
macro_rules! operation_methods {
    ({$($async:tt)*} {$($await:tt)*}) => {
        /// Runs `op`, which takes no parameter, on `image` (JPEG, PNG or BMP bytes). The
        /// image is checked against the operation's limits before anything is sent.
        pub $($async)* fn process(
            &self,
            op: $crate::Operation,
            image: impl AsRef<[u8]>,
        ) -> Result<$crate::ImageReply, $crate::Error> {
            self.call(&$crate::client::parameterless(op, image.as_ref())?)$($await)*
        }

        /// 2x "lossless" upscale (`image_quality_enhance`; input at most 800 × 800
        /// pixels in area).
        pub $($async)* fn image_quality_enhance(
            &self,
            input: impl $crate::AsInput,
        ) -> Result<$crate::ImageReply, $crate::Error> {
            self.call(&$crate::Request::new(input.as_input(), $crate::Params::ImageQualityEnhance))$($await)*
        }

        /// Haze removal (`dehaze`; sides 200..=4096 px, aspect ≤ 3:1).
        pub $($async)* fn dehaze(&self, input: impl $crate::AsInput) -> Result<$crate::ImageReply, $crate::Error> {
            self.call(&$crate::Request::new(input.as_input(), $crate::Params::Dehaze))$($await)*
        }

        /// Contrast enhancement (`contrast_enhance`; sides 64..=4096 px, aspect ≤ 3:1).
        pub $($async)* fn contrast_enhance(
            &self,
            input: impl $crate::AsInput,
        ) -> Result<$crate::ImageReply, $crate::Error> {
            self.call(&$crate::Request::new(input.as_input(), $crate::Params::ContrastEnhance))$($await)*
        }

        /// Black-and-white to colour (`colourize`, Baidu's spelling; sides 64..=800 px,
        /// aspect ≤ 3:1; needs the account's permission, else error 6).
        pub $($async)* fn colourize(&self, input: impl $crate::AsInput) -> Result<$crate::ImageReply, $crate::Error> {
            self.call(&$crate::Request::new(input.as_input(), $crate::Params::Colourize))$($await)*
        }

        /// Undoes a horizontal or vertical stretch (`stretch_restore`).
        pub $($async)* fn stretch_restore(
            &self,
            input: impl $crate::AsInput,
        ) -> Result<$crate::ImageReply, $crate::Error> {
            self.call(&$crate::Request::new(input.as_input(), $crate::Params::StretchRestore))$($await)*
        }

        /// Sharpens a soft, compressed photo (`image_definition_enhance`).
        pub $($async)* fn image_definition_enhance(
            &self,
            input: impl $crate::AsInput,
        ) -> Result<$crate::ImageReply, $crate::Error> {
            self.call(&$crate::Request::new(input.as_input(), $crate::Params::ImageDefinitionEnhance))$($await)*
        }

        /// Restores faded colour (`color_enhance`, Baidu's spelling).
        pub $($async)* fn color_enhance(&self, input: impl $crate::AsInput) -> Result<$crate::ImageReply, $crate::Error> {
            self.call(&$crate::Request::new(input.as_input(), $crate::Params::ColorEnhance))$($await)*
        }

        /// Repaints the image in one of nine styles (`style_trans`).
        pub $($async)* fn style_trans(
            &self,
            input: impl $crate::AsInput,
            style: $crate::Style,
        ) -> Result<$crate::ImageReply, $crate::Error> {
            self.call(&$crate::Request::new(input.as_input(), $crate::Params::StyleTrans(style)))$($await)*
        }

        /// Anime look for a portrait (`selfie_anime`); `mask` adds that mask overlay.
        pub $($async)* fn selfie_anime(
            &self,
            input: impl $crate::AsInput,
            mask: Option<$crate::AnimeMask>,
        ) -> Result<$crate::ImageReply, $crate::Error> {
            self.call(&$crate::Request::new(input.as_input(), $crate::Params::SelfieAnime { mask }))$($await)*
        }

        /// Fills `rects` from their surroundings (`inpainting`; each rectangle is
        /// checked inside the image first).
        pub $($async)* fn inpainting(
            &self,
            input: impl $crate::AsInput,
            rects: &[$crate::Rect],
        ) -> Result<$crate::ImageReply, $crate::Error> {
            self.call(&$crate::Request::new(input.as_input(), $crate::Params::Inpainting(rects.into())))$($await)*
        }

        /// The former name of [`inpainting`](Self::inpainting), which follows the wire
        /// name like every other method.
        #[deprecated(since = "0.1.0", note = "renamed to `inpainting`, the operation's wire name")]
        pub $($async)* fn inpaint(
            &self,
            input: impl $crate::AsInput,
            rects: &[$crate::Rect],
        ) -> Result<$crate::ImageReply, $crate::Error> {
            self.inpainting(input, rects)$($await)*
        }

        /// Sky segmentation (`sky_seg`): the reply's [`ImageReply::labelmap`](crate::ImageReply::labelmap) and
        /// [`ImageReply::scoremap`](crate::ImageReply::scoremap) (every other field in [`ImageReply::fields`](crate::ImageReply::fields)).
        pub $($async)* fn sky_seg(&self, input: impl $crate::AsInput) -> Result<$crate::ImageReply, $crate::Error> {
            self.call(&$crate::Request::new(input.as_input(), $crate::Params::SkySeg))$($await)*
        }

        /// Removes moiré (`remove_moire`; also takes a PDF page:
        /// [`Input::pdf`](crate::Input::pdf)).
        pub $($async)* fn remove_moire(&self, input: impl $crate::AsInput) -> Result<$crate::ImageReply, $crate::Error> {
            self.call(&$crate::Request::new(input.as_input(), $crate::Params::RemoveMoire))$($await)*
        }

        /// Removes shading and shadows from a photographed document (`doc_repair`).
        pub $($async)* fn doc_repair(&self, input: impl $crate::AsInput) -> Result<$crate::ImageReply, $crate::Error> {
            self.call(&$crate::Request::new(input.as_input(), $crate::Params::DocRepair))$($await)*
        }

        /// Removes noise at `strength` (`denoise`; 0–200).
        pub $($async)* fn denoise(
            &self,
            input: impl $crate::AsInput,
            strength: $crate::Strength,
        ) -> Result<$crate::ImageReply, $crate::Error> {
            self.call(&$crate::Request::new(input.as_input(), $crate::Params::Denoise(strength)))$($await)*
        }

        /// Applies a style preset (0–29) or the look of a style image
        /// (`customize_stylization`).
        pub $($async)* fn customize_stylization(
            &self,
            input: impl $crate::AsInput,
            style: $crate::CustomStyle<'_>,
        ) -> Result<$crate::ImageReply, $crate::Error> {
            self.call(&$crate::Request::new(input.as_input(), $crate::Params::CustomizeStylization(style)))$($await)*
        }
    };
}

pub(crate) use operation_methods;
