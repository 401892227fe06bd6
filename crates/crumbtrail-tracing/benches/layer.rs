//! What the layer costs the code that logs.
//!
//! Run with `cargo bench -p crumbtrail-tracing --bench layer`. Each case installs its own
//! thread-local subscriber: a `Registry` with the crumbtrail layer, filtered (the recommended
//! `layer().filtered()`) or not, and nothing else, so an event the layer does not want is
//! wanted by no one and the figures show what the layer's filtering saves.
#![allow(missing_docs)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use crumbtrail_core::{Breadcrumb, BreadcrumbHint, Client, ClientOptions, Level};
use crumbtrail_tracing::{CrumbtrailLayer, Handling};
use tracing_subscriber::layer::SubscriberExt;

fn client() -> Client {
    Client::new(ClientOptions {
        transport: Some(crumbtrail_core::DiscardTransport::factory()),
        transport_queue_size: 20_000,
        ..Default::default()
    })
    .expect("valid options")
}

fn configured() -> CrumbtrailLayer {
    crumbtrail_tracing::layer().ignore("hyper")
}

fn with_handler() -> CrumbtrailLayer {
    configured().global_handler(|record| {
        if record.target() == "audit" {
            Handling::Handled
        } else {
            Handling::Continue
        }
    })
}

fn with_filtered<R>(f: impl FnOnce() -> R) -> R {
    let subscriber = tracing_subscriber::registry().with(configured().filtered());
    tracing::subscriber::with_default(subscriber, f)
}

fn with_unfiltered<R>(f: impl FnOnce() -> R) -> R {
    let subscriber = tracing_subscriber::registry().with(configured());
    tracing::subscriber::with_default(subscriber, f)
}

/// The filtered layer plus a global handler that takes `audit` records over.
fn with_global_handler<R>(f: impl FnOnce() -> R) -> R {
    let subscriber = tracing_subscriber::registry().with(with_handler().filtered());
    tracing::subscriber::with_default(subscriber, f)
}

/// Must run before any client exists: the SDK is disabled.
fn disabled(c: &mut Criterion) {
    let mut group = c.benchmark_group("sdk_disabled");
    group.bench_function("info/filtered", |b| {
        with_filtered(|| b.iter(|| tracing::info!(n = black_box(1), "cart loaded")))
    });
    group.bench_function("info/unfiltered", |b| {
        with_unfiltered(|| b.iter(|| tracing::info!(n = black_box(1), "cart loaded")))
    });
    group.finish();
}

fn enabled(c: &mut Criterion) {
    let client = client();
    crumbtrail_core::set_global_client(Some(client.clone()));

    let mut group = c.benchmark_group("skipped");
    group.bench_function("debug_below_level/no_subscriber", |b| {
        b.iter(|| tracing::debug!(n = black_box(1), "cart loaded"))
    });
    group.bench_function("debug_below_level/filtered", |b| {
        with_filtered(|| b.iter(|| tracing::debug!(n = black_box(1), "cart loaded")))
    });
    group.bench_function("debug_below_level/unfiltered", |b| {
        with_unfiltered(|| b.iter(|| tracing::debug!(n = black_box(1), "cart loaded")))
    });
    group.bench_function("info_ignored_target/filtered", |b| {
        with_filtered(|| {
            b.iter(|| tracing::info!(target: "hyper::proto", n = black_box(1), "read"))
        })
    });
    group.bench_function("info_ignored_target/unfiltered", |b| {
        with_unfiltered(|| {
            b.iter(|| tracing::info!(target: "hyper::proto", n = black_box(1), "read"))
        })
    });
    group.bench_function("debug_below_level/global_handler", |b| {
        with_global_handler(|| b.iter(|| tracing::debug!(n = black_box(1), "cart loaded")))
    });
    // Global handlers see ignored targets too: the handler runs, then the ignore rule drops it.
    group.bench_function("info_ignored_target/global_handler", |b| {
        with_global_handler(|| {
            b.iter(|| tracing::info!(target: "hyper::proto", n = black_box(1), "read"))
        })
    });
    group.bench_function("info_taken_by_global_handler", |b| {
        with_global_handler(|| {
            b.iter(|| tracing::info!(target: "audit", n = black_box(1), "login"))
        })
    });
    group.finish();

    let mut group = c.benchmark_group("recorded");
    group.bench_function("info_breadcrumb_3_fields/filtered", |b| {
        with_filtered(|| {
            b.iter(|| {
                tracing::info!(
                    cart = black_box(981),
                    user = "alice",
                    total = 12.5,
                    "cart loaded"
                )
            })
        })
    });
    // Span fields are recorded when an INFO span is created (for the events inside it).
    group.bench_function("info_span_2_fields/span_fields_on", |b| {
        with_filtered(|| {
            b.iter(|| {
                let span = tracing::info_span!("request", id = black_box(1), route = "/cart");
                let _entered = span.enter();
            })
        })
    });
    group.bench_function("info_span_2_fields/span_fields_off", |b| {
        let layer = configured().span_fields(false).filtered();
        let subscriber = tracing_subscriber::registry().with(layer);
        tracing::subscriber::with_default(subscriber, || {
            b.iter(|| {
                let span = tracing::info_span!("request", id = black_box(1), route = "/cart");
                let _entered = span.enter();
            })
        })
    });
    // The same crumb built by hand and recorded through core: what the layer adds is the
    // difference.
    group.bench_function("same_crumb_by_hand_via_core", |b| {
        b.iter(|| {
            let mut crumb = Breadcrumb::new()
                .with_category(black_box("layer"))
                .with_message(format!("{:?}", format_args!("cart loaded")))
                .with_level(Level::Info);
            crumb.data.insert("cart".into(), black_box(981).into());
            crumb.data.insert("user".into(), "alice".into());
            crumb.data.insert("total".into(), 12.5.into());
            crumbtrail_core::add_breadcrumb_with_hint(crumb, &BreadcrumbHint::none());
        })
    });
    group.bench_function("error_event/caller_side", |b| {
        with_filtered(|| {
            b.iter_custom(|iters| {
                let mut spent = Duration::ZERO;
                let mut left = iters;
                while left > 0 {
                    let chunk = left.min(5_000);
                    let start = Instant::now();
                    for _ in 0..chunk {
                        let err = std::io::Error::other("disk full");
                        tracing::error!(error = &err as &dyn std::error::Error, "save failed");
                    }
                    spent += start.elapsed();
                    // Let the sender drain the queue, outside the timed section.
                    client.flush_blocking(Duration::from_secs(60));
                    left -= chunk;
                }
                spent
            })
        })
    });
    group.bench_function("same_event_by_hand_via_core/caller_side", |b| {
        b.iter_custom(|iters| {
            let mut spent = Duration::ZERO;
            let mut left = iters;
            while left > 0 {
                let chunk = left.min(5_000);
                let start = Instant::now();
                for _ in 0..chunk {
                    let err = std::io::Error::other("disk full");
                    let mut event = crumbtrail_core::Event::new();
                    event.message = Some(format!("{:?}", format_args!("save failed")));
                    event.exception = Some(
                        vec![crumbtrail_core::protocol::Exception::new(
                            format!("{err:?}"),
                            err.to_string(),
                        )]
                        .into(),
                    );
                    let id = crumbtrail_core::capture_event(event);
                    black_box(id);
                }
                spent += start.elapsed();
                client.flush_blocking(Duration::from_secs(60));
                left -= chunk;
            }
            spent
        })
    });
    group.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
}

criterion_group! {
    name = benches;
    config = config();
    targets = disabled, enabled
}
criterion_main!(benches);
