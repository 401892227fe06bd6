//! Records from the `log` crate, bridged by `tracing-log`'s `LogTracer`, reach the layer with
//! their own target, so thresholds, ignore rules and target handlers apply to them as to
//! `tracing` events; end to end over loopback HTTP to the devserver.
//!
//! `LogTracer` is the process's `log` logger (that is how `log` works), so this file is its
//! own test binary. It forwards each record to the *current* tracing subscriber: the test's
//! own, installed with a `set_default` guard.

use std::time::Duration;

use crumbtrail_core::protocol::Context;
use crumbtrail_core::{Client, ClientOptions, Level, ScopeFutureExt};
use crumbtrail_devserver::{DevServer, DevServerConfig};
use crumbtrail_tracing::Handling;
use tracing_subscriber::layer::SubscriberExt;

const WAIT: Duration = Duration::from_secs(10);

#[tokio::test]
async fn log_records_become_crumbs_and_events_with_their_own_target() {
    // Fails only if a logger is already set in this process; either way ours forwards.
    let _ = tracing_log::LogTracer::init();

    let server = DevServer::start(DevServerConfig::default()).await.unwrap();
    let client = Client::new(ClientOptions {
        dsn: Some(server.dsn().to_string()),
        ..Default::default()
    })
    .unwrap();
    let layer = crumbtrail_tracing::layer()
        .ignore("hyper")
        .target_handler("legacy::audit", |_| Handling::Handled);
    let subscriber = tracing_subscriber::registry().with(layer.filtered());
    let _guard = tracing::subscriber::set_default(subscriber);

    async {
        log::debug!(target: "payments", "below the level");
        log::info!(target: "payments", "charging card {}", 42);
        log::warn!(target: "hyper::proto", "ignored child target");
        log::info!(target: "legacy::audit", "taken over");
        log::warn!(target: "crumbtrail_core::worker", "the SDK's own");
        log::error!(target: "payments::card", "card declined");
    }
    .bind_client(&client)
    .await;
    assert!(client.flush(WAIT).await);

    let events = server.events();
    assert_eq!(events.len(), 1);
    let event = &events[0].event;
    assert_eq!(event.level, Level::Error);
    assert_eq!(event.logger.as_deref(), Some("payments::card"));
    assert_eq!(event.message.as_deref(), Some("card declined"));
    // The log.* fields are metadata, not data.
    assert!(event.extra.is_empty(), "{:?}", event.extra);
    let Some(Context::Other(ctx)) = event.contexts.get("tracing") else {
        panic!("a tracing context");
    };
    assert_eq!(ctx["file"], file!());
    assert_eq!(ctx["module_path"], module_path!());

    let crumbs = &event.breadcrumbs.as_ref().unwrap().values;
    assert_eq!(crumbs.len(), 1, "{crumbs:?}");
    assert_eq!(crumbs[0].category.as_deref(), Some("payments"));
    assert_eq!(crumbs[0].message.as_deref(), Some("charging card 42"));
    assert!(crumbs[0].data.is_empty());
    server.shutdown().await;
}
