//! The default HTTP transport end to end: a client with a DSN and no transport of its own
//! sends over real loopback HTTP to an in-process devserver, which can misbehave on purpose.
//!
//! Every test has its own server (port 0) and client; every wait is on `flush` or on the
//! server, bounded. The only sleeps wait for a server-announced `Retry-After` to run out.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use crumbtrail_core::protocol::{DataCategory, DiscardReason, EventId};
use crumbtrail_core::{
    Breadcrumb, Client, ClientOptions, Level, ScopeFutureExt, add_breadcrumb, capture_message,
};
use crumbtrail_devserver::{DevServer, DevServerConfig, Fault, FaultMode};
use tokio::sync::mpsc;

/// The longest any test waits for the sender or the server.
const WAIT: Duration = Duration::from_secs(10);

async fn server_with(config: DevServerConfig) -> DevServer {
    DevServer::start(config).await.expect("devserver starts")
}

async fn server() -> DevServer {
    server_with(DevServerConfig::default()).await
}

/// A client sending to `server` with the default (HTTP) transport.
fn client(server: &DevServer, options: ClientOptions) -> Client {
    Client::new(ClientOptions {
        dsn: Some(server.dsn().to_string()),
        ..options
    })
    .expect("a DSN without a transport gets the HTTP transport")
}

/// Captures an error event with a three-crumb trail in the client's own scope. Asserts the
/// capture returned at once with an id, whatever the server is doing.
async fn capture(client: &Client, message: &str) -> EventId {
    let message = message.to_owned();
    async move {
        for step in ["cart loaded", "payment started", "payment declined"] {
            add_breadcrumb(
                Breadcrumb::new()
                    .with_category("checkout")
                    .with_message(step),
            );
        }
        let started = Instant::now();
        let id = capture_message(&message, Level::Error);
        let took = started.elapsed();
        assert!(took < Duration::from_secs(1), "capturing took {took:?}");
        id.expect("an enabled client returns the event id")
    }
    .bind_client(client)
    .await
}

fn lost(server: &DevServer, reason: DiscardReason) -> u64 {
    server.client_report_total(&reason, &DataCategory::Error)
}

/// Everything the server was told was lost, summed over reasons and categories.
fn lost_in_all(server: &DevServer) -> u64 {
    server.client_report_totals().values().sum()
}

#[tokio::test]
async fn an_event_arrives_with_its_breadcrumbs() {
    let server = server().await;
    let client = client(&server, ClientOptions::default());
    let id = capture(&client, "checkout failed").await;
    assert!(client.flush(WAIT).await);

    // The devserver decodes the gzip body as Relay does (the headers themselves are checked
    // in tests/http_wire.rs).
    let events = server.events();
    assert_eq!(events.len(), 1);
    let event = &events[0].event;
    assert_eq!(event.event_id, id);
    assert_eq!(event.message.as_deref(), Some("checkout failed"));
    let trail: Vec<_> = event
        .breadcrumbs
        .as_ref()
        .expect("breadcrumbs")
        .values
        .iter()
        .map(|c| c.message.clone().unwrap_or_default())
        .collect();
    assert_eq!(
        trail,
        ["cart loaded", "payment started", "payment declined"]
    );
    assert_eq!(server.requests(), 1);
    assert_eq!(lost_in_all(&server), 0);

    // The connection stays usable for the next envelope.
    capture(&client, "second").await;
    assert!(client.flush(WAIT).await);
    assert_eq!(server.events().len(), 2);
    assert!(client.close(WAIT).await);
}

#[tokio::test]
async fn server_errors_are_counted_send_error_and_reported_later() {
    for status in [500, 503] {
        let server = server().await;
        server.set_fault(Fault::status(status).times(1)).unwrap();
        let client = client(&server, ClientOptions::default());
        capture(&client, "first").await;
        capture(&client, "second").await;
        assert!(client.flush(WAIT).await);

        // One of the two hit the fault; the other, and the client report, got through.
        assert_eq!(server.events().len(), 1, "HTTP {status}");
        assert_eq!(server.requests(), 3, "HTTP {status}");
        assert_eq!(lost(&server, DiscardReason::SendError), 1, "HTTP {status}");
        assert_eq!(lost_in_all(&server), 1, "HTTP {status}");
    }
}

