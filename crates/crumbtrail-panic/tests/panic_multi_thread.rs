//! A panic in a task on a multi-thread runtime arrives at the server as a fatal event with the
//! task's breadcrumb trail, before the panic is propagated.

use std::time::Duration;

use crumbtrail_core::{Breadcrumb, Client, ClientOptions, ScopeFutureExt};
use crumbtrail_devserver::{DevServer, DevServerConfig};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_task_delivers_a_fatal_event() {
    crumbtrail_panic::install();
    let server = DevServer::start(DevServerConfig::default()).await.unwrap();
    let client = Client::new(ClientOptions {
        dsn: Some(server.dsn().to_string()),
        ..Default::default()
    })
    .unwrap();
    let task = tokio::spawn(
        async {
            crumbtrail_core::add_breadcrumb(Breadcrumb::new().with_message("about to fail"));
            let v: Vec<u32> = Vec::new();
            let _ = v[3]; // index out of bounds
        }
        .bind_client(&client),
    );
    assert!(task.await.unwrap_err().is_panic());
    // The hook flushed before the panic went on, so the event is already there.
    let events = server
        .wait_for_events(1, Duration::from_secs(10))
        .await
        .expect("the panic event");
    let e = &events[0].event;
    assert_eq!(e.level, crumbtrail_core::Level::Fatal);
    let exc = &e.exception.as_ref().unwrap().values[0];
    assert_eq!(exc.ty.as_deref(), Some("panic"));
    assert!(
        exc.value
            .as_deref()
            .unwrap()
            .contains("index out of bounds")
    );
    let mechanism = exc.mechanism.as_ref().unwrap();
    assert_eq!(
        (&*mechanism.ty, mechanism.handled),
        ("auto.panic", Some(false))
    );
    assert!(!exc.stacktrace.as_ref().unwrap().frames.is_empty());
    let trail: Vec<_> = e
        .breadcrumbs
        .as_ref()
        .unwrap()
        .values
        .iter()
        .map(|c| c.message.clone().unwrap())
        .collect();
    assert_eq!(trail, ["about to fail"]);
    server.shutdown().await;
}
