//! End to end: `tracing` macros → the crumbtrail layer → a client bound to the test's work →
//! real loopback HTTP → the in-process devserver; the assertions are on what the server
//! stored.
//!
//! Every test has its own devserver (port 0), its own client (bound with `bind_client`, never
//! global) and its own subscriber (a `set_default` guard, never global). Waits are on
//! `flush`, bounded; there are no sleeps.

use std::error::Error;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crumbtrail_core::protocol::{Breadcrumb, Context, Event};
use crumbtrail_core::{Client, ClientOptions, Level, ScopeFutureExt};
use crumbtrail_devserver::{DevServer, DevServerConfig};
use crumbtrail_tracing::{CrumbtrailLayer, Handling};
use serde_json::json;
use tracing::instrument::WithSubscriber;
use tracing_subscriber::layer::SubscriberExt;

const WAIT: Duration = Duration::from_secs(10);

async fn server() -> DevServer {
    DevServer::start(DevServerConfig::default())
        .await
        .expect("devserver starts")
}

fn client(server: &DevServer) -> Client {
    Client::new(ClientOptions {
        dsn: Some(server.dsn().to_string()),
        ..Default::default()
    })
    .expect("valid options")
}

/// Runs `work` with `layer` as this thread's subscriber and `client` bound, flushes, and
/// returns the events the server stored, in arrival order.
async fn run<F: Future<Output = ()>>(
    server: &DevServer,
    layer: CrumbtrailLayer,
    work: F,
) -> Vec<Event> {
    let client = client(server);
    let subscriber = tracing_subscriber::registry().with(layer.filtered());
    let _guard = tracing::subscriber::set_default(subscriber);
    work.bind_client(&client).await;
    assert!(client.flush(WAIT).await, "everything delivered in time");
    server.events().iter().map(|r| r.event.clone()).collect()
}

fn trail(event: &Event) -> Vec<&Breadcrumb> {
    event
        .breadcrumbs
        .iter()
        .flat_map(|b| b.values.iter())
        .collect()
}

fn messages(event: &Event) -> Vec<&str> {
    trail(event)
        .iter()
        .map(|c| c.message.as_deref().unwrap_or(""))
        .collect()
}

/// `checkout failed` caused by an I/O error.
#[derive(Debug)]
struct CheckoutError(std::io::Error);

impl std::fmt::Display for CheckoutError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("checkout failed")
    }
}

impl Error for CheckoutError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&self.0)
    }
}

#[tokio::test]
async fn logs_become_the_trail_of_the_error_event() {
    let server = server().await;
    let events = run(&server, crumbtrail_tracing::layer(), async {
        tracing::debug!(target: "shop::cart", "below the breadcrumb level");
        tracing::info!(target: "shop::cart", cart = 981, items = 3, "cart loaded");
        tracing::warn!(target: "shop::pay", attempt = 2, slow = true, "payment slow");
        tracing::trace!(target: "shop::pay", "below it too");
        let err = CheckoutError(std::io::Error::other("connection reset"));
        tracing::error!(
            target: "shop::pay",
            error = &err as &dyn Error,
            order = "A-17",
            "charging order failed"
        );
    })
    .await;
    assert_eq!(events.len(), 1);
    let event = &events[0];

    assert_eq!(event.level, Level::Error);
    assert_eq!(event.logger.as_deref(), Some("shop::pay"));
    assert_eq!(event.message.as_deref(), Some("charging order failed"));
    assert_eq!(event.extra["order"], "A-17");
    let Some(Context::Other(ctx)) = event.contexts.get("tracing") else {
        panic!("a tracing context: {:?}", event.contexts);
    };
    assert_eq!(ctx["file"], file!());

    // The exception chain, oldest first, with the mechanism of PROTOCOL.md §4.3.
    let exceptions = &event.exception.as_ref().expect("exceptions").values;
    let chain: Vec<_> = exceptions
        .iter()
        .map(|e| (e.ty.as_deref().unwrap(), e.value.as_deref().unwrap()))
        .collect();
    assert_eq!(
        chain,
        [
            ("Custom", "connection reset"),
            ("CheckoutError", "checkout failed")
        ]
    );
    let top = exceptions[1].mechanism.as_ref().unwrap();
    assert_eq!(top.ty, "auto.tracing");
    assert_eq!((top.handled, top.exception_id), (Some(true), Some(0)));
    let cause = exceptions[0].mechanism.as_ref().unwrap();
    assert_eq!((cause.exception_id, cause.parent_id), (Some(1), Some(0)));

    // The trail: INFO and WARN, nothing below, not the event itself.
    let crumbs = trail(event);
    assert_eq!(crumbs.len(), 2, "{crumbs:?}");
    let (info, warn) = (crumbs[0], crumbs[1]);
    assert_eq!(info.category.as_deref(), Some("shop::cart"));
    assert_eq!(info.message.as_deref(), Some("cart loaded"));
    assert_eq!((&*info.ty, info.level), ("default", Level::Info));
    assert_eq!(
        serde_json::Value::Object(info.data.clone()),
        json!({"cart": 981, "items": 3})
    );
    assert_eq!(warn.category.as_deref(), Some("shop::pay"));
    assert_eq!(warn.message.as_deref(), Some("payment slow"));
    assert_eq!(warn.level, Level::Warning);
    assert_eq!(
        serde_json::Value::Object(warn.data.clone()),
        json!({"attempt": 2, "slow": true})
    );
    server.shutdown().await;
}

