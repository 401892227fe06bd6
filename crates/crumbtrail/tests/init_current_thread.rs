//! `init` inside a `current_thread` runtime: the sender runs on its own thread, so even a
//! blocking flush from the runtime's only thread cannot deadlock.

use std::sync::Arc;
use std::time::Duration;

use crumbtrail::{ClientOptions, Level, TestTransport, Transport};

#[tokio::test(flavor = "current_thread")]
async fn init_inside_a_current_thread_runtime() {
    let transport = TestTransport::new();
    let t = transport.clone();
    let guard = crumbtrail::init(ClientOptions {
        transport: Some(Arc::new(move || Arc::new(t.clone()) as Arc<dyn Transport>)),
        ..Default::default()
    })
    .unwrap();
    let id = crumbtrail::capture_message("hello", Level::Info).expect("queued");
    assert_eq!(crumbtrail::last_event_id(), Some(id));
    // Blocking the runtime's only thread in a flush still completes.
    assert!(
        guard
            .client()
            .unwrap()
            .flush_blocking(Duration::from_secs(5))
    );
    assert_eq!(transport.events().len(), 1);
    crumbtrail::capture_message("on drop", Level::Info);
    drop(guard); // flushes within shutdown_timeout
    let events = transport.events();
    assert_eq!(events.len(), 2);
    assert_eq!(events[0].event_id, id);
}