#[tokio::test]
async fn an_oversized_event_is_refused_with_413_and_counted_send_error() {
    // A real 413 from the server's own limit; the small client report passes it.
    let server = server_with(DevServerConfig::default().with_max_event_bytes(600)).await;
    let client = client(&server, ClientOptions::default());
    async {
        for i in 0..20 {
            add_breadcrumb(Breadcrumb::new().with_message(format!("step {i} of a long trail")));
        }
        capture_message("too big", Level::Error).expect("captured");
    }
    .bind_client(&client)
    .await;
    assert!(client.flush(WAIT).await);
    assert!(server.events().is_empty());
    assert_eq!(server.requests(), 2);
    assert_eq!(lost(&server, DiscardReason::SendError), 1);
    assert_eq!(lost_in_all(&server), 1);
}

#[tokio::test]
async fn a_429_with_rate_limits_drops_that_category_before_sending() {
    let server = server().await;
    // The header wins over Retry-After: `error` is limited for 60 s, nothing else is.
    server
        .set_fault(
            Fault::status(429)
                .with_rate_limits("60:error:key:usage_exceeded")
                .with_retry_after(1)
                .times(1),
        )
        .unwrap();
    let client = client(&server, ClientOptions::default());
    capture(&client, "limited").await;
    assert!(client.flush(WAIT).await);
    assert_eq!(server.requests(), 1);
    assert_eq!(lost_in_all(&server), 0, "a 429 is counted by the server");

    capture(&client, "dropped 1").await;
    capture(&client, "dropped 2").await;
    assert!(client.flush(WAIT).await);
    // No request carried them: the only new one is the client report (not rate limited).
    assert_eq!(server.requests(), 2);
    let envelopes = server.envelopes();
    assert_eq!(envelopes.len(), 1);
    assert_eq!(envelopes[0].item_types(), ["client_report"]);
    assert!(server.events().is_empty());
    assert_eq!(lost(&server, DiscardReason::RatelimitBackoff), 2);
    assert_eq!(lost_in_all(&server), 2);
}

/// A 429 without `X-Sentry-Rate-Limits` limits everything (client reports too) until its
/// `Retry-After` has passed; what was captured meanwhile is counted, and reported after.
async fn global_limit_case(retry_after: String, longest_wait: Duration) {
    let server = server().await;
    server
        .set_fault(Fault::new(FaultMode::Status {
            status: 429,
            rate_limits: None,
            retry_after: Some(retry_after.clone()),
        }))
        .unwrap();
    // Tells the test when the sender has picked up a capture (the limit is checked right
    // after `before_send`, in the same step).
    let (seen_tx, mut seen_rx) = mpsc::unbounded_channel::<String>();
    let client = client(
        &server,
        ClientOptions {
            before_send: Some(Arc::new(move |event, _| {
                let _ = seen_tx.send(event.message.clone().unwrap_or_default());
                Some(event)
            })),
            ..Default::default()
        },
    );
    let started = Instant::now();
    capture(&client, "limited").await;
    assert!(client.flush(WAIT).await);
    let answered = Instant::now();
    server.clear_fault();
    assert_eq!(server.requests(), 1);

    capture(&client, "dropped").await;
    let mut seen = Vec::new();
    while seen.last().map(String::as_str) != Some("dropped") {
        let next = tokio::time::timeout(WAIT, seen_rx.recv()).await;
        seen.push(next.expect("the sender picks up the capture").unwrap());
    }
    // The limit runs at least `longest_wait - 1 s` from the answer, which came after `started`.
    let margin = started + longest_wait - Duration::from_millis(1100);
    assert!(
        Instant::now() < margin,
        "the sender took too long to see the capture for this test to tell anything"
    );
    // Flushing now would send the client report into the global limit; wait the limit out.
    tokio::time::sleep_until((answered + longest_wait + Duration::from_millis(200)).into()).await;
    assert_eq!(server.requests(), 1, "Retry-After {retry_after}");

    assert!(client.flush(WAIT).await);
    assert_eq!(server.requests(), 2, "only the client report went out");
    assert!(server.events().is_empty());
    assert_eq!(lost(&server, DiscardReason::RatelimitBackoff), 1);
    assert_eq!(lost_in_all(&server), 1);

    // The limit is over: captures are sent again.
    capture(&client, "after").await;
    assert!(client.flush(WAIT).await);
    assert_eq!(server.events().len(), 1);
}

