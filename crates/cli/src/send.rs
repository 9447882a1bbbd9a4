//! The one place that turns a task and an input into a client call.

use std::sync::Arc;

use baidu_imageprocess::protocol::{
    self, AnimeMask, CustomStyle, DenoiseStrength, Input as ProtocolInput, Params, Rect, Request,
    Style, StyleId,
};
use baidu_imageprocess::{Client, Error, Operation};

use crate::task::{Task, TaskParams};

/// What a call works on.
#[derive(Debug, Clone, Copy)]
pub enum Input<'a> {
    Image(&'a [u8]),
    Url(&'a str),
}

/// A call's result.
#[derive(Debug)]
pub struct Produced {
    pub log_id: u64,
    /// The result image; for sky segmentation, the mask.
    pub image: Vec<u8>,
    /// Sky segmentation's probability map.
    pub scoremap: Option<Vec<u8>>,
}

/// Why a call failed.
#[derive(Debug)]
pub enum SendError {
    Api(Error),
    /// The request could not be formed (a url the protocol refuses, a missing map).
    Unsupported(String),
}

/// The task's operation in the protocol crate's terms.
pub fn operation(task: &Task) -> Option<Operation> {
    task.wire.parse().ok()
}

/// The protocol's parameters of `task` (flag values were range-checked by clap).
pub fn params<'a>(
    task: &'a Task,
    style_image: Option<&'a Arc<Vec<u8>>>,
) -> Result<Params<'a>, protocol::LimitViolation> {
    Ok(match &task.params {
        TaskParams::None => {
            let op = operation(task).ok_or(protocol::LimitViolation::NotAnImage)?;
            Params::defaults(op)?
        }
        TaskParams::Style(name) => Params::StyleTrans(name.api_name().parse::<Style>()?),
        TaskParams::Anime { mask } => Params::SelfieAnime {
            mask: mask.map(AnimeMask::new).transpose()?,
        },
        TaskParams::Inpaint(rects) => Params::Inpainting(
            rects
                .iter()
                .map(|r| Rect::new(r.left, r.top, r.width, r.height))
                .collect::<Vec<_>>()
                .into(),
        ),
        TaskParams::Denoise { strength } => Params::Denoise(DenoiseStrength::new(*strength)?),
        TaskParams::StylizePreset(id) => {
            Params::CustomizeStylization(CustomStyle::Preset(StyleId::new(*id)?))
        }
        TaskParams::StylizeImage(_) => Params::CustomizeStylization(CustomStyle::Image(
            style_image.map_or(&[][..], |b| b.as_slice()).into(),
        )),
    })
}

/// Checks image bytes (and the parameters against them: rectangles inside the image, the
/// style image) before anything is sent.
pub fn check(
    task: &Task,
    style_image: Option<&Arc<Vec<u8>>>,
    image: &[u8],
) -> Result<(), protocol::LimitViolation> {
    Request::new(ProtocolInput::image(image), params(task, style_image)?)
        .validate()
        .map(|_| ())
}

/// Sends one request.
pub async fn send(
    client: &Client,
    task: &Task,
    style_image: Option<&Arc<Vec<u8>>>,
    input: Input<'_>,
) -> Result<Produced, SendError> {
    let invalid = |e: protocol::LimitViolation| SendError::Api(Error::InvalidInput(e));
    let input = match input {
        Input::Image(bytes) => ProtocolInput::image(bytes),
        Input::Url(url) => ProtocolInput::url(url).map_err(invalid)?,
    };
    let request = Request::new(input, params(task, style_image).map_err(invalid)?);
    let reply = client.call(&request).await.map_err(SendError::Api)?;
    if task.writes_png() {
        let (Some(labelmap), scoremap) = (reply.labelmap(), reply.scoremap()) else {
            return Err(SendError::Unsupported(
                "the sky_seg reply has no labelmap".into(),
            ));
        };
        return Ok(Produced {
            log_id: reply.log_id.0,
            image: labelmap,
            scoremap,
        });
    }
    Ok(Produced {
        log_id: reply.log_id.0,
        image: reply.image,
        scoremap: None,
    })
}
