//! Property tests: breadcrumbs and rich events survive a JSON round trip unchanged.

use std::collections::BTreeMap;

use proptest::collection::{btree_map, vec};
use proptest::option;
use proptest::prelude::*;
use serde_json::{Map, Value};
use time::OffsetDateTime;

use crate::breadcrumb::Breadcrumb;
use crate::event::{
    Addr, Context, Contexts, Event, Exception, Frame, Geo, OsContext, Request, Stacktrace,
    TraceContext, User,
};
use crate::{EventId, Level, SpanId, SpanStatus, TraceId};

/// Times between 1970 and 2033 at microsecond precision (exact through float seconds).
fn timestamp() -> impl Strategy<Value = OffsetDateTime> {
    (0i128..2_000_000_000_000_000).prop_map(|micros| {
        OffsetDateTime::from_unix_timestamp_nanos(micros * 1_000).expect("in range")
    })
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![3 => "[a-zA-Z0-9 _./:-]{0,12}", 1 => "\\PC{0,8}"]
}

fn opt_text() -> impl Strategy<Value = Option<String>> {
    option::of(text())
}

fn level() -> impl Strategy<Value = Level> {
    prop_oneof![
        Just(Level::Debug),
        Just(Level::Info),
        Just(Level::Warning),
        Just(Level::Error),
        Just(Level::Fatal),
    ]
}

/// JSON values without floats that could lose precision (and never NaN).
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        (-1000i32..1000).prop_map(|n| Value::from(f64::from(n) / 4.0)),
        text().prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..4).prop_map(Value::from),
            btree_map(text(), inner, 0..4).prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn json_map(prefix: &'static str) -> impl Strategy<Value = Map<String, Value>> {
    btree_map("[a-z]{1,6}", json_value(), 0..4).prop_map(move |m| {
        m.into_iter()
            .map(|(k, v)| (format!("{prefix}{k}"), v))
            .collect()
    })
}

fn string_map() -> impl Strategy<Value = BTreeMap<String, String>> {
    btree_map(text(), text(), 0..4)
}

pub(crate) fn breadcrumb() -> impl Strategy<Value = Breadcrumb> {
    (
        prop_oneof![Just("default".to_owned()), Just("http".to_owned()), text()],
        opt_text(),
        opt_text(),
        level(),
        option::of(timestamp()),
        json_map(""),
        opt_text(),
    )
        .prop_map(
            |(ty, category, message, level, timestamp, data, origin)| Breadcrumb {
                ty: ty.into(),
                category: category.map(Into::into),
                message: message.map(Into::into),
                level,
                timestamp,
                data,
                origin: origin.map(Into::into),
            },
        )
}

fn frame() -> impl Strategy<Value = Frame> {
    (
        opt_text(),
        opt_text(),
        option::of(1u64..100_000),
        option::of(any::<bool>()),
        option::of(any::<u64>().prop_map(Addr)),
        vec(text(), 0..3),
    )
        .prop_map(|(function, filename, lineno, in_app, addr, pre)| Frame {
            function,
            filename,
            lineno,
            in_app,
            instruction_addr: addr,
            pre_context: pre,
            ..Frame::default()
        })
}

fn exception() -> impl Strategy<Value = Exception> {
    (
        opt_text(),
        opt_text(),
        opt_text(),
        option::of(vec(frame(), 0..4).prop_map(Stacktrace::from_frames)),
    )
        .prop_map(|(ty, value, module, stacktrace)| Exception {
            ty,
            value,
            module,
            stacktrace,
            ..Exception::default()
        })
}

fn request() -> impl Strategy<Value = Request> {
    (
        opt_text(),
        option::of("[A-Z]{3,6}"),
        // A leading `?` is stripped on read, so canonical query strings never have one.
        option::of("[a-z0-9=&%+]{0,16}"),
        option::of(json_value()),
        opt_text(),
        string_map(),
    )
        .prop_map(
            |(url, method, query_string, data, cookies, headers)| Request {
                url,
                method,
                query_string,
                // `null` reads back as "no body".
                data: data.filter(|d| !d.is_null()),
                cookies,
                headers,
                ..Request::default()
            },
        )
}

