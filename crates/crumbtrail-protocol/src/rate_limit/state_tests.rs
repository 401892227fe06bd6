use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::*;
use crate::category::DataCategory as C;

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

fn limited(header: &str) -> (RateLimits, Instant) {
    let now = Instant::now();
    let mut limits = RateLimits::new();
    limits.update_from_response(now, 200, Some(header), None);
    (limits, now)
}

#[test]
fn header_on_a_200_response_sets_category_deadlines() {
    let (limits, now) = limited("60:transaction:key, 2700:default;error;security:organization");
    assert_eq!(limits.retry_after(&C::Transaction, now), Some(secs(60)));
    assert_eq!(limits.retry_after(&C::Error, now), Some(secs(2700)));
    assert_eq!(limits.retry_after(&C::Security, now), Some(secs(2700)));
    assert!(!limits.is_limited(&C::Session, now));
    assert!(!limits.is_globally_limited(now));
    assert_eq!(limits.retry_after(&C::LogItem, now), None);
}

#[test]
fn empty_category_list_is_global() {
    let (limits, now) = limited("30::organization:quota_exceeded");
    assert!(limits.is_globally_limited(now));
    for category in C::KNOWN {
        assert_eq!(
            limits.retry_after(category, now),
            Some(secs(30)),
            "{category}"
        );
    }
    assert!(limits.is_limited(&C::Unknown("whatever".into()), now));
}

#[test]
fn unknown_categories_are_ignored_never_made_global() {
    let (limits, now) = limited("60:metric_bucket;seer_autofix:organization, 90:spam;error:key");
    assert!(!limits.is_globally_limited(now));
    assert!(!limits.is_limited(&C::Transaction, now));
    assert!(!limits.is_limited(&C::Unknown("metric_bucket".into()), now));
    assert!(!limits.is_limited(&C::Unknown("spam".into()), now));
    assert_eq!(limits.retry_after(&C::Error, now), Some(secs(90)));
}

#[test]
fn the_later_deadline_wins() {
    let (mut limits, now) = limited("100:error:key");
    limits.update_from_response(now, 200, Some("10:error:key"), None);
    assert_eq!(limits.retry_after(&C::Error, now), Some(secs(100)));
    limits.update_from_response(now, 200, Some("500:error:key"), None);
    assert_eq!(limits.retry_after(&C::Error, now), Some(secs(500)));
    // Within one header too.
    let (limits, now) = limited("5:session:key, 50:session:project, 20:session:org");
    assert_eq!(limits.retry_after(&C::Session, now), Some(secs(50)));
    // A category limit longer than the global one shows through it, and vice versa.
    let (mut limits, now) = limited("300:error:key");
    limits.update_from_response(now, 429, None, Some("30"));
    assert_eq!(limits.retry_after(&C::Error, now), Some(secs(300)));
    assert_eq!(limits.retry_after(&C::Span, now), Some(secs(30)));
    limits.update_from_response(now, 429, None, Some("10"));
    assert_eq!(limits.retry_after(&C::Span, now), Some(secs(30)));
}

#[test]
fn bare_429_uses_retry_after_or_sixty_seconds() {
    let now = Instant::now();
    for (retry_after, want) in [
        (None, 60),
        (Some("garbage"), 60),
        (Some("-3"), 60),
        (Some("120"), 120),
        (Some("2.5"), 3),
    ] {
        let mut limits = RateLimits::new();
        limits.update_from_response(now, 429, None, retry_after);
        assert_eq!(
            limits.retry_after(&C::Error, now),
            Some(secs(want)),
            "{retry_after:?}"
        );
        assert!(limits.is_globally_limited(now));
    }
    // A blank rate-limit header counts as absent.
    let mut limits = RateLimits::new();
    limits.update_from_response(now, 429, Some("  "), None);
    assert_eq!(
        limits.retry_after(&C::Error, now),
        Some(DEFAULT_RETRY_AFTER)
    );
}

#[test]
fn retry_after_http_date() {
    let now = Instant::now();
    let wall = UNIX_EPOCH + secs(1_772_366_400);
    let mut limits = RateLimits::new();
    limits.update_from_response_at(now, wall, 429, None, Some("Sun, 01 Mar 2026 12:02:00 GMT"));
    assert_eq!(limits.retry_after(&C::Error, now), Some(secs(120)));

    // A date in the past: a zero-length limit, i.e. not limited.
    let mut limits = RateLimits::new();
    limits.update_from_response_at(now, wall, 429, None, Some("Sun, 01 Mar 2026 11:00:00 GMT"));
    assert!(!limits.is_globally_limited(now));

    // With the system clock.
    let date = httpdate::fmt_http_date(SystemTime::now() + secs(600));
    let mut limits = RateLimits::new();
    limits.update_from_response(now, 429, None, Some(&date));
    let left = limits.retry_after(&C::Error, now).unwrap();
    assert!(left > secs(595) && left <= secs(600), "{left:?}");
}

#[test]
fn header_wins_over_retry_after_and_other_statuses_set_nothing() {
    let now = Instant::now();
    let mut limits = RateLimits::new();
    limits.update_from_response(now, 429, Some("10:error:key"), Some("999"));
    assert!(!limits.is_globally_limited(now));
    assert_eq!(limits.retry_after(&C::Error, now), Some(secs(10)));

    let mut limits = RateLimits::new();
    for status in [200, 400, 413, 500, 503] {
        limits.update_from_response(now, status, None, Some("30"));
    }
    assert_eq!(limits, RateLimits::new());
}

