//! End to end: axum and plain hyper servers with the layer, on loopback port 0, called over real
//! HTTP, reporting over real HTTP to an in-process devserver.
//!
//! Every test has its own devserver, its own client and its own server, whose accept loop is
//! bound to that client (connections are spawned with `crumbtrail_core::spawn`, so they inherit
//! it); no global client. Waits are on `flush`, on the devserver or on a barrier, all bounded.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use crumbtrail_core::protocol::{Breadcrumb, Context, DynamicSamplingContext, Event, Level};
use crumbtrail_core::{Client, ClientOptions, ScopeFutureExt};
use crumbtrail_devserver::{DevServer, DevServerConfig};
use crumbtrail_tower::CrumbtrailLayer;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Barrier;
use tower::{Layer, Service, ServiceBuilder, ServiceExt};

/// The longest any test waits for anything.
const WAIT: Duration = Duration::from_secs(10);

const TRACE: &str = "4c79f60c11214eb38604f4ae0781bfb2";
const SPAN: &str = "a1b2c3d4e5f60718";

async fn devserver() -> DevServer {
    DevServer::start(DevServerConfig::default().with_print_events(false))
        .await
        .expect("devserver starts")
}

fn client_for(server: &DevServer, pii: bool) -> Client {
    Client::new(ClientOptions {
        dsn: Some(server.dsn().to_string()),
        release: Some("tower-e2e@1.0".into()),
        send_default_pii: pii,
        ..Default::default()
    })
    .expect("valid options")
}

/// Serves `service` on 127.0.0.1:0 with hyper: an accept loop bound to `client`, a
/// `crumbtrail_core::spawn`ed connection task per connection, and the peer address as axum's
/// `ConnectInfo` extension. The server lives until the test's runtime ends.
async fn serve<S, B>(service: S, client: &Client) -> SocketAddr
where
    S: Service<http::Request<Incoming>, Response = http::Response<B>, Error = Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    B: hyper::body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("local addr");
    let accept = async move {
        loop {
            let Ok((stream, peer)) = listener.accept().await else {
                continue;
            };
            let service = ServiceBuilder::new()
                .map_request(move |mut req: http::Request<Incoming>| {
                    req.extensions_mut().insert(ConnectInfo(peer));
                    req
                })
                .service(service.clone());
            crumbtrail_core::spawn(async move {
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), TowerToHyperService::new(service))
                    .await;
            });
        }
    };
    tokio::spawn(accept.bind_client(client));
    addr
}

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(WAIT)
        .build()
        .expect("reqwest client")
}

/// Flushes `client` and returns the events the devserver stored, oldest first.
async fn flushed_events(client: &Client, server: &DevServer) -> Vec<Event> {
    assert!(client.flush(WAIT).await, "everything delivered in time");
    server.events().iter().map(|r| r.event.clone()).collect()
}

/// The `trace` envelope header of the envelope that carried `event`.
fn envelope_dsc(server: &DevServer, event: &Event) -> Option<DynamicSamplingContext> {
    let received = server.event(&event.event_id).expect("event stored");
    server
        .envelopes()
        .iter()
        .find(|e| e.seq == received.envelope_seq)
        .and_then(|e| e.envelope.headers.trace.clone())
}

fn crumb(message: impl Into<String>) -> Breadcrumb {
    Breadcrumb::new()
        .with_category("app")
        .with_message(message.into())
}

fn messages(event: &Event) -> Vec<String> {
    event
        .breadcrumbs
        .iter()
        .flat_map(|b| b.values.iter())
        .filter_map(|c| c.message.as_deref().map(str::to_owned))
        .collect()
}

fn server_crumbs(event: &Event) -> Vec<&Breadcrumb> {
    event
        .breadcrumbs
        .iter()
        .flat_map(|b| b.values.iter())
        .filter(|c| c.category.as_deref() == Some("http.server"))
        .collect()
}

async fn find_user(Path(id): Path<u32>) -> &'static str {
    crumbtrail_core::add_breadcrumb(crumb(format!("looking up user {id}")));
    let err = std::io::Error::other(format!("user {id} has no orders"));
    crumbtrail_core::capture_error(&err);
    "ok"
}

