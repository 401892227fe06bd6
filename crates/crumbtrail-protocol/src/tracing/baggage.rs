//! The W3C `baggage` header and the Dynamic Sampling Context it carries (PROTOCOL.md §9.5).

mod dsc;

pub use dsc::*;

use std::convert::Infallible;
use std::fmt;
use std::str::FromStr;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};

/// The HTTP header name: `baggage`.
pub const BAGGAGE_HEADER: &str = "baggage";

/// The prefix of Sentry's baggage entries.
pub const SENTRY_BAGGAGE_PREFIX: &str = "sentry-";

/// The most bytes a `baggage` header may have: the W3C Baggage limit, also sentry-javascript's
/// `MAX_BAGGAGE_STRING_LENGTH`.
///
/// [`Baggage::parse`] keeps only as many `sentry-*` entries as fit in it (written back out),
/// and writing (`Display`, [`DynamicSamplingContext::to_baggage`], [`merge_baggage`]) adds no
/// Sentry entry that would take the header past it: a caller's oversized baggage can neither
/// grow the frozen DSC nor make this service's outgoing requests too big for their servers.
pub const MAX_BAGGAGE_BYTES: usize = 8192;

/// The most list members a `baggage` header may have: the W3C Baggage limit. Bounds Sentry
/// entries as [`MAX_BAGGAGE_BYTES`] does.
pub const MAX_BAGGAGE_MEMBERS: usize = 180;

/// What is percent-encoded in values: everything but ALPHA / DIGIT / `-` `.` `_` `~`.
const VALUE_ENCODE_SET: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// A parsed `baggage` header: the Sentry entries as a [`DynamicSamplingContext`], and the
/// third-party list members kept raw.
///
/// Parsing never fails: list members are `key=value[;properties]` separated by `,`, blanks
/// around members, keys and values are trimmed, values are percent-decoded, and malformed
/// members (no `=`, or a key that is not an HTTP token) are skipped. Keys starting with
/// `sentry-` fill the DSC (properties dropped; the last duplicate wins); the others are kept as
/// written. Formatting writes the third-party members first, then the Sentry entries in the
/// §9.5 order, values percent-encoded.
///
/// Sentry entries are bounded by the W3C limits ([`MAX_BAGGAGE_BYTES`],
/// [`MAX_BAGGAGE_MEMBERS`]): parsing keeps those of the DSC that fit in a header of their own,
/// known keys first, and drops the others; formatting leaves out an entry that would take the
/// header, third-party members included, past them. Third-party members are never dropped.
///
/// ```
/// use crumbtrail_protocol::Baggage;
/// let b = Baggage::parse("other=1;p, sentry-release=shop%401.4.2 ,sentry-sampled=true, bad");
/// assert_eq!(b.dsc.release.as_deref(), Some("shop@1.4.2"));
/// assert_eq!(b.dsc.sampled(), Some(true));
/// assert_eq!(b.third_party, ["other=1;p"]);
/// assert_eq!(b.to_string(), "other=1;p,sentry-sampled=true,sentry-release=shop%401.4.2");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Baggage {
    /// The `sentry-*` entries, prefix stripped. Empty when the header had none.
    pub dsc: DynamicSamplingContext,
    /// The other list members, trimmed but otherwise as received (`key=value;props`).
    pub third_party: Vec<String>,
}

impl Baggage {
    /// Parses a header value (see the type's docs). Several `baggage` headers can be joined
    /// with `,` first.
    pub fn parse(header: &str) -> Baggage {
        let mut baggage = Baggage::default();
        for member in header.split(',') {
            let member = member.trim_matches(is_blank);
            let Some((key, value)) = split_member(member) else {
                continue;
            };
            match key.strip_prefix(SENTRY_BAGGAGE_PREFIX) {
                Some("") => {}
                // No more unknown keys than a header may have members, even while reading.
                Some(name)
                    if baggage.dsc.other.len() >= MAX_BAGGAGE_MEMBERS
                        && !DynamicSamplingContext::KNOWN_KEYS.contains(&name)
                        && !baggage.dsc.other.contains_key(name) => {}
                Some(name) => baggage
                    .dsc
                    .set(name, percent_decode_str(value).decode_utf8_lossy()),
                None => baggage.third_party.push(member.to_owned()),
            }
        }
        // Known keys come first in `iter`, so the unknown ones are the first to go.
        let mut room = Room::default();
        let over: Vec<String> = baggage
            .dsc
            .iter()
            .filter(|(key, value)| !room.take(key, value))
            .map(|(key, _)| key.to_owned())
            .collect();
        for key in over {
            baggage.dsc.remove(&key);
        }
        baggage
    }

