//! Transactions end to end over loopback HTTP to an in-process devserver: sampling, child
//! spans, the scope's trace, `before_send_transaction`, backpressure, and errors going first
//! when the queue is under pressure.
//!
//! Every test has its own server and client; waits are on `flush` or on the server, bounded.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crumbtrail_core::protocol::{
    DataCategory, DiscardReason, SpanStatus, Transaction as TransactionData,
};
use crumbtrail_core::{
    Client, ClientOptions, Level, SamplingContext, ScopeFutureExt, capture_message,
    start_transaction,
};
use crumbtrail_devserver::{DevServer, DevServerConfig, Fault};

const WAIT: Duration = Duration::from_secs(10);

async fn server() -> DevServer {
    DevServer::start(DevServerConfig::default())
        .await
        .expect("devserver starts")
}

fn client(server: &DevServer, options: ClientOptions) -> Client {
    Client::new(ClientOptions {
        dsn: Some(server.dsn().to_string()),
        ..options
    })
    .expect("client")
}

fn traced(rate: f64) -> ClientOptions {
    ClientOptions {
        traces_sample_rate: Some(rate),
        ..Default::default()
    }
}

#[tokio::test]
async fn a_sampled_transaction_arrives_with_its_spans_in_the_scope_trace() {
    let server = server().await;
    let client = client(&server, traced(1.0));
    let (tx_id, error_id) = async {
        crumbtrail_core::configure_scope(|s| s.set_tag("tenant", "acme"));
        let tx = start_transaction("POST /checkout", "http.server");
        assert!(tx.is_sampled());
        let db = tx.start_child("db.query", "SELECT cart");
        let nested = db.start_child("db.fetch", "rows");
        nested.finish();
        db.set_status(SpanStatus::Ok);
        db.finish();
        let error_id = capture_message("card declined", Level::Error).expect("captured");
        tx.set_status(SpanStatus::InternalError);
        (tx.finish().expect("queued"), error_id)
    }
    .bind_client(&client)
    .await;
    assert!(client.flush(WAIT).await);

    let got = server.transactions();
    assert_eq!(got.len(), 1);
    let (envelope, tx) = &got[0];
    assert_eq!(tx.event_id, tx_id);
    assert_eq!(tx.transaction.as_deref(), Some("POST /checkout"));
    assert_eq!(tx.tags["tenant"], "acme", "the scope applies");
    let root = tx.trace_context().expect("root span");
    assert_eq!(root.op.as_deref(), Some("http.server"));
    assert_eq!(root.status, Some(SpanStatus::InternalError));
    assert!(tx.timestamp >= tx.start_timestamp);
    assert_eq!(tx.spans.len(), 2);
    let db = tx
        .spans
        .iter()
        .find(|s| s.op.as_deref() == Some("db.query"))
        .unwrap();
    let fetch = tx
        .spans
        .iter()
        .find(|s| s.op.as_deref() == Some("db.fetch"))
        .unwrap();
    assert_eq!(db.parent_span_id, Some(root.span_id));
    assert_eq!(fetch.parent_span_id, Some(db.span_id));
    assert!(
        tx.spans
            .iter()
            .all(|s| s.trace_id == root.trace_id && s.is_finished())
    );
    let dsc = envelope
        .envelope
        .headers
        .trace
        .as_ref()
        .expect("sampling context");
    assert_eq!(dsc.transaction.as_deref(), Some("POST /checkout"));
    assert_eq!(dsc.sampled.as_deref(), Some("true"));

    // The error captured inside belongs to the transaction's root span.
    let error = server.event(&error_id).expect("the error arrived");
    let trace = error.event.contexts.trace().expect("trace context");
    assert_eq!(
        (trace.trace_id, trace.span_id),
        (root.trace_id, root.span_id)
    );
}

