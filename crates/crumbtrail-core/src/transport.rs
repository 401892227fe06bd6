//! The transport: what carries a finished envelope to the server.
//!
//! The background sender calls [`Transport::send`] for every envelope and learns the outcome,
//! so transports compose (a spool, a retry, a mirror) and losses are counted where they happen.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};

use crumbtrail_protocol::{Envelope, Event, ItemPayload, ItemType};
use tokio::sync::Notify;

/// A boxed, sendable future: what [`Transport::send`] returns.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What became of one envelope: the server's answer, or none.
///
/// The transport only carries bytes; the sender decides what an answer means (PROTOCOL.md
/// §11): 2xx delivered; 429 rate limited (the server counted it); any other status a
/// `send_error`; no answer a `network_error`. Rate-limit headers are applied from any answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendOutcome {
    /// The server answered.
    Response {
        /// The HTTP status.
        status: u16,
        /// The `X-Sentry-Rate-Limits` header, if any.
        rate_limits: Option<String>,
        /// The `Retry-After` header, if any.
        retry_after: Option<String>,
    },
    /// No answer: connect, timeout, reset.
    NetworkError(String),
}

impl SendOutcome {
    /// A plain `200 OK`: what in-memory transports answer.
    pub const fn delivered() -> Self {
        SendOutcome::Response {
            status: 200,
            rate_limits: None,
            retry_after: None,
        }
    }
}

/// Carries envelopes to a server. Implementations must never panic and should return within
/// their own timeouts; the sender runs several sends at once.
pub trait Transport: Send + Sync + 'static {
    /// Sends one envelope and reports the outcome.
    fn send(&self, envelope: Envelope) -> BoxFuture<'_, SendOutcome>;
}

/// Builds the transport for a client.
pub type TransportFactory = Arc<dyn Fn() -> Arc<dyn Transport> + Send + Sync>;

/// A transport that keeps every envelope in memory: for tests, yours and ours.
///
/// ```
/// use crumbtrail_core::TestTransport;
/// let transport = TestTransport::new();
/// assert!(transport.envelopes().is_empty());
/// ```
#[derive(Clone, Default)]
pub struct TestTransport {
    inner: Arc<TestInner>,
}

#[derive(Default)]
struct TestInner {
    envelopes: Mutex<Vec<Envelope>>,
    arrived: Notify,
}

impl TestTransport {
    /// An empty test transport.
    pub fn new() -> Self {
        TestTransport::default()
    }

    /// Every envelope sent so far.
    pub fn envelopes(&self) -> Vec<Envelope> {
        self.lock().clone()
    }

    /// Every event sent so far (from `event` items), in order.
    pub fn events(&self) -> Vec<Event> {
        self.lock()
            .iter()
            .flat_map(|e| e.items.iter())
            .filter(|i| i.ty() == &ItemType::Event)
            .filter_map(|i| match i.decode() {
                Ok(ItemPayload::Event(e)) => Some(*e),
                _ => None,
            })
            .collect()
    }

    /// Takes every envelope sent so far, leaving none.
    pub fn take(&self) -> Vec<Envelope> {
        std::mem::take(&mut *self.lock())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Envelope>> {
        self.inner
            .envelopes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

impl Transport for TestTransport {
    fn send(&self, envelope: Envelope) -> BoxFuture<'_, SendOutcome> {
        self.lock().push(envelope);
        self.inner.arrived.notify_waiters();
        Box::pin(std::future::ready(SendOutcome::delivered()))
    }
}

impl std::fmt::Debug for TestTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestTransport")
            .field("envelopes", &self.lock().len())
            .finish()
    }
}

/// A transport that accepts every envelope and sends nothing: for benchmarks, and the
/// transport of a client with neither a DSN nor a transport of its own.
#[derive(Debug, Clone, Copy, Default)]
pub struct DiscardTransport;

impl DiscardTransport {
    /// A factory for [`ClientOptions::transport`](crate::ClientOptions::transport).
    pub fn factory() -> TransportFactory {
        Arc::new(|| Arc::new(DiscardTransport) as Arc<dyn Transport>)
    }
}

impl Transport for DiscardTransport {
    fn send(&self, _envelope: Envelope) -> BoxFuture<'_, SendOutcome> {
        Box::pin(std::future::ready(SendOutcome::delivered()))
    }
}
