//! The `http.client` span of an outgoing request, a child of the current unit of work's
//! transaction (the tower layer makes each request's transaction current).

use crumbtrail_core::Span;
use crumbtrail_core::protocol::SpanStatus;
use reqwest::{Request, Response};

use crate::crumb::UrlParts;

/// What started the spans of this middleware.
pub(crate) const ORIGIN: &str = "auto.http.reqwest";

/// A request's span; inert without a current, sampled transaction. Finished when the response
/// (or the error) is there, or as `cancelled` when the request is dropped unfinished.
#[derive(Default)]
pub(crate) struct ClientSpan(pub(crate) Span);

impl ClientSpan {
    /// Starts the span of `request`, described `METHOD url` (without credentials, query or
    /// fragment, which may hold secrets).
    pub(crate) fn start(request: &Request) -> ClientSpan {
        let tx = crumbtrail_core::current_transaction();
        if !tx.is_sampled() {
            return ClientSpan::default();
        }
        let url = UrlParts::of(request.url()).url;
        let span = tx.start_child("http.client", format!("{} {url}", request.method()));
        span.set_origin(ORIGIN);
        span.set_data("http.request.method", request.method().as_str());
        span.set_data("url", url);
        ClientSpan(span)
    }

    /// Finishes it with the outcome: the response's status, or `internal_error` for a request
    /// that failed without one.
    pub(crate) fn finish(self, result: &reqwest_middleware::Result<Response>) {
        if !self.0.is_sampled() {
            return;
        }
        match result {
            Ok(response) => {
                let status = response.status().as_u16();
                self.0.set_status(SpanStatus::from_http_status(status));
                self.0.set_data("http.response.status_code", status);
            }
            Err(_) => self.0.set_status(SpanStatus::InternalError),
        }
        self.0.finish();
    }
}

impl Drop for ClientSpan {
    /// A request dropped before its outcome (a caller's timeout, a lost `select!`). After
    /// [`ClientSpan::finish`] this does nothing: the span is finished already.
    fn drop(&mut self) {
        self.0.set_status(SpanStatus::Cancelled);
        self.0.finish();
    }
}
