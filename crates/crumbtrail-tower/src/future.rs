//! The response future: calls the inner service inside the request's scope, catches its
//! panics, and reports the outcome (breadcrumb, 5xx event, panic event) when the response is
//! ready.

use std::any::Any;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use crumbtrail_core::protocol::{Exception, Mechanism, ResponseContext, SpanStatus};
use crumbtrail_core::{Breadcrumb, BreadcrumbHint, Event, Level, RequestSession, Transaction};
use http::{Method, Response, StatusCode, Uri};

use crate::request::{RequestCtx, Snapshot};

/// The mechanism of the panic events this layer captures.
pub const MECHANISM: &str = "auto.http.tower";

/// What the builder decided about reporting.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Settings {
    pub(crate) capture_server_errors: bool,
    pub(crate) catch_panics: bool,
    pub(crate) breadcrumbs: bool,
}

/// What `before_breadcrumb` receives (through [`BreadcrumbHint::get`]) with the
/// incoming-request breadcrumb.
///
/// ```
/// use crumbtrail_core::{ClientOptions, Level};
/// use crumbtrail_tower::IncomingRequest;
/// use std::sync::Arc;
///
/// // Drop the breadcrumbs of health checks.
/// let options = ClientOptions {
///     before_breadcrumb: Some(Arc::new(|crumb, hint| match hint.get::<IncomingRequest>() {
///         Some(req) if req.uri.path() == "/healthz" => None,
///         _ => Some(crumb),
///     })),
///     ..Default::default()
/// };
/// # let _ = options;
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct IncomingRequest {
    /// The request method.
    pub method: Method,
    /// The URI as the client sent it (query string included).
    pub uri: Uri,
    /// The response status; `None` when the service failed without a response.
    pub status: Option<StatusCode>,
    /// From the call to the response being ready (the body may still be streaming).
    pub duration: Duration,
}

pin_project_lite::pin_project! {
    /// The future of [`CrumbtrailService`](crate::CrumbtrailService)'s responses (it runs
    /// inside [`Scoped`](crumbtrail_core::Scoped), the request's own scope): the inner
    /// service's future, its panics caught, and the outcome reported when it is ready.
    #[must_use = "futures do nothing unless polled"]
    pub struct ResponseFuture<F> {
        #[pin]
        state: State<F>,
        // `None` when the SDK is disabled: the future only awaits the service (and catches
        // panics, so that the server behaves the same with and without a DSN).
        ctx: Option<RequestCtx>,
        settings: Settings,
        started: Instant,
        // The request's transaction (inert unless performance monitoring is on and it was
        // sampled).
        tx: Transaction,
        // The request's release-health session, ended (and counted) when the response is
        // ready, or when the request is dropped before that.
        session: Option<RequestSession>,
    }

    impl<F> PinnedDrop for ResponseFuture<F> {
        /// A request dropped before its response was ready (the client went away, a timeout
        /// layer outside gave up) finishes its transaction as `cancelled`. After a response
        /// this does nothing: the transaction is finished already.
        fn drop(this: Pin<&mut Self>) {
            let tx = this.project().tx;
            // Unwinding: a panic the layer was told not to catch.
            tx.set_status(if std::thread::panicking() {
                SpanStatus::InternalError
            } else {
                SpanStatus::Cancelled
            });
            tx.finish();
        }
    }
}

