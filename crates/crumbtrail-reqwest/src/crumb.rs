//! The `http` breadcrumb of an outgoing request (PROTOCOL.md §5) and the hint that comes with
//! it.

use std::error::Error as StdError;
use std::time::{Duration, Instant};

use crumbtrail_core::{
    Breadcrumb, BreadcrumbHint, Level, add_breadcrumb_with_hint, add_breadcrumb_with_processor,
};
use reqwest::header::{CONTENT_LENGTH, HeaderMap};
use reqwest::{Method, Request, Response, StatusCode, Url};

/// The hint `before_breadcrumb` receives with every `http` crumb [`CrumbtrailMiddleware`]
/// records: the request as it was sent and, when one arrived, the response head.
///
/// Downcast it with [`BreadcrumbHint::get`]. It holds the request URL and headers *unredacted*
/// (credentials, query string, `Authorization`, ...): it never leaves the process, but copy
/// from it with care. It is built (headers cloned) only when a `before_breadcrumb` hook is set.
///
/// ```
/// use std::sync::Arc;
/// use crumbtrail_core::ClientOptions;
/// use crumbtrail_reqwest::HttpBreadcrumbHint;
///
/// let options = ClientOptions {
///     before_breadcrumb: Some(Arc::new(|mut crumb, hint| {
///         if let Some(http) = hint.get::<HttpBreadcrumbHint>() {
///             // Drop health checks; tag the rest with the server's request id.
///             if http.request.url.path() == "/health" {
///                 return None;
///             }
///             let id = http.response.as_ref().and_then(|r| r.headers.get("x-request-id"));
///             if let Some(id) = id.and_then(|v| v.to_str().ok()) {
///                 crumb.data.insert("request_id".into(), id.into());
///             }
///         }
///         Some(crumb)
///     })),
///     ..Default::default()
/// };
/// # drop(options);
/// ```
///
/// [`CrumbtrailMiddleware`]: crate::CrumbtrailMiddleware
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct HttpBreadcrumbHint {
    /// The request as it went to the next middleware (trace headers included).
    pub request: HttpRequestInfo,
    /// The response head, when a response arrived (whatever its status).
    pub response: Option<HttpResponseInfo>,
    /// Why there is no response: the error text, or a note that the request was cancelled
    /// (its future dropped before it completed).
    pub error: Option<String>,
    /// How long the request took, until the response head arrived (or it failed).
    pub duration: Duration,
}

/// The request half of an [`HttpBreadcrumbHint`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct HttpRequestInfo {
    /// The method.
    pub method: Method,
    /// The full URL, credentials, query and fragment included.
    pub url: Url,
    /// The headers as sent by this middleware.
    pub headers: HeaderMap,
}

/// The response half of an [`HttpBreadcrumbHint`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct HttpResponseInfo {
    /// The status code.
    pub status: StatusCode,
    /// The response headers.
    pub headers: HeaderMap,
}

/// The text of a crumb for a request whose future was dropped before it completed.
pub(crate) const CANCELLED: &str = "request cancelled before it completed";

/// A request on its way: records its crumb when it ends, or when it is dropped unfinished.
pub(crate) struct InFlight {
    /// What the crumb's data will say about the request.
    data: CrumbData,
    /// The URL as sent, kept only when something needs it after the request has gone: the
    /// hint, or the redaction of error texts (a URL with credentials, a query or a fragment).
    url: Option<Url>,
    /// The request headers for the hint; `None` when no hook would look at it.
    hint_headers: Option<HeaderMap>,
    started: Instant,
    done: bool,
}

/// The `data` of a crumb: method, URL (with PII consent, query and fragment), request body
/// size, duration and, once there is a response, its status and body size.
#[derive(Clone, Default)]
struct CrumbData {
    method: Method,
    parts: UrlParts,
    send_default_pii: bool,
    request_body_size: Option<u64>,
    duration: Duration,
    status: Option<StatusCode>,
    response_body_size: Option<u64>,
}

