//! An independent parser agrees: the envelopes crumbtrail writes are parsed with the official
//! `sentry-types` crate and compared field by field, and envelopes `sentry-types` writes are
//! parsed by crumbtrail and compared the same way.

use std::time::SystemTime;

use crumbtrail_protocol as ct;
use sentry_types::protocol::v7 as st;
use serde_json::{Value, json};
use time::macros::datetime;

fn to_system(t: time::OffsetDateTime) -> SystemTime {
    SystemTime::from(t)
}

/// Float seconds carry about a tenth of a microsecond of rounding error at today's epoch
/// values, and each parser rounds its own way: equal means within one microsecond.
#[track_caller]
fn assert_same_instant(theirs: SystemTime, ours: time::OffsetDateTime) {
    let ours = to_system(ours);
    let diff = match theirs.duration_since(ours) {
        Ok(d) => d,
        Err(e) => e.duration(),
    };
    assert!(
        diff <= std::time::Duration::from_micros(1),
        "timestamps differ by {diff:?}: {theirs:?} vs {ours:?}"
    );
}

fn json_of<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap()
}

/// Parses crumbtrail's bytes with sentry-types and returns its items.
fn parse_with_sentry_types(env: &ct::Envelope) -> (st::Envelope, Vec<st::EnvelopeItem>) {
    let bytes = env.to_bytes();
    let parsed = st::Envelope::from_slice(&bytes).unwrap_or_else(|e| {
        panic!(
            "sentry-types rejected crumbtrail's envelope: {e}\n{}",
            String::from_utf8_lossy(&bytes)
        )
    });
    let items = parsed.items().cloned().collect();
    (parsed, items)
}

fn rich_event() -> ct::Event {
    let mut event = ct::Event::new();
    event.timestamp = datetime!(2026-03-01 12:00:00.123456 UTC);
    event.level = ct::Level::Warning;
    event.logger = Some("shop::cart".into());
    event.transaction = Some("GET /cart/:id".into());
    event.server_name = Some("web-1".into());
    event.release = Some("shop@1.4.2".into());
    event.dist = Some("x86_64".into());
    event.environment = Some("production".into());
    event.message = Some("cart checkout failed".into());
    event.fingerprint = vec!["{{ default }}".into(), "checkout".into()];
    event.tags.insert("region".into(), "eu".into());
    event.tags.insert("tier".into(), "gold".into());
    event.extra.insert("cart_items".into(), json!(3));
    event.modules.insert("tokio".into(), "1.48.0".into());
    event.sdk = Some(ct::ClientSdkInfo::crumbtrail().with_integration("panic"));

    let mut root = ct::Exception::new("std::io::Error", "connection reset by peer");
    root.module = Some("std::io".into());
    let mut top = ct::Exception::new("shop::CheckoutError", "payment service unavailable");
    let mut frame = ct::Frame::from_function("shop::checkout");
    frame.filename = Some("src/checkout.rs".into());
    frame.lineno = Some(42);
    frame.in_app = Some(true);
    frame.instruction_addr = Some(ct::Addr(0x7ff6_1234));
    top.stacktrace = Some(ct::Stacktrace::from_frames(vec![frame]));
    event.exception = Some(ct::Exception::chain(vec![top, root]).into());

    let crumbs = vec![
        ct::Breadcrumb::new()
            .with_category("log")
            .with_message("loading cart 981")
            .with_level(ct::Level::Info)
            .with_timestamp(datetime!(2026-03-01 11:59:59.5 UTC)),
        ct::Breadcrumb::http("POST", "https://api.example.com/v1/pay", Some(503))
            .with_timestamp(datetime!(2026-03-01 11:59:59.801 UTC)),
    ];
    event.breadcrumbs = Some(crumbs.into());

    event.user = Some(ct::User {
        id: Some("42".into()),
        email: Some("ann@example.com".into()),
        username: Some("ann".into()),
        ..Default::default()
    });
    event.request = Some(ct::Request {
        url: Some("https://shop.example.com/cart/981".into()),
        method: Some("POST".into()),
        query_string: Some("step=2".into()),
        headers: [("Content-Type".to_owned(), "application/json".to_owned())].into(),
        ..Default::default()
    });
    let trace_id: ct::TraceId = "4c79f60c11214eb38604f4ae0781bfb2".parse().unwrap();
    let span_id: ct::SpanId = "a1b2c3d4e5f60718".parse().unwrap();
    let mut trace = ct::TraceContext::new(trace_id, span_id);
    trace.op = Some("http.server".into());
    event.contexts.insert("trace", trace);
    event.contexts.insert(
        "os",
        ct::OsContext {
            name: Some("Linux".into()),
            version: Some("6.1".into()),
            ..Default::default()
        },
    );
    event
}

