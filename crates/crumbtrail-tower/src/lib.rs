//! crumbtrail for tower servers: a [`Layer`] for hyper 1 and axum 0.8 that gives every request
//! its own scope and reports what happened in it.
//!
//! For each request, [`CrumbtrailLayer`]:
//!
//! * runs the rest of the stack in a new **isolation scope**
//!   ([`run_in_isolation_scope`](crumbtrail_core::run_in_isolation_scope)), so the breadcrumbs,
//!   tags and user of one request never reach another, whatever the order of the layers. The
//!   request's trail starts empty; layers *outside* this one run in the connection's scope:
//!   their breadcrumbs are in no request's trail, and scope changes they make stay on the
//!   connection (put the layer outermost if those should belong to the request);
//! * puts the **request interface** on every event captured in that scope: URL, method, query
//!   string and headers. Cookies, `Authorization`, `Proxy-Authorization`, `X-Api-Key`, the
//!   client-IP headers (`X-Forwarded-For`, `X-Real-IP`, `Forwarded`, ...) and the peer address
//!   (`env.REMOTE_ADDR`, from axum's `ConnectInfo<SocketAddr>` or a `SocketAddr` request
//!   extension) are collected only with `send_default_pii`. Bodies are not collected;
//! * names the **transaction** `METHOD /route` from axum's `MatchedPath` (feature `axum`), else
//!   `METHOD /path`;
//! * **continues the incoming trace** from `sentry-trace` (or W3C `traceparent`) and `baggage`:
//!   the incoming trace id, the caller's span as parent, a new span id, the incoming sampling
//!   decision, and the dynamic sampling context frozen from the `sentry-` baggage entries
//!   (empty when there are none). Without those headers each request starts a new trace;
//! * records an **incoming-request breadcrumb** (type `http`, category `http.server`) with
//!   the method, URL, status, reason and `duration_ms` when the response is ready. The
//!   request's scope ends with the response, so the crumb is recorded only where it can be
//!   seen: on this layer's 5xx and panic events, and by a `before_breadcrumb` hook;
//! * captures **5xx responses** as error events ([`capture_server_errors`], on by default);
//! * catches **panics** of the inner service, captures them as fatal events (exception
//!   `panic`, mechanism [`MECHANISM`], `handled: false`) and answers `500` instead
//!   ([`catch_panics`], on by default): the server keeps serving;
//! * with performance monitoring on (`traces_sample_rate` or `traces_sampler`), makes each
//!   request a **transaction** (when sampled; an incoming decision is followed): named like
//!   the events, operation `http.server`, origin [`MECHANISM`], under the caller's span, with
//!   the request interface, the response's status and `http.response.status_code`; a request
//!   dropped before its response (the client went away) finishes it as `cancelled`. Errors
//!   captured during the request point at its span.
//!
//! [`capture_server_errors`]: CrumbtrailLayer::capture_server_errors
//! [`catch_panics`]: CrumbtrailLayer::catch_panics
//!
//! With axum, add the layer with `Router::layer` **after** the routes (it wraps the routes
//! that exist when it is added; `MatchedPath` is known only there). Add it once per request
//! path: a layer inside another one starts a request scope, trace and transaction of its own
//! for the same request.
//!
//! ```no_run
//! use axum::{Router, routing::get};
//! use crumbtrail_tower::CrumbtrailLayer;
//!
//! async fn user(axum::extract::Path(id): axum::extract::Path<u32>) -> String {
//!     crumbtrail_core::add_breadcrumb(
//!         crumbtrail_core::Breadcrumb::new().with_message(format!("loading user {id}")),
//!     );
//!     format!("user {id}")
//! }
//!
//! # async fn run() -> std::io::Result<()> {
//! let app = Router::new()
//!     .route("/users/{id}", get(user))
//!     .layer(CrumbtrailLayer::new());
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
//! axum::serve(
//!     listener,
//!     app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
//! )
//! .await
//! # }
//! ```
//!
//! With plain hyper, wrap a tower service and hand it to hyper with
//! `hyper_util::service::TowerToHyperService`:
//!
//! ```no_run
//! use std::convert::Infallible;
//! use hyper::{Request, Response, body::Incoming};
//! use hyper_util::rt::TokioIo;
//! use hyper_util::service::TowerToHyperService;
//! use tower::ServiceBuilder;
//!
//! async fn hello(req: Request<Incoming>) -> Result<Response<String>, Infallible> {
//!     Ok(Response::new(format!("hello from {}", req.uri().path())))
//! }
//!
//! # async fn run() -> std::io::Result<()> {
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
//! loop {
//!     let (stream, peer) = listener.accept().await?;
//!     let service = ServiceBuilder::new()
//!         // the peer address, for env.REMOTE_ADDR (sent only with send_default_pii)
//!         .map_request(move |mut req: Request<Incoming>| {
//!             req.extensions_mut().insert(peer);
//!             req
//!         })
//!         .layer(crumbtrail_tower::CrumbtrailLayer::new())
//!         .service_fn(hello);
//!     // crumbtrail_core::spawn: the connection task starts from the acceptor's scope.
//!     crumbtrail_core::spawn(async move {
//!         let _ = hyper::server::conn::http1::Builder::new()
//!             .serve_connection(TokioIo::new(stream), TowerToHyperService::new(service))
//!             .await;
//!     });
//! }
//! # }
//! ```
//!
//! Which client the requests report to: the one given with [`CrumbtrailLayer::client`], else
//! the one of the unit of work that polls the connection (bound with `bind_client`, inherited
//! through `crumbtrail_core::spawn`), else the global one (`crumbtrail::init`). With none, the
//! layer only calls the service (and still turns panics into 500s).
//!
//! What the layer sees ends when the response head is ready: a body that streams afterwards is
//! polled by hyper outside the request's scope, and a panic while streaming it is not caught.
//! With a `release` (and `auto_session_tracking`, on by default), each request is also a
//! **release-health session** in request mode (PROTOCOL.md §8.2): exited, errored (an error was
//! captured while it ran, in it or in a task it spawned: an exception, a 5xx this layer
//! reports, any event at level error; messages never count) or crashed (a panic), counted per
//! minute and sent every 60 s and on flush and close.
#![forbid(unsafe_code)]

