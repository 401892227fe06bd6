//! The W3C `traceparent` header (PROTOCOL.md §9.3), sent only when `propagate_traceparent` is
//! set.

use std::fmt;
use std::str::FromStr;

use crate::ids::{SpanId, TraceId};
use crate::tracing::SentryTrace;

/// The HTTP header name: `traceparent`.
pub const TRACEPARENT_HEADER: &str = "traceparent";

/// The length of a version-`00` value: `00-<32 hex>-<16 hex>-<2 hex>`.
const V00_LEN: usize = 55;

/// Why a `traceparent` value is invalid (W3C Trace Context: the receiver then starts a new
/// trace).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TraceParentError {
    /// The value is shorter than a version-`00` header.
    #[error(
        "traceparent must be at least 55 characters (00-<32 hex>-<16 hex>-<2 hex>), got {0} bytes"
    )]
    TooShort(usize),
    /// A version-`00` value has more than the four fields, or a later version's extra data
    /// does not start with `-`.
    #[error("traceparent has unexpected data after the flags field")]
    TrailingData,
    /// A field is not lowercase hex of the right length, or the separators are wrong.
    #[error("traceparent {field} must be {len} lowercase hex characters, separated by '-'")]
    InvalidField {
        /// The field name: `version`, `trace-id`, `parent-id` or `trace-flags`.
        field: &'static str,
        /// Its length in hex characters.
        len: usize,
    },
    /// Version `ff` is forbidden.
    #[error("traceparent version ff is forbidden")]
    ForbiddenVersion,
    /// The trace id is all zeros, which W3C declares invalid.
    #[error("traceparent trace-id is all zeros, which is invalid")]
    ZeroTraceId,
    /// The parent id is all zeros, which W3C declares invalid.
    #[error("traceparent parent-id is all zeros, which is invalid")]
    ZeroSpanId,
}

/// A W3C `traceparent` header: `00-<trace_id>-<parent span_id>-<flags>`.
///
/// Only the `sampled` flag (bit 0) is kept; crumbtrail always writes version `00` with flags
/// `01` (sampled) or `00` (not sampled, or deferred). Parsing follows W3C Trace Context:
/// lowercase hex only, version `ff` and all-zero ids rejected, and a version above `00` may
/// carry further `-`-separated fields after the flags, which are ignored.
///
/// ```
/// use crumbtrail_protocol::{SentryTrace, TraceParent};
/// let tp: TraceParent = "00-4c79f60c11214eb38604f4ae0781bfb2-a1b2c3d4e5f60718-01".parse().unwrap();
/// assert!(tp.sampled);
/// let st = SentryTrace::from(tp);
/// assert_eq!(st.to_string(), "4c79f60c11214eb38604f4ae0781bfb2-a1b2c3d4e5f60718-1");
/// assert_eq!(TraceParent::from(st), tp);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TraceParent {
    /// The trace id (never all zeros in a valid header).
    pub trace_id: TraceId,
    /// The caller's span (`parent-id`; never all zeros in a valid header).
    pub span_id: SpanId,
    /// Bit 0 of `trace-flags`.
    pub sampled: bool,
}

impl TraceParent {
    /// A header value from its parts.
    pub const fn new(trace_id: TraceId, span_id: SpanId, sampled: bool) -> Self {
        TraceParent {
            trace_id,
            span_id,
            sampled,
        }
    }

