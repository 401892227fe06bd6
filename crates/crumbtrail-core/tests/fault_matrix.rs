//! The fault matrix: every server behaviour the background sender must survive, over real
//! loopback HTTP to an in-process devserver, each checked for the same four properties:
//!
//! 1. nothing panics (a panicking sender or send job would leave `flush`/`close` unanswered or
//!    `false`, so both are asserted `true` wherever delivery can finish);
//! 2. the caller never blocks: the first capture of a batch parks the sender thread inside
//!    `before_send` (a gate), and the rest of the batch is captured while it is parked, so the
//!    captures provably return before any request was sent, let alone answered;
//! 3. `flush` and `close` return within their deadline (plus generous slack for a loaded
//!    machine; no tight wall-clock bound);
//! 4. nothing is lost silently: every capture was delivered, counted by the server itself (a
//!    `429` answer), reported in a client report the server received, or — where no report can
//!    get through — is still counted in `client.discards()`.
//!
//! What tests/http_transport.rs already shows per behaviour (the exact reason and request
//! counts for one or two events) is not repeated here; this file adds the batch, the gate, the
//! deadlines of `flush` and `close`, the accounting identity through `close`, the bare `429`,
//! `close` against a server that never answers, and a burst of 10,000 captures.
//!
//! Every test has its own server (port 0) and its own client bound with `bind_client`; every
//! wait is on `flush`, `close` or the server, bounded.

mod common;

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crumbtrail_core::protocol::{DataCategory, DiscardReason, EventId};
use crumbtrail_core::{
    Breadcrumb, Client, ClientOptions, Level, ScopeFutureExt, add_breadcrumb, capture_message,
};
use crumbtrail_devserver::{DevServer, DevServerConfig, Fault, FaultMode};
use tokio::sync::oneshot;

/// The longest any test waits for the sender or the server, and the deadline given to the
/// `flush` and `close` calls that are expected to finish.
const WAIT: Duration = Duration::from_secs(10);

/// A deadline that is expected to run out (against a server that never answers).
const SHORT: Duration = Duration::from_millis(300);

/// How far past its deadline a `flush` or `close` may return on a loaded machine.
const SLACK: Duration = Duration::from_secs(2);

/// Captures per batch; each case captures two batches. Below the sender's 16 send slots, so a
/// whole batch is in flight at once.
const BATCH: usize = 8;

/// Every loss reason the SDK knows, to sum what is still pending in the client.
const REASONS: [DiscardReason; 14] = [
    DiscardReason::QueueOverflow,
    DiscardReason::CacheOverflow,
    DiscardReason::RatelimitBackoff,
    DiscardReason::NetworkError,
    DiscardReason::SampleRate,
    DiscardReason::BeforeSend,
    DiscardReason::EventProcessor,
    DiscardReason::SendError,
    DiscardReason::InternalSdkError,
    DiscardReason::InsufficientData,
    DiscardReason::Backpressure,
    DiscardReason::BufferOverflow,
    DiscardReason::Ignored,
    DiscardReason::Invalid,
];

/// Awaits `f` and says how long it took.
async fn timed<F: Future>(f: F) -> (F::Output, Duration) {
    let started = Instant::now();
    let out = f.await;
    (out, started.elapsed())
}

/// Captures error events `range` (each after a three-crumb trail) in the client's own scope.
async fn capture_batch(client: &Client, range: std::ops::Range<usize>) -> Vec<Option<EventId>> {
    async move {
        range
            .map(|i| {
                for step in ["cart loaded", "payment started", "payment declined"] {
                    add_breadcrumb(
                        Breadcrumb::new()
                            .with_category("checkout")
                            .with_message(step),
                    );
                }
                capture_message(&format!("checkout failed {i}"), Level::Error)
            })
            .collect()
    }
    .bind_client(client)
    .await
}

