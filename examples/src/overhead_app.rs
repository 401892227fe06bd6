//! The service the full-stack overhead benchmark loads: an axum hello-world that logs one line
//! and calls a second local service (the downstream, plain in every mode) through reqwest.
//!
//! Shared, as a `#[path]` module, by crumbtrail's benchmark server
//! (`examples/examples/overhead_server.rs`) and the official SDK's (`scripts/official-sdk`), so
//! that both measure the same service; each adds only its SDK's layers, middleware and tracing
//! subscriber.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::routing::get;

/// The handler's state, shared behind an `Arc` as axum recommends: routers clone the state for
/// every request, and once more for every layer a route is wrapped in.
pub struct App {
    http: reqwest_middleware::ClientWithMiddleware,
    downstream: String,
}

async fn hello(State(app): State<Arc<App>>) -> String {
    tracing::info!(target: "bench", "hello requested");
    match app.http.get(&app.downstream).send().await {
        Ok(r) => format!("hello, downstream said {}", r.status().as_u16()),
        Err(e) => format!("hello, downstream failed: {e}"),
    }
}

/// Starts the downstream service on a free loopback port and returns the hello-world's route
/// and its state, whose reqwest client goes through `middleware`'s middleware (if any).
pub async fn start(
    middleware: reqwest_middleware::ClientBuilder,
) -> std::io::Result<(Router<Arc<App>>, Arc<App>)> {
    let downstream = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/", downstream.local_addr()?);
    tokio::spawn(async move {
        let app = Router::new().route("/", get(|| async { "ok" }));
        axum::serve(downstream, app).await.ok();
    });
    let state = Arc::new(App {
        http: middleware.build(),
        downstream: url,
    });
    Ok((Router::new().route("/", get(hello)), state))
}

/// The hello-world's reqwest client, before middleware: a 5 s timeout, defaults otherwise.
pub fn http_client() -> reqwest::Result<reqwest_middleware::ClientBuilder> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()?;
    Ok(reqwest_middleware::ClientBuilder::new(client))
}

/// Serves `app` with `state` on 127.0.0.1:`port`, announcing `mode`.
pub async fn serve(
    app: Router<Arc<App>>,
    state: Arc<App>,
    mode: &str,
    port: u16,
) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    println!("{mode} listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app.with_state(state)).await
}
