//! The background sender: a dedicated thread with its own small tokio runtime.
//!
//! Captures reach it over a bounded channel (the caller only ever `try_send`s); flush and close
//! requests travel on a channel of their own, so a full data queue never delays them. Event
//! assembly (scope application, processors, hooks, scrubbing), serialization and sending all
//! happen here, never on the caller.
//!
//! Running on its own thread means it keeps working from sync code, from a panic hook, under a
//! `current_thread` runtime whose only thread is blocked in a flush, and while the
//! application's runtime shuts down.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crumbtrail_protocol::{DataCategory, DiscardReason, Envelope, RateLimits};
use tokio::sync::{Semaphore, mpsc, oneshot};

use crate::assemble::assemble;
use crate::capture::PendingCapture;
use crate::client::ClientCtx;
use crate::performance::{PendingTransaction, assemble_transaction};
use crate::transport::{SendOutcome, Transport};

/// How many envelopes may be in flight at once, so one slow request does not hold up the rest.
const MAX_IN_FLIGHT: usize = 16;

/// One unit of work for the sender.
pub(crate) enum Work {
    /// A captured event to assemble and send.
    Capture(Box<PendingCapture>),
    /// A finished transaction to assemble and send.
    Transaction(Box<PendingTransaction>),
    /// A finished envelope to send as is.
    Envelope(Box<Envelope>),
}

/// Where the answer to a flush goes.
pub(crate) enum Reply {
    Async(oneshot::Sender<bool>),
    Blocking(std::sync::mpsc::Sender<bool>),
}

impl Reply {
    fn send(self, delivered: bool) {
        match self {
            Reply::Async(tx) => drop(tx.send(delivered)),
            Reply::Blocking(tx) => drop(tx.send(delivered)),
        }
    }
}

/// A request on the control channel.
pub(crate) enum Control {
    /// Answer once everything queued before this request was handled, or at the deadline.
    Flush { deadline: Instant, reply: Reply },
    /// Like flush, then stop.
    Close { deadline: Instant, reply: Reply },
}

/// The caller's side of the sender.
pub(crate) struct SenderHandle {
    pub(crate) data: mpsc::Sender<Work>,
    pub(crate) control: mpsc::UnboundedSender<Control>,
    /// Estimated bytes of the captures waiting in the queue (the byte bound).
    pub(crate) queued_bytes: Arc<AtomicUsize>,
}

impl Work {
    /// A rough estimate of the memory a queued item holds (its scope snapshot is shared, so
    /// it is not counted).
    pub(crate) fn estimated_size(&self) -> usize {
        match self {
            Work::Capture(p) => {
                let e = &p.event;
                std::mem::size_of::<PendingCapture>()
                    + e.message.as_ref().map_or(0, String::len)
                    + e.exception.as_ref().map_or(0, |x| {
                        x.values
                            .iter()
                            .map(|v| {
                                128 + v.value.as_ref().map_or(0, String::len)
                                    + v.ty.as_ref().map_or(0, String::len)
                            })
                            .sum()
                    })
            }
            Work::Transaction(t) => {
                std::mem::size_of::<PendingTransaction>() + t.transaction.spans.len() * 256
            }
            Work::Envelope(e) => e.items.iter().map(|i| 64 + i.payload.len()).sum(),
        }
    }

    /// Whether it is an error event, which goes before everything else.
    pub(crate) fn is_error(&self) -> bool {
        matches!(self, Work::Capture(_))
    }
}

/// Starts the sender thread. If the thread cannot start, the returned handle's channels are
/// closed and every capture is counted as lost.
pub(crate) fn start(ctx: Arc<ClientCtx>, queue_size: usize) -> SenderHandle {
    let queued_bytes = Arc::new(AtomicUsize::new(0));
    let queued = Arc::clone(&queued_bytes);
    let (data_tx, data_rx) = mpsc::channel(queue_size.max(1));
    let (control_tx, control_rx) = mpsc::unbounded_channel();
    let spawned = std::thread::Builder::new()
        .name("crumbtrail-sender".into())
        .spawn(move || {
            let rt = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => {
                    ctx.debug(
                        "sender_runtime",
                        format_args!("could not start the sender runtime: {e}"),
                    );
                    return;
                }
            };
            rt.block_on(run(ctx, data_rx, control_rx, queued));
        });
    if spawned.is_err() {
        // The receivers were moved into the closure and dropped with it: sends now fail.
    }
    SenderHandle {
        data: data_tx,
        control: control_tx,
        queued_bytes,
    }
}

