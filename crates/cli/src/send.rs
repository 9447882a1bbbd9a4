//! The one place that turns a task and an input into a client call.

use baidu_imageprocess::protocol::{self, Input as ProtocolInput, Request};
use baidu_imageprocess::{Client, Error};

use crate::task::Task;

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
    /// The reply lacks what the operation's reply kind promises (sky_seg's mask).
    Malformed(String),
}

/// Checks image bytes (and the parameters against them: rectangles inside the image, the
/// style image) before anything is sent.
pub fn check(task: &Task, image: &[u8]) -> Result<(), protocol::LimitViolation> {
    Request::new(ProtocolInput::image(image), task.params.clone())
        .validate()
        .map(|_| ())
}

/// Sends one request.
pub async fn send(client: &Client, task: &Task, input: Input<'_>) -> Result<Produced, SendError> {
    let invalid = |e: protocol::LimitViolation| SendError::Api(Error::InvalidInput(e));
    let input = match input {
        Input::Image(bytes) => ProtocolInput::image(bytes),
        Input::Url(url) => ProtocolInput::url(url).map_err(invalid)?,
    };
    let request = Request::new(input, task.params.clone());
    let reply = client.call(&request).await.map_err(SendError::Api)?;
    if task.writes_png() {
        let (Some(labelmap), scoremap) = (reply.labelmap(), reply.scoremap()) else {
            return Err(SendError::Malformed(format!(
                "malformed reply: the {} reply has no labelmap",
                task.operation.name()
            )));
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