fn users_app() -> Router {
    Router::new()
        .route("/users/{id}", get(find_user))
        .layer(CrumbtrailLayer::new())
}

/// A request with an incoming trace, cookies, credentials and a client-IP header.
fn traced_request(http: &reqwest::Client, addr: SocketAddr) -> reqwest::RequestBuilder {
    http.get(format!("http://{addr}/users/42?expand=orders"))
        .header("sentry-trace", format!("{TRACE}-{SPAN}-1"))
        .header(
            "baggage",
            format!(
                "vendor=x,sentry-trace_id={TRACE},sentry-public_key=upstream,\
                 sentry-release=front%401.0,sentry-sampled=true"
            ),
        )
        .header("cookie", "sid=abc; theme=dark")
        .header("authorization", "Bearer secret")
        .header("x-forwarded-for", "203.0.113.7")
        .header("x-request-id", "req-1")
}

#[tokio::test]
async fn a_handler_error_carries_the_request_the_route_and_the_incoming_trace() {
    let server = devserver().await;
    let client = client_for(&server, false);
    let addr = serve(users_app(), &client).await;

    let response = traced_request(&http(), addr).send().await.unwrap();
    assert_eq!(response.status(), 200);

    let events = flushed_events(&client, &server).await;
    assert_eq!(events.len(), 1, "a 200 response is not an event of its own");
    let event = &events[0];
    assert_eq!(event.transaction.as_deref(), Some("GET /users/{id}"));
    assert_eq!(messages(event), ["looking up user 42"]);

    let request = event.request.as_ref().expect("request interface");
    assert_eq!(
        request.url.as_deref(),
        Some(&*format!("http://{addr}/users/42"))
    );
    assert_eq!(request.method.as_deref(), Some("GET"));
    assert_eq!(request.query_string.as_deref(), Some("expand=orders"));
    assert_eq!(request.headers["x-request-id"], "req-1");
    for name in ["cookie", "authorization", "x-forwarded-for"] {
        assert!(
            !request.headers.contains_key(name),
            "{name} was collected without send_default_pii"
        );
    }
    assert_eq!(request.cookies, None);
    assert!(request.env.is_empty(), "no REMOTE_ADDR without PII");

    let trace = event.contexts.trace().expect("trace context");
    assert_eq!(trace.trace_id.to_string(), TRACE);
    assert_eq!(
        trace.parent_span_id.map(|s| s.to_string()).as_deref(),
        Some(SPAN)
    );
    assert_ne!(
        trace.span_id.to_string(),
        SPAN,
        "this service has a span of its own"
    );
    assert_eq!(trace.op.as_deref(), Some("http.server"));

    // The DSC is the caller's, frozen: its public key and release, not ours.
    let dsc = envelope_dsc(&server, event).expect("trace envelope header");
    assert_eq!(dsc.public_key.as_deref(), Some("upstream"));
    assert_eq!(dsc.release.as_deref(), Some("front@1.0"));
    assert_eq!(dsc.trace_id.as_deref(), Some(TRACE));
    assert_eq!(dsc.sampled(), Some(true));
}

