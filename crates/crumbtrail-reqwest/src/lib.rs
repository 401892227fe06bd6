//! crumbtrail for [reqwest]: a [`reqwest_middleware`] middleware that leaves an `http`
//! breadcrumb for every outgoing request and passes the current trace on to the services you
//! call.
//!
//! ```
//! use crumbtrail_reqwest::CrumbtrailMiddleware;
//!
//! # async fn run() -> Result<(), reqwest_middleware::Error> {
//! let http = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
//!     .with(CrumbtrailMiddleware::new())
//!     .build();
//! // A crumb `GET https://api.example.com/v1/cart` with its status, and `sentry-trace` +
//! // `baggage` on the request.
//! let cart = http.get("https://api.example.com/v1/cart").send().await?;
//! # drop(cart);
//! # Ok(())
//! # }
//! ```
//!
//! For every request, in the scope of the unit of work that sends it:
//!
//! - **a breadcrumb** (PROTOCOL.md §5): type and category `http`; `data.method`, `data.url`
//!   (no credentials, query or fragment), `status_code`, `reason`, `duration_ms`, and
//!   `request_body_size` / `response_body_size` when known (a `Content-Length`, or a body held
//!   in memory). The level is `error` for 5xx, `warning` for 4xx, `info` otherwise. A request
//!   that fails (connect error, timeout, ...) leaves an `error` crumb whose message is the error
//!   and its causes; one whose future is dropped unfinished (a caller's timeout, a lost
//!   `select!`) a `warning` crumb. With `send_default_pii`, the query goes to `http.query` and
//!   the fragment to `http.fragment`. `before_breadcrumb` receives an [`HttpBreadcrumbHint`]
//!   with the request and response heads.
//! - **trace headers** (§9.3, §9.5), to URLs that match the
//!   [`trace_propagation_targets`](CrumbtrailMiddleware::trace_propagation_targets) (all, by
//!   default) and never to the Sentry server of the DSN: `sentry-trace` from the scope's
//!   propagation context, `baggage` with the trace's dynamic sampling context merged into any
//!   the request has (third-party entries kept, stale `sentry-*` ones replaced) and, with
//!   [`propagate_traceparent`](CrumbtrailMiddleware::propagate_traceparent), W3C `traceparent`.
//!
//! - **a span** `http.client`, with performance monitoring on, when the unit of work has a
//!   current transaction ([`crumbtrail_core::Transaction::set_current`]; the tower layer makes
//!   each request's transaction current): described `METHOD url` (no credentials, query or
//!   fragment), origin `auto.http.reqwest`, with `http.request.method`, `url`,
//!   `http.response.status_code` and the status; `internal_error` when the request fails,
//!   `cancelled` when it is dropped unfinished. The outgoing `sentry-trace` then names this
//!   span as the downstream service's parent; without one, the scope's own span.
//!
//! With the SDK disabled (no client for the current unit of work) requests pass through
//! untouched.
#![forbid(unsafe_code)]

mod crumb;
mod propagate;
mod span;
mod targets;

use std::sync::Arc;

use http::Extensions;
use reqwest::{Request, Response, Url};
use reqwest_middleware::{Middleware, Next};

use crate::crumb::InFlight;
use crate::propagate::OutgoingTrace;
use crate::span::ClientSpan;
use crate::targets::is_sentry_request;

pub use crate::crumb::{HttpBreadcrumbHint, HttpRequestInfo, HttpResponseInfo};
pub use crate::targets::PropagationTarget;

/// The reqwest middleware: breadcrumbs for outgoing requests and trace propagation (see the
/// [crate docs](crate)).
///
/// Defaults: breadcrumbs on, propagation to every URL, no `traceparent`.
///
/// ```
/// use crumbtrail_reqwest::{CrumbtrailMiddleware, PropagationTarget};
///
/// let middleware = CrumbtrailMiddleware::new()
///     // Only our own services get trace headers.
///     .trace_propagation_targets([
///         PropagationTarget::from("https://api.example.com/*"),
///         PropagationTarget::from(".svc.internal"),
///     ])
///     .propagate_traceparent(true);
/// let http = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
///     .with(middleware)
///     .build();
/// # drop(http);
/// ```
#[derive(Debug, Clone)]
pub struct CrumbtrailMiddleware {
    breadcrumbs: bool,
    targets: Arc<[PropagationTarget]>,
    traceparent: bool,
}

/// The name Sentry users look for: the same type as [`CrumbtrailMiddleware`].
pub type SentryMiddleware = CrumbtrailMiddleware;

impl CrumbtrailMiddleware {
    /// Breadcrumbs on, trace headers to every URL but the Sentry server's, no `traceparent`.
    pub fn new() -> Self {
        CrumbtrailMiddleware {
            breadcrumbs: true,
            targets: Arc::new([PropagationTarget::all()]),
            traceparent: false,
        }
    }

    /// Whether to record an `http` breadcrumb per request (default true; the client's
    /// `enable_breadcrumbs` must be on too).
    pub fn breadcrumbs(mut self, enabled: bool) -> Self {
        self.breadcrumbs = enabled;
        self
    }

