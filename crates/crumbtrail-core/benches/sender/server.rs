//! The bench's ingest server, run as a child process so the SDK's figures (CPU, peak RSS) are
//! its own: it answers every envelope with 200 (after a delay, or never), and counts the
//! events and the client-reported losses that reach it.

use std::convert::Infallible;
use std::io::{BufRead, Read, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use crumbtrail_core::protocol::{ClientReport, Envelope, ItemType};
use http_body_util::{BodyExt, Full};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;

/// How the server answers envelopes.
#[derive(Clone, Copy)]
pub(crate) enum Answer {
    /// 200 at once.
    Instant,
    /// 200 after a delay.
    After(Duration),
    /// Never: the request hangs until the client gives up.
    Hang,
}

impl Answer {
    pub(crate) fn to_arg(self) -> String {
        match self {
            Answer::Instant => "instant".into(),
            Answer::After(d) => format!("after:{}", d.as_millis()),
            Answer::Hang => "hang".into(),
        }
    }

    pub(crate) fn from_arg(arg: &str) -> Answer {
        match arg.split_once(':') {
            Some(("after", ms)) => Answer::After(Duration::from_millis(ms.parse().expect("ms"))),
            _ if arg == "hang" => Answer::Hang,
            _ => Answer::Instant,
        }
    }
}

#[derive(Default)]
struct Counts {
    events: AtomicU64,
    lost: AtomicU64,
}

/// Runs the server until its stdin closes (the bench exits or kills it). Prints `PORT n` first.
pub(crate) fn serve(answer: Answer) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let port = listener.local_addr().expect("addr").port();
        println!("PORT {port}");
        std::io::stdout().flush().expect("stdout");
        std::thread::spawn(|| {
            let _ = std::io::stdin().read_to_end(&mut Vec::new());
            std::process::exit(0);
        });
        let counts = Arc::new(Counts::default());
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let counts = Arc::clone(&counts);
            tokio::spawn(async move {
                let service = service_fn(move |req| handle(Arc::clone(&counts), answer, req));
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
}

async fn handle(
    counts: Arc<Counts>,
    answer: Answer,
    req: Request<hyper::body::Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    if req.uri().path() == "/stats" {
        let body = format!(
            "{} {}",
            counts.events.load(Ordering::SeqCst),
            counts.lost.load(Ordering::SeqCst)
        );
        return Ok(Response::new(Full::new(Bytes::from(body))));
    }
    match answer {
        Answer::Instant => {}
        Answer::After(delay) => tokio::time::sleep(delay).await,
        Answer::Hang => std::future::pending::<()>().await,
    }
    let gzip = req
        .headers()
        .get("content-encoding")
        .is_some_and(|v| v == "gzip");
    let body = req
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let raw = if gzip {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&body[..])
            .read_to_end(&mut out)
            .map(|_| out)
            .unwrap_or_default()
    } else {
        body.to_vec()
    };
    if let Ok(envelope) = Envelope::parse(&raw) {
        for item in &envelope.items {
            match item.ty() {
                ItemType::Event => {
                    counts.events.fetch_add(1, Ordering::SeqCst);
                }
                ItemType::ClientReport => {
                    if let Ok(report) = item.decode_json::<ClientReport>() {
                        let lost: u64 = report.discarded_events.iter().map(|d| d.quantity).sum();
                        counts.lost.fetch_add(lost, Ordering::SeqCst);
                    }
                }
                _ => {}
            }
        }
    }
    Ok(Response::new(Full::new(Bytes::from_static(b"{}"))))
}

/// A server child process, killed on drop.
pub(crate) struct Child {
    child: std::process::Child,
    pub(crate) port: u16,
}

impl Child {
    pub(crate) fn start(answer: Answer) -> Child {
        let mut child = std::process::Command::new(std::env::current_exe().expect("exe"))
            .env("CRUMBTRAIL_BENCH_ROLE", "server")
            .env("CRUMBTRAIL_BENCH_ANSWER", answer.to_arg())
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("start the bench server");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        std::io::BufReader::new(stdout)
            .read_line(&mut line)
            .expect("port line");
        let port = line
            .trim()
            .strip_prefix("PORT ")
            .and_then(|p| p.parse().ok())
            .expect("PORT n");
        Child { child, port }
    }

    pub(crate) fn dsn(&self) -> String {
        format!("http://benchkey@127.0.0.1:{}/1", self.port)
    }

    /// (events received, losses reported in client reports).
    pub(crate) async fn counts(&self) -> (u64, u64) {
        let text = reqwest::get(format!("http://127.0.0.1:{}/stats", self.port))
            .await
            .expect("stats")
            .text()
            .await
            .expect("stats body");
        let mut parts = text.split(' ').map(|n| n.parse().expect("count"));
        (parts.next().expect("events"), parts.next().expect("lost"))
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
