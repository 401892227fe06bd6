//! The JSON API: client-report totals, counts, filters, the long-poll wait, fault control.

use std::time::Duration;

use bytes::Bytes;
use crumbtrail_protocol::{
    ClientReport, DataCategory, DiscardReason, Envelope, Item, ItemType, Level, SessionUpdate,
};
use http::Method;
use serde_json::json;

use crate::common::*;

fn report(counts: &[(DiscardReason, DataCategory, u64)]) -> Vec<u8> {
    let report = ClientReport::from_counts(counts.iter().cloned());
    Envelope::new()
        .with_item(report.to_item().unwrap())
        .to_bytes()
}

#[tokio::test]
async fn client_report_totals_add_up_across_envelopes() {
    let server = start().await;
    use DataCategory::*;
    use DiscardReason::*;
    let bodies = [
        report(&[(QueueOverflow, Error, 2), (SampleRate, Transaction, 5)]),
        report(&[(QueueOverflow, Error, 3)]),
        report(&[
            (RatelimitBackoff, Attachment, 1024),
            (SampleRate, Transaction, 1),
        ]),
    ];
    for body in bodies {
        assert_eq!(post_envelope(&server, body).await.status, 200);
    }
    // A report riding along with an event counts too.
    let mut with_event = Envelope::from_event(&sample_event("x")).unwrap();
    with_event.items.push(
        ClientReport::from_counts([(QueueOverflow, Error, 10)])
            .to_item()
            .unwrap(),
    );
    assert_eq!(
        post_envelope(&server, with_event.to_bytes()).await.status,
        200
    );

    assert_eq!(server.client_report_total(&QueueOverflow, &Error), 15);
    assert_eq!(server.client_report_total(&SampleRate, &Transaction), 6);
    assert_eq!(
        server.client_report_total(&RatelimitBackoff, &Attachment),
        1024
    );
    assert_eq!(server.client_report_total(&BeforeSend, &Error), 0);
    assert_eq!(server.client_report_totals().len(), 3);

    let api = get(&server, "/api/0/client-reports").await.json();
    assert_eq!(api["reports"], 4);
    assert_eq!(
        api["totals"],
        json!([
            {"reason": "queue_overflow", "category": "error", "quantity": 15},
            {"reason": "ratelimit_backoff", "category": "attachment", "quantity": 1024},
            {"reason": "sample_rate", "category": "transaction", "quantity": 6},
        ])
    );
    server.shutdown().await;
}

#[tokio::test]
async fn counts_items_and_filters() {
    let server = start().await;
    let mut warning = sample_event("careful");
    warning.level = Level::Warning;
    let error = sample_event("broken");
    let session = SessionUpdate::new("shop@1.4.2").to_item().unwrap();
    let mut env = Envelope::from_event(&warning).unwrap();
    env.items.push(session);
    env.items.push(Item::attachment(
        "a.txt",
        Some("text/plain"),
        b"{\"not\":\"parsed\"}".to_vec(),
    ));
    assert_eq!(post_envelope(&server, env.to_bytes()).await.status, 200);
    assert_eq!(
        post_envelope(&server, event_envelope(&error)).await.status,
        200
    );

    let stats = get(&server, "/api/0/stats").await.json();
    assert_eq!(
        stats,
        json!({"requests": 2, "envelopes": 2, "events": 2,
               "items": {"attachment": 1, "event": 2, "session": 1}})
    );
    assert_eq!(server.item_count("event"), 2);
    assert_eq!(server.item_counts()["session"], 1);

    let warnings = get(&server, "/api/0/events?level=warning").await.json();
    assert_eq!(warnings["count"], 1);
    assert_eq!(
        warnings["events"][0]["event_id"],
        warning.event_id.to_string()
    );
    assert_eq!(
        get(&server, "/api/0/events?type=feedback").await.json()["count"],
        0
    );
    assert_eq!(
        get(&server, "/api/0/events?type=event&level=error")
            .await
            .json()["count"],
        1
    );
    assert_eq!(
        get(&server, "/api/0/events?since=2000-01-01T00:00:00Z")
            .await
            .json()["count"],
        2
    );
    assert_eq!(
        get(&server, "/api/0/events?since=4102444800").await.json()["count"],
        0
    );
    assert_eq!(
        get(&server, "/api/0/envelopes?since=4102444800")
            .await
            .json()["count"],
        0
    );

    let sessions = get(&server, "/api/0/items?type=session").await.json();
    assert_eq!(sessions["count"], 1);
    assert_eq!(
        sessions["items"][0]["payload"]["attrs"]["release"],
        "shop@1.4.2"
    );
    let attachments = get(&server, "/api/0/items?type=attachment").await.json();
    assert_eq!(attachments["items"][0]["payload"], "{\"not\":\"parsed\"}");
    assert_eq!(attachments["items"][0]["headers"]["filename"], "a.txt");
    assert_eq!(get(&server, "/api/0/items").await.json()["count"], 4);
    server.shutdown().await;
}

