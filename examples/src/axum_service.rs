//! The axum example service, as a library so that the example binary
//! (`examples/examples/axum_service.rs`) and the test (`tests/tests/axum_example.rs`) run the
//! same code: [`run`] takes a [`Config`] and returns a [`Summary`] of what happened.
//!
//! Two services on 127.0.0.1, each with crumbtrail's tower layer (a scope per request):
//!
//! - **payments** (`GET /charge/{id}`): declines the orders whose id ends in 3 with
//!   `402 Payment Required`;
//! - **orders** (`GET /orders/{id}`, `GET /healthz`): logs, spawns a background task (tracked by
//!   a [`TaskTracker`], forked from the request's scope with [`crumbtrail::spawn`]), charges the
//!   order through the reqwest middleware (an `http` breadcrumb, and the trace passed on) and,
//!   when payments declines, logs the chained error at ERROR (an event with the request's trail)
//!   and answers `502 Bad Gateway` (which the tower layer captures too).
//!
//! Log lines name their service as their target: the tracing layer ignores every target that
//! starts with `crumbtrail` (its own diagnostics), and this module's default target would be
//! `crumbtrail_examples::axum_service`.
//!
//! Shutdown is graceful: on Ctrl-C, SIGTERM, or after the self-test requests, a
//! [`CancellationToken`] stops both servers (in-flight requests finish), the tracked background
//! tasks are awaited, then `guard.close(timeout).await` delivers every event before returning.

use std::error::Error;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use crumbtrail::ClientOptions;
use crumbtrail_devserver::{DevServer, DevServerConfig, render_event};
use crumbtrail_protocol::{Event, ItemType, SessionAggregates, Transaction};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing_subscriber::layer::SubscriberExt;

/// Any error [`run`] returns.
pub type BoxError = Box<dyn Error + Send + Sync>;

/// The requests the self-test sends to the orders service, in order, with the status each
/// must get: a health check, two orders that are paid, one that payments declines (ids ending
/// in 3), and an id that is not a number.
pub const SELFTEST_REQUESTS: [(&str, u16); 5] = [
    ("/healthz", 200),
    ("/orders/1", 200),
    ("/orders/2", 200),
    ("/orders/13", 502),
    ("/orders/not-a-number", 400),
];

/// How long a background task (sending the receipt) takes; shutdown waits for it.
const RECEIPT_DELAY: Duration = Duration::from_millis(200);

/// What to run.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where to send events; `None` starts the crumbtrail devserver in-process and sends there.
    pub dsn: Option<String>,
    /// The port of the orders service on 127.0.0.1 (`0`: any free port).
    pub port: u16,
    /// Send [`SELFTEST_REQUESTS`] to the service, then shut down (as after a SIGTERM).
    pub selftest: bool,
    /// The bound of each shutdown step: draining the servers, waiting for background tasks,
    /// delivering the events.
    pub shutdown_timeout: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            dsn: None,
            port: 0,
            selftest: false,
            shutdown_timeout: Duration::from_secs(5),
        }
    }
}

impl Config {
    /// The configuration from the environment: `SENTRY_DSN` (unset or empty: the devserver),
    /// `PORT` (default `0`) and `CRUMBTRAIL_EXAMPLE_SELFTEST=1`.
    pub fn from_env() -> Result<Config, BoxError> {
        let var = |name| std::env::var(name).ok().filter(|v: &String| !v.is_empty());
        let port = match var("PORT") {
            Some(p) => p.parse().map_err(|e| format!("PORT={p:?}: {e}"))?,
            None => 0,
        };
        Ok(Config {
            dsn: var("SENTRY_DSN"),
            port,
            selftest: var("CRUMBTRAIL_EXAMPLE_SELFTEST").as_deref() == Some("1"),
            ..Config::default()
        })
    }
}

/// What happened during [`run`].
#[derive(Debug, Clone)]
pub struct Summary {
    /// The orders service, e.g. `http://127.0.0.1:8080`.
    pub url: String,
    /// The payments service.
    pub payments_url: String,
    /// What stopped the service: `"Ctrl-C"`, `"SIGTERM"` or `"self-test done"`.
    pub shutdown_reason: &'static str,
    /// The self-test requests and the status each got (empty without the self-test).
    pub responses: Vec<(String, u16)>,
    /// Background tasks that ran to completion.
    pub background_tasks_done: usize,
    /// Whether the servers and the background tasks finished within the timeout.
    pub drained: bool,
    /// Whether `close` delivered every event within the timeout.
    pub delivered: bool,
    /// The events the in-process devserver received, oldest first (empty with a `SENTRY_DSN`).
    pub events: Vec<Event>,
    /// Those events rendered as printed, one block each ([`render_event`]).
    pub report: String,
    /// The transactions the in-process devserver received: one per request of either service,
    /// the orders' with an `http.client` span per call to payments.
    pub transactions: Vec<Transaction>,
    /// The release-health session counts it received (one session per request).
    pub sessions: SessionCounts,
}

