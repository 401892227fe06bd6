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
                Some(name) => baggage
                    .dsc
                    .set(name, percent_decode_str(value).decode_utf8_lossy()),
                None => baggage.third_party.push(member.to_owned()),
            }
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
        let mut first = true;
        for member in &self.third_party {
            if !first {
                f.write_str(",")?;
            }
            first = false;
            f.write_str(member)?;
        }
        if !first && !self.dsc.is_empty() {
            f.write_str(",")?;
        }
        write_sentry_entries(f, &self.dsc)
    }
}

impl DynamicSamplingContext {
    /// The DSC from the `sentry-*` entries of a `baggage` header (third-party members ignored).
    pub fn from_baggage(header: &str) -> Self {
        Baggage::parse(header).dsc
    }

    /// The `sentry-*` entries as a `baggage` value, in the §9.5 order:
    /// `sentry-trace_id=...,sentry-public_key=...,...`. Empty when the DSC is empty.
    pub fn to_baggage(&self) -> String {
        struct Entries<'a>(&'a DynamicSamplingContext);
        impl fmt::Display for Entries<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write_sentry_entries(f, self.0)
            }
        }
        Entries(self).to_string()
    }
}

/// The `baggage` value for an outgoing request (§9.5): the third-party members of the header
/// the request already has (if any), with every `sentry-*` entry in it replaced by `dsc`'s.
/// `None` when the result would be empty, meaning: send no `baggage` header.
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

fn write_sentry_entries(f: &mut fmt::Formatter<'_>, dsc: &DynamicSamplingContext) -> fmt::Result {
    for (i, (key, value)) in dsc.iter().enumerate() {
        if i > 0 {
            f.write_str(",")?;
        }
        let value = utf8_percent_encode(value, VALUE_ENCODE_SET);
        write!(f, "{SENTRY_BAGGAGE_PREFIX}{key}={value}")?;
    }
    Ok(())
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
