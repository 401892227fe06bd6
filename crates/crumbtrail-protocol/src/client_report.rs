//! Client reports (PROTOCOL.md §7): how much data the SDK discarded, and why.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::category::DataCategory;
use crate::envelope::{Item, ItemType};

pub use crate::limits::MAX_CLIENT_REPORT_BYTES;

open_wire_enum! {
    /// Why data was discarded (§7's table).
    ///
    /// Reasons crumbtrail does not know (other SDKs send e.g. `callback_error`) are kept as
    /// [`DiscardReason::Unknown`] when read.
    ///
    /// ```
    /// use crumbtrail_protocol::DiscardReason;
    /// assert_eq!(DiscardReason::RatelimitBackoff.as_str(), "ratelimit_backoff");
    /// let r: DiscardReason = "callback_error".parse().unwrap();
    /// assert_eq!(r, DiscardReason::Unknown("callback_error".into()));
    /// ```
    #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
    pub enum DiscardReason {
    /// The transport or batch queue was full.
    QueueOverflow => "queue_overflow",
    /// The offline cache was full.
    CacheOverflow => "cache_overflow",
    /// Dropped locally because of an active rate limit.
    RatelimitBackoff => "ratelimit_backoff",
    /// A transport failure that was not (or no longer) retried.
    NetworkError => "network_error",
    /// Dropped by a sample rate or sampler.
    SampleRate => "sample_rate",
    /// A user hook (`before_send`, `before_send_log`, ...) dropped it.
    BeforeSend => "before_send",
    /// An event processor dropped it, or it matched an ignore list.
    EventProcessor => "event_processor",
    /// The server answered 4xx/5xx (except 429).
    SendError => "send_error",
    /// The SDK failed to serialize, compress, etc.
    InternalSdkError => "internal_sdk_error",
    /// Too little data to be worth sending.
    InsufficientData => "insufficient_data",
    /// Downsampled because the SDK is unhealthy.
    Backpressure => "backpressure",
    /// An in-memory buffer overflowed (breadcrumb ring, span recorder).
    BufferOverflow => "buffer_overflow",
    /// A deny-list mechanism dropped it.
    Ignored => "ignored",
    /// It failed validation.
    Invalid => "invalid",
    }
}

/// One `(reason, category)` line of a client report with its summed quantity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiscardedEvent {
    /// Why the data was discarded.
    pub reason: DiscardReason,
    /// What was discarded.
    pub category: DataCategory,
    /// How much (items, or bytes for byte categories).
    pub quantity: u64,
}

/// A client report: the payload of a `client_report` item.
///
/// ```
/// use crumbtrail_protocol::{ClientReport, DataCategory, DiscardReason};
///
/// let report = ClientReport::from_counts([
///     (DiscardReason::QueueOverflow, DataCategory::Error, 2),
///     (DiscardReason::QueueOverflow, DataCategory::Error, 1),
///     (DiscardReason::SampleRate, DataCategory::Transaction, 0), // skipped
/// ]);
/// assert_eq!(report.discarded_events.len(), 1);
/// assert_eq!(report.total(&DiscardReason::QueueOverflow, &DataCategory::Error), 3);
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ClientReport {
    /// When the report was made (optional; written as RFC 3339).
    #[serde(
        default,
        with = "crate::timestamp::option_rfc3339",
        skip_serializing_if = "Option::is_none"
    )]
    pub timestamp: Option<OffsetDateTime>,
    /// The discarded data, one entry per `(reason, category)`. Always written (the protocol
    /// requires it); read as empty when missing.
    #[serde(default)]
    pub discarded_events: Vec<DiscardedEvent>,
}

impl ClientReport {
    /// A report from `(reason, category, quantity)` counts: duplicates are merged (saturating
    /// sum), zero quantities are skipped, entries are sorted by reason then category. The
    /// timestamp is left unset.
    pub fn from_counts<I>(counts: I) -> Self
    where
        I: IntoIterator<Item = (DiscardReason, DataCategory, u64)>,
    {
        let mut merged: BTreeMap<(DiscardReason, DataCategory), u64> = BTreeMap::new();
        for (reason, category, quantity) in counts {
            if quantity == 0 {
                continue;
            }
            let slot = merged.entry((reason, category)).or_insert(0);
            *slot = slot.saturating_add(quantity);
        }
        ClientReport {
            timestamp: None,
            discarded_events: merged
                .into_iter()
                .map(|((reason, category), quantity)| DiscardedEvent {
                    reason,
                    category,
                    quantity,
                })
                .collect(),
        }
    }

