//! The `sentry-trace` propagation header (PROTOCOL.md §9.3).

use std::fmt;
use std::str::FromStr;

use crate::ids::{SpanId, TraceId};
use crate::tracing::HeaderBytes;

/// The HTTP header name: `sentry-trace`.
pub const SENTRY_TRACE_HEADER: &str = "sentry-trace";

/// The environment variable that carries a `sentry-trace` value into a subprocess.
pub const SENTRY_TRACE_ENV_VAR: &str = "SENTRY_TRACE";

/// The environment variable that carries a `baggage` value into a subprocess.
pub const SENTRY_BAGGAGE_ENV_VAR: &str = "SENTRY_BAGGAGE";

/// Why a `sentry-trace` value cannot be used to continue a trace.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SentryTraceError {
    /// The value is empty, or only blanks and commas.
    #[error("sentry-trace header is empty")]
    Empty,
    /// The value does not have the shape `<32 hex>-<16 hex>[-<0|1>]`.
    #[error(
        "sentry-trace header {0:?} is malformed: expected <trace_id 32 lowercase hex>-<span_id 16 lowercase hex>[-<0|1>]"
    )]
    Malformed(String),
    /// The value has the right shape but carries no trace id.
    #[error("sentry-trace header has no trace id: a trace cannot be continued without one")]
    MissingTraceId,
    /// The value has the right shape but carries no span id.
    #[error("sentry-trace header has no span id: a trace cannot be continued without one")]
    MissingSpanId,
    /// The value has the right shape but carries neither id (e.g. `-1`).
    #[error(
        "sentry-trace header has neither trace id nor span id: a trace cannot be continued without them"
    )]
    MissingIds,
}

/// A `sentry-trace` header: `<trace_id>-<span_id>[-<sampled>]`.
///
/// Parsing is as lenient as the reference SDKs: blanks are trimmed, the first non-empty of
/// several comma-joined values is used, and the value must match
/// `^[ \t]*([0-9a-f]{32})?-?([0-9a-f]{16})?-?([01])?[ \t]*$`. A value that matches but lacks the
/// trace id or the span id is still an error: crumbtrail never emits such a header and cannot
/// continue a trace from it, so the caller should start a new trace instead.
///
/// ```
/// use crumbtrail_protocol::SentryTrace;
/// let st: SentryTrace = " 4c79f60c11214eb38604f4ae0781bfb2-a1b2c3d4e5f60718-1 ".parse().unwrap();
/// assert_eq!(st.sampled, Some(true));
/// assert_eq!(st.to_string(), "4c79f60c11214eb38604f4ae0781bfb2-a1b2c3d4e5f60718-1");
/// assert!(SentryTrace::parse("a1b2c3d4e5f60718").is_err()); // no trace id
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SentryTrace {
    /// The trace to continue.
    pub trace_id: TraceId,
    /// The caller's span: the parent of the spans created for this request.
    pub span_id: SpanId,
    /// The upstream sampling decision; `None` means deferred (no suffix).
    pub sampled: Option<bool>,
}

impl SentryTrace {
    /// A header value from its parts.
    pub const fn new(trace_id: TraceId, span_id: SpanId, sampled: Option<bool>) -> Self {
        SentryTrace {
            trace_id,
            span_id,
            sampled,
        }
    }

    /// Parses a received header value (see the type's docs for the rules).
    pub fn parse(value: &str) -> Result<SentryTrace, SentryTraceError> {
        let value = value
            .split(',')
            .map(|v| v.trim_matches(is_blank))
            .find(|v| !v.is_empty())
            .ok_or(SentryTraceError::Empty)?;
        let caps = match_header(value.as_bytes())
            .ok_or_else(|| SentryTraceError::Malformed(value.to_owned()))?;
        let trace_id = caps.trace.map(|r| parse_range::<TraceId>(value, r));
        let span_id = caps.span.map(|r| parse_range::<SpanId>(value, r));
        let (trace_id, span_id) = match (trace_id, span_id) {
            (Some(Some(t)), Some(Some(s))) => (t, s),
            (None, None) => return Err(SentryTraceError::MissingIds),
            (None, _) => return Err(SentryTraceError::MissingTraceId),
            (_, None) => return Err(SentryTraceError::MissingSpanId),
            // The matcher only captures lowercase hex of the right length, so the ids parse.
            _ => return Err(SentryTraceError::Malformed(value.to_owned())),
        };
        Ok(SentryTrace {
            trace_id,
            span_id,
            sampled: caps.sampled,
        })
    }

    /// The longest value: 32 + 1 + 16 hex digits and dashes, and `-1`.
    pub const MAX_LEN: usize = 51;

    /// The value to send: `<trace_id>-<span_id>`, plus `-1` / `-0` when a decision exists.
    pub fn to_header_value(&self) -> String {
        self.to_header_bytes().into_string()
    }

