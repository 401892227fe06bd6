//! Envelopes (PROTOCOL.md §3): the container every payload travels in.
//!
//! An envelope is a header line followed by items, each a header line and a payload:
//!
//! ```text
//! {"event_id":"…","sent_at":"…"}
//! {"type":"event","length":41,"content_type":"application/json"}
//! {"event_id":"…","level":"error", … }
//! ```
//!
//! [`Envelope::to_bytes`] writes exactly the framing crumbtrail promises (every item carries
//! `length`, every payload ends with `\n`, compact JSON headers) and [`Envelope::parse`] is a
//! strict reader that accepts both payload-length rules and reports the byte offset of the first
//! malformed byte.

mod headers;
mod item;
mod item_type;
mod parse;
mod payload;
#[cfg(test)]
mod proptests;
mod quantity;
mod write;

pub use headers::*;
pub use item::*;
pub use item_type::*;
pub use parse::*;
pub use payload::*;

/// An envelope: headers plus items.
///
/// ```
/// use crumbtrail_protocol::{Envelope, Item, ItemType};
///
/// let mut envelope = Envelope::new();
/// envelope.items.push(Item::new(ItemType::Attachment, b"cart=3;ok=0".to_vec()));
/// let bytes = envelope.to_bytes();
/// assert_eq!(
///     bytes,
///     b"{}\n{\"type\":\"attachment\",\"length\":11}\ncart=3;ok=0\n".to_vec()
/// );
/// assert_eq!(Envelope::parse(&bytes).unwrap(), envelope);
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Envelope {
    /// The envelope header line.
    pub headers: EnvelopeHeaders,
    /// The items, in order.
    pub items: Vec<Item>,
}

impl Envelope {
    /// An envelope with empty headers and no items.
    pub fn new() -> Self {
        Envelope::default()
    }

    /// Adds an item (builder style).
    pub fn with_item(mut self, item: Item) -> Self {
        self.items.push(item);
        self
    }

    /// Whether the envelope has no items (such an envelope is pointless to send).
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The items of one type.
    pub fn items_of<'a>(&'a self, ty: &'a ItemType) -> impl Iterator<Item = &'a Item> + 'a {
        self.items.iter().filter(move |i| i.ty() == ty)
    }
}
