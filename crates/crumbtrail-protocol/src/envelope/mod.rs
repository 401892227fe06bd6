//! Envelopes (PROTOCOL.md §3): the container every payload travels in.

mod item;
mod item_type;

pub use item::*;
pub use item_type::*;
mod quantity;
