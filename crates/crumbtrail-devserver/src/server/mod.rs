//! The server: [`DevServer`] starts the accept loop and gives access to what arrived.

mod accept;
pub(crate) mod response;
mod router;
pub(crate) mod shared;

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crumbtrail_protocol::{DataCategory, DiscardReason, Dsn, EventId, ItemType, Transaction};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::config::DevServerConfig;
use crate::error::{DevServerError, WaitTimeout};
use crate::fault::{Fault, FaultSlot, InvalidFault};
use crate::storage::log::{EnvelopeLog, Loaded};
use crate::storage::{Received, ReceivedEnvelope, ReceivedEvent};
use shared::{Shared, lock};

/// A running devserver on 127.0.0.1. Every instance is independent: its own port, state, data
/// directory and fault.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use std::time::Duration;
/// use crumbtrail_devserver::{DevServer, DevServerConfig, Fault};
///
/// let server = DevServer::start(DevServerConfig::default()).await?;
/// let dsn = server.dsn(); // http://devkey@127.0.0.1:<port>/1
/// assert_eq!(dsn.project_id(), "1");
///
/// // ... point an SDK at `dsn` and capture something, then:
/// let waited = server.wait_for_events(1, Duration::from_millis(10)).await;
/// assert!(waited.is_err()); // nothing was sent in this example
///
/// server.set_fault(Fault::status(503).times(1))?;
/// server.shutdown().await;
/// # Ok(()) }
/// ```
pub struct DevServer {
    shared: Arc<Shared>,
    addr: SocketAddr,
    accept_task: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for DevServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DevServer")
            .field("addr", &self.addr)
            .field("dsn", &self.shared.dsn.to_string())
            .finish_non_exhaustive()
    }
}

impl DevServer {
    /// Validates `config`, loads the data directory's envelope log (if any), binds
    /// 127.0.0.1:`port` and starts serving. Must be called inside a tokio runtime.
    pub async fn start(config: DevServerConfig) -> Result<DevServer, DevServerError> {
        config.validate()?;
        let (log, loaded) = match config.data_dir.clone() {
            Some(dir) => {
                let (log, loaded) = tokio::task::spawn_blocking(move || EnvelopeLog::open(&dir))
                    .await
                    .map_err(|e| DevServerError::InvalidConfig(format!("loading failed: {e}")))??;
                (Some(Mutex::new(log)), loaded)
            }
            None => (
                None,
                Loaded {
                    records: Vec::new(),
                    good_len: 0,
                    warnings: Vec::new(),
                },
            ),
        };
        let bind_addr = SocketAddr::from((Ipv4Addr::LOCALHOST, config.port));
        let listener =
            TcpListener::bind(bind_addr)
                .await
                .map_err(|source| DevServerError::Bind {
                    addr: bind_addr.to_string(),
                    source,
                })?;
        let addr = listener
            .local_addr()
            .map_err(|source| DevServerError::Bind {
                addr: bind_addr.to_string(),
                source,
            })?;
        let dsn: Dsn = format!(
            "http://{}@127.0.0.1:{}/{}",
            config.public_key,
            addr.port(),
            config.project_id
        )
        .parse()
        .map_err(|e| DevServerError::InvalidConfig(format!("the server's DSN is invalid: {e}")))?;
        let mut received = Received::default();
        for r in loaded.records {
            received.insert(r.received_at, r.raw, r.envelope);
        }
        for w in &loaded.warnings {
            eprintln!("crumbtrail-devserver: warning: {w}");
        }
        let mut fault = FaultSlot::default();
        fault.set(config.fault.clone());
        let shared = Arc::new(Shared {
            config,
            dsn,
            received: Mutex::new(received),
            log,
            fault: Mutex::new(fault),
            changed: watch::Sender::new(0),
            shutdown: watch::Sender::new(false),
            load_warnings: loaded.warnings,
        });
        let accept_task = tokio::spawn(accept::run(listener, Arc::clone(&shared)));
        Ok(DevServer {
            shared,
            addr,
            accept_task: Some(accept_task),
        })
    }

    /// The DSN to give an SDK: `http://<public_key>@127.0.0.1:<port>/<project_id>`.
    pub fn dsn(&self) -> Dsn {
        self.shared.dsn.clone()
    }

    /// The base URL, `http://127.0.0.1:<port>/` (the web view).
    pub fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The configuration the server runs with.
    pub fn config(&self) -> &DevServerConfig {
        &self.shared.config
    }

    /// Runs `f` on everything received, under the lock (keep it short; do not block in it).
    pub fn with_received<R>(&self, f: impl FnOnce(&Received) -> R) -> R {
        f(&lock(&self.shared.received))
    }

    /// Every accepted envelope, oldest first.
    pub fn envelopes(&self) -> Vec<Arc<ReceivedEnvelope>> {
        self.with_received(|r| r.envelopes().to_vec())
    }