#[tokio::test]
async fn a_captured_error_is_in_the_trail_of_the_next_event() {
    let server = server().await;
    let events = run(&server, crumbtrail_tracing::layer(), async {
        tracing::info!(target: "jobs", "started");
        tracing::error!(target: "jobs", job = 1, "first failure");
        tracing::error!(target: "jobs", job = 2, "second failure");
    })
    .await;
    assert_eq!(events.len(), 2);
    let first = events
        .iter()
        .find(|e| e.message.as_deref() == Some("first failure"))
        .unwrap();
    let second = events
        .iter()
        .find(|e| e.message.as_deref() == Some("second failure"))
        .unwrap();
    assert_eq!(messages(first), ["started"]);
    assert_eq!(messages(second), ["started", "first failure"]);
    let earlier = trail(second)[1];
    assert_eq!((&*earlier.ty, earlier.level), ("error", Level::Error));
    assert_eq!(
        earlier.data["event_id"],
        first.event_id.to_string().as_str()
    );
    server.shutdown().await;
}

#[tokio::test]
async fn ignored_targets_and_their_children_are_dropped_unless_allowed() {
    let server = server().await;
    let layer = crumbtrail_tracing::layer()
        .ignore("hyper")
        .ignore_with_allow_level("h2", tracing::Level::WARN);
    let events = run(&server, layer, async {
        tracing::info!(target: "hyper", "hyper itself");
        tracing::warn!(target: "hyper::proto::h1", "a child");
        tracing::error!(target: "hyper::client", "not even errors");
        tracing::info!(target: "hyperx", "a sibling with a longer name");
        tracing::info!(target: "h2::codec", "below the allow level");
        tracing::warn!(target: "h2::codec", "at the allow level");
        tracing::error!(target: "app", "boom");
    })
    .await;
    assert_eq!(events.len(), 1, "the hyper error is not captured");
    assert_eq!(events[0].message.as_deref(), Some("boom"));
    assert_eq!(
        messages(&events[0]),
        ["a sibling with a longer name", "at the allow level"]
    );
    server.shutdown().await;
}

