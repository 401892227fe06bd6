//! Unit tests of the layer against core's in-memory test transport (the end-to-end tests over
//! HTTP are in `tests/`). Each test has its own client (`test::capture_events*`) and its own
//! thread-local subscriber.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use crumbtrail_core::protocol::Context as ProtoContext;
use crumbtrail_core::{BreadcrumbHint, ClientOptions, Event, EventHint, Level, test};
use serde_json::json;
use tracing::Subscriber;
use tracing_subscriber::Layer;
use tracing_subscriber::layer::SubscriberExt;

use crate::{CrumbtrailLayer, Handling, TracingHint, crumbtrail_level, layer};

fn crumbs(event: &Event) -> Vec<&crumbtrail_core::Breadcrumb> {
    event
        .breadcrumbs
        .iter()
        .flat_map(|b| b.values.iter())
        .collect()
}

fn messages(event: &Event) -> Vec<String> {
    crumbs(event)
        .iter()
        .map(|c| c.message.as_deref().unwrap_or_default().to_owned())
        .collect()
}

/// Runs `body` with `layer` (filtered) as this thread's subscriber and a test client, then
/// captures a closing event so the trail can be inspected; returns every event.
async fn run(layer: CrumbtrailLayer, body: impl FnOnce()) -> Vec<Event> {
    run_with(ClientOptions::default(), layer, body).await
}

async fn run_with(
    options: ClientOptions,
    layer: CrumbtrailLayer,
    body: impl FnOnce(),
) -> Vec<Event> {
    let subscriber = tracing_subscriber::registry().with(layer.filtered());
    let _guard = tracing::subscriber::set_default(subscriber);
    test::capture_events_with(options, async move {
        body();
        crumbtrail_core::capture_message("end", Level::Info);
    })
    .await
}

fn last(events: &[Event]) -> &Event {
    let end = events.last().expect("the closing event");
    assert_eq!(end.message.as_deref(), Some("end"));
    end
}

#[test]
fn levels_map_to_crumbtrail_levels() {
    use tracing::Level as T;
    assert_eq!(crumbtrail_level(&T::TRACE), Level::Debug);
    assert_eq!(crumbtrail_level(&T::DEBUG), Level::Debug);
    assert_eq!(crumbtrail_level(&T::INFO), Level::Info);
    assert_eq!(crumbtrail_level(&T::WARN), Level::Warning);
    assert_eq!(crumbtrail_level(&T::ERROR), Level::Error);
}

#[derive(Debug)]
struct Sku(u32);

impl std::fmt::Display for Sku {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "sku-{}", self.0)
    }
}

#[tokio::test]
async fn fields_become_json_data() {
    let events = run(layer(), || {
        let err = std::io::Error::other("disk full");
        tracing::info!(
            target: "shop::cart",
            n = 3,
            neg = -4i64,
            big = u128::MAX,
            ratio = 0.5,
            nan = f64::NAN,
            ok = true,
            name = "alice",
            debug = ?Sku(7),
            display = %Sku(8),
            error = &err as &dyn std::error::Error,
            "loaded {} items", 3
        );
    })
    .await;
    let crumb = crumbs(last(&events))[0];
    assert_eq!(crumb.category.as_deref(), Some("shop::cart"));
    assert_eq!(crumb.message.as_deref(), Some("loaded 3 items"));
    assert_eq!((&*crumb.ty, crumb.level), ("default", Level::Info));
    assert_eq!(
        serde_json::Value::Object(crumb.data.clone()),
        json!({
            "n": 3, "neg": -4, "big": u128::MAX.to_string(), "ratio": 0.5, "nan": "NaN",
            "ok": true, "name": "alice", "debug": "Sku(7)", "display": "sku-8",
            "error": "disk full",
        })
    );
}

