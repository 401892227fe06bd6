//! The strict envelope parser (PROTOCOL.md §3.1).

use std::fmt;

use serde::de::DeserializeOwned;

use super::{Envelope, EnvelopeHeaders, Item, ItemHeaders};

/// Why an envelope is malformed, and where: `offset` is the byte offset in the input at which
/// the problem was found.
///
/// ```
/// use crumbtrail_protocol::Envelope;
/// let err = Envelope::parse(b"{}\n{\"type\":\"attachment\",\"length\":10}\nshort\n").unwrap_err();
/// assert_eq!(err.offset, 37);
/// assert_eq!(
///     err.to_string(),
///     "malformed envelope at byte 37: item payload is truncated: its header says length 10 but only 6 bytes remain"
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed envelope at byte {offset}: {kind}")]
pub struct EnvelopeError {
    /// Byte offset of the problem in the input.
    pub offset: usize,
    /// What is wrong.
    pub kind: EnvelopeErrorKind,
}

/// What is wrong with a malformed envelope.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvelopeErrorKind {
    /// The input is empty: the envelope header line is mandatory (it may be `{}`).
    #[error("the input is empty, but the envelope header line is mandatory (it may be `{{}}`)")]
    Empty,
    /// The envelope header line is not a valid JSON object of envelope headers.
    #[error("the envelope header is not a valid JSON object: {0}")]
    InvalidEnvelopeHeader(String),
    /// An item header line is empty (for example two newlines in a row, or a second trailing
    /// newline at the end of the envelope).
    #[error(
        "expected an item header but found an empty line (an envelope may end in only one newline)"
    )]
    EmptyItemHeader,
    /// An item header line is not a valid JSON object of item headers.
    #[error("the item header is not a valid JSON object with a `type`: {0}")]
    InvalidItemHeader(String),
    /// The item's `length` is not a non-negative integer.
    #[error("the item's `length` must be a non-negative integer, got {0}")]
    InvalidLength(String),
    /// The input ends before the `length` bytes of a payload.
    #[error(
        "item payload is truncated: its header says length {expected} but only {available} bytes remain"
    )]
    TruncatedPayload {
        /// The `length` the item header announced.
        expected: u64,
        /// The bytes left in the input.
        available: usize,
    },
    /// A payload read by `length` is followed by something other than `\n` or the end.
    #[error(
        "expected a newline or the end after the item payload, found byte 0x{0:02x}: the `length` is wrong"
    )]
    MissingNewline(u8),
}

fn err(offset: usize, kind: EnvelopeErrorKind) -> EnvelopeError {
    EnvelopeError { offset, kind }
}

/// The line starting at `start`: its end (exclusive, before any `\n`) and where the next line
/// starts (`None` at the end of the input).
fn line_end(input: &[u8], start: usize) -> (usize, Option<usize>) {
    match input[start..].iter().position(|&b| b == b'\n') {
        Some(i) => (start + i, Some(start + i + 1)),
        None => (input.len(), None),
    }
}

/// Parses a header line as a JSON object into `T`.
fn json_object<T: DeserializeOwned>(line: &[u8]) -> Result<T, String> {
    let first = line.iter().find(|b| !b.is_ascii_whitespace());
    if first != Some(&b'{') {
        return Err("expected `{` at the start of the line".to_owned());
    }
    serde_json::from_slice(line).map_err(|e| e.to_string())
}

impl Envelope {
    /// Parses an envelope strictly.
    ///
    /// Accepts both payload-length rules: with `length` the payload is exactly that many bytes
    /// and must be followed by `\n` or the end; without it, the payload runs to the next `\n`
    /// or the end. Everything else malformed is an [`EnvelopeError`] with the byte offset:
    /// an empty input, a header line that is not a JSON object, an item header without `type`,
    /// a bad `length`, a truncated payload, a wrong `length`, or more than one newline at the end.
    /// Unknown item types and unknown header keys are kept.
    pub fn parse(input: &[u8]) -> Result<Envelope, EnvelopeError> {
        if input.is_empty() {
            return Err(err(0, EnvelopeErrorKind::Empty));
        }
        let (end, next) = line_end(input, 0);
        let headers: EnvelopeHeaders = json_object(&input[..end])
            .map_err(|m| err(0, EnvelopeErrorKind::InvalidEnvelopeHeader(m)))?;

        let mut items = Vec::new();
        let mut pos = next;
        while let Some(start) = pos.filter(|&p| p < input.len()) {
            let (item, after) = parse_item(input, start)?;
            items.push(item);
            pos = after;
        }
        Ok(Envelope { headers, items })
    }
}

