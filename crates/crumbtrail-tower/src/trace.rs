//! Continuing an incoming trace (PROTOCOL.md §9.3, §9.5): `sentry-trace` (or W3C
//! `traceparent`) plus the `sentry-` entries of `baggage` become the request scope's
//! propagation context.

use std::borrow::Cow;
use std::sync::Arc;

use crumbtrail_core::PropagationContext;
use crumbtrail_core::protocol::{
    BAGGAGE_HEADER, Baggage, DynamicSamplingContext, SENTRY_TRACE_HEADER, SentryTrace, SpanId,
    TRACEPARENT_HEADER, TraceParent,
};
use http::HeaderMap;
use http::header::HeaderName;

// Looked up on every request: parsed once here, not from a `&str` per look-up.
const SENTRY_TRACE: HeaderName = HeaderName::from_static(SENTRY_TRACE_HEADER);
const TRACEPARENT: HeaderName = HeaderName::from_static(TRACEPARENT_HEADER);
const BAGGAGE: HeaderName = HeaderName::from_static(BAGGAGE_HEADER);

/// The propagation context that continues the trace the request came with, or `None` when it
/// came without one (or with one that cannot be continued): the request then keeps the new
/// trace its isolation scope starts with.
///
/// * `sentry-trace` wins; a malformed one is ignored and `traceparent` is tried instead.
/// * The new context has the incoming trace id, the caller's span as parent, a new span id,
///   and the incoming sampling decision (`sentry-trace`'s flag, else `sentry-sampled`).
/// * With `sentry-trace`, the DSC is frozen from the `sentry-` baggage entries, empty when
///   there are none. With only `traceparent` (a non-Sentry caller), it is frozen only when the
///   baggage carries `sentry-` entries; otherwise this service heads the Sentry part of the
///   trace and the client builds the DSC from its own options.
/// * The DSC keeps only the `sentry-` entries that fit in the W3C baggage limits (see
///   `Baggage::parse`), so an oversized caller's baggage is not frozen and passed on whole.
/// * A non-empty frozen DSC without a valid `sample_rand` gets the one the context works out
///   ([`PropagationContext::sample_rand`]), so that it is passed on too.
/// * When the incoming `sentry-org_id` and the DSN's org id are both known and differ, the
///   trace belongs to another organization: a new trace is started (`None`).
pub(crate) fn continue_trace(
    headers: &HeaderMap,
    local_org_id: Option<u64>,
) -> Option<PropagationContext> {
    // Most requests carry no trace: one pass over a small header map rules both headers out
    // for less than the two hashed look-ups that would miss.
    if headers.keys_len() <= 16
        && !headers
            .keys()
            .any(|name| name == SENTRY_TRACE || name == TRACEPARENT)
    {
        return None;
    }
    let (incoming, from_sentry_trace) =
        match joined(headers, &SENTRY_TRACE).and_then(|v| SentryTrace::parse(&v).ok()) {
            Some(st) => (st, true),
            None => {
                let tp = headers
                    .get(TRACEPARENT)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| TraceParent::parse(v).ok())?;
                (SentryTrace::from(tp), false)
            }
        };
    let dsc = joined(headers, &BAGGAGE)
        .map(|v| Baggage::parse(&v).dsc)
        .unwrap_or_default();
    if let (Some(theirs), Some(ours)) = (dsc.org_id.as_deref(), local_org_id) {
        if theirs.trim() != ours.to_string() {
            return None;
        }
    }
    let sampled = incoming.sampled.or_else(|| dsc.sampled());
    let mut ctx = PropagationContext {
        trace_id: incoming.trace_id,
        span_id: SpanId::random(),
        parent_span_id: Some(incoming.span_id),
        sampled,
        dsc: frozen_dsc(dsc, from_sentry_trace),
    };
    // The number this trace's decisions are drawn against is passed on with it, so services
    // further down decide alike (as sentry-python's `_fill_sample_rand` and sentry-javascript
    // do). An empty frozen DSC (a caller that sent no Sentry entries) is passed on as it is.
    let rand = ctx.sample_rand();
    if let Some(dsc) = ctx
        .dsc
        .as_mut()
        .filter(|d| !d.is_empty() && d.sample_rand().is_none())
    {
        Arc::make_mut(dsc).set_sample_rand(rand);
    }
    Some(ctx)
}

