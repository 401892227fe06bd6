//! The service the full-stack overhead benchmark (`scripts/overhead.sh`) loads with wrk: an
//! axum hello-world that logs one line and calls a second local service through reqwest, run
//! plain, with crumbtrail's tower layer, tracing layer and reqwest middleware, or with the
//! frameworks' floor in their place.
//!
//! `cargo run --release -p crumbtrail-examples --example overhead_server -- plain|crumbtrail|floor PORT`
//!
//! `floor` is what the frameworks charge any SDK with crumbtrail's parts before it does any
//! work of its own: a tower layer that does nothing (`tower_layer::Identity`, what axum's
//! `Router::layer` costs a request), a tracing subscriber whose one layer does nothing with
//! the log line, and a reqwest middleware that only passes the request on, setting
//! `sentry-trace` and `baggage` headers as long as crumbtrail's (static values: no work to
//! make them, only to carry them).
//!
//! `OVERHEAD_PARTS` (a comma-separated subset of `tower,sessions,tracing,reqwest,propagation`;
//! all by default) says which parts are on, in both modes, to see what each costs:
//! `propagation` is the reqwest middleware's trace headers (with `reqwest`), `sessions` the
//! release (and so crumbtrail's request-mode sessions, with `tower`; the floor has none).
#![forbid(unsafe_code)]

use crumbtrail::ClientOptions;
use crumbtrail_examples::overhead_app;
use tracing_subscriber::layer::SubscriberExt;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let mode = args.next().unwrap_or_else(|| "plain".into());
    let port: u16 = args.next().and_then(|p| p.parse().ok()).unwrap_or(3000);
    let (sdk, floor) = (mode == "crumbtrail", mode == "floor");
    let parts = std::env::var("OVERHEAD_PARTS").ok();
    let part = |name: &str| {
        (sdk || floor)
            && parts
                .as_deref()
                .is_none_or(|list| list.split(',').any(|p| p.trim() == name))
    };

    // With the SDK: a devserver in-process is too heavy to share the 2 cores fairly, so events
    // go to a transport that discards them; everything up to the transport runs.
    let _guard = if sdk {
        Some(crumbtrail::init(ClientOptions {
            transport: Some(crumbtrail::DiscardTransport::factory()),
            // As a deployed service has it: with a release, each request is also a
            // release-health session.
            release: part("sessions").then(|| "overhead-bench@1.0".into()),
            ..Default::default()
        })?)
    } else {
        None
    };
    if part("tracing") {
        let registry = tracing_subscriber::registry();
        if sdk {
            let layer = crumbtrail::tracing::layer().filtered();
            tracing::subscriber::set_global_default(registry.with(layer))?;
        } else {
            tracing::subscriber::set_global_default(registry.with(floor::NoopLayer))?;
        }
    }
    let mut builder = overhead_app::http_client()?;
    if part("reqwest") {
        let propagation = part("propagation");
        builder = if sdk {
            let mut middleware = crumbtrail::reqwest::CrumbtrailMiddleware::new();
            if !propagation {
                middleware = middleware.trace_propagation_targets(Vec::<String>::new());
            }
            builder.with(middleware)
        } else {
            builder.with(floor::PassOn { propagation })
        };
    }
    let (mut app, state) = overhead_app::start(builder).await?;
    if part("tower") {
        app = if sdk {
            app.layer(crumbtrail::tower::CrumbtrailLayer::new())
        } else {
            app.layer(tower_layer::Identity::new())
        };
    }
    overhead_app::serve(app, state, &mode, port).await?;
    Ok(())
}

/// The `floor` mode's stand-ins for crumbtrail's tracing layer and reqwest middleware.
mod floor {
    use reqwest::header::{HeaderName, HeaderValue};

    const SENTRY_TRACE: HeaderName = HeaderName::from_static("sentry-trace");
    const BAGGAGE: HeaderName = HeaderName::from_static("baggage");

    /// A tracing layer that takes every event and does nothing with it.
    pub(crate) struct NoopLayer;

    impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for NoopLayer {}

    /// A reqwest middleware that passes the request on, with (`propagation`) trace headers as
    /// long as crumbtrail's in this benchmark.
    pub(crate) struct PassOn {
        pub(crate) propagation: bool,
    }

    #[async_trait::async_trait]
    impl reqwest_middleware::Middleware for PassOn {
        async fn handle(
            &self,
            mut req: reqwest::Request,
            extensions: &mut http::Extensions,
            next: reqwest_middleware::Next<'_>,
        ) -> reqwest_middleware::Result<reqwest::Response> {
            if self.propagation {
                let headers = req.headers_mut();
                headers.insert(
                    SENTRY_TRACE,
                    HeaderValue::from_static("9fde04b1955275f8a21759beee102a52-538d787cb48ee072"),
                );
                headers.insert(
                    BAGGAGE,
                    HeaderValue::from_static(
                        "sentry-trace_id=9fde04b1955275f8a21759beee102a52,\
                         sentry-sample_rand=0.708962,sentry-release=overhead-bench%401.0",
                    ),
                );
            }
            next.run(req, extensions).await
        }
    }
}
