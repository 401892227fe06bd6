//! Rate limiting (PROTOCOL.md §6): parsing `X-Sentry-Rate-Limits` and `Retry-After`, and the
//! per-transport state that decides which items may still be sent.

mod header;
mod state;

#[cfg(test)]
mod proptests;

pub use header::*;
pub use state::*;
