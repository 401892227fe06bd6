//! Outgoing trace headers: `sentry-trace`, `baggage` and, when asked for, `traceparent`
//! (PROTOCOL.md §9.3, §9.5).

use crumbtrail_core::protocol::{
    BAGGAGE_HEADER, DynamicSamplingContext, HeaderBytes, SENTRY_TRACE_HEADER, SentryTrace,
    TRACEPARENT_HEADER, TraceParent, merge_baggage,
};
use crumbtrail_core::{BAGGAGE_INLINE, Client, PropagationContext};
use reqwest::header::{Entry, HeaderMap, HeaderName, HeaderValue};

const SENTRY_TRACE: HeaderName = HeaderName::from_static(SENTRY_TRACE_HEADER);
const BAGGAGE: HeaderName = HeaderName::from_static(BAGGAGE_HEADER);
const TRACEPARENT: HeaderName = HeaderName::from_static(TRACEPARENT_HEADER);

/// What an outgoing request carries of the current unit of work's trace.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct OutgoingTrace(pub(crate) PropagationContext);

/// The trace headers' values, written one after the other on the stack: `sentry-trace`,
/// `traceparent` (55 bytes) and `baggage`.
type Values = HeaderBytes<{ SentryTrace::MAX_LEN + 55 + BAGGAGE_INLINE }>;

/// Header values for the non-empty ranges of `values`, all in one allocation (the slices
/// share it), which clones by reference count (reqwest copies a request's headers to follow
/// redirects): a `String` per header would cost two allocations each, its own and the shared
/// header `Bytes` promotes it to on that copy.
fn header_values<const K: usize>(
    values: Values,
    ranges: [std::ops::Range<usize>; K],
) -> [Option<HeaderValue>; K] {
    let bytes = bytes::Bytes::from_owner(values);
    ranges.map(|r| {
        let value = (!r.is_empty()).then(|| HeaderValue::from_maybe_shared(bytes.slice(r)));
        value?.ok()
    })
}

