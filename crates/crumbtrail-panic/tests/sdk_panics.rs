//! Panics in the SDK's own work are the SDK's to handle, not crashes: a `before_send` that
//! panics on the sender's thread, or a `before_breadcrumb` that panics on the caller's. The SDK
//! catches them and drops what the hook was for; the hook sends nothing for them and never
//! waits on the sender from the sender. One test: the hook and the client are process-wide.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use crumbtrail_core::{Breadcrumb, ClientOptions, Level, TestTransport, test};

static BEFORE_SEND_CALLS: AtomicUsize = AtomicUsize::new(0);

#[test]
fn panics_the_sdk_catches_are_not_reported_as_crashes() {
    crumbtrail_panic::install();
    let transport = TestTransport::new();
    let client = test::client_with(
        &transport,
        ClientOptions {
            before_send: Some(Arc::new(|event, _| {
                BEFORE_SEND_CALLS.fetch_add(1, Ordering::SeqCst);
                if event.message.as_deref() == Some("panics before_send") {
                    panic!("a bug in before_send");
                }
                Some(event)
            })),
            before_breadcrumb: Some(Arc::new(|crumb, _| {
                if crumb.message.as_deref() == Some("panics before_breadcrumb") {
                    panic!("a bug in before_breadcrumb");
                }
                Some(crumb)
            })),
            ..Default::default()
        },
    );
    crumbtrail_core::set_global_client(Some(client.clone()));

    // Caught by the SDK: the crumb is dropped and the caller goes on.
    crumbtrail_core::add_breadcrumb(Breadcrumb::new().with_message("panics before_breadcrumb"));
    crumbtrail_core::add_breadcrumb(Breadcrumb::new().with_message("kept"));
    // Caught on the sender's thread: the event is dropped and counted. A panic event the hook
    // made of it would be queued before the first flush ends and sent by the second.
    crumbtrail_core::capture_message("panics before_send", Level::Error);
    assert!(client.flush_blocking(Duration::from_secs(10)));
    assert!(client.flush_blocking(Duration::from_secs(10)));
    assert_eq!(BEFORE_SEND_CALLS.load(Ordering::SeqCst), 1);
    assert!(transport.events().is_empty(), "{:?}", transport.events());

    // The SDK goes on working: the next event goes out with the trail it should have.
    crumbtrail_core::capture_message("after", Level::Error);
    assert!(client.flush_blocking(Duration::from_secs(10)));
    crumbtrail_core::set_global_client(None);
    let events = transport.events();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].level, Level::Error);
    let crumbs: Vec<_> = events[0]
        .breadcrumbs
        .as_ref()
        .unwrap()
        .values
        .iter()
        .map(|c| c.message.as_deref())
        .collect();
    assert_eq!(crumbs, [Some("kept")]);
}