fn user() -> impl Strategy<Value = User> {
    (
        opt_text(),
        opt_text(),
        opt_text(),
        option::of(opt_text()),
        json_map(""),
    )
        .prop_map(|(id, email, ip_address, city, data)| User {
            id,
            email,
            ip_address,
            geo: city.map(|city| Geo {
                city,
                ..Geo::default()
            }),
            data,
            ..User::default()
        })
}

fn contexts() -> impl Strategy<Value = Contexts> {
    let trace = (
        any::<[u8; 16]>(),
        any::<[u8; 8]>(),
        opt_text(),
        any::<bool>(),
    )
        .prop_map(|(t, s, op, failed)| {
            let mut tc = TraceContext::new(TraceId::from_bytes(t), SpanId::from_bytes(s));
            tc.op = op;
            tc.status = failed.then_some(SpanStatus::InternalError);
            tc
        });
    let os = (opt_text(), json_map("x_")).prop_map(|(name, other)| OsContext {
        name,
        other,
        ..OsContext::default()
    });
    (
        option::of(trace),
        option::of(os),
        any::<bool>(),
        btree_map("custom_[a-z]{1,4}", json_map("x_"), 0..3),
    )
        .prop_map(|(trace, os, os_under_other_key, custom)| {
            let mut c = Contexts::new();
            if let Some(t) = trace {
                c.insert("trace", t);
            }
            if let Some(os) = os {
                c.insert(if os_under_other_key { "host_os" } else { "os" }, os);
            }
            for (k, m) in custom {
                c.insert(k, Context::Other(m));
            }
            c
        })
}

fn event() -> impl Strategy<Value = Event> {
    let head = (
        any::<[u8; 16]>(),
        timestamp(),
        level(),
        opt_text(),
        opt_text(),
        opt_text(),
        string_map(),
        json_map(""),
        vec(text(), 0..3),
    );
    let body = (
        option::of(vec(exception(), 1..4)),
        option::of(vec(breadcrumb(), 0..4)),
        option::of(request()),
        option::of(user()),
        contexts(),
        opt_text(),
    );
    (head, body).prop_map(
        |(
            (id, timestamp, level, release, environment, transaction, tags, extra, fingerprint),
            (chain, crumbs, request, user, contexts, message),
        )| {
            let mut e = Event::new();
            e.event_id = EventId::from(uuid::Uuid::from_bytes(id));
            e.timestamp = timestamp;
            e.level = level;
            e.release = release;
            e.environment = environment;
            e.transaction = transaction;
            e.tags = tags;
            e.extra = extra;
            e.fingerprint = fingerprint;
            e.exception = chain.map(|c| Exception::chain(c).into());
            e.breadcrumbs = crumbs.map(Into::into);
            e.request = request;
            e.user = user;
            e.contexts = contexts;
            e.message = message;
            e
        },
    )
}

fn round_trip<T>(x: &T) -> T
where
    T: serde::Serialize + serde::de::DeserializeOwned,
{
    let json = serde_json::to_string(x).expect("serializes");
    serde_json::from_str(&json).expect("deserializes")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn breadcrumbs_round_trip(crumb in breadcrumb()) {
        prop_assert_eq!(round_trip(&crumb), crumb);
    }

    #[test]
    fn events_round_trip(event in event()) {
        prop_assert_eq!(round_trip(&event), event);
    }

    #[test]
    fn arbitrary_json_never_panics(v in json_value()) {
        let text = v.to_string();
        let _ = serde_json::from_str::<Event>(&text);
        let _ = serde_json::from_str::<Breadcrumb>(&text);
        let _ = serde_json::from_str::<Contexts>(&text);
        let _ = serde_json::from_str::<crate::Meta>(&text);
        let _ = serde_json::from_str::<Request>(&text);
    }
}
