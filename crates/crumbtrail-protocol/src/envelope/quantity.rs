//! How much of each data category an item counts as when it is discarded (PROTOCOL.md §7,
//! "Quantities").

use serde::Deserialize;
use serde::de::IgnoredAny;

use crate::category::DataCategory;
use crate::envelope::{Item, ItemType};

/// Just the `spans` of a transaction payload.
#[derive(Deserialize)]
struct SpansOnly {
    #[serde(default)]
    spans: Option<Vec<IgnoredAny>>,
}

/// Just the `items` of a container payload (logs, spans, metrics).
#[derive(Deserialize)]
struct ItemsOnly {
    #[serde(default)]
    items: Option<Vec<IgnoredAny>>,
}

impl Item {
    /// The quantities to record in a client report when this item is discarded.
    ///
    /// | Item | Quantities |
    /// |---|---|
    /// | `event` | `error` 1 |
    /// | `transaction` | `transaction` 1, `span` child spans + 1 |
    /// | `attachment` | `attachment` payload bytes (1 if empty), `attachment_item` 1 |
    /// | `log` | `log_item` `item_count` (else the records in the payload), `log_byte` payload bytes |
    /// | `span` | `span` `item_count` (else the spans in the payload) |
    /// | `trace_metric` | `trace_metric` `item_count`, else 1 |
    /// | `client_report` | nothing |
    /// | anything else | its data category, 1 (`session`, `monitor`, `feedback`, `default`, ...) |
    ///
    /// Entries with quantity zero (e.g. a log item with an unreadable payload) are left out.
    ///
    /// ```
    /// use crumbtrail_protocol::{DataCategory, Item, ItemType};
    /// let item = Item::new(ItemType::Attachment, vec![0; 12]);
    /// assert_eq!(
    ///     item.discard_quantities(),
    ///     [(DataCategory::Attachment, 12), (DataCategory::AttachmentItem, 1)]
    /// );
    /// ```
    pub fn discard_quantities(&self) -> Vec<(DataCategory, u64)> {
        let bytes = self.payload.len() as u64;
        let mut out = match self.ty() {
            ItemType::ClientReport => Vec::new(),
            ItemType::Event => vec![(DataCategory::Error, 1)],
            ItemType::Transaction => {
                let children = serde_json::from_slice::<SpansOnly>(&self.payload)
                    .ok()
                    .and_then(|t| t.spans)
                    .map_or(0, |s| s.len() as u64);
                vec![
                    (DataCategory::Transaction, 1),
                    (DataCategory::Span, children.saturating_add(1)),
                ]
            }
            ItemType::Attachment => vec![
                (DataCategory::Attachment, bytes.max(1)),
                (DataCategory::AttachmentItem, 1),
            ],
            ItemType::Log => vec![
                (DataCategory::LogItem, self.container_count()),
                (DataCategory::LogByte, bytes),
            ],
            ItemType::Span => vec![(DataCategory::Span, self.container_count())],
            ItemType::TraceMetric => vec![(
                DataCategory::TraceMetric,
                self.headers.item_count.unwrap_or(1),
            )],
            other => other
                .data_category()
                .map(|c| vec![(c, 1)])
                .unwrap_or_default(),
        };
        out.retain(|(_, quantity)| *quantity > 0);
        out
    }

    /// `item_count`, or else the number of records in the payload's `items` (0 if unreadable).
    fn container_count(&self) -> u64 {
        self.headers.item_count.unwrap_or_else(|| {
            serde_json::from_slice::<ItemsOnly>(&self.payload)
                .ok()
                .and_then(|c| c.items)
                .map_or(0, |items| items.len() as u64)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn q(item: &Item) -> Vec<(DataCategory, u64)> {
        item.discard_quantities()
    }

    #[test]
    fn single_count_items() {
        use DataCategory as C;
        let cases = [
            (ItemType::Event, C::Error),
            (ItemType::Session, C::Session),
            (ItemType::Sessions, C::Session),
            (ItemType::CheckIn, C::Monitor),
            (ItemType::Feedback, C::Feedback),
            (ItemType::UserReport, C::Default),
            (ItemType::Unknown("otel_trace".into()), C::Default),
            (ItemType::Profile, C::Profile),
        ];
        for (ty, category) in cases {
            let item = Item::new(ty.clone(), b"{}".to_vec());
            assert_eq!(q(&item), [(category, 1)], "{ty}");
        }
        assert!(q(&Item::new(ItemType::ClientReport, b"{}".to_vec())).is_empty());
    }

    #[test]
    fn transaction_counts_child_spans_plus_one() {
        let payload = json!({"type": "transaction", "spans": [{}, {"op": "db"}, {}]});
        let item = Item::json(ItemType::Transaction, &payload).unwrap();
        assert_eq!(
            q(&item),
            [(DataCategory::Transaction, 1), (DataCategory::Span, 4)]
        );
        let no_spans = Item::json(ItemType::Transaction, &json!({"spans": null})).unwrap();
        assert_eq!(q(&no_spans)[1], (DataCategory::Span, 1));
        let garbage = Item::new(ItemType::Transaction, b"not json".to_vec());
        assert_eq!(
            q(&garbage),
            [(DataCategory::Transaction, 1), (DataCategory::Span, 1)]
        );
    }

    #[test]
    fn attachments_count_bytes_or_one() {
        let item = Item::new(ItemType::Attachment, b"cart=3;ok=0".to_vec());
        assert_eq!(
            q(&item),
            [
                (DataCategory::Attachment, 11),
                (DataCategory::AttachmentItem, 1)
            ]
        );
        let empty = Item::new(ItemType::Attachment, Vec::new());
        assert_eq!(
            q(&empty),
            [
                (DataCategory::Attachment, 1),
                (DataCategory::AttachmentItem, 1)
            ]
        );
    }

    #[test]
    fn logs_count_records_and_bytes() {
        let payload = br#"{"items":[{"a":1},{"b":2}]}"#.to_vec();
        let mut item = Item::new(ItemType::Log, payload.clone());
        assert_eq!(
            q(&item),
            [
                (DataCategory::LogItem, 2),
                (DataCategory::LogByte, payload.len() as u64)
            ]
        );
        item.headers.item_count = Some(7);
        assert_eq!(q(&item)[0], (DataCategory::LogItem, 7));
        let garbage = Item::new(ItemType::Log, b"[".to_vec());
        assert_eq!(q(&garbage), [(DataCategory::LogByte, 1)]);
    }

    #[test]
    fn span_and_metric_containers_use_item_count() {
        let mut spans = Item::new(ItemType::Span, br#"{"items":[{},{},{}]}"#.to_vec());
        assert_eq!(q(&spans), [(DataCategory::Span, 3)]);
        spans.headers.item_count = Some(5);
        assert_eq!(q(&spans), [(DataCategory::Span, 5)]);
        let mut metrics = Item::new(ItemType::TraceMetric, b"{}".to_vec());
        assert_eq!(q(&metrics), [(DataCategory::TraceMetric, 1)]);
        metrics.headers.item_count = Some(9);
        assert_eq!(q(&metrics), [(DataCategory::TraceMetric, 9)]);
    }
}
