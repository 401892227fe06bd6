//! `init` inside `#[tokio::main]` (multi-thread) just works: captures from tasks and from
//! plain threads reach the transport, and `close` delivers everything.
//! (One test per file: `init` sets process-wide state.)

use std::sync::Arc;
use std::time::Duration;

use crumbtrail::{Breadcrumb, ClientOptions, Level, TestTransport, Transport};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn init_inside_a_multi_thread_runtime() {
    let transport = TestTransport::new();
    let t = transport.clone();
    let guard = crumbtrail::init(ClientOptions {
        transport: Some(Arc::new(move || Arc::new(t.clone()) as Arc<dyn Transport>)),
        release: Some("shop@1.4.2".into()),
        ..Default::default()
    })
    .unwrap();
    assert!(guard.is_enabled());

    crumbtrail::spawn(async {
        crumbtrail::add_breadcrumb(Breadcrumb::new().with_message("in a task"));
        crumbtrail::capture_message("from a task", Level::Warning);
    })
    .await
    .unwrap();

    // A plain thread that runs no bound task falls back to its own per-thread scope.
    std::thread::spawn(|| {
        crumbtrail::add_breadcrumb(Breadcrumb::new().with_message("on a thread"));
        crumbtrail::capture_message("from a thread", Level::Info);
    })
    .join()
    .unwrap();

    assert!(guard.close(Duration::from_secs(5)).await);
    let events = transport.events();
    assert_eq!(events.len(), 2);
    for e in &events {
        assert_eq!(e.release.as_deref(), Some("shop@1.4.2"));
        let trail: Vec<_> = e
            .breadcrumbs
            .as_ref()
            .unwrap()
            .values
            .iter()
            .map(|c| c.message.clone().unwrap())
            .collect();
        match e.message.as_deref() {
            Some("from a task") => assert_eq!(trail, ["in a task"]),
            Some("from a thread") => assert_eq!(trail, ["on a thread"]),
            other => panic!("unexpected event {other:?}"),
        }
    }
    // After close, the SDK is off again.
    assert_eq!(crumbtrail::capture_message("late", Level::Error), None);
}
