//! Transaction and span handles: cheap to clone, inert when not sampled.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use crumbtrail_protocol::{
    DataCategory, DiscardReason, EventId, Request, SpanId, SpanStatus, TraceContext, TraceId,
    Transaction as TransactionData, TransactionInfo, TransactionSource,
};
use serde_json::Value;

use crate::client::ClientInner;
use crate::hub::{self, Hub};
use crate::scope::{PropagationContext, Scope, head_dsc};
use crate::worker::Work;

use super::sampling::{SamplingContext, decide};

/// At most this many child spans are kept per transaction (Sentry's `max_spans`); later
/// ones are dropped and counted as `buffer_overflow`.
const MAX_SPANS: usize = 1000;

/// A finished transaction on its way to the sender, with the scopes it finished in.
pub(crate) struct PendingTransaction {
    pub(crate) transaction: TransactionData,
    pub(crate) sample_rate: f64,
    pub(crate) hub: Arc<Hub>,
    pub(crate) global: Option<Arc<Scope>>,
}

struct TxInner {
    client: Arc<ClientInner>,
    sample_rate: f64,
    trace_id: TraceId,
    span_id: SpanId,
    state: Mutex<TxState>,
}

struct TxState {
    data: Option<TransactionData>,
    spans: Vec<crumbtrail_protocol::Span>,
}

impl TxInner {
    fn state(&self) -> MutexGuard<'_, TxState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A transaction: a unit of work timed as a tree of spans (a request, a job).
///
/// [`start_transaction`] starts one in the current scope's trace; [`Transaction::finish`]
/// sends it. Clones share it. When it was not sampled (or performance monitoring is off)
/// every method does nothing.
#[derive(Clone, Default)]
pub struct Transaction {
    inner: Option<Arc<TxInner>>,
}

/// Starts a transaction named `name` with operation `op` in the current scope's trace, and
/// records the sampling decision there so outgoing requests pass it on.
///
/// ```
/// # async fn charge() {}
/// # async fn run() {
/// let tx = crumbtrail_core::start_transaction("POST /checkout", "http.server");
/// let span = tx.start_child("payment", "charge the card");
/// charge().await;
/// span.finish();
/// tx.finish();
/// # }
/// ```
pub fn start_transaction(name: impl Into<String>, op: impl Into<String>) -> Transaction {
    start_transaction_with_source(name, op, TransactionSource::Custom)
}

/// [`start_transaction`], saying where the name comes from: integrations name transactions
/// after a route ([`TransactionSource::Route`]) or a URL path ([`TransactionSource::Url`]).
/// A name taken from a URL may hold identifiers, so it stays out of the sampling context
/// passed downstream.
///
/// ```
/// use crumbtrail_core::protocol::TransactionSource;
/// let tx = crumbtrail_core::start_transaction_with_source(
///     "GET /users/{id}",
///     "http.server",
///     TransactionSource::Route,
/// );
/// tx.finish();
/// ```
pub fn start_transaction_with_source(
    name: impl Into<String>,
    op: impl Into<String>,
    source: TransactionSource,
) -> Transaction {
    if !hub::is_active() {
        return Transaction::default();
    }
    let inner = hub::with_hub(|hub| {
        let client = Arc::clone(hub::resolve_client(hub)?);
        let options = &client.ctx.options;
        if !options.traces_enabled() {
            return None;
        }
        let (name, op) = (name.into(), op.into());
        let propagation = current_propagation(hub);
        let decision = decide(
            &client.ctx,
            &SamplingContext {
                name: &name,
                op: &op,
                parent_sampled: propagation.sampled,
            },
            propagation.sample_rand(),
        )?;
        if propagation.sampled.is_none() {
            // The decision is made here, at the head of the trace: downstream services follow
            // it, and the trace's sampling context is frozen now (PROTOCOL.md §9.5), so what
            // outgoing requests carry and what this service's envelopes carry agree.
            let mut decided = propagation.clone();
            decided.sampled = Some(decision.sampled);
            if decided.dsc.is_none() {
                let mut dsc = head_dsc(
                    client.ctx.dsn.as_ref(),
                    Some(propagation.trace_id),
                    options.release.as_deref().map(Into::into),
                    options.environment.as_deref().map(Into::into),
                );
                dsc.set_sampled(Some(decision.sampled));
                dsc.set_sample_rate(decision.rate);
                if source != TransactionSource::Url {
                    dsc.transaction = Some(name.clone());
                }
                decided.dsc = Some(Arc::new(dsc));
            }
            set_propagation(hub, decided);
        }
        if !decision.sampled {
            return None;
        }
        let sample_rate = decision.rate;
        let mut trace = TraceContext::new(propagation.trace_id, propagation.span_id);
        trace.parent_span_id = propagation.parent_span_id;
        trace.op = Some(op);
        trace.origin = Some("manual".into());
        let mut data = TransactionData::new(name, trace);
        data.transaction_info = Some(TransactionInfo {
            source: Some(source),
        });
        Some(Arc::new(TxInner {
            client,
            sample_rate,
            trace_id: propagation.trace_id,
            span_id: propagation.span_id,
            state: Mutex::new(TxState {
                data: Some(data),
                spans: Vec::new(),
            }),
        }))
    });
    Transaction { inner }
}

/// The trace of the hub's innermost scope, created on the isolation scope if it has none.
fn current_propagation(hub: &mut Arc<Hub>) -> PropagationContext {
    let existing = hub.propagation().cloned();
    existing.unwrap_or_else(|| {
        let fresh = PropagationContext::new();
        Arc::make_mut(hub)
            .isolation
            .set_propagation_context(fresh.clone());
        fresh
    })
}

fn set_propagation(hub: &mut Arc<Hub>, ctx: PropagationContext) {
    let hub = Arc::make_mut(hub);
    match hub
        .current
        .as_mut()
        .filter(|s| s.propagation_context().is_some())
    {
        Some(layer) => layer.set_propagation_context(ctx),
        None => hub.isolation.set_propagation_context(ctx),
    }
}

impl Transaction {
    /// Whether it is sampled, i.e. will be sent when finished.
    pub fn is_sampled(&self) -> bool {
        self.inner.is_some()
    }

