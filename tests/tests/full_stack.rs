//! The whole stack end to end: an axum service with the tower layer and the tracing layer that
//! calls a second local service through the reqwest middleware, two requests at once. The
//! failing request's event carries exactly its own trail — its log lines, its outgoing HTTP
//! call, its incoming request — and none of the other's; the trace id reached the downstream
//! service. (One test in this file: it installs a process-wide tracing subscriber.)

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use crumbtrail::{Client, ClientOptions};
use crumbtrail_devserver::{DevServer, DevServerConfig};
use tracing_subscriber::layer::SubscriberExt;

#[derive(Clone)]
struct Upstream {
    http: reqwest_middleware::ClientWithMiddleware,
    downstream: String,
    both_arrived: Arc<tokio::sync::Barrier>,
}

async fn order(State(up): State<Upstream>, Path(id): Path<u32>) -> StatusCode {
    tracing::info!(order = id, "loading order {id}");
    // Both requests are in flight at once from here on.
    up.both_arrived.wait().await;
    let paid = up
        .http
        .get(format!("{}/pay/{id}?card=secret", up.downstream))
        .send()
        .await;
    match paid {
        Ok(r) if r.status().is_success() => {
            tracing::info!(order = id, "order {id} paid");
            StatusCode::OK
        }
        Ok(r) => {
            let err = std::io::Error::other(format!("payment service answered {}", r.status()));
            tracing::error!(
                error = &err as &(dyn std::error::Error + 'static),
                order = id,
                "payment for order {id} failed"
            );
            StatusCode::BAD_GATEWAY
        }
        Err(e) => {
            tracing::error!(order = id, "payment call failed: {e}");
            StatusCode::BAD_GATEWAY
        }
    }
}

async fn serve(app: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.ok() });
    url
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_request_carries_exactly_its_own_trail() {
    tracing::subscriber::set_global_default(
        tracing_subscriber::registry().with(crumbtrail::tracing::layer()),
    )
    .unwrap();
    let server = DevServer::start(DevServerConfig::default()).await.unwrap();
    let client = Client::new(ClientOptions {
        dsn: Some(server.dsn().to_string()),
        ..Default::default()
    })
    .unwrap();

    // Downstream: records the trace header it receives; order 2's payment fails.
    let seen: Arc<Mutex<Vec<(u32, String)>>> = Arc::default();
    let s = Arc::clone(&seen);
    let downstream = serve(Router::new().route(
        "/pay/{id}",
        get(move |Path(id): Path<u32>, headers: HeaderMap| {
            let s = Arc::clone(&s);
            async move {
                let trace = headers
                    .get("sentry-trace")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                s.lock().unwrap().push((id, trace));
                if id == 2 {
                    StatusCode::SERVICE_UNAVAILABLE
                } else {
                    StatusCode::OK
                }
            }
        }),
    ))
    .await;

    let http = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
        .with(crumbtrail::reqwest::CrumbtrailMiddleware::new())
        .build();
    let app = Router::new()
        .route("/orders/{id}", get(order))
        .layer(crumbtrail::tower::CrumbtrailLayer::new().client(client.clone()))
        .with_state(Upstream {
            http,
            downstream,
            both_arrived: Arc::new(tokio::sync::Barrier::new(2)),
        });
    let upstream = serve(app).await;

    let plain = reqwest::Client::new();
    let (a, b) = tokio::join!(
        plain.get(format!("{upstream}/orders/1")).send(),
        plain.get(format!("{upstream}/orders/2")).send(),
    );
    assert_eq!(a.unwrap().status(), 200);
    assert_eq!(b.unwrap().status(), 502);
    assert!(client.flush(Duration::from_secs(10)).await);

    // Order 2 produced its error event (from the log line) and the layer's 502 event.
    let events = server
        .wait_for_events(2, Duration::from_secs(10))
        .await
        .unwrap();
    let logged = events
        .iter()
        .map(|r| &r.event)
        .find(|e| e.logger.is_some())
        .expect("the event from the error log line");
    assert_eq!(logged.transaction.as_deref(), Some("GET /orders/{id}"));
    let request = logged.request.as_ref().unwrap();
    assert!(
        request.url.as_deref().unwrap().ends_with("/orders/2"),
        "{request:?}"
    );
    let exc = &logged.exception.as_ref().unwrap().values;
    assert_eq!(
        exc.last().unwrap().value.as_deref(),
        Some("payment service answered 503 Service Unavailable")
    );

    let crumbs = &logged.breadcrumbs.as_ref().unwrap().values;
    let described: Vec<String> = crumbs
        .iter()
        .map(|c| {
            let url = c
                .data
                .get("url")
                .and_then(|u| u.as_str())
                .unwrap_or_default();
            format!(
                "{} {} {url}",
                c.category.clone().unwrap_or_default(),
                c.message.clone().unwrap_or_default()
            )
        })
        .collect();
    assert_eq!(crumbs.len(), 2, "{described:#?}");
    assert_eq!(crumbs[0].message.as_deref(), Some("loading order 2"));
    assert_eq!(crumbs[1].ty, "http");
    assert!(
        crumbs[1].data["url"].as_str().unwrap().ends_with("/pay/2"),
        "{described:#?}"
    );
    assert_eq!(crumbs[1].data["status_code"], 503);
    assert!(
        !described
            .iter()
            .any(|d| d.contains("order 1") || d.contains("/pay/1")),
        "{described:#?}"
    );

    // The downstream call for order 2 carried this event's trace.
    let trace_id = logged.contexts.trace().unwrap().trace_id.to_string();
    let seen = seen.lock().unwrap().clone();
    let (_, header) = seen
        .iter()
        .find(|(id, _)| *id == 2)
        .expect("order 2 reached downstream");
    assert!(header.starts_with(&trace_id), "{header} vs {trace_id}");
    let (_, other) = seen.iter().find(|(id, _)| *id == 1).unwrap();
    assert!(
        !other.starts_with(&trace_id),
        "each request has its own trace"
    );
    server.shutdown().await;
}
