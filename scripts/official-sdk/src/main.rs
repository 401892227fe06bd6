//! The overhead benchmark's server (`examples/examples/overhead_server.rs`) with the official
//! Sentry SDK (`sentry`, `sentry-tower`, `sentry-tracing` 0.49.5) in place of crumbtrail: an
//! axum hello-world that logs one line and calls a second local service through reqwest, run
//! plain or with Sentry's tower layers and tracing layer. The official SDK has no reqwest
//! middleware, so the client has none. Built outside the workspace, so that none of its
//! dependencies reach crumbtrail's lock file; `SERVER=official scripts/overhead.sh` (or
//! `scripts/overhead_instructions.sh`) builds and measures it.
//!
//! `official-sdk-overhead plain|sentry|sentry-nosession PORT`
//!
//! - `sentry`: each request gets a hub and a release-health session, started the way
//!   `sentry-actix` does it (`sentry-tower` itself never starts a session, even with
//!   `SessionMode::Request`).
//! - `sentry-nosession`: `NewSentryLayer::new_from_top()` as documented, i.e. a hub per request
//!   but no session.
#![forbid(unsafe_code)]

use std::sync::Arc;

use axum::body::Body;
use axum::http::Request;
use sentry::{Envelope, Hub, Transport};
use tracing_subscriber::layer::SubscriberExt;

/// The service itself, the same file crumbtrail's benchmark server uses.
#[path = "../../../examples/src/overhead_app.rs"]
mod overhead_app;

/// Discards every envelope: everything up to the transport runs. With `SENTRY_BENCH_DEBUG`
/// set in the environment it first prints each envelope's items to stderr (for checking that
/// sessions are produced; never set while measuring).
struct DiscardTransport {
    debug: bool,
}

impl Transport for DiscardTransport {
    fn send_envelope(&self, envelope: Envelope) {
        if self.debug {
            for item in envelope.items() {
                eprintln!("envelope item: {item:?}");
            }
        }
        drop(envelope);
    }
}

/// A new hub per request (as `NewSentryLayer::new_from_top()`), with a release-health session
/// started on it when `auto_session_tracking` and `SessionMode::Request` are set, exactly as
/// `sentry-actix` 0.49.5 does for each request. The session ends when the hub is dropped.
fn hub_with_session(_req: &Request<Body>) -> Arc<Hub> {
    let hub = Arc::new(Hub::new_from_top(Hub::current()));
    let track_sessions = hub.client().is_some_and(|client| {
        let options = client.options();
        options.auto_session_tracking && options.session_mode == sentry::SessionMode::Request
    });
    if track_sessions {
        hub.start_session();
    }
    hub
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let mode = args.next().unwrap_or_else(|| "plain".into());
    let port: u16 = args.next().and_then(|p| p.parse().ok()).unwrap_or(3000);
    let with_sdk = mode == "sentry" || mode == "sentry-nosession";

    // With the SDK: events go to a transport that discards them; everything up to the
    // transport runs.
    let _guard = if with_sdk {
        // `ClientOptions` is `#[non_exhaustive]` in 0.49: set the fields on a default.
        let mut options = sentry::ClientOptions::default();
        options.dsn = Some("http://public@127.0.0.1:9/1".parse()?);
        let debug = std::env::var_os("SENTRY_BENCH_DEBUG").is_some();
        options.transport = Some(Arc::new(move |_: &sentry::ClientOptions| {
            Arc::new(DiscardTransport { debug }) as Arc<dyn Transport>
        }));
        // As a deployed service has it: with a release, each request is also a
        // release-health session.
        options.release = Some("overhead-bench@1.0".into());
        options.auto_session_tracking = true;
        options.session_mode = sentry::SessionMode::Request;
        let guard = sentry::init(options);
        // The default (legacy, combined) layer: INFO events become breadcrumbs. Deprecated in
        // 0.49 in favour of SpanLayer/BreadcrumbLayer/ErrorLayer/LogLayer.
        #[allow(deprecated)]
        let layer = sentry_tracing::layer();
        tracing::subscriber::set_global_default(tracing_subscriber::registry().with(layer))?;
        Some(guard)
    } else {
        None
    };
    // No middleware in any mode: the official SDK has no reqwest integration.
    let (mut app, state) = overhead_app::start(overhead_app::http_client()?).await?;
    // axum applies layers inside out: the hub layer must be the outer one (added last), as
    // sentry-tower's docs require.
    if mode == "sentry" {
        app = app
            .layer(sentry_tower::SentryHttpLayer::new())
            .layer(
                sentry_tower::SentryLayer::<_, Arc<Hub>, Request<Body>>::new(
                    hub_with_session as fn(&Request<Body>) -> Arc<Hub>,
                ),
            );
    } else if mode == "sentry-nosession" {
        app = app
            .layer(sentry_tower::SentryHttpLayer::new())
            .layer(sentry_tower::NewSentryLayer::<Request<Body>>::new_from_top());
    }
    overhead_app::serve(app, state, &mode, port).await?;
    Ok(())
}
