//! The one place that turns a task and an input into a client call.

use std::sync::Arc;

use baidu_imageprocess::{Client, Error, Operation, protocol};

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
    /// This build's client cannot send the request at all.
    Unsupported(String),
}

/// The task's operation in the protocol crate's terms.
pub fn operation(task: &Task) -> Option<Operation> {
    task.wire.parse().ok()
}

/// Checks image bytes against the operation's limits before anything is sent.
pub fn check(task: &Task, image: &[u8]) -> Result<(), protocol::LimitViolation> {
    match operation(task) {
        Some(op) => protocol::validate(op, image).map(|_| ()),
        None => protocol::sniff(image).map(|_| ()),
    }
}

/// Sends one request.
pub async fn send(
    client: &Client,
    task: &Task,
    _style_image: Option<&Arc<Vec<u8>>>,
    input: Input<'_>,
) -> Result<Produced, SendError> {
    let unsupported = || {
        SendError::Unsupported(format!(
            "{} with {} is not supported by this build's client",
            task.wire,
            match input {
                Input::Image(_) => "an image",
                Input::Url(_) => "a url",
            }
        ))
    };
    let (Some(op), TaskParams::None, Input::Image(bytes)) = (operation(task), &task.params, input)
    else {
        return Err(unsupported());
    };
    let reply = client.process(op, bytes).await.map_err(SendError::Api)?;
    Ok(Produced {
        log_id: reply.log_id.0,
        image: reply.image,
        scoremap: None,
    })
}