pin_project_lite::pin_project! {
    #[project = StateProj]
    enum State<F> {
        Called { #[pin] fut: F },
        // The inner service panicked in `call`: reported on the first poll.
        Panicked { panic: Option<Box<dyn Any + Send>> },
        Done,
    }
}

impl<F> ResponseFuture<F> {
    /// Calls the service (`call`), catching a panic when the settings say so.
    pub(crate) fn new(
        call: impl FnOnce() -> F,
        ctx: Option<RequestCtx>,
        settings: Settings,
    ) -> Self {
        let started = Instant::now();
        // Started before the inner service is called, in the request's scope (this runs
        // inside it): errors captured meanwhile point at it.
        let tx = match &ctx {
            Some(ctx) if ctx.traces => start_transaction(&ctx.request),
            _ => Transaction::default(),
        };
        let session = match &ctx {
            Some(ctx) if ctx.sessions => crumbtrail_core::start_request_session(),
            _ => None,
        };
        let state = match guarded(settings.catch_panics, call) {
            Ok(fut) => State::Called { fut },
            Err(panic) => State::Panicked { panic: Some(panic) },
        };
        ResponseFuture {
            state,
            ctx,
            settings,
            started,
            tx,
            session,
        }
    }
}

/// The request's transaction: named after the route (or the path), operation `http.server`,
/// continuing the incoming trace and its sampling decision; the request interface on it.
fn start_transaction(request: &Snapshot) -> Transaction {
    let tx = crumbtrail_core::start_transaction_with_source(
        request.transaction(),
        "http.server",
        request.transaction_source(),
    );
    if tx.is_sampled() {
        tx.set_origin(MECHANISM);
        tx.set_request(request.to_interface());
        // Outgoing requests made while serving it (reqwest middleware) become its spans.
        tx.set_current();
    }
    tx
}

/// Finishes the request's transaction with the response's status (`None`: no response).
fn finish_transaction(tx: &Transaction, status: Option<StatusCode>) {
    if !tx.is_sampled() {
        return;
    }
    match status {
        Some(status) => {
            tx.set_status(SpanStatus::from_http_status(status.as_u16()));
            tx.set_data("http.response.status_code", status.as_u16());
        }
        None => tx.set_status(SpanStatus::InternalError),
    }
    tx.finish();
}

/// Runs `f`, catching a panic when `catch` is set.
fn guarded<R>(catch: bool, f: impl FnOnce() -> R) -> Result<R, Box<dyn Any + Send>> {
    if catch {
        catch_unwind(AssertUnwindSafe(f))
    } else {
        Ok(f())
    }
}

impl<F, ResB, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<ResB>, E>>,
    ResB: Default,
{
    type Output = Result<Response<ResB>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        let catch = this.settings.catch_panics;
        let polled = match this.state.as_mut().project() {
            StateProj::Called { fut } => match guarded(catch, || fut.poll(cx)) {
                Ok(Poll::Pending) => return Poll::Pending,
                Ok(Poll::Ready(result)) => Ok(result),
                Err(panic) => Err(panic),
            },
            StateProj::Panicked { panic } => match panic.take() {
                Some(panic) => Err(panic),
                None => return Poll::Pending,
            },
            // Polled after completion: never panic.
            StateProj::Done => return Poll::Pending,
        };
        this.state.set(State::Done);
        let elapsed = this.started.elapsed();
        let ctx = this.ctx.as_ref();
        let settings = *this.settings;
        Poll::Ready(match polled {
            Ok(result) => {
                if let Some(ctx) = ctx {
                    let status = result.as_ref().ok().map(Response::status);
                    report_outcome(ctx, settings, status, elapsed);
                    finish_transaction(this.tx, status);
                }
                // Ended after what the outcome captured was counted in it.
                drop(this.session.take());
                result
            }
            Err(panic) => {
                if let Some(ctx) = ctx {
                    report_panic(ctx, settings, &*panic, elapsed);
                    finish_transaction(this.tx, Some(StatusCode::INTERNAL_SERVER_ERROR));
                }
                drop(this.session.take());
                // Dropped here, inside the layer: a payload whose drop panics is the only way
                // this can unwind, and it is the payload's own.
                drop(panic);
                let mut response = Response::new(ResB::default());
                *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
                Ok(response)
            }
        })
    }
}

/// The breadcrumb and, for a 5xx (or no response at all), the event.
///
/// The request's scope ends with its response, so the breadcrumb is recorded only when
/// something can still see it: the event captured here, or a `before_breadcrumb` hook. For
/// the other responses (nearly all of them) recording it would be work no one reads.
fn report_outcome(
    ctx: &RequestCtx,
    settings: Settings,
    status: Option<StatusCode>,
    elapsed: Duration,
) {
    let failed = status.is_none_or(|s| s.is_server_error());
    let capture = settings.capture_server_errors && failed;
    if settings.breadcrumbs && (capture || ctx.breadcrumb_hint) {
        record_breadcrumb(ctx, status, elapsed);
    }
    if !capture {
        return;
    }
    let message = match status {
        Some(s) => format!("{} responded {}", ctx.request.transaction(), status_text(s)),
        None => format!("{} failed without a response", ctx.request.transaction()),
    };
    let mut event = Event::new();
    event.level = Level::Error;
    event.message = Some(message);
    decorate(
        &mut event,
        status.unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        status.is_some(),
    );
    crumbtrail_core::capture_event(event);
}

