//! Builds the envelope crumbtrail would send for a failed checkout — an error event with its
//! breadcrumb trail, an attachment and a client report — prints it exactly as it goes on the
//! wire, and reads it back with the strict parser.
//!
//! Run it with `cargo run -p crumbtrail-examples --example envelope`.
#![forbid(unsafe_code)]

use crumbtrail_protocol::{
    Breadcrumb, ClientReport, ClientSdkInfo, DataCategory, DiscardReason, Dsn, Envelope, Event,
    Exception, Item, ItemPayload, Level, TraceContext,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dsn: Dsn = "https://abc123@o42.ingest.sentry.io/7".parse()?;
    println!("DSN {dsn}");
    println!("  POST {}", dsn.envelope_url());
    println!(
        "  X-Sentry-Auth: {}\n",
        dsn.auth_header_value(&format!(
            "{}/{}",
            crumbtrail_protocol::SDK_NAME,
            crumbtrail_protocol::SDK_VERSION
        ))
    );

    let mut event = Event::new();
    event.level = Level::Error;
    event.release = Some("shop@1.4.2".into());
    event.environment = Some("production".into());
    event.transaction = Some("POST /checkout".into());
    event.tags.insert("region".into(), "eu".into());
    // An error chain, newest first as `Error::source()` walks it; the protocol wants it oldest
    // first, with mechanism ids linking each cause to its parent.
    event.exception = Some(
        Exception::chain(vec![
            Exception::new("shop::CheckoutError", "payment failed"),
            Exception::new("std::io::Error", "connection reset by peer"),
        ])
        .into(),
    );
    event.breadcrumbs = Some(
        vec![
            Breadcrumb::new()
                .with_category("log")
                .with_message("loading cart 981"),
            Breadcrumb::http("POST", "https://payments.example.com/v1/charge", Some(503)),
        ]
        .into(),
    );
    let trace = TraceContext::new(
        crumbtrail_protocol::TraceId::random(),
        crumbtrail_protocol::SpanId::random(),
    );
    event.contexts.insert("trace", trace);

    let report =
        ClientReport::from_counts([(DiscardReason::QueueOverflow, DataCategory::Error, 2)]);
    let mut envelope = Envelope::from_event(&event)?
        .with_item(Item::attachment(
            "cart.txt",
            Some("text/plain"),
            b"cart=981;items=3".to_vec(),
        ))
        .with_item(report.to_item()?);
    envelope.headers.sdk = Some(ClientSdkInfo::crumbtrail());
    envelope.headers.sent_at = Some(crumbtrail_protocol::timestamp::now());

    let bytes = envelope.to_bytes();
    println!("{} bytes on the wire:\n{envelope}", bytes.len());

    let parsed = Envelope::parse(&bytes)?;
    assert_eq!(
        parsed, envelope,
        "the strict parser reads back exactly what was written"
    );
    for item in &parsed.items {
        match item.decode()? {
            ItemPayload::Event(e) => println!(
                "event {} with {} breadcrumbs and {} exceptions",
                e.event_id,
                e.breadcrumbs.as_ref().map_or(0, |b| b.values.len()),
                e.exception.as_ref().map_or(0, |x| x.values.len()),
            ),
            ItemPayload::Attachment(bytes) => println!("attachment of {} bytes", bytes.len()),
            ItemPayload::ClientReport(r) => {
                println!(
                    "client report: {} discard entries",
                    r.discarded_events.len()
                )
            }
            other => println!("other item: {other:?}"),
        }
    }
    Ok(())
}