    /// The header value: third-party members, then the Sentry entries, joined by `,`.
    /// Empty when there is nothing to send (then send no header).
    pub fn to_header_value(&self) -> String {
        self.to_string()
    }
}

impl FromStr for Baggage {
    type Err = Infallible;

    /// Never fails; see [`Baggage::parse`].
    fn from_str(s: &str) -> Result<Self, Infallible> {
        Ok(Baggage::parse(s))
    }
}

impl fmt::Display for Baggage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut room = Room::default();
        for member in &self.third_party {
            if room.members > 0 {
                f.write_str(",")?;
            }
            room.add(member.len());
            f.write_str(member)?;
        }
        write_sentry_entries(f, &self.dsc, room)
    }
}

impl DynamicSamplingContext {
    /// The DSC from the `sentry-*` entries of a `baggage` header (third-party members ignored).
    pub fn from_baggage(header: &str) -> Self {
        Baggage::parse(header).dsc
    }

    /// The `sentry-*` entries as a `baggage` value, in the §9.5 order:
    /// `sentry-trace_id=...,sentry-public_key=...,...`, leaving out those that would take it
    /// past [`MAX_BAGGAGE_BYTES`] or [`MAX_BAGGAGE_MEMBERS`]. Empty when the DSC is empty.
    pub fn to_baggage(&self) -> String {
        struct Entries<'a>(&'a DynamicSamplingContext);
        impl fmt::Display for Entries<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write_sentry_entries(f, self.0, Room::default())
            }
        }
        Entries(self).to_string()
    }
}

/// The `baggage` value for an outgoing request (§9.5): the third-party members of the header
/// the request already has (if any), with every `sentry-*` entry in it replaced by `dsc`'s,
/// as many as fit within [`MAX_BAGGAGE_BYTES`] and [`MAX_BAGGAGE_MEMBERS`] after the
/// third-party members (which are all kept). `None` when the result would be empty, meaning:
/// send no `baggage` header.
///
/// ```
/// use crumbtrail_protocol::{DynamicSamplingContext, merge_baggage};
/// let mut dsc = DynamicSamplingContext::new();
/// dsc.set("environment", "prod");
/// let merged = merge_baggage(Some("a=1, sentry-environment=old ,b=2"), &dsc);
/// assert_eq!(merged.as_deref(), Some("a=1,b=2,sentry-environment=prod"));
/// assert_eq!(merge_baggage(None, &DynamicSamplingContext::new()), None);
/// ```
pub fn merge_baggage(existing: Option<&str>, dsc: &DynamicSamplingContext) -> Option<String> {
    let third_party = existing.map(|h| Baggage::parse(h).third_party);
    let merged = Baggage {
        dsc: dsc.clone(),
        third_party: third_party.unwrap_or_default(),
    }
    .to_header_value();
    (!merged.is_empty()).then_some(merged)
}

/// Writes the DSC's entries after what `room` says is already written, leaving out each one
/// that does not fit.
fn write_sentry_entries(
    f: &mut fmt::Formatter<'_>,
    dsc: &DynamicSamplingContext,
    mut room: Room,
) -> fmt::Result {
    for (key, value) in dsc.iter() {
        let comma = if room.members > 0 { "," } else { "" };
        if room.take(key, value) {
            let value = utf8_percent_encode(value, VALUE_ENCODE_SET);
            write!(f, "{comma}{SENTRY_BAGGAGE_PREFIX}{key}={value}")?;
        }
    }
    Ok(())
}

/// How much of a `baggage` header is used: its bytes and list members, against
/// [`MAX_BAGGAGE_BYTES`] and [`MAX_BAGGAGE_MEMBERS`].
#[derive(Default)]
struct Room {
    bytes: usize,
    members: usize,
}

impl Room {
    /// Counts a member of `len` bytes, and its `,` when it is not the first.
    fn add(&mut self, len: usize) {
        self.bytes += len + usize::from(self.members > 0);
        self.members += 1;
    }