#[tokio::test]
async fn a_target_handler_takes_over_and_global_handlers_run_first() {
    let server = server().await;
    let seen = Arc::new(Mutex::new(Vec::<String>::new()));
    let global_seen = Arc::clone(&seen);
    let layer = crumbtrail_tracing::layer()
        // Sees everything at or above INFO, first; tags the unit of work from a field.
        .global_handler(move |record| {
            global_seen
                .lock()
                .unwrap()
                .push(format!("{} {}", record.target(), record.level()));
            if record.has_field("tenant") {
                let fields = record.fields();
                let tenant = fields.data["tenant"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned();
                crumbtrail_core::configure_scope(|s| s.set_tag("tenant", tenant));
            }
            Handling::Continue
        })
        // Turns `sql` records, at any level, into query crumbs of its own.
        .target_handler("sql", |record| {
            let fields = record.fields();
            crumbtrail_core::add_breadcrumb(
                Breadcrumb::new()
                    .with_type("query")
                    .with_category("db.query")
                    .with_message(fields.data["statement"].as_str().unwrap_or("?").to_owned()),
            );
            Handling::Handled
        })
        // Takes `audit` errors over: no event, no crumb.
        .target_handler("audit", |_| Handling::Handled);
    let events = run(&server, layer, async {
        tracing::info!(target: "app", tenant = "acme", "request");
        tracing::debug!(target: "sql::conn", statement = "SELECT * FROM carts", "query");
        tracing::error!(target: "audit::log", "suspicious login");
        tracing::error!(target: "app", "boom");
    })
    .await;
    assert_eq!(events.len(), 1, "the audit error was taken over");
    let event = &events[0];
    assert_eq!(event.message.as_deref(), Some("boom"));
    assert_eq!(event.tags["tenant"], "acme");
    let crumbs = trail(event);
    assert_eq!(messages(event), ["request", "SELECT * FROM carts"]);
    assert_eq!(crumbs[1].ty, "query");
    assert_eq!(crumbs[1].category.as_deref(), Some("db.query"));
    // The global handler saw every record at or above INFO, the taken-over one included, but
    // not the DEBUG one (that only its target handler sees).
    assert_eq!(
        *seen.lock().unwrap(),
        ["app INFO", "audit::log ERROR", "app ERROR"]
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_units_of_work_each_get_only_their_own_log_crumbs() {
    let server = server().await;
    let client = client(&server);
    let subscriber = tracing_subscriber::registry().with(crumbtrail_tracing::layer().filtered());
    let _guard = tracing::subscriber::set_default(subscriber);
    async {
        tracing::info!(target: "app", "before the split");
        let unit = |id: u32| {
            crumbtrail_core::with_isolation_scope(move |s| s.set_tag("request", id), async move {
                for step in 0..5 {
                    tracing::info!(target: "app", request = id, step, "r{id} s{step}");
                    tokio::task::yield_now().await;
                }
                let err = std::io::Error::other(format!("request {id} failed"));
                tracing::error!(target: "app", error = &err as &dyn Error);
            })
        };
        // Spawned on the worker threads: the subscriber goes with each task.
        let a = crumbtrail_core::spawn(unit(1).with_current_subscriber());
        let b = crumbtrail_core::spawn(unit(2).with_current_subscriber());
        a.await.unwrap();
        b.await.unwrap();
    }
    .bind_client(&client)
    .await;
    assert!(client.flush(WAIT).await);

    let events = server.events();
    assert_eq!(events.len(), 2);
    for received in &events {
        let event = &received.event;
        let id = &event.tags["request"];
        let expected: Vec<String> = std::iter::once("before the split".to_owned())
            .chain((0..5).map(|s| format!("r{id} s{s}")))
            .collect();
        assert_eq!(messages(event), expected, "request {id}");
        let exceptions = &event.exception.as_ref().unwrap().values;
        assert_eq!(
            exceptions[0].value.as_deref(),
            Some(&*format!("request {id} failed"))
        );
    }
    server.shutdown().await;
}

#[tokio::test]
async fn crumbtrail_s_own_targets_are_never_recorded() {
    let server = server().await;
    let handled = Arc::new(AtomicUsize::new(0));
    let (global, targeted) = (Arc::clone(&handled), Arc::clone(&handled));
    let layer = crumbtrail_tracing::layer()
        .breadcrumb_level(tracing::Level::TRACE)
        .global_handler(move |r| {
            if r.target().starts_with("crumbtrail") {
                global.fetch_add(1, Ordering::Relaxed);
            }
            Handling::Continue
        })
        .target_handler("crumbtrail", move |_| {
            targeted.fetch_add(1, Ordering::Relaxed);
            Handling::Continue
        });
    let events = run(&server, layer, async {
        tracing::error!(target: "crumbtrail", "sdk diagnostic");
        tracing::error!(target: "crumbtrail::worker", "sdk diagnostic");
        tracing::warn!(target: "crumbtrail_core::http", "sdk diagnostic");
        tracing::info!(target: "crumbtrail_tracing", "sdk diagnostic");
        let span = tracing::info_span!(target: "crumbtrail_core", "sdk span", secret = 1);
        let _enter = span.enter();
        tracing::info!(target: "app", "user log");
        tracing::error!(target: "app", "user error");
    })
    .await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].message.as_deref(), Some("user error"));
    assert_eq!(messages(&events[0]), ["user log"]);
    let Some(Context::Other(ctx)) = events[0].contexts.get("tracing") else {
        panic!("a tracing context");
    };
    assert!(ctx.get("spans").is_none(), "the SDK's span is not listed");
    assert_eq!(handled.load(Ordering::Relaxed), 0, "no handler saw them");
    server.shutdown().await;
}
