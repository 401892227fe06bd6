//! What the layer takes from a request when it arrives: the transaction name, the trace to
//! continue, and a copy of the request head from which the URL, the breadcrumb's data and the
//! event's request interface (filtered by the PII policy) are worked out only when they are
//! needed: when an event is captured, or a `before_breadcrumb` hook looks at the crumb.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use crumbtrail_core::protocol::{Event, Request as RequestInterface, TransactionSource};
use crumbtrail_core::{Client, ProcessEvent, PropagationContext, Scope};
use http::{HeaderMap, Method, Request, Uri};

use crate::trace::continue_trace;

/// Headers never collected without `send_default_pii`: credentials, cookies and client IPs
/// (PROTOCOL.md §12.2, §12.3), plus the other headers proxies and CDNs put client IPs in.
const PII_HEADERS: &[&str] = &[
    "cookie",
    "set-cookie",
    "authorization",
    "proxy-authorization",
    "x-api-key",
    "x-forwarded-for",
    "x-real-ip",
    "forwarded",
    "x-client-ip",
    "true-client-ip",
    "cf-connecting-ip",
    "fastly-client-ip",
    "x-cluster-client-ip",
];

/// Whether `name` is one of [`PII_HEADERS`], in any case and with `_` for `-` (hyper accepts
/// `proxy_authorization`; PROTOCOL.md §12.2 compares names normalised).
fn is_pii_header(name: &str) -> bool {
    let same = |a: u8, b: u8| a.to_ascii_lowercase() == b || (a == b'_' && b == b'-');
    PII_HEADERS.iter().any(|pii| {
        pii.len() == name.len() && name.bytes().zip(pii.bytes()).all(|(a, b)| same(a, b))
    })
}

/// A request's headers, copied into one buffer: `name:value\n` for each (names hold no `:`,
/// values no `\n`). One allocation and one free per request, and no reference kept into the
/// connection's read buffer (as cloned `HeaderValue`s would).
#[derive(Debug, Default)]
pub(crate) struct Headers(Vec<u8>);

impl Headers {
    pub(crate) fn copy(map: &HeaderMap) -> Headers {
        let len = map
            .iter()
            .map(|(name, value)| name.as_str().len() + value.len() + 2)
            .sum();
        let mut buf = Vec::with_capacity(len);
        for (name, value) in map {
            buf.extend_from_slice(name.as_str().as_bytes());
            buf.push(b':');
            buf.extend_from_slice(value.as_bytes());
            buf.push(b'\n');
        }
        Headers(buf)
    }

    /// Every header, in the order received.
    fn iter(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.0.split(|&b| b == b'\n').filter_map(|line| {
            let colon = line.iter().position(|&b| b == b':')?;
            let name = std::str::from_utf8(&line[..colon]).ok()?;
            Some((name, &line[colon + 1..]))
        })
    }

    /// The first value of `name` (lowercase), as text when it is visible ASCII (as
    /// `HeaderValue::to_str` has it).
    fn get_str(&self, name: &str) -> Option<&str> {
        let (_, value) = self.iter().find(|(n, _)| *n == name)?;
        let visible = |b: &u8| *b == b'\t' || (32..127).contains(b);
        if value.iter().all(visible) {
            std::str::from_utf8(value).ok()
        } else {
            None
        }
    }
}

/// What the layer keeps of a request: what its breadcrumb and its 5xx event say, and the
/// request data events captured during the request carry (`request` interface). Shared by the
/// response future and the scope's event processor: one allocation per request.
#[derive(Debug)]
pub(crate) struct Snapshot {
    /// The client's `send_default_pii`, which decides what [`Snapshot::to_interface`] keeps.
    pub(crate) pii: bool,
    pub(crate) method: Method,
    /// The request URI as received (before nested routers stripped a prefix).
    pub(crate) uri: Uri,
    /// axum's route, which names the transaction.
    #[cfg(feature = "axum")]
    route: Option<axum::extract::MatchedPath>,
    headers: Headers,
    /// The connection's peer address (PII only).
    remote_addr: Option<IpAddr>,
}