    /// [`SentryTrace::to_header_value`] written on the stack: what `Display` writes, without
    /// the formatting machinery (one per outgoing request).
    ///
    /// ```
    /// use crumbtrail_protocol::SentryTrace;
    /// let st: SentryTrace = "4c79f60c11214eb38604f4ae0781bfb2-a1b2c3d4e5f60718-0".parse().unwrap();
    /// assert_eq!(st.to_header_bytes().as_str(), st.to_string());
    /// ```
    pub fn to_header_bytes(&self) -> HeaderBytes<{ SentryTrace::MAX_LEN }> {
        let mut out = HeaderBytes::new();
        self.write_header(&mut out);
        out
    }

    /// Appends [`SentryTrace::to_header_value`] to `out`.
    pub fn write_header<const N: usize>(&self, out: &mut HeaderBytes<N>) {
        out.push_ascii(&self.trace_id.to_hex());
        out.push_str("-");
        out.push_ascii(&self.span_id.to_hex());
        match self.sampled {
            Some(true) => out.push_str("-1"),
            Some(false) => out.push_str("-0"),
            None => {}
        }
    }
}

impl FromStr for SentryTrace {
    type Err = SentryTraceError;

    fn from_str(s: &str) -> Result<Self, SentryTraceError> {
        SentryTrace::parse(s)
    }
}

impl fmt::Display for SentryTrace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.trace_id, self.span_id)?;
        match self.sampled {
            Some(true) => f.write_str("-1"),
            Some(false) => f.write_str("-0"),
            None => Ok(()),
        }
    }
}

fn is_blank(c: char) -> bool {
    c == ' ' || c == '\t'
}

fn parse_range<T: FromStr>(s: &str, r: (usize, usize)) -> Option<T> {
    s.get(r.0..r.1)?.parse().ok()
}

/// What the regex's groups captured: byte ranges of the ids and the sampled flag.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
struct Captures {
    trace: Option<(usize, usize)>,
    span: Option<(usize, usize)>,
    sampled: Option<bool>,
}

/// The optional elements of `([0-9a-f]{32})?-?([0-9a-f]{16})?-?([01])?`, in order.
const ELEMENTS: [Element; 5] = [
    Element::Hex(32),
    Element::Dash,
    Element::Hex(16),
    Element::Dash,
    Element::Flag,
];

#[derive(Clone, Copy)]
enum Element {
    Hex(usize),
    Dash,
    Flag,
}

