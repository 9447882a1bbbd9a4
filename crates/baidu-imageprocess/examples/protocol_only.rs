//! Driving a call by hand with the sans-IO protocol types: no client, no HTTP library.
//! The "server" here is a closure that answers like Baidu would.
//!
//! ```sh
//! cargo run -p baidu-imageprocess --example protocol_only
//! ```

use std::time::Instant;

use baidu_imageprocess::protocol::{
    ClientConfig, Credentials, HttpResponse, Machine, Operation, Session, Step, TransportError,
};

fn main() -> anyhow::Result<()> {
    let session = Session::new(ClientConfig::new(Credentials::api_key("AK", "SK")));
    let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
    png.extend_from_slice(&[0, 0, 1, 64, 0, 0, 0, 240, 8, 2, 0, 0, 0, 0, 0, 0, 0]);

    let mut call = session.call(Operation::Dehaze, &png, Instant::now())?;
    loop {
        match call.next(Instant::now()) {
            Step::Send(request) => {
                println!("send {} {}", request.method(), request.uri().path());
                let body: &'static [u8] = if request.uri().path().ends_with("/token") {
                    br#"{"access_token":"24.example","expires_in":2592000,"scope":"brain_all_scope"}"#
                } else {
                    br#"{"log_id":6876747463538438254,"image":"aGk="}"#
                };
                let response: Result<HttpResponse, TransportError> =
                    Ok(HttpResponse::new(body.into()));
                match response {
                    Ok(r) => call.handle_response(Instant::now(), r),
                    Err(e) => call.handle_transport_error(Instant::now(), e),
                }
            }
            Step::Sleep(d) => std::thread::sleep(d),
            // Only a session with a shared budget (`Session::with_budget`) asks for this.
            Step::Reserve(slot) => std::thread::sleep(slot.reserve()),
            Step::Done(result) => {
                let reply = result?;
                println!(
                    "done: log_id {} and {} bytes",
                    reply.log_id,
                    reply.image.len()
                );
                return Ok(());
            }
        }
    }
}