#[tokio::test]
async fn a_message_given_as_a_field_is_the_message() {
    let events = run(layer(), || {
        tracing::warn!(target: "app", message = "plain", attempt = 2);
    })
    .await;
    let crumb = crumbs(last(&events))[0];
    assert_eq!(crumb.message.as_deref(), Some("plain"));
    assert_eq!(crumb.level, Level::Warning);
    assert_eq!(crumb.data["attempt"], 2);
}

#[tokio::test]
async fn thresholds_decide_between_nothing_crumb_and_event() {
    let events = run(layer(), || {
        tracing::trace!(target: "app", "t");
        tracing::debug!(target: "app", "d");
        tracing::info!(target: "app", "i");
        tracing::warn!(target: "app", "w");
        tracing::error!(target: "app", "e");
    })
    .await;
    assert_eq!(events.len(), 2);
    assert_eq!(events[0].message.as_deref(), Some("e"));
    assert_eq!(events[0].level, Level::Error);
    assert_eq!(messages(&events[0]), ["i", "w"]);
    // The captured error is in the trail of the next event, as an `error` crumb.
    assert_eq!(messages(last(&events)), ["i", "w", "e"]);
    let after = crumbs(last(&events))[2];
    assert_eq!((&*after.ty, after.level), ("error", Level::Error));
    assert_eq!(
        after.data["event_id"],
        events[0].event_id.to_string().as_str()
    );

    let events = run(
        layer()
            .breadcrumb_level(tracing::Level::TRACE)
            .event_level(tracing::Level::WARN),
        || {
            tracing::trace!(target: "app", "t");
            tracing::warn!(target: "app", "w");
        },
    )
    .await;
    assert_eq!(events[0].level, Level::Warning);
    assert_eq!(messages(&events[0]), ["t"]);
    assert_eq!(crumbs(&events[0])[0].level, Level::Debug);
}

#[tokio::test]
async fn with_events_off_errors_are_error_crumbs() {
    let events = run(
        layer().event_level(tracing::level_filters::LevelFilter::OFF),
        || tracing::error!(target: "app", code = 7, "e"),
    )
    .await;
    assert_eq!(events.len(), 1);
    let crumb = crumbs(last(&events))[0];
    assert_eq!((&*crumb.ty, crumb.level), ("error", Level::Error));
    assert_eq!(crumb.data["code"], 7);
}

#[tokio::test]
async fn an_error_event_has_logger_extra_context_and_span_fields() {
    let events = run(layer(), || {
        let span = tracing::info_span!(target: "app", "request", route = "/cart", user = tracing::field::Empty);
        let _enter = span.enter();
        span.record("user", 42);
        let inner = tracing::info_span!(target: "app", "charge");
        let _inner = inner.enter();
        // Below the thresholds: its fields are not recorded, and it is not listed.
        let quiet = tracing::debug_span!(target: "app", "quiet", secret = 1);
        let _quiet = quiet.enter();
        tracing::error!(target: "shop::pay", amount = 12, "charge failed");
    })
    .await;
    let event = &events[0];
    assert_eq!(event.logger.as_deref(), Some("shop::pay"));
    assert_eq!(event.message.as_deref(), Some("charge failed"));
    assert!(event.exception.is_none());
    assert_eq!(event.extra["amount"], 12);
    let Some(ProtoContext::Other(ctx)) = event.contexts.get("tracing") else {
        panic!("a tracing context: {:?}", event.contexts);
    };
    assert_eq!(ctx["target"], "shop::pay");
    assert_eq!(ctx["file"], file!());
    assert!(ctx["line"].as_u64().is_some());
    assert_eq!(
        ctx["spans"],
        json!([
            {"name": "request", "target": "app", "fields": {"route": "/cart", "user": 42}},
            {"name": "charge", "target": "app"},
        ])
    );
}

#[tokio::test]
async fn span_fields_can_be_turned_off() {
    let events = run(layer().span_fields(false), || {
        let span = tracing::info_span!(target: "app", "request", route = "/cart");
        let _enter = span.enter();
        tracing::error!(target: "app", "boom");
    })
    .await;
    let Some(ProtoContext::Other(ctx)) = events[0].contexts.get("tracing") else {
        panic!("a tracing context");
    };
    assert!(ctx.get("spans").is_none());
}

