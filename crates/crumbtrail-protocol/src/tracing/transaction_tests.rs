use serde_json::json;
use time::macros::datetime;

use super::*;
use crate::event::testutil::assert_round_trip;
use crate::{Level, SpanId, SpanStatus, TraceId};

const GOLDEN: &str = r#"{"type":"transaction","event_id":"0e3c3f5a2b1d4c6e8f9a0b1c2d3e4f50","platform":"native",
 "transaction":"GET /cart/:id","transaction_info":{"source":"route"},
 "start_timestamp":1772366400.000,"timestamp":1772366400.250,
 "release":"shop@1.4.2","environment":"production",
 "contexts":{"trace":{"trace_id":"4c79f60c11214eb38604f4ae0781bfb2","span_id":"a1b2c3d4e5f60718",
   "parent_span_id":"1122334455667788","op":"http.server","status":"ok","origin":"auto.http.axum"}},
 "spans":[{"trace_id":"4c79f60c11214eb38604f4ae0781bfb2","span_id":"b2c3d4e5f6071829",
   "parent_span_id":"a1b2c3d4e5f60718","op":"db.sql.query","description":"SELECT * FROM cart WHERE id = $1",
   "start_timestamp":1772366400.010,"timestamp":1772366400.090,"status":"ok","origin":"auto.db.sqlx",
   "data":{"db.system":"postgresql"}}]}"#;

/// The example writes end timestamps as floats; crumbtrail writes them as RFC 3339 strings
/// (see `Transaction::timestamp`). Turn those strings back into floats to compare.
fn end_timestamps_as_floats(v: &mut serde_json::Value) {
    if let Some(ts) = v.get_mut("timestamp") {
        if let Some(s) = ts.as_str() {
            let t = crate::timestamp::parse_rfc3339(s).expect("valid RFC 3339");
            *ts = json!(crate::timestamp::to_float(t));
        }
    }
    if let Some(spans) = v.get_mut("spans").and_then(|s| s.as_array_mut()) {
        spans.iter_mut().for_each(end_timestamps_as_floats);
    }
}

#[test]
fn golden_transaction() {
    let want: serde_json::Value = serde_json::from_str(GOLDEN).unwrap();
    let tx: Transaction = serde_json::from_str(GOLDEN).unwrap();
    let mut got = serde_json::to_value(&tx).unwrap();
    assert_eq!(got["timestamp"], "2026-03-01T12:00:00.250000Z");
    assert_eq!(got["spans"][0]["timestamp"], "2026-03-01T12:00:00.090000Z");
    end_timestamps_as_floats(&mut got);
    assert_eq!(got, want);
    assert_round_trip(&tx);
    assert_eq!(tx.source(), Some(&TransactionSource::Route));
    assert_eq!(tx.start_timestamp, datetime!(2026-03-01 12:00:00 UTC));
    assert_eq!(tx.timestamp, datetime!(2026-03-01 12:00:00.25 UTC));
    let root = tx.trace_context().unwrap();
    assert_eq!(root.span_id, "a1b2c3d4e5f60718".parse::<SpanId>().unwrap());
    assert_eq!(root.status, Some(SpanStatus::Ok));
    assert_eq!(root.origin.as_deref(), Some("auto.http.axum"));
    let span = &tx.spans[0];
    assert_eq!(span.parent_span_id, Some(root.span_id));
    assert_eq!(span.timestamp, Some(datetime!(2026-03-01 12:00:00.09 UTC)));
    assert_eq!(span.data["db.system"], "postgresql");
}

#[test]
fn type_is_always_written_and_ignored_on_read() {
    let tx: Transaction = serde_json::from_value(json!({
        "event_id": "0e3c3f5a2b1d4c6e8f9a0b1c2d3e4f50",
        "start_timestamp": 1.0, "timestamp": 2.0
    }))
    .unwrap();
    assert_eq!(tx.platform, "native");
    assert!(tx.contexts.is_empty());
    let json = serde_json::to_value(&tx).unwrap();
    assert_eq!(
        json,
        json!({"type": "transaction", "event_id": "0e3c3f5a2b1d4c6e8f9a0b1c2d3e4f50",
               "platform": "native", "start_timestamp": 1.0,
               "timestamp": "1970-01-01T00:00:02.000000Z"})
    );
    let mut odd = json.clone();
    odd["type"] = json!("event");
    let back: Transaction = serde_json::from_value(odd).unwrap();
    assert_eq!(serde_json::to_value(&back).unwrap(), json);
}

