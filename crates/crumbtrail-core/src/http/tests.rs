use std::io::Read;
use std::time::Duration;

use crumbtrail_protocol::Dsn;
use flate2::read::GzDecoder;

use super::compress::{MIN_GZIP_BYTES, encode};
use super::*;

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .expect("valid gzip");
    out
}

#[test]
fn bodies_from_the_threshold_on_are_gzipped_and_round_trip() {
    let raw: Vec<u8> = br#"{"message":"checkout failed","level":"error"}"#
        .iter()
        .copied()
        .cycle()
        .take(4096)
        .collect();
    let body = encode(raw.clone());
    assert!(body.gzip);
    assert!(
        body.bytes.len() < raw.len() / 4,
        "{} bytes",
        body.bytes.len()
    );
    assert_eq!(&body.bytes[..2], &[0x1f, 0x8b], "gzip magic");
    assert_eq!(gunzip(&body.bytes), raw);
}

#[test]
fn the_reused_deflate_state_makes_independent_bodies() {
    // One thread's compressor is reset between bodies: each must decode on its own.
    let bodies: Vec<Vec<u8>> = (0..5)
        .map(|i| {
            format!("{{\"event_id\":\"{i}\"}}\n")
                .repeat(50 + i * 300)
                .into_bytes()
        })
        .collect();
    for raw in &bodies {
        let body = encode(raw.clone());
        assert!(body.gzip);
        assert_eq!(&gunzip(&body.bytes), raw);
    }
}

#[test]
fn tiny_and_incompressible_bodies_go_as_they_are() {
    let tiny = vec![b'a'; MIN_GZIP_BYTES - 1];
    let body = encode(tiny.clone());
    assert!(!body.gzip);
    assert_eq!(body.bytes, tiny);

    // Pseudo-random bytes do not shrink: sending them gzipped would only add framing.
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let noise: Vec<u8> = (0..2048)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect();
    let body = encode(noise.clone());
    assert!(!body.gzip);
    assert_eq!(body.bytes, noise);
}

#[test]
fn a_transport_is_built_without_a_runtime_and_shows_no_keys() {
    let dsn: Dsn = "https://public:secret@o1.ingest.sentry.io/7"
        .parse()
        .unwrap();
    let transport = HttpTransport::new(&dsn, &ClientOptions::default()).unwrap();
    assert_eq!(
        transport.url(),
        "https://o1.ingest.sentry.io/api/7/envelope/"
    );
    let debug = format!("{transport:?}");
    assert!(
        !debug.contains("public") && !debug.contains("secret"),
        "{debug}"
    );
    assert!(debug.contains("30s"), "{debug}");
}

#[test]
fn an_invalid_proxy_is_an_init_error_that_hides_its_password() {
    let dsn: Dsn = "https://key@o1.ingest.sentry.io/7".parse().unwrap();
    let options = ClientOptions {
        https_proxy: Some("http://user:hunter2@[::1".into()),
        ..Default::default()
    };
    let err = HttpTransport::new(&dsn, &options).unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, InitError::Transport(_)));
    assert!(text.contains("invalid proxy URL"), "{text}");
    assert!(!text.contains("hunter2"), "{text}");
}

#[test]
fn defaults_follow_the_protocol() {
    let options = ClientOptions::default();
    assert_eq!(options.connect_timeout, Duration::from_secs(5));
    assert_eq!(options.request_timeout, Duration::from_secs(30));
    assert_eq!(DEFAULT_REQUEST_TIMEOUT, Duration::from_secs(30));
    assert!(options.http_proxy.is_none() && options.https_proxy.is_none());
    assert!(options.reqwest_client.is_none());
}
