//! Performance monitoring: transactions and their child spans (PROTOCOL.md §9).
//!
//! A transaction is sampled when it starts, on the caller (`traces_sample_rate` or
//! `traces_sampler`, halved while the sender is under backpressure); an unsampled one records
//! nothing and costs nothing more. A sampled one collects its finished child spans and, when
//! it finishes, goes through the same bounded queue as errors — behind them: it is only
//! queued while the queue has room to spare for errors. The scope (tags, user, contexts) is
//! applied and `before_send_transaction` runs on the background sender.
//!
//! A transaction takes its trace from the scope it starts in, so errors captured in that unit
//! of work and outgoing requests' `sentry-trace` headers point at it.

mod assemble;
mod sampling;
mod transaction;

pub(crate) use assemble::assemble_transaction;
pub use sampling::SamplingContext;
pub(crate) use transaction::PendingTransaction;
pub use transaction::{
    Span, Transaction, current_transaction, start_transaction, start_transaction_with_source,
};
