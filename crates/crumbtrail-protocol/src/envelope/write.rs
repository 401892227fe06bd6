//! The envelope writer: exactly the framing of PROTOCOL.md §3.1.

use std::io::{self, Write};

use serde::ser::{Serialize, SerializeMap, Serializer};

use super::{Envelope, Item, ItemHeaders};

/// Item header keys the writer sets itself; copies of them in `other` are not written.
const OWN_KEYS: &[&str] = &[
    "type",
    "length",
    "content_type",
    "filename",
    "attachment_type",
    "item_count",
    "platform",
];

/// The item header as written: `type` and `length` first, then the optional keys.
struct Framed<'a> {
    headers: &'a ItemHeaders,
    length: usize,
}

impl Serialize for Framed<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let h = self.headers;
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("type", &h.ty)?;
        map.serialize_entry("length", &self.length)?;
        if let Some(v) = &h.content_type {
            map.serialize_entry("content_type", v)?;
        }
        if let Some(v) = &h.filename {
            map.serialize_entry("filename", v)?;
        }
        if let Some(v) = &h.attachment_type {
            map.serialize_entry("attachment_type", v)?;
        }
        if let Some(v) = &h.item_count {
            map.serialize_entry("item_count", v)?;
        }
        if let Some(v) = &h.platform {
            map.serialize_entry("platform", v)?;
        }
        for (k, v) in &h.other {
            if !OWN_KEYS.contains(&k.as_str()) {
                map.serialize_entry(k, v)?;
            }
        }
        map.end()
    }
}

impl Item {
    fn write_to<W: Write>(&self, w: &mut W) -> io::Result<()> {
        let framed = Framed {
            headers: &self.headers,
            length: self.payload.len(),
        };
        serde_json::to_writer(&mut *w, &framed)?;
        w.write_all(b"\n")?;
        w.write_all(&self.payload)?;
        w.write_all(b"\n")
    }
}

impl Envelope {
    /// Writes the envelope: the header line, then for every item its header line (always with
    /// `length`), its payload and a `\n` — including after the last payload, so the envelope
    /// ends in exactly one newline.
    pub fn write_to<W: Write>(&self, mut w: W) -> io::Result<()> {
        serde_json::to_writer(&mut w, &self.headers)?;
        w.write_all(b"\n")?;
        for item in &self.items {
            item.write_to(&mut w)?;
        }
        Ok(())
    }

    /// The serialized envelope.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(
            256 + self
                .items
                .iter()
                .map(|i| i.payload.len() + 128)
                .sum::<usize>(),
        );
        // Writing to a Vec cannot fail, and every header type serializes infallibly
        // (string keys only, no custom errors).
        if self.write_to(&mut out).is_err() {
            out.clear();
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envelope::ItemType;

    #[test]
    fn writes_length_on_every_item_and_a_newline_after_every_payload() {
        let mut att = Item::new(ItemType::Attachment, b"a\nb".to_vec());
        att.headers.filename = Some("x.txt".into());
        let env = Envelope::new()
            .with_item(att)
            .with_item(Item::new(ItemType::Session, b"{}".to_vec()));
        assert_eq!(
            String::from_utf8(env.to_bytes()).unwrap(),
            "{}\n\
             {\"type\":\"attachment\",\"length\":3,\"filename\":\"x.txt\"}\na\nb\n\
             {\"type\":\"session\",\"length\":2}\n{}\n"
        );
    }

    #[test]
    fn empty_payload_still_gets_its_newline() {
        let env = Envelope::new().with_item(Item::new(ItemType::Attachment, Vec::new()));
        assert_eq!(
            env.to_bytes(),
            b"{}\n{\"type\":\"attachment\",\"length\":0}\n\n".to_vec()
        );
    }

    #[test]
    fn stale_length_in_other_headers_is_not_written() {
        let mut item = Item::new(ItemType::Attachment, b"abc".to_vec());
        item.headers.other.insert("length".into(), 99.into());
        item.headers.other.insert("x_custom".into(), "kept".into());
        let env = Envelope::new().with_item(item);
        assert_eq!(
            String::from_utf8(env.to_bytes()).unwrap(),
            "{}\n{\"type\":\"attachment\",\"length\":3,\"x_custom\":\"kept\"}\nabc\n"
        );
    }
}
