//! Identifiers: event ids (UUIDv4), trace ids (16 bytes) and span ids (8 bytes).
//!
//! All three are written as lowercase hex without dashes, as the protocol's conventions say:
//! `event_id` 32 chars, `trace_id` 32 chars, `span_id` 16 chars.

use std::fmt;
use std::str::FromStr;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use uuid::Uuid;

/// Why a string is not a valid id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    /// The string has the wrong number of hex digits.
    #[error("{kind} must be {expected} hex characters, got {got}")]
    Length {
        /// Which id was being parsed.
        kind: &'static str,
        /// The expected number of hex digits.
        expected: usize,
        /// The number of characters found.
        got: usize,
    },
    /// The string holds a character that is not a hex digit.
    #[error("{kind} holds a non-hex character {found:?}")]
    NotHex {
        /// Which id was being parsed.
        kind: &'static str,
        /// The offending character.
        found: char,
    },
}

/// Decodes exactly `N` bytes of hex (either case) into an array.
fn decode_hex<const N: usize>(kind: &'static str, s: &str) -> Result<[u8; N], IdError> {
    let bytes = s.as_bytes();
    if bytes.len() != N * 2 {
        return Err(IdError::Length {
            kind,
            expected: N * 2,
            got: s.chars().count(),
        });
    }
    let mut out = [0u8; N];
    for (i, pair) in bytes.chunks_exact(2).enumerate() {
        let hi = hex_val(kind, pair[0])?;
        let lo = hex_val(kind, pair[1])?;
        out[i] = (hi << 4) | lo;
    }
    Ok(out)
}

fn hex_val(kind: &'static str, b: u8) -> Result<u8, IdError> {
    match b {
        b'0'..=b'9' => Ok(b - b'0'),
        b'a'..=b'f' => Ok(b - b'a' + 10),
        b'A'..=b'F' => Ok(b - b'A' + 10),
        _ => Err(IdError::NotHex {
            kind,
            found: b as char,
        }),
    }
}

/// Each byte's two lowercase hex digits.
const HEX_PAIRS: [[u8; 2]; 256] = {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut table = [[0u8; 2]; 256];
    let mut i = 0;
    while i < 256 {
        table[i] = [DIGITS[i >> 4], DIGITS[i & 0x0f]];
        i += 1;
    }
    table
};

/// `bytes` as lowercase hex into `out` (twice as long).
fn hex_into(bytes: &[u8], out: &mut [u8]) {
    for (pair, b) in out.chunks_exact_mut(2).zip(bytes) {
        pair.copy_from_slice(&HEX_PAIRS[usize::from(*b)]);
    }
}

/// Up to 16 bytes as lowercase hex, on the stack.
fn hex(bytes: &[u8]) -> ([u8; 32], usize) {
    let mut buf = [0u8; 32];
    hex_into(bytes, &mut buf);
    (buf, bytes.len().min(16) * 2)
}

fn write_hex(f: &mut fmt::Formatter<'_>, bytes: &[u8]) -> fmt::Result {
    let (buf, len) = hex(bytes);
    // Only ASCII hex digits were written.
    f.write_str(std::str::from_utf8(&buf[..len]).map_err(|_| fmt::Error)?)
}

/// Appends `bytes` as lowercase hex: what `Display` writes, without the formatting machinery
/// (headers are written for every outgoing request).
fn push_hex(out: &mut String, bytes: &[u8]) {
    let (buf, len) = hex(bytes);
    // Only ASCII hex digits were written: the check passes, word by word.
    out.push_str(std::str::from_utf8(&buf[..len]).unwrap_or_default());
}

/// Serde visitor shared by the three id types: accepts a string and parses it with `FromStr`.
struct IdVisitor<T>(std::marker::PhantomData<T>, &'static str);

impl<T> Visitor<'_> for IdVisitor<T>
where
    T: FromStr,
    T::Err: fmt::Display,
{
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.1)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
        v.parse().map_err(E::custom)
    }
}

