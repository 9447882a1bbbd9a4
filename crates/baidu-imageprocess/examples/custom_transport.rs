//! Bring your own HTTP client: any `Fn(HttpRequest) -> Result<HttpResponse, TransportError>`
//! is a blocking transport. Here a ureq agent you configured yourself, wrapped to log
//! each request's method, path and status (never the query string, which holds the token).
//!
//! ```sh
//! cargo run -p baidu-imageprocess --features blocking --example custom_transport -- in.jpg out.jpg
//! ```

mod common;

use baidu_imageprocess::Blocking;
use baidu_imageprocess::protocol::{
    HttpRequest, HttpResponse, RedactedUri, Transport, TransportError,
};
use baidu_imageprocess_transport_blocking::{UreqConfig, UreqTransport};

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(input), Some(output)) = (args.next(), args.next()) else {
        anyhow::bail!("usage: custom_transport INPUT OUTPUT");
    };
    let (builder, _emulator) = common::configure::<Blocking>()?;
    let inner = UreqTransport::new(&UreqConfig::default())?;
    let logging = move |request: HttpRequest| -> Result<HttpResponse, TransportError> {
        let line = format!("{} {}", request.method(), RedactedUri(request.uri()));
        let response = inner.send(request);
        match &response {
            Ok(r) => eprintln!("{line} -> {}", r.status()),
            Err(e) => eprintln!("{line} -> {e}"),
        }
        response
    };
    let client = builder.transport(logging).build()?;
    let reply = client.contrast_enhance(std::fs::read(&input)?)?;
    std::fs::write(&output, &reply.image)?;
    println!("wrote {output} (log_id {})", reply.log_id);
    Ok(())
}
