//! The default transport: envelopes POSTed over HTTP(S) with reqwest (rustls, HTTP/1.1), gzip
//! compressed (PROTOCOL.md §2).
//!
//! The transport only carries bytes and reports the server's answer: the background sender
//! applies rate limits and counts losses (PROTOCOL.md §6, §11). It runs on the sender's
//! thread, so serialization, compression and the request itself never touch the caller.

mod compress;
mod options;
#[cfg(test)]
mod tests;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crumbtrail_protocol::{Dsn, Envelope};
use reqwest::header::{self, HeaderName, HeaderValue};

use crate::client::InitError;
use crate::options::ClientOptions;
use crate::transport::{BoxFuture, SendOutcome, Transport, TransportFactory};

pub use options::{DEFAULT_CONNECT_TIMEOUT, DEFAULT_REQUEST_TIMEOUT};

/// The envelope media type.
const ENVELOPE_CONTENT_TYPE: &str = "application/x-sentry-envelope";

/// The most response-body bytes read (and thrown away) per request. Reading the body to its
/// end lets the connection be reused; a longer body is cut off, and the connection with it.
const MAX_DRAIN_BYTES: usize = 64 * 1024;

static X_SENTRY_AUTH: HeaderName = HeaderName::from_static("x-sentry-auth");
static X_SENTRY_RATE_LIMITS: HeaderName = HeaderName::from_static("x-sentry-rate-limits");

/// The default transport: POSTs each envelope to the DSN's envelope endpoint.
///
/// Every request carries `Content-Type: application/x-sentry-envelope`,
/// `User-Agent: crumbtrail/<version>` and `X-Sentry-Auth` (PROTOCOL.md §2.2). Bodies of
/// 256 bytes or more are gzipped (`Content-Encoding: gzip`); shorter ones, and any that
/// gzip would not shrink, go as they are. One `reqwest::Client` per transport keeps
/// connections alive between envelopes.
///
/// Its settings come from [`ClientOptions`]: `connect_timeout` (default 5 s),
/// `request_timeout` (default 30 s, for the whole request), `http_proxy` / `https_proxy`
/// (otherwise reqwest reads `HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY` and `NO_PROXY` from the
/// environment), or `reqwest_client` to send with a client of your own. TLS is rustls with the
/// `ring` provider and the Mozilla root certificates built in (`webpki-roots`), so it works
/// the same in a bare container without a CA bundle; a server signed by a private CA needs a
/// `reqwest_client` that trusts it.
///
/// A client with a DSN and no `transport` of its own uses this one. Build it yourself to wrap
/// it (in a retry, a spool, a mirror):
///
/// ```
/// use std::sync::Arc;
/// use std::time::Duration;
/// use crumbtrail_core::protocol::Dsn;
/// use crumbtrail_core::{Client, ClientOptions, HttpTransport, Transport, TransportFactory};
///
/// let dsn: Dsn = "https://key@o1.ingest.sentry.io/7".parse()?;
/// let options = ClientOptions {
///     dsn: Some(dsn.to_string()),
///     request_timeout: Duration::from_secs(10),
///     https_proxy: Some("http://proxy.internal:3128".into()),
///     ..Default::default()
/// };
/// let http = HttpTransport::new(&dsn, &options)?;
/// let factory: TransportFactory = Arc::new(move || Arc::new(http.clone()) as Arc<dyn Transport>);
/// let client = Client::new(ClientOptions { transport: Some(factory), ..options })?;
/// # drop(client);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct HttpTransport {
    inner: Arc<Inner>,
}

struct Inner {
    client: reqwest::Client,
    url: reqwest::Url,
    auth: HeaderValue,
    user_agent: HeaderValue,
    request_timeout: Duration,
}