    /// Its trace id (`None` when not sampled).
    pub fn trace_id(&self) -> Option<TraceId> {
        self.inner.as_ref().map(|i| i.trace_id)
    }

    /// Its root span's id (`None` when not sampled).
    pub fn span_id(&self) -> Option<SpanId> {
        self.inner.as_ref().map(|i| i.span_id)
    }

    fn edit(&self, f: impl FnOnce(&mut TransactionData)) {
        if let Some(inner) = &self.inner {
            if let Some(data) = inner.state().data.as_mut() {
                f(data);
            }
        }
    }

    /// Renames it (e.g. once the route is known), with where the name came from.
    pub fn set_name(&self, name: impl Into<String>, source: TransactionSource) {
        let name = name.into();
        self.edit(|d| {
            d.transaction = Some(name);
            d.transaction_info = Some(TransactionInfo {
                source: Some(source),
            });
        });
    }

    /// Sets the HTTP request it served (web integrations do). It is scrubbed when sent, as an
    /// error event's is (PROTOCOL.md §12): cookies and credential or client-IP headers dropped
    /// unless `send_default_pii` is on, denylisted keys always `[Filtered]`.
    pub fn set_request(&self, request: Request) {
        self.edit(|d| d.request = Some(request));
    }

    /// Sets what started it (`manual` for [`start_transaction`]; integrations name
    /// themselves, e.g. `auto.http.tower`).
    pub fn set_origin(&self, origin: impl Into<String>) {
        let origin = origin.into();
        self.edit(|d| {
            if let Some(trace) = d.contexts.trace_mut() {
                trace.origin = Some(origin);
            }
        });
    }

    /// Sets its status (`ok`, `internal_error`, `not_found`, ...).
    pub fn set_status(&self, status: SpanStatus) {
        self.edit(|d| {
            if let Some(trace) = d.contexts.trace_mut() {
                trace.status = Some(status);
            }
        });
    }

    /// Sets a tag on it.
    pub fn set_tag(&self, key: impl Into<String>, value: impl ToString) {
        let (key, value) = (key.into(), value.to_string());
        self.edit(|d| {
            d.tags.insert(key, value);
        });
    }

    /// Sets a data entry on its root span.
    pub fn set_data(&self, key: impl Into<String>, value: impl Into<Value>) {
        let (key, value) = (key.into(), value.into());
        self.edit(|d| {
            if let Some(trace) = d.contexts.trace_mut() {
                trace.data.insert(key, value);
            }
        });
    }

    /// Starts a child span of the root span.
    pub fn start_child(&self, op: impl Into<String>, description: impl Into<String>) -> Span {
        match &self.inner {
            Some(inner) => Span::child_of(inner, inner.span_id, op.into(), description.into()),
            None => Span::default(),
        }
    }

    /// Makes it the transaction of the current unit of work, so that integrations time their
    /// operations (the reqwest middleware: outgoing requests) as its child spans; see
    /// [`current_transaction`]. The tower layer does this for each request's transaction.
    /// Nothing happens when it is not sampled.
    pub fn set_current(&self) {
        if self.inner.is_none() || !hub::is_active() {
            return;
        }
        hub::with_hub(|hub| Arc::make_mut(hub).transaction = self.clone());
    }

