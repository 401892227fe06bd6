//! The client: validated options, the background sender, loss counters.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use crumbtrail_protocol::{ClientSdkInfo, DiscardReason, Dsn, DsnError, EventId};
use tokio::sync::oneshot;

use crate::discard::Discards;
use crate::hub;
use crate::options::ClientOptions;
use crate::transport::TransportFactory;
use crate::worker::{self, Control, Reply, SenderHandle, Work};

/// Why a client could not be created.
#[derive(Debug, thiserror::Error)]
pub enum InitError {
    /// The DSN is not valid; the message says what is wrong with it.
    #[error("invalid DSN: {0}")]
    InvalidDsn(#[from] DsnError),
    /// The HTTP transport for the DSN could not be built; the message says why (e.g. an
    /// invalid `http_proxy` / `https_proxy` URL).
    #[error("cannot build the HTTP transport: {0}")]
    Transport(String),
}

/// What the background sender needs: shared between the client and the sender thread.
pub(crate) struct ClientCtx {
    pub(crate) options: ClientOptions,
    pub(crate) dsn: Option<Dsn>,
    pub(crate) discards: Discards,
    pub(crate) transport: TransportFactory,
    pub(crate) sdk: ClientSdkInfo,
    /// When each cause of a diagnostic was last reported.
    debug_said: Mutex<HashMap<&'static str, Instant>>,
    /// The Spotlight mirror, when enabled.
    pub(crate) mirror: Option<crate::spotlight::Mirror>,
    /// Backpressure: how much transactions are downsampled.
    pub(crate) health: crate::health::Health,
    /// The `baggage` of traces that start here, but for their ids and decisions.
    pub(crate) head_baggage: crate::scope::HeadBaggage,
    /// Request-mode session counts, waiting for the sender.
    pub(crate) sessions: crate::session::Sessions,
}

/// A diagnostic with the same cause is reported at most once per this interval.
const DEBUG_INTERVAL: Duration = Duration::from_secs(10);

impl ClientCtx {
    /// With `debug` on, says what the SDK dropped or failed and why, through `tracing` at
    /// target `crumbtrail` (which crumbtrail's own tracing layer never records), at most once
    /// per `cause` every ten seconds.
    pub(crate) fn debug(&self, cause: &'static str, args: fmt::Arguments<'_>) {
        if !self.options.debug {
            return;
        }
        let now = Instant::now();
        {
            let mut said = self
                .debug_said
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            match said.get(cause) {
                Some(at) if now.duration_since(*at) < DEBUG_INTERVAL => return,
                _ => said.insert(cause, now),
            };
        }
        tracing::warn!(target: "crumbtrail", cause, "{args}");
    }
}

/// The caller's side of a client.
pub(crate) struct ClientInner {
    pub(crate) ctx: Arc<ClientCtx>,
    pub(crate) sender: SenderHandle,
    closed: AtomicBool,
    pub(crate) last_event_id: Mutex<Option<EventId>>,
}

impl ClientInner {
    /// Hands work to the sender without waiting. A full queue or a closed client drops the
    /// work and counts what it holds.
    ///
    /// Errors go first: other work (transactions) is only queued while a tenth of the queue,
    /// in items and in bytes, is still free for errors.
    pub(crate) fn enqueue(&self, work: Work) -> bool {
        // Only a refused capture pays for listing what it held.
        let lost = |work: &Work| {
            for (category, quantity) in work.losses() {
                self.ctx
                    .discards
                    .record(DiscardReason::QueueOverflow, category, quantity);
            }
            false
        };
        if self.closed.load(Ordering::Acquire) {
            return lost(&work);
        }
        let size = work.estimated_size();
        let queued = &self.sender.queued_bytes;
        let (mut max_items, mut max_bytes) = (0, self.ctx.options.transport_queue_bytes);
        if !work.is_error() {
            max_items = self.sender.data.max_capacity() / 10;
            max_bytes -= max_bytes / 10;
        }
        if queued.load(Ordering::Relaxed).saturating_add(size) > max_bytes
            || (max_items > 0 && self.sender.data.capacity() <= max_items)
        {
            self.ctx.health.note_overflow();
            return lost(&work);
        }
        // Counted before the send so the sender's decrement can never run first.
        queued.fetch_add(size, Ordering::Relaxed);
        match self.sender.data.try_send(work) {
            Ok(()) => true,
            Err(refused) => {
                queued.fetch_sub(size, Ordering::Relaxed);
                self.ctx.health.note_overflow();
                lost(&refused.into_inner())
            }
        }
    }

    pub(crate) fn set_last_event_id(&self, id: EventId) {
        *self
            .last_event_id
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(id);
    }

    fn request(&self, timeout: Duration, close: bool) -> Option<oneshot::Receiver<bool>> {
        let (tx, rx) = oneshot::channel();
        let deadline = worker::deadline_after(timeout);
        let reply = Reply::Async(tx);
        let msg = if close {
            Control::Close { deadline, reply }
        } else {
            Control::Flush { deadline, reply }
        };
        self.sender.control.send(msg).ok().map(|()| rx)
    }

    fn request_blocking(&self, timeout: Duration, close: bool) -> bool {
        let (tx, rx) = std::sync::mpsc::channel();
        let deadline = worker::deadline_after(timeout);
        let reply = Reply::Blocking(tx);
        let msg = if close {
            Control::Close { deadline, reply }
        } else {
            Control::Flush { deadline, reply }
        };
        if self.sender.control.send(msg).is_err() {
            return false;
        }
        // The sender answers by the deadline; the margin covers a sender that died.
        rx.recv_timeout(timeout.saturating_add(Duration::from_millis(100)))
            .unwrap_or(false)
    }
}

impl Drop for ClientInner {
    fn drop(&mut self) {
        hub::client_dropped();
    }
}

/// A client: where captures go. Cheap to clone.
///
/// Most programs use [`init`](https://docs.rs/crumbtrail) and never see a client; tests and
/// libraries that want their own create one and bind it to a scope.
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<ClientInner>,
}

