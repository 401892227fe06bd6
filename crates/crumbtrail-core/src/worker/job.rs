//! One unit of the sender's work, on a task of its own: assemble, mirror to Spotlight, filter
//! by rate limits, send, and account for the answer.
//!
//! A send that is cut off (the sender stopping at a `close` deadline aborts its tasks) counts
//! what it carried as `network_error`, and puts back the counts of a client report it carried:
//! nothing in flight is lost silently.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crumbtrail_protocol::{ClientReport, DataCategory, DiscardReason, Envelope, RateLimits};
use tokio::sync::{OwnedSemaphorePermit, mpsc};
use tokio::task::JoinSet;

use crate::assemble::assemble;
use crate::client::ClientCtx;
use crate::delivery::{Delivery, Receipt};
use crate::performance::assemble_transaction;
use crate::transport::{SendOutcome, Transport};

use super::Work;

/// The sender's tasks and what they share.
pub(super) struct Jobs {
    ctx: Arc<ClientCtx>,
    transport: Arc<dyn Transport>,
    pub(super) limits: Arc<Limits>,
    pub(super) reports: Arc<Reports>,
    done_tx: mpsc::UnboundedSender<u64>,
    pub(super) set: JoinSet<()>,
}

impl Jobs {
    pub(super) fn new(ctx: Arc<ClientCtx>, done_tx: mpsc::UnboundedSender<u64>) -> Self {
        Jobs {
            transport: (ctx.transport)(),
            ctx,
            limits: Arc::new(Limits::default()),
            reports: Arc::new(Reports::new()),
            done_tx,
            set: JoinSet::new(),
        }
    }

    /// Starts `work` as job `seq`. `permit` is `None` for client reports: they never wait for
    /// a free slot, so the control loop cannot stall behind sends that hang (and flush
    /// deadlines stay honoured).
    pub(super) fn spawn(&mut self, work: Work, seq: u64, permit: Option<OwnedSemaphorePermit>) {
        let ctx = Arc::clone(&self.ctx);
        let transport = Arc::clone(&self.transport);
        let limits = Arc::clone(&self.limits);
        let reports = Arc::clone(&self.reports);
        let done_tx = self.done_tx.clone();
        let mut work = work;
        let receipt = match &mut work {
            Work::Capture(pending) => pending.receipt.take(),
            _ => None,
        };
        // Made before the task, so a task aborted before it first runs still counts its work.
        let mut in_flight = InFlight::new(Arc::clone(&ctx), work.losses(), receipt);
        self.set.spawn(async move {
            let assembled = match work {
                Work::Capture(pending) => assemble(&ctx, *pending),
                Work::Transaction(pending) => assemble_transaction(&ctx, *pending),
                Work::Envelope(env) => Ok(*env),
            };
            let outcome = match assembled {
                // Dropped by a processor or hook: counted there.
                Err(reason) => Delivery::Dropped(reason),
                Ok(mut envelope) => {
                    // Pending losses ride along on an envelope going out anyway, at most
                    // every 30 s.
                    if reports.due(PIGGYBACK_INTERVAL) && reports_in(&envelope.items).is_empty() {
                        if let Some(item) = reports.take(&ctx) {
                            envelope.items.push(item);
                        }
                    }
                    mirror(&ctx, &envelope);
                    let had_event = has_event(&envelope);
                    match limits.admit(envelope, &ctx) {
                        Some(envelope) if !had_event || has_event(&envelope) => {
                            in_flight.carry(
                                envelope
                                    .items
                                    .iter()
                                    .flat_map(|i| i.discard_quantities())
                                    .collect(),
                                reports_in(&envelope.items),
                            );
                            match send(&ctx, &*transport, &limits, envelope).await {
                                None => Delivery::Delivered,
                                Some(reason) => Delivery::Dropped(reason),
                            }
                        }
                        // The event (or everything) was rate limited: counted by `admit`;
                        // what is left of the envelope goes anyway.
                        Some(rest) => {
                            in_flight.carry(Vec::new(), reports_in(&rest.items));
                            send(&ctx, &*transport, &limits, rest).await;
                            Delivery::Dropped(DiscardReason::RatelimitBackoff)
                        }
                        None => Delivery::Dropped(DiscardReason::RatelimitBackoff),
                    }
                }
            };
            in_flight.finish(outcome);
            drop(permit);
            let _ = done_tx.send(seq);
        });
    }

