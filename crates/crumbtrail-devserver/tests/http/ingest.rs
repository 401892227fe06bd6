//! The envelope and store endpoints: acceptance, encodings, malformed and oversized bodies.

use std::io::Write;

use bytes::Bytes;
use crumbtrail_devserver::DevServerConfig;
use crumbtrail_protocol::limits::{MAX_ENVELOPE_BYTES, MAX_EVENT_BYTES};
use crumbtrail_protocol::{ClientReport, Envelope, Event, Item, ItemType};
use flate2::Compression;
use flate2::write::{GzEncoder, ZlibEncoder};
use http::Method;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::common::*;

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = GzEncoder::new(Vec::new(), Compression::default());
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

fn zlib(data: &[u8]) -> Vec<u8> {
    let mut enc = ZlibEncoder::new(Vec::new(), Compression::default());
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

#[tokio::test]
async fn an_accepted_envelope_is_stored_and_served_back() {
    let server = start().await;
    let event = sample_event("disk full");
    let raw = event_envelope(&event);
    let reply = post_envelope(&server, raw.clone()).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(
        reply.json(),
        serde_json::json!({ "id": event.event_id.to_string() })
    );

    let events = server.events();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].event, event);
    assert_eq!(&server.envelopes()[0].raw[..], &raw[..]);

    let listed = get(&server, "/api/0/events").await.json();
    assert_eq!(listed["count"], 1);
    let first = &listed["events"][0];
    assert_eq!(first["event_id"], event.event_id.to_string());
    assert_eq!(first["title"], "std::io::Error: disk full");
    assert_eq!(first["level"], "error");
    assert_eq!(
        first["event"]["breadcrumbs"]["values"][1]["data"]["status_code"],
        503
    );

    let one = get(&server, &format!("/api/0/events/{}", event.event_id)).await;
    assert_eq!(one.status, 200);
    assert_eq!(one.json()["envelope"], 1);

    let envelopes = get(&server, "/api/0/envelopes").await.json();
    assert_eq!(
        envelopes["envelopes"][0]["body"],
        String::from_utf8(raw.clone()).unwrap()
    );
    assert_eq!(envelopes["envelopes"][0]["len"], raw.len());
    assert_eq!(
        envelopes["envelopes"][0]["item_types"],
        serde_json::json!(["event"])
    );

    // An envelope that is not about an event answers `{}`.
    let report = ClientReport::default().to_item().unwrap();
    let reply = post_envelope(&server, Envelope::new().with_item(report).to_bytes()).await;
    assert_eq!((reply.status.as_u16(), reply.text().as_str()), (200, "{}"));
    assert_eq!(server.item_count("client_report"), 1);
    server.shutdown().await;
}

#[tokio::test]
async fn gzip_x_gzip_and_deflate_bodies_decode() {
    let server = start().await;
    for (encoding, encode) in [
        ("gzip", gzip as fn(&[u8]) -> Vec<u8>),
        ("x-gzip", gzip),
        ("deflate", zlib),
    ] {
        let event = sample_event(encoding);
        let raw = event_envelope(&event);
        let reply =
            post_envelope_with(&server, encode(&raw), &[("content-encoding", encoding)]).await;
        assert_eq!(reply.status, 200, "{encoding}: {}", reply.text());
        let stored = server.event(&event.event_id).expect("stored");
        assert_eq!(stored.event, event);
        let envelopes = server.envelopes();
        assert_eq!(
            &envelopes.last().unwrap().raw[..],
            &raw[..],
            "stored decompressed"
        );
    }
    assert_eq!(server.events().len(), 3);

    let reply = post_envelope_with(&server, b"{}".to_vec(), &[("content-encoding", "br")]).await;
    assert_eq!(reply.status, 415);
    assert!(reply.detail().contains("`br`"), "{}", reply.detail());
    let reply = post_envelope_with(
        &server,
        b"not gzip".to_vec(),
        &[("content-encoding", "gzip")],
    )
    .await;
    assert_eq!(reply.status, 400);
    assert!(
        reply.detail().contains("not valid gzip"),
        "{}",
        reply.detail()
    );
    server.shutdown().await;
}

