//! Outgoing trace headers: `sentry-trace`, `baggage` and, when asked for, `traceparent`
//! (PROTOCOL.md §9.3, §9.5).

use crumbtrail_core::Client;
use crumbtrail_core::protocol::{
    BAGGAGE_HEADER, DynamicSamplingContext, SENTRY_TRACE_HEADER, SentryTrace, SpanId,
    TRACEPARENT_HEADER, TraceId, TraceParent, merge_baggage,
};
use reqwest::header::{Entry, HeaderMap, HeaderName, HeaderValue};

const SENTRY_TRACE: HeaderName = HeaderName::from_static(SENTRY_TRACE_HEADER);
const BAGGAGE: HeaderName = HeaderName::from_static(BAGGAGE_HEADER);
const TRACEPARENT: HeaderName = HeaderName::from_static(TRACEPARENT_HEADER);

/// What an outgoing request carries of the current unit of work's trace.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct OutgoingTrace {
    pub(crate) trace_id: TraceId,
    pub(crate) span_id: SpanId,
    pub(crate) sampled: Option<bool>,
    /// The `sentry-*` baggage entries (empty when there are none to pass on).
    pub(crate) baggage: String,
}

impl OutgoingTrace {
    /// The trace of the current scope, with its frozen DSC if it came in from elsewhere, else a
    /// DSC built from the trace id, the DSN and the client's release and environment (as the
    /// `trace` envelope header is). `None` when the scope has no trace.
    pub(crate) fn current(client: &Client) -> Option<OutgoingTrace> {
        let p = crumbtrail_core::propagation_context()?;
        Some(OutgoingTrace {
            trace_id: p.trace_id,
            span_id: p.span_id,
            sampled: p.sampled,
            baggage: p.baggage(client),
        })
    }