/// Parses the item whose header line starts at `start`; returns it and where the next item
/// starts (`None` at the end).
fn parse_item(input: &[u8], start: usize) -> Result<(Item, Option<usize>), EnvelopeError> {
    let (hend, payload_start) = line_end(input, start);
    if input[start..hend].iter().all(|b| b.is_ascii_whitespace()) {
        return Err(err(start, EnvelopeErrorKind::EmptyItemHeader));
    }
    let mut headers: ItemHeaders = json_object(&input[start..hend])
        .map_err(|m| err(start, EnvelopeErrorKind::InvalidItemHeader(m)))?;
    let length = match headers.other.remove("length") {
        None | Some(serde_json::Value::Null) => None,
        Some(v) => Some(
            v.as_u64()
                .ok_or_else(|| err(start, EnvelopeErrorKind::InvalidLength(v.to_string())))?,
        ),
    };
    let payload_start = payload_start.unwrap_or(input.len());

    match length {
        Some(len) => {
            let available = input.len() - payload_start;
            let fits = usize::try_from(len).ok().filter(|&l| l <= available);
            let Some(len) = fits else {
                return Err(err(
                    payload_start,
                    EnvelopeErrorKind::TruncatedPayload {
                        expected: len,
                        available,
                    },
                ));
            };
            let end = payload_start + len;
            let payload = input[payload_start..end].to_vec();
            let next = match input.get(end) {
                None => None,
                Some(b'\n') => Some(end + 1),
                Some(&b) => return Err(err(end, EnvelopeErrorKind::MissingNewline(b))),
            };
            Ok((Item { headers, payload }, next))
        }
        None => {
            let (end, next) = if payload_start < input.len() {
                line_end(input, payload_start)
            } else {
                (input.len(), None)
            };
            let payload = input[payload_start..end].to_vec();
            Ok((Item { headers, payload }, next))
        }
    }
}

impl fmt::Display for Envelope {
    /// Shows the envelope as text (payloads that are not UTF-8 are shown lossily).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&String::from_utf8_lossy(&self.to_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envelope::ItemType;

    fn kind(input: &[u8]) -> (usize, EnvelopeErrorKind) {
        let e = Envelope::parse(input).unwrap_err();
        (e.offset, e.kind)
    }

    #[test]
    fn accepts_both_length_rules() {
        let input = b"{\"event_id\":\"9ec79c33ec9942ab8353589fcb2e04dc\"}\n\
            {\"type\":\"attachment\",\"length\":10}\nhelloworld\n\
            {\"type\":\"session\"}\n{\"started\":\"2020-02-07T14:16:00Z\"}\n\
            {\"type\":\"attachment\",\"length\":3}\na\nb";
        let env = Envelope::parse(input).unwrap();
        assert_eq!(env.items.len(), 3);
        assert_eq!(env.items[0].payload, b"helloworld");
        assert_eq!(env.items[1].ty(), &ItemType::Session);
        assert_eq!(
            env.items[1].payload,
            b"{\"started\":\"2020-02-07T14:16:00Z\"}"
        );
        assert_eq!(env.items[2].payload, b"a\nb");
        assert!(env.items[0].headers.other.is_empty(), "length is not kept");
    }

    #[test]
    fn implicit_length_payload_may_end_at_eof_or_be_empty() {
        let env = Envelope::parse(b"{}\n{\"type\":\"attachment\"}\nabc").unwrap();
        assert_eq!(env.items[0].payload, b"abc");
        let env = Envelope::parse(b"{}\n{\"type\":\"attachment\"}\n\n").unwrap();
        assert_eq!(env.items[0].payload, b"");
        let env = Envelope::parse(b"{}\n{\"type\":\"attachment\"}").unwrap();
        assert_eq!(env.items[0].payload, b"");
    }