#[test]
fn fully_populated_transaction_round_trips() {
    let trace = TraceContext::new(TraceId::from_bytes([1; 16]), SpanId::from_bytes([2; 8]));
    let mut tx = Transaction::new("GET /cart/:id", trace);
    tx.start_timestamp = datetime!(2026-03-01 12:00:00.000001 UTC);
    tx.timestamp = datetime!(2026-03-01 12:00:00.250002 UTC);
    tx.transaction_info = Some(TransactionInfo {
        source: Some(TransactionSource::Route),
    });
    tx.release = Some("shop@1.4.2".into());
    tx.environment = Some("production".into());
    tx.dist = Some("1".into());
    tx.server_name = Some("web-1".into());
    tx.tags.insert("region".into(), "eu".into());
    tx.extra.insert("k".into(), json!([1, "two"]));
    tx.user = Some(crate::User {
        id: Some("u1".into()),
        ..Default::default()
    });
    tx.request = Some(crate::Request {
        method: Some("GET".into()),
        ..Default::default()
    });
    tx.sdk = Some(crate::ClientSdkInfo::crumbtrail());
    tx.breadcrumbs = Some(vec![crate::Breadcrumb::new().with_level(Level::Debug)].into());
    let mut span = Span::new(
        TraceId::from_bytes([1; 16]),
        SpanId::from_bytes([3; 8]),
        "db",
    );
    span.timestamp = Some(datetime!(2026-03-01 12:00:00.1 UTC));
    span.start_timestamp = datetime!(2026-03-01 12:00:00.05 UTC);
    tx.spans.push(span);
    tx.measurements.insert(
        "ttfb".into(),
        Measurement {
            value: 12.5,
            unit: Some("millisecond".into()),
        },
    );
    tx.meta
        .annotate(&["spans"], crate::MetaNode::new().with_len(1200));
    assert_round_trip(&tx);
    let json = serde_json::to_value(&tx).unwrap();
    assert_eq!(json.as_object().unwrap().len(), 21);
    assert_eq!(
        json["measurements"],
        json!({"ttfb": {"value": 12.5, "unit": "millisecond"}})
    );
    assert_eq!(json["_meta"], json!({"spans": {"": {"len": 1200}}}));
}

#[test]
fn sources_parse_and_unknown_ones_are_kept() {
    for (name, src) in [
        ("custom", TransactionSource::Custom),
        ("url", TransactionSource::Url),
        ("route", TransactionSource::Route),
        ("view", TransactionSource::View),
        ("component", TransactionSource::Component),
        ("task", TransactionSource::Task),
    ] {
        assert_eq!(TransactionSource::parse(name), src);
        assert_eq!(src.to_string(), name);
    }
    let info: TransactionInfo = serde_json::from_str(r#"{"source":"sanitized"}"#).unwrap();
    assert_eq!(
        info.source,
        Some(TransactionSource::Unknown("sanitized".into()))
    );
    assert_eq!(
        serde_json::to_string(&info).unwrap(),
        r#"{"source":"sanitized"}"#
    );
}

#[test]
fn new_sets_the_root_span_and_timestamps() {
    let trace = TraceContext::new(TraceId::random(), SpanId::random());
    let tx = Transaction::new("job", trace.clone());
    assert_eq!(tx.trace_context(), Some(&trace));
    assert_eq!(tx.start_timestamp, tx.timestamp);
    assert_eq!(tx.transaction.as_deref(), Some("job"));
    assert!(!tx.event_id.is_nil());
    assert!(tx.source().is_none());
}
