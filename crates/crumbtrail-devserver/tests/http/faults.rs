//! Every fault mode, seen from a real client: statuses, rate-limit headers, delays, hangs,
//! resets, fail-N-then-recover, and switching at runtime.

use std::error::Error as _;
use std::time::{Duration, Instant};

use crumbtrail_devserver::{DevServerConfig, Fault};
use crumbtrail_protocol::parse_rate_limits;
use http::Method;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::common::*;

fn body() -> Vec<u8> {
    event_envelope(&sample_event("faulted"))
}

/// POSTs an envelope with the server's credentials and a client timeout.
async fn post_with_timeout(
    server: &crumbtrail_devserver::DevServer,
    timeout: Duration,
) -> Result<Reply, Failure> {
    let auth = auth(server);
    send_with_timeout(
        Method::POST,
        &server.dsn().envelope_url(),
        &[("x-sentry-auth", auth.as_str())],
        body(),
        timeout,
    )
    .await
}

#[tokio::test]
async fn status_faults_answer_the_status_and_store_nothing() {
    let server = start().await;
    for status in [500u16, 503, 413, 400, 401, 403] {
        server.set_fault(Fault::status(status)).unwrap();
        let reply = post_envelope(&server, body()).await;
        assert_eq!(reply.status.as_u16(), status);
        assert!(
            reply
                .detail()
                .starts_with("fault injected by the devserver"),
            "{}",
            reply.text()
        );
    }
    assert!(server.envelopes().is_empty());
    assert_eq!(server.requests(), 6, "faulted requests are counted");
    server.shutdown().await;
}

#[tokio::test]
async fn rate_limit_and_retry_after_headers_with_429_and_with_200() {
    let server = start().await;
    let limits = "60:error;transaction:organization, 2700:default:key";
    server
        .set_fault(
            Fault::status(429)
                .with_rate_limits(limits)
                .with_retry_after(60),
        )
        .unwrap();
    let reply = post_envelope(&server, body()).await;
    assert_eq!(reply.status, 429);
    assert_eq!(reply.headers["x-sentry-rate-limits"], limits);
    assert_eq!(reply.headers["retry-after"], "60");
    assert_eq!(parse_rate_limits(limits).len(), 2);
    assert!(server.envelopes().is_empty(), "a 429 stores nothing");

    server
        .set_fault(Fault::status(200).with_rate_limits("60:transaction:key"))
        .unwrap();
    let event = sample_event("accepted but limited");
    let reply = post_envelope(&server, event_envelope(&event)).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.headers["x-sentry-rate-limits"], "60:transaction:key");
    assert!(reply.headers.get("retry-after").is_none());
    assert_eq!(reply.json()["id"], event.event_id.to_string());
    assert_eq!(
        server.events().len(),
        1,
        "a 200 with rate limits stores the envelope"
    );

    server
        .set_fault(Fault::status(503).with_retry_after(5))
        .unwrap();
    let reply = post_envelope(&server, body()).await;
    assert_eq!(reply.status, 503);
    assert_eq!(reply.headers["retry-after"], "5");
    assert!(reply.headers.get("x-sentry-rate-limits").is_none());
    server.shutdown().await;
}

#[tokio::test]
async fn a_delay_fault_answers_late_and_normally() {
    let server = start().await;
    server
        .set_fault(Fault::delay(Duration::from_millis(200)).times(1))
        .unwrap();
    let started = Instant::now();
    let reply = post_envelope(&server, body()).await;
    assert!(started.elapsed() >= Duration::from_millis(200));
    assert_eq!(reply.status, 200);
    assert_eq!(server.events().len(), 1);

    // A client that gives up first sees its own timeout.
    server
        .set_fault(Fault::delay(Duration::from_secs(300)))
        .unwrap();
    let outcome = post_with_timeout(&server, Duration::from_millis(100)).await;
    assert!(matches!(outcome, Err(Failure::Timeout)), "{outcome:?}");
    assert_eq!(server.requests(), 2);
    tokio::time::timeout(TIMEOUT, server.shutdown())
        .await
        .expect("a pending delay does not hold up shutdown");
}

