//! The console: a web page at `GET /` to try every operation, watch the recent requests
//! and change the injected faults while the emulator runs.
//!
//! Endpoints (all off with `--no-console`):
//! - `GET /`: the page; its script and style under `/__emulator/console/`.
//! - `GET /__emulator/operations`: the operation table as JSON (the page builds its
//!   forms from it).
//! - `GET /__emulator/requests?since=V&limit=N`: the recent requests changed after
//!   version `V`, secrets masked, images as thumbnails.
//! - `GET /__emulator/faults`, `POST /__emulator/faults` (JSON, partial): the injected
//!   faults in force, and a change to them.
//!
//! The page talks only to the emulator that served it (its Content-Security-Policy says
//! so), and the console endpoints answer only requests addressed to an IP address or
//! `localhost`, so another web site cannot reach them through DNS rebinding.

mod assets;
pub(crate) mod faults;
mod mask;
mod operations;
mod record;
pub(crate) mod ring;
mod thumbs;

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;

use crate::state::AppState;

pub(crate) use faults::LiveFaults;
pub(crate) use ring::DEFAULT_RING_BYTES;

/// Most entries one `GET /__emulator/requests` returns.
const MAX_LIMIT: usize = 500;

/// The console's own state: the ring and the thumbnail budget.
#[derive(Debug)]
pub(crate) struct Console {
    ring: ring::RequestRing,
    budget: Arc<thumbs::Budget>,
}

#[derive(Clone)]
struct Shared {
    app: Arc<AppState>,
    console: Arc<Console>,
}

/// Adds the console's routes and the request recorder to the API's router, unless the
/// configuration turns the console off.
pub(crate) fn attach(api: Router, state: &Arc<AppState>) -> Router {
    if !state.config.console {
        return api;
    }
    let console = Arc::new(Console {
        ring: ring::RequestRing::new(state.config.console_ring_bytes),
        budget: Arc::new(thumbs::Budget::default()),
    });
    let shared = Shared {
        app: Arc::clone(state),
        console: Arc::clone(&console),
    };
    let pages = Router::new()
        .route("/", get(assets::index))
        // Browsers ask for it; answered here so it does not count as an API request.
        .route("/favicon.ico", get(|| async { StatusCode::NO_CONTENT }))
        .route("/__emulator/console/{file}", get(assets::file))
        .route("/__emulator/operations", get(operations::list))
        .route("/__emulator/requests", get(requests))
        .route("/__emulator/faults", get(faults_get).post(faults_post))
        .with_state(shared)
        .layer(middleware::from_fn(local_host_only));
    pages
        .merge(api)
        .layer(middleware::from_fn_with_state(console, record::record))
}

/// Refuses console requests whose `Host` is a name other than `localhost`: a page of
/// another site that rebinds its name to 127.0.0.1 would send its own name.
async fn local_host_only(request: Request, next: Next) -> Response {
    if host_is_local(request.headers()) {
        next.run(request).await
    } else {
        (
            StatusCode::FORBIDDEN,
            "the console answers only requests addressed to an IP address or localhost\n",
        )
            .into_response()
    }
}

fn host_is_local(headers: &HeaderMap) -> bool {
    let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) else {
        // HTTP/1.0 without Host, or an in-process call: nothing a browser sends.
        return true;
    };
    let name = if let Some(rest) = host.strip_prefix('[') {
        // [v6]:port
        return rest
            .split_once(']')
            .is_some_and(|(ip, _)| ip.parse::<std::net::Ipv6Addr>().is_ok());
    } else {
        host.rsplit_once(':').map_or(host, |(name, _)| name)
    };
    name.eq_ignore_ascii_case("localhost") || name.parse::<std::net::Ipv4Addr>().is_ok()
}

#[derive(serde::Deserialize)]
struct RingQuery {
    #[serde(default)]
    since: u64,
    limit: Option<usize>,
}

async fn requests(State(shared): State<Shared>, Query(q): Query<RingQuery>) -> Response {
    let limit = q.limit.unwrap_or(MAX_LIMIT).min(MAX_LIMIT);
    no_store(axum::Json(shared.console.ring.view(q.since, limit)).into_response())
}

async fn faults_get(State(shared): State<Shared>) -> Response {
    no_store(axum::Json(shared.app.faults.snapshot()).into_response())
}

/// Applies a partial change. Only `application/json` is accepted, so a form on another
/// site cannot post here without the browser asking first (and being refused).
async fn faults_post(State(shared): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().starts_with("application/json"));
    if !is_json {
        return (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            axum::Json(json!({"error": "send Content-Type: application/json"})),
        )
            .into_response();
    }
    let update = match serde_json::from_slice::<faults::FaultUpdate>(&body) {
        Ok(u) => u,
        Err(e) => {
            return (
                StatusCode::BAD_REQUEST,
                axum::Json(json!({"error": format!("invalid faults: {e}")})),
            )
                .into_response();
        }
    };
    match shared.app.faults.apply(update) {
        Ok(now) => {
            tracing::info!(?now, "faults changed from the console");
            no_store(axum::Json(now).into_response())
        }
        Err(e) => (StatusCode::BAD_REQUEST, axum::Json(json!({"error": e}))).into_response(),
    }
}

fn no_store(mut response: Response) -> Response {
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_ip_literals_and_localhost_are_local() {
        let with_host = |h: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(header::HOST, h.parse().unwrap());
            host_is_local(&headers)
        };
        for ok in [
            "127.0.0.1:8080",
            "localhost:1",
            "LOCALHOST",
            "[::1]:80",
            "10.0.0.5:9",
        ] {
            assert!(with_host(ok), "{ok}");
        }
        for bad in [
            "evil.example:8080",
            "localhost.evil.example",
            "[nope]:1",
            "127.0.0.1.nip.io",
        ] {
            assert!(!with_host(bad), "{bad}");
        }
    }
}