impl CrumbData {
    fn write(&self, crumb: &mut Breadcrumb) {
        let data = &mut crumb.data;
        data.insert("url".into(), self.parts.url.as_str().into());
        data.insert("method".into(), self.method.as_str().into());
        if self.send_default_pii {
            if let Some(query) = &self.parts.query {
                data.insert("http.query".into(), query.as_str().into());
            }
            if let Some(fragment) = &self.parts.fragment {
                data.insert("http.fragment".into(), fragment.as_str().into());
            }
        }
        if let Some(size) = self.request_body_size {
            data.insert("request_body_size".into(), size.into());
        }
        data.insert("duration_ms".into(), duration_ms(self.duration).into());
        if let Some(status) = self.status {
            data.insert("status_code".into(), status.as_u16().into());
            if let Some(reason) = status.canonical_reason() {
                data.insert("reason".into(), reason.into());
            }
        }
        if let Some(size) = self.response_body_size {
            data.insert("response_body_size".into(), size.into());
        }
    }
}

impl InFlight {
    pub(crate) fn start(request: &Request, send_default_pii: bool, with_hint: bool) -> Self {
        let request_body_size = request
            .headers()
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok()?.trim().parse().ok())
            .or_else(|| {
                let bytes = request.body()?.as_bytes()?;
                u64::try_from(bytes.len()).ok()
            });
        let url = request.url();
        let parts = UrlParts::of(url);
        let keep_url = with_hint || parts.url != url.as_str();
        InFlight {
            data: CrumbData {
                method: request.method().clone(),
                parts,
                send_default_pii,
                request_body_size,
                duration: Duration::ZERO,
                status: None,
                response_body_size: None,
            },
            url: keep_url.then(|| url.clone()),
            hint_headers: with_hint.then(|| request.headers().clone()),
            started: Instant::now(),
            done: false,
        }
    }

    /// Records the crumb for the outcome of the request.
    pub(crate) fn finish(mut self, result: &reqwest_middleware::Result<Response>) {
        self.done = true;
        self.data.duration = self.started.elapsed();
        match result {
            Ok(res) => {
                let status = res.status();
                self.data.status = Some(status);
                self.data.response_body_size = res.content_length();
                let level = level_of(status);
                let response = self.hint_headers.is_some().then(|| HttpResponseInfo {
                    status,
                    headers: res.headers().clone(),
                });
                self.record(level, None, response);
            }
            Err(err) => {
                // Without a kept URL, the one sent has nothing to redact.
                let urls: Vec<&Url> = self.url.iter().chain(err.url()).collect();
                let text = error_text(err, &urls);
                self.record(Level::Error, Some(text), None);
            }
        }
    }

    /// The crumb with its data and without its outcome (the tests' view of it).
    #[cfg(test)]
    fn crumb(&self, duration: Duration) -> Breadcrumb {
        let mut crumb = Breadcrumb::new().with_type("http").with_category("http");
        CrumbData {
            duration,
            ..self.data.clone()
        }
        .write(&mut crumb);
        crumb
    }

    /// Records the crumb: `level`, and `error` as its message.
    ///
    /// Without a `before_breadcrumb` hook nothing reads the crumb before an event carries it:
    /// its data (a dozen small allocations to make and free) is written only then, and the
    /// core stamps it as it records it (converting the time only for crumbs events carry).
    fn record(&mut self, level: Level, error: Option<String>, response: Option<HttpResponseInfo>) {
        let with_hint = self.hint_headers.is_some();
        let mut crumb = Breadcrumb {
            ty: "http".into(),
            category: Some("http".into()),
            message: None,
            level,
            timestamp: with_hint.then(crumbtrail_core::protocol::timestamp::now),
            data: Default::default(),
            origin: None,
        };
        let data = std::mem::take(&mut self.data);
        match (self.hint_headers.take(), self.url.take()) {
            (Some(headers), Some(url)) => {
                crumb.message = error.clone().map(Into::into);
                data.write(&mut crumb);
                let hint = HttpBreadcrumbHint {
                    request: HttpRequestInfo {
                        method: data.method,
                        url,
                        headers,
                    },
                    response,
                    error,
                    duration: data.duration,
                };
                add_breadcrumb_with_hint(crumb, &BreadcrumbHint::new(&hint));
            }
            _ => {
                crumb.message = error.map(Into::into);
                add_breadcrumb_with_processor(crumb, move |crumb| data.write(crumb));
            }
        }
    }
}