#[tokio::test]
async fn a_malformed_envelope_is_400_with_the_byte_offset() {
    let server = start().await;
    let body = b"{}\n{\"type\":\"attachment\",\"length\":10}\nshort\n".to_vec();
    let reply = post_envelope(&server, body).await;
    assert_eq!(reply.status, 400);
    let json = reply.json();
    let detail = json["detail"].as_str().unwrap();
    assert!(detail.contains("at byte 37"), "{detail}");
    assert!(detail.contains("truncated"), "{detail}");
    assert_eq!(json["causes"][0], "byte offset 37");

    for (body, needle) in [
        (&b""[..], "empty"),
        (b"[]\n", "at byte 0"),
        (b"{}\n\n", "empty line"),
        (b"{}\n{\"type\":\"event\"}\n{\"level\":7}\n", "event_id"),
    ] {
        let reply = post_envelope(&server, body.to_vec()).await;
        assert_eq!(reply.status, 400, "{}", reply.text());
        assert!(
            reply.detail().contains(needle),
            "{needle}: {}",
            reply.detail()
        );
    }

    let mut bad_event =
        Envelope::new().with_item(Item::new(ItemType::Event, b"{\"level\":7}".to_vec()));
    bad_event.headers.event_id = Some(Event::new().event_id);
    let reply = post_envelope(&server, bad_event.to_bytes()).await;
    assert_eq!(reply.status, 400);
    assert!(
        reply
            .detail()
            .contains("item 0 (`event`) has an invalid payload"),
        "{}",
        reply.detail()
    );
    assert!(server.envelopes().is_empty());
    server.shutdown().await;
}

#[tokio::test]
async fn an_event_item_over_one_mib_is_413() {
    let server = start().await;
    let mut event = Event::new();
    event.message = Some("x".repeat(MAX_EVENT_BYTES));
    let reply = post_envelope(&server, event_envelope(&event)).await;
    assert_eq!(reply.status, 413);
    assert!(
        reply.detail().contains("item 0 (`event`)"),
        "{}",
        reply.detail()
    );
    assert!(server.envelopes().is_empty());
    server.shutdown().await;
}