#[tokio::test]
async fn an_error_field_becomes_the_exception_chain() {
    #[derive(Debug)]
    struct Checkout(std::num::ParseIntError);
    impl std::fmt::Display for Checkout {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("checkout failed")
        }
    }
    impl std::error::Error for Checkout {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }
    let events = run(layer(), || {
        let other = std::io::Error::other("first");
        let err = Checkout("q".parse::<u32>().unwrap_err());
        tracing::error!(target: "app",
            cause = &other as &dyn std::error::Error,
            error = &err as &dyn std::error::Error,
        );
    })
    .await;
    let event = &events[0];
    // No message: the exception says it.
    assert_eq!(event.message, None);
    let values = &event.exception.as_ref().unwrap().values;
    let got: Vec<_> = values
        .iter()
        .map(|e| (e.ty.as_deref().unwrap(), e.value.as_deref().unwrap()))
        .collect();
    assert_eq!(
        got,
        [
            ("ParseIntError", "invalid digit found in string"),
            ("Checkout", "checkout failed")
        ]
    );
    let top = values[1].mechanism.as_ref().unwrap();
    assert_eq!((&*top.ty, top.handled), ("auto.tracing", Some(true)));
    // The other error field stays a field.
    assert_eq!(event.extra["cause"], "first");
    assert!(event.extra.get("error").is_none());
    // The crumb recorded after the event says what the error was.
    let after = crumbs(last(&events))[0];
    assert_eq!(after.message.as_deref(), Some("checkout failed"));
}

#[tokio::test]
async fn hints_carry_the_metadata() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let (crumb_seen, event_seen) = (Arc::clone(&seen), Arc::clone(&seen));
    let options = ClientOptions {
        before_breadcrumb: Some(Arc::new(move |crumb, hint: &BreadcrumbHint<'_>| {
            let t = hint.get::<TracingHint>().expect("a tracing hint");
            crumb_seen
                .lock()
                .unwrap()
                .push(format!("crumb {} {}", t.target(), t.level()));
            // Drops crumbs from one target.
            (t.target() != "noisy").then_some(crumb)
        })),
        before_send: Some(Arc::new(move |event, hint: &EventHint| {
            if let Some(t) = hint.get::<TracingHint>() {
                assert_eq!(t.metadata().file(), Some(file!()));
                event_seen
                    .lock()
                    .unwrap()
                    .push(format!("event {}", t.target()));
            }
            Some(event)
        })),
        ..Default::default()
    };
    let events = run_with(options, layer(), || {
        tracing::info!(target: "noisy", "x");
        tracing::info!(target: "app", "y");
        tracing::error!(target: "app", "z");
    })
    .await;
    assert_eq!(messages(last(&events)), ["y", "z"]);
    // before_breadcrumb runs on the caller, in order; before_send on the sender thread, at a
    // time of its own: the two are checked apart.
    let seen = seen.lock().unwrap().clone();
    let (crumbs, events): (Vec<_>, Vec<_>) = seen.iter().partition(|s| s.starts_with("crumb"));
    assert_eq!(
        crumbs,
        [
            "crumb noisy INFO",
            "crumb app INFO",
            "crumb app ERROR", // the event's own crumb, recorded after the capture
        ]
    );
    assert_eq!(events, ["event app"]);
}

#[tokio::test]
async fn ignore_and_allow_level() {
    let events = run(
        layer()
            .ignore("hyper")
            .ignore_with_allow_level("h2", tracing::Level::WARN),
        || {
            tracing::info!(target: "hyper", "a");
            tracing::error!(target: "hyper::proto::h1", "b");
            tracing::info!(target: "hyperx", "c");
            tracing::info!(target: "h2::codec", "d");
            tracing::warn!(target: "h2::codec", "e");
        },
    )
    .await;
    assert_eq!(events.len(), 1);
    assert_eq!(messages(last(&events)), ["c", "e"]);
}