mod future;
mod request;
mod trace;

use std::sync::Arc;
use std::task::{Context, Poll};

use crumbtrail_core::{Client, Scoped};
use http::{Request, Response};
use tower_layer::Layer;
use tower_service::Service;

pub use future::{IncomingRequest, MECHANISM, ResponseFuture};

use future::Settings;
use request::{Policy, RequestCtx};

#[derive(Debug, Clone)]
struct Config {
    settings: Settings,
    policy: Policy,
    client: Option<Client>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            settings: Settings {
                capture_server_errors: true,
                catch_panics: true,
                breadcrumbs: true,
            },
            policy: Policy {
                continue_traces: true,
            },
            client: None,
        }
    }
}

/// A tower [`Layer`] that runs each request in its own scope and reports on it (see the
/// [crate docs](crate) for everything it does).
///
/// ```
/// use crumbtrail_tower::CrumbtrailLayer;
///
/// let layer = CrumbtrailLayer::new()
///     .capture_server_errors(true) // 5xx responses become error events (default)
///     .catch_panics(true); // panics become fatal events and 500 responses (default)
/// # let _ = layer;
/// ```
#[derive(Debug, Clone, Default)]
pub struct CrumbtrailLayer {
    config: Arc<Config>,
}

impl CrumbtrailLayer {
    /// The layer with its defaults: every option on, reporting to the current client.
    pub fn new() -> Self {
        CrumbtrailLayer::default()
    }

    fn with(mut self, f: impl FnOnce(&mut Config)) -> Self {
        f(Arc::make_mut(&mut self.config));
        self
    }

    /// Whether responses with a 5xx status (and services that fail without a response) are
    /// captured as error events, with the response status in `contexts.response` (default
    /// true). Turn it off when your handlers capture their own errors and you do not want a
    /// second event for the 500 they return.
    pub fn capture_server_errors(self, enabled: bool) -> Self {
        self.with(|c| c.settings.capture_server_errors = enabled)
    }

    /// Whether panics of the inner service are caught (default true): the panic is captured
    /// as a fatal event and the client gets an empty `500 Internal Server Error`. When the
    /// client has the `panic` integration (the facade's default), its hook has already
    /// captured the panic, with its stack, in the request's scope, so the layer does not
    /// capture it again.
    ///
    /// With `false`, panics unwind through the layer untouched (hyper then drops the
    /// connection). Panics cannot be caught under `panic = "abort"`.
    pub fn catch_panics(self, enabled: bool) -> Self {
        self.with(|c| c.settings.catch_panics = enabled)
    }