#[tokio::test]
async fn without_a_traces_rate_transactions_are_inert_and_nothing_is_counted() {
    let server = server().await;
    let client = client(&server, ClientOptions::default());
    async {
        let tx = start_transaction("job", "task");
        assert!(!tx.is_sampled());
        let span = tx.start_child("step", "one");
        assert!(!span.is_sampled());
        span.finish();
        assert_eq!(tx.finish(), None);
        assert_eq!(
            crumbtrail_core::propagation_context().unwrap().sampled,
            None,
            "the decision stays deferred for downstream services"
        );
    }
    .bind_client(&client)
    .await;
    assert!(client.flush(WAIT).await);
    assert!(server.transactions().is_empty());
    assert_eq!(server.client_report_totals().values().sum::<u64>(), 0);
}

#[tokio::test]
async fn sampled_out_transactions_are_counted_and_the_decision_propagates() {
    let server = server().await;
    let client = client(&server, traced(0.0));
    async {
        for _ in 0..3 {
            assert!(!start_transaction("job", "task").is_sampled());
        }
        assert_eq!(
            crumbtrail_core::propagation_context().unwrap().sampled,
            Some(false)
        );
    }
    .bind_client(&client)
    .await;
    assert!(client.flush(WAIT).await);
    assert!(server.transactions().is_empty());
    let lost = |c| server.client_report_total(&DiscardReason::SampleRate, &c);
    assert_eq!(
        (lost(DataCategory::Transaction), lost(DataCategory::Span)),
        (3, 3)
    );
}

#[tokio::test]
async fn the_sampler_decides_and_sees_the_name() {
    let server = server().await;
    let client = client(
        &server,
        ClientOptions {
            traces_sampler: Some(Arc::new(|ctx: &SamplingContext<'_>| {
                if ctx.name.starts_with("keep") {
                    1.0
                } else {
                    0.0
                }
            })),
            ..Default::default()
        },
    );
    async {
        assert!(start_transaction("keep me", "task").finish().is_some());
        assert!(start_transaction("drop me", "task").finish().is_none());
    }
    .bind_client(&client)
    .await;
    assert!(client.flush(WAIT).await);
    let names: Vec<_> = server
        .transactions()
        .into_iter()
        .map(|(_, t)| t.transaction.unwrap())
        .collect();
    assert_eq!(names, ["keep me"]);
}

#[tokio::test]
async fn before_send_transaction_can_change_and_drop_and_drops_are_counted() {
    let server = server().await;
    let client = client(
        &server,
        ClientOptions {
            before_send_transaction: Some(Arc::new(|mut tx: TransactionData| {
                if tx.transaction.as_deref() == Some("/health") {
                    return None;
                }
                tx.tags.insert("checked".into(), "yes".into());
                Some(tx)
            })),
            ..traced(1.0)
        },
    );
    async {
        let health = start_transaction("/health", "http.server");
        health.start_child("noop", "a").finish();
        health.start_child("noop", "b").finish();
        health.finish();
        start_transaction("/cart", "http.server").finish();
    }
    .bind_client(&client)
    .await;
    assert!(client.flush(WAIT).await);
    let got = server.transactions();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].1.tags["checked"], "yes");
    let lost = |c| server.client_report_total(&DiscardReason::BeforeSend, &c);
    assert_eq!(
        (lost(DataCategory::Transaction), lost(DataCategory::Span)),
        (1, 3),
        "the transaction and its root plus two child spans"
    );
}

