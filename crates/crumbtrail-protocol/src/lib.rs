//! The Sentry wire protocol as plain data: DSNs, events and their interfaces, breadcrumbs,
//! transactions and spans, trace-propagation headers, sessions, client reports, structured
//! logs, rate-limit headers, and the envelope format that carries them all.
//!
//! This crate does no I/O and has no async runtime: it is what crumbtrail's client, its
//! integrations and its devserver share. Every type serializes to exactly what a Sentry server
//! (Relay) expects, and reads what other SDKs send.
//!
//! ```
//! use crumbtrail_protocol::{Envelope, Event, Item, ItemType, Level};
//!
//! let mut event = Event::new();
//! event.level = Level::Warning;
//! event.message = Some("cart is empty".into());
//!
//! let mut envelope = Envelope::new();
//! envelope.headers.event_id = Some(event.event_id);
//! envelope.items.push(Item::json(ItemType::Event, &event).unwrap());
//!
//! let bytes = envelope.to_bytes();
//! assert_eq!(Envelope::parse(&bytes).unwrap(), envelope);
//! ```
#![forbid(unsafe_code)]

#[macro_use]
mod wire_name;

pub mod breadcrumb;
pub mod category;
pub mod check_in;
pub mod client_report;
pub mod dsn;
pub mod envelope;
pub mod event;
pub mod ids;
pub mod level;
pub mod limits;
pub mod log;
pub mod rate_limit;
pub mod session;
pub mod timestamp;
pub mod tracing;
pub mod values;

pub use breadcrumb::*;
pub use category::*;
pub use check_in::*;
pub use client_report::*;
pub use dsn::*;
pub use envelope::*;
pub use event::*;
pub use ids::*;
pub use level::*;
pub use log::*;
pub use rate_limit::*;
pub use session::*;
pub use tracing::*;
pub use values::*;

/// The SDK name crumbtrail reports (`sdk.name`, `sentry_client`, `User-Agent`).
pub const SDK_NAME: &str = "crumbtrail";

/// The SDK version crumbtrail reports.
pub const SDK_VERSION: &str = env!("CARGO_PKG_VERSION");

/// The Sentry protocol version crumbtrail speaks (`sentry_version`).
pub const PROTOCOL_VERSION: u32 = 7;