    /// Whether the incoming-request breadcrumb is recorded (default true). It lands in the
    /// request's own trail, so it shows on the events captured after the response is ready:
    /// the 5xx and panic events of this layer. Nothing else can see it after that but a
    /// `before_breadcrumb` hook, so for other responses it is recorded only when there is one.
    pub fn request_breadcrumbs(self, enabled: bool) -> Self {
        self.with(|c| c.settings.breadcrumbs = enabled)
    }

    /// Whether incoming `sentry-trace` / `traceparent` / `baggage` headers are continued
    /// (default true). Turn it off on a public edge whose callers' traces you do not want to
    /// join: every request then starts a new trace.
    pub fn continue_traces(self, enabled: bool) -> Self {
        self.with(|c| c.policy.continue_traces = enabled)
    }

    /// Reports every request to `client`, each in a fresh scope of its own, instead of to the
    /// client of the unit of work that polls the connection. Useful when the server runs
    /// where that client is not bound (`axum::serve` spawns plain tokio tasks) and there is
    /// no global client, as in tests.
    pub fn client(self, client: Client) -> Self {
        self.with(|c| c.client = Some(client))
    }
}

impl<S> Layer<S> for CrumbtrailLayer {
    type Service = CrumbtrailService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        CrumbtrailService {
            inner,
            config: Config::clone(&self.config),
        }
    }
}

/// The service [`CrumbtrailLayer`] wraps around yours.
///
/// It calls the inner service inside the request's new scope, so whatever the inner layers
/// record in their own `call` belongs to the request, and the response future keeps that
/// scope. The response body type must implement `Default` (axum's `Body`, `Full`, `Empty`,
/// `String` do): a caught panic answers `500` with an empty body.
///
/// ```
/// use std::convert::Infallible;
/// use http::{Request, Response};
/// use tower::{Layer, ServiceExt, service_fn};
/// use crumbtrail_tower::CrumbtrailLayer;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let service = CrumbtrailLayer::new().layer(service_fn(|_req: Request<()>| async {
///     panic!("the handler blew up");
///     #[allow(unreachable_code)]
///     Ok::<_, Infallible>(Response::new(String::from("never")))
/// }));
/// let response = service.oneshot(Request::new(())).await.unwrap();
/// assert_eq!(response.status(), 500);
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct CrumbtrailService<S> {
    inner: S,
    // A copy, not a shared `Arc`: routers clone the service for every request, and a shared
    // reference count bounces between the worker threads' caches.
    config: Config,
}

