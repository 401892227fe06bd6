//! The trace a scope belongs to (PROTOCOL.md §9.6): every event carries its ids in
//! `contexts.trace`, even when tracing is off.

use std::sync::Arc;

use crumbtrail_protocol::{
    Dsn, DynamicSamplingContext, HeaderBytes, SpanId, TraceContext, TraceId,
};

/// How many bytes of `baggage` an integration may reserve on the stack for
/// [`PropagationContext::write_baggage`]: the Sentry entries of a trace that starts here, with
/// a long release.
pub const BAGGAGE_INLINE: usize = 360;

/// The ids that tie a scope's telemetry to a trace, and the sampling context to pass on.
///
/// ```
/// use crumbtrail_core::PropagationContext;
/// let ctx = PropagationContext::new();
/// assert_ne!(ctx.trace_id, PropagationContext::new().trace_id);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct PropagationContext {
    /// The trace id.
    pub trace_id: TraceId,
    /// The span id events are attached to.
    pub span_id: SpanId,
    /// The span this one continues, when the trace came in from elsewhere.
    pub parent_span_id: Option<SpanId>,
    /// The incoming sampling decision (`None`: deferred).
    pub sampled: Option<bool>,
    /// The frozen dynamic sampling context: a continued trace's, or the one a transaction
    /// that made the sampling decision here froze (shared: contexts are copied with every
    /// request and every fork, and most have none).
    pub dsc: Option<Arc<DynamicSamplingContext>>,
}

impl PropagationContext {
    /// A brand-new trace with random ids and a deferred sampling decision.
    pub fn new() -> Self {
        PropagationContext {
            trace_id: TraceId::from_bytes(fastrand::u128(..).to_le_bytes()),
            span_id: SpanId::from_bytes(fastrand::u64(..).to_le_bytes()),
            parent_span_id: None,
            sampled: None,
            dsc: None,
        }
    }

    /// The dynamic sampling context to pass on with outgoing requests and subprocesses
    /// (PROTOCOL.md §9.5): the frozen one (a continued trace's, or the one a transaction
    /// started here froze with its decision, rate and name), else one for a trace that started
    /// here (trace id, the DSN's public key and org, the client's release and environment).
    pub fn dynamic_sampling_context(&self, client: &crate::Client) -> DynamicSamplingContext {
        if let Some(dsc) = &self.dsc {
            return DynamicSamplingContext::clone(dsc);
        }
        let options = client.options();
        let mut dsc = head_dsc(
            client.dsn(),
            Some(self.trace_id),
            options.release.as_deref().map(Into::into),
            options.environment.as_deref().map(Into::into),
        );
        dsc.set_sampled(self.sampled);
        dsc
    }

    /// The `sentry-*` entries of the `baggage` header to pass on: what
    /// [`dynamic_sampling_context`](Self::dynamic_sampling_context)`.to_baggage()` gives,
    /// written from the client's pre-encoded entries when the trace started here (integrations
    /// call this for every outgoing request). Empty when there is nothing to pass on.
    ///
    /// ```
    /// use crumbtrail_core::{Client, ClientOptions, PropagationContext};
    /// let client = Client::new(ClientOptions {
    ///     release: Some("shop@1.0".into()),
    ///     environment: Some("production".into()),
    ///     ..Default::default()
    /// })
    /// .unwrap();
    /// let ctx = PropagationContext::new();
    /// assert_eq!(ctx.baggage(&client), ctx.dynamic_sampling_context(&client).to_baggage());
    /// assert!(ctx.baggage(&client).ends_with(",sentry-release=shop%401.0,sentry-environment=production"));
    /// ```
    pub fn baggage(&self, client: &crate::Client) -> String {
        let mut out = HeaderBytes::<BAGGAGE_INLINE>::new();
        self.write_baggage(client, &mut out);
        out.into_string()
    }

    /// Appends [`baggage`](Self::baggage) to `out`, on the stack while it fits: an HTTP
    /// integration writes its headers into one buffer and makes them header values in one
    /// allocation (`bytes::Bytes::from_owner`, then slices).
    pub fn write_baggage<const N: usize>(&self, client: &crate::Client, out: &mut HeaderBytes<N>) {
        match &self.dsc {
            Some(dsc) => out.push_str(&dsc.to_baggage()),
            None => {
                let head = &client.inner.ctx.head_baggage;
                head.write(self.trace_id, self.sampled, out);
            }
        }
    }