impl Snapshot {
    /// `METHOD /route` or `METHOD /path`: events are named after it (not the scope, which
    /// would cost every request the name).
    pub(crate) fn transaction(&self) -> String {
        #[cfg(feature = "axum")]
        if let Some(route) = &self.route {
            return format!("{} {}", self.method, route.as_str());
        }
        format!("{} {}", self.method, self.uri.path())
    }

    /// Where [`Snapshot::transaction`] comes from: axum's route, else the URL's path.
    pub(crate) fn transaction_source(&self) -> TransactionSource {
        #[cfg(feature = "axum")]
        if self.route.is_some() {
            return TransactionSource::Route;
        }
        TransactionSource::Url
    }

    /// Scheme, host and path; no query string, no credentials.
    pub(crate) fn url(&self) -> String {
        url_of(&self.uri, &self.headers)
    }

    /// The query string, if any.
    pub(crate) fn query(&self) -> Option<&str> {
        self.uri.query()
    }

    /// The `request` interface for an event.
    pub(crate) fn to_interface(&self) -> RequestInterface {
        let mut out = RequestInterface {
            url: Some(self.url()),
            method: Some(self.method.as_str().to_owned()),
            query_string: self.query().map(str::to_owned),
            ..Default::default()
        };
        for (name, value) in self.headers.iter() {
            if !self.pii && is_pii_header(name) {
                continue;
            }
            let value = String::from_utf8_lossy(value);
            if name == "cookie" {
                match &mut out.cookies {
                    Some(all) => {
                        all.push_str("; ");
                        all.push_str(&value);
                    }
                    None => out.cookies = Some(value.clone().into_owned()),
                }
            }
            match out.headers.get_mut(name) {
                Some(joined) => {
                    joined.push_str(", ");
                    joined.push_str(&value);
                }
                None => {
                    out.headers.insert(name.to_owned(), value.into_owned());
                }
            }
        }
        if let Some(ip) = self.remote_addr {
            out.env
                .insert("REMOTE_ADDR".to_owned(), ip.to_string().into());
        }
        out
    }

    /// Fills what an event captured in the request's scope lacks: the request interface, the
    /// transaction name (unless the scope set one), and `http.server` as the operation of the
    /// trace context.
    pub(crate) fn fill(&self, event: &mut Event) {
        if event.request.is_none() {
            event.request = Some(self.to_interface());
        }
        if event.transaction.is_none() {
            event.transaction = Some(self.transaction());
        }
        if let Some(trace) = event.contexts.trace_mut() {
            trace.op.get_or_insert_with(|| "http.server".to_owned());
        }
    }
}

impl ProcessEvent for Snapshot {
    fn process(&self, mut event: Event) -> Option<Event> {
        self.fill(&mut event);
        Some(event)
    }
}

/// Everything the layer knows about a request it reports on.
#[derive(Debug)]
pub(crate) struct RequestCtx {
    /// The client's `send_default_pii`.
    pub(crate) pii: bool,
    /// Whether this layer captures panics itself (false when the client's `panic`
    /// integration's hook already captures them, in the request's scope).
    pub(crate) report_panics: bool,
    /// Whether the client has a `before_breadcrumb` hook, the only reader of the breadcrumb's
    /// [`IncomingRequest`](crate::IncomingRequest) hint.
    pub(crate) breadcrumb_hint: bool,
    /// Whether performance monitoring is on (a `traces_sample_rate` or `traces_sampler`): each
    /// request is then a transaction, if sampled.
    pub(crate) traces: bool,
    /// Whether each request is a release-health session (`auto_session_tracking` with a
    /// release).
    pub(crate) sessions: bool,
    pub(crate) request: Arc<Snapshot>,
}