/// A `before_send` hook that parks the sender thread on the first event it sees until the test
/// releases it (or `WAIT` passes), and says when it has parked.
struct Gate {
    entered: oneshot::Receiver<()>,
    release: std::sync::mpsc::Sender<()>,
}

impl Gate {
    fn new() -> (Gate, crumbtrail_core::BeforeSend) {
        let (entered_tx, entered_rx) = oneshot::channel();
        let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
        let first = Mutex::new(Some((entered_tx, release_rx)));
        let hook: crumbtrail_core::BeforeSend = Arc::new(move |event, _| {
            let parked = first.lock().unwrap().take();
            if let Some((entered, release)) = parked {
                let _ = entered.send(());
                // Bounded: returns at once if the test dropped its end (it failed).
                let _ = release.recv_timeout(WAIT);
            }
            Some(event)
        });
        let gate = Gate {
            entered: entered_rx,
            release: release_tx,
        };
        (gate, hook)
    }
}

/// Where the reports about the losses end up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reports {
    /// Every loss reaches the server in a client report; nothing stays in the client.
    Arrive,
    /// No report can get through (nothing listens, or everything is rate limited): every loss
    /// is still counted in `client.discards()`.
    Stuck,
    /// Either, depending on timing (a short `Retry-After` may run out during the test).
    Either,
}

/// One server behaviour and what must become of the captures.
struct Case {
    name: &'static str,
    /// Nothing listens on the DSN's port.
    closed_port: bool,
    config: DevServerConfig,
    /// The server never answers the first batch; the fault is cleared once it has arrived.
    hangs: bool,
    /// Why the lost captures were lost (`None`: nothing may be lost).
    reason: Option<DiscardReason>,
    /// Requests the server answered with `429`: counted by the server, not by the client.
    server_counted: u64,
    /// Exactly how many events arrive, when that is known.
    delivered: Option<u64>,
    reports: Reports,
}

impl Default for Case {
    fn default() -> Self {
        Case {
            name: "",
            closed_port: false,
            config: DevServerConfig::default(),
            hangs: false,
            reason: None,
            server_counted: 0,
            delivered: None,
            reports: Reports::Arrive,
        }
    }
}

