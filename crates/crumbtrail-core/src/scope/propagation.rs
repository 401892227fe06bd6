//! The trace a scope belongs to (PROTOCOL.md §9.6): every event carries its ids in
//! `contexts.trace`, even when tracing is off.

use crumbtrail_protocol::{DynamicSamplingContext, SpanId, TraceContext, TraceId};

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
    /// The frozen dynamic sampling context of a continued trace.
    pub dsc: Option<DynamicSamplingContext>,
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
    /// (PROTOCOL.md §9.5): the frozen one of a trace that came in from elsewhere, else one for
    /// a trace that started here (trace id, the DSN's public key and org, the client's release
    /// and environment, and the sampling decision when there is one).
    pub fn dynamic_sampling_context(&self, client: &crate::Client) -> DynamicSamplingContext {
        if let Some(dsc) = &self.dsc {
            return dsc.clone();
        }
        let mut dsc = DynamicSamplingContext::new();
        dsc.set_trace_id(self.trace_id);
        if let Some(dsn) = client.dsn() {
            dsc.public_key = Some(dsn.public_key().to_owned());
            dsc.org_id = dsn.org_id().map(|id| id.to_string());
        }
        let options = client.options();
        dsc.release = options.release.as_deref().map(str::to_owned);
        dsc.environment = options.environment.as_deref().map(str::to_owned);
        dsc.set_sampled(self.sampled);
        dsc
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
