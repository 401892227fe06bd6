//! The layer under a global subscriber, as applications install it (`.init()`,
//! `set_global_default`): `tracing` then guards nothing against re-entry, and the sender's
//! thread sees the same subscriber. Records the SDK's own work emits never become breadcrumbs
//! or events. One test: the subscriber and the client are process-wide.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use crumbtrail_core::{ClientOptions, Level, TestTransport, test};
use crumbtrail_tracing::Handling;
use tracing_subscriber::layer::SubscriberExt;

static HANDLER_DEPTH: AtomicUsize = AtomicUsize::new(0);
static HANDLER_MAX_DEPTH: AtomicUsize = AtomicUsize::new(0);
static BEFORE_SEND_CALLS: AtomicUsize = AtomicUsize::new(0);

#[test]
fn the_sdks_own_log_lines_never_loop_back() {
    // A handler that logs about what it saw, to the target it handles.
    let layer = crumbtrail_tracing::layer().global_handler(|record| {
        if record.target() == "audit" {
            let depth = HANDLER_DEPTH.fetch_add(1, Ordering::SeqCst) + 1;
            HANDLER_MAX_DEPTH.fetch_max(depth, Ordering::SeqCst);
            if depth < 10 {
                tracing::warn!(target: "audit", "the audit handler saw a record");
            }
            HANDLER_DEPTH.fetch_sub(1, Ordering::SeqCst);
        }
        Handling::Continue
    });
    tracing::subscriber::set_global_default(tracing_subscriber::registry().with(layer.filtered()))
        .unwrap();
    // A before_send that logs an error: it runs on the sender's thread, where the global
    // client is the current one.
    let transport = TestTransport::new();
    let client = test::client_with(
        &transport,
        ClientOptions {
            before_send: Some(Arc::new(|event, _| {
                BEFORE_SEND_CALLS.fetch_add(1, Ordering::SeqCst);
                tracing::error!(target: "app::hooks", "before_send saw an event");
                Some(event)
            })),
            ..Default::default()
        },
    );
    crumbtrail_core::set_global_client(Some(client.clone()));

    tracing::warn!(target: "audit", "a record");
    assert_eq!(
        HANDLER_MAX_DEPTH.load(Ordering::SeqCst),
        1,
        "the handler's own log line re-entered the layer"
    );

    tracing::error!(target: "app", "the one error the app logged");
    // An event made by before_send's log line would be queued before the first flush ends,
    // and sent (through before_send again) by the second.
    assert!(client.flush_blocking(Duration::from_secs(10)));
    assert!(client.flush_blocking(Duration::from_secs(10)));
    crumbtrail_core::set_global_client(None);

    assert_eq!(BEFORE_SEND_CALLS.load(Ordering::SeqCst), 1);
    let events = transport.events();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].level, Level::Error);
    assert_eq!(
        events[0].message.as_deref(),
        Some("the one error the app logged")
    );
    // The audit record is on the trail; the handler's nested line is not.
    let crumbs = &events[0].breadcrumbs.as_ref().unwrap().values;
    let audit: Vec<_> = crumbs
        .iter()
        .filter(|c| c.category.as_deref() == Some("audit"))
        .map(|c| c.message.as_deref())
        .collect();
    assert_eq!(audit, [Some("a record")]);
}
