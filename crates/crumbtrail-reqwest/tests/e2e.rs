//! End to end over loopback HTTP: requests go through `CrumbtrailMiddleware` to a small local
//! server of ours that records the headers it receives and answers with the status in its
//! path; events go to an in-process devserver, and the tests assert on what both received.
//!
//! Every test has its own servers (port 0) and its own client bound with `bind_client`; every
//! wait is bounded (flush, the devserver, a reqwest timeout).

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use crumbtrail_core::protocol::{DynamicSamplingContext, Event, TraceContext};
use crumbtrail_core::{
    Breadcrumb, Client, ClientOptions, Level, PropagationContext, ScopeFutureExt, TestTransport,
    add_breadcrumb, capture_message, configure_scope,
};
use crumbtrail_devserver::{DevServer, DevServerConfig};
use crumbtrail_reqwest::{CrumbtrailMiddleware, HttpBreadcrumbHint, PropagationTarget};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::HeaderMap;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use reqwest_middleware::ClientWithMiddleware;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// The longest any test waits for the sender, a server or a request.
const WAIT: Duration = Duration::from_secs(10);

// ---------------------------------------------------------------------------------------------
// A recording HTTP server
// ---------------------------------------------------------------------------------------------

/// One request as the recording server received it.
#[derive(Debug, Clone)]
struct Seen {
    path: String,
    headers: HeaderMap,
}

