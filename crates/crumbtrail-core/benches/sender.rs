//! End-to-end sender figures over loopback HTTP to the in-process devserver (an instant
//! server): a burst of captures with default options, then flush after 100 events.
//!
//! Run with `cargo bench -p crumbtrail-core --bench sender`. It prints figures; it asserts
//! nothing about time.
#![allow(missing_docs)]

use std::time::{Duration, Instant};

use crumbtrail_core::protocol::{DataCategory, DiscardReason};
use crumbtrail_core::{Client, ClientOptions, Level, ScopeFutureExt, capture_message};
use crumbtrail_devserver::{DevServer, DevServerConfig};

const BURST: usize = 20_000;

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        burst().await;
        flush_after_100().await;
    });
}

async fn burst() {
    let server = DevServer::start(DevServerConfig::default())
        .await
        .expect("devserver");
    let client = Client::new(ClientOptions {
        dsn: Some(server.dsn().to_string()),
        ..Default::default()
    })
    .expect("client");
    let start = Instant::now();
    let accepted = async {
        (0..BURST)
            .filter(|i| capture_message(&format!("burst {i}"), Level::Error).is_some())
            .count()
    }
    .bind_client(&client)
    .await;
    let enqueue = start.elapsed();
    let delivered_in_time = client.flush(Duration::from_secs(120)).await;
    let total = start.elapsed();
    let arrived = server.events().len();
    let overflow = server.client_report_total(&DiscardReason::QueueOverflow, &DataCategory::Error);
    println!(
        "burst of {BURST} captures, default options: {accepted} queued in {enqueue:?} \
         ({:.0} ns each); {arrived} delivered ({:.1}%) after {total:?} ({:.0} events/s); \
         {overflow} reported as queue_overflow; accounted {}/{BURST}; flush ok: {delivered_in_time}",
        enqueue.as_nanos() as f64 / BURST as f64,
        arrived as f64 * 100.0 / BURST as f64,
        arrived as f64 / total.as_secs_f64(),
        arrived as u64 + overflow,
    );
    server.shutdown().await;
}

async fn flush_after_100() {
    let server = DevServer::start(DevServerConfig::default())
        .await
        .expect("devserver");
    let client = Client::new(ClientOptions {
        dsn: Some(server.dsn().to_string()),
        ..Default::default()
    })
    .expect("client");
    let mut figures = Vec::new();
    for round in 0..5 {
        async {
            for i in 0..100 {
                capture_message(&format!("round {round} event {i}"), Level::Error);
            }
        }
        .bind_client(&client)
        .await;
        let start = Instant::now();
        let ok = client.flush(Duration::from_secs(2)).await;
        figures.push((start.elapsed(), ok));
    }
    println!(
        "flush(2 s) right after 100 events, 5 rounds: {:?}; {} events arrived",
        figures,
        server.events().len()
    );
    server.shutdown().await;
}
