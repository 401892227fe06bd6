//! What arrived: every accepted envelope, the events inside them, counts per item type and the
//! summed client reports ([`Received`]), plus the on-disk envelope log that makes them survive
//! a restart (its format is described in the crate docs, under "Storage").

pub(crate) mod log;

use std::collections::BTreeMap;
use std::sync::Arc;

use bytes::Bytes;
use crumbtrail_protocol::{
    DataCategory, DiscardReason, Envelope, Event, EventId, ItemPayload, ItemType,
};
use time::OffsetDateTime;

/// One accepted envelope, as received.
///
/// ```
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// use crumbtrail_devserver::{DevServer, DevServerConfig};
/// let server = DevServer::start(DevServerConfig::default()).await?;
/// for envelope in server.envelopes() {
///     println!("#{} {} bytes: {:?}", envelope.seq, envelope.raw.len(), envelope.item_types());
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ReceivedEnvelope {
    /// Arrival order, from 1.
    pub seq: u64,
    /// When the server accepted it.
    pub received_at: OffsetDateTime,
    /// The envelope bytes after decompression, exactly as sent (for the legacy store endpoint:
    /// the envelope the server wrapped the event in).
    pub raw: Bytes,
    /// The parsed envelope.
    pub envelope: Envelope,
}

impl ReceivedEnvelope {
    /// The type names of its items, in order.
    pub fn item_types(&self) -> Vec<&str> {
        self.envelope
            .items
            .iter()
            .map(|i| i.ty().as_str())
            .collect()
    }
}

/// One event (from an `event` or `feedback` item) of an accepted envelope.
#[derive(Debug, Clone, PartialEq)]
pub struct ReceivedEvent {
    /// The [`ReceivedEnvelope::seq`] of the envelope it came in.
    pub envelope_seq: u64,
    /// When the server accepted it.
    pub received_at: OffsetDateTime,
    /// `event` or `feedback`.
    pub item_type: ItemType,
    /// The event.
    pub event: Event,
}

/// Everything a devserver has received. Read it through the
/// [`DevServer`](crate::DevServer) accessors, or in a
/// [`wait_until`](crate::DevServer::wait_until) predicate.
#[derive(Debug, Default)]
pub struct Received {
    envelopes: Vec<Arc<ReceivedEnvelope>>,
    events: Vec<Arc<ReceivedEvent>>,
    item_counts: BTreeMap<String, u64>,
    client_reports: BTreeMap<(DiscardReason, DataCategory), u64>,
    client_report_items: u64,
    requests: u64,
}

impl Received {
    /// Every accepted envelope, oldest first.
    pub fn envelopes(&self) -> &[Arc<ReceivedEnvelope>] {
        &self.envelopes
    }

    /// Every event (`event` and `feedback` items), oldest first.
    pub fn events(&self) -> &[Arc<ReceivedEvent>] {
        &self.events
    }

    /// The event with this id, if one arrived (the latest, if it arrived twice).
    pub fn event(&self, id: &EventId) -> Option<&Arc<ReceivedEvent>> {
        self.events.iter().rev().find(|e| &e.event.event_id == id)
    }

    /// How many items of this type (`"event"`, `"client_report"`, ...) arrived.
    pub fn item_count(&self, item_type: &str) -> u64 {
        self.item_counts.get(item_type).copied().unwrap_or(0)
    }

    /// Item counts by type name.
    pub fn item_counts(&self) -> &BTreeMap<String, u64> {
        &self.item_counts
    }

    /// The quantities of every `client_report` item received, summed by (reason, category).
    pub fn client_report_totals(&self) -> &BTreeMap<(DiscardReason, DataCategory), u64> {
        &self.client_reports
    }

    /// The summed quantity for one (reason, category); 0 when none was reported.
    pub fn client_report_total(&self, reason: &DiscardReason, category: &DataCategory) -> u64 {
        self.client_reports
            .get(&(reason.clone(), category.clone()))
            .copied()
            .unwrap_or(0)
    }

    /// How many `client_report` items arrived.
    pub fn client_report_items(&self) -> u64 {
        self.client_report_items
    }

    /// Requests to the ingest endpoints, whatever their outcome (faulted, rejected or stored).
    pub fn requests(&self) -> u64 {
        self.requests
    }

    pub(crate) fn count_request(&mut self) {
        self.requests = self.requests.saturating_add(1);
    }

    /// Adds an envelope (already validated) and indexes its items.
    pub(crate) fn insert(
        &mut self,
        received_at: OffsetDateTime,
        raw: Bytes,
        envelope: Envelope,
    ) -> Arc<ReceivedEnvelope> {
        let seq = self.envelopes.len() as u64 + 1;
        for item in &envelope.items {
            *self
                .item_counts
                .entry(item.ty().as_str().to_owned())
                .or_insert(0) += 1;
            match item.decode() {
                Ok(ItemPayload::Event(event) | ItemPayload::Feedback(event)) => {
                    self.events.push(Arc::new(ReceivedEvent {
                        envelope_seq: seq,
                        received_at,
                        item_type: item.ty().clone(),
                        event: *event,
                    }));
                }
                Ok(ItemPayload::ClientReport(report)) => {
                    self.client_report_items += 1;
                    for d in report.discarded_events {
                        let slot = self
                            .client_reports
                            .entry((d.reason, d.category))
                            .or_insert(0);
                        *slot = slot.saturating_add(d.quantity);
                    }
                }
                _ => {}
            }
        }
        let stored = Arc::new(ReceivedEnvelope {
            seq,
            received_at,
            raw,
            envelope,
        });
        self.envelopes.push(Arc::clone(&stored));
        stored
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crumbtrail_protocol::ClientReport;

    fn report(n: u64) -> Envelope {
        let r = ClientReport::from_counts([
            (DiscardReason::QueueOverflow, DataCategory::Error, n),
            (DiscardReason::SampleRate, DataCategory::Transaction, 1),
        ]);
        Envelope::new().with_item(r.to_item().unwrap())
    }

    #[test]
    fn indexes_events_counts_and_reports() {
        let mut r = Received::default();
        let event = Event::new();
        let env = Envelope::from_event(&event).unwrap();
        let now = OffsetDateTime::now_utc();
        let first = r.insert(now, Bytes::from(env.to_bytes()), env);
        assert_eq!(first.seq, 1);
        r.insert(now, Bytes::new(), report(2));
        r.insert(now, Bytes::new(), report(3));
        assert_eq!(r.events().len(), 1);
        assert_eq!(r.event(&event.event_id).unwrap().envelope_seq, 1);
        assert_eq!(r.item_count("event"), 1);
        assert_eq!(r.item_count("client_report"), 2);
        assert_eq!(r.item_count("session"), 0);
        assert_eq!(
            r.client_report_total(&DiscardReason::QueueOverflow, &DataCategory::Error),
            5
        );
        assert_eq!(
            r.client_report_total(&DiscardReason::SampleRate, &DataCategory::Transaction),
            2
        );
        assert_eq!(r.client_report_items(), 2);
        assert_eq!(r.envelopes()[2].seq, 3);
    }
}