/// The breadcrumb (the client gets a 500) and the fatal event.
fn report_panic(ctx: &RequestCtx, settings: Settings, panic: &(dyn Any + Send), elapsed: Duration) {
    let status = StatusCode::INTERNAL_SERVER_ERROR;
    // When the panic hook captured the panic (as it happened, in this request's scope), only
    // a `before_breadcrumb` hook can still see the breadcrumb.
    if settings.breadcrumbs && (ctx.report_panics || ctx.breadcrumb_hint) {
        record_breadcrumb(ctx, Some(status), elapsed);
    }
    if !ctx.report_panics {
        return;
    }
    let mut exception = Exception::new("panic", panic_message(panic));
    let mut mechanism = Mechanism::new(MECHANISM);
    mechanism.handled = Some(false);
    exception.mechanism = Some(mechanism);
    let mut event = Event::new();
    event.level = Level::Fatal;
    event.exception = Some(vec![exception].into());
    decorate(&mut event, status, true);
    crumbtrail_core::capture_event(event);
}

/// The response context and the request's trace context with its status.
fn decorate(event: &mut Event, status: StatusCode, responded: bool) {
    if responded {
        event.contexts.insert(
            "response",
            ResponseContext {
                status_code: Some(u64::from(status.as_u16())),
                ..Default::default()
            },
        );
    }
    if let Some(mut trace) = crumbtrail_core::propagation_context().map(|p| p.trace_context()) {
        trace.op = Some("http.server".to_owned());
        trace.status = Some(SpanStatus::from_http_status(status.as_u16()));
        event.contexts.insert("trace", trace);
    }
}

/// The incoming-request breadcrumb: type `http`, category `http.server`, with the method, the
/// URL (the query string only with `send_default_pii`), the status and the duration; with a
/// `before_breadcrumb` hook, the [`IncomingRequest`] hint.
fn record_breadcrumb(ctx: &RequestCtx, status: Option<StatusCode>, elapsed: Duration) {
    let mut crumb = Breadcrumb {
        ty: "http".into(),
        category: Some("http.server".into()),
        message: None,
        level: Level::Info,
        timestamp: Some(crumbtrail_core::protocol::timestamp::now()),
        data: Default::default(),
        origin: Some(MECHANISM.into()),
    };
    match status {
        Some(status) => crumb.level = Breadcrumb::level_for_http_status(status.as_u16()),
        None => {
            crumb.level = Level::Error;
            crumb = crumb.with_message("failed without a response");
        }
    }
    let request = &ctx.request;
    add_data(&mut crumb, request, ctx.pii, status, elapsed);
    if !ctx.breadcrumb_hint {
        crumbtrail_core::add_breadcrumb(crumb);
        return;
    }
    let hint = IncomingRequest {
        method: request.method.clone(),
        uri: request.uri.clone(),
        status,
        duration: elapsed,
    };
    crumbtrail_core::add_breadcrumb_with_hint(crumb, &BreadcrumbHint::new(&hint));
}

/// The incoming-request breadcrumb's data.
fn add_data(
    crumb: &mut Breadcrumb,
    request: &Snapshot,
    pii: bool,
    status: Option<StatusCode>,
    elapsed: Duration,
) {
    let data = &mut crumb.data;
    data.insert("method".into(), request.method.as_str().into());
    data.insert("url".into(), request.url().into());
    data.insert(
        "duration_ms".into(),
        (elapsed.as_micros() as f64 / 1000.0).into(),
    );
    if let (true, Some(query)) = (pii, request.query()) {
        data.insert("http.query".into(), query.into());
    }
    if let Some(status) = status {
        data.insert("status_code".into(), status.as_u16().into());
        if let Some(reason) = status.canonical_reason() {
            data.insert("reason".into(), reason.into());
        }
    }
}

fn status_text(status: StatusCode) -> String {
    match status.canonical_reason() {
        Some(reason) => format!("{} {reason}", status.as_u16()),
        None => status.as_u16().to_string(),
    }
}

/// The panic's message: the `&str` or `String` payload, else a placeholder.
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "Box<dyn Any>".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panic_messages_are_read_from_str_and_string_payloads() {
        let p = std::panic::catch_unwind(|| panic!("boom {}", 1)).unwrap_err();
        assert_eq!(panic_message(&*p), "boom 1");
        let p = std::panic::catch_unwind(|| panic!("static")).unwrap_err();
        assert_eq!(panic_message(&*p), "static");
        let p = std::panic::catch_unwind(|| std::panic::panic_any(7_u8)).unwrap_err();
        assert_eq!(panic_message(&*p), "Box<dyn Any>");
    }

    #[test]
    fn status_texts_name_the_reason() {
        assert_eq!(status_text(StatusCode::BAD_GATEWAY), "502 Bad Gateway");
        assert_eq!(status_text(StatusCode::from_u16(599).unwrap()), "599");
    }
}
