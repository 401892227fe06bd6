//! Per-capture delivery handles end to end over loopback HTTP: each tracked capture learns
//! whether the server took it, or why it was dropped.

use std::sync::Arc;
use std::time::Duration;

use crumbtrail_core::protocol::DiscardReason;
use crumbtrail_core::{
    Client, ClientOptions, Delivery, DeliveryHandle, Event, Level, ScopeFutureExt,
    capture_event_tracked,
};
use crumbtrail_devserver::{DevServer, DevServerConfig, Fault};

const WAIT: Duration = Duration::from_secs(10);

async fn server_with(fault: Option<Fault>) -> DevServer {
    let server = DevServer::start(DevServerConfig::default())
        .await
        .expect("devserver starts");
    if let Some(fault) = fault {
        server.set_fault(fault).expect("valid fault");
    }
    server
}

fn client(server: &DevServer, options: ClientOptions) -> Client {
    Client::new(ClientOptions {
        dsn: Some(server.dsn().to_string()),
        ..options
    })
    .expect("client")
}

fn message(text: &str) -> Event {
    let mut event = Event::new();
    event.level = Level::Error;
    event.message = Some(text.to_owned());
    event
}

async fn tracked(client: &Client, text: &str) -> DeliveryHandle {
    let event = message(text);
    // (An `Option` comes out of the bound block: a handle is itself a future.)
    async move { capture_event_tracked(event) }
        .bind_client(client)
        .await
        .expect("an enabled client tracks it")
}

async fn outcome(handle: DeliveryHandle) -> Delivery {
    tokio::time::timeout(WAIT, handle)
        .await
        .expect("the outcome arrives")
}

#[tokio::test]
async fn a_delivered_capture_says_so_and_arrived() {
    let server = server_with(None).await;
    let client = client(&server, ClientOptions::default());
    let handle = tracked(&client, "kept").await;
    let id = handle.event_id();
    assert_eq!(outcome(handle).await, Delivery::Delivered);
    assert!(
        server.event(&id).is_some(),
        "the server has it when the handle says so"
    );
}

#[tokio::test]
async fn hooks_server_errors_and_rate_limits_name_their_reason() {
    let server = server_with(Some(
        Fault::status(200).with_rate_limits("60:error:key").times(1),
    ))
    .await;
    let client = client(
        &server,
        ClientOptions {
            before_send: Some(Arc::new(|event, _| {
                (event.message.as_deref() != Some("filtered")).then_some(event)
            })),
            ..Default::default()
        },
    );
    assert_eq!(
        outcome(tracked(&client, "filtered").await).await,
        Delivery::Dropped(DiscardReason::BeforeSend)
    );
    // Delivered, and its answer limits errors for 60 s: the next one is held back.
    assert_eq!(
        outcome(tracked(&client, "first").await).await,
        Delivery::Delivered
    );
    assert_eq!(
        outcome(tracked(&client, "second").await).await,
        Delivery::Dropped(DiscardReason::RatelimitBackoff)
    );

    let failing = server_with(Some(Fault::status(500))).await;
    let other = self::client(&failing, ClientOptions::default());
    assert_eq!(
        outcome(tracked(&other, "refused").await).await,
        Delivery::Dropped(DiscardReason::SendError)
    );
}

#[tokio::test]
async fn a_close_that_gives_up_tells_the_captures_it_abandoned() {
    let server = server_with(Some(Fault::hang())).await;
    let client = client(&server, ClientOptions::default());
    let mut handles = Vec::new();
    for i in 0..20 {
        handles.push(tracked(&client, &format!("stuck {i}")).await);
    }
    server
        .wait_for_requests(16, WAIT)
        .await
        .expect("the sends reach the hung server");
    assert!(!client.close(Duration::from_millis(200)).await);
    let mut cut_off = 0;
    let mut never_sent = 0;
    for handle in handles {
        match outcome(handle).await {
            Delivery::Dropped(DiscardReason::NetworkError) => cut_off += 1,
            Delivery::Dropped(DiscardReason::QueueOverflow) => never_sent += 1,
            other => panic!("unexpected outcome {other:?}"),
        }
    }
    assert_eq!((cut_off, never_sent), (16, 4));
}

#[tokio::test]
async fn nothing_is_tracked_when_nothing_will_be_sent() {
    let server = server_with(None).await;
    let client = client(
        &server,
        ClientOptions {
            sample_rate: 0.0,
            ..Default::default()
        },
    );
    let handle = async { capture_event_tracked(message("sampled out")) }
        .bind_client(&client)
        .await;
    assert!(handle.is_none());
}
