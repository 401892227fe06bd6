//! What the layer costs per request, in process (no sockets: the network would drown it).
//!
//! `cargo bench -p crumbtrail-tower --bench overhead` prints, for an axum router with one
//! route and a request with 8 headers, the median time per request of several rounds for:
//! the bare router; the layer with no client for the requests; the layer with a client (the default
//! path: a 200 response, nothing captured); and the same with an incoming `sentry-trace` and
//! `baggage` to continue. Each figure is also given as a ratio to the bare router, measured in
//! the same run. Rounds are interleaved so that drift affects every variant alike.

use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::routing::get;
use crumbtrail_core::{ClientOptions, ScopeFutureExt, TestTransport};
use crumbtrail_tower::CrumbtrailLayer;
use http::Request;
use tower::{Layer, ServiceExt};

const REQUESTS: u32 = 20_000;
const ROUNDS: usize = 7;

fn request(traced: bool) -> Request<Body> {
    let mut req = Request::get("/users/42?expand=orders")
        .header("host", "shop.example")
        .header("user-agent", "bench/1.0")
        .header("accept", "application/json")
        .header("accept-encoding", "gzip")
        .header("x-request-id", "0f3c2a")
        .header("cookie", "sid=abc")
        .header("authorization", "Bearer t")
        .header("x-forwarded-for", "203.0.113.7");
    if traced {
        req = req
            .header(
                "sentry-trace",
                "4c79f60c11214eb38604f4ae0781bfb2-a1b2c3d4e5f60718-1",
            )
            .header(
                "baggage",
                "sentry-trace_id=4c79f60c11214eb38604f4ae0781bfb2,sentry-public_key=k,sentry-sampled=true",
            );
    }
    req.body(Body::empty()).unwrap()
}

fn router() -> Router {
    Router::new().route("/users/{id}", get(|| async { "ok" }))
}

/// Time per request of `REQUESTS` sequential `oneshot` calls.
async fn per_request<S>(service: &S, traced: bool) -> Duration
where
    S: tower::Service<Request<Body>> + Clone,
    S::Error: std::fmt::Debug,
{
    let start = Instant::now();
    for _ in 0..REQUESTS {
        let response = service.clone().oneshot(request(traced)).await.unwrap();
        std::hint::black_box(response);
    }
    start.elapsed() / REQUESTS
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let bare = router();
    let layered = CrumbtrailLayer::new().layer(router());
    let routed = router().layer(CrumbtrailLayer::new());
    let transport = TestTransport::new();
    let client = crumbtrail_core::test::client_with(&transport, ClientOptions::default());

    let mut times: [Vec<Duration>; 5] = Default::default();
    runtime.block_on(async {
        for round in 0..=ROUNDS {
            let t = [
                per_request(&bare, false).await,
                // No client bound here (and no global one): the layer only calls the service.
                per_request(&layered, false).await,
                async { per_request(&routed, false).await }
                    .bind_client(&client)
                    .await,
                async { per_request(&routed, true).await }
                    .bind_client(&client)
                    .await,
                per_request(&bare, true).await,
            ];
            if round > 0 {
                // round 0 warms up
                for (all, t) in times.iter_mut().zip(t) {
                    all.push(t);
                }
            }
        }
    });
    assert!(transport.take().is_empty(), "200s capture nothing");
    let [bare, disabled, enabled, traced, bare_traced] = times.map(median);
    let ratio = |d: Duration, base: Duration| d.as_secs_f64() / base.as_secs_f64();
    println!("per request, median of {ROUNDS} rounds of {REQUESTS}:");
    println!("  bare router                        {bare:>10.2?}");
    println!(
        "  layer, no client                  {disabled:>10.2?}  x{:.2}",
        ratio(disabled, bare)
    );
    println!(
        "  layer, client bound                {enabled:>10.2?}  x{:.2}  (+{:.2?})",
        ratio(enabled, bare),
        enabled.saturating_sub(bare)
    );
    println!(
        "  layer, client bound, trace headers {traced:>10.2?}  x{:.2}  (+{:.2?}, vs bare with the same headers {bare_traced:.2?})",
        ratio(traced, bare_traced),
        traced.saturating_sub(bare_traced)
    );
}
