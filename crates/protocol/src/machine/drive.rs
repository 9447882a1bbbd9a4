//! Generic drivers: the loop that runs a [`Machine`] over a transport. The clock and the
//! sleep are parameters, so the same loop serves real transports, in-process ones and
//! simulated-time tests.

use std::future::Future;
use std::time::{Duration, Instant};

use crate::error::Error;
use crate::machine::step::{Machine, Step};
use crate::transport::{DynAsyncTransport, Transport};

/// Runs `machine` to completion over a blocking `transport`, sleeping with `sleep` and
/// reading the time with `now`.
pub fn drive_with<M: Machine>(
    transport: &(impl Transport + ?Sized),
    mut machine: M,
    mut now: impl FnMut() -> Instant,
    mut sleep: impl FnMut(Duration),
) -> Result<M::Output, Error> {
    loop {
        match machine.next(now()) {
            Step::Send(request) => match transport.send(request) {
                Ok(response) => machine.handle_response(now(), response),
                Err(error) => machine.handle_transport_error(now(), error),
            },
            Step::Sleep(delay) => sleep(delay),
            Step::Reserve(slot) => sleep(slot.reserve()),
            Step::Done(result) => return result,
        }
    }
}

/// Runs `machine` over a blocking `transport` with the real clock and `thread::sleep`.
pub fn drive<M: Machine>(
    transport: &(impl Transport + ?Sized),
    machine: M,
) -> Result<M::Output, Error> {
    drive_with(transport, machine, Instant::now, std::thread::sleep)
}

/// Runs `machine` over an async `transport`, reading the time with `now` and sleeping
/// with `sleep`, the runtime's timer (e.g. `tokio::time::sleep`): the twin of
/// [`drive_with`], the clock a parameter in both.
pub async fn drive_async<M, S, F>(
    transport: &(impl DynAsyncTransport + ?Sized),
    mut machine: M,
    mut now: impl FnMut() -> Instant,
    sleep: S,
) -> Result<M::Output, Error>
where
    M: Machine,
    S: Fn(Duration) -> F,
    F: Future<Output = ()>,
{
    loop {
        match machine.next(now()) {
            Step::Send(request) => match transport.send_boxed(request).await {
                Ok(response) => machine.handle_response(now(), response),
                Err(error) => machine.handle_transport_error(now(), error),
            },
            Step::Sleep(delay) => sleep(delay).await,
            Step::Reserve(slot) => sleep(slot.reserve_async().await).await,
            Step::Done(result) => return result,
        }
    }
}