impl Drop for InFlight {
    /// A request dropped unfinished (a caller's timeout, a lost `select!`) still leaves a
    /// warning-level crumb.
    fn drop(&mut self) {
        if self.done {
            return;
        }
        self.done = true;
        self.data.duration = self.started.elapsed();
        self.record(Level::Warning, Some(CANCELLED.to_owned()), None);
    }
}

/// The level a response status gives the crumb: `error` for 5xx, `warning` for 4xx, `info`
/// otherwise.
fn level_of(status: StatusCode) -> Level {
    Breadcrumb::level_for_http_status(status.as_u16())
}

/// Milliseconds with microsecond precision.
fn duration_ms(duration: Duration) -> f64 {
    (duration.as_secs_f64() * 1_000_000.0).round() / 1000.0
}

/// A URL split for a breadcrumb (§5, §12.3): the URL without credentials, query and fragment,
/// and the (non-empty) query and fragment on their own.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct UrlParts {
    pub(crate) url: String,
    pub(crate) query: Option<String>,
    pub(crate) fragment: Option<String>,
}

impl UrlParts {
    pub(crate) fn of(url: &Url) -> UrlParts {
        if url.username().is_empty()
            && url.password().is_none()
            && url.query().is_none()
            && url.fragment().is_none()
        {
            // Nothing to strip (the common case): the URL as it is, without a re-serialization.
            return UrlParts {
                url: url.as_str().to_owned(),
                query: None,
                fragment: None,
            };
        }
        let mut clean = url.clone();
        // Both fail only for URLs that cannot carry credentials in the first place.
        let _ = clean.set_username("");
        let _ = clean.set_password(None);
        clean.set_query(None);
        clean.set_fragment(None);
        let non_empty = |s: Option<&str>| s.filter(|s| !s.is_empty()).map(str::to_owned);
        UrlParts {
            url: clean.into(),
            query: non_empty(url.query()),
            fragment: non_empty(url.fragment()),
        }
    }
}

