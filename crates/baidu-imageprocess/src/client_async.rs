//! The async client.

use std::sync::Arc;

use baidu_imageprocess_protocol::{
    AnimeMask, AsInput, AsyncTransport, CustomStyle, DenoiseStrength, DynAsyncTransport, Error,
    ImageReply, Operation, Params, Rect, Request, Style, TokenInfo,
};
use tracing::Instrument as _;

use crate::builder::{Async, BuildError, ClientBuilder};
use crate::client::{ClientOf, Started, parameterless};

/// The async client. Cheap to clone: clones share one token cache, one rate limiter and
/// one connection pool.
///
/// Every operation has a method taking image bytes or an [`ImageUrl`](crate::ImageUrl)
/// (anything [`AsInput`]) and its typed parameters; [`Client::call`] takes any
/// [`Request`].
pub type Client = ClientOf<Async>;

impl ClientBuilder {
    /// Sends requests with your own HTTP client instead of reqwest.
    pub fn transport(mut self, transport: impl AsyncTransport + 'static) -> Self {
        self.transport = Some(Arc::new(transport));
        self
    }

    /// Builds the client.
    pub fn build(self) -> Result<Client, BuildError> {
        let config = self.protocol_config()?;
        let transport: Arc<dyn DynAsyncTransport> = match self.transport {
            Some(t) => t,
            None => default_transport(self.proxy.as_deref(), self.connect_timeout)?,
        };
        let (session, transport) = crate::budget::attach_async(&self.budget, config, transport);
        Ok(Client { session, transport })
    }
}

fn default_transport(
    proxy: Option<&str>,
    connect_timeout: std::time::Duration,
) -> Result<Arc<dyn DynAsyncTransport>, BuildError> {
    use baidu_imageprocess_transport_async::{ReqwestConfig, ReqwestTransport};
    let mut config = ReqwestConfig::default().with_connect_timeout(connect_timeout);
    if let Some(p) = proxy {
        config = config.with_proxy(p);
    }
    Ok(Arc::new(
        ReqwestTransport::new(&config).map_err(BuildError::Transport)?,
    ))
}

// The per-operation methods take their input by value, as the `impl AsRef<[u8]>` methods
// they grew from did, so `client.dehaze(std::fs::read(path)?)` reads naturally.
#[allow(clippy::needless_pass_by_value)]
impl Client {
    /// Runs any request: checked against the operation table before anything is sent
    /// (input kind, image limits from the header, parameters), then sent with retries.
    pub async fn call(&self, request: &Request<'_>) -> Result<ImageReply, Error> {
        let started = Started::new(request);
        let result = async {
            let call = self.session.request(request, started.at)?;
            baidu_imageprocess_transport_async::run(&*self.transport, call).await
        }
        .instrument(started.span.clone())
        .await;
        started.finish(result)
    }

    /// Runs `op`, which takes no parameter, on `image` (JPEG, PNG or BMP bytes). The
    /// image is checked against the operation's limits before anything is sent.
    pub async fn process(
        &self,
        op: Operation,
        image: impl AsRef<[u8]>,
    ) -> Result<ImageReply, Error> {
        self.call(&parameterless(op, image.as_ref())?).await
    }

    /// 2x "lossless" upscale (input at most 800 × 800 pixels in area).
    pub async fn image_quality_enhance(&self, input: impl AsInput) -> Result<ImageReply, Error> {
        self.call(&Request::new(input.as_input(), Params::ImageQualityEnhance))
            .await
    }

    /// Haze removal (sides 200..=4096 px, aspect ≤ 3:1).
    pub async fn dehaze(&self, input: impl AsInput) -> Result<ImageReply, Error> {
        self.call(&Request::new(input.as_input(), Params::Dehaze))
            .await
    }

    /// Contrast enhancement (sides 64..=4096 px, aspect ≤ 3:1).
    pub async fn contrast_enhance(&self, input: impl AsInput) -> Result<ImageReply, Error> {
        self.call(&Request::new(input.as_input(), Params::ContrastEnhance))
            .await
    }