#[tokio::test]
async fn backpressure_downsamples_transactions_while_rate_limited_and_recovers() {
    let server = server().await;
    // Any active rate limit makes the sender unhealthy: here one on sessions, for 1 s.
    server
        .set_fault(
            Fault::status(200)
                .with_rate_limits("1:session:key")
                .times(1),
        )
        .expect("fault");
    let client = client(
        &server,
        ClientOptions {
            backpressure_check_interval: Duration::from_millis(20),
            ..traced(1.0)
        },
    );
    let bound = async {
        capture_message("brings the rate limit back", Level::Error);
        assert!(crumbtrail_core::current_client().unwrap().flush(WAIT).await);
        // At rate 1.0, a transaction is only ever dropped by downsampling.
        let deadline = Instant::now() + WAIT;
        let mut dropped = false;
        while !dropped && Instant::now() < deadline {
            dropped = !start_transaction("under pressure", "task").is_sampled();
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        assert!(dropped, "downsampling began while the limit held");
        assert!(
            capture_message("errors are never downsampled", Level::Error).is_some(),
            "errors still go"
        );
        // Once the limit has run out, the next check is healthy again.
        let deadline = Instant::now() + WAIT;
        let mut healthy_streak = 0;
        while healthy_streak < 50 && Instant::now() < deadline {
            if start_transaction("recovered", "task").is_sampled() {
                healthy_streak += 1;
            } else {
                healthy_streak = 0;
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
        assert_eq!(healthy_streak, 50, "sampling at the full rate again");
    };
    bound.bind_client(&client).await;
    assert!(client.flush(WAIT).await);
    assert!(
        client
            .discards()
            .get(&DiscardReason::Backpressure, &DataCategory::Transaction)
            == 0,
        "pending counts were all reported"
    );
    assert!(
        server.client_report_total(&DiscardReason::Backpressure, &DataCategory::Transaction) >= 1
    );
    assert_eq!(
        server.client_report_total(&DiscardReason::Backpressure, &DataCategory::Error),
        0
    );
}

#[tokio::test]
async fn under_pressure_the_queue_keeps_room_for_errors() {
    let server = server().await;
    server.set_fault(Fault::hang()).expect("fault");
    let client = client(
        &server,
        ClientOptions {
            transport_queue_size: 40,
            ..traced(1.0)
        },
    );
    let (queued, refused, error) = async {
        let (mut queued, mut refused) = (0u64, 0u64);
        // The sender takes a few into flight (they hang), then the queue fills up to the
        // reserve kept for errors.
        for _ in 0..200 {
            match start_transaction("bulk", "task").finish() {
                Some(_) => queued += 1,
                None => refused += 1,
            }
        }
        (
            queued,
            refused,
            capture_message("still room for me", Level::Error),
        )
    }
    .bind_client(&client)
    .await;
    assert!(
        refused > 0,
        "transactions were refused once the reserve was reached"
    );
    assert!(
        error.is_some(),
        "an error still fits: {queued} queued, {refused} refused"
    );
    assert_eq!(
        client
            .discards()
            .get(&DiscardReason::QueueOverflow, &DataCategory::Transaction),
        refused
    );
    assert!(!client.close(Duration::from_millis(200)).await);
}

#[tokio::test]
async fn the_head_of_a_trace_freezes_one_sampling_context_for_downstream_and_its_envelopes() {
    use crumbtrail_core::protocol::{DynamicSamplingContext, TransactionSource};
    let server = server().await;
    let head = client(
        &server,
        ClientOptions {
            release: Some("shop@2.0".into()),
            ..traced(1.0)
        },
    );
    let unsampled = client(&server, traced(0.0));
    let (outgoing, error_id) = async {
        let tx = crumbtrail_core::start_transaction_with_source(
            "GET /carts/{id}",
            "http.server",
            TransactionSource::Route,
        );
        // What an integration would put on an outgoing request now.
        let p = crumbtrail_core::propagation_context().expect("a trace");
        let outgoing = p.baggage(&crumbtrail_core::current_client().unwrap());
        let error_id = crumbtrail_core::capture_error(&std::io::Error::other("cart gone"));
        tx.finish();
        (outgoing, error_id.expect("captured"))
    }
    .bind_client(&head)
    .await;
    assert!(head.flush(WAIT).await);

    let downstream = DynamicSamplingContext::from_baggage(&outgoing);
    assert_eq!(downstream.sampled(), Some(true));
    assert_eq!(downstream.sample_rate(), Some(1.0));
    assert_eq!(downstream.transaction.as_deref(), Some("GET /carts/{id}"));
    assert_eq!(downstream.release.as_deref(), Some("shop@2.0"));
    // The transaction's envelope and the error's carry the same context.
    let (envelope, _) = &server.transactions()[0];
    assert_eq!(envelope.envelope.headers.trace.as_ref(), Some(&downstream));
    let error = server.event(&error_id).expect("the error arrived");
    let error_envelope = server
        .envelopes()
        .into_iter()
        .find(|e| e.seq == error.envelope_seq)
        .unwrap();
    assert_eq!(
        error_envelope.envelope.headers.trace.as_ref(),
        Some(&downstream)
    );

    // Dropped by the draw: downstream is told so, with the rate; a URL-named one keeps its
    // name to itself.
    let outgoing = async {
        let tx = crumbtrail_core::start_transaction_with_source(
            "GET /carts/981",
            "http.server",
            TransactionSource::Url,
        );
        assert!(!tx.is_sampled());
        let p = crumbtrail_core::propagation_context().unwrap();
        p.baggage(&crumbtrail_core::current_client().unwrap())
    }
    .bind_client(&unsampled)
    .await;
    let downstream = DynamicSamplingContext::from_baggage(&outgoing);
    assert_eq!(downstream.sampled(), Some(false));
    assert_eq!(downstream.sample_rate(), Some(0.0));
    assert_eq!(downstream.transaction, None);
}

#[tokio::test]
async fn the_decision_is_the_traces_random_number_under_the_rate() {
    let transport = crumbtrail_core::TestTransport::new();
    let client = crumbtrail_core::test::client_with(&transport, traced(0.3));
    let mut kept = 0;
    for _ in 0..200 {
        // Each unit of work a new trace, with its own number.
        let (rand, sampled) = async {
            crumbtrail_core::with_isolation_scope(|_| {}, async {
                let rand = crumbtrail_core::propagation_context()
                    .unwrap()
                    .sample_rand();
                let tx = start_transaction("job", "task");
                (rand, tx.is_sampled())
            })
            .await
        }
        .bind_client(&client)
        .await;
        assert_eq!(sampled, rand < 0.3, "rand {rand}");
        kept += usize::from(sampled);
    }
    assert!((20..=100).contains(&kept), "about 30% of 200 kept: {kept}");
}

#[tokio::test]
async fn transactions_arrive_scrubbed_as_errors_do() {
    let server = server().await;
    let client = client(&server, traced(1.0));
    async {
        let tx = start_transaction("POST /login", "http.server");
        let mut request = crumbtrail_core::protocol::Request {
            cookies: Some("sid=abc".into()),
            ..Default::default()
        };
        for (name, value) in [
            ("authorization", "Bearer secret-1"),
            ("proxy_authorization", "Basic secret-2"),
            ("x-csrftoken", "secret-3"),
            ("x-request-id", "r1"),
        ] {
            request.headers.insert(name.into(), value.into());
        }
        tx.set_request(request);
        let span = tx.start_child("db.query", "SELECT user");
        span.set_data("password", "secret-4");
        span.finish();
        tx.finish().expect("queued");
    }
    .bind_client(&client)
    .await;
    assert!(client.flush(WAIT).await);

    let got = server.transactions();
    let (_, tx) = &got[0];
    let request = tx.request.as_ref().expect("the request interface");
    assert_eq!(request.cookies, None);
    assert_eq!(request.headers["authorization"], "");
    assert_eq!(request.headers["proxy_authorization"], "");
    assert_eq!(request.headers["x-csrftoken"], "[Filtered]");
    assert_eq!(request.headers["x-request-id"], "r1");
    assert_eq!(tx.spans[0].data["password"], "[Filtered]");
}
