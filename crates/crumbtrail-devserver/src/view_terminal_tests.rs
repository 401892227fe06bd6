use super::*;
use crumbtrail_protocol::{Exception, Level, LogEntry};
use time::macros::datetime;

fn base() -> Event {
    let mut event = Event::new();
    event.event_id = "5d1b2e8c4a0f4f6e9b7c3a2d1e0f9a8b".parse().unwrap();
    event.timestamp = datetime!(2026-03-01 12:00:01.5 UTC);
    event
}

#[test]
fn full_event_block() {
    let mut event = base();
    event.level = Level::Fatal;
    event.exception = Some(
        vec![
            Exception::new("std::io::Error", "connection refused"),
            Exception::new("shop::CheckoutError", "payment failed"),
        ]
        .into(),
    );
    event.transaction = Some("POST /checkout".into());
    event.release = Some("shop@1.4.2".into());
    event.environment = Some("staging".into());
    event.tags.insert("region".into(), "eu".into());
    event.tags.insert("tenant".into(), "acme".into());
    event.breadcrumbs = Some(
        vec![
            Breadcrumb::navigation("/cart", "/checkout")
                .with_timestamp(datetime!(2026-03-01 12:00:00.001 UTC)),
            Breadcrumb::new()
                .with_category("db.query")
                .with_message("SELECT 1")
                .with_level(Level::Debug)
                .with_timestamp(datetime!(2026-03-01 12:00:00.25 UTC)),
            Breadcrumb::http("POST", "https://pay.example.com/charge", Some(404))
                .with_message("charge")
                .with_timestamp(datetime!(2026-03-01 12:00:01 UTC)),
        ]
        .into(),
    );
    assert_eq!(
        render_event(&event),
        "\
[FATAL] shop::CheckoutError: payment failed
  caused by:   std::io::Error: connection refused
  event:       5d1b2e8c4a0f4f6e9b7c3a2d1e0f9a8b at 2026-03-01 12:00:01.500 UTC
  transaction: POST /checkout
  release:     shop@1.4.2
  environment: staging
  tags:        region=eu, tenant=acme
  breadcrumbs: 3, oldest first
    12:00:00.001  info     navigation  /cart → /checkout
    12:00:00.250  debug    db.query    SELECT 1
    12:00:01.000  warning  http        charge (POST https://pay.example.com/charge → 404)
"
    );
}

#[test]
fn minimal_event_and_title_fallbacks() {
    let mut event = base();
    assert_eq!(
        render_event(&event),
        "\
[ERROR] <no message>
  event:       5d1b2e8c4a0f4f6e9b7c3a2d1e0f9a8b at 2026-03-01 12:00:01.500 UTC
  breadcrumbs: none
"
    );
    event.logentry = Some(LogEntry {
        message: Some("user %s failed".into()),
        params: None,
        formatted: None,
    });
    assert_eq!(event_title(&event), "user %s failed");
    event.logentry = Some(LogEntry::formatted("user alice failed"));
    assert_eq!(event_title(&event), "user alice failed");
    event.exception = Some(vec![Exception::default()].into());
    assert_eq!(event_title(&event), "user alice failed");
    event.exception = Some(
        vec![Exception {
            ty: Some("Panic".into()),
            ..Exception::default()
        }]
        .into(),
    );
    assert_eq!(event_title(&event), "Panic");
}

#[test]
fn crumbs_without_time_or_category_and_hostile_text() {
    let mut event = base();
    event.message = Some("line one\nline two \u{1b}[31mred".into());
    let mut crumb = Breadcrumb::new().with_message("tab\there");
    crumb.timestamp = None;
    event.breadcrumbs = Some(
        vec![
            crumb,
            Breadcrumb::new()
                .with_type("user")
                .with_timestamp(datetime!(2026-03-01 23:59:59.999 UTC)),
        ]
        .into(),
    );
    assert_eq!(
        render_event(&event),
        "\
[ERROR] line one\\nline two \\u{1b}[31mred
  event:       5d1b2e8c4a0f4f6e9b7c3a2d1e0f9a8b at 2026-03-01 12:00:01.500 UTC
  breadcrumbs: 2, oldest first
    --:--:--.---  info  default  tab\\there
    23:59:59.999  info  user
"
    );
}

#[test]
fn envelope_summaries() {
    use crumbtrail_protocol::{ClientReport, Item, ItemType};
    let env = Envelope::new()
        .with_item(ClientReport::default().to_item().unwrap())
        .with_item(Item::new(ItemType::Unknown("x\ny".into()), vec![]));
    assert_eq!(
        render_envelope_summary(4, &env),
        "[envelope #4] client_report, x\\ny"
    );
    assert_eq!(
        render_envelope_summary(1, &Envelope::new()),
        "[envelope #1] no items"
    );
}
