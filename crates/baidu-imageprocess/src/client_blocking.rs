//! The blocking client.

use std::sync::Arc;

use baidu_imageprocess_protocol::{
    AnimeMask, AsInput, CustomStyle, DenoiseStrength, Error, ImageReply, Operation, Params, Rect,
    Request, Style, TokenInfo, Transport, drive,
};

use crate::builder::{Blocking, BlockingClientBuilder, BuildError};
use crate::client::{ClientOf, Started, parameterless};

/// The blocking client. Cheap to clone: clones share one token cache, one rate limiter
/// and one connection pool.
///
/// Every operation has a method taking image bytes or an [`ImageUrl`](crate::ImageUrl)
/// (anything [`AsInput`]) and its typed parameters; [`BlockingClient::call`] takes any
/// [`Request`].
pub type BlockingClient = ClientOf<Blocking>;

impl BlockingClientBuilder {
    /// Sends requests with your own HTTP client instead of ureq (a closure works).
    pub fn transport(mut self, transport: impl Transport + Send + Sync + 'static) -> Self {
        self.transport = Some(Arc::new(transport));
        self
    }

    /// Builds the client.
    pub fn build(self) -> Result<BlockingClient, BuildError> {
        let config = self.protocol_config()?;
        let transport = match self.transport {
            Some(t) => t,
            None => default_transport(self.proxy.as_deref(), self.connect_timeout)?,
        };
        let (session, transport) = crate::budget::attach_blocking(&self.budget, config, transport);
        Ok(BlockingClient { session, transport })
    }
}

#[cfg(feature = "blocking")]
fn default_transport(
    proxy: Option<&str>,
    connect_timeout: std::time::Duration,
) -> Result<Arc<dyn Transport + Send + Sync>, BuildError> {
    use baidu_imageprocess_transport_blocking::{UreqConfig, UreqTransport};
    let mut config = UreqConfig::default().with_connect_timeout(connect_timeout);
    if let Some(p) = proxy {
        config = config.with_proxy(p);
    }
    Ok(Arc::new(
        UreqTransport::new(&config).map_err(BuildError::Transport)?,
    ))
}

#[cfg(not(feature = "blocking"))]
fn default_transport(
    _proxy: Option<&str>,
    _connect_timeout: std::time::Duration,
) -> Result<Arc<dyn Transport + Send + Sync>, BuildError> {
    Err(BuildError::NoTransport("blocking"))
}

// The per-operation methods take their input by value, as the `impl AsRef<[u8]>` methods
// they grew from did, so `client.dehaze(std::fs::read(path)?)` reads naturally.
#[allow(clippy::needless_pass_by_value)]
impl BlockingClient {
    /// Runs any request: checked against the operation table before anything is sent
    /// (input kind, image limits from the header, parameters), then sent with retries.
    pub fn call(&self, request: &Request<'_>) -> Result<ImageReply, Error> {
        let started = Started::new(request);
        let result = {
            let _entered = started.span.enter();
            self.session
                .request(request, started.at)
                .and_then(|call| drive(&*self.transport, call))
        };
        started.finish(result)
    }

    /// Runs `op`, which takes no parameter, on `image` (JPEG, PNG or BMP bytes). The
    /// image is checked against the operation's limits before anything is sent.
    pub fn process(&self, op: Operation, image: impl AsRef<[u8]>) -> Result<ImageReply, Error> {
        self.call(&parameterless(op, image.as_ref())?)
    }

    /// 2x "lossless" upscale (input at most 800 × 800 pixels in area).
    pub fn image_quality_enhance(&self, input: impl AsInput) -> Result<ImageReply, Error> {
        self.call(&Request::new(input.as_input(), Params::ImageQualityEnhance))
    }

    /// Haze removal (sides 200..=4096 px, aspect ≤ 3:1).
    pub fn dehaze(&self, input: impl AsInput) -> Result<ImageReply, Error> {
        self.call(&Request::new(input.as_input(), Params::Dehaze))
    }