/// How the layer reads a request (from the layer's builder).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Policy {
    pub(crate) continue_traces: bool,
}

impl RequestCtx {
    /// What the layer keeps of the request for its response future, and what the request's
    /// scope is set up with (used once, so not carried in the future).
    pub(crate) fn new<B>(
        req: &Request<B>,
        client: &Client,
        policy: Policy,
    ) -> (RequestCtx, ScopeSetup) {
        let options = client.options();
        let pii = options.send_default_pii;
        let report_panics = !options.integrations.iter().any(|i| i.name() == "panic");
        let remote_addr = if pii { remote_addr(req) } else { None };
        let propagation = if policy.continue_traces {
            continue_trace(req.headers(), client.dsn().and_then(|d| d.org_id()))
        } else {
            None
        };
        let request = Arc::new(Snapshot {
            pii,
            method: req.method().clone(),
            uri: original_uri(req).clone(),
            #[cfg(feature = "axum")]
            route: req.extensions().get().cloned(),
            headers: Headers::copy(req.headers()),
            remote_addr,
        });
        let ctx = RequestCtx {
            pii,
            report_panics,
            breadcrumb_hint: options.before_breadcrumb.is_some(),
            traces: options.traces_enabled(),
            sessions: options.sessions_enabled(),
            request: Arc::clone(&request),
        };
        (
            ctx,
            ScopeSetup {
                request,
                propagation,
            },
        )
    }
}

/// How the request's isolation scope is set up.
#[derive(Debug)]
pub(crate) struct ScopeSetup {
    request: Arc<Snapshot>,
    /// The incoming trace, if there is one to continue.
    propagation: Option<PropagationContext>,
}

impl ScopeSetup {
    /// The trace this request continues, before the scope takes it.
    #[cfg(test)]
    pub(crate) fn propagation(&self) -> Option<&PropagationContext> {
        self.propagation.as_ref()
    }

    /// Sets up the request's isolation scope: a trail of its own, the continued trace, and the
    /// processor that puts the request interface and the transaction name on events.
    ///
    /// The scope is a fork of the connection's (or, without a bound one, the worker thread's)
    /// scope, so it keeps the server's tags; but breadcrumbs found there were recorded outside
    /// any request (by layers outside this one, for earlier requests) and would leak into
    /// this one: the request's trail starts empty, as in Sentry's Python middlewares.
    pub(crate) fn apply(self, scope: &mut Scope) {
        scope.clear_breadcrumbs();
        // Named by the processor below (an inherited name would win over it).
        scope.set_transaction(None);
        if let Some(ctx) = self.propagation {
            scope.set_propagation_context(ctx);
        }
        // The snapshot is the processor: no allocation of its own.
        scope.add_shared_event_processor(self.request);
    }
}

/// The URI the client sent: axum's `OriginalUri` (nested routers strip their prefix from the
/// request's URI), else the request's.
fn original_uri<B>(req: &Request<B>) -> &Uri {
    #[cfg(feature = "axum")]
    if let Some(axum::extract::OriginalUri(uri)) = req.extensions().get() {
        return uri;
    }
    req.uri()
}