macro_rules! id_serde {
    ($ty:ty, $expecting:literal) => {
        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }

        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                d.deserialize_str(IdVisitor(std::marker::PhantomData, $expecting))
            }
        }

        impl fmt::Debug for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($ty), self)
            }
        }
    };
}

/// The id of an event, transaction, feedback or check-in: a UUIDv4 written as 32 hex chars.
///
/// ```
/// use crumbtrail_protocol::EventId;
/// let id: EventId = "5d1b2e8c-4a0f-4f6e-9b7c-3a2d1e0f9a8b".parse().unwrap();
/// assert_eq!(id.to_string(), "5d1b2e8c4a0f4f6e9b7c3a2d1e0f9a8b");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct EventId(Uuid);

impl EventId {
    /// A new random (v4) id.
    ///
    /// Drawn from a fast per-thread generator seeded by the OS, not from the OS for every id:
    /// ids must be unique, not secret, and capture paths make one per event.
    pub fn new() -> Self {
        EventId(uuid::Builder::from_random_bytes(fastrand::u128(..).to_le_bytes()).into_uuid())
    }

    /// The all-zero id, which means "no event".
    pub const fn nil() -> Self {
        EventId(Uuid::nil())
    }

    /// Whether this is the all-zero id.
    pub fn is_nil(&self) -> bool {
        self.0.is_nil()
    }

    /// The id as a [`Uuid`].
    pub const fn as_uuid(&self) -> &Uuid {
        &self.0
    }
}

impl From<Uuid> for EventId {
    fn from(u: Uuid) -> Self {
        EventId(u)
    }
}

impl From<EventId> for Uuid {
    fn from(id: EventId) -> Self {
        id.0
    }
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_hex(f, self.0.as_bytes())
    }
}

impl FromStr for EventId {
    type Err = IdError;

    /// Accepts 32 hex chars, or the dashed 36-char UUID form.
    fn from_str(s: &str) -> Result<Self, IdError> {
        if s.len() == 36 {
            if let Ok(u) = Uuid::try_parse(s) {
                return Ok(EventId(u));
            }
        }
        decode_hex::<16>("event id", s).map(|b| EventId(Uuid::from_bytes(b)))
    }
}

id_serde!(EventId, "an event id (32 hex characters)");

/// A trace id: 16 random bytes written as 32 lowercase hex chars.
///
/// ```
/// use crumbtrail_protocol::TraceId;
/// let id: TraceId = "4c79f60c11214eb38604f4ae0781bfb2".parse().unwrap();
/// assert_eq!(id.to_string(), "4c79f60c11214eb38604f4ae0781bfb2");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct TraceId([u8; 16]);

impl TraceId {
    /// Appends the id's 32 hex characters to `out`, as `Display` writes them.
    ///
    /// ```
    /// use crumbtrail_protocol::TraceId;
    /// let id: TraceId = "4c79f60c11214eb38604f4ae0781bfb2".parse().unwrap();
    /// let mut out = String::from("trace=");
    /// id.push_hex(&mut out);
    /// assert_eq!(out, "trace=4c79f60c11214eb38604f4ae0781bfb2");
    /// ```
    pub fn push_hex(&self, out: &mut String) {
        push_hex(out, &self.0);
    }

    /// The id's 32 hex characters, as `Display` writes them.
    ///
    /// ```
    /// use crumbtrail_protocol::TraceId;
    /// let id: TraceId = "4c79f60c11214eb38604f4ae0781bfb2".parse().unwrap();
    /// assert_eq!(&id.to_hex(), b"4c79f60c11214eb38604f4ae0781bfb2");
    /// ```
    pub fn to_hex(&self) -> [u8; 32] {
        let mut out = [0; 32];
        hex_into(&self.0, &mut out);
        out
    }

    /// A new random trace id.
    pub fn random() -> Self {
        TraceId(fastrand::u128(..).to_le_bytes())
    }

    /// The id from its raw bytes.
    pub const fn from_bytes(bytes: [u8; 16]) -> Self {
        TraceId(bytes)
    }

    /// The raw bytes.
    pub const fn to_bytes(self) -> [u8; 16] {
        self.0
    }