    /// The trace's random number in [0, 1), against which sampling rates are drawn
    /// (PROTOCOL.md §9.4): a continued trace's `sample_rand`; for one whose caller sent a
    /// decision and a rate but no number, one drawn on the side of the rate that keeps the
    /// decision; else one derived from the trace id (so every service that derives it agrees).
    pub fn sample_rand(&self) -> f64 {
        let own = sample_rand_of(self.trace_id);
        let Some(dsc) = &self.dsc else {
            return own;
        };
        if let Some(rand) = dsc.sample_rand() {
            return rand;
        }
        match (dsc.sampled(), dsc.sample_rate()) {
            (Some(true), Some(rate)) => own * rate,
            (Some(false), Some(rate)) => rate + own * (1.0 - rate),
            _ => own,
        }
    }

    /// The `contexts.trace` value events carry.
    pub fn trace_context(&self) -> TraceContext {
        let mut ctx = TraceContext::new(self.trace_id, self.span_id);
        ctx.parent_span_id = self.parent_span_id;
        ctx
    }
}

impl Default for PropagationContext {
    fn default() -> Self {
        PropagationContext::new()
    }
}

/// The sampling context of a trace that started here: the trace id, the DSN's public key and
/// org, release and environment.
pub(crate) fn head_dsc(
    dsn: Option<&Dsn>,
    trace_id: Option<TraceId>,
    release: Option<String>,
    environment: Option<String>,
) -> DynamicSamplingContext {
    let mut dsc = DynamicSamplingContext::new();
    if let Some(trace_id) = trace_id {
        dsc.set_trace_id(trace_id);
        dsc.sample_rand = Some(format_micros(sample_rand_micros(trace_id)));
    }
    dsc.public_key = dsn.map(|d| d.public_key().to_owned());
    dsc.org_id = dsn.and_then(Dsn::org_id).map(|o| o.to_string());
    dsc.release = release;
    dsc.environment = environment;
    dsc
}

/// A trace's own random number, in millionths: derived from the trace id's second half, so it
/// costs no draw and is the same wherever it is derived.
fn sample_rand_micros(trace_id: TraceId) -> u32 {
    let bytes = trace_id.to_bytes();
    let mut half = [0u8; 8];
    half.copy_from_slice(&bytes[8..]);
    // Below 1,000,000: fits.
    u32::try_from(u64::from_le_bytes(half) % 1_000_000).unwrap_or(0)
}

fn sample_rand_of(trace_id: TraceId) -> f64 {
    f64::from(sample_rand_micros(trace_id)) / 1_000_000.0
}

/// `0.xxxxxx` for a number of millionths below one million (what `format_sample_rand` writes
/// for it, without the float round trip).
fn format_micros(micros: u32) -> String {
    String::from_utf8_lossy(&micros_digits(micros)).into_owned()
}

/// `0.xxxxxx` for a number of millionths below one million.
fn micros_digits(micros: u32) -> [u8; 8] {
    let mut digits = *b"0.000000";
    let mut rest = micros % 1_000_000;
    for d in digits[2..].iter_mut().rev() {
        *d = b'0' + u8::try_from(rest % 10).unwrap_or(0);
        rest /= 10;
    }
    digits
}

/// The `baggage` of traces that start here, pre-encoded once per client: all of it but the
/// trace id and the sampling decision comes from the DSN and the options. The entries are
/// written in [`DynamicSamplingContext::to_baggage`]'s order (trace id; public key, org; the
/// decision; release, environment), so both give the same header.
#[derive(Debug, Default)]
pub(crate) struct HeadBaggage {
    /// `,sentry-public_key=…,sentry-org_id=…` (or empty).
    keys: String,
    /// `,sentry-release=…,sentry-environment=…` (or empty).
    app: String,
}

impl HeadBaggage {
    pub(crate) fn new(
        dsn: Option<&Dsn>,
        release: Option<&str>,
        environment: Option<&str>,
    ) -> HeadBaggage {
        let leading_comma = |entries: String| {
            if entries.is_empty() {
                entries
            } else {
                format!(",{entries}")
            }
        };
        let keys = head_dsc(dsn, None, None, None).to_baggage();
        let app = head_dsc(
            None,
            None,
            release.map(Into::into),
            environment.map(Into::into),
        );
        HeadBaggage {
            keys: leading_comma(keys),
            app: leading_comma(app.to_baggage()),
        }
    }

