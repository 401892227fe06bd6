//! An axum service with crumbtrail: the tower layer (a scope per request), the tracing layer
//! (log lines become breadcrumbs and events), reqwest calls to a second local service through
//! the middleware (http breadcrumbs, trace propagation), background tasks spawned with
//! `crumbtrail::spawn` and tracked by a `TaskTracker`, and a graceful shutdown on Ctrl-C or
//! SIGTERM that waits for them and then `close(timeout).await`s the client.
//!
//! The service itself is `crumbtrail_examples::axum_service` (examples/src/axum_service.rs),
//! shared with its test.
//!
//! ```sh
//! cargo run -p crumbtrail-examples --example axum_service            # serve until Ctrl-C
//! curl http://127.0.0.1:PORT/orders/13                               # a declined order: 502
//! PORT=8080 cargo run -p crumbtrail-examples --example axum_service  # a fixed port
//! CRUMBTRAIL_EXAMPLE_SELFTEST=1 cargo run -p crumbtrail-examples --example axum_service
//! ```
//!
//! With no `SENTRY_DSN` it starts the crumbtrail devserver in-process and prints what it
//! received on shutdown. `CRUMBTRAIL_EXAMPLE_SELFTEST=1` calls its own routes (one of them
//! fails) and then shuts down as on SIGTERM; it exits non-zero if anything went wrong.
#![forbid(unsafe_code)]

use crumbtrail_examples::axum_service::{BoxError, Config, SELFTEST_REQUESTS, run};

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let config = Config::from_env()?;
    let selftest = config.selftest;
    let summary = run(config).await?;
    if !summary.drained || !summary.delivered {
        return Err("the shutdown did not finish in time".into());
    }
    if selftest {
        let expected: Vec<(String, u16)> = SELFTEST_REQUESTS
            .iter()
            .map(|(path, status)| ((*path).to_owned(), *status))
            .collect();
        if summary.responses != expected {
            return Err(format!("self-test responses: {:?}", summary.responses).into());
        }
    }
    Ok(())
}