impl Seen {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// A loopback HTTP/1 server that records each request's path and headers. `/status/<code>[/..]`
/// answers `<code>` with the body `status <code>` and `x-request-id: req-42`; `/hang` never
/// answers; anything else answers 200.
struct Recorder {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
    task: JoinHandle<()>,
}

impl Recorder {
    async fn start() -> Recorder {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await.expect("bind");
        let addr = listener.local_addr().expect("local addr");
        let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
        let log = Arc::clone(&seen);
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let log = Arc::clone(&log);
                tokio::spawn(async move {
                    let service = service_fn(move |req| answer(req, Arc::clone(&log)));
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Recorder { addr, seen, task }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The one request received for `path` (with its query).
    fn request(&self, path: &str) -> Seen {
        let seen = self.seen();
        let mut matching = seen.iter().filter(|s| s.path == path);
        let first = matching.next().cloned();
        assert!(matching.next().is_none(), "{path} requested more than once");
        first.unwrap_or_else(|| panic!("{path} was not requested; saw {seen:?}"))
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn answer(
    req: hyper::Request<Incoming>,
    log: Arc<Mutex<Vec<Seen>>>,
) -> Result<hyper::Response<Full<Bytes>>, Infallible> {
    let path = req
        .uri()
        .path_and_query()
        .map(|p| p.to_string())
        .unwrap_or_default();
    log.lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(Seen {
            path: path.clone(),
            headers: req.headers().clone(),
        });
    if req.uri().path() == "/hang" {
        std::future::pending::<()>().await;
    }
    let mut segments = req.uri().path().split('/').skip(1);
    let status = match (segments.next(), segments.next()) {
        (Some("status"), Some(code)) => code.parse().unwrap_or(200),
        _ => 200,
    };
    let _ = req.into_body().collect().await;
    let response = hyper::Response::builder()
        .status(status)
        .header("x-request-id", "req-42")
        .body(Full::new(Bytes::from(format!("status {status}"))))
        .unwrap_or_default();
    Ok(response)
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

async fn devserver() -> DevServer {
    DevServer::start(DevServerConfig::default())
        .await
        .expect("devserver starts")
}

/// A client that sends to `server` over HTTP.
fn client(server: &DevServer, options: ClientOptions) -> Client {
    Client::new(ClientOptions {
        dsn: Some(server.dsn().to_string()),
        release: Some("shop@1.4.2".into()),
        environment: Some("test".into()),
        ..options
    })
    .expect("valid options")
}

/// A reqwest client with `middleware`, no proxies, bounded requests.
fn http_with(middleware: CrumbtrailMiddleware) -> ClientWithMiddleware {
    let inner = reqwest::Client::builder()
        .no_proxy()
        .timeout(WAIT)
        .build()
        .expect("reqwest client");
    reqwest_middleware::ClientBuilder::new(inner)
        .with(middleware)
        .build()
}

fn http() -> ClientWithMiddleware {
    http_with(CrumbtrailMiddleware::new())
}

/// Runs `work` bound to `client`, then captures an event in the same scope; returns that event
/// as the devserver stored it.
async fn event_after<F: Future<Output = ()>>(
    server: &DevServer,
    client: &Client,
    work: F,
) -> Event {
    let id = async {
        work.await;
        capture_message("after the requests", Level::Error).expect("an event id")
    }
    .bind_client(client)
    .await;
    assert!(client.flush(WAIT).await, "flushed in time");
    server
        .wait_until(WAIT, |r| r.event(&id).is_some())
        .await
        .expect("the event arrives");
    server.event(&id).expect("stored").event.clone()
}

fn http_crumbs(event: &Event) -> Vec<Breadcrumb> {
    event
        .breadcrumbs
        .iter()
        .flat_map(|b| b.values.iter())
        .filter(|c| c.category.as_deref() == Some("http"))
        .cloned()
        .collect()
}

fn trace_of(event: &Event) -> TraceContext {
    event.contexts.trace().expect("contexts.trace").clone()
}

fn data<'a>(crumb: &'a Breadcrumb, key: &str) -> &'a Value {
    crumb.data.get(key).unwrap_or(&Value::Null)
}

/// A port nothing listens on: bound, then released.
async fn closed_port() -> u16 {
    let listener = TcpListener::bind(("127.0.0.1", 0)).await.expect("bind");
    listener.local_addr().expect("addr").port()
}

// ---------------------------------------------------------------------------------------------
// Breadcrumbs
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn each_request_leaves_an_http_crumb_in_order_with_its_level() {
    let (server, site) = (devserver().await, Recorder::start().await);
    let client = client(&server, ClientOptions::default());
    let http = http();
    let event = event_after(&server, &client, async {
        add_breadcrumb(Breadcrumb::new().with_message("before"));
        let ok = http
            .get(
                site.url("/status/200?token=abc#frag")
                    .replace("://", "://user:pw@"),
            )
            .send()
            .await
            .expect("200");
        assert_eq!(ok.status(), 200);
        let missing = http
            .post(site.url("/status/404"))
            .body("hello")
            .send()
            .await
            .expect("404");
        // The response reaches the caller untouched.
        assert_eq!(missing.status(), 404);
        assert_eq!(missing.text().await.expect("body"), "status 404");
        let down = http.get(site.url("/status/503")).send().await.expect("503");
        assert_eq!(down.status(), 503);
        add_breadcrumb(Breadcrumb::new().with_message("after"));
    })
    .await;

    let trail: Vec<_> = event
        .breadcrumbs
        .iter()
        .flat_map(|b| b.values.iter())
        .map(|c| (c.category.clone(), c.message.clone()))
        .collect();
    assert_eq!(trail.len(), 5, "{trail:?}");
    assert_eq!(trail[0].1.as_deref(), Some("before"));
    assert_eq!(trail[4].1.as_deref(), Some("after"));

    let crumbs = http_crumbs(&event);
    let want = [
        ("GET", "/status/200", 200, "OK", Level::Info),
        ("POST", "/status/404", 404, "Not Found", Level::Warning),
        (
            "GET",
            "/status/503",
            503,
            "Service Unavailable",
            Level::Error,
        ),
    ];
    assert_eq!(crumbs.len(), want.len());
    for (crumb, (method, path, status, reason, level)) in crumbs.iter().zip(want) {
        assert_eq!(crumb.ty, "http");
        assert_eq!(crumb.level, level, "{path}");
        assert_eq!(data(crumb, "method"), method);
        // No credentials, query or fragment without PII consent.
        assert_eq!(data(crumb, "url"), &Value::from(site.url(path)));
        assert!(!crumb.data.contains_key("http.query"));
        assert!(!crumb.data.contains_key("http.fragment"));
        assert_eq!(data(crumb, "status_code"), status);
        assert_eq!(data(crumb, "reason"), reason);
        assert_eq!(data(crumb, "response_body_size"), 10, "`status NNN`");
        assert!(
            data(crumb, "duration_ms")
                .as_f64()
                .is_some_and(|d| d >= 0.0)
        );
        assert!(crumb.message.is_none());
    }
    assert!(!crumbs[0].data.contains_key("request_body_size"));
    assert_eq!(data(&crumbs[1], "request_body_size"), 5);
    assert!(client.close(WAIT).await);
}

#[tokio::test]
async fn with_pii_consent_query_and_fragment_are_kept_apart() {
    let (server, site) = (devserver().await, Recorder::start().await);
    let options = ClientOptions {
        send_default_pii: true,
        ..Default::default()
    };
    let client = client(&server, options);
    let http = http();
    let event = event_after(&server, &client, async {
        let url = site.url("/status/200?token=abc&x=1#frag");
        let url = url.replace("://", "://user:pw@");
        http.get(url).send().await.expect("200");
    })
    .await;
    let crumbs = http_crumbs(&event);
    assert_eq!(crumbs.len(), 1);
    assert_eq!(
        data(&crumbs[0], "url"),
        &Value::from(site.url("/status/200"))
    );
    assert_eq!(data(&crumbs[0], "http.query"), "token=abc&x=1");
    assert_eq!(data(&crumbs[0], "http.fragment"), "frag");
}

#[tokio::test]
async fn failed_requests_leave_error_crumbs() {
    let (server, site) = (devserver().await, Recorder::start().await);
    let client = client(&server, ClientOptions::default());
    let http = http();
    let port = closed_port().await;
    let refused_url = format!("http://127.0.0.1:{port}/down?secret=s3cr3t");
    let event = event_after(&server, &client, async {
        let err = http.get(&refused_url).send().await.expect_err("refused");
        assert!(err.is_connect(), "{err:?}");
        let err = http
            .get(site.url("/hang?secret=s3cr3t"))
            .timeout(Duration::from_millis(200))
            .send()
            .await
            .expect_err("timed out");
        assert!(err.is_timeout(), "{err:?}");
    })
    .await;

    let crumbs = http_crumbs(&event);
    assert_eq!(crumbs.len(), 2);
    let urls = [format!("http://127.0.0.1:{port}/down"), site.url("/hang")];
    for (crumb, url) in crumbs.iter().zip(urls) {
        assert_eq!(crumb.level, Level::Error);
        assert_eq!(data(crumb, "url"), &Value::from(url.as_str()));
        assert!(!crumb.data.contains_key("status_code"));
        let message = crumb.message.as_deref().expect("the error text");
        assert!(message.contains("error sending request"), "{message}");
        assert!(!message.contains("s3cr3t"), "{message}");
        assert!(data(crumb, "duration_ms").is_number());
    }
    let refused = crumbs[0].message.as_deref().unwrap_or_default();
    assert!(refused.to_lowercase().contains("connect"), "{refused}");
    let timed_out = crumbs[1].message.as_deref().unwrap_or_default();
    assert!(
        timed_out.to_lowercase().contains("timed out"),
        "{timed_out}"
    );
}

#[tokio::test]
async fn a_request_dropped_unfinished_leaves_a_warning_crumb() {
    let (server, site) = (devserver().await, Recorder::start().await);
    let client = client(&server, ClientOptions::default());
    let http = http();
    let event = event_after(&server, &client, async {
        // Polled once (the request starts), then dropped when the other branch wins.
        tokio::select! {
            biased;
            _ = http.get(site.url("/hang")).send() => panic!("/hang answered"),
            () = std::future::ready(()) => {}
        }
    })
    .await;
    let crumbs = http_crumbs(&event);
    assert_eq!(crumbs.len(), 1);
    assert_eq!(crumbs[0].level, Level::Warning);
    assert_eq!(
        crumbs[0].message.as_deref(),
        Some("request cancelled before it completed")
    );
    assert_eq!(data(&crumbs[0], "url"), &Value::from(site.url("/hang")));
}

#[tokio::test]
async fn before_breadcrumb_gets_the_typed_hint() {
    let (server, site) = (devserver().await, Recorder::start().await);
    let options = ClientOptions {
        before_breadcrumb: Some(Arc::new(|mut crumb, hint| {
            let Some(http) = hint.get::<HttpBreadcrumbHint>() else {
                return Some(crumb);
            };
            if http.request.url.path() == "/health" {
                return None;
            }
            let sent_trace = http.request.headers.contains_key("sentry-trace");
            crumb
                .data
                .insert("hint.sent_trace".into(), sent_trace.into());
            crumb
                .data
                .insert("hint.query".into(), http.request.url.query().into());
            if let Some(response) = &http.response {
                crumb
                    .data
                    .insert("hint.status".into(), response.status.as_u16().into());
                let id = response.headers.get("x-request-id");
                let id = id.and_then(|v| v.to_str().ok()).unwrap_or_default();
                crumb.data.insert("hint.request_id".into(), id.into());
            }
            crumb
                .data
                .insert("hint.error".into(), http.error.is_some().into());
            Some(crumb)
        })),
        ..Default::default()
    };
    let client = client(&server, options);
    let http = http();
    let event = event_after(&server, &client, async {
        http.get(site.url("/health")).send().await.expect("200");
        http.get(site.url("/status/418?q=1"))
            .send()
            .await
            .expect("418");
    })
    .await;
    let crumbs = http_crumbs(&event);
    assert_eq!(crumbs.len(), 1, "the hook dropped /health");
    let crumb = &crumbs[0];
    assert_eq!(crumb.level, Level::Warning);
    assert_eq!(data(crumb, "hint.status"), 418);
    assert_eq!(data(crumb, "hint.request_id"), "req-42");
    assert_eq!(data(crumb, "hint.sent_trace"), true);
    assert_eq!(
        data(crumb, "hint.query"),
        "q=1",
        "the hint has the full URL"
    );
    assert_eq!(data(crumb, "hint.error"), false);
}

#[tokio::test]
async fn breadcrumbs_can_be_turned_off_and_headers_still_go_out() {
    let (server, site) = (devserver().await, Recorder::start().await);
    let client = client(&server, ClientOptions::default());
    let http = http_with(CrumbtrailMiddleware::new().breadcrumbs(false));
    let event = event_after(&server, &client, async {
        http.get(site.url("/status/200")).send().await.expect("200");
    })
    .await;
    assert!(http_crumbs(&event).is_empty());
    assert!(site.request("/status/200").header("sentry-trace").is_some());
}

// ---------------------------------------------------------------------------------------------
// Trace propagation
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn trace_headers_carry_the_scope_s_trace() {
    let (server, site) = (devserver().await, Recorder::start().await);
    let client = client(&server, ClientOptions::default());
    let http = http();
    let event = event_after(&server, &client, async {
        http.get(site.url("/status/200")).send().await.expect("200");
    })
    .await;
    let trace = trace_of(&event);
    let seen = site.request("/status/200");
    // A new trace: deferred decision, so no `-1`/`-0`.
    assert_eq!(
        seen.header("sentry-trace"),
        Some(format!("{}-{}", trace.trace_id, trace.span_id).as_str())
    );
    let key = server.dsn().public_key().to_owned();
    // The event's envelope carries the same context in its `trace` header.
    let envelopes = server.envelopes();
    let dsc = envelopes
        .iter()
        .find_map(|e| e.envelope.headers.trace.clone())
        .expect("a trace envelope header");
    // The trace's random number: six decimals, the same downstream and in the envelope.
    let rand = dsc.sample_rand.clone().expect("sample_rand");
    assert!(rand.len() == 8 && rand.starts_with("0."), "{rand}");
    assert_eq!(
        seen.header("baggage"),
        Some(
            format!(
                "sentry-trace_id={},sentry-public_key={key},sentry-sample_rand={rand},sentry-release=shop%401.4.2,sentry-environment=test",
                trace.trace_id
            )
            .as_str()
        )
    );
    assert_eq!(seen.header("traceparent"), None, "off by default");
    assert_eq!(
        seen.header("baggage"),
        Some(dsc.to_baggage().as_str()),
        "baggage = the envelope's DSC"
    );
}

#[tokio::test]
async fn traceparent_only_when_enabled() {
    let (server, site) = (devserver().await, Recorder::start().await);
    let client = client(&server, ClientOptions::default());
    let plain = http();
    let w3c = http_with(CrumbtrailMiddleware::new().propagate_traceparent(true));
    let event = event_after(&server, &client, async {
        plain.get(site.url("/plain")).send().await.expect("200");
        w3c.get(site.url("/w3c")).send().await.expect("200");
    })
    .await;
    let trace = trace_of(&event);
    assert_eq!(site.request("/plain").header("traceparent"), None);
    let w3c = site.request("/w3c");
    assert_eq!(
        w3c.header("traceparent"),
        Some(format!("00-{}-{}-00", trace.trace_id, trace.span_id).as_str())
    );
    assert!(w3c.header("sentry-trace").is_some());
}

#[tokio::test]
async fn only_matching_urls_get_trace_headers() {
    let (server, site) = (devserver().await, Recorder::start().await);
    let client = client(&server, ClientOptions::default());
    let api_only =
        http_with(CrumbtrailMiddleware::new().trace_propagation_targets([site.url("/api/*")]));
    let by_substring = http_with(CrumbtrailMiddleware::new().trace_propagation_targets(["/sub/"]));
    let custom =
        http_with(CrumbtrailMiddleware::new().trace_propagation_targets([
            PropagationTarget::custom(|url| url.ends_with("/custom")),
        ]));
    let nowhere =
        http_with(CrumbtrailMiddleware::new().trace_propagation_targets(Vec::<String>::new()));
    let event = event_after(&server, &client, async {
        api_only
            .get(site.url("/api/cart"))
            .send()
            .await
            .expect("200");
        api_only
            .get(site.url("/web/cart"))
            .send()
            .await
            .expect("200");
        by_substring
            .get(site.url("/x/sub/y"))
            .send()
            .await
            .expect("200");
        by_substring
            .get(site.url("/x/y"))
            .send()
            .await
            .expect("200");
        custom.get(site.url("/custom")).send().await.expect("200");
        nowhere
            .get(site.url("/api/nowhere"))
            .send()
            .await
            .expect("200");
    })
    .await;
    for (path, propagated) in [
        ("/api/cart", true),
        ("/web/cart", false),
        ("/x/sub/y", true),
        ("/x/y", false),
        ("/custom", true),
        ("/api/nowhere", false),
    ] {
        let seen = site.request(path);
        for header in ["sentry-trace", "baggage"] {
            assert_eq!(seen.header(header).is_some(), propagated, "{path} {header}");
        }
    }
    // Every request still has its crumb.
    assert_eq!(http_crumbs(&event).len(), 6);
}

#[tokio::test]
async fn third_party_baggage_is_kept_and_stale_sentry_entries_replaced() {
    let (server, site) = (devserver().await, Recorder::start().await);
    let client = client(&server, ClientOptions::default());
    let http = http();
    let event = event_after(&server, &client, async {
        http.get(site.url("/status/200"))
            .header("baggage", "vendor=abc;p=1, sentry-release=stale")
            .header("baggage", "other=x%20y")
            .send()
            .await
            .expect("200");
    })
    .await;
    let trace = trace_of(&event);
    let baggage = site.request("/status/200").headers;
    let values: Vec<_> = baggage.get_all("baggage").iter().collect();
    assert_eq!(values.len(), 1);
    let value = values[0].to_str().expect("ascii");
    assert!(
        value.starts_with("vendor=abc;p=1,other=x%20y,sentry-"),
        "{value}"
    );
    assert!(
        value.contains(&format!("sentry-trace_id={}", trace.trace_id)),
        "{value}"
    );
    assert!(value.contains("sentry-release=shop%401.4.2"), "{value}");
    assert!(!value.contains("stale"), "{value}");
}

#[tokio::test]
async fn a_baggage_value_that_is_not_text_loses_nothing() {
    let (server, site) = (devserver().await, Recorder::start().await);
    let client = client(&server, ClientOptions::default());
    let http = http();
    let theirs =
        reqwest::header::HeaderValue::from_bytes(b"vendor=caf\xe9,other=1").expect("obs-text");
    event_after(&server, &client, async {
        http.get(site.url("/status/200"))
            .header("baggage", theirs.clone())
            .header("baggage", "more=2")
            .send()
            .await
            .expect("200");
    })
    .await;
    let seen = site.request("/status/200").headers;
    let values: Vec<_> = seen.get_all("baggage").iter().collect();
    assert_eq!(values.len(), 2, "{values:?}");
    assert_eq!(values[0], theirs, "kept as it was");
    let merged = values[1].to_str().expect("ascii");
    assert!(merged.starts_with("more=2,sentry-trace_id="), "{merged}");
}

#[tokio::test]
async fn a_continued_trace_passes_its_frozen_context_on() {
    let (server, site) = (devserver().await, Recorder::start().await);
    let client = client(&server, ClientOptions::default());
    let http = http_with(CrumbtrailMiddleware::new().propagate_traceparent(true));
    let mut dsc = DynamicSamplingContext::new();
    dsc.set("trace_id", "4c79f60c11214eb38604f4ae0781bfb2");
    dsc.set("public_key", "upstream-key");
    dsc.set("release", "upstream@9");
    dsc.set("sample_rate", "0.25");
    dsc.set("sampled", "true");
    let incoming = PropagationContext {
        trace_id: "4c79f60c11214eb38604f4ae0781bfb2"
            .parse()
            .expect("trace id"),
        span_id: "a1b2c3d4e5f60718".parse().expect("span id"),
        parent_span_id: Some("1122334455667788".parse().expect("span id")),
        sampled: Some(true),
        dsc: Some(std::sync::Arc::new(dsc.clone())),
    };
    let ctx = incoming.clone();
    let event = event_after(&server, &client, async move {
        configure_scope(|scope| scope.set_propagation_context(ctx));
        http.get(site.url("/status/200")).send().await.expect("200");
        let seen = site.request("/status/200");
        assert_eq!(
            seen.header("sentry-trace"),
            Some("4c79f60c11214eb38604f4ae0781bfb2-a1b2c3d4e5f60718-1")
        );
        assert_eq!(
            seen.header("traceparent"),
            Some("00-4c79f60c11214eb38604f4ae0781bfb2-a1b2c3d4e5f60718-01")
        );
        // Passed on unchanged, whatever the local release.
        assert_eq!(seen.header("baggage"), Some(dsc.to_baggage().as_str()));
    })
    .await;
    assert_eq!(trace_of(&event).trace_id, incoming.trace_id);
}

#[tokio::test]
async fn the_sentry_server_gets_no_trace_headers() {
    let (sentry, other) = (Recorder::start().await, Recorder::start().await);
    // A client whose DSN points at `sentry` (same host as `other`, another port). Nothing is
    // captured, so nothing is sent to it but our own request.
    let transport = TestTransport::new();
    let client = crumbtrail_core::test::client_with(
        &transport,
        ClientOptions {
            dsn: Some(format!("http://key@{}/1", sentry.addr)),
            ..Default::default()
        },
    );
    let http = http();
    async {
        http.get(sentry.url("/api/1/store/"))
            .send()
            .await
            .expect("200");
        http.get(other.url("/api/1/store/"))
            .send()
            .await
            .expect("200");
    }
    .bind_client(&client)
    .await;
    let to_sentry = sentry.request("/api/1/store/");
    assert_eq!(to_sentry.header("sentry-trace"), None);
    assert_eq!(to_sentry.header("baggage"), None);
    assert!(
        other
            .request("/api/1/store/")
            .header("sentry-trace")
            .is_some()
    );
}

#[tokio::test]
async fn without_a_client_requests_pass_through_untouched() {
    let site = Recorder::start().await;
    let response = http()
        .get(site.url("/status/201"))
        .header("baggage", "vendor=1")
        .send()
        .await
        .expect("201");
    assert_eq!(response.status(), 201);
    let seen = site.request("/status/201");
    assert_eq!(seen.header("sentry-trace"), None);
    assert_eq!(seen.header("baggage"), Some("vendor=1"));
}

// ---------------------------------------------------------------------------------------------
// Isolation
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_units_of_work_get_only_their_own_crumbs_and_trace() {
    let (server, site) = (devserver().await, Recorder::start().await);
    let client = client(&server, ClientOptions::default());
    let http = http();
    let site_ref = &site;
    let ids = async {
        let unit = |name: &'static str| {
            let http = http.clone();
            let base = site_ref.url("");
            crumbtrail_core::with_isolation_scope(
                move |scope| scope.set_tag("unit", name),
                async move {
                    for step in 0..3 {
                        let url = format!("{base}/status/200/{name}/{step}");
                        http.get(url).send().await.expect("200");
                        tokio::task::yield_now().await;
                    }
                    capture_message(&format!("unit {name}"), Level::Error).expect("event id")
                },
            )
        };
        let (a, b) = (
            crumbtrail_core::spawn(unit("a")),
            crumbtrail_core::spawn(unit("b")),
        );
        [a.await.expect("unit a"), b.await.expect("unit b")]
    }
    .bind_client(&client)
    .await;
    assert!(client.flush(WAIT).await);
    server.wait_for_events(2, WAIT).await.expect("two events");

    let mut traces = Vec::new();
    for (id, name) in ids.iter().zip(["a", "b"]) {
        let event = server.event(id).expect("stored").event.clone();
        assert_eq!(event.tags["unit"], name);
        let urls: Vec<_> = http_crumbs(&event)
            .iter()
            .map(|c| data(c, "url").as_str().unwrap_or_default().to_owned())
            .collect();
        let want: Vec<_> = (0..3)
            .map(|s| site.url(&format!("/status/200/{name}/{s}")))
            .collect();
        assert_eq!(urls, want, "unit {name}");
        // Its requests carried its own trace.
        let trace = trace_of(&event);
        for step in 0..3 {
            let seen = site.request(&format!("/status/200/{name}/{step}"));
            let header = seen.header("sentry-trace").unwrap_or_default();
            assert!(
                header.starts_with(&trace.trace_id.to_string()),
                "{header} vs {}",
                trace.trace_id
            );
        }
        traces.push(trace.trace_id);
    }
    assert_ne!(traces[0], traces[1]);
    assert!(client.close(WAIT).await);
}

// ---------------------------------------------------------------------------------------------
// Spans
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn with_a_current_transaction_each_request_is_a_span_the_callee_continues() {
    use crumbtrail_core::protocol::SpanStatus;
    let (server, site) = (devserver().await, Recorder::start().await);
    let client = client(
        &server,
        ClientOptions {
            traces_sample_rate: Some(1.0),
            ..Default::default()
        },
    );
    let http = http();
    let closed = format!("http://127.0.0.1:{}/nothing", closed_port().await);
    let tx_id = async {
        // Outside a current transaction: no span, the scope's span id goes out.
        http.get(site.url("/status/200")).send().await.expect("200");
        let tx = crumbtrail_core::start_transaction("checkout", "task");
        tx.set_current();
        http.get(site.url("/status/503?token=secret"))
            .send()
            .await
            .expect("503");
        assert!(http.get(&closed).send().await.is_err());
        tx.finish().expect("queued")
    }
    .bind_client(&client)
    .await;
    assert!(client.flush(WAIT).await);

    let (_, tx) = server
        .transactions()
        .into_iter()
        .find(|(_, t)| t.event_id == tx_id)
        .expect("the transaction arrived");
    let root = tx.trace_context().expect("root span").clone();
    let spans: Vec<_> = tx
        .spans
        .iter()
        .filter(|s| s.op.as_deref() == Some("http.client"))
        .collect();
    assert_eq!(spans.len(), 2, "{:?}", tx.spans);
    let unavailable = spans
        .iter()
        .find(|s| s.description.as_deref() == Some(&*format!("GET {}", site.url("/status/503"))))
        .expect("the 503's span, its query left out");
    assert_eq!(unavailable.parent_span_id, Some(root.span_id));
    assert_eq!(unavailable.trace_id, root.trace_id);
    assert_eq!(unavailable.status, Some(SpanStatus::Unavailable));
    assert_eq!(unavailable.data["http.response.status_code"], 503);
    assert_eq!(unavailable.origin.as_deref(), Some("auto.http.reqwest"));
    assert!(unavailable.is_finished());
    // The callee continues under the request's span, with the decision.
    let seen = site.request("/status/503?token=secret");
    assert_eq!(
        seen.header("sentry-trace"),
        Some(format!("{}-{}-1", root.trace_id, unavailable.span_id).as_str())
    );
    let failed = spans
        .iter()
        .find(|s| s.description.as_deref() == Some(&*format!("GET {closed}")))
        .expect("the failed request's span");
    assert_eq!(failed.status, Some(SpanStatus::InternalError));

    let before = site.request("/status/200");
    let sentry_trace = before.header("sentry-trace").expect("trace headers");
    assert!(
        spans
            .iter()
            .all(|s| !sentry_trace.contains(&s.span_id.to_string())),
        "no span before the transaction"
    );
}