#[test]
fn sentry_types_reads_crumbtrail_events() {
    let event = rich_event();
    let mut env = ct::Envelope::from_event(&event).unwrap();
    env.headers.sent_at = Some(datetime!(2026-03-01 12:00:01 UTC));
    env.headers.sdk = Some(ct::ClientSdkInfo::crumbtrail());
    let (parsed, items) = parse_with_sentry_types(&env);

    assert_eq!(parsed.uuid(), Some(event.event_id.as_uuid()));
    assert_eq!(items.len(), 1);
    let st::EnvelopeItem::Event(theirs) = &items[0] else {
        panic!("expected an event item, got {:?}", items[0]);
    };

    assert_eq!(&theirs.event_id, event.event_id.as_uuid());
    assert_same_instant(theirs.timestamp, event.timestamp);
    assert_eq!(theirs.level, st::Level::Warning);
    assert_eq!(theirs.platform, "native");
    assert_eq!(theirs.logger.as_deref(), event.logger.as_deref());
    assert_eq!(theirs.transaction.as_deref(), event.transaction.as_deref());
    assert_eq!(theirs.server_name.as_deref(), event.server_name.as_deref());
    assert_eq!(theirs.release.as_deref(), event.release.as_deref());
    assert_eq!(theirs.dist.as_deref(), event.dist.as_deref());
    assert_eq!(theirs.environment.as_deref(), event.environment.as_deref());
    assert_eq!(theirs.message.as_deref(), event.message.as_deref());
    assert_eq!(theirs.fingerprint.to_vec(), event.fingerprint);
    assert_eq!(
        theirs.tags.iter().collect::<Vec<_>>(),
        event.tags.iter().collect::<Vec<_>>()
    );
    assert_eq!(theirs.extra["cart_items"], json!(3));
    assert_eq!(theirs.modules["tokio"], "1.48.0");
    let sdk = theirs.sdk.as_ref().unwrap();
    assert_eq!(sdk.name, "crumbtrail");
    assert_eq!(sdk.integrations, vec!["panic".to_owned()]);

    // Exceptions: oldest first, with the mechanism ids of a Rust error chain.
    let ours = &event.exception.as_ref().unwrap().values;
    let theirs_exc = &theirs.exception.values;
    assert_eq!(theirs_exc.len(), 2);
    for (o, t) in ours.iter().zip(theirs_exc) {
        assert_eq!(Some(&t.ty), o.ty.as_ref());
        assert_eq!(t.value, o.value);
        assert_eq!(t.module, o.module);
        let (om, tm) = (o.mechanism.as_ref().unwrap(), t.mechanism.as_ref().unwrap());
        assert_eq!(tm.ty, om.ty);
        assert_eq!(tm.handled, om.handled);
    }
    assert_eq!(theirs_exc[0].ty, "std::io::Error");
    let frames = &theirs_exc[1].stacktrace.as_ref().unwrap().frames;
    assert_eq!(frames[0].function.as_deref(), Some("shop::checkout"));
    assert_eq!(frames[0].lineno, Some(42));
    assert_eq!(frames[0].in_app, Some(true));
    assert_eq!(
        frames[0].instruction_addr.map(|a| a.to_string()),
        Some("0x7ff61234".to_owned())
    );

    // Breadcrumbs: oldest first, every field.
    let crumbs = &theirs.breadcrumbs.values;
    assert_eq!(crumbs.len(), 2);
    for (o, t) in event
        .breadcrumbs
        .as_ref()
        .unwrap()
        .values
        .iter()
        .zip(crumbs)
    {
        assert_eq!(t.ty, o.ty);
        assert_eq!(t.category.as_deref(), o.category.as_deref());
        assert_eq!(t.message.as_deref(), o.message.as_deref());
        assert_eq!(json_of(&t.level), json_of(&o.level));
        assert_same_instant(t.timestamp, o.timestamp.unwrap());
        assert_eq!(json_of(&t.data), Value::Object(o.data.clone()));
    }
    assert_eq!(crumbs[1].ty, "http");
    assert_eq!(crumbs[1].level, st::Level::Error);
    assert_eq!(crumbs[1].data["status_code"], json!(503));

    let user = theirs.user.as_ref().unwrap();
    assert_eq!(user.id.as_deref(), Some("42"));
    assert_eq!(user.email.as_deref(), Some("ann@example.com"));
    assert_eq!(user.username.as_deref(), Some("ann"));

    let req = theirs.request.as_ref().unwrap();
    assert_eq!(
        req.url.as_ref().map(|u| u.as_str()),
        Some("https://shop.example.com/cart/981")
    );
    assert_eq!(req.method.as_deref(), Some("POST"));
    assert_eq!(req.query_string.as_deref(), Some("step=2"));
    assert_eq!(req.headers["Content-Type"], "application/json");

    let Some(st::Context::Trace(trace)) = theirs.contexts.get("trace") else {
        panic!("no trace context: {:?}", theirs.contexts);
    };
    assert_eq!(
        trace.trace_id.to_string(),
        "4c79f60c11214eb38604f4ae0781bfb2"
    );
    assert_eq!(trace.span_id.to_string(), "a1b2c3d4e5f60718");
    assert_eq!(trace.op.as_deref(), Some("http.server"));
    let Some(st::Context::Os(os)) = theirs.contexts.get("os") else {
        panic!("no os context: {:?}", theirs.contexts);
    };
    assert_eq!(os.name.as_deref(), Some("Linux"));
    assert_eq!(os.version.as_deref(), Some("6.1"));
}