    /// Reaps a finished task (so the set does not grow); pending forever when there is none.
    pub(super) async fn reap(&mut self) {
        match self.set.join_next().await {
            Some(_) => {}
            None => std::future::pending().await,
        }
    }

    /// Aborts every task and waits until they are gone, so what they carried is counted.
    pub(super) async fn abort_all(&mut self) {
        self.set.shutdown().await;
    }
}

/// Whether an envelope carries an error event.
fn has_event(envelope: &Envelope) -> bool {
    envelope
        .items
        .iter()
        .any(|i| i.ty() == &crumbtrail_protocol::ItemType::Event)
}

/// Spotlight gets its copy before rate limiting, on a task of its own.
fn mirror(ctx: &Arc<ClientCtx>, envelope: &Envelope) {
    let Some(mirror) = &ctx.mirror else {
        return;
    };
    if !mirror.ready() {
        return;
    }
    let copy = envelope.clone();
    let ctx = Arc::clone(ctx);
    tokio::spawn(async move {
        if let Some(Err(err)) = match &ctx.mirror {
            Some(m) => Some(m.send(&copy).await),
            None => None,
        } {
            ctx.debug(
                "spotlight",
                format_args!("Spotlight did not take an envelope ({err}); backing off"),
            );
        }
    });
}

/// What a job would lose if it were cut off; counted when dropped still armed (and a tracked
/// capture told it was cut off).
struct InFlight {
    ctx: Arc<ClientCtx>,
    losses: Vec<(DataCategory, u64)>,
    reports: Vec<ClientReport>,
    receipt: Option<Receipt>,
    armed: bool,
}

impl InFlight {
    fn new(
        ctx: Arc<ClientCtx>,
        losses: Vec<(DataCategory, u64)>,
        receipt: Option<Receipt>,
    ) -> Self {
        InFlight {
            ctx,
            losses,
            reports: Vec::new(),
            receipt,
            armed: true,
        }
    }

    /// What the job carries once its envelope is final.
    fn carry(&mut self, losses: Vec<(DataCategory, u64)>, reports: Vec<ClientReport>) {
        self.losses = losses;
        self.reports = reports;
    }

    /// The job ran to its end (its losses were counted where they happened).
    fn finish(mut self, outcome: Delivery) {
        self.armed = false;
        if let Some(receipt) = self.receipt.take() {
            receipt.settle(outcome);
        }
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        for (category, quantity) in self.losses.drain(..) {
            self.ctx
                .discards
                .record(DiscardReason::NetworkError, category, quantity);
        }
        restore(&self.ctx, std::mem::take(&mut self.reports));
        if let Some(receipt) = self.receipt.take() {
            receipt.settle(Delivery::Dropped(DiscardReason::NetworkError));
        }
    }
}

/// How long pending losses wait before riding along on an outgoing envelope (PROTOCOL.md §7).
const PIGGYBACK_INTERVAL: Duration = Duration::from_secs(30);

/// When the last client report went out, shared by the sender's jobs.
pub(super) struct Reports(std::sync::Mutex<Instant>);

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
    pub(super) fn take(&self, ctx: &ClientCtx) -> Option<crumbtrail_protocol::Item> {
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
pub(super) struct Limits(std::sync::Mutex<RateLimits>);

impl Limits {
    pub(super) fn lock(&self) -> std::sync::MutexGuard<'_, RateLimits> {
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

/// Sends one envelope and accounts for the answer (PROTOCOL.md §11). Returns why it was lost,
/// or `None` when the server took it.
async fn send(
    ctx: &ClientCtx,
    transport: &dyn Transport,
    limits: &Limits,
    envelope: Envelope,
) -> Option<DiscardReason> {
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
                200..=299 => None,
                429 => {
                    // The server counts what it refused with a 429 itself.
                    ctx.debug(
                        "http_429",
                        format_args!("rate limited by the server (HTTP 429)"),
                    );
                    restore(ctx, reports);
                    Some(DiscardReason::RatelimitBackoff)
                }
                _ => {
                    ctx.debug(
                        "send_error",
                        format_args!("the server rejected an envelope: HTTP {status}"),
                    );
                    lost(DiscardReason::SendError);
                    restore(ctx, reports);
                    Some(DiscardReason::SendError)
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
            Some(DiscardReason::NetworkError)
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