    /// Whether nothing was discarded (such a report is not worth sending).
    pub fn is_empty(&self) -> bool {
        self.discarded_events.iter().all(|e| e.quantity == 0)
    }

    /// The total quantity for one `(reason, category)`, summing duplicate entries.
    pub fn total(&self, reason: &DiscardReason, category: &DataCategory) -> u64 {
        self.discarded_events
            .iter()
            .filter(|e| &e.reason == reason && &e.category == category)
            .fold(0u64, |sum, e| sum.saturating_add(e.quantity))
    }

    /// Splits the report into several, each serializing to at most `max_bytes` of compact
    /// JSON (use [`MAX_CLIENT_REPORT_BYTES`]). Every part keeps the timestamp; entry order is
    /// kept. An entry too large to fit even alone gets a report of its own. An empty report
    /// gives no reports at all.
    pub fn split_to_size(self, max_bytes: usize) -> Vec<ClientReport> {
        let empty = ClientReport {
            timestamp: self.timestamp,
            discarded_events: Vec::new(),
        };
        let base = json_len(&empty);
        let mut parts = Vec::new();
        let mut current = empty.clone();
        let mut size = base;
        for entry in self.discarded_events {
            // A comma separates this entry from the previous one.
            let added = json_len(&entry) + usize::from(!current.discarded_events.is_empty());
            if !current.discarded_events.is_empty() && size + added > max_bytes {
                parts.push(std::mem::replace(&mut current, empty.clone()));
                size = base + added - 1; // first entry: no comma
            } else {
                size += added;
            }
            current.discarded_events.push(entry);
        }
        if !current.discarded_events.is_empty() {
            parts.push(current);
        }
        parts
    }

    /// The report as a `client_report` envelope item.
    pub fn to_item(&self) -> Result<Item, serde_json::Error> {
        Item::json(ItemType::ClientReport, self)
    }
}