#[test]
fn deadlines_expire() {
    let (mut limits, now) = limited("60:error:key, 10::org");
    assert!(limits.is_limited(&C::Session, now + secs(9)));
    assert!(!limits.is_limited(&C::Session, now + secs(10)));
    assert_eq!(
        limits.retry_after(&C::Error, now + secs(45)),
        Some(secs(15))
    );
    assert!(!limits.is_limited(&C::Error, now + secs(60)));
    limits.purge_expired(now + secs(30));
    assert!(!limits.is_globally_limited(now));
    assert!(limits.is_limited(&C::Error, now));
    limits.purge_expired(now + secs(60));
    assert_eq!(limits, RateLimits::new());
}

#[test]
fn huge_retry_after_does_not_overflow() {
    let (limits, now) = limited("99999999999999999999999:error:key");
    assert!(limits.is_limited(&C::Error, now + secs(10 * 365 * 24 * 3600)));
}

#[test]
fn item_types_map_to_their_categories() {
    let (limits, now) = limited("60:log_byte;attachment_item;span:key");
    assert!(limits.is_item_limited(&ItemType::Log, now));
    assert!(limits.is_item_limited(&ItemType::Attachment, now));
    assert!(limits.is_item_limited(&ItemType::Span, now));
    assert!(!limits.is_item_limited(&ItemType::Transaction, now));
    assert!(!limits.is_item_limited(&ItemType::ClientReport, now));
    let (limits, now) = limited("60:default:key");
    assert!(limits.is_item_limited(&ItemType::UserReport, now));
    assert!(limits.is_item_limited(&ItemType::Unknown("x".into()), now));
    assert!(!limits.is_item_limited(&ItemType::Event, now));
    let (limits, now) = limited("60::key");
    assert!(limits.is_item_limited(&ItemType::ClientReport, now));
}

fn items() -> Vec<Item> {
    vec![
        Item::new(ItemType::Event, b"{}".to_vec()),
        Item::new(ItemType::Attachment, vec![7; 100]),
        Item::new(ItemType::Attachment, Vec::new()),
        Item::new(ItemType::Session, b"{}".to_vec()),
        Item::new(ItemType::ClientReport, b"{}".to_vec()),
    ]
}

fn types(items: &[Item]) -> Vec<&ItemType> {
    items.iter().map(Item::ty).collect()
}

#[test]
fn error_limit_drops_the_event_and_its_attachments() {
    let (limits, now) = limited("60:error:key");
    let (kept, dropped) = limits.filter_items(items(), now);
    assert_eq!(types(&kept), [&ItemType::Session, &ItemType::ClientReport]);
    assert_eq!(
        dropped,
        [(C::Error, 1), (C::Attachment, 101), (C::AttachmentItem, 2)]
    );
}

#[test]
fn attachments_of_a_transaction_stay_when_only_error_is_limited() {
    let (limits, now) = limited("60:error:key");
    let batch = vec![
        Item::new(ItemType::Transaction, br#"{"spans":[]}"#.to_vec()),
        Item::new(ItemType::Attachment, b"x".to_vec()),
    ];
    let (kept, dropped) = limits.filter_items(batch.clone(), now);
    assert_eq!(kept, batch);
    assert!(dropped.is_empty());
}

#[test]
fn global_limit_drops_everything_including_client_reports() {
    let now = Instant::now();
    let mut limits = RateLimits::new();
    limits.update_from_response(now, 429, None, None);
    let (kept, dropped) = limits.filter_items(items(), now);
    assert!(kept.is_empty());
    assert_eq!(
        dropped,
        [
            (C::Error, 1),
            (C::Attachment, 101),
            (C::AttachmentItem, 2),
            (C::Session, 1)
        ]
    );
    // After expiry nothing is dropped.
    let (kept, dropped) = limits.filter_items(items(), now + secs(60));
    assert_eq!(kept, items());
    assert!(dropped.is_empty());
}

#[test]
fn log_byte_limit_drops_log_items() {
    let (limits, now) = limited("120:log_byte:project:usage_exceeded");
    let payload = br#"{"items":[{},{},{}]}"#.to_vec();
    let mut log = Item::new(ItemType::Log, payload.clone());
    log.headers.item_count = Some(3);
    let batch = vec![log, Item::new(ItemType::CheckIn, b"{}".to_vec())];
    let (kept, dropped) = limits.filter_items(batch, now);
    assert_eq!(types(&kept), [&ItemType::CheckIn]);
    assert_eq!(
        dropped,
        [(C::LogItem, 3), (C::LogByte, payload.len() as u64)]
    );
}

#[test]
fn transaction_limit_counts_lost_spans() {
    let (limits, now) = limited("60:transaction:key");
    let tx = Item::new(ItemType::Transaction, br#"{"spans":[{},{}]}"#.to_vec());
    let (kept, dropped) = limits.filter_items(vec![tx], now);
    assert!(kept.is_empty());
    assert_eq!(dropped, [(C::Transaction, 1), (C::Span, 3)]);
}
