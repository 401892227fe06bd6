//! Tracing: transactions and spans, and the headers that carry a trace between services
//! (`sentry-trace`, `baggage` with the dynamic sampling context, W3C `traceparent`).

mod baggage;
mod header_bytes;
mod sentry_trace;
mod span;
mod span_status;
mod traceparent;
mod transaction;

pub use baggage::*;
pub use header_bytes::*;
pub use sentry_trace::*;
pub use span::*;
pub use span_status::*;
pub use traceparent::*;
pub use transaction::*;
