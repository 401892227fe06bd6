//! Hot-path benchmarks: what the SDK costs the code that calls it.
//!
//! Run with `cargo bench -p crumbtrail-core --bench hot_paths`. Targets on the project's
//! 2-core machine: add_breadcrumb with the ring full ≤ 35 ns; add_breadcrumb with the SDK
//! disabled ≤ 2 ns; capture_message with 100 crumbs on the scope ≤ 1 µs (caller side);
//! with_scope + set_tag ≤ 80 ns; spawn with a scope fork ≤ plain tokio::spawn + 15 ns.
#![allow(missing_docs)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use crumbtrail_core::{
    Breadcrumb, Client, ClientOptions, Level, ScopeFutureExt, add_breadcrumb, capture_message,
    with_scope,
};

fn client() -> Client {
    Client::new(ClientOptions {
        transport: Some(crumbtrail_core::DiscardTransport::factory()),
        transport_queue_size: 20_000,
        ..Default::default()
    })
    .expect("valid options")
}

fn crumb() -> Breadcrumb {
    Breadcrumb::new()
        .with_category("cart")
        .with_message("loaded cart 981")
}

/// Must run before any client exists.
fn disabled(c: &mut Criterion) {
    c.bench_function("add_breadcrumb/disabled", |b| {
        b.iter(|| add_breadcrumb(|| black_box(crumb())))
    });
    c.bench_function("capture_message/disabled", |b| {
        b.iter(|| capture_message(black_box("boom"), Level::Error))
    });
}

fn enabled(c: &mut Criterion) {
    let client = client();
    crumbtrail_core::set_global_client(Some(client.clone()));
    for _ in 0..200 {
        add_breadcrumb(crumb());
    }

    // The crumb is built outside the timed section: this measures the SDK's cost of recording
    // it (timestamp, before_breadcrumb check, ring insert, eviction of the oldest).
    c.bench_function("add_breadcrumb/ring_full", |b| {
        b.iter_batched(crumb, add_breadcrumb, criterion::BatchSize::SmallInput)
    });

    // The same inside a task with its own scope (a request under the tower layer): the
    // task-local hub is found first, without the per-thread fallback.
    let task_rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    c.bench_function("add_breadcrumb/ring_full (bound task)", |b| {
        b.iter_custom(|iters| {
            task_rt.block_on(
                async move {
                    for _ in 0..200 {
                        add_breadcrumb(crumb());
                    }
                    let mut spent = Duration::ZERO;
                    let mut crumbs = Vec::with_capacity(1024);
                    let mut left = iters;
                    while left > 0 {
                        let round = left.min(1024);
                        crumbs.extend((0..round).map(|_| crumb()));
                        let start = Instant::now();
                        for c in crumbs.drain(..) {
                            add_breadcrumb(c);
                        }
                        spent += start.elapsed();
                        left -= round;
                    }
                    spent
                }
                .bind_scope(),
            )
        })
    });

    c.bench_function("capture_message/100_crumbs/caller_side", |b| {
        b.iter_custom(|iters| {
            let mut spent = Duration::ZERO;
            let mut left = iters;
            while left > 0 {
                let chunk = left.min(10_000);
                let start = Instant::now();
                for _ in 0..chunk {
                    black_box(capture_message(black_box("checkout failed"), Level::Error));
                }
                spent += start.elapsed();
                // Let the sender drain the queue, outside the timed section.
                client.flush_blocking(Duration::from_secs(60));
                left -= chunk;
            }
            spent
        })
    });

    c.bench_function("with_scope+set_tag", |b| {
        b.iter(|| with_scope(|scope| scope.set_tag("step", "payment"), || black_box(1)))
    });

    // The cost of the spawn call itself: tasks are spawned on a current_thread runtime, so they
    // do not run inside the timed section.
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let mut group = c.benchmark_group("spawn");
    group.bench_function("tokio::spawn", |b| {
        b.iter_custom(|iters| spawn_timed(&rt, iters, || tokio::spawn(async { black_box(1) })))
    });
    group.bench_function("crumbtrail::spawn (scope fork)", |b| {
        b.iter_custom(|iters| {
            spawn_timed(&rt, iters, || {
                crumbtrail_core::spawn(async { black_box(1) })
            })
        })
    });
    group.finish();
}

/// Times `iters` calls of `spawn`, in rounds of 1,024 awaited (untimed) between rounds, so
/// the figure is the spawn call and not the page faults of millions of tasks held at once.
fn spawn_timed(
    rt: &tokio::runtime::Runtime,
    iters: u64,
    spawn: impl Fn() -> tokio::task::JoinHandle<i32>,
) -> Duration {
    rt.block_on(async {
        let mut spent = Duration::ZERO;
        let mut left = iters;
        let mut handles = Vec::with_capacity(1024);
        while left > 0 {
            let round = left.min(1024);
            let start = Instant::now();
            for _ in 0..round {
                handles.push(spawn());
            }
            spent += start.elapsed();
            for h in handles.drain(..) {
                h.await.ok();
            }
            left -= round;
        }
        spent
    })
}

criterion_group!(benches, disabled, enabled);
criterion_main!(benches);