    /// Counts the entry `sentry-key=value` (value percent-encoded) if it fits; whether it did.
    fn take(&mut self, key: &str, value: &str) -> bool {
        let encoded: usize = utf8_percent_encode(value, VALUE_ENCODE_SET)
            .map(str::len)
            .sum();
        let len = SENTRY_BAGGAGE_PREFIX.len() + key.len() + 1 + encoded;
        let fits = self.members < MAX_BAGGAGE_MEMBERS
            && self.bytes + usize::from(self.members > 0) + len <= MAX_BAGGAGE_BYTES;
        if fits {
            self.add(len);
        }
        fits
    }
}

fn is_blank(c: char) -> bool {
    c == ' ' || c == '\t'
}

/// Splits `key = value ; props` into a trimmed token key and the trimmed raw value.
fn split_member(member: &str) -> Option<(&str, &str)> {
    let key_value = member.split(';').next().unwrap_or_default();
    let (key, value) = key_value.split_once('=')?;
    let key = key.trim_matches(is_blank);
    let is_tchar = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
    (!key.is_empty() && key.bytes().all(is_tchar)).then(|| (key, value.trim_matches(is_blank)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The header of the §9.5 example, verbatim.
    const EXAMPLE: &str = "other=1, sentry-trace_id=4c79f60c11214eb38604f4ae0781bfb2,sentry-public_key=abc123,sentry-org_id=42,sentry-sample_rate=0.25,sentry-sample_rand=0.118302,sentry-sampled=true,sentry-release=shop%401.4.2,sentry-environment=production,sentry-transaction=GET%20%2Fcart%2F%3Aid";
    const EXAMPLE_SENTRY_PART: &str = "sentry-trace_id=4c79f60c11214eb38604f4ae0781bfb2,sentry-public_key=abc123,sentry-org_id=42,sentry-sample_rate=0.25,sentry-sample_rand=0.118302,sentry-sampled=true,sentry-release=shop%401.4.2,sentry-environment=production,sentry-transaction=GET%20%2Fcart%2F%3Aid";

    #[test]
    fn golden_protocol_example() {
        assert!(EXAMPLE.ends_with(EXAMPLE_SENTRY_PART));
        let b = Baggage::parse(EXAMPLE);
        let dsc = &b.dsc;
        assert_eq!(
            dsc.trace_id().unwrap().to_string(),
            "4c79f60c11214eb38604f4ae0781bfb2"
        );
        assert_eq!(
            dsc.trace_id.as_deref(),
            Some("4c79f60c11214eb38604f4ae0781bfb2")
        );
        assert_eq!(dsc.public_key.as_deref(), Some("abc123"));
        assert_eq!(dsc.org_id.as_deref(), Some("42"));
        assert_eq!(dsc.sample_rate.as_deref(), Some("0.25"));
        assert_eq!(dsc.sample_rate(), Some(0.25));
        assert_eq!(dsc.sample_rand.as_deref(), Some("0.118302"));
        assert_eq!(dsc.sample_rand(), Some(0.118302));
        assert_eq!(dsc.sampled(), Some(true));
        assert_eq!(dsc.release.as_deref(), Some("shop@1.4.2"));
        assert_eq!(dsc.environment.as_deref(), Some("production"));
        assert_eq!(dsc.transaction.as_deref(), Some("GET /cart/:id"));
        assert_eq!(dsc.replay_id, None);
        assert!(dsc.other.is_empty());
        assert_eq!(b.third_party, ["other=1"]);
        assert_eq!(dsc.to_baggage(), EXAMPLE_SENTRY_PART);
        assert_eq!(
            b.to_header_value(),
            format!("other=1,{EXAMPLE_SENTRY_PART}")
        );
        assert_eq!(DynamicSamplingContext::from_baggage(EXAMPLE), b.dsc);
    }

    #[test]
    fn skips_malformed_members_and_trims_blanks() {
        let b = Baggage::parse(
            " ,noequals, =v, bad key=v,\tk = v ; p = 1 ,sentry-=x, sentry-sampled = false ;prop,",
        );
        assert_eq!(b.third_party, ["k = v ; p = 1"]);
        assert_eq!(b.dsc.sampled(), Some(false));
        assert_eq!(b.dsc.iter().count(), 1);
        assert_eq!(Baggage::parse(""), Baggage::default());
        assert_eq!("".parse::<Baggage>().unwrap().to_header_value(), "");
    }

    #[test]
    fn decodes_values_leniently() {
        let b = Baggage::parse("sentry-release=a%2Cb%3Dc+d%zz%,sentry-environment=%E2%82%AC%FF");
        assert_eq!(b.dsc.release.as_deref(), Some("a,b=c+d%zz%"));
        assert_eq!(b.dsc.environment.as_deref(), Some("€\u{FFFD}"));
        // Later duplicates win; unknown sentry keys are kept.
        let b = Baggage::parse("sentry-release=1,sentry-release=2,sentry-user_segment=vip");
        assert_eq!(b.dsc.release.as_deref(), Some("2"));
        assert_eq!(b.dsc.get("user_segment"), Some("vip"));
        assert_eq!(
            b.dsc.to_baggage(),
            "sentry-release=2,sentry-user_segment=vip"
        );
    }

    #[test]
    fn merge_replaces_sentry_entries_and_keeps_third_party() {
        let dsc = Baggage::parse(EXAMPLE_SENTRY_PART).dsc;
        let existing = "vendor=a%20b;ttl=3, sentry-trace_id=ffffffffffffffffffffffffffffffff, sentry-foo=bar, x=y";
        let merged = merge_baggage(Some(existing), &dsc).unwrap();
        assert_eq!(
            merged,
            format!("vendor=a%20b;ttl=3,x=y,{EXAMPLE_SENTRY_PART}")
        );
        // Nothing to add: the existing third-party members pass through.
        assert_eq!(
            merge_baggage(Some("a=1,sentry-x=2"), &DynamicSamplingContext::new()).as_deref(),
            Some("a=1")
        );
        assert_eq!(
            merge_baggage(None, &dsc).as_deref(),
            Some(EXAMPLE_SENTRY_PART)
        );
        assert_eq!(
            merge_baggage(Some(" , "), &DynamicSamplingContext::new()),
            None
        );
    }

    #[test]
    fn oversized_incoming_sentry_entries_are_not_kept() {
        // A caller's 30 KB unknown entry is dropped; the known ones stay.
        let junk = "A".repeat(30_000);
        let b = Baggage::parse(&format!(
            "sentry-release=r1,sentry-junk={junk},sentry-trace_id=abc,v=1"
        ));
        assert_eq!(b.dsc.get("junk"), None);
        assert_eq!(b.dsc.to_baggage(), "sentry-trace_id=abc,sentry-release=r1");
        assert_eq!(b.third_party, ["v=1"]);
        // So is a known entry too big for any header; the others stay.
        let b = Baggage::parse(&format!("sentry-transaction={junk},sentry-sampled=true"));
        assert_eq!(b.dsc.to_baggage(), "sentry-sampled=true");
    }

    #[test]
    fn incoming_unknown_sentry_entries_fill_only_the_room_the_known_ones_leave() {
        // Unknown entries first, each 1 KB: the known ones, last, are still all kept.
        let big = "x".repeat(1000);
        let mut header: Vec<String> = (0..20).map(|i| format!("sentry-k{i:02}={big}")).collect();
        header.push(EXAMPLE_SENTRY_PART.to_owned());
        let dsc = Baggage::parse(&header.join(",")).dsc;
        let written = dsc.to_baggage();
        assert!(written.starts_with(EXAMPLE_SENTRY_PART), "{written}");
        assert!(written.len() <= MAX_BAGGAGE_BYTES, "{}", written.len());
        let unknown = dsc.other.len();
        assert!((1..20).contains(&unknown), "{unknown} unknown entries kept");
        assert_eq!(
            Baggage::parse(&written).dsc,
            dsc,
            "what is kept writes out whole"
        );
        // Many small ones: no more than a header may have members.
        let many: Vec<String> = (0..1000).map(|i| format!("sentry-k{i}=v")).collect();
        let header = format!("{},sentry-sampled=true", many.join(","));
        let dsc = Baggage::parse(&header).dsc;
        assert_eq!(dsc.iter().count(), MAX_BAGGAGE_MEMBERS);
        assert_eq!(dsc.sampled(), Some(true));
    }

    #[test]
    fn writing_adds_no_sentry_entry_past_the_limits() {
        let mut dsc = DynamicSamplingContext::new();
        dsc.set("trace_id", "4c79f60c11214eb38604f4ae0781bfb2");
        dsc.set("release", "r".repeat(100));
        dsc.set("sampled", "true");
        // 8102 bytes of the caller's: the trace id and decision fit after them, the release not.
        let theirs = format!("v={}", "x".repeat(8100));
        let merged = merge_baggage(Some(&theirs), &dsc).unwrap();
        assert_eq!(
            merged,
            format!(
                "{theirs},sentry-trace_id=4c79f60c11214eb38604f4ae0781bfb2,sentry-sampled=true"
            )
        );
        assert!(merged.len() <= MAX_BAGGAGE_BYTES);
        // Exactly at the limit still fits; one byte more does not.
        let entries = dsc.to_baggage().len();
        for (pad, fits) in [(0, true), (1, false)] {
            let theirs = format!("v={}", "x".repeat(MAX_BAGGAGE_BYTES - entries - 3 + pad));
            let merged = merge_baggage(Some(&theirs), &dsc).unwrap();
            assert_eq!(merged.len() == MAX_BAGGAGE_BYTES, fits, "{pad}");
            assert_eq!(merged.contains("sentry-release"), fits, "{pad}");
        }
        // The caller's own members are all kept, even past the limit: ours are left out.
        let theirs = format!("v={}", "x".repeat(MAX_BAGGAGE_BYTES));
        assert_eq!(
            merge_baggage(Some(&theirs), &dsc).as_deref(),
            Some(&*theirs)
        );
        let theirs: Vec<String> = (0..MAX_BAGGAGE_MEMBERS - 1)
            .map(|i| format!("m{i}=1"))
            .collect();
        let theirs = theirs.join(",");
        assert_eq!(
            merge_baggage(Some(&theirs), &dsc).unwrap(),
            format!("{theirs},sentry-trace_id=4c79f60c11214eb38604f4ae0781bfb2")
        );
        // A DSC built too big by hand writes out bounded too.
        dsc.set("transaction", "t".repeat(MAX_BAGGAGE_BYTES));
        let written = dsc.to_baggage();
        assert!(!written.contains("sentry-transaction"), "{written}");
        assert!(written.contains("sentry-sampled=true"), "{written}");
    }

    #[test]
    fn header_and_prefix_names() {
        assert_eq!(BAGGAGE_HEADER, "baggage");
        assert_eq!(SENTRY_BAGGAGE_PREFIX, "sentry-");
    }

    fn value() -> impl Strategy<Value = String> {
        prop_oneof![any::<String>(), "[ ,=;%+a-zé\t\"\\\\]{0,12}"]
    }

    prop_compose! {
        fn arb_dsc()(
            known in proptest::collection::vec(proptest::option::of(value()), 10),
            other in proptest::collection::btree_map("[a-z][a-z0-9_.]{0,8}", value(), 0..4),
        ) -> DynamicSamplingContext {
            let mut dsc = DynamicSamplingContext::new();
            for (key, v) in DynamicSamplingContext::KNOWN_KEYS.iter().zip(known) {
                if let Some(v) = v {
                    dsc.set(*key, v);
                }
            }
            for (key, v) in other {
                if !DynamicSamplingContext::KNOWN_KEYS.contains(&key.as_str()) {
                    dsc.other.insert(key, v);
                }
            }
            dsc
        }
    }

    proptest! {
        #[test]
        fn format_then_parse_round_trips(
            dsc in arb_dsc(),
            third_party in proptest::collection::vec("[a-z]{1,5}=[a-z0-9%]{0,5}(;p=1)?", 0..3),
        ) {
            let baggage = Baggage { dsc, third_party };
            let header = baggage.to_header_value();
            prop_assert_eq!(Baggage::parse(&header), baggage.clone());
            let sentry_only = baggage.dsc.to_baggage();
            prop_assert_eq!(DynamicSamplingContext::from_baggage(&sentry_only), baggage.dsc.clone());
            // The envelope `trace` header form round-trips too.
            let json = serde_json::to_string(&baggage.dsc).unwrap();
            prop_assert_eq!(serde_json::from_str::<DynamicSamplingContext>(&json).unwrap(), baggage.dsc);
        }

        #[test]
        fn never_panics_on_any_string(s in ".*") {
            let b = Baggage::parse(&s);
            // Whatever was read writes out and reads back the same.
            prop_assert_eq!(Baggage::parse(&b.to_header_value()), b);
        }

        #[test]
        fn never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..128)) {
            let _ = Baggage::parse(&String::from_utf8_lossy(&bytes));
        }
    }
}