#[tokio::test]
async fn a_hang_fault_never_answers_and_does_not_block_shutdown() {
    let server = start_with(DevServerConfig::default().with_fault(Fault::hang())).await;
    let outcome = post_with_timeout(&server, Duration::from_millis(200)).await;
    assert!(matches!(outcome, Err(Failure::Timeout)), "{outcome:?}");

    // A second hung request is still in flight while the server shuts down.
    let url = server.dsn().envelope_url();
    let auth = auth(&server);
    let pending = tokio::spawn(async move {
        send_with_timeout(
            Method::POST,
            &url,
            &[("x-sentry-auth", &auth)],
            body(),
            TIMEOUT,
        )
        .await
    });
    server.wait_for_requests(2, TIMEOUT).await.unwrap();
    assert!(server.envelopes().is_empty());
    tokio::time::timeout(TIMEOUT, server.shutdown())
        .await
        .expect("hung requests do not hold up shutdown");
    let outcome = pending.await.unwrap();
    assert!(
        matches!(outcome, Err(Failure::Http(_))),
        "closed without an answer: {outcome:?}"
    );
}

/// Whether an error chain shows the connection was reset or closed without a response.
fn is_connection_error(err: &hyper_util::client::legacy::Error) -> bool {
    let mut source = err.source();
    while let Some(e) = source {
        if let Some(io) = e.downcast_ref::<std::io::Error>()
            && io.kind() == std::io::ErrorKind::ConnectionReset
        {
            return true;
        }
        if let Some(h) = e.downcast_ref::<hyper::Error>()
            && (h.is_incomplete_message() || h.is_closed())
        {
            return true;
        }
        source = e.source();
    }
    false
}

#[tokio::test]
async fn a_reset_fault_is_a_connection_error_for_the_client() {
    let server = start().await;
    server.set_fault(Fault::reset()).unwrap();
    match post_with_timeout(&server, TIMEOUT).await {
        Err(Failure::Http(e)) => assert!(is_connection_error(&e), "{e:?}"),
        other => panic!("expected a connection error, got {other:?}"),
    }

    // On a raw socket the reset is visible as such: RST, not an orderly close.
    let mut stream = tokio::net::TcpStream::connect(server.addr()).await.unwrap();
    let payload = body();
    let head = format!(
        "POST /api/1/envelope/ HTTP/1.1\r\nHost: x\r\nX-Sentry-Auth: {}\r\nContent-Length: {}\r\n\r\n",
        auth(&server),
        payload.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(&payload).await.unwrap();
    let mut buf = [0u8; 64];
    let read = tokio::time::timeout(TIMEOUT, stream.read(&mut buf))
        .await
        .expect("no hang");
    match read {
        Err(e) => assert_eq!(e.kind(), std::io::ErrorKind::ConnectionReset, "{e}"),
        Ok(n) => panic!("expected a reset, read {n} bytes: {:?}", &buf[..n]),
    }
    assert_eq!(server.requests(), 2);
    assert!(server.envelopes().is_empty());
    server.shutdown().await;
}

#[tokio::test]
async fn fail_the_next_n_requests_then_recover() {
    let config = DevServerConfig::default().with_fault(Fault::status(500).times(2));
    let server = start_with(config).await;
    assert_eq!(post_envelope(&server, body()).await.status, 500);
    assert_eq!(server.fault().unwrap().times, Some(1));
    assert_eq!(post_envelope(&server, body()).await.status, 500);
    assert!(server.fault().is_none(), "recovered");
    assert_eq!(post_envelope(&server, body()).await.status, 200);
    assert_eq!(server.requests(), 3);
    assert_eq!(server.envelopes().len(), 1);

    server.set_fault(Fault::reset().times(1)).unwrap();
    assert!(post_with_timeout(&server, TIMEOUT).await.is_err());
    assert_eq!(post_envelope(&server, body()).await.status, 200);
    assert_eq!(server.requests(), 5);
    server.shutdown().await;
}

#[tokio::test]
async fn faults_switch_at_runtime_and_spare_the_api() {
    let server = start().await;
    assert_eq!(post_envelope(&server, body()).await.status, 200);
    server.set_fault(Fault::status(503)).unwrap();
    assert_eq!(post_envelope(&server, body()).await.status, 503);
    // The JSON API and web view are never faulted.
    assert_eq!(get(&server, "/api/0/stats").await.status, 200);
    assert_eq!(get(&server, "/").await.status, 200);
    server
        .set_fault(Fault::status(429).with_retry_after(1))
        .unwrap();
    assert_eq!(post_envelope(&server, body()).await.status, 429);
    server.clear_fault();
    assert_eq!(post_envelope(&server, body()).await.status, 200);
    assert_eq!(server.envelopes().len(), 2);
    assert_eq!(server.requests(), 4);
    assert!(server.set_fault(Fault::status(42)).is_err());
    server.shutdown().await;
}