#[tokio::test]
async fn with_send_default_pii_cookies_and_the_client_ip_are_sent() {
    let server = devserver().await;
    let client = client_for(&server, true);
    let addr = serve(users_app(), &client).await;

    let response = traced_request(&http(), addr).send().await.unwrap();
    assert_eq!(response.status(), 200);

    let events = flushed_events(&client, &server).await;
    let request = events[0].request.as_ref().expect("request interface");
    assert_eq!(request.cookies.as_deref(), Some("sid=abc; theme=dark"));
    assert_eq!(request.env["REMOTE_ADDR"], "127.0.0.1");
    // Collected, then masked by the core's always-on key denylist (PROTOCOL.md §12.1).
    for name in ["cookie", "authorization", "x-forwarded-for"] {
        assert_eq!(request.headers[name], "[Filtered]", "{name}");
    }
    assert_eq!(request.headers["x-request-id"], "req-1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_requests_each_report_only_their_own_trail_and_tags() {
    async fn work(Path(name): Path<String>, State(barrier): State<Arc<Barrier>>) -> &'static str {
        crumbtrail_core::configure_scope(|s| s.set_tag("job", &name));
        crumbtrail_core::add_breadcrumb(crumb(format!("{name}: started")));
        // Both requests are in flight, each with its first crumb recorded, before either goes on.
        barrier.wait().await;
        crumbtrail_core::add_breadcrumb(crumb(format!("{name}: resumed")));
        crumbtrail_core::capture_message(&format!("{name} done"), Level::Warning);
        "ok"
    }
    let server = devserver().await;
    let client = client_for(&server, false);
    let app = Router::new()
        .route("/work/{name}", get(work))
        .with_state(Arc::new(Barrier::new(2)))
        .layer(CrumbtrailLayer::new());
    // Both connections are served by one task, so they share its scope: only the layer keeps
    // the two requests apart.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let serve_two = async move {
        let mut connections = Vec::new();
        for _ in 0..2 {
            let (stream, _) = listener.accept().await.unwrap();
            let service = TowerToHyperService::new(app.clone());
            connections.push(
                hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service),
            );
        }
        let (a, b) = (connections.remove(0), connections.remove(0));
        let _ = tokio::join!(a, b);
    };
    tokio::spawn(serve_two.bind_client(&client));

    let http = http();
    let fetch = |name: &str| http.get(format!("http://{addr}/work/{name}")).send();
    let (a, b) = tokio::time::timeout(WAIT, async { tokio::join!(fetch("alpha"), fetch("beta")) })
        .await
        .expect("both requests passed the barrier together");
    assert_eq!(a.unwrap().status(), 200);
    assert_eq!(b.unwrap().status(), 200);

    let events = flushed_events(&client, &server).await;
    assert_eq!(events.len(), 2);
    for event in &events {
        let name = &event.tags["job"];
        assert_eq!(event.message.as_deref(), Some(&*format!("{name} done")));
        assert_eq!(
            messages(event),
            [format!("{name}: started"), format!("{name}: resumed")]
        );
        assert_eq!(event.transaction.as_deref(), Some("GET /work/{name}"));
        assert_eq!(
            event.request.as_ref().unwrap().url.as_deref(),
            Some(&*format!("http://{addr}/work/{name}"))
        );
    }
    let traces: Vec<_> = events
        .iter()
        .map(|e| e.contexts.trace().unwrap().trace_id)
        .collect();
    assert_ne!(traces[0], traces[1], "a new trace per request");
}

#[tokio::test]
async fn a_5xx_response_is_captured_with_the_incoming_request_breadcrumb() {
    async fn charge() -> (StatusCode, &'static str) {
        crumbtrail_core::add_breadcrumb(crumb("charging card"));
        (StatusCode::BAD_GATEWAY, "payment provider down")
    }
    let server = devserver().await;
    let client = client_for(&server, false);
    let app = Router::new()
        .route("/charge", get(charge))
        .route("/ok", get(|| async { "fine" }))
        .layer(CrumbtrailLayer::new());
    let addr = serve(app, &client).await;

    let http = http();
    for (path, status) in [("ok", 200), ("missing", 404), ("charge?card=1", 502)] {
        let response = http
            .get(format!("http://{addr}/{path}"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), status, "/{path}");
    }

    let events = flushed_events(&client, &server).await;
    assert_eq!(events.len(), 1, "only the 5xx is an event");
    let event = &events[0];
    assert_eq!(event.level, Level::Error);
    assert_eq!(
        event.message.as_deref(),
        Some("GET /charge responded 502 Bad Gateway")
    );
    assert_eq!(event.transaction.as_deref(), Some("GET /charge"));
    match event.contexts.get("response") {
        Some(Context::Response(r)) => assert_eq!(r.status_code, Some(502)),
        other => panic!("no response context: {other:?}"),
    }
    let trace = event.contexts.trace().unwrap();
    assert_eq!(trace.status.map(|s| s.as_str()), Some("internal_error"));
    assert_eq!(trace.op.as_deref(), Some("http.server"));
    assert_eq!(
        event.request.as_ref().unwrap().method.as_deref(),
        Some("GET")
    );

    // The trail: the handler's crumb, then the incoming-request crumb, recorded when the
    // response was ready, just before the layer captured the 5xx.
    assert_eq!(messages(event), ["charging card"]);
    let crumbs = &event.breadcrumbs.as_ref().unwrap().values;
    assert_eq!(crumbs.len(), 2);
    let request_crumb = &crumbs[1];
    assert_eq!(request_crumb.ty, "http");
    assert_eq!(request_crumb.category.as_deref(), Some("http.server"));
    assert_eq!(request_crumb.level, Level::Error);
    assert_eq!(request_crumb.data["method"], "GET");
    assert_eq!(request_crumb.data["url"], format!("http://{addr}/charge"));
    assert_eq!(request_crumb.data["status_code"], 502);
    assert_eq!(request_crumb.data["reason"], "Bad Gateway");
    assert!(
        request_crumb.data["duration_ms"]
            .as_f64()
            .is_some_and(|d| d >= 0.0),
        "{:?}",
        request_crumb.data
    );
    assert!(
        !request_crumb.data.contains_key("http.query"),
        "no query string without PII"
    );
}