fn json_len<T: Serialize>(value: &T) -> usize {
    serde_json::to_vec(value).map(|v| v.len()).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;
    use time::macros::datetime;

    const EXAMPLE: &str = r#"{"timestamp":"2026-03-01T12:05:00.000000Z",
 "discarded_events":[
   {"reason":"queue_overflow","category":"error","quantity":3},
   {"reason":"sample_rate","category":"transaction","quantity":40},
   {"reason":"sample_rate","category":"span","quantity":212},
   {"reason":"ratelimit_backoff","category":"log_byte","quantity":18023}]}"#;

    #[test]
    fn golden_section_7_example() {
        let report: ClientReport = serde_json::from_str(EXAMPLE).unwrap();
        assert_eq!(report.timestamp, Some(datetime!(2026-03-01 12:05:00 UTC)));
        assert_eq!(report.discarded_events.len(), 4);
        assert_eq!(
            report.discarded_events[3],
            DiscardedEvent {
                reason: DiscardReason::RatelimitBackoff,
                category: DataCategory::LogByte,
                quantity: 18023,
            }
        );
        let written = serde_json::to_value(&report).unwrap();
        let want: Value = serde_json::from_str(EXAMPLE).unwrap();
        assert_eq!(written, want);
    }

    #[test]
    fn every_reason_round_trips_and_unknown_is_kept() {
        assert_eq!(DiscardReason::KNOWN.len(), 14);
        for r in DiscardReason::KNOWN {
            let json = serde_json::to_string(r).unwrap();
            assert_eq!(&serde_json::from_str::<DiscardReason>(&json).unwrap(), r);
        }
        let json =
            r#"{"discarded_events":[{"reason":"callback_error","category":"error","quantity":1}]}"#;
        let report: ClientReport = serde_json::from_str(json).unwrap();
        assert_eq!(
            report.discarded_events[0].reason,
            DiscardReason::Unknown("callback_error".into())
        );
        assert_eq!(report.timestamp, None);
        assert_eq!(serde_json::to_string(&report).unwrap(), json);
    }

    #[test]
    fn reads_float_timestamps_and_ignores_relay_only_arrays() {
        let json = r#"{"timestamp":1772366700,"discarded_events":[],"rate_limited_events":[{"reason":"x","category":"error","quantity":1}]}"#;
        let report: ClientReport = serde_json::from_str(json).unwrap();
        assert_eq!(report.timestamp, Some(datetime!(2026-03-01 12:05:00 UTC)));
        assert!(report.is_empty());
        let written = serde_json::to_string(&report).unwrap();
        assert_eq!(
            written,
            r#"{"timestamp":"2026-03-01T12:05:00.000000Z","discarded_events":[]}"#
        );
    }

    #[test]
    fn from_counts_merges_and_skips_zero() {
        let report = ClientReport::from_counts([
            (DiscardReason::SampleRate, DataCategory::Span, 10),
            (DiscardReason::QueueOverflow, DataCategory::Error, 1),
            (DiscardReason::SampleRate, DataCategory::Span, 5),
            (DiscardReason::BeforeSend, DataCategory::LogItem, 0),
            (DiscardReason::QueueOverflow, DataCategory::Error, u64::MAX),
        ]);
        assert_eq!(report.discarded_events.len(), 2);
        assert_eq!(
            report.total(&DiscardReason::SampleRate, &DataCategory::Span),
            15
        );
        assert_eq!(
            report.total(&DiscardReason::QueueOverflow, &DataCategory::Error),
            u64::MAX
        );
        assert_eq!(
            report.total(&DiscardReason::BeforeSend, &DataCategory::LogItem),
            0
        );
        // Sorted: queue_overflow comes before sample_rate in the protocol's order.
        assert_eq!(
            report.discarded_events[0].reason,
            DiscardReason::QueueOverflow
        );
        assert!(ClientReport::from_counts([]).is_empty());
    }

    #[test]
    fn total_sums_duplicate_entries_of_a_read_report() {
        let json = r#"{"discarded_events":[
            {"reason":"send_error","category":"error","quantity":2},
            {"reason":"send_error","category":"error","quantity":5},
            {"reason":"send_error","category":"span","quantity":7}]}"#;
        let report: ClientReport = serde_json::from_str(json).unwrap();
        assert_eq!(
            report.total(&DiscardReason::SendError, &DataCategory::Error),
            7
        );
    }

    #[test]
    fn split_keeps_every_part_under_the_limit_and_loses_nothing() {
        let counts = (0..200u64).map(|i| {
            (
                DiscardReason::KNOWN[(i % 14) as usize].clone(),
                DataCategory::Unknown(format!("category_{i}")),
                i + 1,
            )
        });
        let mut report = ClientReport::from_counts(counts);
        report.timestamp = Some(datetime!(2026-03-01 12:05:00 UTC));
        let original = report.clone();
        let parts = report.split_to_size(MAX_CLIENT_REPORT_BYTES);
        assert!(parts.len() > 1);
        let mut rejoined = Vec::new();
        for part in parts {
            let len = serde_json::to_vec(&part).unwrap().len();
            assert!(len <= MAX_CLIENT_REPORT_BYTES, "part is {len} bytes");
            assert_eq!(part.timestamp, original.timestamp);
            rejoined.extend(part.discarded_events);
        }
        assert_eq!(rejoined, original.discarded_events);
    }

    #[test]
    fn split_fills_parts_exactly_to_the_limit() {
        let report = ClientReport::from_counts(
            [
                DataCategory::Error,
                DataCategory::Span,
                DataCategory::Session,
            ]
            .into_iter()
            .map(|c| (DiscardReason::Ignored, c, 1)),
        );
        assert_eq!(report.discarded_events.len(), 3);
        let whole = serde_json::to_vec(&report).unwrap().len();
        assert_eq!(report.clone().split_to_size(whole).len(), 1);
        assert_eq!(report.clone().split_to_size(whole - 1).len(), 2);
        // Too small for any entry: one entry per report.
        assert_eq!(report.clone().split_to_size(1).len(), 3);
        assert!(ClientReport::default().split_to_size(4096).is_empty());
    }

    #[test]
    fn to_item_is_a_client_report_item() {
        let report =
            ClientReport::from_counts([(DiscardReason::NetworkError, DataCategory::Session, 1)]);
        let item = report.to_item().unwrap();
        assert_eq!(item.ty(), &ItemType::ClientReport);
        assert_eq!(item.decode_json::<ClientReport>().unwrap(), report);
    }
}