/// Runs one case: a gated batch, a flush, a second batch, a close, then the accounting.
async fn run(case: Case) {
    let name = case.name;
    let (server, dsn) = if case.closed_port {
        let port = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            listener.local_addr().unwrap().port()
        };
        (None, format!("http://devkey@127.0.0.1:{port}/1"))
    } else {
        let server = DevServer::start(case.config.clone())
            .await
            .expect("devserver starts");
        let dsn = server.dsn().to_string();
        (Some(server), dsn)
    };
    let requests = || server.as_ref().map_or(0, DevServer::requests);
    let (gate, hook) = Gate::new();
    let client = Client::new(ClientOptions {
        dsn: Some(dsn),
        before_send: Some(hook),
        // A hung request gives up after a second, so its loss is counted within the test.
        request_timeout: if case.hangs {
            Duration::from_secs(1)
        } else {
            crumbtrail_core::DEFAULT_REQUEST_TIMEOUT
        },
        ..Default::default()
    })
    .unwrap();

    // The caller never blocks: the rest of the batch is captured while the sender is parked.
    let mut ids = capture_batch(&client, 0..1).await;
    tokio::time::timeout(WAIT, gate.entered)
        .await
        .expect("the sender picks up the first capture")
        .unwrap();
    ids.extend(capture_batch(&client, 1..BATCH).await);
    assert!(ids.iter().all(Option::is_some), "{name}: {ids:?}");
    assert_eq!(
        requests(),
        0,
        "{name}: the captures returned before any request"
    );
    gate.release.send(()).unwrap();

    // Flush returns within its deadline, even while every request hangs.
    if case.hangs {
        let server = server.as_ref().unwrap();
        server
            .wait_for_requests(BATCH as u64, WAIT)
            .await
            .expect("the batch reaches the server");
        let (delivered, took) = timed(client.flush(SHORT)).await;
        assert!(!delivered, "{name}: the batch is still in flight");
        assert!(
            took <= SHORT + SLACK,
            "{name}: flush({SHORT:?}) took {took:?}"
        );
        server.clear_fault();
    }
    let (delivered, took) = timed(client.flush(WAIT)).await;
    assert!(delivered, "{name}: flush gave up after {took:?}");
    assert!(
        took <= WAIT + SLACK,
        "{name}: flush({WAIT:?}) took {took:?}"
    );

    // A second batch, then close: within its deadline, and the losses reported on the way.
    let more = capture_batch(&client, BATCH..2 * BATCH).await;
    assert!(more.iter().all(Option::is_some), "{name}: {more:?}");
    let (closed, took) = timed(client.close(WAIT)).await;
    assert!(closed, "{name}: close gave up after {took:?}");
    assert!(
        took <= WAIT + SLACK,
        "{name}: close({WAIT:?}) took {took:?}"
    );
    assert!(client.is_closed());

    // Nothing lost silently.
    let captured = 2 * BATCH as u64;
    let (events, reported, reported_all, reported_for) = match &server {
        Some(s) => {
            let totals = s.client_report_totals();
            let errors = |reason: Option<&DiscardReason>| -> u64 {
                totals
                    .iter()
                    .filter(|((r, c), _)| {
                        *c == DataCategory::Error && reason.is_none_or(|want| want == r)
                    })
                    .map(|(_, q)| q)
                    .sum()
            };
            (
                s.item_count("event"),
                errors(None),
                totals.values().sum::<u64>(),
                case.reason.as_ref().map_or(0, |r| errors(Some(r))),
            )
        }
        None => (0, 0, 0, 0),
    };
    let discards = client.discards();
    let pending: u64 = REASONS
        .iter()
        .map(|r| discards.get(r, &DataCategory::Error))
        .sum();
    let pending_for = case
        .reason
        .as_ref()
        .map_or(0, |r| discards.get(r, &DataCategory::Error));
    eprintln!(
        "{name}: {events} delivered, {} counted by the server, {reported} reported, \
         {pending} pending in the client, {} requests",
        case.server_counted,
        requests()
    );
    assert_eq!(
        events + case.server_counted + reported + pending,
        captured,
        "{name}: every capture is delivered or accounted for"
    );
    assert_eq!(
        reported_all, reported,
        "{name}: only error events were lost"
    );
    assert_eq!(
        reported_for + pending_for,
        reported + pending,
        "{name}: every loss has the reason {:?}",
        case.reason
    );
    if let Some(delivered) = case.delivered {
        assert_eq!(events, delivered, "{name}");
    }
    match case.reports {
        Reports::Arrive => assert_eq!(pending, 0, "{name}: losses left unreported"),
        Reports::Stuck => assert_eq!(reported, 0, "{name}: a report got through"),
        Reports::Either => {}
    }
    if let Some(server) = &server {
        // A fault with `times` was used up by the first batch, as the counts above assume.
        if case
            .config
            .fault
            .as_ref()
            .is_some_and(|f| f.times.is_some())
        {
            assert_eq!(server.fault(), None, "{name}");
        }
    }
}

/// A fault for the first `n` ingest requests.
fn fault_for(fault: Fault, n: usize) -> DevServerConfig {
    DevServerConfig::default().with_fault(fault.times(u32::try_from(n).unwrap()))
}

/// A `429` with these headers, for the first request only.
fn too_many(rate_limits: Option<&str>, retry_after: Option<String>) -> DevServerConfig {
    fault_for(
        Fault::new(FaultMode::Status {
            status: 429,
            rate_limits: rate_limits.map(str::to_owned),
            retry_after,
        }),
        1,
    )
}