/// Matches the trimmed value against the regex's body, anchored at both ends, with the
/// regex's own semantics: each optional element is tried present first (greedy), then absent,
/// backtracking until the whole input is consumed.
fn match_header(input: &[u8]) -> Option<Captures> {
    fn step(input: &[u8], pos: usize, idx: usize, caps: Captures) -> Option<Captures> {
        let Some(element) = ELEMENTS.get(idx) else {
            return (pos == input.len()).then_some(caps);
        };
        let rest = input.get(pos..).unwrap_or_default();
        let taken = match *element {
            Element::Hex(n) => {
                let is_hex = |b: &u8| b.is_ascii_digit() || (b'a'..=b'f').contains(b);
                (rest.len() >= n && rest[..n].iter().all(is_hex)).then(|| {
                    let mut c = caps;
                    if n == 32 {
                        c.trace = Some((pos, pos + n));
                    } else {
                        c.span = Some((pos, pos + n));
                    }
                    (n, c)
                })
            }
            Element::Dash => (rest.first() == Some(&b'-')).then_some((1, caps)),
            Element::Flag => match rest.first() {
                Some(b'0') => Some((
                    1,
                    Captures {
                        sampled: Some(false),
                        ..caps
                    },
                )),
                Some(b'1') => Some((
                    1,
                    Captures {
                        sampled: Some(true),
                        ..caps
                    },
                )),
                _ => None,
            },
        };
        taken
            .and_then(|(len, c)| step(input, pos + len, idx + 1, c))
            .or_else(|| step(input, pos, idx + 1, caps))
    }
    step(input, 0, 0, Captures::default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const TRACE: &str = "4c79f60c11214eb38604f4ae0781bfb2";
    const SPAN: &str = "a1b2c3d4e5f60718";

    fn ids() -> (TraceId, SpanId) {
        (TRACE.parse().unwrap(), SPAN.parse().unwrap())
    }

    #[test]
    fn parses_the_three_sampling_states() {
        let (t, s) = ids();
        for (suffix, sampled) in [("-1", Some(true)), ("-0", Some(false)), ("", None)] {
            let header = format!("{TRACE}-{SPAN}{suffix}");
            let st = SentryTrace::parse(&header).unwrap();
            assert_eq!(st, SentryTrace::new(t, s, sampled));
            assert_eq!(st.to_header_value(), header);
        }
    }

    #[test]
    fn trims_blanks_and_takes_first_non_empty_of_several_values() {
        let (t, s) = ids();
        let want = SentryTrace::new(t, s, Some(false));
        assert_eq!(
            SentryTrace::parse(&format!("\t {TRACE}-{SPAN}-0 \t")),
            Ok(want)
        );
        let joined = format!(" , \t,{TRACE}-{SPAN}-0, ffffffffffffffffffffffffffffffff-{SPAN}-1");
        assert_eq!(SentryTrace::parse(&joined), Ok(want));
        // The first non-empty value decides, even when it is bad.
        let bad_first = format!("nope,{TRACE}-{SPAN}");
        assert!(matches!(
            SentryTrace::parse(&bad_first),
            Err(SentryTraceError::Malformed(v)) if v == "nope"
        ));
    }

    #[test]
    fn dashes_are_optional_as_in_the_regex() {
        let (t, s) = ids();
        assert_eq!(
            SentryTrace::parse(&format!("{TRACE}{SPAN}1")),
            Ok(SentryTrace::new(t, s, Some(true)))
        );
        assert_eq!(
            SentryTrace::parse(&format!("{TRACE}{SPAN}-0")),
            Ok(SentryTrace::new(t, s, Some(false)))
        );
    }

    #[test]
    fn missing_ids_are_reported_by_name() {
        use SentryTraceError::*;
        assert_eq!(SentryTrace::parse(SPAN), Err(MissingTraceId));
        assert_eq!(
            SentryTrace::parse(&format!("-{SPAN}-1")),
            Err(MissingTraceId)
        );
        assert_eq!(SentryTrace::parse(TRACE), Err(MissingSpanId));
        assert_eq!(
            SentryTrace::parse(&format!("{TRACE}--1")),
            Err(MissingSpanId)
        );
        assert_eq!(SentryTrace::parse("-1"), Err(MissingIds));
        assert_eq!(SentryTrace::parse("--"), Err(MissingIds));
        assert!(MissingSpanId.to_string().contains("no span id"));
    }

    #[test]
    fn rejects_what_the_regex_rejects() {
        let upper = format!("{}-{SPAN}", TRACE.to_uppercase());
        for bad in [
            upper.as_str(),
            "4c79f60c11214eb38604f4ae0781bfb-a1b2c3d4e5f60718",
            &format!("{TRACE}-{SPAN}-2"),
            &format!("{TRACE}-{SPAN}-1-"),
            &format!("{TRACE}-{SPAN}x"),
            &format!("{TRACE} -{SPAN}"),
            &format!("{TRACE}-{SPAN}-1\n"),
            "---",
        ] {
            assert!(
                matches!(SentryTrace::parse(bad), Err(SentryTraceError::Malformed(_))),
                "{bad:?}"
            );
        }
        assert_eq!(SentryTrace::parse(" ,\t, "), Err(SentryTraceError::Empty));
        assert_eq!(SentryTrace::parse(""), Err(SentryTraceError::Empty));
        let msg = SentryTrace::parse("x").unwrap_err().to_string();
        assert!(msg.contains("\"x\"") && msg.contains("<0|1>"), "{msg}");
    }

    #[test]
    fn env_var_and_header_names() {
        assert_eq!(SENTRY_TRACE_HEADER, "sentry-trace");
        assert_eq!(SENTRY_TRACE_ENV_VAR, "SENTRY_TRACE");
        assert_eq!(SENTRY_BAGGAGE_ENV_VAR, "SENTRY_BAGGAGE");
    }

    proptest! {
        #[test]
        fn format_then_parse_round_trips(
            t in any::<[u8; 16]>(),
            s in any::<[u8; 8]>(),
            sampled in any::<Option<bool>>(),
        ) {
            let st = SentryTrace::new(TraceId::from_bytes(t), SpanId::from_bytes(s), sampled);
            let header = st.to_string();
            prop_assert_eq!(&st.to_header_value(), &header);
            prop_assert_eq!(SentryTrace::parse(&header), Ok(st));
            prop_assert_eq!(header.parse::<SentryTrace>(), Ok(st));
        }

        #[test]
        fn never_panics_on_any_string(s in ".*") {
            let _ = SentryTrace::parse(&s);
        }

        #[test]
        fn never_panics_on_near_miss_strings(s in "[0-9a-fA-F01\\- \t,]{0,80}") {
            if let Ok(st) = SentryTrace::parse(&s) {
                // Whatever parses formats canonically and parses back the same.
                prop_assert_eq!(SentryTrace::parse(&st.to_string()), Ok(st));
            }
        }

        #[test]
        fn never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..128)) {
            let _ = SentryTrace::parse(&String::from_utf8_lossy(&bytes));
        }
    }
}
