//! A panic on a `current_thread` runtime: the hook's flush blocks the runtime's only thread and
//! still completes — the sender runs on its own thread — so the event is at the server before
//! the panic goes on.

use std::time::Duration;

use crumbtrail_core::{Client, ClientOptions, ScopeFutureExt};
use crumbtrail_devserver::{DevServer, DevServerConfig};

#[test]
fn a_panic_on_the_only_runtime_thread_is_delivered_before_it_unwinds() {
    crumbtrail_panic::install();
    // The collector runs on a runtime of its own, as a real server would.
    let server_rt = tokio::runtime::Runtime::new().unwrap();
    let server = server_rt
        .block_on(DevServer::start(DevServerConfig::default()))
        .unwrap();
    let client = Client::new(ClientOptions {
        dsn: Some(server.dsn().to_string()),
        ..Default::default()
    })
    .unwrap();

    let app_rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    app_rt.block_on(
        async {
            let caught = std::panic::catch_unwind(|| panic!("boom on the only thread"));
            assert!(caught.is_err());
        }
        .bind_client(&client),
    );
    // No waiting: the hook delivered the event before unwinding.
    let events = server.events();
    assert_eq!(events.len(), 1);
    let exc = &events[0].event.exception.as_ref().unwrap().values[0];
    assert_eq!(exc.value.as_deref(), Some("boom on the only thread"));
    assert!(client.flush_blocking(Duration::from_secs(5)));
    server_rt.block_on(server.shutdown());
}