    /// Every event (`event` and `feedback` items), oldest first.
    pub fn events(&self) -> Vec<Arc<ReceivedEvent>> {
        self.with_received(|r| r.events().to_vec())
    }

    /// Every transaction item that decodes, oldest first, with the envelope that carried it
    /// (whose `trace` header holds the trace's sampling context).
    pub fn transactions(&self) -> Vec<(Arc<ReceivedEnvelope>, Transaction)> {
        self.envelopes()
            .into_iter()
            .flat_map(|received| {
                let txs: Vec<Transaction> = received
                    .envelope
                    .items
                    .iter()
                    .filter(|i| i.ty() == &ItemType::Transaction)
                    .filter_map(|i| i.decode_json().ok())
                    .collect();
                txs.into_iter().map(move |tx| (Arc::clone(&received), tx))
            })
            .collect()
    }

    /// The event with this id, if it arrived.
    pub fn event(&self, id: &EventId) -> Option<Arc<ReceivedEvent>> {
        self.with_received(|r| r.event(id).cloned())
    }

    /// How many items of a type (`"event"`, `"session"`, `"client_report"`, ...) arrived.
    pub fn item_count(&self, item_type: &str) -> u64 {
        self.with_received(|r| r.item_count(item_type))
    }

    /// Item counts by type name.
    pub fn item_counts(&self) -> BTreeMap<String, u64> {
        self.with_received(|r| r.item_counts().clone())
    }

    /// Client-report quantities summed by (reason, category) over every report received.
    pub fn client_report_totals(&self) -> BTreeMap<(DiscardReason, DataCategory), u64> {
        self.with_received(|r| r.client_report_totals().clone())
    }

    /// The summed client-report quantity for one (reason, category).
    pub fn client_report_total(&self, reason: &DiscardReason, category: &DataCategory) -> u64 {
        self.with_received(|r| r.client_report_total(reason, category))
    }

    /// Ingest requests received so far, whatever their outcome (faulted ones included).
    pub fn requests(&self) -> u64 {
        self.with_received(Received::requests)
    }

    /// Warnings from loading the data directory (e.g. a torn last record that was skipped).
    pub fn load_warnings(&self) -> &[String] {
        &self.shared.load_warnings
    }

    /// Injects `fault` into the following ingest requests (replacing any current fault).
    pub fn set_fault(&self, fault: Fault) -> Result<(), InvalidFault> {
        fault.validate()?;
        lock(&self.shared.fault).set(Some(fault));
        Ok(())
    }

    /// Stops injecting faults.
    pub fn clear_fault(&self) {
        lock(&self.shared.fault).set(None);
    }

    /// The current fault (with its remaining `times`), if any.
    pub fn fault(&self) -> Option<Fault> {
        lock(&self.shared.fault).get()
    }

    /// Waits until `pred` holds on what arrived (checked now and after every request or
    /// stored envelope), or `timeout` passes.
    pub async fn wait_until<F>(&self, timeout: Duration, pred: F) -> Result<(), WaitTimeout>
    where
        F: FnMut(&Received) -> bool,
    {
        self.shared.wait_until(timeout, pred).await
    }

    /// Waits until at least `count` items of `item_type` have arrived.
    pub async fn wait_for_items(
        &self,
        item_type: &str,
        count: u64,
        timeout: Duration,
    ) -> Result<(), WaitTimeout> {
        self.wait_until(timeout, |r| r.item_count(item_type) >= count)
            .await
    }

    /// Waits until at least `count` events have arrived, and returns all events.
    pub async fn wait_for_events(
        &self,
        count: usize,
        timeout: Duration,
    ) -> Result<Vec<Arc<ReceivedEvent>>, WaitTimeout> {
        self.wait_until(timeout, |r| r.events().len() >= count)
            .await?;
        Ok(self.events())
    }

    /// Waits until at least `count` ingest requests (faulted ones included) have arrived.
    pub async fn wait_for_requests(
        &self,
        count: u64,
        timeout: Duration,
    ) -> Result<(), WaitTimeout> {
        self.wait_until(timeout, |r| r.requests() >= count).await
    }

    /// Stops accepting, lets in-flight requests finish (hanging and delayed ones end at once;
    /// at most 5 s in all), closes every connection and flushes the envelope log to disk.
    pub async fn shutdown(mut self) {
        self.shared.shutdown.send_replace(true);
        if let Some(task) = self.accept_task.take() {
            let _ = task.await;
        }
        if self.shared.log.is_some() {
            let shared = Arc::clone(&self.shared);
            let _ = tokio::task::spawn_blocking(move || {
                if let Some(log) = &shared.log {
                    let _ = lock(log).sync();
                }
            })
            .await;
        }
    }
}

impl Drop for DevServer {
    /// Best effort: signals shutdown; the server's tasks wind down on their own (or with the
    /// runtime).
    fn drop(&mut self) {
        self.shared.shutdown.send_replace(true);
    }
}