#[tokio::test]
async fn handler_precedence() {
    let calls = Arc::new(Mutex::new(Vec::<String>::new()));
    let log = |name: &'static str, verdict: fn(&str) -> Handling| {
        let calls = Arc::clone(&calls);
        move |record: &crate::Record<'_>| {
            calls
                .lock()
                .unwrap()
                .push(format!("{name}:{}", record.target()));
            verdict(record.target())
        }
    };
    let layer = layer()
        .ignore("db")
        // The first global handler takes `secret` records over.
        .global_handler(log("g1", |t| {
            if t == "secret" {
                Handling::Handled
            } else {
                Handling::Continue
            }
        }))
        .global_handler(log("g2", |_| Handling::Continue))
        .target_handler("db", log("db", |_| Handling::Continue))
        .target_handler("db::pool", log("pool", |_| Handling::Handled))
        .target_handler("panicky", |_| panic!("handler bug"));
    let events = run(layer, || {
        tracing::info!(target: "secret", "s"); // g1 takes it: no g2, no crumb
        tracing::info!(target: "db::query", "q"); // g1, g2, db; then ignored
        tracing::debug!(target: "db::pool", "p"); // below threshold: target handler only
        tracing::info!(target: "db::pool::conn", "c"); // g1, g2, pool takes it
        tracing::info!(target: "app", "a"); // g1, g2, default crumb
        tracing::info!(target: "panicky", "x"); // the panic counts as Continue
        tracing::info!(target: "crumbtrail_core::worker", "internal"); // nobody
    })
    .await;
    assert_eq!(
        *calls.lock().unwrap(),
        [
            "g1:secret",
            "g1:db::query",
            "g2:db::query",
            "db:db::query",
            "pool:db::pool",
            "g1:db::pool::conn",
            "g2:db::pool::conn",
            "pool:db::pool::conn",
            "g1:app",
            "g2:app",
            "g1:panicky",
            "g2:panicky",
        ]
    );
    assert_eq!(messages(last(&events)), ["a", "x"]);
}

#[tokio::test]
async fn handlers_can_read_fields_and_record_their_own_crumbs() {
    let layer = layer().target_handler("sqlx", |record| {
        let fields = record.fields();
        crumbtrail_core::add_breadcrumb(
            crumbtrail_core::Breadcrumb::new()
                .with_type("query")
                .with_category("db")
                .with_message(
                    fields.data["statement"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned(),
                ),
        );
        Handling::Handled
    });
    let events = run(layer, || {
        tracing::debug!(target: "sqlx::query", statement = "SELECT 1", rows = 1);
    })
    .await;
    let crumb = crumbs(last(&events))[0];
    assert_eq!(
        (&*crumb.ty, crumb.message.as_deref()),
        ("query", Some("SELECT 1"))
    );
}

#[tokio::test]
async fn the_unfiltered_layer_records_the_same() {
    let subscriber = tracing_subscriber::registry().with(layer().ignore("hyper"));
    let _guard = tracing::subscriber::set_default(subscriber);
    let events = test::capture_events(async {
        tracing::debug!(target: "app", "d");
        tracing::info!(target: "hyper::proto", "h");
        tracing::info!(target: "app", n = 1, "i");
        tracing::error!(target: "crumbtrail", "internal");
        tracing::error!(target: "app", "e");
    })
    .await;
    assert_eq!(events.len(), 1);
    assert_eq!(messages(&events[0]), ["i"]);
    assert_eq!(crumbs(&events[0])[0].data["n"], 1);
}

/// Counts the events it sees, at any level.
struct Count(Arc<AtomicUsize>);

impl<S: Subscriber> Layer<S> for Count {
    fn on_event(&self, _: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

#[tokio::test]
async fn other_layers_still_see_what_this_one_skips() {
    for filtered in [true, false] {
        let seen = Arc::new(AtomicUsize::new(0));
        let crumbtrail = if filtered {
            layer().ignore("hyper").filtered().boxed()
        } else {
            layer().ignore("hyper").boxed()
        };
        let subscriber = tracing_subscriber::registry()
            .with(crumbtrail)
            .with(Count(Arc::clone(&seen)));
        let _guard = tracing::subscriber::set_default(subscriber);
        let events = test::capture_events(async {
            tracing::trace!(target: "app", "t");
            tracing::debug!(target: "app", "d");
            tracing::info!(target: "hyper", "h");
            tracing::info!(target: "app", "i");
            crumbtrail_core::capture_message("end", Level::Info);
        })
        .await;
        assert_eq!(seen.load(Ordering::Relaxed), 4, "filtered: {filtered}");
        assert_eq!(messages(&events[0]), ["i"], "filtered: {filtered}");
    }
}

#[test]
fn without_a_client_nothing_runs() {
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&calls);
    let layer = layer().global_handler(move |_| {
        counted.fetch_add(1, Ordering::Relaxed);
        Handling::Continue
    });
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        tracing::info!(target: "app", "no client here");
        tracing::error!(target: "app", "nor here");
    });
    assert_eq!(calls.load(Ordering::Relaxed), 0);
}