impl OutgoingTrace {
    /// Sets `sentry-trace` (and `traceparent` when `traceparent` is true), replacing any the
    /// request had, and merges the Sentry entries into its `baggage`, keeping third-party
    /// members and replacing `sentry-*` ones. Several `baggage` headers become one; values
    /// that are not visible ASCII are kept as they were, as headers of their own before it.
    /// Sentry entries that would take the merged value past `MAX_BAGGAGE_BYTES` are left out.
    ///
    /// The entries are the trace's frozen DSC if it came in from elsewhere (or a transaction
    /// froze it), else those of a trace that starts here: the trace id, the DSN and the
    /// client's release and environment (as the `trace` envelope header has them).
    pub(crate) fn apply(self, headers: &mut HeaderMap, traceparent: bool, client: &Client) {
        let p = &self.0;
        let sentry_trace = SentryTrace::new(p.trace_id, p.span_id, p.sampled);
        let mut values = Values::new();
        sentry_trace.write_header(&mut values);
        let trace_end = values.len();
        if traceparent {
            values.push_str(&TraceParent::from(sentry_trace).to_header_value());
        }
        let traceparent_end = values.len();
        p.write_baggage(client, &mut values);
        let baggage = traceparent_end..values.len();
        let [st, tp, bg] =
            header_values(values, [0..trace_end, trace_end..traceparent_end, baggage]);
        if let Some(value) = st {
            headers.insert(SENTRY_TRACE, value);
        }
        if let Some(value) = tp {
            headers.insert(TRACEPARENT, value);
        }
        if let Entry::Vacant(slot) = headers.entry(BAGGAGE) {
            // Nothing to merge with: the Sentry entries alone, or no header when there are none.
            if let Some(value) = bg {
                slot.insert(value);
            }
            return;
        }
        // Values that are not visible ASCII cannot be merged as text: they are kept as they
        // were (stale `sentry-*` entries in them included), so that nothing of the caller's
        // is lost, and go first, so that ours, last, win where both have a key.
        let mut existing = Vec::new();
        let mut opaque = Vec::new();
        for value in headers.get_all(&BAGGAGE) {
            match value.to_str() {
                Ok(text) => existing.push(text),
                Err(_) => opaque.push(value.clone()),
            }
        }
        let existing = (!existing.is_empty()).then(|| existing.join(","));
        let ours = bg
            .as_ref()
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        let ours = DynamicSamplingContext::from_baggage(ours);
        let merged = match merge_baggage(existing.as_deref(), &ours).map(HeaderValue::try_from) {
            Some(Ok(value)) => Some(value),
            // Percent-encoded entries and already-valid third-party ones always form a valid
            // value; if not, the caller's header is kept as written.
            Some(Err(_)) => return,
            // Nothing left once stale sentry entries are dropped: no merged value.
            None => None,
        };
        headers.remove(BAGGAGE);
        for value in opaque.into_iter().chain(merged) {
            headers.append(BAGGAGE, value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TRACE: &str = "4c79f60c11214eb38604f4ae0781bfb2";
    const SPAN: &str = "a1b2c3d4e5f60718";

    fn trace(sampled: Option<bool>, dsc: DynamicSamplingContext) -> OutgoingTrace {
        let mut ctx = PropagationContext::new();
        ctx.trace_id = TRACE.parse().unwrap();
        ctx.span_id = SPAN.parse().unwrap();
        ctx.sampled = sampled;
        ctx.dsc = Some(std::sync::Arc::new(dsc));
        OutgoingTrace(ctx)
    }

    fn client() -> Client {
        Client::new(crumbtrail_core::ClientOptions::default()).unwrap()
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
            trace(sampled, dsc(&[("trace_id", TRACE)])).apply(&mut headers, false, &client());
            assert_eq!(header(&headers, "sentry-trace"), Some(want.as_str()));
            assert_eq!(header(&headers, "traceparent"), None);
        }
    }

    #[test]
    fn three_headers_cut_from_one_buffer_each_hold_exactly_their_value() {
        let d = dsc(&[
            ("trace_id", TRACE),
            ("release", "shop@1.0"),
            ("sampled", "true"),
        ]);
        let mut headers = HeaderMap::new();
        trace(Some(true), d.clone()).apply(&mut headers, true, &client());
        assert_eq!(
            header(&headers, "sentry-trace"),
            Some(format!("{TRACE}-{SPAN}-1").as_str())
        );
        assert_eq!(
            header(&headers, "traceparent"),
            Some(format!("00-{TRACE}-{SPAN}-01").as_str())
        );
        assert_eq!(header(&headers, "baggage"), Some(d.to_baggage().as_str()));
        // reqwest copies the headers to follow redirects: the copies read the same.
        let copy = headers.clone();
        drop(headers);
        assert_eq!(header(&copy, "baggage"), Some(d.to_baggage().as_str()));
    }

    #[test]
    fn a_baggage_longer_than_the_stack_buffer_is_sent_whole() {
        let release = "r".repeat(2 * BAGGAGE_INLINE);
        let d = dsc(&[("trace_id", TRACE), ("release", release.as_str())]);
        let mut headers = HeaderMap::new();
        trace(None, d.clone()).apply(&mut headers, true, &client());
        assert_eq!(header(&headers, "baggage"), Some(d.to_baggage().as_str()));
        assert_eq!(
            header(&headers, "sentry-trace"),
            Some(format!("{TRACE}-{SPAN}").as_str())
        );
    }

    #[test]
    fn traceparent_only_when_asked_for() {
        let mut headers = HeaderMap::new();
        trace(Some(true), DynamicSamplingContext::new()).apply(&mut headers, true, &client());
        assert_eq!(
            header(&headers, "traceparent"),
            Some(format!("00-{TRACE}-{SPAN}-01").as_str())
        );
        let mut headers = HeaderMap::new();
        trace(None, DynamicSamplingContext::new()).apply(&mut headers, true, &client());
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
        trace(None, DynamicSamplingContext::new()).apply(&mut headers, true, &client());
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
        trace(None, ours).apply(&mut headers, false, &client());
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
    fn baggage_values_that_are_not_text_are_kept_as_they_were() {
        let opaque = HeaderValue::from_bytes(b"vendor=caf\xe9,sentry-release=old").unwrap();
        let ours = dsc(&[("trace_id", TRACE), ("release", "shop@2")]);
        for text in [None, Some("other=1, sentry-environment=old")] {
            let mut headers = HeaderMap::new();
            headers.append("baggage", opaque.clone());
            if let Some(text) = text {
                headers.append("baggage", HeaderValue::from_static(text));
            }
            trace(None, ours.clone()).apply(&mut headers, false, &client());
            let values: Vec<_> = headers.get_all("baggage").iter().collect();
            let merged = match text {
                Some(_) => format!("other=1,{}", ours.to_baggage()),
                None => ours.to_baggage(),
            };
            // The caller's value first, as it was; ours, merged with the text ones, last.
            assert_eq!(values, [&opaque, &HeaderValue::try_from(merged).unwrap()]);
        }
        // Nothing merged to add: the caller's value stays alone.
        let mut headers = HeaderMap::new();
        headers.append("baggage", opaque.clone());
        headers.append("baggage", HeaderValue::from_static("sentry-release=old"));
        trace(None, DynamicSamplingContext::new()).apply(&mut headers, false, &client());
        assert_eq!(
            headers.get_all("baggage").iter().collect::<Vec<_>>(),
            [&opaque]
        );
    }

    #[test]
    fn baggage_is_left_out_when_there_is_nothing_to_send() {
        let mut headers = HeaderMap::new();
        trace(None, DynamicSamplingContext::new()).apply(&mut headers, false, &client());
        assert!(headers.get("baggage").is_none());
        // An empty frozen DSC (a continued trace without sentry entries) strips stale ones.
        let mut headers = HeaderMap::new();
        headers.insert(
            "baggage",
            HeaderValue::from_static("sentry-release=x,vendor=1"),
        );
        trace(None, DynamicSamplingContext::new()).apply(&mut headers, false, &client());
        assert_eq!(header(&headers, "baggage"), Some("vendor=1"));
    }

    #[test]
    fn the_headers_are_what_the_protocol_types_format() {
        for sampled in [None, Some(true), Some(false)] {
            let t = trace(sampled, DynamicSamplingContext::new());
            let want = SentryTrace::new(t.0.trace_id, t.0.span_id, sampled).to_string();
            let mut headers = HeaderMap::new();
            t.apply(&mut headers, false, &client());
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
            trace(None, dsc.clone()).apply(&mut headers, false, &client());
            assert_eq!(
                header(&headers, "baggage").map(str::to_owned),
                want,
                "{dsc:?}"
            );
            let mut headers = HeaderMap::new();
            headers.insert("baggage", HeaderValue::from_static("vendor=1"));
            trace(None, dsc.clone()).apply(&mut headers, false, &client());
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