fn frozen_dsc(
    dsc: DynamicSamplingContext,
    from_sentry_trace: bool,
) -> Option<Arc<DynamicSamplingContext>> {
    (from_sentry_trace || !dsc.is_empty()).then(|| Arc::new(dsc))
}

/// Every value of a header, joined with `,` (`None` when absent or not visible ASCII); a
/// single value is borrowed.
fn joined<'h>(headers: &'h HeaderMap, name: &HeaderName) -> Option<Cow<'h, str>> {
    let mut values = headers.get_all(name).iter().filter_map(|v| v.to_str().ok());
    let first = values.next()?;
    let Some(second) = values.next() else {
        return Some(Cow::Borrowed(first));
    };
    let mut out = [first, second].join(",");
    for v in values {
        out.push(',');
        out.push_str(v);
    }
    Some(Cow::Owned(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    const TRACE: &str = "4c79f60c11214eb38604f4ae0781bfb2";
    const SPAN: &str = "a1b2c3d4e5f60718";

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn sentry_trace_with_baggage_continues_and_freezes_the_dsc() {
        let h = headers(&[
            ("sentry-trace", &format!("{TRACE}-{SPAN}-1")),
            (
                "baggage",
                "other=1,sentry-trace_id=4c79f60c11214eb38604f4ae0781bfb2",
            ),
            (
                "baggage",
                "sentry-public_key=up,sentry-release=shop%401.0,sentry-org_id=42",
            ),
        ]);
        let ctx = continue_trace(&h, Some(42)).unwrap();
        assert_eq!(ctx.trace_id.to_string(), TRACE);
        assert_eq!(ctx.parent_span_id.unwrap().to_string(), SPAN);
        assert_ne!(ctx.span_id.to_string(), SPAN, "a new span for this service");
        assert_eq!(ctx.sampled, Some(true));
        let dsc = ctx.dsc.unwrap();
        assert_eq!(dsc.public_key.as_deref(), Some("up"));
        assert_eq!(dsc.release.as_deref(), Some("shop@1.0"));
        assert_eq!(dsc.trace_id.as_deref(), Some(TRACE));
        assert!(
            dsc.other.is_empty(),
            "third-party entries are not part of the DSC"
        );
    }

    #[test]
    fn the_trace_headers_are_found_among_few_or_many_other_headers() {
        let padding: Vec<String> = (0..40).map(|i| format!("x-pad-{i}")).collect();
        for others in [0, 3, 16, 17, 40] {
            for (name, value) in [
                ("sentry-trace", format!("{TRACE}-{SPAN}-1")),
                ("traceparent", format!("00-{TRACE}-{SPAN}-01")),
            ] {
                let mut h = HeaderMap::new();
                for pad in &padding[..others] {
                    h.insert(
                        HeaderName::from_bytes(pad.as_bytes()).unwrap(),
                        HeaderValue::from_static("1"),
                    );
                }
                assert!(
                    continue_trace(&h, None).is_none(),
                    "{others} without a trace"
                );
                h.insert(name, HeaderValue::from_str(&value).unwrap());
                let ctx = continue_trace(&h, None).expect("continued");
                assert_eq!(ctx.trace_id.to_string(), TRACE, "{name} among {others}");
            }
        }
    }

    #[test]
    fn sentry_trace_without_baggage_freezes_an_empty_dsc() {
        let h = headers(&[("sentry-trace", &format!("{TRACE}-{SPAN}"))]);
        let ctx = continue_trace(&h, None).unwrap();
        assert_eq!(ctx.sampled, None, "no flag: deferred");
        assert_eq!(ctx.dsc.as_deref(), Some(&DynamicSamplingContext::new()));
    }

    #[test]
    fn deferred_flag_takes_the_baggage_decision() {
        let h = headers(&[
            ("sentry-trace", &format!("{TRACE}-{SPAN}")),
            ("baggage", "sentry-sampled=false"),
        ]);
        assert_eq!(continue_trace(&h, None).unwrap().sampled, Some(false));
    }

    #[test]
    fn traceparent_is_used_when_sentry_trace_is_missing_or_malformed() {
        for st in [None, Some("garbage")] {
            let mut h = headers(&[("traceparent", &format!("00-{TRACE}-{SPAN}-00"))]);
            if let Some(st) = st {
                h.insert("sentry-trace", HeaderValue::from_static(st).clone());
            }
            let ctx = continue_trace(&h, None).unwrap();
            assert_eq!(ctx.trace_id.to_string(), TRACE);
            assert_eq!(ctx.parent_span_id.unwrap().to_string(), SPAN);
            assert_eq!(ctx.sampled, Some(false));
            assert_eq!(
                ctx.dsc, None,
                "a non-Sentry caller: the client builds the DSC"
            );
        }
        let h = headers(&[
            ("traceparent", &format!("00-{TRACE}-{SPAN}-01")),
            ("baggage", "sentry-public_key=up"),
        ]);
        let ctx = continue_trace(&h, None).unwrap();
        assert_eq!(ctx.dsc.unwrap().public_key.as_deref(), Some("up"));
    }

    #[test]
    fn nothing_to_continue_gives_none() {
        assert!(continue_trace(&HeaderMap::new(), None).is_none());
        let h = headers(&[
            ("sentry-trace", "not-a-trace"),
            ("traceparent", "00-zz"),
            ("baggage", "sentry-public_key=up"),
        ]);
        assert!(continue_trace(&h, None).is_none());
    }

    #[test]
    fn an_oversized_caller_s_baggage_is_not_frozen_whole() {
        let junk = "A".repeat(30_000);
        let h = headers(&[
            ("sentry-trace", &format!("{TRACE}-{SPAN}-1")),
            ("baggage", &format!("sentry-release=r1,sentry-junk={junk}")),
        ]);
        let dsc = continue_trace(&h, None).unwrap().dsc.unwrap();
        assert_eq!(dsc.release.as_deref(), Some("r1"));
        assert_eq!(dsc.get("junk"), None);
        assert!(dsc.to_baggage().len() <= crumbtrail_core::protocol::MAX_BAGGAGE_BYTES);
    }

    #[test]
    fn the_sample_rand_worked_out_for_a_continued_trace_is_passed_on() {
        // Without one (or with an invalid one), the context's goes into the frozen DSC, on
        // the side of the rate that keeps the caller's decision.
        for (sampled, extra) in [
            ("true", ""),
            ("false", ""),
            ("true", ",sentry-sample_rand=1.5"),
        ] {
            let h = headers(&[
                ("sentry-trace", &format!("{TRACE}-{SPAN}")),
                (
                    "baggage",
                    &format!(
                        "sentry-trace_id={TRACE},sentry-sample_rate=0.5,\
                         sentry-sampled={sampled}{extra}"
                    ),
                ),
            ]);
            let ctx = continue_trace(&h, None).unwrap();
            let rand = ctx
                .dsc
                .as_ref()
                .unwrap()
                .sample_rand()
                .expect("a sample_rand");
            assert_eq!(rand, ctx.sample_rand(), "the context reads the same number");
            assert_eq!(rand < 0.5, sampled == "true", "{sampled}: {rand}");
        }
        // A caller's own is kept.
        let h = headers(&[
            ("sentry-trace", &format!("{TRACE}-{SPAN}-1")),
            ("baggage", "sentry-sample_rand=0.123456,sentry-sampled=true"),
        ]);
        let dsc = continue_trace(&h, None).unwrap().dsc.unwrap();
        assert_eq!(dsc.sample_rand.as_deref(), Some("0.123456"));
        // An empty frozen DSC is passed on as it is.
        let h = headers(&[("sentry-trace", &format!("{TRACE}-{SPAN}-1"))]);
        assert_eq!(
            continue_trace(&h, None).unwrap().dsc.unwrap().sample_rand,
            None
        );
    }

    #[test]
    fn another_organization_s_trace_is_not_continued() {
        let h = headers(&[
            ("sentry-trace", &format!("{TRACE}-{SPAN}-1")),
            ("baggage", "sentry-org_id=7"),
        ]);
        assert!(continue_trace(&h, Some(42)).is_none());
        assert!(continue_trace(&h, Some(7)).is_some());
        assert!(
            continue_trace(&h, None).is_some(),
            "one-sided org ids continue"
        );
    }
}