#[tokio::test]
async fn matrix_200() {
    run(Case {
        name: "200",
        delivered: Some(2 * BATCH as u64),
        ..Default::default()
    })
    .await;
}

#[tokio::test]
async fn matrix_500() {
    // The first batch meets the error; the client report and the second batch get through.
    run(Case {
        name: "500",
        config: fault_for(Fault::status(500), BATCH),
        reason: Some(DiscardReason::SendError),
        delivered: Some(BATCH as u64),
        ..Default::default()
    })
    .await;
}

#[tokio::test]
async fn matrix_503() {
    run(Case {
        name: "503",
        config: fault_for(Fault::status(503), BATCH),
        reason: Some(DiscardReason::SendError),
        delivered: Some(BATCH as u64),
        ..Default::default()
    })
    .await;
}

#[tokio::test]
async fn matrix_413() {
    // The server's own event limit, well below any event with a trail: every event is refused;
    // the small client report is not an event and passes.
    run(Case {
        name: "413",
        config: DevServerConfig::default().with_max_event_bytes(256),
        reason: Some(DiscardReason::SendError),
        delivered: Some(0),
        ..Default::default()
    })
    .await;
}

#[tokio::test]
async fn matrix_429_with_rate_limits() {
    // `error` is limited for 60 s; client reports are not, so the losses arrive.
    run(Case {
        name: "429 + X-Sentry-Rate-Limits",
        config: too_many(Some("60:error:key"), None),
        reason: Some(DiscardReason::RatelimitBackoff),
        server_counted: 1,
        ..Default::default()
    })
    .await;
}

#[tokio::test]
async fn matrix_bare_429_limits_everything_for_60_s() {
    // No header, no Retry-After: everything, client reports included, is limited for 60 s
    // (far longer than this test), so the losses stay counted in the client.
    run(Case {
        name: "bare 429",
        config: too_many(None, None),
        reason: Some(DiscardReason::RatelimitBackoff),
        server_counted: 1,
        reports: Reports::Stuck,
        ..Default::default()
    })
    .await;
}

#[tokio::test]
async fn matrix_429_retry_after_seconds() {
    run(Case {
        name: "429 + Retry-After: 2",
        config: too_many(None, Some("2".into())),
        reason: Some(DiscardReason::RatelimitBackoff),
        server_counted: 1,
        reports: Reports::Either,
        ..Default::default()
    })
    .await;
}

#[tokio::test]
async fn matrix_429_retry_after_http_date() {
    run(Case {
        name: "429 + Retry-After: <HTTP date>",
        config: too_many(None, Some(common::http_date_in(Duration::from_secs(3)))),
        reason: Some(DiscardReason::RatelimitBackoff),
        server_counted: 1,
        reports: Reports::Either,
        ..Default::default()
    })
    .await;
}

#[tokio::test]
async fn matrix_server_never_answers() {
    run(Case {
        name: "hang",
        config: DevServerConfig::default().with_fault(Fault::hang()),
        hangs: true,
        reason: Some(DiscardReason::NetworkError),
        delivered: Some(BATCH as u64),
        ..Default::default()
    })
    .await;
}

#[tokio::test]
async fn matrix_connection_reset() {
    run(Case {
        name: "reset",
        config: fault_for(Fault::reset(), BATCH),
        reason: Some(DiscardReason::NetworkError),
        delivered: Some(BATCH as u64),
        ..Default::default()
    })
    .await;
}

#[tokio::test]
async fn matrix_closed_port() {
    // Client reports are on (the default): each one fails too, and its counts are put back.
    run(Case {
        name: "closed port",
        closed_port: true,
        reason: Some(DiscardReason::NetworkError),
        delivered: Some(0),
        reports: Reports::Stuck,
        ..Default::default()
    })
    .await;
}

