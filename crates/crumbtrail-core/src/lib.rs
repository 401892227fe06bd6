//! The heart of crumbtrail: the client and its options, scopes that follow the work through
//! tokio task-local storage, breadcrumbs, the capture pipeline and the background sender.
//!
//! Applications use the `crumbtrail` facade (`crumbtrail::init`); integrations build on this
//! crate. Every function here is safe to call from any thread or task, costs the caller
//! microseconds, and never panics into your code.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! use crumbtrail_core::{Breadcrumb, Level, add_breadcrumb, capture_message, configure_scope, test};
//!
//! let events = test::capture_events(async {
//!     configure_scope(|scope| scope.set_tag("tenant", "acme"));
//!     add_breadcrumb(Breadcrumb::new().with_category("cart").with_message("loaded cart 981"));
//!     capture_message("checkout failed", Level::Error);
//! })
//! .await;
//! assert_eq!(events[0].tags["tenant"], "acme");
//! assert_eq!(events[0].breadcrumbs.as_ref().unwrap().values[0].message.as_deref(), Some("loaded cart 981"));
//! # }
//! ```
#![forbid(unsafe_code)]

mod assemble;
mod bind;
mod breadcrumbs;
mod capture;
mod client;
mod delivery;
mod discard;
mod health;
mod hint;
mod http;
mod hub;
mod options;
mod performance;
mod pii;
mod scope;
mod sdk_work;
mod session;
mod spotlight;
mod stacktrace;
pub mod test;
mod transport;
mod truncate;
mod worker;

pub use bind::{
    ScopeFutureExt, Scoped, configure_scope, run_in_isolation_scope, spawn, with_isolation_scope,
    with_scope, with_scope_async,
};
pub use breadcrumbs::{
    IntoBreadcrumb, add_breadcrumb, add_breadcrumb_with_hint, add_breadcrumb_with_processor,
    add_breadcrumb_with_shared_processor,
};
#[cfg(feature = "anyhow")]
pub use capture::capture_anyhow;
pub use capture::{
    capture_error, capture_event, capture_event_with_backtrace, capture_event_with_hint,
    capture_message, event_from_error, last_event_id,
};
pub use client::{Client, InitError};
pub use delivery::{Delivery, DeliveryHandle, capture_event_tracked};
pub use discard::Discards;
pub use hint::{BreadcrumbHint, EventHint};
pub use http::{DEFAULT_CONNECT_TIMEOUT, DEFAULT_REQUEST_TIMEOUT, HttpTransport};
pub use hub::configure_global_scope;
pub use options::{
    BeforeBreadcrumb, BeforeSend, BeforeSendTransaction, ClientOptions,
    DEFAULT_MAX_BREADCRUMB_BYTES, ErrorSampler, Integration, TracesSampler,
};
pub use performance::{
    SamplingContext, Span, Transaction, current_transaction, start_transaction,
    start_transaction_with_source,
};
pub use pii::{DEFAULT_DENYLIST, EventScrubber, FILTERED, PII_DENYLIST};
pub use scope::{
    Attachment, BAGGAGE_INLINE, CrumbProcessor, EventProcessor, ProcessCrumb, ProcessEvent,
    PropagationContext, Scope,
};
pub use sdk_work::{in_sdk_work, sdk_work};
pub use session::{RequestSession, start_request_session};
pub use spotlight::{DEFAULT_SPOTLIGHT_URL, Spotlight};
pub use transport::{
    BoxFuture, DiscardTransport, SendOutcome, TestTransport, Transport, TransportFactory,
};

pub use crumbtrail_protocol as protocol;
pub use crumbtrail_protocol::{Breadcrumb, Event, EventId, Level, User};

/// Makes `client` the process-wide client (what `crumbtrail::init` does), returning the
/// previous one. Units of work bound to a client of their own keep theirs.
pub fn set_global_client(client: Option<Client>) -> Option<Client> {
    hub::set_global_client(client.map(|c| c.inner)).map(|inner| Client { inner })
}

/// The process-wide client, if any.
pub fn global_client() -> Option<Client> {
    hub::global_client().map(|inner| Client { inner })
}

/// The trace the current unit of work belongs to: the `with_scope` layer's, else the
/// isolation scope's. `None` when the SDK is disabled. Integrations use it for outgoing
/// `sentry-trace` / `baggage` headers.
pub fn propagation_context() -> Option<PropagationContext> {
    if !hub::is_active() {
        return None;
    }
    hub::with_hub(|hub| hub.propagation().cloned())
}

/// [`current_client`] and [`propagation_context`] in one look-up: an HTTP client integration
/// needs both for every outgoing request. `None` when no client is bound or global.
///
/// ```
/// assert!(crumbtrail_core::current_client_and_trace().is_none()); // no client yet
/// ```
pub fn current_client_and_trace() -> Option<(Client, Option<PropagationContext>)> {
    if !hub::is_active() {
        return None;
    }
    hub::with_hub(|hub| {
        let inner = hub::resolve_client(hub).cloned()?;
        Some((Client { inner }, hub.propagation().cloned()))
    })
}

/// The client the current unit of work reports to, if any.
pub fn current_client() -> Option<Client> {
    if !hub::is_active() {
        return None;
    }
    hub::with_hub(|hub| hub::resolve_client(hub).cloned()).map(|inner| Client { inner })
}