    /// Sets `sentry-trace` (and `traceparent` when `traceparent` is true), replacing any the
    /// request had, and merges the Sentry entries into its `baggage`, keeping third-party
    /// members and replacing `sentry-*` ones. Several `baggage` headers become one.
    pub(crate) fn apply(self, headers: &mut HeaderMap, traceparent: bool) {
        let sentry_trace = SentryTrace::new(self.trace_id, self.span_id, self.sampled);
        // Moved into the header without a copy.
        if let Ok(value) = HeaderValue::try_from(sentry_trace.to_header_value()) {
            headers.insert(SENTRY_TRACE, value);
        }
        if traceparent {
            let value = TraceParent::from(sentry_trace).to_header_value();
            if let Ok(value) = HeaderValue::from_str(&value) {
                headers.insert(TRACEPARENT, value);
            }
        }
        if let Entry::Vacant(slot) = headers.entry(BAGGAGE) {
            // Nothing to merge with: the Sentry entries alone, or no header when there are none.
            if !self.baggage.is_empty() {
                if let Ok(value) = HeaderValue::try_from(self.baggage) {
                    slot.insert(value);
                }
            }
            return;
        }
        let existing: Vec<&str> = headers
            .get_all(&BAGGAGE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect();
        let existing = (!existing.is_empty()).then(|| existing.join(","));
        let ours = DynamicSamplingContext::from_baggage(&self.baggage);
        match merge_baggage(existing.as_deref(), &ours) {
            Some(merged) => {
                // Percent-encoded entries and already-valid third-party ones always form a
                // valid value; if not, the caller's header is kept as written.
                if let Ok(value) = HeaderValue::try_from(merged) {
                    headers.insert(BAGGAGE, value);
                }
            }
            // Nothing left once stale sentry entries are dropped: send no header.
            None => {
                headers.remove(BAGGAGE);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TRACE: &str = "4c79f60c11214eb38604f4ae0781bfb2";
    const SPAN: &str = "a1b2c3d4e5f60718";

    fn trace(sampled: Option<bool>, dsc: DynamicSamplingContext) -> OutgoingTrace {
        OutgoingTrace {
            trace_id: TRACE.parse().unwrap(),
            span_id: SPAN.parse().unwrap(),
            sampled,
            baggage: dsc.to_baggage(),
        }
    }

    fn dsc(entries: &[(&str, &str)]) -> DynamicSamplingContext {
        let mut dsc = DynamicSamplingContext::new();
        for (k, v) in entries {
            dsc.set(*k, *v);
        }
        dsc
    }

    fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
        headers.get(name).and_then(|v| v.to_str().ok())
    }

    #[test]
    fn sentry_trace_carries_the_decision_only_when_there_is_one() {
        for (sampled, want) in [
            (None, format!("{TRACE}-{SPAN}")),
            (Some(true), format!("{TRACE}-{SPAN}-1")),
            (Some(false), format!("{TRACE}-{SPAN}-0")),
        ] {
            let mut headers = HeaderMap::new();
            trace(sampled, dsc(&[("trace_id", TRACE)])).apply(&mut headers, false);
            assert_eq!(header(&headers, "sentry-trace"), Some(want.as_str()));
            assert_eq!(header(&headers, "traceparent"), None);
        }
    }

    #[test]
    fn traceparent_only_when_asked_for() {
        let mut headers = HeaderMap::new();
        trace(Some(true), DynamicSamplingContext::new()).apply(&mut headers, true);
        assert_eq!(
            header(&headers, "traceparent"),
            Some(format!("00-{TRACE}-{SPAN}-01").as_str())
        );
        let mut headers = HeaderMap::new();
        trace(None, DynamicSamplingContext::new()).apply(&mut headers, true);
        assert_eq!(
            header(&headers, "traceparent"),
            Some(format!("00-{TRACE}-{SPAN}-00").as_str())
        );
    }

    #[test]
    fn existing_trace_headers_are_replaced() {
        let mut headers = HeaderMap::new();
        headers.insert("sentry-trace", HeaderValue::from_static("stale"));
        headers.insert("traceparent", HeaderValue::from_static("stale"));
        trace(None, DynamicSamplingContext::new()).apply(&mut headers, true);
        assert_eq!(headers.get_all("sentry-trace").iter().count(), 1);
        assert_ne!(header(&headers, "sentry-trace"), Some("stale"));
        assert_ne!(header(&headers, "traceparent"), Some("stale"));
    }

    #[test]
    fn baggage_merges_keeping_third_party_and_replacing_sentry_entries() {
        let mut headers = HeaderMap::new();
        headers.append(
            "baggage",
            HeaderValue::from_static("vendor=1, sentry-release=old"),
        );
        headers.append("baggage", HeaderValue::from_static("other=a%20b;prop"));
        let ours = dsc(&[
            ("trace_id", TRACE),
            ("public_key", "pk"),
            ("release", "shop@2"),
        ]);
        trace(None, ours).apply(&mut headers, false);
        let values: Vec<_> = headers.get_all("baggage").iter().collect();
        assert_eq!(values.len(), 1, "several baggage headers become one");
        assert_eq!(
            values[0].to_str().unwrap(),
            format!(
                "vendor=1,other=a%20b;prop,sentry-trace_id={TRACE},sentry-public_key=pk,sentry-release=shop%402"
            )
        );
    }

    #[test]
    fn baggage_is_left_out_when_there_is_nothing_to_send() {
        let mut headers = HeaderMap::new();
        trace(None, DynamicSamplingContext::new()).apply(&mut headers, false);
        assert!(headers.get("baggage").is_none());
        // An empty frozen DSC (a continued trace without sentry entries) strips stale ones.
        let mut headers = HeaderMap::new();
        headers.insert(
            "baggage",
            HeaderValue::from_static("sentry-release=x,vendor=1"),
        );
        trace(None, DynamicSamplingContext::new()).apply(&mut headers, false);
        assert_eq!(header(&headers, "baggage"), Some("vendor=1"));
    }

    #[test]
    fn the_headers_are_what_the_protocol_types_format() {
        for sampled in [None, Some(true), Some(false)] {
            let t = trace(sampled, DynamicSamplingContext::new());
            let want = SentryTrace::new(t.trace_id, t.span_id, sampled).to_string();
            let mut headers = HeaderMap::new();
            t.apply(&mut headers, false);
            assert_eq!(header(&headers, "sentry-trace"), Some(want.as_str()));
        }
        let mut other = dsc(&[("trace_id", TRACE), ("environment", "prod-2.x_~")]);
        other.other.insert("custom".into(), "v".into());
        for dsc in [
            DynamicSamplingContext::new(),
            dsc(&[("trace_id", TRACE)]),
            dsc(&[
                ("trace_id", TRACE),
                ("sampled", "true"),
                ("sample_rate", "0.25"),
            ]),
            other,
            // Values that need percent-encoding.
            dsc(&[
                ("trace_id", TRACE),
                ("release", "shop@1.0"),
                ("transaction", "GET /x"),
            ]),
            // A long one.
            dsc(&[("trace_id", TRACE), ("transaction", &"x".repeat(600))]),
        ] {
            let want = Some(dsc.to_baggage()).filter(|b| !b.is_empty());
            // Alone, and merged into a request's own baggage.
            let mut headers = HeaderMap::new();
            trace(None, dsc.clone()).apply(&mut headers, false);
            assert_eq!(
                header(&headers, "baggage").map(str::to_owned),
                want,
                "{dsc:?}"
            );
            let mut headers = HeaderMap::new();
            headers.insert("baggage", HeaderValue::from_static("vendor=1"));
            trace(None, dsc.clone()).apply(&mut headers, false);
            let merged = match &want {
                Some(ours) => format!("vendor=1,{ours}"),
                None => "vendor=1".to_owned(),
            };
            assert_eq!(
                header(&headers, "baggage"),
                Some(merged.as_str()),
                "{dsc:?}"
            );
        }
    }
}