#[test]
fn sentry_types_reads_crumbtrail_transactions() {
    let trace_id = ct::TraceId::random();
    let root = ct::SpanId::random();
    let mut ctx = ct::TraceContext::new(trace_id, root);
    ctx.op = Some("http.server".into());
    ctx.status = Some(ct::SpanStatus::Ok);
    let mut tx = ct::Transaction::new("GET /cart/:id", ctx);
    tx.start_timestamp = datetime!(2026-03-01 12:00:00 UTC);
    tx.timestamp = datetime!(2026-03-01 12:00:00.25 UTC);
    tx.release = Some("shop@1.4.2".into());
    let mut span = ct::Span::new(trace_id, ct::SpanId::random(), "db.sql.query");
    span.parent_span_id = Some(root);
    span.description = Some("SELECT * FROM cart WHERE id = $1".into());
    span.start_timestamp = datetime!(2026-03-01 12:00:00.01 UTC);
    span.timestamp = Some(datetime!(2026-03-01 12:00:00.09 UTC));
    span.status = Some(ct::SpanStatus::NotFound);
    span.data.insert("db.system".into(), json!("postgresql"));
    tx.spans.push(span.clone());

    let env = ct::Envelope::from_transaction(&tx).unwrap();
    let (_, items) = parse_with_sentry_types(&env);
    let st::EnvelopeItem::Transaction(theirs) = &items[0] else {
        panic!("expected a transaction, got {:?}", items[0]);
    };
    assert_eq!(&theirs.event_id, tx.event_id.as_uuid());
    assert_eq!(theirs.name.as_deref(), Some("GET /cart/:id"));
    assert_same_instant(theirs.start_timestamp, tx.start_timestamp);
    assert_same_instant(theirs.timestamp.unwrap(), tx.timestamp);
    assert_eq!(theirs.release.as_deref(), Some("shop@1.4.2"));
    let Some(st::Context::Trace(tc)) = theirs.contexts.get("trace") else {
        panic!("no trace context");
    };
    assert_eq!(tc.trace_id.to_string(), trace_id.to_string());
    assert_eq!(tc.span_id.to_string(), root.to_string());
    assert_eq!(theirs.spans.len(), 1);
    let s = &theirs.spans[0];
    assert_eq!(s.span_id.to_string(), span.span_id.to_string());
    assert_eq!(
        s.parent_span_id.map(|p| p.to_string()),
        Some(root.to_string())
    );
    assert_eq!(s.op.as_deref(), Some("db.sql.query"));
    assert_eq!(s.description, span.description);
    assert_same_instant(s.start_timestamp, span.start_timestamp);
    assert_same_instant(s.timestamp.unwrap(), span.timestamp.unwrap());
    assert_eq!(json_of(&s.status), json!("not_found"));
    assert_eq!(s.data["db.system"], json!("postgresql"));
}

