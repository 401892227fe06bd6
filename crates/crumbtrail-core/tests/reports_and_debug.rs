//! Pending losses reach the server on their own, without a flush; with `debug` on, the SDK
//! says what it dropped — through `tracing` at target `crumbtrail`, once per cause per interval.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crumbtrail_core::protocol::{DataCategory, DiscardReason};
use crumbtrail_core::{Client, ClientOptions, Level, ScopeFutureExt, capture_message};
use crumbtrail_devserver::{DevServer, DevServerConfig};
use tracing_subscriber::layer::{Context, SubscriberExt};

#[tokio::test]
async fn pending_losses_are_reported_without_a_flush() {
    let server = DevServer::start(DevServerConfig::default()).await.unwrap();
    let client = Client::new(ClientOptions {
        dsn: Some(server.dsn().to_string()),
        sample_rate: 0.0,
        client_report_interval: Duration::from_millis(50),
        ..Default::default()
    })
    .unwrap();
    async {
        capture_message("sampled out", Level::Error);
        capture_message("sampled out too", Level::Error);
    }
    .bind_client(&client)
    .await;
    // No flush: the sender's own timer sends the report.
    server
        .wait_until(Duration::from_secs(10), |r| {
            r.client_report_total(&DiscardReason::SampleRate, &DataCategory::Error) == 2
        })
        .await
        .expect("a standalone client report");
    assert!(server.events().is_empty());
    server.shutdown().await;
}

/// Records (target, message) of every event.
#[derive(Clone, Default)]
struct Recorder(Arc<Mutex<Vec<(String, String)>>>);

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Recorder {
    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        struct Message(String);
        impl tracing::field::Visit for Message {
            fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
                if field.name() == "message" {
                    self.0 = format!("{value:?}");
                }
            }
        }
        let mut m = Message(String::new());
        event.record(&mut m);
        self.0
            .lock()
            .unwrap()
            .push((event.metadata().target().to_owned(), m.0));
    }
}

#[test]
fn debug_says_what_was_dropped_once_per_cause() {
    let recorder = Recorder::default();
    let subscriber = tracing_subscriber::registry().with(recorder.clone());
    let transport = crumbtrail_core::TestTransport::new();
    let client = crumbtrail_core::test::client_with(
        &transport,
        ClientOptions {
            debug: true,
            before_send: Some(Arc::new(|_, _| panic!("hook bug"))),
            ..Default::default()
        },
    );
    // The sender thread emits the diagnostics: make the recorder the process-wide default for
    // this test binary's sender threads by installing it globally (this file has no other
    // test that logs).
    tracing::subscriber::set_global_default(subscriber).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(
        async {
            capture_message("one", Level::Error);
            capture_message("two", Level::Error);
        }
        .bind_client(&client),
    );
    assert!(client.flush_blocking(Duration::from_secs(5)));
    let said = recorder.0.lock().unwrap().clone();
    let panics: Vec<_> = said
        .iter()
        .filter(|(target, msg)| target == "crumbtrail" && msg.contains("before_send panicked"))
        .collect();
    assert_eq!(panics.len(), 1, "once per cause: {said:?}");
    assert!(transport.events().is_empty());
}

#[tokio::test]
async fn flush_deadlines_hold_while_every_send_slot_hangs() {
    let server = DevServer::start(DevServerConfig::default()).await.unwrap();
    server
        .set_fault(crumbtrail_devserver::Fault::hang())
        .unwrap();
    let client = Client::new(ClientOptions {
        dsn: Some(server.dsn().to_string()),
        request_timeout: Duration::from_secs(30),
        client_report_interval: Duration::from_millis(20),
        before_send: Some(Arc::new(|e, _| {
            // Every fourth event is dropped, so a client report is always pending.
            (e.message.as_deref().is_some_and(|m| !m.ends_with('3'))).then_some(e)
        })),
        ..Default::default()
    })
    .unwrap();
    async {
        for i in 0..40 {
            capture_message(&format!("event {}", i % 4), Level::Error);
        }
    }
    .bind_client(&client)
    .await;
    // All send slots are stuck on the hung server; periodic reports keep coming due.
    let start = std::time::Instant::now();
    let delivered = client.flush(Duration::from_millis(300)).await;
    let took = start.elapsed();
    assert!(!delivered);
    assert!(took < Duration::from_secs(2), "flush(300 ms) took {took:?}");
    server.shutdown().await;
}