#[tokio::test]
async fn a_429_with_retry_after_seconds_limits_everything_until_then() {
    global_limit_case("2".into(), Duration::from_secs(2)).await;
}

#[tokio::test]
async fn a_429_with_retry_after_as_an_http_date_limits_everything_until_then() {
    // HTTP dates have whole seconds: 3 s ahead is a wait of 2 to 3 s.
    global_limit_case(
        common::http_date_in(Duration::from_secs(3)),
        Duration::from_secs(3),
    )
    .await;
}

#[tokio::test]
async fn a_server_that_never_answers_does_not_hold_up_flush() {
    let server = server().await;
    server.set_fault(Fault::hang().times(1)).unwrap();
    let client = client(
        &server,
        ClientOptions {
            request_timeout: Duration::from_secs(1),
            ..Default::default()
        },
    );
    capture(&client, "hangs").await;
    server
        .wait_for_requests(1, WAIT)
        .await
        .expect("the request reached the server");

    let started = Instant::now();
    let delivered = client.flush(Duration::from_millis(300)).await;
    let took = started.elapsed();
    eprintln!("flush(300 ms) against a hanging server returned after {took:?}");
    assert!(!delivered, "the envelope is still in flight");
    assert!(took < Duration::from_secs(2), "flush(300 ms) took {took:?}");

    // Captures keep returning at once while a request hangs, and go out on another
    // connection.
    capture(&client, "meanwhile").await;
    // Once the hanging request times out, its loss is counted and reported.
    assert!(client.flush(WAIT).await);
    let events = server.events();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].event.message.as_deref(), Some("meanwhile"));
    assert_eq!(server.requests(), 3);
    assert_eq!(lost(&server, DiscardReason::NetworkError), 1);
    assert_eq!(lost_in_all(&server), 1);
}

#[tokio::test]
async fn a_connection_reset_is_counted_network_error() {
    let server = server().await;
    server.set_fault(Fault::reset().times(1)).unwrap();
    let client = client(&server, ClientOptions::default());
    capture(&client, "reset").await;
    assert!(client.flush(WAIT).await);
    assert!(server.events().is_empty());
    assert_eq!(
        server.requests(),
        2,
        "the reset request, then the client report"
    );
    assert_eq!(lost(&server, DiscardReason::NetworkError), 1);
    assert_eq!(lost_in_all(&server), 1);
}

#[tokio::test]
async fn a_closed_port_is_counted_network_error() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    // Nothing can reach this server, client reports included, so the counts are read from the
    // client (with reports off, flush leaves them there).
    let client = Client::new(ClientOptions {
        dsn: Some(format!("http://devkey@127.0.0.1:{port}/1")),
        send_client_reports: false,
        ..Default::default()
    })
    .unwrap();
    capture(&client, "nobody listens").await;
    capture(&client, "still nobody").await;
    let started = Instant::now();
    assert!(client.flush(WAIT).await);
    eprintln!(
        "two sends to a closed port answered after {:?}",
        started.elapsed()
    );
    assert_eq!(
        client
            .discards()
            .get(&DiscardReason::NetworkError, &DataCategory::Error),
        2
    );
    assert!(client.close(WAIT).await);
}

#[tokio::test]
async fn a_failed_tls_handshake_is_counted_network_error() {
    // An https DSN pointed at the devserver's plain-HTTP port: rustls gets no TLS answer.
    let server = server().await;
    let client = Client::new(ClientOptions {
        dsn: Some(format!("https://devkey@{}/1", server.addr())),
        send_client_reports: false,
        ..Default::default()
    })
    .unwrap();
    capture(&client, "over tls").await;
    assert!(client.flush(WAIT).await);
    assert_eq!(
        client
            .discards()
            .get(&DiscardReason::NetworkError, &DataCategory::Error),
        1
    );
    assert_eq!(server.requests(), 0);
}
