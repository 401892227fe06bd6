//! A local Sentry-compatible collector for crumbtrail's examples, tests and benchmarks.
//!
//! It accepts envelopes over real HTTP exactly where a Sentry server would, checks them as
//! strictly as Relay does (auth, size limits, framing), keeps them (in memory, and in a data
//! directory if asked so they survive a restart), prints each event with its breadcrumb trail,
//! serves them back through a JSON API and a small web view, and can misbehave on purpose
//! (error statuses, rate limits, delays, hangs, connection resets) so SDK tests can see how a
//! client copes.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use std::time::Duration;
//! use crumbtrail_devserver::{DevServer, DevServerConfig};
//!
//! let server = DevServer::start(DevServerConfig::default()).await?;
//! println!("export SENTRY_DSN={}", server.dsn());
//! // ... run the code under test with that DSN, then:
//! if let Ok(events) = server.wait_for_events(1, Duration::from_millis(10)).await {
//!     println!("{}", crumbtrail_devserver::render_event(&events[0].event));
//! }
//! server.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! Run it on its own with `cargo run -p crumbtrail-devserver -- [--port N] [--data-dir PATH]
//! [--quiet]`.
//!
//! # HTTP routes
//!
//! Ingest (what an SDK talks to):
//!
//! | Route | Answer |
//! |---|---|
//! | `POST /api/{project}/envelope/` | `200 {"id":"<event id>"}`, or `{}` when the envelope is not about an event |
//! | `POST /api/{project}/store/` | legacy: one JSON event per body, stored wrapped in an envelope; `200 {"id":...}` |
//!
//! Credentials come from `X-Sentry-Auth`, `?sentry_key=`, or the envelope header `dsn`.
//! Failures answer `{"detail": "...", "causes": [...]}`: 400 malformed envelope (the detail
//! names the byte offset), invalid item payload, disagreeing credentials; 401 wrong or
//! malformed key; 403 no credentials or a project other than the one served; 404 non-numeric
//! project id; 413 body (compressed or decompressed) or item over its limit; 415
//! `Content-Encoding` other than gzip, x-gzip, deflate or identity.
//!
//! JSON API (for tests and tools; every list is oldest first):
//!
//! | Route | Answer |
//! |---|---|
//! | `GET /api/0/events[?level=&type=&since=]` | `{"count", "events": [{"event_id", "envelope", "received_at", "item_type", "level", "title", "event"}]}` |
//! | `GET /api/0/events/{id}` | one such event object, or 404 |
//! | `GET /api/0/envelopes[?since=]` | `{"count", "envelopes": [{"seq", "received_at", "len", "event_id", "item_types", "body"}]}`; `body` is the raw envelope as lossy UTF-8 (use `len` to spot replaced bytes) |
//! | `GET /api/0/items[?type=&since=]` | `{"count", "items": [{"envelope", "index", "received_at", "type", "headers", "len", "payload"}]}`; `payload` is JSON for JSON item types, lossy text for attachments and unknown types |
//! | `GET /api/0/client-reports` | `{"reports": N, "totals": [{"reason", "category", "quantity"}]}` summed over every `client_report` item |
//! | `GET /api/0/stats` | `{"requests", "envelopes", "events", "items": {"<type>": N}}`; `requests` counts every ingest request, faulted ones included |
//! | `GET /api/0/wait?count=N&timeout_ms=M[&type=T]` | 200 `{"count"}` once N items of type T (N envelopes without `type`) have arrived; 408 with the count on timeout (default 5 s, max 60 s) |
//! | `GET /api/0/fault` | `{"fault": null \| {...}}` |
//! | `PUT` or `POST /api/0/fault` | set a [`Fault`] from a JSON body, e.g. `{"mode":"status","status":503,"times":2}` |
//! | `DELETE /api/0/fault` | clear the fault |
//!
//! `since` is an RFC 3339 time or Unix seconds, compared with the time the server received
//! the envelope. Unknown query parameters are a 400.
//!
//! Web view: `GET /` lists events, `GET /events/{id}` shows one with its breadcrumb timeline.
//!
//! # Storage
//!
//! With a data directory, every accepted envelope is appended to `<data_dir>/envelopes.log` and
//! read back on start. Each record is one JSON header line, then exactly `len` raw envelope
//! bytes (decompressed, as sent), then `\n`:
//!
//! ```text
//! {"received_at":"2026-03-01T12:00:01.000000Z","len":143}
//! <143 envelope bytes>
//! ```
//!
//! The format is self-delimiting and binary-safe (attachments may hold any bytes, including
//! newlines), append-only, greppable, and needs no extra dependency. Records are written with
//! one `write_all` and not fsynced (they survive a process crash, not a power loss); the log
//! is fsynced on graceful shutdown. A torn last record (a crash mid-write) is skipped with a
//! warning ([`DevServer::load_warnings`]): the file is cut back to the last whole record and
//! the cut bytes are kept in `envelopes.log.skipped-<unix-seconds>`. Request counts and the
//! current fault are not persisted.
//!
//! # Modules
//!
//! [`server`](DevServer) (accept loop, router, shared state), `ingest` (auth, decode, limits),
//! [`storage`] (what arrived, and the on-disk envelope log), `api` (JSON), [`view_terminal`],
//! [`view_html`], [`fault`].
#![forbid(unsafe_code)]

mod api;
mod config;
mod error;
pub mod fault;
mod ingest;
mod server;
pub mod storage;
pub mod view_html;
pub mod view_terminal;

pub use config::{DEFAULT_PROJECT_ID, DEFAULT_PUBLIC_KEY, DevServerConfig};
pub use error::{DevServerError, WaitTimeout};
pub use fault::{Fault, FaultMode, InvalidFault};
pub use server::DevServer;
pub use storage::{Received, ReceivedEnvelope, ReceivedEvent};
pub use view_terminal::render_event;
