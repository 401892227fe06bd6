//! One envelope item: its headers and its payload bytes.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::envelope::ItemType;

/// The header line of an item (§3.3). `length` is not stored: the writer always computes it
/// from the payload, and the parser uses it to find the payload's end.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ItemHeaders {
    /// The item type.
    #[serde(rename = "type")]
    pub ty: ItemType,
    /// MIME type of the payload (required on container items: logs, spans, metrics).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// Attachments: the file name, without directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filename: Option<String>,
    /// Attachments: `event.attachment` (the default), `event.minidump`, ...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attachment_type: Option<String>,
    /// Container items: the number of records inside.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item_count: Option<u64>,
    /// `profile_chunk` items only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    /// Header keys crumbtrail does not know, kept as they were.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

impl ItemHeaders {
    /// Headers with just a type.
    pub fn new(ty: ItemType) -> Self {
        ItemHeaders {
            ty,
            content_type: None,
            filename: None,
            attachment_type: None,
            item_count: None,
            platform: None,
            other: Map::new(),
        }
    }
}

/// An envelope item: headers plus the raw payload bytes.
///
/// ```
/// use crumbtrail_protocol::{Item, ItemType};
/// let item = Item::new(ItemType::Attachment, b"cart=3;ok=0".to_vec());
/// assert_eq!(item.payload.len(), 11);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    /// The header line.
    pub headers: ItemHeaders,
    /// The payload, exactly as sent.
    pub payload: Vec<u8>,
}

impl Item {
    /// An item of the given type with the given payload.
    pub fn new(ty: ItemType, payload: Vec<u8>) -> Self {
        Item {
            headers: ItemHeaders::new(ty),
            payload,
        }
    }

    /// An item whose payload is `value` serialized as compact JSON, with
    /// `content_type: application/json`.
    pub fn json<T: Serialize + ?Sized>(ty: ItemType, value: &T) -> Result<Self, serde_json::Error> {
        let mut item = Item::new(ty, serde_json::to_vec(value)?);
        item.headers.content_type = Some("application/json".to_owned());
        Ok(item)
    }

    /// The item type.
    pub fn ty(&self) -> &ItemType {
        &self.headers.ty
    }

    /// Decodes the payload as JSON into `T`.
    pub fn decode_json<'a, T: Deserialize<'a>>(&'a self) -> Result<T, serde_json::Error> {
        serde_json::from_slice(&self.payload)
    }
}