#[tokio::test]
async fn the_wait_api_returns_on_arrival_and_408_on_timeout() {
    let server = start().await;
    let wait_url = format!(
        "{}api/0/wait?count=2&type=event&timeout_ms=20000",
        server.url()
    );
    let waiter = tokio::spawn(async move { send(Method::GET, &wait_url, &[], Bytes::new()).await });
    for msg in ["one", "two"] {
        assert_eq!(
            post_envelope(&server, event_envelope(&sample_event(msg)))
                .await
                .status,
            200
        );
    }
    let reply = waiter.await.unwrap();
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.json(), json!({"count": 2, "type": "event"}));

    let reply = get(&server, "/api/0/wait?count=3&type=event&timeout_ms=50").await;
    assert_eq!(reply.status, 408);
    assert_eq!(reply.json()["count"], 2);
    assert!(
        reply
            .detail()
            .contains("waiting for 3 `event` items (2 arrived)"),
        "{}",
        reply.detail()
    );

    // Without a type it counts envelopes.
    assert_eq!(
        get(&server, "/api/0/wait?count=2&timeout_ms=0")
            .await
            .status,
        200
    );
    assert_eq!(
        get(&server, "/api/0/wait?count=3&timeout_ms=0")
            .await
            .status,
        408
    );

    // The Rust API waits the same way.
    server
        .wait_for_items("event", 2, Duration::from_secs(5))
        .await
        .unwrap();
    let err = server
        .wait_for_items("session", 1, Duration::from_millis(20))
        .await
        .unwrap_err();
    assert!(err.waited >= Duration::from_millis(20));
    server.shutdown().await;
}

#[tokio::test]
async fn a_pending_wait_ends_when_the_server_shuts_down() {
    let server = start().await;
    let wait_url = format!("{}api/0/wait?count=1&timeout_ms=60000", server.url());
    let waiter = tokio::spawn(async move {
        send_with_timeout(Method::GET, &wait_url, &[], Bytes::new(), TIMEOUT).await
    });
    // Let the wait request reach the server (a stats round trip on another connection
    // usually suffices; either way shutdown must be prompt).
    get(&server, "/api/0/stats").await;
    tokio::time::timeout(TIMEOUT, server.shutdown())
        .await
        .expect("shutdown is prompt");
    match waiter.await.unwrap() {
        Ok(reply) => assert_eq!(reply.status, 503, "{}", reply.text()),
        Err(Failure::Http(_)) => {} // the wait had not reached the server before shutdown
        Err(Failure::Timeout) => panic!("the wait outlived the server"),
    }
}

#[tokio::test]
async fn faults_are_controlled_over_http() {
    let server = start().await;
    let url = format!("{}api/0/fault", server.url());
    assert_eq!(
        get(&server, "/api/0/fault").await.json(),
        json!({"fault": null})
    );

    let body = r#"{"mode":"status","status":503,"times":2}"#;
    let reply = send(Method::PUT, &url, &[], body).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.json()["fault"]["status"], 503);
    assert_eq!(
        post_envelope(&server, event_envelope(&sample_event("a")))
            .await
            .status,
        503
    );
    assert_eq!(
        get(&server, "/api/0/fault").await.json()["fault"]["times"],
        1
    );

    let reply = send(Method::POST, &url, &[], r#"{"mode":"reset"}"#).await;
    assert_eq!(reply.json()["fault"], json!({"mode": "reset"}));
    assert_eq!(server.fault(), Some(crumbtrail_devserver::Fault::reset()));

    let reply = send(Method::DELETE, &url, &[], Bytes::new()).await;
    assert_eq!(reply.json(), json!({"fault": null}));
    assert_eq!(
        post_envelope(&server, event_envelope(&sample_event("b")))
            .await
            .status,
        200
    );

    for bad in [
        r#"{"mode":"status","status":42}"#,
        r#"{"mode":"boom"}"#,
        "not json",
    ] {
        let reply = send(Method::PUT, &url, &[], bad).await;
        assert_eq!(reply.status, 400, "{bad}");
        assert!(!reply.detail().is_empty());
    }
    let huge = vec![b' '; 100 * 1024];
    assert_eq!(send(Method::PUT, &url, &[], huge).await.status, 413);
    assert!(server.fault().is_none());
    assert_eq!(server.item_count(ItemType::Event.as_str()), 1);
    server.shutdown().await;
}