#[tokio::test]
async fn a_panicking_field_never_reaches_the_caller() {
    struct Bad;
    impl std::fmt::Debug for Bad {
        fn fmt(&self, _: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            panic!("Debug bug")
        }
    }
    let events = run(layer(), || {
        tracing::info!(target: "app", bad = ?Bad, "dropped");
        tracing::info!(target: "app", "kept");
    })
    .await;
    assert_eq!(messages(last(&events)), ["kept"]);
}

#[tokio::test]
async fn hooks_and_handlers_that_log_do_not_loop() {
    let options = ClientOptions {
        before_breadcrumb: Some(Arc::new(|crumb, _: &BreadcrumbHint<'_>| {
            tracing::error!(target: "app", "logged from before_breadcrumb");
            Some(crumb)
        })),
        ..Default::default()
    };
    let layer = layer().global_handler(|record| {
        if record.target() == "app" {
            tracing::warn!(target: "app", "logged from a handler");
        }
        Handling::Continue
    });
    let events = run_with(options, layer, || tracing::info!(target: "app", "once")).await;
    // Records emitted while the layer is handling one are the SDK's own work: dropped (under
    // a global subscriber too: tests/global_subscriber.rs).
    assert_eq!(events.len(), 1);
    assert_eq!(messages(last(&events)), ["once"]);
}

#[tokio::test]
async fn a_large_field_is_shortened_not_dropped_nor_sent_whole() {
    let big = "x".repeat(2_000_000);
    let events = run(layer(), || {
        let _span = tracing::info_span!("upload", body = %big).entered();
        tracing::info!(target: "app", body = %big, "received");
        tracing::error!(target: "app", body = %big, "rejected");
    })
    .await;
    let error = events
        .iter()
        .find(|e| e.message.as_deref() == Some("rejected"))
        .expect("the error event");
    // Every copy of the field is cut to max_value_length (1024), and the cut is noted.
    assert_eq!(error.extra["body"].as_str().unwrap().chars().count(), 1024);
    let crumb = crumbs(error)
        .into_iter()
        .find(|c| c.message.as_deref() == Some("received"))
        .expect("the crumb is kept");
    assert!(crumb.data["body"].as_str().unwrap().len() <= 1024);
    let size = serde_json::to_vec(error).unwrap().len();
    assert!(size < 64 * 1024, "{size} bytes");
    let meta = serde_json::to_value(&error.meta).unwrap();
    assert_eq!(meta["extra"]["body"][""]["len"], 2_000_000);
}