#[tokio::test]
async fn server_errors_can_be_left_to_the_handlers() {
    let server = devserver().await;
    let client = client_for(&server, false);
    let app = Router::new()
        .route("/fail", get(|| async { StatusCode::INTERNAL_SERVER_ERROR }))
        .layer(CrumbtrailLayer::new().capture_server_errors(false));
    let addr = serve(app, &client).await;

    let response = http()
        .get(format!("http://{addr}/fail"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 500);
    // The layer captures before the response leaves, so a flush after it would deliver it.
    assert!(flushed_events(&client, &server).await.is_empty());
}

#[tokio::test]
async fn a_panicking_handler_is_a_fatal_event_and_a_500_and_the_server_keeps_serving() {
    async fn explode() -> &'static str {
        crumbtrail_core::add_breadcrumb(crumb("about to explode"));
        panic!("handler blew up");
    }
    let server = devserver().await;
    let client = client_for(&server, false);
    let app = Router::new()
        .route("/explode", get(explode))
        .route("/ok", get(|| async { "still here" }))
        .layer(CrumbtrailLayer::new());
    let addr = serve(app, &client).await;

    let http = http();
    let response = http
        .get(format!("http://{addr}/explode"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 500);
    for _ in 0..2 {
        let response = http.get(format!("http://{addr}/ok")).send().await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.text().await.unwrap(), "still here");
    }

    let events = flushed_events(&client, &server).await;
    assert_eq!(
        events.len(),
        1,
        "the panic only: no second event for its 500"
    );
    let event = &events[0];
    assert_eq!(event.level, Level::Fatal);
    let exception = &event.exception.as_ref().unwrap().values[0];
    assert_eq!(exception.ty.as_deref(), Some("panic"));
    assert_eq!(exception.value.as_deref(), Some("handler blew up"));
    let mechanism = exception.mechanism.as_ref().unwrap();
    assert_eq!(mechanism.ty, crumbtrail_tower::MECHANISM);
    assert_eq!(mechanism.handled, Some(false));
    assert_eq!(event.transaction.as_deref(), Some("GET /explode"));
    assert_eq!(
        event.request.as_ref().unwrap().url.as_deref(),
        Some(&*format!("http://{addr}/explode"))
    );
    assert_eq!(messages(event), ["about to explode"]);
    let request_crumb = server_crumbs(event);
    assert_eq!(request_crumb.len(), 1);
    assert_eq!(request_crumb[0].data["status_code"], 500);
}

