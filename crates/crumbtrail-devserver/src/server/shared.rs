//! The state every connection of one server shares: what arrived, the envelope log, the
//! current fault, and the signals for waiters and shutdown.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use crumbtrail_protocol::{Dsn, Envelope};
use time::OffsetDateTime;
use tokio::sync::watch;
use tokio::time::Instant;

use crate::config::DevServerConfig;
use crate::error::WaitTimeout;
use crate::fault::{FaultMode, FaultSlot};
use crate::storage::log::EnvelopeLog;
use crate::storage::{Received, ReceivedEnvelope};
use crate::view_terminal::{render_envelope_summary, render_event};

/// Locks a mutex, recovering the data if a panic poisoned it (the state stays usable).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

pub(crate) struct Shared {
    pub(crate) config: DevServerConfig,
    pub(crate) dsn: Dsn,
    pub(crate) received: Mutex<Received>,
    /// Appends happen under this lock, then `received` is updated while it is still held, so
    /// the log and memory agree on the order.
    pub(crate) log: Option<Mutex<EnvelopeLog>>,
    pub(crate) fault: Mutex<FaultSlot>,
    /// Bumped after every change to `received`; waiters watch it.
    pub(crate) changed: watch::Sender<u64>,
    /// `true` once shutdown has begun.
    pub(crate) shutdown: watch::Sender<bool>,
    pub(crate) load_warnings: Vec<String>,
}

impl Shared {
    fn bump(&self) {
        self.changed.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// Counts one ingest request and takes the fault to apply to it, if any.
    pub(crate) fn begin_ingest(&self) -> Option<FaultMode> {
        lock(&self.received).count_request();
        self.bump();
        lock(&self.fault).take()
    }

    /// Persists (when there is a data dir) and records an accepted envelope, then wakes waiters
    /// and prints it when asked to.
    pub(crate) async fn store(
        self: &Arc<Self>,
        raw: Bytes,
        envelope: Envelope,
    ) -> std::io::Result<Arc<ReceivedEnvelope>> {
        let shared = Arc::clone(self);
        let stored = tokio::task::spawn_blocking(move || shared.store_blocking(raw, envelope))
            .await
            .map_err(std::io::Error::other)??;
        self.bump();
        if self.config.print_events {
            print_envelope(&stored);
        }
        Ok(stored)
    }

    fn store_blocking(
        &self,
        raw: Bytes,
        envelope: Envelope,
    ) -> std::io::Result<Arc<ReceivedEnvelope>> {
        let received_at = OffsetDateTime::now_utc();
        let _log_guard = match &self.log {
            Some(log) => {
                let mut guard = lock(log);
                guard.append(received_at, &raw)?;
                Some(guard)
            }
            None => None,
        };
        Ok(lock(&self.received).insert(received_at, raw, envelope))
    }

    /// Waits until `pred` holds on what arrived, re-checking after every change.
    pub(crate) async fn wait_until<F>(
        &self,
        timeout: Duration,
        mut pred: F,
    ) -> Result<(), WaitTimeout>
    where
        F: FnMut(&Received) -> bool,
    {
        let started = Instant::now();
        let deadline = started + timeout;
        let mut rx = self.changed.subscribe();
        loop {
            rx.borrow_and_update();
            if pred(&lock(&self.received)) {
                return Ok(());
            }
            match tokio::time::timeout_at(deadline, rx.changed()).await {
                Ok(Ok(())) => {}
                Ok(Err(_)) | Err(_) => {
                    return Err(WaitTimeout {
                        waited: started.elapsed(),
                    });
                }
            }
        }
    }

    /// Resolves once shutdown has begun.
    pub(crate) async fn shutting_down(&self) {
        let mut rx = self.shutdown.subscribe();
        // An error means the sender is gone, which only happens when the server is gone.
        let _ = rx.wait_for(|down| *down).await;
    }
}

fn print_envelope(stored: &ReceivedEnvelope) {
    use std::io::Write;
    let mut out = String::new();
    let mut any_event = false;
    for item in &stored.envelope.items {
        if let Ok(
            crumbtrail_protocol::ItemPayload::Event(e)
            | crumbtrail_protocol::ItemPayload::Feedback(e),
        ) = item.decode()
        {
            any_event = true;
            out.push_str(&render_event(&e));
            out.push('\n');
        }
    }
    if !any_event {
        out.push_str(&render_envelope_summary(stored.seq, &stored.envelope));
        out.push('\n');
    }
    let mut stdout = std::io::stdout().lock();
    // A closed stdout must not take the server down.
    let _ = stdout.write_all(out.as_bytes());
    let _ = stdout.flush();
}
