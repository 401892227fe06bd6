//! What the layer takes from a request when it arrives: the URL, the transaction name, the
//! trace to continue, and a snapshot of the headers (filtered by the PII policy) from which
//! the event's request interface is built, on the background sender, only when an event is
//! actually captured.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use crumbtrail_core::protocol::{Event, Request as RequestInterface};
use crumbtrail_core::{Client, PropagationContext, Scope};
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

/// The request data events captured during the request carry (`request` interface).
#[derive(Debug)]
pub(crate) struct Snapshot {
    pub(crate) method: Method,
    /// Scheme, host and path; no query string, no credentials.
    pub(crate) url: String,
    pub(crate) query: Option<String>,
    /// The headers allowed by the PII policy.
    headers: HeaderMap,
    /// The raw `Cookie` header (PII only).
    cookies: Option<String>,
    /// The connection's peer address (PII only).
    remote_addr: Option<IpAddr>,
}

impl Snapshot {
    /// The `request` interface for an event.
    pub(crate) fn to_interface(&self) -> RequestInterface {
        let mut out = RequestInterface {
            url: Some(self.url.clone()),
            method: Some(self.method.as_str().to_owned()),
            query_string: self.query.clone(),
            cookies: self.cookies.clone(),
            ..Default::default()
        };
        for name in self.headers.keys() {
            let mut joined = String::new();
            for (i, value) in self.headers.get_all(name).iter().enumerate() {
                if i > 0 {
                    joined.push_str(", ");
                }
                joined.push_str(&String::from_utf8_lossy(value.as_bytes()));
            }
            out.headers.insert(name.as_str().to_owned(), joined);
        }
        if let Some(ip) = self.remote_addr {
            out.env
                .insert("REMOTE_ADDR".to_owned(), ip.to_string().into());
        }
        out
    }

    /// Fills what an event captured in the request's scope lacks: the request interface, and
    /// `http.server` as the operation of the trace context.
    pub(crate) fn fill(&self, event: &mut Event) {
        if event.request.is_none() {
            event.request = Some(self.to_interface());
        }
        if let Some(trace) = event.contexts.trace_mut() {
            trace.op.get_or_insert_with(|| "http.server".to_owned());
        }
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
    /// The request URI as received (before nested routers stripped a prefix).
    pub(crate) uri: Uri,
    /// `METHOD /route` or `METHOD /path`.
    pub(crate) transaction: String,
    /// The incoming trace, if there is one to continue.
    propagation: Option<PropagationContext>,
    pub(crate) snapshot: Arc<Snapshot>,
}

/// How the layer reads a request (from the layer's builder).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Policy {
    pub(crate) continue_traces: bool,
}

impl RequestCtx {
    pub(crate) fn new<B>(req: &Request<B>, client: &Client, policy: Policy) -> RequestCtx {
        let options = client.options();
        let pii = options.send_default_pii;
        let report_panics = !options.integrations.iter().any(|i| i.name() == "panic");
        let uri = original_uri(req).clone();
        let transaction = transaction_name(req, &uri);

        // `try_*`: a map can never be too large to copy, but the layer must never panic.
        let mut headers =
            HeaderMap::try_with_capacity(req.headers().keys_len()).unwrap_or_default();
        let mut cookies: Option<String> = None;
        for (name, value) in req.headers() {
            if !pii && PII_HEADERS.contains(&name.as_str()) {
                continue;
            }
            if name == http::header::COOKIE {
                let c = String::from_utf8_lossy(value.as_bytes());
                match &mut cookies {
                    Some(all) => {
                        all.push_str("; ");
                        all.push_str(&c);
                    }
                    None => cookies = Some(c.into_owned()),
                }
            }
            let _ = headers.try_append(name.clone(), value.clone());
        }
        let remote_addr = if pii { remote_addr(req) } else { None };
        let propagation = if policy.continue_traces {
            continue_trace(req.headers(), client.dsn().and_then(|d| d.org_id()))
        } else {
            None
        };
        RequestCtx {
            pii,
            report_panics,
            transaction,
            propagation,
            snapshot: Arc::new(Snapshot {
                method: req.method().clone(),
                url: url_of(&uri, req.headers()),
                query: uri.query().map(str::to_owned),
                headers,
                cookies,
                remote_addr,
            }),
            uri,
        }
    }

