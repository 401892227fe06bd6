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

use crumbtrail_protocol::{DataCategory, DiscardReason, Envelope, Item};
use tokio::sync::{Semaphore, mpsc, oneshot};

use crate::capture::PendingCapture;
use crate::client::ClientCtx;
use crate::delivery::Delivery;
use crate::performance::PendingTransaction;

mod job;

use job::Jobs;

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

    /// The categories and quantities it holds: what is counted when it is lost.
    pub(crate) fn losses(&self) -> Vec<(DataCategory, u64)> {
        match self {
            Work::Capture(_) => vec![(DataCategory::Error, 1)],
            Work::Transaction(t) => vec![
                (DataCategory::Transaction, 1),
                (DataCategory::Span, t.transaction.spans.len() as u64 + 1),
            ],
            Work::Envelope(e) => e
                .items
                .iter()
                .flat_map(|i| i.discard_quantities())
                .collect(),
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
            // The sender's threads (this one and its runtime's blocking pool, which resolves
            // DNS) record nothing: what user hooks and the HTTP stack log here stays here.
            crate::sdk_work::mark_sdk_thread();
            let rt = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .on_thread_start(crate::sdk_work::mark_sdk_thread)
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
    /// A close: past its deadline, the sender gives up on what is left.
    close: bool,
}

async fn run(
    ctx: Arc<ClientCtx>,
    mut data_rx: mpsc::Receiver<Work>,
    mut control_rx: mpsc::UnboundedReceiver<Control>,
    queued_bytes: Arc<AtomicUsize>,
) {
    let permits = Arc::new(Semaphore::new(MAX_IN_FLIGHT));
    let (done_tx, mut done_rx) = mpsc::unbounded_channel::<u64>();
    let mut progress = Progress::default();
    let mut waiters: Vec<Waiter> = Vec::new();
    let mut data_open = true;
    let mut control_open = true;
    let mut closing = false;

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
    let mut next_sessions = Instant::now() + crate::session::FLUSH_INTERVAL;
    let mut jobs = Jobs::new(Arc::clone(&ctx), done_tx);
    loop {
        // Waiters whose work is done get the pending client report and session counts sent
        // first.
        if waiters
            .iter()
            .any(|w| !w.reported && progress.through >= w.target)
        {
            let items: Vec<Item> = jobs
                .reports
                .take(&ctx)
                .into_iter()
                .chain(ctx.sessions.take())
                .collect();
            let report_seq = (!items.is_empty()).then(|| {
                let envelope = items.into_iter().fold(Envelope::new(), Envelope::with_item);
                send_own(&mut jobs, &mut progress, &permits, envelope)
            });
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
        let now = Instant::now();
        if waiters
            .iter()
            .any(|w| w.close && now >= w.deadline && progress.through < w.target)
        {
            // The close ran out of time: cut off what is in flight and drop what is queued,
            // counting all of it, before answering (so the caller sees the counts).
            jobs.abort_all().await;
            abandon_queue(&ctx, &mut data_rx, &queued_bytes);
        }
        resolve(&mut waiters, &progress, now);
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
                    waiters.push(Waiter { target, deadline, reply, reported: false, close });
                }
            },
            Some(seq) = done_rx.recv() => progress.complete(seq),
            () = jobs.reap() => {}
            _ = sleep_until(next_deadline), if next_deadline.is_some() => {}
            // A standalone client report when losses are pending, every `client_report_interval`.
            _ = sleep_until(Some(next_report)), if ctx.options.send_client_reports => {
                next_report = Instant::now() + interval;
                if let Some(item) = jobs.reports.take(&ctx) {
                    send_own(&mut jobs, &mut progress, &permits, Envelope::new().with_item(item));
                }
            }
            // Request-mode session counts, every minute.
            _ = sleep_until(Some(next_sessions)), if ctx.sessions.enabled() => {
                next_sessions = Instant::now() + crate::session::FLUSH_INTERVAL;
                if let Some(item) = ctx.sessions.take() {
                    send_own(&mut jobs, &mut progress, &permits, Envelope::new().with_item(item));
                }
            }
            // Backpressure: downsample transactions while the queue overflows or a rate limit
            // holds.
            _ = sleep_until(Some(next_health)), if ctx.options.enable_backpressure_handling => {
                next_health = Instant::now() + health_interval;
                let limited = jobs.limits.lock().is_any_limited(Instant::now());
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
                        jobs.spawn(work, seq, Some(p));
                    }
                }
            },
        }
    }
}

/// Sends an envelope of the sender's own (a client report, session counts); its sequence
/// number, which flush and close waiters can wait for.
fn send_own(
    jobs: &mut Jobs,
    progress: &mut Progress,
    permits: &Arc<Semaphore>,
    envelope: Envelope,
) -> u64 {
    let seq = progress.next_seq();
    jobs.spawn(
        Work::Envelope(Box::new(envelope)),
        seq,
        Arc::clone(permits).try_acquire_owned().ok(),
    );
    seq
}

/// Drops everything still queued, counting it as `queue_overflow` (it never got a turn).
fn abandon_queue(ctx: &ClientCtx, data_rx: &mut mpsc::Receiver<Work>, queued_bytes: &AtomicUsize) {
    data_rx.close();
    while let Ok(mut work) = data_rx.try_recv() {
        queued_bytes.fetch_sub(work.estimated_size(), Ordering::Relaxed);
        if let Work::Capture(pending) = &mut work {
            if let Some(receipt) = pending.receipt.take() {
                receipt.settle(Delivery::Dropped(DiscardReason::QueueOverflow));
            }
        }
        for (category, quantity) in work.losses() {
            ctx.discards
                .record(DiscardReason::QueueOverflow, category, quantity);
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