/// A client whose every send slot is held by a server that never answers, with more captures
/// queued behind them. Returns the server (keep it alive) and the client.
async fn stuck_on_a_hung_server() -> (DevServer, Client) {
    let server = DevServer::start(DevServerConfig::default().with_fault(Fault::hang()))
        .await
        .expect("devserver starts");
    let client = Client::new(ClientOptions {
        dsn: Some(server.dsn().to_string()),
        // The default 30 s: no request gives up during the test.
        ..Default::default()
    })
    .unwrap();
    assert!(
        capture_batch(&client, 0..16)
            .await
            .iter()
            .all(Option::is_some)
    );
    server
        .wait_for_requests(16, WAIT)
        .await
        .expect("all 16 send slots reach the server");
    // Captured while 16 requests are held unanswered: they return at once, and queue.
    assert!(
        capture_batch(&client, 16..20)
            .await
            .iter()
            .all(Option::is_some)
    );
    assert_eq!(server.requests(), 16);
    (server, client)
}

#[tokio::test]
async fn close_gives_up_on_a_server_that_never_answers_by_its_deadline() {
    let (server, client) = stuck_on_a_hung_server().await;
    let (delivered, took) = timed(client.close(SHORT)).await;
    assert!(!delivered);
    assert!(took <= SHORT + SLACK, "close({SHORT:?}) took {took:?}");
    assert!(client.is_closed());
    // Later captures are refused at once, and counted (after the 4 the close abandoned).
    assert_eq!(capture_batch(&client, 20..21).await, [None]);
    assert_eq!(
        client
            .discards()
            .get(&DiscardReason::QueueOverflow, &DataCategory::Error),
        4 + 1
    );
    assert!(server.events().is_empty());
}

/// When `close` runs out of time, what it gives up on is counted before it returns: the
/// sends cut off as `network_error`, the captures still queued as `queue_overflow`.
#[tokio::test]
async fn close_past_its_deadline_counts_what_it_abandons() {
    let (_server, client) = stuck_on_a_hung_server().await;
    assert!(!client.close(SHORT).await);
    let count = |r| client.discards().get(&r, &DataCategory::Error);
    assert_eq!(
        (
            count(DiscardReason::NetworkError),
            count(DiscardReason::QueueOverflow)
        ),
        (16, 4),
        "every abandoned capture is counted"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_captures_arrive_or_are_accounted_for() {
    const N: u64 = 10_000;
    const DEADLINE: Duration = Duration::from_secs(60);
    let server = DevServer::start(DevServerConfig::default())
        .await
        .expect("devserver starts");
    let client = Client::new(ClientOptions {
        dsn: Some(server.dsn().to_string()),
        ..Default::default()
    })
    .unwrap();
    let (captured, capturing) = timed(
        async {
            (0..N)
                .filter(|i| capture_message(&format!("burst {i}"), Level::Error).is_some())
                .count() as u64
        }
        .bind_client(&client),
    )
    .await;
    let (delivered, flushing) = timed(client.flush(DEADLINE)).await;
    eprintln!("{captured} of {N} captured in {capturing:?}; flush took {flushing:?}");
    assert!(delivered, "flush gave up after {flushing:?}");
    assert!(flushing <= DEADLINE + SLACK, "flush took {flushing:?}");
    // The whole burst was captured before the sender could deliver it.
    assert!(
        capturing < flushing,
        "capturing ({capturing:?}) took longer than delivering the rest ({flushing:?})"
    );

    let events = server.item_count("event");
    let overflow = server.client_report_total(&DiscardReason::QueueOverflow, &DataCategory::Error);
    assert_eq!(
        captured + overflow,
        N,
        "a refused capture is a queue overflow"
    );
    assert_eq!(
        events + overflow,
        N,
        "{events} delivered, {overflow} reported"
    );
    assert_eq!(
        server.client_report_totals().values().sum::<u64>(),
        overflow,
        "no other loss"
    );
    let (closed, took) = timed(client.close(WAIT)).await;
    assert!(closed);
    assert!(took <= WAIT + SLACK, "close took {took:?}");
}
