//! The axum example service (`cargo run -p crumbtrail-examples --example axum_service`) in its
//! self-test mode, in-process: the same `run` the example binary calls. Running the binary
//! through `cargo run` from here would wait on the build lock the outer `cargo test` holds.
//!
//! It proves the whole example works end to end: its own requests get the statuses they should,
//! the declined order's event reaches the devserver with exactly its own trail (its log line and
//! its outgoing http call, nothing of the other orders), the tower layer reports the 502, and the
//! graceful shutdown waits for the background tasks and delivers everything; every request is a
//! transaction, the orders' calls to payments are spans payments continues under, and each
//! request is a release-health session. (One test in this
//! file: `run` installs the process-wide tracing subscriber and client.)

use std::time::Duration;

use crumbtrail_examples::axum_service::{Config, SELFTEST_REQUESTS, run};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_selftest_reports_the_declined_order_with_its_trail_and_shuts_down_cleanly() {
    let config = Config {
        selftest: true,
        ..Config::default() // no DSN: the in-process devserver
    };
    let summary = tokio::time::timeout(Duration::from_secs(60), run(config))
        .await
        .expect("the example finishes")
        .expect("the example runs");

    // It served its own requests, then shut down gracefully.
    assert_eq!(summary.shutdown_reason, "self-test done");
    let expected: Vec<(String, u16)> = SELFTEST_REQUESTS
        .iter()
        .map(|(path, status)| ((*path).to_owned(), *status))
        .collect();
    assert_eq!(summary.responses, expected);
    assert!(
        summary.drained,
        "servers and background tasks finished in time"
    );
    assert_eq!(
        summary.background_tasks_done, 3,
        "the shutdown waited for every order's background task"
    );
    assert!(summary.delivered, "close delivered everything");

    // Two events, both for order 13: the ERROR log line's and the tower layer's 502.
    assert_eq!(summary.events.len(), 2, "{}", summary.report);
    for event in &summary.events {
        assert_eq!(event.transaction.as_deref(), Some("GET /orders/{id}"));
        let url = event.request.as_ref().and_then(|r| r.url.as_deref());
        assert!(url.is_some_and(|u| u.ends_with("/orders/13")), "{url:?}");
        assert_eq!(event.release.as_deref(), Some("axum-service@0.1.0"));
    }

    // The logged one: the chained error, oldest first, and exactly the request's trail.
    let logged = summary
        .events
        .iter()
        .find(|e| e.logger.is_some())
        .expect("the event from the ERROR log line");
    let chain: Vec<&str> = logged
        .exception
        .as_ref()
        .unwrap()
        .values
        .iter()
        .map(|e| e.value.as_deref().unwrap_or_default())
        .collect();
    assert_eq!(
        chain,
        [
            "payments answered 402 Payment Required: card declined",
            "order 13 could not be paid"
        ]
    );
    let crumbs = &logged.breadcrumbs.as_ref().unwrap().values;
    assert_eq!(crumbs.len(), 2, "{}", summary.report);
    assert_eq!(crumbs[0].category.as_deref(), Some("orders"));
    assert_eq!(crumbs[0].message.as_deref(), Some("loading order 13"));
    assert_eq!(crumbs[1].ty, "http");
    let called = crumbs[1].data["url"].as_str().unwrap();
    assert_eq!(called, format!("{}/charge/13", summary.payments_url));
    assert_eq!(crumbs[1].data["status_code"], 402);

    // The layer's event adds the log line's own crumb and the incoming request.
    let layer_event = summary
        .events
        .iter()
        .find(|e| e.logger.is_none())
        .expect("the tower layer's 502 event");
    let crumbs = &layer_event.breadcrumbs.as_ref().unwrap().values;
    let last = crumbs.last().unwrap();
    assert_eq!(last.category.as_deref(), Some("http.server"));
    assert_eq!(last.data["status_code"], 502);

    // What was printed: each event with its trail, and nothing of the orders that were paid.
    for line in [
        "[ERROR] OrderError: order 13 could not be paid",
        "caused by:   Declined: payments answered 402 Payment Required: card declined",
        "orders  loading order 13",
        &format!("http    GET {}/charge/13 → 402", summary.payments_url),
        "[ERROR] GET /orders/{id} responded 502 Bad Gateway",
    ] {
        assert!(
            summary.report.contains(line),
            "{line:?} in\n{}",
            summary.report
        );
    }
    for other in [
        "order 1\n",
        "order 2\n",
        "order 1 ",
        "order 2 ",
        "/charge/1 ",
        "/charge/2 ",
    ] {
        assert!(
            !summary.report.contains(other),
            "{other:?} in\n{}",
            summary.report
        );
    }

    // Every request of either service is a transaction; each call to payments is an
    // `http.client` span of the order's transaction, and payments continues the trace under it.
    let named = |name: &str| {
        summary
            .transactions
            .iter()
            .filter(|t| t.transaction.as_deref() == Some(name))
            .collect::<Vec<_>>()
    };
    let (orders, charges) = (named("GET /orders/{id}"), named("GET /charge/{id}"));
    assert_eq!((orders.len(), charges.len()), (4, 3));
    assert_eq!(named("GET /healthz").len(), 1);
    for charge in &charges {
        let trace = charge.trace_context().expect("trace context");
        let caller = orders
            .iter()
            .flat_map(|o| o.spans.iter())
            .find(|s| Some(s.span_id) == trace.parent_span_id)
            .expect("a payments transaction sits under an orders http.client span");
        assert_eq!(caller.op.as_deref(), Some("http.client"));
        assert_eq!(caller.trace_id, trace.trace_id);
    }
    // Release health: one session per request; order 13 errored (its events), nothing crashed.
    assert_eq!(
        summary.sessions,
        crumbtrail_examples::axum_service::SessionCounts {
            exited: 7,
            errored: 1,
            crashed: 0
        }
    );
}
