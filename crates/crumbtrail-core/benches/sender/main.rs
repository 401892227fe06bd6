//! End-to-end sender figures over loopback HTTP, against an ingest server in a child process
//! (so CPU and peak RSS are the SDK's own):
//!
//! - a 20,000-capture burst with default options: how much is delivered, and whether the rest
//!   is accounted for in client reports;
//! - throughput with a queue large enough for no drops, and the peak RSS of the process;
//! - throughput against a server that answers after 50 ms;
//! - flush(2 s) right after 100 events;
//! - close(500 ms) against a server that never answers.
//!
//! Each scenario runs in a fresh process of its own. Run with
//! `cargo bench -p crumbtrail-core --bench sender`; it prints figures and asserts nothing
//! about time.
#![allow(missing_docs)]

mod server;

use std::time::{Duration, Instant};

use crumbtrail_core::{Client, ClientOptions, Level, ScopeFutureExt, capture_message};
use server::Answer;

const BURST: usize = 20_000;
const SCENARIOS: [&str; 5] = [
    "burst",
    "throughput",
    "slow_server",
    "flush_100",
    "close_hung",
];

fn main() {
    match std::env::var("CRUMBTRAIL_BENCH_ROLE").as_deref() {
        Ok("server") => {
            let answer = std::env::var("CRUMBTRAIL_BENCH_ANSWER").unwrap_or_default();
            server::serve(Answer::from_arg(&answer));
        }
        Ok(scenario) => run(scenario),
        Err(_) => {
            // `cargo bench` passes `--bench` (and maybe a filter): run each matching scenario
            // in its own process.
            let filter = std::env::args().skip(1).find(|a| !a.starts_with('-'));
            for scenario in SCENARIOS {
                if filter.as_deref().is_some_and(|f| !scenario.contains(f)) {
                    continue;
                }
                let status = std::process::Command::new(std::env::current_exe().expect("exe"))
                    .env("CRUMBTRAIL_BENCH_ROLE", scenario)
                    .status()
                    .expect("run a scenario");
                assert!(status.success(), "scenario {scenario} failed");
            }
        }
    }
}

fn run(scenario: &str) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        match scenario {
            "burst" => burst().await,
            "throughput" => throughput().await,
            "slow_server" => slow_server().await,
            "flush_100" => flush_100().await,
            "close_hung" => close_hung().await,
            other => panic!("unknown scenario {other}"),
        }
    });
}

fn client(server: &server::Child, options: ClientOptions) -> Client {
    Client::new(ClientOptions {
        dsn: Some(server.dsn()),
        ..options
    })
    .expect("client")
}

/// Captures `n` error messages as fast as the caller can; returns how many were accepted.
async fn capture_n(client: &Client, n: usize, label: &str) -> usize {
    async {
        (0..n)
            .filter(|i| capture_message(&format!("{label} {i}"), Level::Error).is_some())
            .count()
    }
    .bind_client(client)
    .await
}

/// Kilobytes from a `/proc/self/status` line (`VmHWM`: peak RSS; `VmRSS`: current).
fn proc_status_kb(key: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(key))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

async fn burst() {
    let server = server::Child::start(Answer::Instant);
    let client = client(&server, ClientOptions::default());
    let start = Instant::now();
    let accepted = capture_n(&client, BURST, "burst").await;
    let enqueue = start.elapsed();
    let flushed = client.flush(Duration::from_secs(120)).await;
    let total = start.elapsed();
    let (arrived, lost) = server.counts().await;
    println!(
        "burst: {BURST} captures with default options, queued in {enqueue:.1?}; \
         {arrived} delivered ({:.1}%) in {total:.2?} ({:.0} events/s); \
         {lost} reported lost; accounted {}/{BURST}; flush ok: {flushed}; {accepted} accepted",
        arrived as f64 * 100.0 / BURST as f64,
        arrived as f64 / total.as_secs_f64(),
        arrived + lost,
    );
}

async fn throughput() {
    const N: usize = 20_000;
    let server = server::Child::start(Answer::Instant);
    let client = client(
        &server,
        ClientOptions {
            transport_queue_size: N * 2,
            transport_queue_bytes: usize::MAX / 2,
            ..Default::default()
        },
    );
    let rss_before = proc_status_kb("VmRSS:");
    let start = Instant::now();
    capture_n(&client, N, "throughput").await;
    let flushed = client.flush(Duration::from_secs(300)).await;
    let total = start.elapsed();
    let (arrived, lost) = server.counts().await;
    println!(
        "throughput: {N} captures with a queue that holds them all: {arrived} delivered in \
         {total:.2?} = {:.0} events/s; {lost} lost; flush ok: {flushed}; \
         RSS before {:.1} MB, peak {:.1} MB",
        arrived as f64 / total.as_secs_f64(),
        rss_before as f64 / 1024.0,
        proc_status_kb("VmHWM:") as f64 / 1024.0,
    );
}

async fn slow_server() {
    const N: usize = 1_000;
    let server = server::Child::start(Answer::After(Duration::from_millis(50)));
    let client = client(&server, ClientOptions::default());
    let start = Instant::now();
    capture_n(&client, N, "slow").await;
    let flushed = client.flush(Duration::from_secs(120)).await;
    let total = start.elapsed();
    let (arrived, lost) = server.counts().await;
    println!(
        "slow server (answers after 50 ms): {arrived}/{N} delivered in {total:.2?} = \
         {:.0} events/s; {lost} lost; flush ok: {flushed}",
        arrived as f64 / total.as_secs_f64(),
    );
}

async fn flush_100() {
    let server = server::Child::start(Answer::Instant);
    let client = client(&server, ClientOptions::default());
    // One warm-up round opens the connections.
    capture_n(&client, 100, "warm-up").await;
    client.flush(Duration::from_secs(2)).await;
    let mut rounds = Vec::new();
    for round in 0..10 {
        capture_n(&client, 100, &format!("round {round}")).await;
        let start = Instant::now();
        let ok = client.flush(Duration::from_secs(2)).await;
        rounds.push((start.elapsed(), ok));
    }
    let (arrived, _) = server.counts().await;
    let mut times: Vec<Duration> = rounds.iter().map(|r| r.0).collect();
    times.sort();
    println!(
        "flush(2 s) right after 100 events, 10 rounds: median {:.2?}, min {:.2?}, max {:.2?}; \
         all ok: {}; {arrived}/1100 arrived",
        times[times.len() / 2],
        times[0],
        times[times.len() - 1],
        rounds.iter().all(|r| r.1),
    );
}

async fn close_hung() {
    let server = server::Child::start(Answer::Hang);
    let client = client(&server, ClientOptions::default());
    capture_n(&client, 50, "hung").await;
    let start = Instant::now();
    let delivered = client.close(Duration::from_millis(500)).await;
    println!(
        "close(500 ms) against a server that never answers: returned {delivered} after {:.1?}",
        start.elapsed()
    );
}