impl<S, ReqB, ResB> Service<Request<ReqB>> for CrumbtrailService<S>
where
    S: Service<Request<ReqB>, Response = Response<ResB>>,
    ResB: Default,
{
    type Response = Response<ResB>;
    type Error = S::Error;
    type Future = Scoped<ResponseFuture<S::Future>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqB>) -> Self::Future {
        let config = &self.config;
        let client = match &config.client {
            Some(client) => Some(client.clone()),
            None => crumbtrail_core::current_client(),
        };
        let (ctx, setup) = match &client {
            Some(client) => {
                let (ctx, setup) = RequestCtx::new(&request, client, config.policy);
                (Some(ctx), Some(setup))
            }
            None => (None, None),
        };
        let configure = move |scope: &mut crumbtrail_core::Scope| {
            if let Some(setup) = setup {
                setup.apply(scope);
            }
        };
        let settings = config.settings;
        let inner = &mut self.inner;
        let make = move || ResponseFuture::new(|| inner.call(request), ctx, settings);
        match &config.client {
            // A fresh scope for that client.
            Some(client) => client.run_in_isolation_scope(configure, make),
            // A fork of the connection's scope.
            None => crumbtrail_core::run_in_isolation_scope(configure, make),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;
    use std::sync::Arc;

    use crumbtrail_core::{ClientOptions, Integration, Level, test};
    use http::{Request, Response, StatusCode};
    use tower::{ServiceExt, service_fn};

    use super::*;

    fn get(path: &str) -> Request<()> {
        Request::get(path).body(()).unwrap()
    }

    #[tokio::test]
    async fn a_service_error_is_captured_as_a_request_without_response() {
        let service = CrumbtrailLayer::new().layer(service_fn(|_req: Request<()>| async {
            Err::<Response<String>, _>(std::io::Error::other("backend gone"))
        }));
        let events = test::capture_events(async {
            assert!(service.oneshot(get("/jobs/3")).await.is_err());
        })
        .await;
        assert_eq!(events.len(), 1);
        let event = &events[0];
        assert_eq!(event.level, Level::Error);
        assert_eq!(
            event.message.as_deref(),
            Some("GET /jobs/3 failed without a response")
        );
        assert!(event.contexts.get("response").is_none());
        let crumb = &event.breadcrumbs.as_ref().unwrap().values[0];
        assert_eq!(crumb.category.as_deref(), Some("http.server"));
        assert_eq!(crumb.level, Level::Error);
        assert!(!crumb.data.contains_key("status_code"));
    }

    #[tokio::test]
    async fn with_the_panic_integration_the_layer_answers_500_but_leaves_the_report_to_its_hook() {
        // Named like crumbtrail-panic's integration; no hook is installed in this test.
        struct PanicHook;
        impl Integration for PanicHook {
            fn name(&self) -> &'static str {
                "panic"
            }
        }
        let service = CrumbtrailLayer::new().layer(service_fn(|_req: Request<()>| async {
            if true {
                panic!("reported by the hook");
            }
            Ok::<_, Infallible>(Response::new(String::new()))
        }));
        let options = ClientOptions {
            integrations: vec![Arc::new(PanicHook)],
            ..Default::default()
        };
        let events = test::capture_events_with(options, async {
            let response = service.oneshot(get("/")).await.unwrap();
            assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        })
        .await;
        assert!(events.is_empty(), "{events:?}");
    }

    #[tokio::test]
    async fn a_panic_in_the_inner_services_call_is_caught_too() {
        #[derive(Clone)]
        struct PanicsInCall;
        impl Service<Request<()>> for PanicsInCall {
            type Response = Response<String>;
            type Error = Infallible;
            type Future = std::future::Ready<Result<Response<String>, Infallible>>;
            fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
                Poll::Ready(Ok(()))
            }
            fn call(&mut self, _: Request<()>) -> Self::Future {
                panic!("in call");
            }
        }
        let service = CrumbtrailLayer::new().layer(PanicsInCall);
        let events = test::capture_events(async {
            let response = service.oneshot(get("/")).await.unwrap();
            assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        })
        .await;
        assert_eq!(events.len(), 1);
        let exception = &events[0].exception.as_ref().unwrap().values[0];
        assert_eq!(exception.value.as_deref(), Some("in call"));
        assert_eq!(events[0].level, Level::Fatal);
    }

    #[tokio::test]
    async fn what_the_inner_services_call_records_belongs_to_its_request_only() {
        /// Records a crumb in `call` itself (not in its future), as routing layers may.
        #[derive(Clone)]
        struct RecordsInCall;
        impl Service<Request<()>> for RecordsInCall {
            type Response = Response<String>;
            type Error = Infallible;
            type Future = std::future::Ready<Result<Response<String>, Infallible>>;
            fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
                Poll::Ready(Ok(()))
            }
            fn call(&mut self, req: Request<()>) -> Self::Future {
                let path = req.uri().path().to_owned();
                crumbtrail_core::add_breadcrumb(
                    crumbtrail_core::Breadcrumb::new().with_message(format!("routing {path}")),
                );
                let mut response = Response::new(String::new());
                *response.status_mut() = StatusCode::BAD_GATEWAY;
                std::future::ready(Ok(response))
            }
        }
        let mut service = CrumbtrailLayer::new().layer(RecordsInCall);
        let events = test::capture_events(async {
            // Both calls are made before either future is polled: each call's crumb must
            // land in its own request's scope, never in the caller's or the other's.
            let a = service.ready().await.unwrap().call(get("/a"));
            let b = service.ready().await.unwrap().call(get("/b"));
            assert_eq!(b.await.unwrap().status(), StatusCode::BAD_GATEWAY);
            assert_eq!(a.await.unwrap().status(), StatusCode::BAD_GATEWAY);
            crumbtrail_core::capture_message("after both", Level::Info);
        })
        .await;
        assert_eq!(events.len(), 3);
        for (event, path) in events[..2].iter().zip(["/b", "/a"]) {
            let messages: Vec<_> = event
                .breadcrumbs
                .as_ref()
                .unwrap()
                .values
                .iter()
                .filter_map(|c| c.message.as_deref())
                .filter(|m| m.starts_with("routing"))
                .collect();
            assert_eq!(messages, [format!("routing {path}")], "{event:?}");
        }
        assert!(
            events[2]
                .breadcrumbs
                .as_ref()
                .is_none_or(|b| b.values.iter().all(|c| c
                    .message
                    .as_deref()
                    .is_none_or(|m| !m.starts_with("routing")))),
            "the caller's scope got none: {:?}",
            events[2].breadcrumbs
        );
    }

    /// The transactions among `envelopes`.
    fn transactions(
        envelopes: &[crumbtrail_core::protocol::Envelope],
    ) -> Vec<crumbtrail_core::protocol::Transaction> {
        use crumbtrail_core::protocol::ItemType;
        envelopes
            .iter()
            .flat_map(|e| &e.items)
            .filter(|i| i.ty() == &ItemType::Transaction)
            .map(|i| i.decode_json().expect("a transaction"))
            .collect()
    }

    #[tokio::test]
    async fn a_request_is_a_transaction_only_with_performance_monitoring_on() {
        use crumbtrail_core::protocol::SpanStatus;
        let service = CrumbtrailLayer::new().layer(service_fn(|_req: Request<()>| async {
            let mut response = Response::new(String::new());
            *response.status_mut() = StatusCode::NOT_FOUND;
            Ok::<_, Infallible>(response)
        }));
        let off = test::capture(service.clone().oneshot(get("/items/9"))).await;
        assert!(transactions(&off).is_empty());

        let options = ClientOptions {
            traces_sample_rate: Some(1.0),
            ..Default::default()
        };
        let on = test::capture_with(options, service.oneshot(get("/items/9?x=1"))).await;
        let txs = transactions(&on);
        assert_eq!(txs.len(), 1);
        let tx = &txs[0];
        assert_eq!(tx.transaction.as_deref(), Some("GET /items/9"));
        let trace = tx.contexts.trace().expect("trace context");
        assert_eq!(trace.op.as_deref(), Some("http.server"));
        assert_eq!(trace.origin.as_deref(), Some(MECHANISM));
        assert_eq!(trace.status, Some(SpanStatus::NotFound));
        assert_eq!(trace.data["http.response.status_code"], 404);
        let request = tx.request.as_ref().expect("request interface");
        assert_eq!(request.method.as_deref(), Some("GET"));
        // As events have it: the query string too; cookies only with PII consent.
        assert_eq!(request.query_string.as_deref(), Some("x=1"));
        // Named after the URL (no route here): the name stays out of the sampling context.
        let dsc = on
            .iter()
            .find_map(|e| e.headers.trace.as_ref())
            .expect("a trace header");
        assert_eq!(
            dsc.trace_id,
            Some(tx.contexts.trace().unwrap().trace_id.to_string())
        );
        assert_eq!(dsc.transaction, None);
    }

    #[tokio::test]
    async fn a_request_dropped_before_its_response_is_a_cancelled_transaction() {
        use crumbtrail_core::protocol::SpanStatus;
        let service = CrumbtrailLayer::new().layer(service_fn(|_req: Request<()>| async {
            std::future::pending::<()>().await;
            Ok::<_, Infallible>(Response::new(String::new()))
        }));
        let options = ClientOptions {
            traces_sample_rate: Some(1.0),
            ..Default::default()
        };
        let envelopes = test::capture_with(options, async {
            let mut request = std::pin::pin!(service.oneshot(get("/slow")));
            // Polled once (the transaction starts), then dropped, as hyper does when the
            // client hangs up.
            assert!(futures_poll_once(request.as_mut()).await.is_none());
        })
        .await;
        let txs = transactions(&envelopes);
        assert_eq!(txs.len(), 1);
        let trace = txs[0].contexts.trace().unwrap();
        assert_eq!(trace.status, Some(SpanStatus::Cancelled));
    }

    /// Polls `future` once: its output if it was ready.
    async fn futures_poll_once<F: std::future::Future + Unpin>(future: F) -> Option<F::Output> {
        let mut future = Some(future);
        std::future::poll_fn(move |cx| {
            let mut f = future.take().expect("polled once");
            Poll::Ready(match std::pin::Pin::new(&mut f).poll(cx) {
                Poll::Ready(out) => Some(out),
                Poll::Pending => None,
            })
        })
        .await
    }

    #[tokio::test]
    async fn before_breadcrumb_sees_the_incoming_request_as_its_hint() {
        let service = CrumbtrailLayer::new().layer(service_fn(|_req: Request<()>| async {
            let mut response = Response::new(String::new());
            *response.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
            Ok::<_, Infallible>(response)
        }));
        let options = ClientOptions {
            before_breadcrumb: Some(Arc::new(|crumb, hint| {
                match hint.get::<IncomingRequest>() {
                    Some(req) if req.uri.path() == "/healthz" => None,
                    Some(req) => {
                        assert_eq!(req.status, Some(StatusCode::SERVICE_UNAVAILABLE));
                        assert_eq!(req.uri.query(), Some("full=1"));
                        Some(crumb.with_data("seen_by_hook", true))
                    }
                    None => Some(crumb),
                }
            })),
            ..Default::default()
        };
        let events = test::capture_events_with(options, async {
            for path in ["/healthz", "/orders?full=1"] {
                service.clone().oneshot(get(path)).await.unwrap();
            }
        })
        .await;
        assert_eq!(events.len(), 2);
        for event in &events {
            let crumbs = event.breadcrumbs.as_ref().map_or(0, |b| b.values.len());
            match event.transaction.as_deref() {
                Some("GET /healthz") => assert_eq!(crumbs, 0),
                Some("GET /orders") => {
                    let crumb = &event.breadcrumbs.as_ref().unwrap().values[0];
                    assert_eq!(crumb.data["seen_by_hook"], true);
                    assert_eq!(crumb.data["status_code"], 503);
                    assert_eq!(crumb.level, Level::Error);
                }
                other => panic!("unexpected transaction {other:?}"),
            }
        }
    }

    #[tokio::test]
    async fn before_breadcrumb_sees_the_crumbs_of_successful_requests_too() {
        // Without a hook a 2xx crumb would be seen by nothing (the scope ends with the
        // response) and is not recorded; with one, the hook gets every request's crumb.
        use std::sync::atomic::{AtomicUsize, Ordering};
        let seen = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&seen);
        let service = CrumbtrailLayer::new().layer(service_fn(|_req: Request<()>| async {
            Ok::<_, Infallible>(Response::new(String::new()))
        }));
        let options = ClientOptions {
            before_breadcrumb: Some(Arc::new(move |crumb, hint| {
                if let Some(req) = hint.get::<IncomingRequest>() {
                    assert_eq!(req.status, Some(StatusCode::OK));
                    counter.fetch_add(1, Ordering::SeqCst);
                }
                Some(crumb)
            })),
            ..Default::default()
        };
        let events = test::capture_events_with(options, async {
            for path in ["/a", "/b", "/c"] {
                service.clone().oneshot(get(path)).await.unwrap();
            }
        })
        .await;
        assert!(events.is_empty());
        assert_eq!(seen.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn breadcrumbs_and_trace_continuation_can_be_turned_off() {
        let service = CrumbtrailLayer::new()
            .request_breadcrumbs(false)
            .continue_traces(false)
            .layer(service_fn(|_req: Request<()>| async {
                let mut response = Response::new(String::new());
                *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
                Ok::<_, Infallible>(response)
            }));
        let events = test::capture_events(async {
            let req = Request::get("/")
                .header(
                    "sentry-trace",
                    "4c79f60c11214eb38604f4ae0781bfb2-a1b2c3d4e5f60718-1",
                )
                .body(())
                .unwrap();
            service.oneshot(req).await.unwrap();
        })
        .await;
        assert_eq!(events.len(), 1);
        assert!(events[0].breadcrumbs.is_none());
        let trace = events[0].contexts.trace().unwrap();
        assert_ne!(
            trace.trace_id.to_string(),
            "4c79f60c11214eb38604f4ae0781bfb2"
        );
        assert_eq!(trace.parent_span_id, None);
    }
}