/// Which jobs are finished: everything up to `through`, plus some later ones.
#[derive(Default)]
struct Progress {
    received: u64,
    through: u64,
    ahead: BTreeSet<u64>,
}

impl Progress {
    fn next_seq(&mut self) -> u64 {
        self.received += 1;
        self.received
    }

    fn complete(&mut self, seq: u64) {
        self.ahead.insert(seq);
        while self.ahead.remove(&(self.through + 1)) {
            self.through += 1;
        }
    }
}

struct Waiter {
    target: u64,
    deadline: Instant,
    reply: Reply,
    /// Whether the client report for this request was already sent (or found empty).
    reported: bool,
}

async fn run(
    ctx: Arc<ClientCtx>,
    mut data_rx: mpsc::Receiver<Work>,
    mut control_rx: mpsc::UnboundedReceiver<Control>,
    queued_bytes: Arc<AtomicUsize>,
) {
    let transport = (ctx.transport)();
    let permits = Arc::new(Semaphore::new(MAX_IN_FLIGHT));
    let (done_tx, mut done_rx) = mpsc::unbounded_channel::<u64>();
    let mut progress = Progress::default();
    let mut waiters: Vec<Waiter> = Vec::new();
    let mut data_open = true;
    let mut control_open = true;
    let mut closing = false;

    let limits = Arc::new(Limits::default());
    let reports = Arc::new(Reports::new());
    let interval = ctx
        .options
        .client_report_interval
        .max(Duration::from_millis(10));
    let mut next_report = Instant::now() + interval;
    let health_interval = ctx
        .options
        .backpressure_check_interval
        .max(Duration::from_millis(10));
    let mut next_health = Instant::now() + health_interval;
    // `permit` is `None` for client reports: they never wait for a free slot, so the control
    // loop cannot stall behind sends that hang (and flush deadlines stay honoured).
    let spawn_job = |work: Work, seq: u64, permit: Option<tokio::sync::OwnedSemaphorePermit>| {
        let ctx = Arc::clone(&ctx);
        let transport = Arc::clone(&transport);
        let limits = Arc::clone(&limits);
        let reports = Arc::clone(&reports);
        let done_tx = done_tx.clone();
        tokio::spawn(async move {
            let envelope = match work {
                Work::Capture(pending) => assemble(&ctx, *pending),
                Work::Transaction(pending) => assemble_transaction(&ctx, *pending),
                Work::Envelope(env) => Some(*env),
            };
            // Pending losses ride along on an envelope going out anyway, at most every 30 s.
            let envelope = envelope.map(|mut e| {
                if reports.due(PIGGYBACK_INTERVAL) && reports_in(&e.items).is_empty() {
                    if let Some(item) = reports.take(&ctx) {
                        e.items.push(item);
                    }
                }
                e
            });
            // Spotlight gets its copy before rate limiting, on a task of its own.
            if let (Some(e), Some(mirror)) = (&envelope, &ctx.mirror) {
                if mirror.ready() {
                    let copy = e.clone();
                    let ctx = Arc::clone(&ctx);
                    tokio::spawn(async move {
                        if let Some(Err(err)) = match &ctx.mirror {
                            Some(m) => Some(m.send(&copy).await),
                            None => None,
                        } {
                            ctx.debug(
                                "spotlight",
                                format_args!(
                                    "Spotlight did not take an envelope ({err}); backing off"
                                ),
                            );
                        }
                    });
                }
            }
            if let Some(envelope) = envelope.and_then(|e| limits.admit(e, &ctx)) {
                send(&ctx, &*transport, &limits, envelope).await;
            }
            drop(permit);
            let _ = done_tx.send(seq);
        });
    };

    loop {
        // Waiters whose work is done get the pending client report sent first.
        if waiters
            .iter()
            .any(|w| !w.reported && progress.through >= w.target)
        {
            let report_seq = match reports.take(&ctx) {
                Some(item) => {
                    let seq = progress.next_seq();
                    spawn_job(
                        Work::Envelope(Box::new(Envelope::new().with_item(item))),
                        seq,
                        permits.clone().try_acquire_owned().ok(),
                    );
                    Some(seq)
                }
                None => None,
            };
            for w in waiters
                .iter_mut()
                .filter(|w| !w.reported && progress.through >= w.target)
            {
                w.reported = true;
                if let Some(seq) = report_seq {
                    w.target = seq;
                }
            }
        }
        resolve(&mut waiters, &progress, Instant::now());
        if closing && waiters.is_empty() {
            break;
        }
        if !data_open && !control_open && waiters.is_empty() {
            // The client is gone: finish what is in flight, within the shutdown timeout.
            let deadline = Instant::now() + ctx.options.shutdown_timeout;
            while progress.through < progress.received {
                match tokio::time::timeout_at(deadline.into(), done_rx.recv()).await {
                    Ok(Some(seq)) => progress.complete(seq),
                    _ => break,
                }
            }
            break;
        }
        let next_deadline = waiters.iter().map(|w| w.deadline).min();
        let can_take = data_open && permits.available_permits() > 0;
        tokio::select! {
            biased;
            ctl = control_rx.recv(), if control_open => match ctl {
                None => control_open = false,
                Some(ctl) => {
                    let (deadline, reply, close) = match ctl {
                        Control::Flush { deadline, reply } => (deadline, reply, false),
                        Control::Close { deadline, reply } => (deadline, reply, true),
                    };
                    // Everything queued before this request is either received or still in
                    // the channel. Once that is done, the losses it revealed go out in a
                    // client report, and the request waits for that too.
                    let target = progress.received + data_rx.len() as u64;
                    closing |= close;
                    waiters.push(Waiter { target, deadline, reply, reported: false });
                }
            },
            Some(seq) = done_rx.recv() => progress.complete(seq),
            _ = sleep_until(next_deadline), if next_deadline.is_some() => {}
            // A standalone client report when losses are pending, every `client_report_interval`.
            _ = sleep_until(Some(next_report)), if ctx.options.send_client_reports => {
                next_report = Instant::now() + interval;
                if let Some(item) = reports.take(&ctx) {
                    let seq = progress.next_seq();
                    spawn_job(
                        Work::Envelope(Box::new(Envelope::new().with_item(item))),
                        seq,
                        permits.clone().try_acquire_owned().ok(),
                    );
                }
            }
            // Backpressure: downsample transactions while the queue overflows or a rate limit
            // holds.
            _ = sleep_until(Some(next_health)), if ctx.options.enable_backpressure_handling => {
                next_health = Instant::now() + health_interval;
                let limited = limits.lock().is_any_limited(Instant::now());
                let factor = ctx.health.check(limited);
                if factor > 0 {
                    ctx.debug(
                        "backpressure",
                        format_args!(
                            "backpressure: transactions sampled at 1/{} of their rate",
                            1u32 << factor
                        ),
                    );
                }
            }
            work = data_rx.recv(), if can_take => match work {
                None => data_open = false,
                Some(work) => {
                    queued_bytes.fetch_sub(work.estimated_size(), Ordering::Relaxed);
                    let seq = progress.next_seq();
                    // A permit is free (checked above), so this does not wait.
                    if let Ok(p) = permits.clone().acquire_owned().await {
                        spawn_job(work, seq, Some(p));
                    }
                }
            },
        }
    }
}