impl Client {
    /// Creates a client and starts its background sender.
    ///
    /// A DSN without a `transport` of your own sends over HTTP ([`HttpTransport`](crate::HttpTransport)).
    /// Fails if the DSN is invalid, or if that transport cannot be built (an invalid proxy URL).
    ///
    /// ```
    /// use crumbtrail_core::{Client, ClientOptions, InitError};
    /// let err = Client::new(ClientOptions {
    ///     dsn: Some("https://host/1".into()),
    ///     ..Default::default()
    /// })
    /// .unwrap_err();
    /// assert!(err.to_string().contains("public key"));
    ///
    /// let err = Client::new(ClientOptions {
    ///     dsn: Some("https://key@o1.ingest.sentry.io/7".into()),
    ///     https_proxy: Some("http://[::1".into()),
    ///     ..Default::default()
    /// })
    /// .unwrap_err();
    /// assert!(matches!(err, InitError::Transport(_)));
    /// ```
    pub fn new(mut options: ClientOptions) -> Result<Client, InitError> {
        let dsn = match options.dsn.as_deref() {
            Some(s) => Dsn::parse_optional(s)?,
            None => None,
        };
        options.max_breadcrumbs = options
            .max_breadcrumbs
            .min(crumbtrail_protocol::limits::MAX_BREADCRUMBS_CEILING);
        let transport = match (&options.transport, &dsn) {
            (Some(t), _) => Arc::clone(t),
            (None, Some(dsn)) => crate::http::factory(dsn, &options)?,
            (None, None) => crate::transport::DiscardTransport::factory(),
        };
        let mut sdk = ClientSdkInfo::crumbtrail();
        for integration in options.integrations.clone() {
            integration.setup(&mut options);
            sdk.integrations.push(integration.name().to_owned());
        }
        let queue_size = options.transport_queue_size;
        let spotlight_env = std::env::var("SENTRY_SPOTLIGHT").ok();
        let mirror = options
            .spotlight
            .resolve(spotlight_env.as_deref())
            .and_then(crate::spotlight::Mirror::new);
        let head_baggage = crate::scope::HeadBaggage::new(
            dsn.as_ref(),
            options.release.as_deref(),
            options.environment.as_deref(),
        );
        let sessions = crate::session::Sessions::new(
            options.release.as_deref(),
            options.environment.as_deref(),
        );
        let ctx = Arc::new(ClientCtx {
            head_baggage,
            sessions,
            options,
            dsn,
            discards: Discards::default(),
            transport,
            sdk,
            debug_said: Mutex::default(),
            mirror,
            health: crate::health::Health::default(),
        });
        let sender = worker::start(Arc::clone(&ctx), queue_size);
        hub::client_created();
        Ok(Client {
            inner: Arc::new(ClientInner {
                ctx,
                sender,
                closed: AtomicBool::new(false),
                last_event_id: Mutex::new(None),
            }),
        })
    }

    /// The options the client was created with.
    pub fn options(&self) -> &ClientOptions {
        &self.inner.ctx.options
    }

    /// The parsed DSN, if one was given.
    pub fn dsn(&self) -> Option<&Dsn> {
        self.inner.ctx.dsn.as_ref()
    }

    /// The loss counters (what the next client report will say).
    pub fn discards(&self) -> &Discards {
        &self.inner.ctx.discards
    }

    /// The id of the last event captured through this client.
    pub fn last_event_id(&self) -> Option<EventId> {
        *self
            .inner
            .last_event_id
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether [`Client::close`] was called.
    pub fn is_closed(&self) -> bool {
        self.inner.closed.load(Ordering::Acquire)
    }

    /// Waits until everything captured before this call was handed to the transport and
    /// answered, or until `timeout`. Returns whether everything was delivered in time.
    /// Pending loss counts are sent as a client report.
    pub async fn flush(&self, timeout: Duration) -> bool {
        match self.inner.request(timeout, false) {
            Some(rx) => rx.await.unwrap_or(false),
            None => self.is_closed(),
        }
    }

    /// [`Client::flush`] for sync code (and `Drop`): blocks the calling thread.
    pub fn flush_blocking(&self, timeout: Duration) -> bool {
        self.inner.request_blocking(timeout, false)
    }

    /// Flushes, then stops the sender. Captures after this are dropped and counted.
    /// Returns whether everything was delivered in time; when it was not, what the sender gave
    /// up on is counted before this returns (sends cut off as `network_error`, captures still
    /// queued as `queue_overflow`), so [`Client::discards`] shows every loss.
    ///
    /// Hooks (`before_send`, processors) run on the sender: one that blocks delays the answer
    /// by as long as it blocks.
    pub async fn close(&self, timeout: Duration) -> bool {
        if self.inner.closed.swap(true, Ordering::AcqRel) {
            return true;
        }
        match self.inner.request(timeout, true) {
            Some(rx) => rx.await.unwrap_or(false),
            None => false,
        }
    }

    /// [`Client::close`] for sync code (and `Drop`): blocks the calling thread.
    pub fn close_blocking(&self, timeout: Duration) -> bool {
        if self.inner.closed.swap(true, Ordering::AcqRel) {
            return true;
        }
        self.inner.request_blocking(timeout, true)
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("dsn", &self.inner.ctx.dsn)
            .field("closed", &self.is_closed())
            .finish()
    }
}