/// `scheme://host[:port]/path`: the URI's own scheme and authority (HTTP/2, absolute form),
/// else `X-Forwarded-Proto` (or `http`) and the `Host` header; credentials are never kept.
/// Just the path when the host is unknown.
fn url_of(uri: &Uri, headers: &Headers) -> String {
    let forwarded_proto = headers
        .get_str("x-forwarded-proto")
        .map(str::trim)
        .filter(|p| p.eq_ignore_ascii_case("https") || p.eq_ignore_ascii_case("http"));
    let scheme = uri.scheme_str().or(forwarded_proto).unwrap_or("http");
    let (host, port) = match uri.authority() {
        // The port as written: what follows the last `:` of an authority that has one.
        Some(a) => (
            a.host(),
            a.port()
                .and_then(|_| a.as_str().rsplit_once(':'))
                .map(|(_, port)| port),
        ),
        None => match headers
            .get_str("host")
            .map(str::trim)
            .filter(|h| !h.is_empty() && !h.contains(['/', '@', ' ']))
        {
            Some(host) => (host, None),
            None => return uri.path().to_owned(),
        },
    };
    let path = uri.path();
    let port_len = port.map_or(0, |p| p.len() + 1);
    let mut url = String::with_capacity(scheme.len() + 3 + host.len() + port_len + path.len());
    url.push_str(scheme);
    url.make_ascii_lowercase();
    url.push_str("://");
    url.push_str(host);
    if let Some(port) = port {
        url.push(':');
        url.push_str(port);
    }
    url.push_str(path);
    url
}