    /// Sets up the request's isolation scope: a trail of its own, the transaction name, the
    /// continued trace, and the processor that puts the request interface on events.
    ///
    /// The scope is a fork of the connection's (or, without a bound one, the worker thread's)
    /// scope, so it keeps the server's tags; but breadcrumbs found there were recorded outside
    /// any request (by layers outside this one, for earlier requests) and would leak into
    /// this one: the request's trail starts empty, as in Sentry's Python middlewares.
    pub(crate) fn apply(&mut self, scope: &mut Scope) {
        scope.clear_breadcrumbs();
        scope.set_transaction(Some(&self.transaction));
        if let Some(ctx) = self.propagation.take() {
            scope.set_propagation_context(ctx);
        }
        let snapshot = Arc::clone(&self.snapshot);
        scope.add_event_processor(move |mut event| {
            snapshot.fill(&mut event);
            Some(event)
        });
    }

    /// The trace this request continues, before [`RequestCtx::apply`] takes it.
    #[cfg(test)]
    pub(crate) fn propagation(&self) -> Option<&PropagationContext> {
        self.propagation.as_ref()
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

/// The transaction name: `METHOD /users/{id}` from axum's `MatchedPath` (a route), else
/// `METHOD /users/42` (a URL).
fn transaction_name<B>(req: &Request<B>, uri: &Uri) -> String {
    #[cfg(feature = "axum")]
    if let Some(path) = req.extensions().get::<axum::extract::MatchedPath>() {
        return format!("{} {}", req.method(), path.as_str());
    }
    format!("{} {}", req.method(), uri.path())
}

/// `scheme://host[:port]/path`: the URI's own scheme and authority (HTTP/2, absolute form),
/// else `X-Forwarded-Proto` (or `http`) and the `Host` header; credentials are never kept.
/// Just the path when the host is unknown.
fn url_of(uri: &Uri, headers: &HeaderMap) -> String {
    let forwarded_proto = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|p| p.eq_ignore_ascii_case("https") || p.eq_ignore_ascii_case("http"));
    let scheme = uri.scheme_str().or(forwarded_proto).unwrap_or("http");
    let host = match uri.authority() {
        Some(a) => Some(match a.port() {
            Some(port) => format!("{}:{}", a.host(), port),
            None => a.host().to_owned(),
        }),
        None => headers
            .get(http::header::HOST)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|h| !h.is_empty() && !h.contains(['/', '@', ' ']))
            .map(str::to_owned),
    };
    match host {
        Some(host) => format!("{}://{}{}", scheme.to_ascii_lowercase(), host, uri.path()),
        None => uri.path().to_owned(),
    }
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
        let ctx = RequestCtx::new(&request(), &client(false), POLICY);
        let r = ctx.snapshot.to_interface();
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
        assert_eq!(ctx.transaction, "POST /cart/7");
        assert!(!ctx.pii);
    }

    #[test]
    fn with_pii_cookies_headers_and_the_peer_ip_are_collected() {
        let ctx = RequestCtx::new(&request(), &client(true), POLICY);
        let r = ctx.snapshot.to_interface();
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
        let ctx = RequestCtx::new(&req, &client(true), POLICY);
        assert_eq!(ctx.snapshot.url, "http://shop/api/users/7");
        assert_eq!(ctx.snapshot.query.as_deref(), Some("x=1"));
        assert_eq!(ctx.transaction, "GET /api/users/7");
        assert_eq!(ctx.snapshot.to_interface().env["REMOTE_ADDR"], "127.0.0.9");
    }

    #[test]
    fn urls_come_from_the_uri_or_the_host_header_without_credentials() {
        let h = |pairs: &[(&'static str, &'static str)]| {
            let mut m = HeaderMap::new();
            for (k, v) in pairs {
                m.insert(*k, http::HeaderValue::from_static(v));
            }
            m
        };
        let abs: Uri = "https://user:pw@api.example/v1/x?y=1".parse().unwrap();
        assert_eq!(url_of(&abs, &HeaderMap::new()), "https://api.example/v1/x");
        let path: Uri = "/v1/x".parse().unwrap();
        assert_eq!(url_of(&path, &HeaderMap::new()), "/v1/x");
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
        let on = RequestCtx::new(&req, &client(false), POLICY);
        assert!(on.propagation().is_some());
        let off = RequestCtx::new(
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
        assert!(!RequestCtx::new(&request(), &client, POLICY).report_panics);
        assert!(RequestCtx::new(&request(), &self::client(false), POLICY).report_panics);
    }
}