/// Release-health sessions, summed over every bucket received.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SessionCounts {
    /// Requests that ended without an error.
    pub exited: u64,
    /// Requests in which an error was captured.
    pub errored: u64,
    /// Requests that panicked.
    pub crashed: u64,
}

/// Why payments did not charge an order.
#[derive(Debug)]
pub enum PaymentError {
    /// Payments answered with an error status.
    Declined {
        /// The status it answered.
        status: StatusCode,
        /// The reason it gave.
        reason: String,
    },
    /// Payments could not be reached.
    Unreachable(reqwest_middleware::Error),
}

impl fmt::Display for PaymentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PaymentError::Declined { status, reason } => {
                write!(f, "payments answered {status}: {reason}")
            }
            PaymentError::Unreachable(_) => f.write_str("payments is unreachable"),
        }
    }
}

impl Error for PaymentError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            PaymentError::Declined { .. } => None,
            PaymentError::Unreachable(e) => Some(e),
        }
    }
}

/// An order that failed, caused by a [`PaymentError`].
#[derive(Debug)]
pub struct OrderError {
    order: u32,
    source: PaymentError,
}

impl fmt::Display for OrderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "order {} could not be paid", self.order)
    }
}

impl Error for OrderError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&self.source)
    }
}

/// The state of the orders service.
#[derive(Clone)]
struct Orders {
    http: reqwest_middleware::ClientWithMiddleware,
    payments: String,
    tasks: TaskTracker,
    background_done: Arc<AtomicUsize>,
}

/// `GET /orders/{id}`.
async fn order(State(app): State<Orders>, Path(id): Path<u32>) -> Result<String, StatusCode> {
    tracing::info!(target: "orders", order = id, "loading order {id}");

    // Sending the receipt runs in the background, in a fork of this request's scope (its
    // events would carry this request's trail); shutdown waits for it through the tracker.
    let done = Arc::clone(&app.background_done);
    crumbtrail::spawn(app.tasks.track_future(async move {
        tokio::time::sleep(RECEIPT_DELAY).await;
        tracing::info!(target: "orders", order = id, "order {id}: receipt sent");
        done.fetch_add(1, Ordering::Relaxed);
    }));

    match charge(&app, id).await {
        Ok(()) => {
            tracing::info!(target: "orders", order = id, "order {id} paid");
            Ok(format!("order {id}: paid\n"))
        }
        Err(source) => {
            let err = OrderError { order: id, source };
            // An event with the whole chain and this request's trail (tracing layer).
            tracing::error!(
                target: "orders",
                error = &err as &(dyn Error + 'static),
                order = id,
                "order {id} failed"
            );
            // A 5xx: the tower layer captures it as well.
            Err(StatusCode::BAD_GATEWAY)
        }
    }
}

/// Charges an order through the reqwest middleware: an `http` breadcrumb in the request's
/// trail, and `sentry-trace` / `baggage` on the call.
async fn charge(app: &Orders, id: u32) -> Result<(), PaymentError> {
    let url = format!("{}/charge/{id}", app.payments);
    let response = app
        .http
        .get(url)
        .send()
        .await
        .map_err(PaymentError::Unreachable)?;
    let status = response.status();
    if status.is_success() {
        return Ok(());
    }
    let reason = response.text().await.unwrap_or_default();
    Err(PaymentError::Declined { status, reason })
}

/// `GET /charge/{id}` of the payments service: declines the ids ending in 3.
async fn payments_charge(Path(id): Path<u32>, headers: HeaderMap) -> (StatusCode, &'static str) {
    let trace = headers
        .get("sentry-trace")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("none");
    let trace_id = trace.split('-').next().unwrap_or(trace);
    tracing::info!(target: "payments", "charging order {id} (trace {trace_id})");
    if id % 10 == 3 {
        (StatusCode::PAYMENT_REQUIRED, "card declined")
    } else {
        (StatusCode::OK, "charged")
    }
}

/// Serves `app` on `listener` until `shutdown` is cancelled, then finishes in-flight requests.
fn serve(
    listener: TcpListener,
    app: Router,
    shutdown: CancellationToken,
) -> tokio::task::JoinHandle<std::io::Result<()>> {
    tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(shutdown.cancelled_owned())
            .await
    })
}