#[tokio::test]
async fn without_catch_panics_a_panic_drops_the_connection_but_not_the_server() {
    let server = devserver().await;
    let client = client_for(&server, false);
    let app = Router::new()
        .route(
            "/explode",
            get(|| async { panic!("uncaught") as &'static str }),
        )
        .route("/ok", get(|| async { "still here" }))
        .layer(CrumbtrailLayer::new().catch_panics(false));
    let addr = serve(app, &client).await;

    let http = http();
    let failed = http.get(format!("http://{addr}/explode")).send().await;
    assert!(failed.is_err(), "the connection task died: {failed:?}");
    let response = http.get(format!("http://{addr}/ok")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(flushed_events(&client, &server).await.is_empty());
}

#[tokio::test]
async fn plain_hyper_names_by_url_continues_traceparent_and_reads_the_peer_address() {
    async fn hello(req: http::Request<Incoming>) -> Result<http::Response<String>, Infallible> {
        crumbtrail_core::add_breadcrumb(crumb("saying hello"));
        crumbtrail_core::capture_message("hello failed", Level::Error);
        Ok(http::Response::new(format!("hello {}", req.uri().path())))
    }
    let server = devserver().await;
    let client = client_for(&server, true);
    let service = ServiceBuilder::new()
        // Plain hyper: the peer as a `SocketAddr` extension (`serve` adds axum's ConnectInfo,
        // which this replaces in the role).
        .map_request(|mut req: http::Request<Incoming>| {
            let peer = req.extensions_mut().remove::<ConnectInfo<SocketAddr>>();
            if let Some(ConnectInfo(peer)) = peer {
                req.extensions_mut().insert(peer);
            }
            req
        })
        .layer(CrumbtrailLayer::new())
        .service_fn(hello);
    let addr = serve(service, &client).await;

    let response = http()
        .get(format!("http://{addr}/plain/7?lang=en"))
        .header("traceparent", format!("00-{TRACE}-{SPAN}-01"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.text().await.unwrap(), "hello /plain/7");

    let events = flushed_events(&client, &server).await;
    let event = &events[0];
    assert_eq!(event.transaction.as_deref(), Some("GET /plain/7"));
    assert_eq!(messages(event), ["saying hello"]);
    let request = event.request.as_ref().unwrap();
    assert_eq!(request.env["REMOTE_ADDR"], "127.0.0.1");
    assert_eq!(request.query_string.as_deref(), Some("lang=en"));
    let trace = event.contexts.trace().unwrap();
    assert_eq!(trace.trace_id.to_string(), TRACE);
    assert_eq!(
        trace.parent_span_id.map(|s| s.to_string()).as_deref(),
        Some(SPAN)
    );
    // A non-Sentry caller: no frozen DSC, the client builds it (its own key, the trace id).
    let dsc = envelope_dsc(&server, event).unwrap();
    assert_eq!(dsc.public_key.as_deref(), Some(server.dsn().public_key()));
    assert_eq!(dsc.trace_id.as_deref(), Some(TRACE));
}

#[tokio::test]
async fn requests_without_trace_headers_each_start_a_new_trace() {
    let server = devserver().await;
    let client = client_for(&server, false);
    let addr = serve(users_app(), &client).await;
    let http = http();
    for id in [1, 2] {
        let response = http
            .get(format!("http://{addr}/users/{id}"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
    }
    let events = flushed_events(&client, &server).await;
    assert_eq!(events.len(), 2);
    let traces: Vec<_> = events
        .iter()
        .map(|e| e.contexts.trace().unwrap().clone())
        .collect();
    assert_ne!(traces[0].trace_id, traces[1].trace_id);
    for (event, trace) in events.iter().zip(&traces) {
        assert_eq!(trace.parent_span_id, None);
        let dsc = envelope_dsc(&server, event).unwrap();
        assert_eq!(dsc.trace_id, Some(trace.trace_id.to_string()));
        assert_eq!(dsc.public_key.as_deref(), Some(server.dsn().public_key()));
    }
}

#[tokio::test]
async fn a_continued_trace_passes_on_a_bounded_dsc_with_its_sample_rand() {
    /// Answers with the `baggage` this request's outgoing requests would carry, after
    /// capturing an error (whose envelope carries the DSC as its `trace` header).
    async fn outgoing_baggage() -> String {
        let client = crumbtrail_core::current_client().expect("a client");
        let ctx = crumbtrail_core::propagation_context().expect("a trace");
        crumbtrail_core::capture_message("in handler", Level::Error);
        ctx.baggage(&client)
    }
    let server = devserver().await;
    let client = client_for(&server, false);
    let app = Router::new()
        .route("/baggage", get(outgoing_baggage))
        .layer(CrumbtrailLayer::new());
    let addr = serve(app, &client).await;

    // An older SDK's decision and rate but no sample_rand, and a caller's 30 KB entry.
    let junk = "A".repeat(30_000);
    let baggage = http()
        .get(format!("http://{addr}/baggage"))
        .header("sentry-trace", format!("{TRACE}-{SPAN}-1"))
        .header(
            "baggage",
            format!(
                "sentry-trace_id={TRACE},sentry-public_key=upstream,sentry-sample_rate=0.5,\
                 sentry-sampled=true,sentry-junk={junk}"
            ),
        )
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let events = flushed_events(&client, &server).await;
    let dsc = envelope_dsc(&server, &events[0]).expect("trace envelope header");
    assert_eq!(DynamicSamplingContext::from_baggage(&baggage), dsc);
    assert!(baggage.len() <= 200, "{} bytes: {baggage}", baggage.len());
    assert_eq!(dsc.get("junk"), None);
    assert_eq!(dsc.public_key.as_deref(), Some("upstream"));
    let rand = dsc
        .sample_rand()
        .expect("the trace's sample_rand passed on");
    assert!(rand < 0.5, "{rand} keeps the caller's positive decision");
}

#[tokio::test]
async fn outside_the_router_requests_on_one_connection_stay_isolated_whatever_the_layer_order() {
    async fn item(Path(id): Path<u32>) -> &'static str {
        crumbtrail_core::add_breadcrumb(crumb(format!("handler saw {id}")));
        crumbtrail_core::configure_scope(|s| s.set_tag(format!("item{id}"), id));
        crumbtrail_core::capture_message(&format!("item {id}"), Level::Info);
        "ok"
    }
    async fn inner_mw(
        req: axum::extract::Request,
        next: axum::middleware::Next,
    ) -> axum::response::Response {
        crumbtrail_core::add_breadcrumb(crumb(format!("inner saw {}", req.uri().path())));
        next.run(req).await
    }
    let server = devserver().await;
    let client = client_for(&server, false);
    let router = Router::new()
        .route("/items/{id}", get(item))
        .route_layer(axum::middleware::from_fn(inner_mw));
    // An outer layer records into the connection's scope, outside any request's.
    let service = ServiceBuilder::new()
        .map_request(|req: http::Request<Incoming>| {
            crumbtrail_core::add_breadcrumb(crumb(format!("outer saw {}", req.uri().path())));
            req
        })
        .layer(CrumbtrailLayer::new())
        .service(router);
    let addr = serve(service, &client).await;

    let http = http(); // one keep-alive connection for the sequential requests
    for id in [1, 2, 3] {
        let response = http
            .get(format!("http://{addr}/items/{id}"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
    }

    let events = flushed_events(&client, &server).await;
    assert_eq!(events.len(), 3);
    for event in &events {
        let id = event
            .message
            .as_deref()
            .unwrap()
            .trim_start_matches("item ");
        assert_eq!(
            messages(event),
            [
                format!("inner saw /items/{id}"),
                format!("handler saw {id}")
            ]
        );
        assert_eq!(
            event.tags.keys().cloned().collect::<Vec<_>>(),
            [format!("item{id}")]
        );
        // Outside the router there is no MatchedPath: the URL names the transaction.
        assert_eq!(
            event.transaction.as_deref(),
            Some(&*format!("GET /items/{id}"))
        );
    }
}

#[tokio::test]
async fn with_a_client_of_its_own_the_layer_works_under_axum_serve() {
    let server = devserver().await;
    let client = client_for(&server, true);
    let app = Router::new()
        .route("/users/{id}", get(find_user))
        .layer(CrumbtrailLayer::new().client(client.clone()));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    // axum::serve spawns plain tokio tasks: nothing is bound to the client but the layer.
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
    });

    let response = http()
        .get(format!("http://{addr}/users/9"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let events = flushed_events(&client, &server).await;
    assert_eq!(events.len(), 1);
    let event = &events[0];
    assert_eq!(event.transaction.as_deref(), Some("GET /users/{id}"));
    assert_eq!(messages(event), ["looking up user 9"]);
    assert_eq!(
        event.request.as_ref().unwrap().env["REMOTE_ADDR"],
        "127.0.0.1"
    );
}

#[tokio::test]
async fn the_service_keeps_working_through_tower_oneshot_and_clones() {
    // Readiness: the layer moves the ready service into the call and keeps a clone.
    let server = devserver().await;
    let client = client_for(&server, false);
    let mut svc = CrumbtrailLayer::new()
        .client(client.clone())
        .layer(users_app_inner());
    for id in [5, 6] {
        let req = http::Request::get(format!("/users/{id}"))
            .body(axum::body::Body::empty())
            .unwrap();
        let response = ServiceExt::<http::Request<axum::body::Body>>::ready(&mut svc)
            .await
            .unwrap()
            .call(req)
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
    }
    let events = flushed_events(&client, &server).await;
    assert_eq!(events.len(), 2);
    // No Host header and no absolute URI: the URL is the path.
    let urls: Vec<_> = events
        .iter()
        .map(|e| e.request.as_ref().unwrap().url.clone().unwrap())
        .collect();
    assert!(urls.contains(&"/users/5".to_owned()) && urls.contains(&"/users/6".to_owned()));
}

fn users_app_inner() -> Router {
    Router::new().route("/users/{id}", get(find_user))
}

#[tokio::test]
async fn with_traces_on_each_request_is_a_transaction_that_continues_the_callers_decision() {
    use crumbtrail_core::protocol::{SpanStatus, TransactionSource};
    async fn broken() -> StatusCode {
        StatusCode::BAD_GATEWAY
    }
    let server = devserver().await;
    let client = Client::new(ClientOptions {
        dsn: Some(server.dsn().to_string()),
        release: Some("tower-e2e@1.0".into()),
        traces_sample_rate: Some(1.0),
        ..Default::default()
    })
    .expect("valid options");
    let app = Router::new()
        .route("/users/{id}", get(find_user))
        .route("/broken", get(broken))
        .layer(CrumbtrailLayer::new().capture_server_errors(false));
    let addr = serve(app, &client).await;
    let http = http();

    // Sampled upstream: a transaction in the caller's trace, under the caller's span.
    let response = traced_request(&http, addr).send().await.unwrap();
    assert_eq!(response.status(), 200);
    // Not sampled upstream: the decision is followed, whatever our rate.
    let response = http
        .get(format!("http://{addr}/users/7"))
        // A trace of its own, so that its error is not mistaken for the first one's.
        .header(
            "sentry-trace",
            format!("0123456789abcdef0123456789abcdef-{SPAN}-0"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    // No trace headers: a new trace, sampled here.
    let response = http
        .get(format!("http://{addr}/broken"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 502);

    let events = flushed_events(&client, &server).await;
    let txs: Vec<_> = server
        .transactions()
        .into_iter()
        .map(|(envelope, tx)| (tx, envelope.envelope.headers.trace.clone()))
        .collect();
    assert_eq!(
        txs.len(),
        2,
        "{:?}",
        txs.iter().map(|t| &t.0.transaction).collect::<Vec<_>>()
    );
    let (user, dsc) = txs
        .iter()
        .find(|(tx, _)| tx.transaction.as_deref() == Some("GET /users/{id}"))
        .expect("the traced request's transaction");
    let trace = user.contexts.trace().expect("trace context");
    assert_eq!(trace.trace_id.to_string(), TRACE);
    assert_eq!(
        trace.parent_span_id.map(|s| s.to_string()).as_deref(),
        Some(SPAN)
    );
    assert_eq!(trace.op.as_deref(), Some("http.server"));
    assert_eq!(trace.origin.as_deref(), Some(crumbtrail_tower::MECHANISM));
    assert_eq!(trace.status, Some(SpanStatus::Ok));
    assert_eq!(
        user.transaction_info
            .as_ref()
            .and_then(|i| i.source.clone()),
        Some(TransactionSource::Route)
    );
    let request = user.request.as_ref().expect("request interface");
    assert_eq!(
        request.url.as_deref(),
        Some(&*format!("http://{addr}/users/42"))
    );
    assert!(
        !request.headers.contains_key("cookie"),
        "no cookies without PII"
    );
    // The caller's frozen sampling context travels with it.
    let dsc = dsc.as_ref().expect("trace envelope header");
    assert_eq!(dsc.public_key.as_deref(), Some("upstream"));

    // The error its handler captured points at its span: the one error of the traced request.
    let error = events
        .iter()
        .find(|e| {
            e.contexts
                .trace()
                .is_some_and(|t| t.trace_id == trace.trace_id)
        })
        .expect("the traced request's error");
    assert_eq!(error.contexts.trace().unwrap().span_id, trace.span_id);

    let (broken, _) = txs
        .iter()
        .find(|(tx, _)| tx.transaction.as_deref() == Some("GET /broken"))
        .expect("the new trace's transaction");
    let trace = broken.contexts.trace().unwrap();
    assert_ne!(trace.trace_id.to_string(), TRACE);
    assert_eq!(trace.parent_span_id, None);
    assert_eq!(trace.status, Some(SpanStatus::InternalError));
    assert_eq!(trace.data["http.response.status_code"], 502);
}

#[tokio::test]
async fn each_request_is_a_release_health_session_counted_per_minute() {
    use crumbtrail_core::protocol::{ItemType, SessionAggregates};
    async fn fine() -> &'static str {
        crumbtrail_core::capture_message("a message does not make the request errored", {
            crumbtrail_core::Level::Error
        });
        "fine"
    }
    async fn explode() -> &'static str {
        panic!("the handler blew up")
    }
    async fn broken() -> StatusCode {
        StatusCode::INTERNAL_SERVER_ERROR // reported by the layer: an error-level event
    }
    let server = devserver().await;
    let client = client_for(&server, false); // it has a release
    let app = Router::new()
        .route("/users/{id}", get(find_user))
        .route("/fine", get(fine))
        .route("/explode", get(explode))
        .route("/broken", get(broken))
        .layer(CrumbtrailLayer::new());
    let addr = serve(app, &client).await;
    let http = http();
    for path in [
        "/fine", "/users/1", "/explode", "/fine", "/users/2", "/broken",
    ] {
        http.get(format!("http://{addr}{path}"))
            .send()
            .await
            .unwrap();
    }
    flushed_events(&client, &server).await;

    let aggregates: Vec<SessionAggregates> = server
        .envelopes()
        .iter()
        .flat_map(|e| e.envelope.items.clone())
        .filter(|i| i.ty() == &ItemType::Sessions)
        .map(|i| i.decode_json().expect("session aggregates"))
        .collect();
    assert!(!aggregates.is_empty(), "a sessions item was sent on flush");
    let attrs = &aggregates[0].attrs;
    assert_eq!(attrs.release, "tower-e2e@1.0");
    let buckets: Vec<_> = aggregates.iter().flat_map(|a| &a.aggregates).collect();
    let sum = |f: fn(&crumbtrail_core::protocol::SessionAggregateItem) -> u64| {
        buckets.iter().map(|b| f(b)).sum::<u64>()
    };
    assert_eq!(
        (sum(|b| b.exited), sum(|b| b.errored), sum(|b| b.crashed)),
        (2, 3, 1),
        "two fine requests, two with a captured error and a 500, one panic: {buckets:?}"
    );
    for bucket in &buckets {
        assert_eq!(bucket.started.second(), 0, "buckets start on the minute");
    }

    // Without a release there is no release health.
    let server = devserver().await;
    let client = Client::new(ClientOptions {
        dsn: Some(server.dsn().to_string()),
        ..Default::default()
    })
    .expect("valid options");
    let addr = serve(users_app(), &client).await;
    http.get(format!("http://{addr}/users/3"))
        .send()
        .await
        .unwrap();
    flushed_events(&client, &server).await;
    assert!(server.envelopes().iter().all(|e| {
        e.envelope
            .items
            .iter()
            .all(|i| i.ty() != &ItemType::Sessions)
    }));
}
