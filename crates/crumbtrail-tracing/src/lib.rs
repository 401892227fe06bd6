//! crumbtrail for `tracing`: a [`tracing_subscriber`] layer whose log events write the
//! breadcrumb trail themselves, and whose errors arrive as events carrying that trail.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! use tracing_subscriber::prelude::*;
//!
//! let subscriber = tracing_subscriber::registry().with(crumbtrail_tracing::layer().filtered());
//! let _guard = tracing::subscriber::set_default(subscriber); // or `.init()` in an application
//!
//! let events = crumbtrail_core::test::capture_events(async {
//!     tracing::debug!("below the breadcrumb level: not recorded");
//!     tracing::info!(cart = 981, "cart loaded");
//!     let err = "x".parse::<u32>().unwrap_err();
//!     tracing::error!(error = &err as &dyn std::error::Error, "checkout failed");
//! })
//! .await;
//!
//! let event = &events[0];
//! assert_eq!(event.message.as_deref(), Some("checkout failed"));
//! assert_eq!(event.exception.as_ref().unwrap().values[0].ty.as_deref(), Some("ParseIntError"));
//! let crumbs = &event.breadcrumbs.as_ref().unwrap().values;
//! assert_eq!(crumbs.len(), 1);
//! assert_eq!(crumbs[0].message.as_deref(), Some("cart loaded"));
//! assert_eq!(crumbs[0].data["cart"], 981);
//! # }
//! ```
//!
//! # What it records
//!
//! Records go to the client and scope of the unit of work that emitted them (the task-local
//! isolation scope, see `crumbtrail_core::with_isolation_scope`), so each request's trail
//! holds its own logs only. With no client for that unit of work the layer does nothing.
//!
//! - **Breadcrumbs**: events at or above [`breadcrumb_level`](CrumbtrailLayer::breadcrumb_level)
//!   (default `INFO`). `category` = target, `message` = the `message` field, `data` = the
//!   other fields as JSON (numbers, booleans and strings as such, `?x` / `%x` as text, errors
//!   as their `Display` text), `level` by [`crumbtrail_level`] (`TRACE`/`DEBUG` → `debug`,
//!   `INFO` → `info`, `WARN` → `warning`, `ERROR` → `error`), `type` `default`, or `error`
//!   for `ERROR`.
//! - **Events**: events at or above [`event_level`](CrumbtrailLayer::event_level) (default
//!   `ERROR`). `level` mapped as above, `logger` = target, `message` = the `message` field.
//!   A field recorded as an error (`error = &err as &dyn Error`, which `tracing` passes to
//!   `Visit::record_error`) becomes the exception list: one exception per link of its
//!   `source()` chain, oldest first, the outermost with mechanism `auto.tracing` and
//!   `handled: true` (PROTOCOL.md §4.3). With several error fields, the one named `error`
//!   wins, else the first. The other fields go to `extra`; the `tracing` context holds the
//!   target, module path, file and line, and `spans`: the fields of the spans the event
//!   happened in, outermost first (see [`span_fields`](CrumbtrailLayer::span_fields)).
//! - **The event as a breadcrumb, after**: a captured event is not in its own trail; once it
//!   is captured it is recorded as a breadcrumb (with `data.event_id`), as Sentry's Python
//!   SDK does, so the next event of the same unit of work shows the earlier error.
//!
//! Every breadcrumb and event carries a [`TracingHint`] (the event's `tracing` metadata and
//! target): `before_breadcrumb` gets it through `BreadcrumbHint::get::<TracingHint>()`,
//! `before_send` and event processors through `EventHint::get::<TracingHint>()`.
//!
//! Spans themselves are not sent: crumbtrail-core has no transactions yet, so performance
//! spans are left for later. Spans only lend their fields to events.
//!
//! # Targets and handlers
//!
//! For each record, in this order:
//!
//! 1. Records of crumbtrail's own targets (`crumbtrail`, `crumbtrail::*`, `crumbtrail_*`,
//!    e.g. `crumbtrail_core::worker`) are dropped, before any handler: the SDK's own
//!    diagnostics never loop back into it. (So are their spans.) So is everything logged
//!    while the SDK does its own work ([`crumbtrail_core::in_sdk_work`]): on the sender's
//!    threads (a `before_send` or event processor that logs, the HTTP stack's own log
//!    lines), and from inside the layer's handling of a record (a handler, a
//!    `before_breadcrumb` hook or a field's `Debug` impl that logs), which would otherwise
//!    re-enter the layer without end under a global subscriber.
//! 2. [Global handlers](CrumbtrailLayer::global_handler), in the order added, for records
//!    at or above either threshold (ignored targets included).
//! 3. The [target handler](CrumbtrailLayer::target_handler) of the most specific matching
//!    target, for records at any level.
//! 4. The default processing: [ignore rules](CrumbtrailLayer::ignore) (a target and its
//!    children, with an optional allow level), then the thresholds.
//!
//! A handler returning [`Handling::Handled`] ends the processing of that record. A handler
//! that panics counts as [`Handling::Continue`]. Target `hyper` matches `hyper` and
//! `hyper::proto`, never `hyperx`.
//!
//! # Cost
//!
//! [`CrumbtrailLayer::filtered`] gives the layer a per-layer filter: callsites it cannot use
//! are switched off for it alone, once per callsite, so a `debug!` below the threshold or an
//! event of an ignored target costs about a nanosecond and never reaches field formatting,
//! while other layers still see everything they ask for. Use it with a
//! [`Registry`](tracing_subscriber::Registry). The plain layer works on any subscriber with
//! span lookup; it rejects unwanted events itself, by level and target, before formatting
//! anything. A target handler makes its target's callsites visible to the layer at every
//! level, and global handlers those at or above a threshold; a handler should decide
//! quickly, from [`Record::target`], [`Record::level`] or [`Record::has_field`], before
//! formatting fields. Figures are in `benches/layer.rs`.
//!
//! # Records from the `log` crate
//!
//! Install `tracing-log`'s `LogTracer` once, next to the subscriber; `log` records then reach
//! the layer as `tracing` events, and the layer uses their real target (the `log.target`
//! field), module path, file and line, so ignore rules and target handlers apply to them as
//! to native events:
//!
//! ```toml
//! tracing-log = { version = "0.2", default-features = false, features = ["std", "log-tracer"] }
//! ```
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use tracing_subscriber::layer::SubscriberExt;
//! tracing_log::LogTracer::init()?; // forwards `log` records to the current tracing subscriber
//! tracing::subscriber::set_global_default(
//!     tracing_subscriber::registry().with(crumbtrail_tracing::layer().filtered()),
//! )?;
//! log::warn!(target: "payments", "retrying charge"); // a breadcrumb, category "payments"
//! # Ok(())
//! # }
//! ```
#![forbid(unsafe_code)]

mod fields;
mod layer;
mod record;
mod rules;

pub use layer::{CrumbtrailFilter, CrumbtrailLayer, crumbtrail_level, layer};
pub use record::{Fields, Handler, Handling, Record, TracingHint};

#[cfg(test)]
mod tests;