#[test]
fn sentry_types_reads_crumbtrail_sessions_attachments_check_ins_and_reports() {
    let mut session = ct::SessionUpdate::new("shop@1.4.2");
    session.did = Some("user-42".into());
    session.init = true;
    session.started = datetime!(2026-03-01 11:58:00 UTC);
    session.errors = 2;
    session.status = ct::SessionStatus::Crashed;
    session.attrs.environment = Some("production".into());

    let started = datetime!(2026-03-01 12:00:00 UTC);
    let mut bucket = ct::SessionAggregateItem::new(started);
    bucket.exited = 812;
    bucket.errored = 5;
    bucket.crashed = 1;
    let aggregates = ct::SessionAggregates {
        attrs: ct::SessionAggregateAttributes {
            release: "shop@1.4.2".into(),
            environment: Some("production".into()),
        },
        aggregates: vec![bucket],
    };

    let mut check_in = ct::CheckIn::new("nightly-import", ct::CheckInStatus::Ok);
    check_in.duration = Some(12.5);
    check_in.environment = Some("production".into());

    let report = ct::ClientReport::from_counts([
        (ct::DiscardReason::QueueOverflow, ct::DataCategory::Error, 3),
        (
            ct::DiscardReason::SampleRate,
            ct::DataCategory::Transaction,
            40,
        ),
    ]);

    let env = ct::Envelope::new()
        .with_item(session.to_item().unwrap())
        .with_item(aggregates.to_item().unwrap())
        .with_item(ct::Item::attachment(
            "state.txt",
            Some("text/plain"),
            b"cart=3;ok=0\nline two".to_vec(),
        ))
        .with_item(check_in.to_item().unwrap())
        .with_item(report.to_item().unwrap());
    let (_, items) = parse_with_sentry_types(&env);
    assert_eq!(items.len(), 5);

    let st::EnvelopeItem::SessionUpdate(s) = &items[0] else {
        panic!("expected a session, got {:?}", items[0]);
    };
    assert_eq!(s.session_id, session.sid);
    assert_eq!(s.distinct_id.as_deref(), Some("user-42"));
    assert!(s.init);
    assert_eq!(s.started, to_system(session.started));
    assert_eq!(s.errors, 2);
    assert_eq!(json_of(&s.status), json!("crashed"));
    assert_eq!(s.attributes.release, "shop@1.4.2");
    assert_eq!(s.attributes.environment.as_deref(), Some("production"));

    let st::EnvelopeItem::SessionAggregates(a) = &items[1] else {
        panic!("expected aggregates, got {:?}", items[1]);
    };
    assert_eq!(a.aggregates.len(), 1);
    assert_eq!(a.aggregates[0].started, to_system(started));
    assert_eq!(a.aggregates[0].exited, 812);
    assert_eq!(a.aggregates[0].errored, 5);
    assert_eq!(a.aggregates[0].crashed, 1);
    assert_eq!(a.aggregates[0].abnormal, 0);

    let st::EnvelopeItem::Attachment(att) = &items[2] else {
        panic!("expected an attachment, got {:?}", items[2]);
    };
    assert_eq!(att.filename, "state.txt");
    assert_eq!(att.content_type.as_deref(), Some("text/plain"));
    assert_eq!(att.buffer, b"cart=3;ok=0\nline two");

    let st::EnvelopeItem::MonitorCheckIn(c) = &items[3] else {
        panic!("expected a check-in, got {:?}", items[3]);
    };
    assert_eq!(&c.check_in_id, check_in.check_in_id.as_uuid());
    assert_eq!(c.monitor_slug, "nightly-import");
    assert_eq!(json_of(&c.status), json!("ok"));
    assert_eq!(c.duration, Some(12.5));

    let st::EnvelopeItem::ClientReport(r) = &items[4] else {
        panic!("expected a client report, got {:?}", items[4]);
    };
    let theirs = json_of(r);
    let mut discarded = theirs["discarded_events"].as_array().unwrap().clone();
    discarded.sort_by_key(|d| d["reason"].as_str().unwrap().to_owned());
    assert_eq!(
        discarded,
        vec![
            json!({"reason":"queue_overflow","category":"error","quantity":3}),
            json!({"reason":"sample_rate","category":"transaction","quantity":40}),
        ]
    );
}

