use serde_json::json;
use time::macros::datetime;

use super::*;
use crate::event::testutil::{assert_golden, assert_round_trip};
use crate::event::{
    Addr, DebugImage, FeedbackContext, Frame, Geo, MetaNode, OsContext, Remark, RemarkType,
    Stacktrace, ThreadId, TraceContext,
};
use crate::{SpanId, SpanStatus, TraceId};

const ALL_KEYS: [&str; 27] = [
    "event_id",
    "timestamp",
    "platform",
    "level",
    "logger",
    "transaction",
    "server_name",
    "release",
    "dist",
    "environment",
    "tags",
    "extra",
    "fingerprint",
    "modules",
    "sdk",
    "exception",
    "threads",
    "message",
    "logentry",
    "breadcrumbs",
    "request",
    "user",
    "contexts",
    "debug_meta",
    "errors",
    "type",
    "_meta",
];

fn full_event() -> Event {
    let mut e = Event::new();
    e.event_id = "5d1b2e8c4a0f4f6e9b7c3a2d1e0f9a8b".parse().unwrap();
    e.timestamp = datetime!(2026-03-01 12:00:00.123456 UTC);
    e.platform = "native".into();
    e.level = Level::Warning;
    e.logger = Some("shop::cart".into());
    e.transaction = Some("GET /cart/:id".into());
    e.server_name = Some("web-1".into());
    e.release = Some("shop@1.4.2".into());
    e.dist = Some("x86_64".into());
    e.environment = Some("production".into());
    e.tags.insert("region".into(), "eu".into());
    e.extra.insert("cart".into(), json!({"items": [1, 2]}));
    e.fingerprint = vec!["{{ default }}".into(), "cart".into()];
    e.modules.insert("serde".into(), "1.0.228".into());
    e.sdk = Some(ClientSdkInfo::crumbtrail().with_integration("panic"));
    let mut io = Exception::new("std::io::Error", "connection reset");
    io.module = Some("std::io".into());
    io.thread_id = Some(ThreadId::Int(1));
    io.stacktrace = Some(Stacktrace::from_frames(vec![Frame {
        instruction_addr: Some(Addr(0x7ff6_0000_1234)),
        in_app: Some(true),
        ..Frame::from_function("shop::cart::load")
    }]));
    e.exception =
        Some(Exception::chain(vec![Exception::new("CartError", "cannot load cart"), io]).into());
    e.threads = Some(
        vec![Thread {
            id: Some(ThreadId::Int(1)),
            name: Some("main".into()),
            crashed: Some(false),
            current: Some(true),
            main: Some(true),
            stacktrace: None,
        }]
        .into(),
    );
    e.message = Some("cart failed".into());
    e.logentry = Some(LogEntry {
        message: Some("cart %s failed".into()),
        params: Some(json!(["42"])),
        formatted: Some("cart 42 failed".into()),
    });
    e.breadcrumbs = Some(vec![Breadcrumb::http("GET", "https://api/cart", Some(503))].into());
    e.request = Some(Request {
        url: Some("https://shop/cart".into()),
        method: Some("GET".into()),
        query_string: Some("id=42".into()),
        headers: [("Host".to_owned(), "shop".to_owned())].into(),
        ..Request::default()
    });
    e.user = Some(User {
        id: Some("u1".into()),
        geo: Some(Geo {
            city: Some("Oslo".into()),
            ..Geo::default()
        }),
        ..User::default()
    });
    let mut trace = TraceContext::new(TraceId::from_bytes([7; 16]), SpanId::from_bytes([8; 8]));
    trace.status = Some(SpanStatus::InternalError);
    e.contexts.insert("trace", trace);
    e.contexts.insert(
        "os",
        OsContext {
            name: Some("Linux".into()),
            ..OsContext::default()
        },
    );
    e.contexts.insert("feedback", FeedbackContext::new("slow"));
    e.debug_meta = Some(DebugMeta {
        images: vec![DebugImage::new("elf")],
    });
    e.errors = vec![json!({"type": "invalid_attribute", "name": "foo"})];
    e.ty = Some("event".into());
    e.meta.annotate(
        &["extra", "cart"],
        MetaNode::new().with_remark(Remark::new("!limit", RemarkType::Removed)),
    );
    e
}