    /// Black-and-white to colour (sides 64..=800 px, aspect ≤ 3:1; needs the account's
    /// permission, else error 6).
    pub async fn colourize(&self, input: impl AsInput) -> Result<ImageReply, Error> {
        self.call(&Request::new(input.as_input(), Params::Colourize))
            .await
    }

    /// Undoes a horizontal or vertical stretch.
    pub async fn stretch_restore(&self, input: impl AsInput) -> Result<ImageReply, Error> {
        self.call(&Request::new(input.as_input(), Params::StretchRestore))
            .await
    }

    /// Sharpens a soft, compressed photo.
    pub async fn image_definition_enhance(&self, input: impl AsInput) -> Result<ImageReply, Error> {
        self.call(&Request::new(
            input.as_input(),
            Params::ImageDefinitionEnhance,
        ))
        .await
    }

    /// Restores faded colour.
    pub async fn color_enhance(&self, input: impl AsInput) -> Result<ImageReply, Error> {
        self.call(&Request::new(input.as_input(), Params::ColorEnhance))
            .await
    }

    /// Repaints the image in one of nine styles.
    pub async fn style_trans(
        &self,
        input: impl AsInput,
        style: Style,
    ) -> Result<ImageReply, Error> {
        self.call(&Request::new(input.as_input(), Params::StyleTrans(style)))
            .await
    }

    /// Anime look for a portrait; `mask` adds that mask overlay.
    pub async fn selfie_anime(
        &self,
        input: impl AsInput,
        mask: Option<AnimeMask>,
    ) -> Result<ImageReply, Error> {
        self.call(&Request::new(
            input.as_input(),
            Params::SelfieAnime { mask },
        ))
        .await
    }

    /// Fills `rects` from their surroundings (each checked inside the image first).
    pub async fn inpaint(&self, input: impl AsInput, rects: &[Rect]) -> Result<ImageReply, Error> {
        self.call(&Request::new(
            input.as_input(),
            Params::Inpainting(rects.into()),
        ))
        .await
    }

    /// Sky segmentation: the reply's [`ImageReply::labelmap`] and
    /// [`ImageReply::scoremap`] (every other field in [`ImageReply::fields`]).
    pub async fn sky_seg(&self, input: impl AsInput) -> Result<ImageReply, Error> {
        self.call(&Request::new(input.as_input(), Params::SkySeg))
            .await
    }

    /// Removes moiré (also takes a PDF page: [`Input::pdf`](crate::Input::pdf)).
    pub async fn remove_moire(&self, input: impl AsInput) -> Result<ImageReply, Error> {
        self.call(&Request::new(input.as_input(), Params::RemoveMoire))
            .await
    }

    /// Removes shading and shadows from a photographed document.
    pub async fn doc_repair(&self, input: impl AsInput) -> Result<ImageReply, Error> {
        self.call(&Request::new(input.as_input(), Params::DocRepair))
            .await
    }

    /// Removes noise at `strength` (0–200).
    pub async fn denoise(
        &self,
        input: impl AsInput,
        strength: DenoiseStrength,
    ) -> Result<ImageReply, Error> {
        self.call(&Request::new(input.as_input(), Params::Denoise(strength)))
            .await
    }

    /// Applies a style preset (0–29) or the look of a style image.
    pub async fn customize_stylization(
        &self,
        input: impl AsInput,
        style: CustomStyle<'_>,
    ) -> Result<ImageReply, Error> {
        self.call(&Request::new(
            input.as_input(),
            Params::CustomizeStylization(style),
        ))
        .await
    }

    /// Fetches a fresh access token (and caches it for later calls).
    pub async fn token(&self) -> Result<TokenInfo, Error> {
        baidu_imageprocess_transport_async::run(&*self.transport, self.session.token_call()).await
    }
}
