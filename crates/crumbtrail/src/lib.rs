//! crumbtrail: error, breadcrumb and trace reporting for async Rust services, speaking the
//! Sentry protocol.
//!
//! ```no_run
//! #[tokio::main]
//! async fn main() {
//!     let guard = crumbtrail::init(crumbtrail::ClientOptions {
//!         dsn: Some("https://key@o1.ingest.sentry.io/1".into()),
//!         release: Some("shop@1.4.2".into()),
//!         ..Default::default()
//!     })
//!     .expect("a valid DSN");
//!
//!     crumbtrail::add_breadcrumb(crumbtrail::Breadcrumb::new().with_message("starting"));
//!     if let Err(err) = "x".parse::<u32>() {
//!         crumbtrail::capture_error(&err);
//!     }
//!
//!     // The guard also flushes on drop (best effort); an explicit close is the reliable way.
//!     guard.close(std::time::Duration::from_secs(2)).await;
//! }
//! ```
#![forbid(unsafe_code)]

mod init;

pub use crumbtrail_core::*;

/// Panics as fatal events (feature `panic`, on by default; `init` installs the hook unless
/// `default_integrations` is off).
#[cfg(feature = "panic")]
pub use crumbtrail_panic as panic;

/// Subprocesses: a breadcrumb per command, the trace in its environment (feature `process`).
#[cfg(feature = "process")]
pub use crumbtrail_process as process;

/// Outgoing HTTP: http breadcrumbs and trace headers for reqwest (feature `reqwest`).
#[cfg(feature = "reqwest")]
pub use crumbtrail_reqwest as reqwest;

/// Log lines as breadcrumbs and events: a `tracing_subscriber` layer (feature `tracing`).
#[cfg(feature = "tracing")]
pub use crumbtrail_tracing as tracing;

/// Incoming HTTP: a scope per request for hyper/axum servers (feature `tower`).
#[cfg(feature = "tower")]
pub use crumbtrail_tower as tower;
pub use init::{ClientInitGuard, close, flush, init};
