//! The quickstart: a small async service that records breadcrumbs as it works, fails in one
//! request with a chained error, and shows what reached the server — each event with the trail
//! of breadcrumbs that led to it.
//!
//! With no `SENTRY_DSN` set it starts the crumbtrail devserver in-process and sends there;
//! with `SENTRY_DSN` set it sends to that server instead.
//!
//! Run it with `cargo run -p crumbtrail-examples --example quickstart`.
#![forbid(unsafe_code)]

use std::error::Error;
use std::fmt;
use std::time::Duration;

use crumbtrail::{Breadcrumb, ClientOptions, Level};
use crumbtrail_devserver::{DevServer, DevServerConfig, render_event};
use tracing_subscriber::layer::SubscriberExt;

/// The error a payment call fails with, caused by an I/O error.
#[derive(Debug)]
struct PaymentError {
    order: u32,
    source: std::io::Error,
}

impl fmt::Display for PaymentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "payment for order {} failed", self.order)
    }
}

impl Error for PaymentError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&self.source)
    }
}

/// A log line: printed, and — through crumbtrail's tracing layer — a breadcrumb in the trail
/// of the unit of work that logged it.
fn log(message: String) {
    println!("  [log] {message}");
    tracing::info!("{message}");
}

/// One request: a few steps, each leaving a breadcrumb; order 3 fails.
async fn handle_request(order: u32) -> Result<(), PaymentError> {
    log(format!("GET /orders/{order}: loading cart"));
    tokio::time::sleep(Duration::from_millis(5)).await;
    crumbtrail::add_breadcrumb(
        Breadcrumb::new()
            .with_type("query")
            .with_category("db.query")
            .with_message(format!("SELECT * FROM carts WHERE order_id = {order}")),
    );
    // A background task forked from this request's scope: it sees the request's trail.
    crumbtrail::spawn(async move {
        log(format!("order {order}: warming the recommendation cache"));
    })
    .await
    .ok();
    let status = if order == 3 { 503 } else { 200 };
    crumbtrail::add_breadcrumb(Breadcrumb::http(
        "POST",
        "https://payments.example.com/v1/charge",
        Some(status),
    ));
    if status != 200 {
        return Err(PaymentError {
            order,
            source: std::io::Error::new(
                std::io::ErrorKind::ConnectionReset,
                "connection reset by peer",
            ),
        });
    }
    log(format!("order {order}: paid"));
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    // Where to send: SENTRY_DSN if set, else a devserver started right here.
    let devserver = match std::env::var("SENTRY_DSN").ok().filter(|d| !d.is_empty()) {
        Some(dsn) => {
            println!("sending to SENTRY_DSN ({dsn})");
            None
        }
        None => {
            let server = DevServer::start(DevServerConfig::default()).await?;
            println!(
                "no SENTRY_DSN: started the crumbtrail devserver at {}",
                server.url()
            );
            Some(server)
        }
    };
    let dsn = devserver.as_ref().map(|s| s.dsn().to_string());

    let guard = crumbtrail::init(ClientOptions {
        dsn, // None: init reads SENTRY_DSN
        release: Some("quickstart@0.1.0".into()),
        environment: Some("development".into()),
        ..Default::default()
    })?;
    crumbtrail::configure_global_scope(|scope| scope.set_tag("service", "quickstart"));
    // Log lines become breadcrumbs (INFO and up) and events (ERROR and up).
    tracing::subscriber::set_global_default(
        tracing_subscriber::registry().with(crumbtrail::tracing::layer().filtered()),
    )?;

    // Three concurrent requests, each in its own isolation scope: their breadcrumbs and tags
    // never mix.
    println!("handling 3 requests");
    let requests: Vec<_> = (1..=3)
        .map(|order| {
            crumbtrail::spawn(crumbtrail::with_isolation_scope(
                move |scope| {
                    scope.set_tag("order", order);
                    scope.set_transaction(Some("GET /orders/:id"));
                },
                async move {
                    if let Err(err) = handle_request(order).await {
                        log(format!("order {order}: {err}"));
                        crumbtrail::capture_error(&err);
                    }
                },
            ))
        })
        .collect();
    for request in requests {
        request.await?;
    }
    // A background job that panics: the panic hook (installed by `init`) sends a fatal event
    // with the job's trail before the panic goes on.
    let job = crumbtrail::spawn(crumbtrail::with_isolation_scope(
        |scope| scope.set_tag("job", "inventory-sync"),
        async {
            log("inventory sync: 0 of 3 warehouses answered".to_owned());
            let warehouses: Vec<&str> = Vec::new();
            println!("  [job] first warehouse: {}", warehouses[0]); // panics
        },
    ));
    assert!(job.await.is_err_and(|e| e.is_panic()));
    crumbtrail::capture_message("quickstart finished", Level::Info);

    // Deliver everything before exiting.
    let delivered = guard.close(Duration::from_secs(5)).await;
    println!("close: everything delivered = {delivered}\n");

    if let Some(server) = devserver {
        let mut events = server.events();
        events.sort_by_key(|e| e.event.timestamp);
        println!("the devserver received {} events:\n", events.len());
        for received in events {
            println!("{}", render_event(&received.event));
        }
        server.shutdown().await;
    }
    Ok(())
}
