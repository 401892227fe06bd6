//! Counting what is lost: every drop is recorded by (reason, category) and reported to the
//! server in a client report (PROTOCOL.md §7).

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use crumbtrail_protocol::{ClientReport, DataCategory, DiscardReason};

/// Thread-safe loss counters of one client.
#[derive(Debug, Default)]
pub struct Discards {
    counts: Mutex<HashMap<(DiscardReason, DataCategory), u64>>,
}

impl Discards {
    /// Records `quantity` items of `category` lost for `reason`.
    pub fn record(&self, reason: DiscardReason, category: DataCategory, quantity: u64) {
        if quantity == 0 {
            return;
        }
        *self
            .counts
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry((reason, category))
            .or_default() += quantity;
    }

    /// Takes the counts so far as a report (`None` when nothing was lost), leaving zero.
    pub fn take_report(&self) -> Option<ClientReport> {
        let counts =
            std::mem::take(&mut *self.counts.lock().unwrap_or_else(PoisonError::into_inner));
        if counts.is_empty() {
            return None;
        }
        let mut report = ClientReport::from_counts(counts.into_iter().map(|((r, c), q)| (r, c, q)));
        report.timestamp = Some(crumbtrail_protocol::timestamp::now());
        Some(report)
    }

    /// The count so far for one (reason, category), without taking it.
    pub fn get(&self, reason: &DiscardReason, category: &DataCategory) -> u64 {
        self.counts
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&(reason.clone(), category.clone()))
            .copied()
            .unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_per_reason_and_category_and_resets_on_take() {
        let d = Discards::default();
        d.record(DiscardReason::QueueOverflow, DataCategory::Error, 2);
        d.record(DiscardReason::QueueOverflow, DataCategory::Error, 3);
        d.record(DiscardReason::SampleRate, DataCategory::Error, 0);
        let report = d.take_report().unwrap();
        assert_eq!(
            report.total(&DiscardReason::QueueOverflow, &DataCategory::Error),
            5
        );
        assert_eq!(report.discarded_events.len(), 1);
        assert!(d.take_report().is_none());
    }
}
