//! Per-capture delivery handles: what became of one event, for the callers that want to know
//! (a job runner that retries when its failure report did not get through, a CLI that waits
//! for its crash report). Captures made without one pay nothing for it.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use crumbtrail_protocol::{DiscardReason, Event, EventId};
use tokio::sync::oneshot;

use crate::hint::EventHint;

/// What became of a tracked capture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// The server accepted it (a 2xx answer).
    Delivered,
    /// It was dropped on the way, for this reason — the one counted in client reports
    /// (`before_send`, `event_processor`, `ratelimit_backoff`, `send_error`,
    /// `network_error`, `queue_overflow` when a close gave up on it, ...).
    Dropped(DiscardReason),
}

/// The outcome of one capture, to await. Made by [`capture_event_tracked`].
///
/// ```
/// use crumbtrail_core::{Delivery, Event, capture_event_tracked};
/// # async fn run() {
/// if let Some(handle) = capture_event_tracked(Event::new()) {
///     let id = handle.event_id();
///     match handle.await {
///         Delivery::Delivered => println!("{id} reached the server"),
///         Delivery::Dropped(reason) => eprintln!("{id} was dropped: {reason:?}"),
///     }
/// }
/// # }
/// ```
#[derive(Debug)]
#[must_use = "a delivery handle does nothing unless awaited; use capture_event if you do not need one"]
pub struct DeliveryHandle {
    event_id: EventId,
    rx: oneshot::Receiver<Delivery>,
}

impl DeliveryHandle {
    /// The captured event's id.
    pub fn event_id(&self) -> EventId {
        self.event_id
    }
}

impl Future for DeliveryHandle {
    type Output = Delivery;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Delivery> {
        Pin::new(&mut self.rx)
            .poll(cx)
            // The sender went away without an answer (its thread could not start).
            .map(|r| r.unwrap_or(Delivery::Dropped(DiscardReason::InternalSdkError)))
    }
}

/// The sender's side of a [`DeliveryHandle`].
#[derive(Debug)]
pub(crate) struct Receipt(oneshot::Sender<Delivery>);

impl Receipt {
    pub(crate) fn settle(self, outcome: Delivery) {
        let _ = self.0.send(outcome);
    }
}

/// [`capture_event`](crate::capture_event) with a handle to await its outcome: delivered, or
/// dropped and why. `None` when nothing will be sent at all (the SDK is disabled or closed,
/// the event was sampled out, or the queue is full — the same cases as `capture_event`).
pub fn capture_event_tracked(event: Event) -> Option<DeliveryHandle> {
    if !crate::hub::is_active() {
        return None;
    }
    let (tx, rx) = oneshot::channel();
    let event_id =
        crate::capture::capture_full(event, EventHint::default(), None, Some(Receipt(tx)))?;
    Some(DeliveryHandle { event_id, rx })
}
