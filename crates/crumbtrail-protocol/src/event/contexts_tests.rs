use serde_json::json;
use time::macros::datetime;

use super::*;
use crate::event::testutil::assert_golden;
use crate::{Event, EventId, SpanId, SpanStatus, TraceId};

fn read(v: Value) -> Contexts {
    serde_json::from_value(v).unwrap()
}

#[test]
fn golden_feedback_contexts_in_an_event() {
    let contexts = r#""contexts":{"feedback":{"message":"Checkout button does nothing","contact_email":"a@b.c",
  "name":"Ann","url":"https://shop/checkout","associated_event_id":"5d1b2e8c4a0f4f6e9b7c3a2d1e0f9a8b"}}"#;
    let json = format!(
        r#"{{"event_id":"0e3c3f5a2b1d4c6e8f9a0b1c2d3e4f50","timestamp":1772366400.5,"platform":"native","level":"error",{contexts}}}"#
    );
    let event: Event = assert_golden(&json);
    let f = event.contexts.feedback().expect("typed feedback context");
    assert_eq!(f.message, "Checkout button does nothing");
    assert_eq!(f.contact_email.as_deref(), Some("a@b.c"));
    assert_eq!(f.name.as_deref(), Some("Ann"));
    assert_eq!(f.url.as_deref(), Some("https://shop/checkout"));
    let want: EventId = "5d1b2e8c4a0f4f6e9b7c3a2d1e0f9a8b".parse().unwrap();
    assert_eq!(f.associated_event_id, Some(want));
}

#[test]
fn variant_comes_from_type_else_key() {
    let c = read(json!({
        "os": {"name": "Linux"},
        "host": {"type": "os", "name": "Darwin"},
        "rustc": {"type": "runtime", "name": "rustc", "version": "1.85.0"},
        "gpu": {"name": "x"}
    }));
    assert!(matches!(c.get("os"), Some(Context::Os(o)) if o.name.as_deref() == Some("Linux")));
    assert!(matches!(c.get("host"), Some(Context::Os(o)) if o.name.as_deref() == Some("Darwin")));
    assert!(matches!(c.get("rustc"), Some(Context::Runtime(_))));
    assert!(matches!(c.get("gpu"), Some(Context::Other(m)) if m["name"] == "x"));
    assert_eq!(c.get("host").unwrap().type_name(), Some("os"));
}

#[test]
fn type_is_written_only_when_it_differs_from_the_key() {
    let json = json!({
        "os": {"type": "os", "name": "Linux"},
        "host": {"type": "os", "name": "Darwin"},
        "gpu": {"type": "gpu", "name": "x"},
        "cpu": {"type": "hardware", "cores": 8}
    });
    assert_eq!(
        serde_json::to_value(read(json)).unwrap(),
        json!({
            "os": {"name": "Linux"},
            "host": {"type": "os", "name": "Darwin"},
            "gpu": {"name": "x"},
            "cpu": {"type": "hardware", "cores": 8}
        })
    );
}

#[test]
fn unknown_fields_of_typed_contexts_are_kept() {
    let json = json!({
        "os": {"name": "Android", "rooted": false},
        "trace": {"trace_id": "4c79f60c11214eb38604f4ae0781bfb2", "span_id": "a1b2c3d4e5f60718",
                  "sampled": true, "status": "not_found", "data": {"k": 1}},
        "device": {"arch": "x86_64", "memory_size": 1024, "processor_count": 8,
                   "boot_time": "2026-03-01T12:00:00.000000Z", "charging": true},
        "app": {"app_name": "shop", "app_start_time": "2026-03-01T12:00:01.500000Z",
                "app_version": "1.4.2", "app_build": "77", "app_identifier": "io.shop"},
        "runtime": {"name": "rustc", "version": "1.85.0", "raw_description": "rustc 1.85.0"},
        "response": {"status_code": 404, "headers": {"Server": "x"}, "body_size": 41,
                     "cookies": "a=1", "data": "extra"}
    });
    let c = read(json.clone());
    let Some(Context::Os(os)) = c.get("os") else {
        panic!("os")
    };
    assert_eq!(os.other["rooted"], false);
    let t = c.trace().unwrap();
    assert_eq!(t.status, Some(SpanStatus::NotFound));
    assert_eq!(t.other["sampled"], true);
    let Some(Context::Device(d)) = c.get("device") else {
        panic!("device")
    };
    assert_eq!(d.boot_time, Some(datetime!(2026-03-01 12:00:00 UTC)));
    assert_eq!(d.other["charging"], true);
    let Some(Context::Response(r)) = c.get("response") else {
        panic!("response")
    };
    assert_eq!((r.status_code, r.body_size), (Some(404), Some(41)));
    assert_eq!(serde_json::to_value(&c).unwrap(), json);
}

#[test]
fn invalid_typed_contexts_fall_back_to_other() {
    // A trace context without span_id (as check-ins send it), a bad status, a feedback
    // without message: all kept as they are.
    let json = json!({
        "trace": {"trace_id": "4c79f60c11214eb38604f4ae0781bfb2"},
        "t2": {"type": "trace", "trace_id": "4c79f60c11214eb38604f4ae0781bfb2",
               "span_id": "a1b2c3d4e5f60718", "status": "bogus"},
        "feedback": {"name": "Ann"}
    });
    let c = read(json.clone());
    assert!(c.trace().is_none());
    assert!(matches!(c.get("trace"), Some(Context::Other(_))));
    assert_eq!(c.get("t2").unwrap().type_name(), Some("trace"));
    assert!(c.feedback().is_none());
    assert_eq!(serde_json::to_value(&c).unwrap(), json);
}

#[test]
fn non_object_entries_are_skipped() {
    let c = read(json!({"os": "Linux", "x": null, "y": [1], "app": {"app_name": "a"}}));
    assert_eq!(c.len(), 1);
    assert!(matches!(c.get("app"), Some(Context::App(_))));
    assert!(serde_json::from_str::<Contexts>("null").unwrap().is_empty());
    assert!(serde_json::from_str::<Contexts>("[1]").is_err());
}

#[test]
fn helpers_insert_and_find_typed_contexts() {
    let mut c = Contexts::new();
    let trace = TraceContext::new(TraceId::from_bytes([1; 16]), SpanId::from_bytes([2; 8]));
    assert!(c.insert("trace", trace.clone()).is_none());
    c.trace_mut().unwrap().op = Some("http.server".into());
    assert_eq!(c.trace().unwrap().op.as_deref(), Some("http.server"));
    c.insert("feedback", FeedbackContext::new("hi"));
    let other: Map<String, Value> = serde_json::from_value(json!({"a": 1})).unwrap();
    c.insert("custom", other);
    assert_eq!(c.len(), 3);
    assert_eq!(
        c.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(),
        ["custom", "feedback", "trace"]
    );
    assert!(c.remove("custom").is_some());
    let c2: Contexts = [("feedback", Context::from(FeedbackContext::new("hi")))]
        .into_iter()
        .collect();
    assert_eq!(c2.feedback(), c.feedback());
}