    /// Parses a received header value. Surrounding spaces and tabs are ignored.
    pub fn parse(value: &str) -> Result<TraceParent, TraceParentError> {
        let s = value.trim_matches(|c| c == ' ' || c == '\t');
        let b = s.as_bytes();
        if b.len() < V00_LEN {
            return Err(TraceParentError::TooShort(b.len()));
        }
        let field = |start: usize, len: usize, name: &'static str| {
            let bytes = b.get(start..start + len);
            let sep_ok = b.get(start + len).is_none_or(|&c| c == b'-');
            match (bytes, sep_ok) {
                (Some(bytes), true) if bytes.iter().all(is_lower_hex) => s
                    .get(start..start + len)
                    .ok_or(TraceParentError::InvalidField { field: name, len }),
                _ => Err(TraceParentError::InvalidField { field: name, len }),
            }
        };
        let version = field(0, 2, "version")?;
        if version == "ff" {
            return Err(TraceParentError::ForbiddenVersion);
        }
        let trace = field(3, 32, "trace-id")?;
        let span = field(36, 16, "parent-id")?;
        let flags = field(53, 2, "trace-flags")?;
        // After the flags: nothing for version 00; for later versions, `-` and anything.
        if b.len() > V00_LEN && (version == "00" || b[V00_LEN] != b'-') {
            return Err(TraceParentError::TrailingData);
        }
        let invalid = |field, len| TraceParentError::InvalidField { field, len };
        let trace_id: TraceId = trace.parse().map_err(|_| invalid("trace-id", 32))?;
        let span_id: SpanId = span.parse().map_err(|_| invalid("parent-id", 16))?;
        let flags = u8::from_str_radix(flags, 16).map_err(|_| invalid("trace-flags", 2))?;
        if trace_id.is_zero() {
            return Err(TraceParentError::ZeroTraceId);
        }
        if span_id.is_zero() {
            return Err(TraceParentError::ZeroSpanId);
        }
        Ok(TraceParent {
            trace_id,
            span_id,
            sampled: flags & 0x01 == 0x01,
        })
    }

    /// The value to send: `00-<trace_id>-<span_id>-01` or `...-00`.
    pub fn to_header_value(&self) -> String {
        self.to_string()
    }
}

fn is_lower_hex(b: &u8) -> bool {
    b.is_ascii_digit() || (b'a'..=b'f').contains(b)
}

impl FromStr for TraceParent {
    type Err = TraceParentError;

    fn from_str(s: &str) -> Result<Self, TraceParentError> {
        TraceParent::parse(s)
    }
}

impl fmt::Display for TraceParent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let flags = if self.sampled { "01" } else { "00" };
        write!(f, "00-{}-{}-{flags}", self.trace_id, self.span_id)
    }
}

impl From<TraceParent> for SentryTrace {
    /// A `traceparent` always carries a decision: `sampled` becomes `Some(..)`.
    fn from(tp: TraceParent) -> Self {
        SentryTrace::new(tp.trace_id, tp.span_id, Some(tp.sampled))
    }
}

