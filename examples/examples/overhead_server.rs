//! The service the full-stack overhead benchmark (`scripts/overhead.sh`) loads with wrk: an
//! axum hello-world that logs one line and calls a second local service through reqwest, run
//! either plain or with crumbtrail's tower layer, tracing layer and reqwest middleware.
//!
//! `cargo run --release -p crumbtrail-examples --example overhead_server -- plain|crumbtrail|layer PORT`
//!
//! `layer` is plain with a tower layer that does nothing (`tower_layer::Identity`): what axum's
//! `Router::layer` itself costs a request, which any SDK's tower layer pays.
//!
//! With crumbtrail, `OVERHEAD_PARTS` (a comma-separated subset of
//! `tower,sessions,tracing,reqwest,propagation`; all by default) says which parts are on, to
//! see what each costs: `propagation` is the reqwest middleware's trace headers (with
//! `reqwest`), `sessions` the release (and so the request-mode sessions, with `tower`).
#![forbid(unsafe_code)]

use crumbtrail::ClientOptions;
use crumbtrail_examples::overhead_app;
use tracing_subscriber::layer::SubscriberExt;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let mode = args.next().unwrap_or_else(|| "plain".into());
    let port: u16 = args.next().and_then(|p| p.parse().ok()).unwrap_or(3000);
    let with_sdk = mode == "crumbtrail";
    let parts = std::env::var("OVERHEAD_PARTS").ok();
    let part = |name: &str| {
        with_sdk
            && parts
                .as_deref()
                .is_none_or(|list| list.split(',').any(|p| p.trim() == name))
    };

    // With the SDK: a devserver in-process is too heavy to share the 2 cores fairly, so events
    // go to a transport that discards them; everything up to the transport runs.
    let _guard = if with_sdk {
        let guard = crumbtrail::init(ClientOptions {
            transport: Some(crumbtrail::DiscardTransport::factory()),
            // As a deployed service has it: with a release, each request is also a
            // release-health session.
            release: part("sessions").then(|| "overhead-bench@1.0".into()),
            ..Default::default()
        })?;
        if part("tracing") {
            tracing::subscriber::set_global_default(
                tracing_subscriber::registry().with(crumbtrail::tracing::layer().filtered()),
            )?;
        }
        Some(guard)
    } else {
        None
    };
    let mut builder = overhead_app::http_client()?;
    if part("reqwest") {
        let mut middleware = crumbtrail::reqwest::CrumbtrailMiddleware::new();
        if !part("propagation") {
            middleware = middleware.trace_propagation_targets(Vec::<String>::new());
        }
        builder = builder.with(middleware);
    }
    let (mut app, state) = overhead_app::start(builder).await?;
    if mode == "layer" {
        app = app.layer(tower_layer::Identity::new());
    }
    if part("tower") {
        app = app.layer(crumbtrail::tower::CrumbtrailLayer::new());
    }
    overhead_app::serve(app, state, &mode, port).await?;
    Ok(())
}