    /// The URLs that get trace headers: a request gets them when its URL matches any of
    /// `targets` (see [`PropagationTarget`] for the rules: substrings, `*` patterns, custom
    /// matchers). The default matches every URL; an empty list turns propagation off.
    ///
    /// The match is on the URL the request is sent to. reqwest follows redirects below the
    /// middleware and copies the request's headers to the next hop (it strips only
    /// credentials and cookies on a change of host), so a target that redirects elsewhere
    /// passes the trace headers on. Where they must not leave the targets, build the client
    /// with `reqwest::redirect::Policy::none()` and follow redirects yourself, through the
    /// middleware, or with a `Policy::custom` that stops at hosts outside them.
    ///
    /// ```
    /// use crumbtrail_reqwest::CrumbtrailMiddleware;
    /// let only_ours = CrumbtrailMiddleware::new().trace_propagation_targets(["api.example.com"]);
    /// let none = CrumbtrailMiddleware::new().trace_propagation_targets(Vec::<String>::new());
    /// # drop((only_ours, none));
    /// ```
    pub fn trace_propagation_targets<I>(mut self, targets: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<PropagationTarget>,
    {
        self.targets = targets.into_iter().map(Into::into).collect();
        self
    }

    /// Whether to send W3C `traceparent` next to `sentry-trace` (default false), under the same
    /// target rule.
    pub fn propagate_traceparent(mut self, enabled: bool) -> Self {
        self.traceparent = enabled;
        self
    }

    /// Whether a request to `url`, made with `client`, gets trace headers.
    fn propagates_to(&self, url: &Url, client: &crumbtrail_core::Client) -> bool {
        !self.targets.is_empty()
            && !is_sentry_request(url, client.dsn())
            && self.targets.iter().any(|t| t.matches(url.as_str()))
    }
}

impl Default for CrumbtrailMiddleware {
    /// Same as [`CrumbtrailMiddleware::new`].
    fn default() -> Self {
        CrumbtrailMiddleware::new()
    }
}

#[async_trait::async_trait]
impl Middleware for CrumbtrailMiddleware {
    async fn handle(
        &self,
        mut req: Request,
        extensions: &mut Extensions,
        next: Next<'_>,
    ) -> reqwest_middleware::Result<Response> {
        let mut span = ClientSpan::default();
        let flight = match crumbtrail_core::current_client_and_trace() {
            None => None,
            Some((client, trace)) => {
                let options = client.options();
                if options.traces_enabled() {
                    span = ClientSpan::start(&req);
                }
                if self.propagates_to(req.url(), &client) {
                    if let Some(mut trace) = trace.map(OutgoingTrace) {
                        // Downstream continues under this request's span, when there is one.
                        if let Some(id) = span.0.span_id() {
                            trace.0.span_id = id;
                        }
                        trace.apply(req.headers_mut(), self.traceparent, &client);
                    }
                }
                (self.breadcrumbs && options.enable_breadcrumbs).then(|| {
                    InFlight::start(
                        &req,
                        options.send_default_pii,
                        options.before_breadcrumb.is_some(),
                    )
                })
            }
        };
        let result = next.run(req, extensions).await;
        span.finish(&result);
        if let Some(flight) = flight {
            flight.finish(&result);
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_builders() {
        let m = CrumbtrailMiddleware::default();
        assert!(m.breadcrumbs && !m.traceparent);
        assert_eq!(m.targets.len(), 1);
        assert!(m.targets[0].matches("https://anything.test/"));

        let m = CrumbtrailMiddleware::new()
            .breadcrumbs(false)
            .propagate_traceparent(true)
            .trace_propagation_targets(["a.test", "https://b.test/*"]);
        assert!(!m.breadcrumbs && m.traceparent);
        assert_eq!(m.targets.len(), 2);
        assert!(format!("{m:?}").contains("pattern(\"https://b.test/*\")"));

        let off = CrumbtrailMiddleware::new().trace_propagation_targets(Vec::<String>::new());
        assert!(off.targets.is_empty());
    }

    #[test]
    fn propagation_follows_targets_and_avoids_the_sentry_host() {
        let client = crumbtrail_core::test::client_with(
            &crumbtrail_core::TestTransport::new(),
            crumbtrail_core::ClientOptions {
                dsn: Some("http://key@127.0.0.1:9/1".into()),
                ..Default::default()
            },
        );
        let url = |s: &str| Url::parse(s).unwrap();
        let all = CrumbtrailMiddleware::new();
        assert!(all.propagates_to(&url("http://127.0.0.1:8/x"), &client));
        assert!(!all.propagates_to(&url("http://127.0.0.1:9/api/1/envelope/"), &client));

        let some = CrumbtrailMiddleware::new().trace_propagation_targets(["/api/"]);
        assert!(some.propagates_to(&url("http://a.test/api/x"), &client));
        assert!(!some.propagates_to(&url("http://a.test/web/x"), &client));

        let none = CrumbtrailMiddleware::new().trace_propagation_targets(Vec::<String>::new());
        assert!(!none.propagates_to(&url("http://a.test/api/x"), &client));
    }
}