impl From<SentryTrace> for TraceParent {
    /// A deferred decision (`None`) is written as not sampled (`00`), as W3C has no deferred
    /// state.
    fn from(st: SentryTrace) -> Self {
        TraceParent::new(st.trace_id, st.span_id, st.sampled == Some(true))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const TRACE: &str = "4c79f60c11214eb38604f4ae0781bfb2";
    const SPAN: &str = "a1b2c3d4e5f60718";

    fn tp(sampled: bool) -> TraceParent {
        TraceParent::new(TRACE.parse().unwrap(), SPAN.parse().unwrap(), sampled)
    }

    #[test]
    fn parses_and_formats_version_00() {
        let sampled = format!("00-{TRACE}-{SPAN}-01");
        assert_eq!(TraceParent::parse(&sampled), Ok(tp(true)));
        assert_eq!(tp(true).to_header_value(), sampled);
        let unsampled = format!("00-{TRACE}-{SPAN}-00");
        assert_eq!(TraceParent::parse(&unsampled), Ok(tp(false)));
        assert_eq!(tp(false).to_string(), unsampled);
        // Other flag bits are read but only bit 0 matters.
        assert_eq!(
            TraceParent::parse(&format!("00-{TRACE}-{SPAN}-03")),
            Ok(tp(true))
        );
        assert_eq!(
            TraceParent::parse(&format!("00-{TRACE}-{SPAN}-02")),
            Ok(tp(false))
        );
        assert_eq!(
            TraceParent::parse(&format!(" 00-{TRACE}-{SPAN}-01\t")),
            Ok(tp(true))
        );
    }

    #[test]
    fn later_versions_may_carry_extra_fields() {
        assert_eq!(
            TraceParent::parse(&format!("01-{TRACE}-{SPAN}-01")),
            Ok(tp(true))
        );
        assert_eq!(
            TraceParent::parse(&format!("cc-{TRACE}-{SPAN}-01-what-the-future-will-be")),
            Ok(tp(true))
        );
        assert_eq!(
            TraceParent::parse(&format!("cc-{TRACE}-{SPAN}-01what")),
            Err(TraceParentError::InvalidField {
                field: "trace-flags",
                len: 2
            })
        );
        assert_eq!(
            TraceParent::parse(&format!("00-{TRACE}-{SPAN}-01-extra")),
            Err(TraceParentError::TrailingData)
        );
    }

    #[test]
    fn rejects_invalid_values() {
        use TraceParentError::*;
        let zeros32 = "0".repeat(32);
        let zeros16 = "0".repeat(16);
        let upper = TRACE.to_uppercase();
        let cases = [
            (format!("ff-{TRACE}-{SPAN}-01"), ForbiddenVersion),
            (format!("00-{zeros32}-{SPAN}-01"), ZeroTraceId),
            (format!("00-{TRACE}-{zeros16}-01"), ZeroSpanId),
            (
                format!("00-{upper}-{SPAN}-01"),
                InvalidField {
                    field: "trace-id",
                    len: 32,
                },
            ),
            (
                format!("0A-{TRACE}-{SPAN}-01"),
                InvalidField {
                    field: "version",
                    len: 2,
                },
            ),
            (
                format!("00-{TRACE}-{SPAN}-0g"),
                InvalidField {
                    field: "trace-flags",
                    len: 2,
                },
            ),
            (
                format!("00_{TRACE}-{SPAN}-01"),
                InvalidField {
                    field: "version",
                    len: 2,
                },
            ),
            (
                format!("00-{TRACE}a-{SPAN}-1"),
                InvalidField {
                    field: "trace-id",
                    len: 32,
                },
            ),
            (
                format!("00-{TRACE}-{SPAN}a-1"),
                InvalidField {
                    field: "parent-id",
                    len: 16,
                },
            ),
            (format!("00-{TRACE}-{SPAN}-1"), TooShort(54)),
            (String::new(), TooShort(0)),
        ];
        for (input, want) in cases {
            assert_eq!(TraceParent::parse(&input), Err(want), "{input:?}");
        }
        assert_eq!(
            ZeroTraceId.to_string(),
            "traceparent trace-id is all zeros, which is invalid"
        );
    }

    #[test]
    fn converts_to_and_from_sentry_trace() {
        let st = SentryTrace::from(tp(false));
        assert_eq!(st.sampled, Some(false));
        assert_eq!(st.trace_id, tp(false).trace_id);
        let deferred = SentryTrace {
            sampled: None,
            ..st
        };
        assert_eq!(TraceParent::from(deferred), tp(false));
        let yes = SentryTrace {
            sampled: Some(true),
            ..st
        };
        assert_eq!(TraceParent::from(yes), tp(true));
    }

    proptest! {
        #[test]
        fn format_then_parse_round_trips(
            t in any::<[u8; 16]>().prop_filter("non-zero", |b| b != &[0; 16]),
            s in any::<[u8; 8]>().prop_filter("non-zero", |b| b != &[0; 8]),
            sampled in any::<bool>(),
        ) {
            let tp = TraceParent::new(TraceId::from_bytes(t), SpanId::from_bytes(s), sampled);
            prop_assert_eq!(TraceParent::parse(&tp.to_string()), Ok(tp));
            let via_sentry = TraceParent::from(SentryTrace::from(tp));
            prop_assert_eq!(via_sentry, tp);
        }

        #[test]
        fn never_panics_on_any_string(s in ".*") {
            let _ = TraceParent::parse(&s);
        }

        #[test]
        fn never_panics_on_near_miss_strings(s in "[0-9a-fA-F\\- \té]{50,70}") {
            if let Ok(tp) = TraceParent::parse(&s) {
                prop_assert_eq!(TraceParent::parse(&tp.to_string()), Ok(tp));
            }
        }

        #[test]
        fn never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..128)) {
            let _ = TraceParent::parse(&String::from_utf8_lossy(&bytes));
        }
    }
}
