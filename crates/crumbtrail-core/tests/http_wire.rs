//! What the HTTP transport puts on the wire, seen by a bare HTTP/1.1 server on loopback that
//! records every request as received: headers, gzip, connection reuse, an endless response
//! body, and proxies.

use std::io::Read;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crumbtrail_core::EventId;
use crumbtrail_core::protocol::{DataCategory, DiscardReason, Envelope, SDK_VERSION};
use crumbtrail_core::{
    Breadcrumb, Client, ClientOptions, Level, ScopeFutureExt, add_breadcrumb, capture_message,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const WAIT: Duration = Duration::from_secs(10);

/// One request as the server read it.
#[derive(Debug, Clone)]
struct Recorded {
    /// Which accepted connection carried it (0-based).
    connection: usize,
    /// The request line, e.g. `POST /api/1/envelope/ HTTP/1.1`.
    line: String,
    /// Header names lowercased.
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Recorded {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body as an envelope, gunzipped if it says so.
    fn envelope(&self) -> Envelope {
        let raw = match self.header("content-encoding") {
            Some("gzip") => {
                let mut out = Vec::new();
                flate2::read::GzDecoder::new(&self.body[..])
                    .read_to_end(&mut out)
                    .expect("valid gzip");
                out
            }
            None => self.body.clone(),
            Some(other) => panic!("unexpected Content-Encoding {other}"),
        };
        Envelope::parse(&raw).expect("a valid envelope")
    }
}

/// How the server answers the n-th request (0-based).
#[derive(Clone)]
enum Answer {
    /// `200 {}` with these extra headers.
    Ok(Vec<(&'static str, &'static str)>),
    /// `200` with these headers and a body that claims 1 GiB and never ends.
    Endless(Vec<(&'static str, &'static str)>),
}

struct WireServer {
    port: u16,
    requests: Arc<Mutex<Vec<Recorded>>>,
    connections: Arc<AtomicUsize>,
}

impl WireServer {
    async fn start(answer: fn(usize) -> Answer) -> WireServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let connections = Arc::new(AtomicUsize::new(0));
        let (r, c) = (requests.clone(), connections.clone());
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let connection = c.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(serve(stream, connection, r.clone(), answer));
            }
        });
        WireServer {
            port,
            requests,
            connections,
        }
    }

    fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().unwrap().clone()
    }

    fn dsn(&self) -> String {
        format!("http://devkey@127.0.0.1:{}/1", self.port)
    }
}

/// Serves one keep-alive connection until the client closes it.
async fn serve(
    mut stream: TcpStream,
    connection: usize,
    requests: Arc<Mutex<Vec<Recorded>>>,
    answer: fn(usize) -> Answer,
) {
    let mut buf = Vec::new();
    loop {
        let head_end = loop {
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i;
            }
            let mut chunk = [0; 4096];
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
        let mut lines = head.split("\r\n");
        let line = lines.next().unwrap_or_default().to_owned();
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
            .collect();
        let length: usize = headers
            .iter()
            .find(|(n, _)| n == "content-length")
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(0);
        buf.drain(..head_end + 4);
        while buf.len() < length {
            let mut chunk = [0; 65536];
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
        let body: Vec<u8> = buf.drain(..length).collect();
        let index = {
            let mut all = requests.lock().unwrap();
            all.push(Recorded {
                connection,
                line,
                headers,
                body,
            });
            all.len() - 1
        };
        let extra = |headers: &[(&str, &str)]| {
            headers
                .iter()
                .map(|(n, v)| format!("{n}: {v}\r\n"))
                .collect::<String>()
        };
        match answer(index) {
            Answer::Ok(headers) => {
                let reply = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n{}\r\n{{}}",
                    extra(&headers)
                );
                if stream.write_all(reply.as_bytes()).await.is_err() {
                    return;
                }
            }
            Answer::Endless(headers) => {
                let head = format!(
                    "HTTP/1.1 200 OK\r\ncontent-length: {}\r\n{}\r\n",
                    1u64 << 30,
                    extra(&headers)
                );
                if stream.write_all(head.as_bytes()).await.is_err() {
                    return;
                }
                let chunk = vec![b' '; 16 * 1024];
                // Until the client hangs up.
                while stream.write_all(&chunk).await.is_ok() {}
                return;
            }
        }
    }
}

/// Captures an error event after a five-crumb trail; `None` when it was sampled out.
async fn capture_with_trail(client: &Client, message: &str) -> Option<EventId> {
    let message = message.to_owned();
    async move {
        for i in 0..5 {
            add_breadcrumb(Breadcrumb::new().with_message(format!("step {i}")));
        }
        capture_message(&message, Level::Error)
    }
    .bind_client(client)
    .await
}

fn client_for(dsn: String, options: ClientOptions) -> Client {
    Client::new(ClientOptions {
        dsn: Some(dsn),
        ..options
    })
    .unwrap()
}

