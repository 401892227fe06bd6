//! The event payload (PROTOCOL.md §4) and its interfaces: exceptions and stack traces, threads,
//! the log entry, the HTTP request, the user, contexts, debug images, `_meta` annotations and
//! the legacy `user_report` payload.
//!
//! Breadcrumbs live in [`crate::breadcrumb`], transactions in [`crate::tracing`].

mod contexts;
mod contexts_typed;
mod debug_meta;
mod exception;
pub(crate) mod lenient;
mod logentry;
mod meta;
mod payload;
mod request;
mod sdk;
mod stacktrace;
mod thread;
mod user;
mod user_report;

#[cfg(test)]
mod proptests;
#[cfg(test)]
pub(crate) mod testutil;

pub use contexts::*;
pub use contexts_typed::*;
pub use debug_meta::*;
pub use exception::*;
pub use logentry::*;
pub use meta::*;
pub use payload::*;
pub use request::*;
pub use sdk::*;
pub use stacktrace::*;
pub use thread::*;
pub use user::*;
pub use user_report::*;