    fn write<const N: usize>(
        &self,
        trace_id: TraceId,
        sampled: Option<bool>,
        out: &mut HeaderBytes<N>,
    ) {
        out.push_str("sentry-trace_id=");
        out.push_ascii(&trace_id.to_hex());
        out.push_str(&self.keys);
        out.push_str(",sentry-sample_rand=");
        out.push_ascii(&micros_digits(sample_rand_micros(trace_id)));
        out.push_str(match sampled {
            Some(true) => ",sentry-sampled=true",
            Some(false) => ",sentry-sampled=false",
            None => "",
        });
        out.push_str(&self.app);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ClientOptions, TestTransport};

    #[test]
    fn baggage_is_the_dsc_written_out_whatever_the_client_and_decision() {
        let dsns = [
            None,
            Some("http://public@127.0.0.1:9/1"),
            Some("https://pk@o42.ingest.example.com/7"),
        ];
        let apps = [
            (None, None),
            (Some("shop@1.0 +build"), Some("prod, eu")),
            (None, Some("staging")),
            (Some("v1"), None),
        ];
        for dsn in dsns {
            for (release, environment) in apps {
                let client = crate::test::client_with(
                    &TestTransport::new(),
                    ClientOptions {
                        dsn: dsn.map(Into::into),
                        release: release.map(Into::into),
                        environment: environment.map(Into::into),
                        ..Default::default()
                    },
                );
                for sampled in [None, Some(true), Some(false)] {
                    let mut ctx = PropagationContext::new();
                    ctx.sampled = sampled;
                    let want = ctx.dynamic_sampling_context(&client).to_baggage();
                    assert_eq!(
                        ctx.baggage(&client),
                        want,
                        "{dsn:?} {release:?} {sampled:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn a_trace_has_one_random_number_wherever_it_is_read() {
        let client = crate::test::client_with(&TestTransport::new(), ClientOptions::default());
        for _ in 0..100 {
            let ctx = PropagationContext::new();
            let rand = ctx.sample_rand();
            assert!((0.0..1.0).contains(&rand));
            // The DSC (and so baggage and envelope headers) carry the same number.
            let dsc = ctx.dynamic_sampling_context(&client);
            assert_eq!(dsc.sample_rand(), Some(rand));
            assert_eq!(
                dsc.sample_rand.as_deref(),
                Some(crumbtrail_protocol::format_sample_rand(rand).as_str())
            );
        }
        // A caller's number wins; without one, a caller's decision is kept consistent.
        let mut continued = PropagationContext::new();
        let mut theirs = DynamicSamplingContext::new();
        theirs.set("sample_rand", "0.123456");
        continued.dsc = Some(Arc::new(theirs));
        assert_eq!(continued.sample_rand(), 0.123456);
        for (sampled, rate) in [
            ("true", "0.25"),
            ("false", "0.25"),
            ("true", "1"),
            ("false", "0"),
        ] {
            let mut ctx = PropagationContext::new();
            let mut theirs = DynamicSamplingContext::new();
            theirs.set("sampled", sampled);
            theirs.set("sample_rate", rate);
            ctx.dsc = Some(Arc::new(theirs));
            let rand = ctx.sample_rand();
            let rate: f64 = rate.parse().unwrap();
            assert_eq!(rand < rate, sampled == "true", "{sampled} {rate} {rand}");
        }
    }

    #[test]
    fn a_continued_trace_passes_its_frozen_context_on() {
        let client = crate::test::client_with(&TestTransport::new(), ClientOptions::default());
        let mut ctx = PropagationContext::new();
        let mut frozen = DynamicSamplingContext::new();
        frozen.set("trace_id", "4c79f60c11214eb38604f4ae0781bfb2");
        frozen.set("release", "upstream@2");
        ctx.dsc = Some(Arc::new(frozen.clone()));
        assert_eq!(ctx.baggage(&client), frozen.to_baggage());
        assert_eq!(ctx.dynamic_sampling_context(&client), frozen);
    }
}