#[test]
fn golden_envelope_event_payload() {
    // §3.5, the event item's payload line.
    let event: Event = assert_golden(
        r#"{"event_id":"5d1b2e8c4a0f4f6e9b7c3a2d1e0f9a8b","timestamp":1772366400.5,"platform":"native","level":"error"}"#,
    );
    assert_eq!(event.timestamp, datetime!(2026-03-01 12:00:00.5 UTC));
    assert_eq!(event.level, Level::Error);
    assert!(event.contexts.is_empty() && event.meta.is_empty());
}

#[test]
fn fully_populated_event_round_trips_and_writes_every_key() {
    let e = full_event();
    assert_round_trip(&e);
    let json = serde_json::to_value(&e).unwrap();
    let obj = json.as_object().unwrap();
    for key in ALL_KEYS {
        assert!(obj.contains_key(key), "missing {key}");
    }
    assert_eq!(obj.len(), ALL_KEYS.len());
    assert_eq!(json["timestamp"], json!(1772366400.123456));
    assert_eq!(json["exception"]["values"][1]["type"], "CartError");
    assert_eq!(json["breadcrumbs"]["values"][0]["level"], "error");
    assert_eq!(
        json["_meta"]["extra"]["cart"][""]["rem"],
        json!([["!limit", "x"]])
    );
}

#[test]
fn new_and_default_events_are_minimal() {
    let e = Event::default();
    assert!(!e.event_id.is_nil());
    assert_eq!(e.timestamp.nanosecond() % 1_000, 0);
    let json = serde_json::to_value(&e).unwrap();
    let keys: Vec<_> = json.as_object().unwrap().keys().cloned().collect();
    assert_eq!(keys, ["event_id", "level", "platform", "timestamp"]);
    assert_ne!(Event::new().event_id, e.event_id);
}

#[test]
fn reading_fills_defaults_and_ignores_unknown_keys() {
    let e: Event = serde_json::from_str(
        r#"{"event_id":"5d1b2e8c-4a0f-4f6e-9b7c-3a2d1e0f9a8b","timestamp":"2026-03-01T12:00:00Z",
            "culprit":"old","tags":[["a",1]],"fingerprint":["x",2],
            "message":{"message":"m %s","params":["x"],"formatted":"m x"},
            "exception":[{"type":"E"}],"level":"warn","contexts":null,"_meta":null}"#,
    )
    .unwrap();
    assert_eq!(e.platform, "native");
    assert_eq!(e.level, Level::Warning);
    assert_eq!(e.tags["a"], "1");
    assert_eq!(e.fingerprint, ["x", "2"]);
    assert_eq!(e.message.as_deref(), Some("m x"));
    assert_eq!(e.exception.as_ref().unwrap().len(), 1);
    let json = serde_json::to_value(&e).unwrap();
    assert!(json.get("culprit").is_none());
    assert_eq!(json["level"], "warning");
    assert_eq!(json["timestamp"], json!(1772366400.0));
    assert_eq!(json["exception"], json!({"values": [{"type": "E"}]}));
}

#[test]
fn missing_required_keys_and_bad_values_are_errors_not_panics() {
    for bad in [
        r#"{"timestamp":0}"#,
        r#"{"event_id":"5d1b2e8c4a0f4f6e9b7c3a2d1e0f9a8b"}"#,
        r#"{"event_id":"nope","timestamp":0}"#,
        r#"{"event_id":"5d1b2e8c4a0f4f6e9b7c3a2d1e0f9a8b","timestamp":1e300}"#,
        r#"{"event_id":"5d1b2e8c4a0f4f6e9b7c3a2d1e0f9a8b","timestamp":0,"level":"loud"}"#,
        "[]",
        "null",
    ] {
        assert!(serde_json::from_str::<Event>(bad).is_err(), "{bad}");
    }
}
