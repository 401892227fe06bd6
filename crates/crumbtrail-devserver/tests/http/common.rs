//! Shared helpers: a server per test, a loopback HTTP client with bounded timeouts, envelope
//! builders and unique temporary directories.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use crumbtrail_devserver::{DevServer, DevServerConfig};
use crumbtrail_protocol::{Breadcrumb, Envelope, Event, Exception};
use http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;

/// Every request gives up after this long unless a test says otherwise.
pub(crate) const TIMEOUT: Duration = Duration::from_secs(20);

/// A finished HTTP exchange.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
}

impl Reply {
    pub(crate) fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }

    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub(crate) fn detail(&self) -> String {
        self.json()["detail"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }
}

/// Why a request produced no reply.
#[derive(Debug)]
pub(crate) enum Failure {
    /// The client's own timeout fired.
    Timeout,
    /// The connection failed or closed without a response.
    Http(hyper_util::client::legacy::Error),
}

/// Sends one request on a fresh connection (no pooling, so no hidden retries), giving up
/// after `timeout`.
pub(crate) async fn send_with_timeout(
    method: Method,
    url: &str,
    headers: &[(&str, &str)],
    body: impl Into<Bytes>,
    timeout: Duration,
) -> Result<Reply, Failure> {
    let client = Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(0)
        .build_http::<Full<Bytes>>();
    let mut req = Request::builder().method(method).uri(url);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let req = req.body(Full::new(body.into())).expect("valid request");
    let exchange = async {
        let resp = client.request(req).await.map_err(Failure::Http)?;
        let (parts, body) = resp.into_parts();
        let body = body.collect().await.expect("response body").to_bytes();
        Ok(Reply {
            status: parts.status,
            headers: parts.headers,
            body,
        })
    };
    tokio::time::timeout(timeout, exchange)
        .await
        .unwrap_or(Err(Failure::Timeout))
}

/// Sends one request that must get a reply.
pub(crate) async fn send(
    method: Method,
    url: &str,
    headers: &[(&str, &str)],
    body: impl Into<Bytes>,
) -> Reply {
    match send_with_timeout(method, url, headers, body, TIMEOUT).await {
        Ok(reply) => reply,
        Err(e) => panic!("{url}: no reply: {e:?}"),
    }
}

/// `GET {server}{path}`.
pub(crate) async fn get(server: &DevServer, path: &str) -> Reply {
    send(
        Method::GET,
        &format!("{}{}", server.url(), path.trim_start_matches('/')),
        &[],
        Bytes::new(),
    )
    .await
}

/// The `X-Sentry-Auth` value for the server's DSN.
pub(crate) fn auth(server: &DevServer) -> String {
    server.dsn().auth_header_value("crumbtrail-tests/1.0")
}

/// POSTs envelope bytes with the server's credentials and any extra headers.
pub(crate) async fn post_envelope_with(
    server: &DevServer,
    body: impl Into<Bytes>,
    extra: &[(&str, &str)],
) -> Reply {
    let auth = auth(server);
    let mut headers = vec![
        ("x-sentry-auth", auth.as_str()),
        ("content-type", "application/x-sentry-envelope"),
    ];
    headers.extend_from_slice(extra);
    send(Method::POST, &server.dsn().envelope_url(), &headers, body).await
}

/// POSTs envelope bytes with the server's credentials.
pub(crate) async fn post_envelope(server: &DevServer, body: impl Into<Bytes>) -> Reply {
    post_envelope_with(server, body, &[]).await
}

/// An error event with an exception, tags and two breadcrumbs.
pub(crate) fn sample_event(message: &str) -> Event {
    let mut event = Event::new();
    event.exception = Some(vec![Exception::new("std::io::Error", message)].into());
    event.release = Some("shop@1.4.2".into());
    event.environment = Some("test".into());
    event.tags.insert("region".into(), "eu".into());
    event.breadcrumbs = Some(
        vec![
            Breadcrumb::new()
                .with_category("auth")
                .with_message("user logged in"),
            Breadcrumb::http("POST", "https://api.example.com/v1/cart", Some(503)),
        ]
        .into(),
    );
    event
}

/// The envelope bytes of one event.
pub(crate) fn event_envelope(event: &Event) -> Vec<u8> {
    Envelope::from_event(event)
        .expect("serializable")
        .to_bytes()
}

/// Starts an in-memory server with the default configuration.
pub(crate) async fn start() -> DevServer {
    start_with(DevServerConfig::default()).await
}

/// Starts a server with `config`.
pub(crate) async fn start_with(config: DevServerConfig) -> DevServer {
    DevServer::start(config).await.expect("server starts")
}

/// A fresh, unique, empty directory under the system temp dir.
pub(crate) fn temp_dir(name: &str) -> PathBuf {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let dir = std::env::temp_dir().join(format!(
        "crumbtrail-devserver-{name}-{}-{nanos}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}