/// Resolves on Ctrl-C or (on Unix) SIGTERM, with the name of the signal.
async fn shutdown_signal() -> &'static str {
    let ctrl_c = async {
        match tokio::signal::ctrl_c().await {
            Ok(()) => "Ctrl-C",
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(unix)]
    let terminate = async {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut sigterm) => {
                sigterm.recv().await;
                "SIGTERM"
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<&'static str>();
    tokio::select! {
        name = ctrl_c => name,
        name = terminate => name,
    }
}

/// Sends [`SELFTEST_REQUESTS`] to the orders service, one after the other.
async fn selftest(url: &str) -> Result<Vec<(String, u16)>, reqwest::Error> {
    let plain = reqwest::Client::new();
    let mut responses = Vec::new();
    for (path, _) in SELFTEST_REQUESTS {
        let status = plain.get(format!("{url}{path}")).send().await?.status();
        println!("self-test: GET {path} → {status}");
        responses.push((path.to_owned(), status.as_u16()));
    }
    Ok(responses)
}

/// Prints log lines at INFO and above to stdout (the workspace builds tracing-subscriber
/// without its `fmt` feature, so this is the few lines it takes by hand).
struct StdoutLog;

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for StdoutLog {
    fn on_event(
        &self,
        event: &tracing::Event<'_>,
        _ctx: tracing_subscriber::layer::Context<'_, S>,
    ) {
        /// Collects the message and the `error` field.
        #[derive(Default)]
        struct Line(String, String);
        impl tracing::field::Visit for Line {
            fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn fmt::Debug) {
                if field.name() == "message" {
                    self.0 = format!("{value:?}");
                }
            }
            fn record_error(
                &mut self,
                field: &tracing::field::Field,
                value: &(dyn Error + 'static),
            ) {
                if field.name() == "error" {
                    self.1 = format!(": {value}");
                }
            }
        }
        let level = *event.metadata().level();
        if level > tracing::Level::INFO {
            return;
        }
        let mut line = Line::default();
        event.record(&mut line);
        let target = event.metadata().target();
        println!("  [{level:>5} {target}] {}{}", line.0, line.1);
    }
}

/// Runs the example: starts the devserver (without a DSN), crumbtrail, the tracing
/// subscriber and both services; serves until Ctrl-C, SIGTERM or the end of the self-test;
/// then shuts down gracefully and prints what the devserver received.
///
/// It installs the process-wide tracing subscriber and crumbtrail client: call it once per
/// process.
pub async fn run(config: Config) -> Result<Summary, BoxError> {
    // Where to send: the given DSN, else a devserver started right here.
    let devserver = match &config.dsn {
        Some(dsn) => {
            println!("sending to {dsn}");
            None
        }
        None => {
            let server = DevServer::start(DevServerConfig::default()).await?;
            println!(
                "no SENTRY_DSN: started the crumbtrail devserver at {}",
                server.url()
            );
            Some(server)
        }
    };
    let dsn = config
        .dsn
        .clone()
        .or_else(|| devserver.as_ref().map(|s| s.dsn().to_string()));
    let guard = crumbtrail::init(ClientOptions {
        dsn,
        release: Some("axum-service@0.1.0".into()),
        environment: Some("development".into()),
        // Every request a transaction (a real service would sample a fraction).
        traces_sample_rate: Some(1.0),
        ..Default::default()
    })?;
    crumbtrail::configure_global_scope(|scope| scope.set_tag("service", "axum-service"));
    // Log lines: printed, and breadcrumbs (INFO and up) and events (ERROR and up).
    tracing::subscriber::set_global_default(
        tracing_subscriber::registry()
            .with(StdoutLog)
            .with(crumbtrail::tracing::layer().filtered()),
    )
    .map_err(|e| format!("a tracing subscriber is already installed: {e}"))?;

    let shutdown = CancellationToken::new();
    let tasks = TaskTracker::new();
    let background_done = Arc::new(AtomicUsize::new(0));

    // The payments service: its own scope per request too.
    let payments_listener = TcpListener::bind("127.0.0.1:0").await?;
    let payments_url = format!("http://{}", payments_listener.local_addr()?);
    let payments = Router::new()
        .route("/charge/{id}", get(payments_charge))
        .layer(crumbtrail::tower::CrumbtrailLayer::new());
    let payments_server = serve(payments_listener, payments, shutdown.clone());

    // The orders service.
    let http = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
        .with(crumbtrail::reqwest::CrumbtrailMiddleware::new())
        .build();
    let orders = Router::new()
        .route("/orders/{id}", get(order))
        .route("/healthz", get(|| async { "ok\n" }))
        .layer(crumbtrail::tower::CrumbtrailLayer::new())
        .with_state(Orders {
            http,
            payments: payments_url.clone(),
            tasks: tasks.clone(),
            background_done: Arc::clone(&background_done),
        });
    let listener = TcpListener::bind(("127.0.0.1", config.port)).await?;
    let url = format!("http://{}", listener.local_addr()?);
    let orders_server = serve(listener, orders, shutdown.clone());
    println!("payments: {payments_url}/charge/{{id}}");
    println!("orders:   {url}/orders/{{id}}   (ids ending in 3 are declined)");
    println!("health:   {url}/healthz");

    // Serve until a signal, or until the self-test is done.
    let mut responses = Vec::new();
    let shutdown_reason = if config.selftest {
        tokio::select! {
            name = shutdown_signal() => name,
            result = selftest(&url) => {
                responses = result?;
                "self-test done"
            }
        }
    } else {
        println!("Ctrl-C or SIGTERM stops it");
        shutdown_signal().await
    };
    println!("\n{shutdown_reason}: shutting down");

    // 1. Stop accepting; in-flight requests finish.
    shutdown.cancel();
    let servers = async {
        let (orders, payments) = tokio::join!(orders_server, payments_server);
        orders.is_ok_and(|r| r.is_ok()) && payments.is_ok_and(|r| r.is_ok())
    };
    let servers_stopped = tokio::time::timeout(config.shutdown_timeout, servers)
        .await
        .unwrap_or(false);
    // 2. No new background tasks; wait for the running ones.
    tasks.close();
    let tasks_done = tokio::time::timeout(config.shutdown_timeout, tasks.wait())
        .await
        .is_ok();
    let background_tasks_done = background_done.load(Ordering::Relaxed);
    println!(
        "servers stopped: {servers_stopped}; background tasks finished: {background_tasks_done}"
    );
    // 3. Deliver everything captured.
    let delivered = guard.close(config.shutdown_timeout).await;
    println!("close: everything delivered = {delivered}\n");

    let mut events = Vec::new();
    let mut report = String::new();
    let mut transactions = Vec::new();
    let mut sessions = SessionCounts::default();
    if let Some(server) = devserver {
        let mut received = server.events();
        received.sort_by_key(|r| r.event.timestamp);
        events = received.iter().map(|r| r.event.clone()).collect();
        for event in &events {
            report.push_str(&render_event(event));
            report.push('\n');
        }
        println!(
            "the devserver received {} events:\n\n{report}",
            events.len()
        );
        transactions = server.transactions().into_iter().map(|(_, t)| t).collect();
        transactions.sort_by_key(|t| t.start_timestamp);
        println!("and {} transactions:", transactions.len());
        for tx in &transactions {
            println!("{}", render_transaction(tx));
        }
        sessions = session_counts(&server);
        println!(
            "\nand release health: {} requests exited, {} errored, {} crashed\n",
            sessions.exited, sessions.errored, sessions.crashed
        );
        server.shutdown().await;
    }
    Ok(Summary {
        url,
        payments_url,
        shutdown_reason,
        responses,
        background_tasks_done,
        drained: servers_stopped && tasks_done,
        delivered,
        events,
        report,
        transactions,
        sessions,
    })
}

/// One line per transaction (name, status, duration), and one per child span under it.
fn render_transaction(tx: &Transaction) -> String {
    let status = |s: Option<&crumbtrail_protocol::SpanStatus>| {
        s.map_or_else(|| "-".to_owned(), |s| s.to_string())
    };
    let millis = (tx.timestamp - tx.start_timestamp).as_seconds_f64() * 1000.0;
    let trace = tx.trace_context();
    let mut out = format!(
        "  {:<22} {:<16} {:>7.1} ms  trace {}",
        tx.transaction.as_deref().unwrap_or("?"),
        status(trace.and_then(|t| t.status.as_ref())),
        millis,
        trace.map_or_else(String::new, |t| t.trace_id.to_string()),
    );
    for span in &tx.spans {
        out.push_str(&format!(
            "\n    └ {} {} ({})",
            span.op.as_deref().unwrap_or("?"),
            span.description.as_deref().unwrap_or(""),
            status(span.status.as_ref()),
        ));
    }
    out
}

/// The session counts the devserver received, summed over every `sessions` item.
fn session_counts(server: &DevServer) -> SessionCounts {
    let mut counts = SessionCounts::default();
    for received in server.envelopes() {
        for item in &received.envelope.items {
            if item.ty() != &ItemType::Sessions {
                continue;
            }
            if let Ok(aggregates) = item.decode_json::<SessionAggregates>() {
                for bucket in aggregates.aggregates {
                    counts.exited += bucket.exited;
                    counts.errored += bucket.errored;
                    counts.crashed += bucket.crashed;
                }
            }
        }
    }
    counts
}