#[test]
fn sentry_types_reads_crumbtrail_logs() {
    let trace_id = ct::TraceId::random();
    let mut record = ct::LogRecord::new(trace_id, ct::LogLevel::Warn, "cart 981 exceeded 50 items");
    record.timestamp = datetime!(2026-03-01 12:00:01.2345 UTC);
    record.set_attribute("cart.total", 412.5);
    record.set_attribute("cart.guest", false);
    record.set_attribute("sentry.message.parameter.0", 981i64);
    let env = ct::Envelope::new().with_item(
        ct::LogContainer::new(vec![record.clone()])
            .to_item()
            .unwrap(),
    );
    let (_, items) = parse_with_sentry_types(&env);
    let st::EnvelopeItem::ItemContainer(st::ItemContainer::Logs(logs)) = &items[0] else {
        panic!("expected a log container, got {:?}", items[0]);
    };
    assert_eq!(logs.len(), 1);
    let log = &logs[0];
    assert_eq!(log.body, "cart 981 exceeded 50 items");
    assert_eq!(json_of(&log.level), json!("warn"));
    assert_eq!(
        log.trace_id.map(|t| t.to_string()),
        Some(trace_id.to_string())
    );
    assert_same_instant(log.timestamp, record.timestamp);
    assert_eq!(log.attributes["cart.total"].0, json!(412.5));
    assert_eq!(log.attributes["cart.guest"].0, json!(false));
    assert_eq!(log.attributes["sentry.message.parameter.0"].0, json!(981));
}

#[test]
fn crumbtrail_reads_sentry_types_envelopes() {
    let mut event = st::Event {
        level: st::Level::Error,
        message: Some("boom".into()),
        release: Some("shop@1.4.2".into()),
        ..Default::default()
    };
    event.tags.insert("region".into(), "eu".into());
    event.breadcrumbs.values.push(st::Breadcrumb {
        category: Some("http".into()),
        message: Some("GET /x".into()),
        ..Default::default()
    });
    event.exception.values.push(st::Exception {
        ty: "io::Error".into(),
        value: Some("reset".into()),
        ..Default::default()
    });
    let mut envelope = st::Envelope::new();
    envelope.add_item(event.clone());
    envelope.add_item(st::Attachment {
        buffer: b"a\nb".to_vec(),
        filename: "x.txt".into(),
        content_type: None,
        ty: None,
    });
    let mut bytes = Vec::new();
    envelope.to_writer(&mut bytes).unwrap();

    let parsed = ct::Envelope::parse(&bytes).unwrap();
    assert_eq!(
        parsed.headers.event_id.map(|e| *e.as_uuid()),
        Some(event.event_id)
    );
    assert_eq!(parsed.items.len(), 2);
    let ct::ItemPayload::Event(ours) = parsed.items[0].decode().unwrap() else {
        panic!("expected an event");
    };
    assert_eq!(ours.event_id.as_uuid(), &event.event_id);
    assert_eq!(ours.level, ct::Level::Error);
    assert_eq!(ours.message.as_deref(), Some("boom"));
    assert_eq!(ours.release.as_deref(), Some("shop@1.4.2"));
    assert_eq!(ours.tags["region"], "eu");
    assert_same_instant(event.timestamp, ours.timestamp);
    let crumbs = &ours.breadcrumbs.as_ref().unwrap().values;
    assert_eq!(crumbs[0].category.as_deref(), Some("http"));
    assert_eq!(crumbs[0].message.as_deref(), Some("GET /x"));
    let exc = &ours.exception.as_ref().unwrap().values[0];
    assert_eq!(exc.ty.as_deref(), Some("io::Error"));
    assert_eq!(exc.value.as_deref(), Some("reset"));
    assert_eq!(parsed.items[1].payload, b"a\nb");
    assert_eq!(parsed.items[1].headers.filename.as_deref(), Some("x.txt"));

    // And crumbtrail's re-serialization is still something sentry-types accepts.
    let again = st::Envelope::from_slice(&parsed.to_bytes()).unwrap();
    assert_eq!(again.items().count(), 2);
}