impl HttpTransport {
    /// A transport to `dsn`'s envelope endpoint, with the HTTP settings of `options`
    /// (`connect_timeout`, `request_timeout`, `http_proxy`, `https_proxy`, `reqwest_client`).
    ///
    /// Fails with [`InitError::Transport`] when a proxy URL is invalid or the HTTP client
    /// cannot be built. Building needs no runtime; sending needs a tokio runtime with IO and
    /// time enabled (the client's sender has one).
    pub fn new(dsn: &Dsn, options: &ClientOptions) -> Result<HttpTransport, InitError> {
        let fail = |what: String| InitError::Transport(what);
        let sentry_client = Dsn::default_sentry_client();
        let url = reqwest::Url::parse(&dsn.envelope_url())
            .map_err(|e| fail(format!("the envelope URL is invalid: {e}")))?;
        let auth = HeaderValue::from_str(&dsn.auth_header_value(&sentry_client))
            .map_err(|_| fail("the DSN's keys cannot be sent in an HTTP header".into()))?;
        let user_agent =
            HeaderValue::from_str(&sentry_client).map_err(|_| fail("invalid User-Agent".into()))?;
        let client = options::build_client(dsn, options, &sentry_client).map_err(fail)?;
        Ok(HttpTransport {
            inner: Arc::new(Inner {
                client,
                url,
                auth,
                user_agent,
                request_timeout: options.request_timeout,
            }),
        })
    }

    /// The URL envelopes are POSTed to.
    pub fn url(&self) -> &str {
        self.inner.url.as_str()
    }

    async fn send_envelope(&self, envelope: Envelope) -> SendOutcome {
        let inner = &*self.inner;
        let body = compress::encode(envelope.to_bytes());
        drop(envelope);
        let mut request = inner
            .client
            .post(inner.url.clone())
            // Per request too, so a `reqwest_client` of the user's is bounded as well.
            .timeout(inner.request_timeout)
            .header(header::CONTENT_TYPE, ENVELOPE_CONTENT_TYPE)
            .header(header::USER_AGENT, inner.user_agent.clone())
            .header(X_SENTRY_AUTH.clone(), inner.auth.clone());
        if body.gzip {
            request = request.header(header::CONTENT_ENCODING, "gzip");
        }
        let mut response = match request.body(body.bytes).send().await {
            Ok(response) => response,
            Err(e) => return SendOutcome::NetworkError(describe(&e)),
        };
        let header = |name: &HeaderName| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let outcome = SendOutcome::Response {
            status: response.status().as_u16(),
            rate_limits: header(&X_SENTRY_RATE_LIMITS),
            retry_after: header(&header::RETRY_AFTER),
        };
        // The body is never looked at (PROTOCOL.md §11), only drained so the connection can
        // be reused; a failure here does not change the answer.
        let mut drained = 0;
        while drained < MAX_DRAIN_BYTES {
            match response.chunk().await {
                Ok(Some(chunk)) => drained += chunk.len(),
                Ok(None) | Err(_) => break,
            }
        }
        outcome
    }
}

impl Transport for HttpTransport {
    fn send(&self, envelope: Envelope) -> BoxFuture<'_, SendOutcome> {
        Box::pin(self.send_envelope(envelope))
    }
}

impl fmt::Debug for HttpTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // No auth header: it holds the DSN's keys.
        f.debug_struct("HttpTransport")
            .field("url", &self.inner.url.as_str())
            .field("request_timeout", &self.inner.request_timeout)
            .finish_non_exhaustive()
    }
}

/// The factory of the transport a client with a DSN and no transport of its own uses.
pub(crate) fn factory(dsn: &Dsn, options: &ClientOptions) -> Result<TransportFactory, InitError> {
    let transport = HttpTransport::new(dsn, options)?;
    Ok(Arc::new(move || {
        Arc::new(transport.clone()) as Arc<dyn Transport>
    }))
}

/// A reqwest error with its causes (`error sending request: connection refused`), for the
/// `debug` log. The URL it names has no credentials (those travel in `X-Sentry-Auth`).
fn describe(error: &reqwest::Error) -> String {
    let mut message = if error.is_timeout() {
        format!("timed out: {error}")
    } else {
        error.to_string()
    };
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        let text = cause.to_string();
        if !message.ends_with(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = cause.source();
    }
    message
}
