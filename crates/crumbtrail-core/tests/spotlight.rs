//! Spotlight: every envelope is mirrored, uncompressed and without auth, to the sidecar; a
//! sidecar that is down never affects normal delivery.

use std::time::Duration;

use crumbtrail_core::protocol::Envelope;
use crumbtrail_core::{ClientOptions, Level, ScopeFutureExt, Spotlight, TestTransport};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

/// A minimal sidecar: answers 200 to every POST and hands over (headers, body).
async fn sidecar() -> (String, mpsc::UnboundedReceiver<(String, Vec<u8>)>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/stream", listener.local_addr().unwrap());
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let tx = tx.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                loop {
                    let Ok(n) = socket.read(&mut chunk).await else {
                        return;
                    };
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
                        continue;
                    };
                    let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
                    let len: usize = head
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .and_then(|v| v.trim().parse().ok())
                        .unwrap_or(0);
                    if buf.len() < end + 4 + len {
                        continue;
                    }
                    let body = buf[end + 4..end + 4 + len].to_vec();
                    let _ = tx.send((head, body));
                    let _ = socket
                        .write_all(
                            b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
                        )
                        .await;
                    return;
                }
            });
        }
    });
    (url, rx)
}

#[tokio::test]
async fn every_envelope_is_mirrored_to_the_sidecar() {
    let (url, mut mirrored) = sidecar().await;
    let transport = TestTransport::new();
    let client = crumbtrail_core::test::client_with(
        &transport,
        ClientOptions {
            spotlight: Spotlight::Url(url),
            ..Default::default()
        },
    );
    let id = async { crumbtrail_core::capture_message("seen by spotlight", Level::Warning) }
        .bind_client(&client)
        .await
        .unwrap();
    assert!(client.flush(Duration::from_secs(5)).await);
    let (head, body) = tokio::time::timeout(Duration::from_secs(10), mirrored.recv())
        .await
        .expect("the sidecar got a copy")
        .unwrap();
    assert!(head.starts_with("post /stream"), "{head}");
    assert!(head.contains("content-type: application/x-sentry-envelope"));
    assert!(!head.contains("x-sentry-auth") && !head.contains("content-encoding"));
    let envelope = Envelope::parse(&body).expect("an uncompressed envelope");
    assert_eq!(envelope.headers.event_id, Some(id));
    assert_eq!(transport.events().len(), 1, "normal delivery too");
}

#[tokio::test]
async fn a_sidecar_that_is_down_does_not_affect_delivery() {
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let transport = TestTransport::new();
    let client = crumbtrail_core::test::client_with(
        &transport,
        ClientOptions {
            spotlight: Spotlight::Url(format!("http://127.0.0.1:{closed}/stream")),
            ..Default::default()
        },
    );
    async {
        for i in 0..3 {
            crumbtrail_core::capture_message(&format!("event {i}"), Level::Error);
        }
    }
    .bind_client(&client)
    .await;
    assert!(client.flush(Duration::from_secs(5)).await);
    assert_eq!(transport.events().len(), 3);
}