#[tokio::test]
async fn a_content_length_over_the_default_limit_is_413_before_the_body() {
    let server = start().await;
    let mut stream = tokio::net::TcpStream::connect(server.addr()).await.unwrap();
    let head = format!(
        "POST /api/1/envelope/ HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Sentry-Auth: {}\r\n\
         Content-Length: {}\r\n\r\n",
        auth(&server),
        MAX_ENVELOPE_BYTES + 1
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut buf = vec![0u8; 4096];
    let n = tokio::time::timeout(TIMEOUT, stream.read(&mut buf))
        .await
        .expect("an answer without sending the body")
        .unwrap();
    let text = String::from_utf8_lossy(&buf[..n]);
    assert!(text.starts_with("HTTP/1.1 413"), "{text}");
    assert!(text.contains("over the devserver's limit"), "{text}");
    server.shutdown().await;
}

#[tokio::test]
async fn compressed_and_decompressed_bodies_over_the_limit_are_413() {
    let limit = 64 * 1024;
    let server = start_with(DevServerConfig::default().with_max_envelope_bytes(limit)).await;

    // As sent: a body bigger than the limit (incompressible-looking bytes, no encoding).
    let big: Vec<u8> = (0..limit as u32 * 2)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let reply = post_envelope(&server, big).await;
    assert_eq!(reply.status, 413, "{}", reply.text());

    // After decompression: a small gzip body that inflates past the limit (a zip bomb).
    let bomb = gzip(&vec![b'{'; limit * 16]);
    assert!(bomb.len() < limit);
    let reply = post_envelope_with(&server, bomb, &[("content-encoding", "gzip")]).await;
    assert_eq!(reply.status, 413);
    assert!(
        reply.detail().contains("after gzip decompression"),
        "{}",
        reply.detail()
    );
    // Chunked, without Content-Length: refused once the bytes pass the limit.
    let mut stream = tokio::net::TcpStream::connect(server.addr()).await.unwrap();
    let head = format!(
        "POST /api/1/envelope/ HTTP/1.1\r\nHost: x\r\nX-Sentry-Auth: {}\r\n\
         Transfer-Encoding: chunked\r\n\r\n",
        auth(&server)
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let chunk = vec![b'x'; 16 * 1024];
    for _ in 0..(limit / chunk.len() + 2) {
        stream
            .write_all(format!("{:x}\r\n", chunk.len()).as_bytes())
            .await
            .unwrap();
        stream.write_all(&chunk).await.unwrap();
        stream.write_all(b"\r\n").await.unwrap();
    }
    stream.write_all(b"0\r\n\r\n").await.unwrap();
    let mut buf = vec![0u8; 4096];
    let n = tokio::time::timeout(TIMEOUT, stream.read(&mut buf))
        .await
        .unwrap()
        .unwrap();
    let text = String::from_utf8_lossy(&buf[..n]);
    assert!(text.starts_with("HTTP/1.1 413"), "{text}");

    assert!(server.envelopes().is_empty());
    assert_eq!(server.requests(), 3);
    server.shutdown().await;
}

#[tokio::test]
async fn the_legacy_store_endpoint_wraps_events_into_envelopes() {
    let server = start().await;
    let event = sample_event("via store");
    let url = server.dsn().store_url();
    let auth = auth(&server);
    let headers = [
        ("x-sentry-auth", auth.as_str()),
        ("content-type", "application/json"),
    ];
    let reply = send(
        Method::POST,
        &url,
        &headers,
        serde_json::to_vec(&event).unwrap(),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.json()["id"], event.event_id.to_string());
    assert_eq!(server.events()[0].event, event);
    let stored = &server.envelopes()[0];
    assert_eq!(stored.envelope.headers.event_id, Some(event.event_id));
    assert_eq!(stored.item_types(), ["event"]);

    let gz = gzip(&serde_json::to_vec(&sample_event("gz")).unwrap());
    let mut with_enc = headers.to_vec();
    with_enc.push(("content-encoding", "gzip"));
    assert_eq!(send(Method::POST, &url, &with_enc, gz).await.status, 200);

    let reply = send(
        Method::POST,
        &url,
        &headers,
        Bytes::from_static(b"{\"level\":"),
    )
    .await;
    assert_eq!(reply.status, 400);
    assert!(
        reply.detail().contains("not a valid event"),
        "{}",
        reply.detail()
    );
    assert_eq!(
        send(Method::POST, &url, &[], Bytes::from_static(b"{}"))
            .await
            .status,
        403
    );
    assert_eq!(server.events().len(), 2);
    server.shutdown().await;
}

#[tokio::test]
async fn hostile_requests_get_json_4xx_answers() {
    let server = start().await;
    let base = server.url();
    let cases = [
        (Method::GET, "api/1/envelope/", 405),
        (Method::POST, "api/abc/envelope/", 404),
        (Method::POST, "api/1/nope/", 404),
        (Method::GET, "nowhere", 404),
        (Method::DELETE, "api/0/events", 405),
        (Method::GET, "api/0/unknown", 404),
        (Method::GET, "api/0/events?level=loud", 400),
        (Method::GET, "api/0/events?bogus=1", 400),
        (Method::GET, "api/0/events/not-an-id", 400),
        (
            Method::GET,
            "api/0/events/5d1b2e8c4a0f4f6e9b7c3a2d1e0f9a8b",
            404,
        ),
        (Method::GET, "api/0/wait?timeout_ms=99999999", 400),
    ];
    for (method, path, status) in cases {
        let reply = send(method.clone(), &format!("{base}{path}"), &[], Bytes::new()).await;
        assert_eq!(reply.status, status, "{method} {path}: {}", reply.text());
        assert!(
            !reply.detail().is_empty(),
            "{method} {path}: {}",
            reply.text()
        );
    }
    server.shutdown().await;
}
