//! End to end: the SDK sends over real loopback HTTP to the in-process devserver, and the tests
//! assert on what the server stored — events, their breadcrumb trails, client reports — also
//! after the server restarts.

use std::sync::Arc;
use std::time::Duration;

use crumbtrail::protocol::{DataCategory, DiscardReason};
use crumbtrail::test::trail;
use crumbtrail::{Breadcrumb, Client, ClientOptions, Level, ScopeFutureExt};
use crumbtrail_devserver::{DevServer, DevServerConfig};

const TIMEOUT: Duration = Duration::from_secs(10);

fn client_for(server: &DevServer, options: ClientOptions) -> Client {
    Client::new(ClientOptions {
        dsn: Some(server.dsn().to_string()),
        release: Some("e2e@1.0.0".into()),
        ..options
    })
    .expect("valid options")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_request_s_event_arrives_with_exactly_its_own_trail() {
    let server = DevServer::start(DevServerConfig::default()).await.unwrap();
    let client = client_for(&server, ClientOptions::default());
    async {
        let request = |id: u32| {
            crumbtrail::with_isolation_scope(move |s| s.set_tag("request", id), async move {
                for step in 0..5 {
                    crumbtrail::add_breadcrumb(
                        Breadcrumb::new()
                            .with_category("work")
                            .with_message(format!("r{id} s{step}")),
                    );
                    tokio::task::yield_now().await;
                }
                let err = std::io::Error::other(format!("request {id} failed"));
                crumbtrail::capture_error(&err);
            })
        };
        let (a, b) = (crumbtrail::spawn(request(1)), crumbtrail::spawn(request(2)));
        a.await.unwrap();
        b.await.unwrap();
    }
    .bind_client(&client)
    .await;
    assert!(client.close(TIMEOUT).await);

    let events = server
        .wait_for_events(2, TIMEOUT)
        .await
        .expect("two events");
    for received in &events {
        let e = &received.event;
        let id = &e.tags["request"];
        assert_eq!(e.release.as_deref(), Some("e2e@1.0.0"));
        assert_eq!(
            trail(e),
            (0..5).map(|s| format!("r{id} s{s}")).collect::<Vec<_>>()
        );
        let exc = &e.exception.as_ref().unwrap().values;
        assert_eq!(
            exc.last().unwrap().value.as_deref(),
            Some(&*format!("request {id} failed"))
        );
    }
    server.shutdown().await;
}

#[tokio::test]
async fn losses_reach_the_server_as_client_reports() {
    let server = DevServer::start(DevServerConfig::default()).await.unwrap();
    let client = client_for(
        &server,
        ClientOptions {
            before_send: Some(Arc::new(|event, _| {
                (event.message.as_deref() != Some("drop me")).then_some(event)
            })),
            ..Default::default()
        },
    );
    async {
        crumbtrail::capture_message("drop me", Level::Error);
        crumbtrail::capture_message("drop me", Level::Error);
        crumbtrail::capture_message("keep me", Level::Error);
    }
    .bind_client(&client)
    .await;
    assert!(client.flush(TIMEOUT).await);
    server
        .wait_until(TIMEOUT, |r| {
            r.events().len() == 1 && r.client_report_items() >= 1
        })
        .await
        .expect("the kept event");
    assert_eq!(
        server.client_report_total(&DiscardReason::BeforeSend, &DataCategory::Error),
        2
    );
    server.shutdown().await;
}

#[tokio::test]
async fn what_was_stored_survives_a_server_restart() {
    let dir = std::env::temp_dir().join(format!("crumbtrail-e2e-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let server = DevServer::start(DevServerConfig::default().with_data_dir(&dir))
        .await
        .unwrap();
    let client = client_for(&server, ClientOptions::default());
    async {
        crumbtrail::add_breadcrumb(Breadcrumb::new().with_message("before the restart"));
        crumbtrail::capture_message("persisted", Level::Warning);
    }
    .bind_client(&client)
    .await;
    assert!(client.close(TIMEOUT).await);
    server.wait_for_events(1, TIMEOUT).await.unwrap();
    server.shutdown().await;

    let again = DevServer::start(DevServerConfig::default().with_data_dir(&dir))
        .await
        .unwrap();
    let events = again.events();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].event.message.as_deref(), Some("persisted"));
    assert_eq!(trail(&events[0].event), ["before the restart"]);
    again.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}