/// The error and its sources, joined by `: ` (a source whose text is already in the chain is
/// skipped), with every URL in `urls` replaced by its sanitised form.
pub(crate) fn error_text(err: &(dyn StdError + 'static), urls: &[&Url]) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let part = cause.to_string();
        if !part.is_empty() && !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = cause.source();
    }
    for url in urls {
        let raw = url.as_str();
        if text.contains(raw) {
            text = text.replace(raw, &UrlParts::of(url).url);
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use std::fmt;

    use super::*;

    fn parts(url: &str) -> UrlParts {
        UrlParts::of(&Url::parse(url).unwrap())
    }

    #[test]
    fn urls_lose_credentials_query_and_fragment() {
        assert_eq!(
            parts("https://user:pw@api.example.com:8443/v1/cart?token=abc&x=1#top"),
            UrlParts {
                url: "https://api.example.com:8443/v1/cart".into(),
                query: Some("token=abc&x=1".into()),
                fragment: Some("top".into()),
            }
        );
        assert_eq!(
            parts("http://user@a.test/"),
            UrlParts {
                url: "http://a.test/".into(),
                query: None,
                fragment: None,
            }
        );
        // Empty query and fragment count as none.
        assert_eq!(parts("http://a.test/p?#").query, None);
        assert_eq!(parts("http://a.test/p?#").fragment, None);
        assert_eq!(parts("http://a.test/p?#").url, "http://a.test/p");
        // URLs that cannot have credentials pass through.
        assert_eq!(parts("data:text/plain,hi").url, "data:text/plain,hi");
    }

    fn crumb_for(url: &str, pii: bool) -> Breadcrumb {
        let request = Request::new(Method::POST, Url::parse(url).unwrap());
        let mut flight = InFlight::start(&request, pii, false);
        flight.done = true; // no crumb from Drop (there is no client here anyway)
        flight.crumb(Duration::from_micros(12_345))
    }

    #[test]
    fn query_and_fragment_only_with_pii_consent() {
        let url = "https://u:p@api.test/cart?id=7#frag";
        let off = crumb_for(url, false);
        assert_eq!(off.data["url"], "https://api.test/cart");
        assert!(!off.data.contains_key("http.query"));
        assert!(!off.data.contains_key("http.fragment"));
        let on = crumb_for(url, true);
        assert_eq!(on.data["url"], "https://api.test/cart");
        assert_eq!(on.data["http.query"], "id=7");
        assert_eq!(on.data["http.fragment"], "frag");
        assert_eq!((&*on.ty, on.category.as_deref()), ("http", Some("http")));
        assert_eq!(on.data["method"], "POST");
        assert_eq!(on.data["duration_ms"], 12.345);
        assert!(!on.data.contains_key("request_body_size"));
    }

    #[test]
    fn request_body_size_from_content_length_or_the_body() {
        let url = Url::parse("http://a.test/").unwrap();
        let mut request = Request::new(Method::POST, url.clone());
        *request.body_mut() = Some("hello".into());
        let mut flight = InFlight::start(&request, false, false);
        assert_eq!(flight.data.request_body_size, Some(5));
        flight.done = true;

        let mut request = Request::new(Method::POST, url);
        request
            .headers_mut()
            .insert(CONTENT_LENGTH, "42".parse().unwrap());
        let mut flight = InFlight::start(&request, false, true);
        assert_eq!(flight.data.request_body_size, Some(42));
        assert!(flight.hint_headers.is_some());
        flight.done = true;
    }

    #[test]
    fn level_and_reason_follow_the_status() {
        for (code, level, reason) in [
            (200, Level::Info, Some("OK")),
            (302, Level::Info, Some("Found")),
            (404, Level::Warning, Some("Not Found")),
            (429, Level::Warning, Some("Too Many Requests")),
            (500, Level::Error, Some("Internal Server Error")),
            (503, Level::Error, Some("Service Unavailable")),
            (599, Level::Error, None),
        ] {
            let status = StatusCode::from_u16(code).unwrap();
            assert_eq!(level_of(status), level, "{code}");
            let mut crumb = Breadcrumb::new();
            let data = CrumbData {
                status: Some(status),
                ..CrumbData::default()
            };
            data.write(&mut crumb);
            assert_eq!(crumb.data["status_code"], code);
            assert_eq!(crumb.data.get("reason").and_then(|r| r.as_str()), reason);
        }
    }

    #[derive(Debug)]
    struct Chain(&'static str, Option<Box<Chain>>);
    impl fmt::Display for Chain {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(self.0)
        }
    }
    impl StdError for Chain {
        fn source(&self) -> Option<&(dyn StdError + 'static)> {
            self.1.as_deref().map(|c| c as _)
        }
    }

    #[test]
    fn error_text_joins_the_chain_and_hides_the_query() {
        let url = Url::parse("http://u:p@a.test/x?secret=1").unwrap();
        let err = Chain(
            "error sending request for url (http://u:p@a.test/x?secret=1)",
            Some(Box::new(Chain(
                "client error (Connect)",
                Some(Box::new(Chain(
                    "Connect",
                    Some(Box::new(Chain("refused", None))),
                ))),
            ))),
        );
        assert_eq!(
            error_text(&err, &[&url]),
            "error sending request for url (http://a.test/x): client error (Connect): refused"
        );
    }

    #[test]
    fn durations_are_milliseconds_with_microseconds() {
        assert_eq!(duration_ms(Duration::from_nanos(1_234_567)), 1.235);
        assert_eq!(duration_ms(Duration::from_secs(2)), 2000.0);
    }
}