    /// Contrast enhancement (sides 64..=4096 px, aspect ≤ 3:1).
    pub fn contrast_enhance(&self, input: impl AsInput) -> Result<ImageReply, Error> {
        self.call(&Request::new(input.as_input(), Params::ContrastEnhance))
    }

    /// Black-and-white to colour (sides 64..=800 px, aspect ≤ 3:1; needs the account's
    /// permission, else error 6).
    pub fn colourize(&self, input: impl AsInput) -> Result<ImageReply, Error> {
        self.call(&Request::new(input.as_input(), Params::Colourize))
    }

    /// Undoes a horizontal or vertical stretch.
    pub fn stretch_restore(&self, input: impl AsInput) -> Result<ImageReply, Error> {
        self.call(&Request::new(input.as_input(), Params::StretchRestore))
    }

    /// Sharpens a soft, compressed photo.
    pub fn image_definition_enhance(&self, input: impl AsInput) -> Result<ImageReply, Error> {
        self.call(&Request::new(
            input.as_input(),
            Params::ImageDefinitionEnhance,
        ))
    }

    /// Restores faded colour.
    pub fn color_enhance(&self, input: impl AsInput) -> Result<ImageReply, Error> {
        self.call(&Request::new(input.as_input(), Params::ColorEnhance))
    }

    /// Repaints the image in one of nine styles.
    pub fn style_trans(&self, input: impl AsInput, style: Style) -> Result<ImageReply, Error> {
        self.call(&Request::new(input.as_input(), Params::StyleTrans(style)))
    }

    /// Anime look for a portrait; `mask` adds that mask overlay.
    pub fn selfie_anime(
        &self,
        input: impl AsInput,
        mask: Option<AnimeMask>,
    ) -> Result<ImageReply, Error> {
        self.call(&Request::new(
            input.as_input(),
            Params::SelfieAnime { mask },
        ))
    }

    /// Fills `rects` from their surroundings (each checked inside the image first).
    pub fn inpaint(&self, input: impl AsInput, rects: &[Rect]) -> Result<ImageReply, Error> {
        self.call(&Request::new(
            input.as_input(),
            Params::Inpainting(rects.into()),
        ))
    }

    /// Sky segmentation: the reply's [`ImageReply::labelmap`] and
    /// [`ImageReply::scoremap`] (every other field in [`ImageReply::fields`]).
    pub fn sky_seg(&self, input: impl AsInput) -> Result<ImageReply, Error> {
        self.call(&Request::new(input.as_input(), Params::SkySeg))
    }

    /// Removes moiré (also takes a PDF page: [`Input::pdf`](crate::Input::pdf)).
    pub fn remove_moire(&self, input: impl AsInput) -> Result<ImageReply, Error> {
        self.call(&Request::new(input.as_input(), Params::RemoveMoire))
    }

    /// Removes shading and shadows from a photographed document.
    pub fn doc_repair(&self, input: impl AsInput) -> Result<ImageReply, Error> {
        self.call(&Request::new(input.as_input(), Params::DocRepair))
    }

    /// Removes noise at `strength` (0–200).
    pub fn denoise(
        &self,
        input: impl AsInput,
        strength: DenoiseStrength,
    ) -> Result<ImageReply, Error> {
        self.call(&Request::new(input.as_input(), Params::Denoise(strength)))
    }

    /// Applies a style preset (0–29) or the look of a style image.
    pub fn customize_stylization(
        &self,
        input: impl AsInput,
        style: CustomStyle<'_>,
    ) -> Result<ImageReply, Error> {
        self.call(&Request::new(
            input.as_input(),
            Params::CustomizeStylization(style),
        ))
    }

    /// Fetches a fresh access token (and caches it for later calls).
    pub fn token(&self) -> Result<TokenInfo, Error> {
        drive(&*self.transport, self.session.token_call())
    }
}