/// How long pending losses wait before riding along on an outgoing envelope (PROTOCOL.md §7).
const PIGGYBACK_INTERVAL: Duration = Duration::from_secs(30);

/// When the last client report went out, shared by the sender's jobs.
struct Reports(std::sync::Mutex<Instant>);

impl Reports {
    fn new() -> Self {
        Reports(std::sync::Mutex::new(Instant::now()))
    }

    /// Whether `min` has passed since the last report.
    fn due(&self, min: Duration) -> bool {
        self.0
            .lock()
            .map(|last| last.elapsed() >= min)
            .unwrap_or(false)
    }

    /// The pending losses as a `client_report` item (`None` when there are none or reports
    /// are off), and the time of this report noted.
    fn take(&self, ctx: &ClientCtx) -> Option<crumbtrail_protocol::Item> {
        if !ctx.options.send_client_reports {
            return None;
        }
        let item = ctx.discards.take_report()?.to_item().ok()?;
        if let Ok(mut last) = self.0.lock() {
            *last = Instant::now();
        }
        Some(item)
    }
}

/// The rate limits the server announced, shared by the sender's jobs (PROTOCOL.md §6).
#[derive(Default)]
struct Limits(std::sync::Mutex<RateLimits>);

impl Limits {
    fn lock(&self) -> std::sync::MutexGuard<'_, RateLimits> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Drops the items a rate limit covers (counted as `ratelimit_backoff`); `None` when
    /// nothing is left to send.
    fn admit(&self, mut envelope: Envelope, ctx: &ClientCtx) -> Option<Envelope> {
        let items = std::mem::take(&mut envelope.items);
        let reports = reports_in(&items);
        let (kept, dropped) = self.lock().filter_items(items, Instant::now());
        for (category, quantity) in dropped {
            ctx.discards
                .record(DiscardReason::RatelimitBackoff, category, quantity);
        }
        if !reports.is_empty() && reports_in(&kept).is_empty() {
            restore(ctx, reports);
        }
        if kept.is_empty() {
            ctx.debug(
                "ratelimit_backoff",
                format_args!("rate limited: an envelope was dropped before sending"),
            );
            return None;
        }
        envelope.items = kept;
        Some(envelope)
    }
}