    /// Whether every byte is zero (invalid in W3C `traceparent`).
    pub fn is_zero(&self) -> bool {
        self.0 == [0; 16]
    }
}

impl fmt::Display for TraceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_hex(f, &self.0)
    }
}

impl FromStr for TraceId {
    type Err = IdError;

    fn from_str(s: &str) -> Result<Self, IdError> {
        decode_hex::<16>("trace id", s).map(TraceId)
    }
}

id_serde!(TraceId, "a trace id (32 hex characters)");

/// A span id: 8 random bytes written as 16 lowercase hex chars.
///
/// ```
/// use crumbtrail_protocol::SpanId;
/// let id: SpanId = "a1b2c3d4e5f60718".parse().unwrap();
/// assert_eq!(id.to_string(), "a1b2c3d4e5f60718");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct SpanId([u8; 8]);

impl SpanId {
    /// Appends the id's 16 hex characters to `out`, as `Display` writes them.
    pub fn push_hex(&self, out: &mut String) {
        push_hex(out, &self.0);
    }

    /// The id's 16 hex characters, as `Display` writes them.
    pub fn to_hex(&self) -> [u8; 16] {
        let mut out = [0; 16];
        hex_into(&self.0, &mut out);
        out
    }

    /// A new random span id.
    pub fn random() -> Self {
        SpanId(fastrand::u64(..).to_le_bytes())
    }

    /// The id from its raw bytes.
    pub const fn from_bytes(bytes: [u8; 8]) -> Self {
        SpanId(bytes)
    }

    /// The raw bytes.
    pub const fn to_bytes(self) -> [u8; 8] {
        self.0
    }

    /// Whether every byte is zero (invalid in W3C `traceparent`).
    pub fn is_zero(&self) -> bool {
        self.0 == [0; 8]
    }
}

impl fmt::Display for SpanId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_hex(f, &self.0)
    }
}

impl FromStr for SpanId {
    type Err = IdError;

    fn from_str(s: &str) -> Result<Self, IdError> {
        decode_hex::<8>("span id", s).map(SpanId)
    }
}

id_serde!(SpanId, "a span id (16 hex characters)");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_id_formats_as_32_lowercase_hex() {
        let id = EventId::new();
        let s = id.to_string();
        assert_eq!(s.len(), 32);
        assert!(
            s.bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        );
        assert_eq!(s.parse::<EventId>().unwrap(), id);
        assert_eq!(serde_json::to_string(&id).unwrap(), format!("\"{s}\""));
    }

    #[test]
    fn event_id_accepts_dashed_and_uppercase() {
        let a: EventId = "5D1B2E8C-4A0F-4F6E-9B7C-3A2D1E0F9A8B".parse().unwrap();
        let b: EventId = "5d1b2e8c4a0f4f6e9b7c3a2d1e0f9a8b".parse().unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn ids_reject_bad_input_with_a_clear_message() {
        let err = "abc".parse::<TraceId>().unwrap_err();
        assert_eq!(err.to_string(), "trace id must be 32 hex characters, got 3");
        let err = "a1b2c3d4e5f6071z".parse::<SpanId>().unwrap_err();
        assert_eq!(err.to_string(), "span id holds a non-hex character 'z'");
        assert!(serde_json::from_str::<SpanId>("12").is_err());
        assert!(serde_json::from_str::<SpanId>("\"a1b2c3d4e5f6071\"").is_err());
    }

    #[test]
    fn event_ids_are_v4_uuids() {
        let id = EventId::new();
        assert_eq!(id.as_uuid().get_version_num(), 4);
        assert_ne!(id, EventId::new());
    }

    #[test]
    fn random_ids_differ() {
        assert_ne!(TraceId::random(), TraceId::random());
        assert_ne!(SpanId::random(), SpanId::random());
        assert!(!TraceId::random().is_zero());
    }

    #[test]
    fn debug_shows_hex() {
        let id: SpanId = "a1b2c3d4e5f60718".parse().unwrap();
        assert_eq!(format!("{id:?}"), "SpanId(a1b2c3d4e5f60718)");
    }
}