#[tokio::test]
async fn requests_carry_the_protocol_headers_and_a_gzip_body() {
    let server = WireServer::start(|_| Answer::Ok(vec![])).await;
    let client = client_for(
        server.dsn(),
        ClientOptions {
            // Sampled out: a loss, so a (small) client report follows the event.
            error_sampler: Some(Arc::new(|event, _| {
                if event.message.as_deref() == Some("sampled out") {
                    0.0
                } else {
                    1.0
                }
            })),
            ..Default::default()
        },
    );
    assert!(
        capture_with_trail(&client, "checkout failed")
            .await
            .is_some()
    );
    assert!(capture_with_trail(&client, "sampled out").await.is_none());
    assert!(client.flush(WAIT).await);

    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    let sentry_client = format!("crumbtrail/{SDK_VERSION}");
    for r in &requests {
        assert_eq!(r.line, "POST /api/1/envelope/ HTTP/1.1");
        assert_eq!(
            r.header("content-type"),
            Some("application/x-sentry-envelope")
        );
        assert_eq!(r.header("user-agent"), Some(sentry_client.as_str()));
        assert_eq!(
            r.header("x-sentry-auth"),
            Some(
                format!(
                    "Sentry sentry_key=devkey, sentry_version=7, sentry_client={sentry_client}"
                )
                .as_str()
            )
        );
        assert_eq!(
            r.header("content-length"),
            Some(r.body.len().to_string().as_str())
        );
    }

    // The event (well over 256 bytes) went gzipped...
    let event = &requests[0];
    assert_eq!(event.header("content-encoding"), Some("gzip"));
    let envelope = event.envelope();
    let raw_len = envelope.to_bytes().len();
    assert!(
        event.body.len() < raw_len,
        "{} >= {raw_len}",
        event.body.len()
    );
    let events = crumbtrail_core::test::events_of(&[envelope]);
    assert_eq!(events[0].message.as_deref(), Some("checkout failed"));
    assert_eq!(events[0].breadcrumbs.as_ref().unwrap().values.len(), 5);

    // ... the tiny client report as it is.
    let report = &requests[1];
    assert_eq!(report.header("content-encoding"), None);
    assert_eq!(report.envelope().items[0].ty().as_str(), "client_report");
}

#[tokio::test]
async fn one_connection_carries_envelope_after_envelope() {
    let server = WireServer::start(|_| Answer::Ok(vec![])).await;
    let client = client_for(server.dsn(), ClientOptions::default());
    for i in 0..3 {
        capture_with_trail(&client, &format!("event {i}")).await;
        assert!(client.flush(WAIT).await);
    }
    let requests = server.requests();
    assert_eq!(requests.len(), 3);
    assert!(requests.iter().all(|r| r.connection == 0), "{requests:?}");
    assert_eq!(server.connections.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn an_endless_response_body_is_not_waited_for_and_its_rate_limits_apply() {
    // The first answer is a 200 that limits `error` and then streams a body forever.
    let server = WireServer::start(|n| {
        if n == 0 {
            Answer::Endless(vec![("x-sentry-rate-limits", "60:error:key")])
        } else {
            Answer::Ok(vec![])
        }
    })
    .await;
    let client = client_for(
        server.dsn(),
        ClientOptions {
            request_timeout: Duration::from_secs(20),
            ..Default::default()
        },
    );
    capture_with_trail(&client, "accepted").await;
    let started = Instant::now();
    // Far sooner than the request timeout: the transport reads a capped amount and hangs up.
    assert!(client.flush(WAIT).await);
    eprintln!(
        "a 200 with an endless body was done after {:?}",
        started.elapsed()
    );

    capture_with_trail(&client, "limited").await;
    assert!(client.flush(WAIT).await);
    let requests = server.requests();
    assert_eq!(requests.len(), 2, "the event, then the client report");
    let report = requests[1].envelope();
    let crumbtrail_core::protocol::ItemPayload::ClientReport(report) =
        report.items[0].decode().unwrap()
    else {
        panic!("not a client report");
    };
    assert_eq!(
        report.total(&DiscardReason::RatelimitBackoff, &DataCategory::Error),
        1
    );
}

#[tokio::test]
async fn an_http_proxy_option_routes_requests_through_the_proxy() {
    let proxy = WireServer::start(|_| Answer::Ok(vec![])).await;
    // The DSN's own port is closed: only the proxy can answer.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let client = client_for(
        format!("http://devkey@127.0.0.1:{port}/1"),
        ClientOptions {
            http_proxy: Some(format!("http://127.0.0.1:{}", proxy.port)),
            ..Default::default()
        },
    );
    capture_with_trail(&client, "via proxy").await;
    assert!(client.flush(WAIT).await);
    let requests = proxy.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(
        requests[0].line,
        format!("POST http://127.0.0.1:{port}/api/1/envelope/ HTTP/1.1")
    );
    assert!(requests[0].header("x-sentry-auth").is_some());
    assert_eq!(
        client
            .discards()
            .get(&DiscardReason::NetworkError, &DataCategory::Error),
        0
    );
}

#[tokio::test]
async fn a_reqwest_client_of_your_own_sends_with_the_protocol_headers() {
    let server = WireServer::start(|_| Answer::Ok(vec![])).await;
    let mut defaults = reqwest::header::HeaderMap::new();
    defaults.insert("x-tenant", "acme".parse().unwrap());
    let own = reqwest::Client::builder()
        .default_headers(defaults)
        .user_agent("my-service/1.0")
        .build()
        .unwrap();
    let client = client_for(
        server.dsn(),
        ClientOptions {
            reqwest_client: Some(own),
            ..Default::default()
        },
    );
    capture_with_trail(&client, "own client").await;
    assert!(client.flush(WAIT).await);
    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].header("x-tenant"), Some("acme"));
    // The protocol's headers win over the client's defaults.
    assert_eq!(
        requests[0].header("user-agent"),
        Some(format!("crumbtrail/{SDK_VERSION}").as_str())
    );
    assert!(requests[0].header("x-sentry-auth").is_some());
    assert_eq!(requests[0].header("content-encoding"), Some("gzip"));
}
