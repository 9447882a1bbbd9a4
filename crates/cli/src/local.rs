//! The embedded engine called directly for image inputs: the bytes `bdip` read go to the
//! engine and its result comes back, with no base64, form body, router or JSON between
//! them. The answers are the emulator's: inputs were checked against the same protocol
//! limits before (`send::check`), and the engine runs through the emulator's engine
//! service (`baidu_imageprocess_emulator::service`), which gives the codes, messages and
//! log ids. `url` inputs still go through the emulator, which fetches them.

use std::sync::{Arc, LazyLock};

use baidu_imageprocess::protocol::{ErrorCode, Input, Request};
use baidu_imageprocess_emulator::service::{self, LogIds, Refusal};
use baidu_imageprocess_engine as engine;

use crate::profile::{self, Stage};
use crate::send::{Produced, SendError};
use crate::task::Task;

/// The run's log ids, shaped like the emulator's.
static LOG_IDS: LazyLock<LogIds> = LazyLock::new(LogIds::new);

/// Runs `task` on `image` with the engine, as one job on rayon's pool: decoding, the
/// operation and encoding all happen on one of its threads (the operation's own parallel
/// parts join that pool), and the async task waits without holding a thread.
pub async fn run(
    engine: &engine::Engine,
    task: &Arc<Task>,
    image: Arc<Vec<u8>>,
) -> Result<Produced, SendError> {
    let (engine, task) = (engine.clone(), Arc::clone(task));
    let log_id = LOG_IDS.next_id();
    let work = move || {
        let request = Request::new(Input::image(image.as_slice()), task.params.clone());
        tracing::debug!(
            operation = task.operation.name(),
            bytes = image.len(),
            log_id,
            "local engine: processing"
        );
        let reply = service::run(&engine, &request)
            .map_err(|refusal| SendError::Api(refusal.into_error(log_id)))?;
        let times = reply.times;
        tracing::debug!(
            decode_ms = times.decode.as_secs_f64() * 1e3,
            operation_ms = times.operation.as_secs_f64() * 1e3,
            encode_ms = times.encode.as_secs_f64() * 1e3,
            bytes = reply.image.len(),
            log_id,
            "local engine: done"
        );
        profile::add(Stage::Decode, times.decode);
        profile::add(Stage::Operation, times.operation);
        profile::add(Stage::Encode, times.encode);
        Ok(Produced {
            log_id,
            image: reply.image,
            scoremap: reply.scoremap,
        })
    };
    let (done, result) = tokio::sync::oneshot::channel();
    rayon::spawn(move || {
        let _ = done.send(work());
    });
    // The service answers an engine panic itself; a lost job is answered the same way.
    result.await.unwrap_or_else(|_| {
        let lost = Refusal::plain(ErrorCode::INTERNAL_ERROR);
        Err(SendError::Api(lost.into_error(log_id)))
    })
}