    /// Finishes it and hands it to the sender with the current scope; returns its event id
    /// when it was queued. Finishing twice, or an unsampled transaction, sends nothing.
    pub fn finish(&self) -> Option<EventId> {
        let inner = self.inner.as_ref()?;
        let (mut data, spans) = {
            let mut state = inner.state();
            let data = state.data.take()?;
            (data, std::mem::take(&mut state.spans))
        };
        data.timestamp = crumbtrail_protocol::timestamp::now();
        data.spans = spans;
        let id = data.event_id;
        let pending = PendingTransaction {
            transaction: data,
            sample_rate: inner.sample_rate,
            hub: hub::fork(),
            global: hub::global_scope(),
        };
        inner
            .client
            .enqueue(Work::Transaction(Box::new(pending)))
            .then_some(id)
    }
}

/// The transaction of the current unit of work, set with [`Transaction::set_current`]; an
/// inert one when there is none.
///
/// ```
/// # async fn query() {}
/// # async fn run() {
/// let span = crumbtrail_core::current_transaction().start_child("db.query", "SELECT cart");
/// query().await;
/// span.finish();
/// # }
/// ```
pub fn current_transaction() -> Transaction {
    if !hub::is_active() {
        return Transaction::default();
    }
    hub::with_hub(|hub| hub.transaction.clone())
}

struct SpanInner {
    tx: Arc<TxInner>,
    span: Mutex<Option<crumbtrail_protocol::Span>>,
    span_id: SpanId,
}

/// A timed operation inside a transaction (a query, an outgoing request). Clones share it;
/// an inert span (of an unsampled transaction) does nothing.
#[derive(Clone, Default)]
pub struct Span {
    inner: Option<Arc<SpanInner>>,
}

impl Span {
    fn child_of(tx: &Arc<TxInner>, parent: SpanId, op: String, description: String) -> Span {
        let span_id = SpanId::random();
        let mut span = crumbtrail_protocol::Span::new(tx.trace_id, span_id, op);
        span.parent_span_id = Some(parent);
        span.description = Some(description);
        span.origin = Some("manual".into());
        Span {
            inner: Some(Arc::new(SpanInner {
                tx: Arc::clone(tx),
                span: Mutex::new(Some(span)),
                span_id,
            })),
        }
    }

    /// Whether it will be sent (its transaction is sampled).
    pub fn is_sampled(&self) -> bool {
        self.inner.is_some()
    }

    /// Its id (`None` when inert).
    pub fn span_id(&self) -> Option<SpanId> {
        self.inner.as_ref().map(|i| i.span_id)
    }

    fn edit(&self, f: impl FnOnce(&mut crumbtrail_protocol::Span)) {
        if let Some(inner) = &self.inner {
            if let Some(span) = inner
                .span
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .as_mut()
            {
                f(span);
            }
        }
    }

    /// Sets its status.
    pub fn set_status(&self, status: SpanStatus) {
        self.edit(|s| s.status = Some(status));
    }

    /// Sets what started it (`manual` by default; integrations name themselves, e.g.
    /// `auto.http.reqwest`).
    pub fn set_origin(&self, origin: impl Into<String>) {
        let origin = origin.into();
        self.edit(|s| s.origin = Some(origin));
    }

    /// Sets a data entry.
    pub fn set_data(&self, key: impl Into<String>, value: impl Into<Value>) {
        let (key, value) = (key.into(), value.into());
        self.edit(|s| {
            s.data.insert(key, value);
        });
    }

    /// Starts a child of this span.
    pub fn start_child(&self, op: impl Into<String>, description: impl Into<String>) -> Span {
        match &self.inner {
            Some(inner) => Span::child_of(&inner.tx, inner.span_id, op.into(), description.into()),
            None => Span::default(),
        }
    }

    /// Finishes it: it is sent with its transaction, if that has not finished yet.
    pub fn finish(&self) {
        let Some(inner) = &self.inner else {
            return;
        };
        let Some(mut span) = inner
            .span
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
        else {
            return;
        };
        span.timestamp = Some(crumbtrail_protocol::timestamp::now());
        let mut state = inner.tx.state();
        if state.data.is_none() {
            return; // the transaction already went out
        }
        if state.spans.len() >= MAX_SPANS {
            drop(state);
            inner.tx.client.ctx.discards.record(
                DiscardReason::BufferOverflow,
                DataCategory::Span,
                1,
            );
            return;
        }
        state.spans.push(span);
    }
}