/// Sends one envelope and accounts for the answer (PROTOCOL.md §11).
async fn send(ctx: &ClientCtx, transport: &dyn Transport, limits: &Limits, envelope: Envelope) {
    let losses: Vec<(DataCategory, u64)> = envelope
        .items
        .iter()
        .flat_map(|i| i.discard_quantities())
        .collect();
    // A client report that does not get through puts its counts back for the next one.
    let reports = reports_in(&envelope.items);
    let lost = |reason: DiscardReason| {
        for (category, quantity) in &losses {
            ctx.discards
                .record(reason.clone(), category.clone(), *quantity);
        }
    };
    match transport.send(envelope).await {
        SendOutcome::Response {
            status,
            rate_limits,
            retry_after,
        } => {
            limits.lock().update_from_response(
                Instant::now(),
                status,
                rate_limits.as_deref(),
                retry_after.as_deref(),
            );
            match status {
                200..=299 => {}
                429 => {
                    ctx.debug(
                        "http_429",
                        format_args!("rate limited by the server (HTTP 429)"),
                    );
                    restore(ctx, reports);
                }
                _ => {
                    ctx.debug(
                        "send_error",
                        format_args!("the server rejected an envelope: HTTP {status}"),
                    );
                    lost(DiscardReason::SendError);
                    restore(ctx, reports);
                }
            }
        }
        SendOutcome::NetworkError(e) => {
            ctx.debug(
                "network_error",
                format_args!("could not send an envelope: {e}"),
            );
            lost(DiscardReason::NetworkError);
            restore(ctx, reports);
        }
    }
}

/// The client reports among `items`.
fn reports_in(items: &[crumbtrail_protocol::Item]) -> Vec<crumbtrail_protocol::ClientReport> {
    items
        .iter()
        .filter(|i| i.ty() == &crumbtrail_protocol::ItemType::ClientReport)
        .filter_map(|i| i.decode_json().ok())
        .collect()
}

/// Puts the counts of undelivered client reports back, so the next report carries them.
fn restore(ctx: &ClientCtx, reports: Vec<crumbtrail_protocol::ClientReport>) {
    for report in reports {
        for d in report.discarded_events {
            ctx.discards.record(d.reason, d.category, d.quantity);
        }
    }
}

/// Answers every waiter whose work is done or whose deadline has passed.
fn resolve(waiters: &mut Vec<Waiter>, progress: &Progress, now: Instant) {
    let mut i = 0;
    while i < waiters.len() {
        let w = &waiters[i];
        if (w.reported && progress.through >= w.target) || now >= w.deadline {
            let w = waiters.swap_remove(i);
            w.reply.send(progress.through >= w.target);
        } else {
            i += 1;
        }
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d.into()).await,
        None => std::future::pending().await,
    }
}

/// Converts a timeout into a deadline, saturating on overflow.
pub(crate) fn deadline_after(timeout: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(timeout)
        .unwrap_or_else(|| now + Duration::from_secs(86_400 * 365))
}
