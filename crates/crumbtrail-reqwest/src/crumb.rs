//! The `http` breadcrumb of an outgoing request (PROTOCOL.md §5) and the hint that comes with
//! it.

use std::error::Error as StdError;
use std::time::{Duration, Instant};

use crumbtrail_core::{Breadcrumb, BreadcrumbHint, Level, add_breadcrumb_with_hint};
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
    method: Method,
    url: Url,
    request_body_size: Option<u64>,
    /// The request headers for the hint; `None` when no hook would look at it.
    hint_headers: Option<HeaderMap>,
    send_default_pii: bool,
    started: Instant,
    done: bool,
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
        InFlight {
            method: request.method().clone(),
            url: request.url().clone(),
            request_body_size,
            hint_headers: with_hint.then(|| request.headers().clone()),
            send_default_pii,
            started: Instant::now(),
            done: false,
        }
    }

    /// Records the crumb for the outcome of the request.
    pub(crate) fn finish(mut self, result: &reqwest_middleware::Result<Response>) {
        self.done = true;
        let duration = self.started.elapsed();
        let mut crumb = self.crumb(duration);
        let mut error = None;
        let mut response = None;
        match result {
            Ok(res) => {
                let status = res.status();
                add_status(&mut crumb, status);
                if let Some(size) = res.content_length() {
                    crumb.data.insert("response_body_size".into(), size.into());
                }
                if self.hint_headers.is_some() {
                    response = Some(HttpResponseInfo {
                        status,
                        headers: res.headers().clone(),
                    });
                }
            }
            Err(err) => {
                let mut urls = vec![&self.url];
                urls.extend(err.url());
                let text = error_text(err, &urls);
                crumb.level = Level::Error;
                crumb.message = Some(text.clone().into());
                error = Some(text);
            }
        }
        self.record(crumb, duration, response, error);
    }

    /// The crumb without its outcome: type, category, method, URL (and with PII consent its
    /// query and fragment), request body size, duration.
    fn crumb(&self, duration: Duration) -> Breadcrumb {
        let parts = UrlParts::of(&self.url);
        let mut crumb = Breadcrumb::http(self.method.as_str(), parts.url, None);
        if self.send_default_pii {
            if let Some(query) = parts.query {
                crumb.data.insert("http.query".into(), query.into());
            }
            if let Some(fragment) = parts.fragment {
                crumb.data.insert("http.fragment".into(), fragment.into());
            }
        }
        if let Some(size) = self.request_body_size {
            crumb.data.insert("request_body_size".into(), size.into());
        }
        crumb
            .data
            .insert("duration_ms".into(), duration_ms(duration).into());
        crumb
    }

    fn record(
        &mut self,
        crumb: Breadcrumb,
        duration: Duration,
        response: Option<HttpResponseInfo>,
        error: Option<String>,
    ) {
        match self.hint_headers.take() {
            Some(headers) => {
                let hint = HttpBreadcrumbHint {
                    request: HttpRequestInfo {
                        method: self.method.clone(),
                        url: self.url.clone(),
                        headers,
                    },
                    response,
                    error,
                    duration,
                };
                add_breadcrumb_with_hint(crumb, &BreadcrumbHint::new(&hint));
            }
            None => add_breadcrumb_with_hint(crumb, &BreadcrumbHint::none()),
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
        let duration = self.started.elapsed();
        let mut crumb = self.crumb(duration);
        crumb.level = Level::Warning;
        crumb.message = Some(CANCELLED.into());
        self.record(crumb, duration, None, Some(CANCELLED.to_owned()));
    }
}

/// Sets `status_code`, `reason` and the level they imply.
fn add_status(crumb: &mut Breadcrumb, status: StatusCode) {
    crumb.level = Breadcrumb::level_for_http_status(status.as_u16());
    crumb
        .data
        .insert("status_code".into(), status.as_u16().into());
    if let Some(reason) = status.canonical_reason() {
        crumb.data.insert("reason".into(), reason.into());
    }
}

/// Milliseconds with microsecond precision.
fn duration_ms(duration: Duration) -> f64 {
    (duration.as_secs_f64() * 1_000_000.0).round() / 1000.0
}

/// A URL split for a breadcrumb (§5, §12.3): the URL without credentials, query and fragment,
/// and the (non-empty) query and fragment on their own.
#[derive(Debug, PartialEq)]
pub(crate) struct UrlParts {
    pub(crate) url: String,
    pub(crate) query: Option<String>,
    pub(crate) fragment: Option<String>,
}

impl UrlParts {
    pub(crate) fn of(url: &Url) -> UrlParts {
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
        assert_eq!(flight.request_body_size, Some(5));
        flight.done = true;

        let mut request = Request::new(Method::POST, url);
        request
            .headers_mut()
            .insert(CONTENT_LENGTH, "42".parse().unwrap());
        let mut flight = InFlight::start(&request, false, true);
        assert_eq!(flight.request_body_size, Some(42));
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
            let mut crumb = Breadcrumb::http("GET", "u", None);
            add_status(&mut crumb, StatusCode::from_u16(code).unwrap());
            assert_eq!(crumb.level, level, "{code}");
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