    #[test]
    fn header_only_envelopes_are_valid() {
        assert!(Envelope::parse(b"{}").unwrap().is_empty());
        assert!(Envelope::parse(b"{}\n").unwrap().is_empty());
    }

    #[test]
    fn keeps_a_carriage_return_inside_the_payload() {
        let env = Envelope::parse(b"{}\r\n{\"type\":\"attachment\"}\r\nab\r\n").unwrap();
        assert_eq!(env.items[0].payload, b"ab\r");
    }

    #[test]
    fn rejects_empty_input() {
        assert_eq!(kind(b""), (0, EnvelopeErrorKind::Empty));
    }

    #[test]
    fn rejects_bad_envelope_header() {
        assert!(matches!(
            kind(b"{\"event_id\":\n"),
            (0, EnvelopeErrorKind::InvalidEnvelopeHeader(_))
        ));
        assert!(matches!(
            kind(b"[1,2]\n"),
            (0, EnvelopeErrorKind::InvalidEnvelopeHeader(_))
        ));
        assert!(matches!(
            kind(b"{\"event_id\":\"not-a-uuid\"}\n"),
            (0, EnvelopeErrorKind::InvalidEnvelopeHeader(_))
        ));
    }

    #[test]
    fn rejects_bad_item_headers() {
        assert!(matches!(
            kind(b"{}\n{\"length\":1}\na\n"),
            (3, EnvelopeErrorKind::InvalidItemHeader(m)) if m.contains("type")
        ));
        assert!(matches!(
            kind(b"{}\nnot json\n"),
            (3, EnvelopeErrorKind::InvalidItemHeader(_))
        ));
        assert_eq!(
            kind(b"{}\n{\"type\":\"event\",\"length\":-1}\n"),
            (3, EnvelopeErrorKind::InvalidLength("-1".into()))
        );
        assert_eq!(
            kind(b"{}\n{\"type\":\"event\",\"length\":\"2\"}\n{}\n"),
            (3, EnvelopeErrorKind::InvalidLength("\"2\"".into()))
        );
    }

    #[test]
    fn rejects_truncated_payload() {
        assert_eq!(
            kind(b"{}\n{\"type\":\"attachment\",\"length\":5}\nabc"),
            (
                36,
                EnvelopeErrorKind::TruncatedPayload {
                    expected: 5,
                    available: 3
                }
            )
        );
        assert_eq!(
            kind(b"{}\n{\"type\":\"attachment\",\"length\":18446744073709551615}\n"),
            (
                55,
                EnvelopeErrorKind::TruncatedPayload {
                    expected: u64::MAX,
                    available: 0
                }
            )
        );
    }

    #[test]
    fn rejects_length_off_by_one() {
        // Too short by one: the byte after the payload is not a newline.
        assert_eq!(
            kind(b"{}\n{\"type\":\"attachment\",\"length\":2}\nabc\n"),
            (38, EnvelopeErrorKind::MissingNewline(b'c'))
        );
        // Too long by one swallows the newline, and then the next header is missing its `{`.
        let e = Envelope::parse(
            b"{}\n{\"type\":\"attachment\",\"length\":4}\nabc\n{\"type\":\"session\"}\n{}\n",
        )
        .unwrap_err();
        assert_eq!(e.offset, 40);
    }

    #[test]
    fn rejects_two_trailing_newlines() {
        assert_eq!(
            kind(b"{}\n{\"type\":\"attachment\",\"length\":1}\na\n\n"),
            (38, EnvelopeErrorKind::EmptyItemHeader)
        );
        assert_eq!(kind(b"{}\n\n"), (3, EnvelopeErrorKind::EmptyItemHeader));
    }

    #[test]
    fn keeps_unknown_types_and_header_keys() {
        let input = b"{\"x_env\":1}\n{\"type\":\"otel_thing\",\"length\":2,\"x\":true}\n\x00\xff\n";
        let env = Envelope::parse(input).unwrap();
        assert_eq!(env.headers.other["x_env"], 1);
        assert_eq!(env.items[0].ty(), &ItemType::Unknown("otel_thing".into()));
        assert_eq!(env.items[0].headers.other["x"], true);
        assert_eq!(env.items[0].payload, b"\x00\xff");
        assert_eq!(env.to_bytes(), input.to_vec(), "byte-exact round trip");
    }
}