/// The peer's IP: axum's `ConnectInfo<SocketAddr>`, else a `SocketAddr` request extension.
fn remote_addr<B>(req: &Request<B>) -> Option<IpAddr> {
    #[cfg(feature = "axum")]
    if let Some(axum::extract::ConnectInfo(addr)) = req
        .extensions()
        .get::<axum::extract::ConnectInfo<SocketAddr>>()
    {
        return Some(addr.ip());
    }
    req.extensions().get::<SocketAddr>().map(SocketAddr::ip)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crumbtrail_core::ClientOptions;
    use crumbtrail_core::TestTransport;

    fn client(pii: bool) -> Client {
        crumbtrail_core::test::client_with(
            &TestTransport::new(),
            ClientOptions {
                send_default_pii: pii,
                ..Default::default()
            },
        )
    }

    fn request() -> Request<()> {
        let mut req = Request::builder()
            .method("POST")
            .uri("/cart/7?coupon=x&n=2")
            .header("host", "shop.example:8080")
            .header("x-request-id", "r1")
            .header("accept", "text/html")
            .header("accept", "*/*")
            .header("cookie", "sid=abc")
            .header("cookie", "theme=dark")
            .header("authorization", "Bearer t")
            .header("x-forwarded-for", "10.0.0.9")
            .body(())
            .unwrap();
        req.extensions_mut()
            .insert(SocketAddr::from(([10, 1, 2, 3], 5555)));
        req
    }

    const POLICY: Policy = Policy {
        continue_traces: true,
    };

    #[test]
    fn without_pii_no_cookies_credentials_or_ips_are_collected() {
        let (ctx, _) = RequestCtx::new(&request(), &client(false), POLICY);
        let r = ctx.request.to_interface();
        assert_eq!(r.url.as_deref(), Some("http://shop.example:8080/cart/7"));
        assert_eq!(r.method.as_deref(), Some("POST"));
        assert_eq!(r.query_string.as_deref(), Some("coupon=x&n=2"));
        assert_eq!(r.headers["x-request-id"], "r1");
        assert_eq!(r.headers["accept"], "text/html, */*");
        for h in ["cookie", "authorization", "x-forwarded-for"] {
            assert!(!r.headers.contains_key(h), "{h} collected without PII");
        }
        assert_eq!(r.cookies, None);
        assert!(r.env.is_empty());
        assert_eq!(ctx.request.transaction(), "POST /cart/7");
        assert!(!ctx.pii);
    }

    #[test]
    fn pii_headers_match_in_any_spelling() {
        for name in [
            "authorization",
            "Proxy-Authorization",
            "proxy_authorization",
            "X_API_KEY",
        ] {
            assert!(is_pii_header(name), "{name}");
        }
        for name in ["x-request-id", "authorizations", "x-api-ke", "cookie2"] {
            assert!(!is_pii_header(name), "{name}");
        }
    }

    #[test]
    fn with_pii_cookies_headers_and_the_peer_ip_are_collected() {
        let (ctx, _) = RequestCtx::new(&request(), &client(true), POLICY);
        let r = ctx.request.to_interface();
        assert_eq!(r.cookies.as_deref(), Some("sid=abc; theme=dark"));
        assert_eq!(r.headers["authorization"], "Bearer t");
        assert_eq!(r.headers["x-forwarded-for"], "10.0.0.9");
        assert_eq!(r.env["REMOTE_ADDR"], "10.1.2.3");
    }

    #[cfg(feature = "axum")]
    #[test]
    fn axum_extensions_name_the_route_and_give_the_original_uri_and_peer() {
        let mut req = Request::builder()
            .uri("/7")
            .header("host", "shop")
            .body(())
            .unwrap();
        req.extensions_mut().insert(axum::extract::OriginalUri(
            "/api/users/7?x=1".parse().unwrap(),
        ));
        req.extensions_mut()
            .insert(axum::extract::ConnectInfo(SocketAddr::from((
                [127, 0, 0, 9],
                1,
            ))));
        // MatchedPath has no public constructor: route naming is covered end to end.
        let (ctx, _) = RequestCtx::new(&req, &client(true), POLICY);
        assert_eq!(ctx.request.url(), "http://shop/api/users/7");
        assert_eq!(ctx.request.query(), Some("x=1"));
        assert_eq!(ctx.request.transaction(), "GET /api/users/7");
        assert_eq!(ctx.request.to_interface().env["REMOTE_ADDR"], "127.0.0.9");
    }

    #[test]
    fn urls_come_from_the_uri_or_the_host_header_without_credentials() {
        let h = |pairs: &[(&'static str, &'static str)]| {
            let mut m = HeaderMap::new();
            for (k, v) in pairs {
                m.insert(*k, http::HeaderValue::from_static(v));
            }
            Headers::copy(&m)
        };
        let abs: Uri = "https://user:pw@api.example/v1/x?y=1".parse().unwrap();
        assert_eq!(
            url_of(&abs, &Headers::default()),
            "https://api.example/v1/x"
        );
        let ported: Uri = "HTTP://u@[::1]:8080/v1".parse().unwrap();
        assert_eq!(url_of(&ported, &Headers::default()), "http://[::1]:8080/v1");
        let path: Uri = "/v1/x".parse().unwrap();
        assert_eq!(url_of(&path, &Headers::default()), "/v1/x");
        assert_eq!(
            url_of(
                &path,
                &h(&[("host", "a.example"), ("x-forwarded-proto", "HTTPS")])
            ),
            "https://a.example/v1/x"
        );
        assert_eq!(
            url_of(
                &path,
                &h(&[("host", "evil/x"), ("x-forwarded-proto", "gopher")])
            ),
            "/v1/x"
        );
    }

    #[test]
    fn incoming_traces_are_continued_unless_turned_off() {
        let mut req = request();
        req.headers_mut().insert(
            "sentry-trace",
            http::HeaderValue::from_static("4c79f60c11214eb38604f4ae0781bfb2-a1b2c3d4e5f60718-1"),
        );
        let (_, on) = RequestCtx::new(&req, &client(false), POLICY);
        assert!(on.propagation().is_some());
        let (_, off) = RequestCtx::new(
            &req,
            &client(false),
            Policy {
                continue_traces: false,
            },
        );
        assert!(off.propagation().is_none());
    }

    #[test]
    fn the_panic_integration_takes_over_panic_reports() {
        struct Panic;
        impl crumbtrail_core::Integration for Panic {
            fn name(&self) -> &'static str {
                "panic"
            }
        }
        let client = crumbtrail_core::test::client_with(
            &TestTransport::new(),
            ClientOptions {
                integrations: vec![Arc::new(Panic)],
                ..Default::default()
            },
        );
        assert!(!RequestCtx::new(&request(), &client, POLICY).0.report_panics);
        assert!(
            RequestCtx::new(&request(), &self::client(false), POLICY)
                .0
                .report_panics
        );
    }
}
