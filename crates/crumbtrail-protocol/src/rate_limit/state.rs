//! The rate-limit state of one transport (PROTOCOL.md §6.2 and §6.3).

use std::collections::HashMap;
use std::time::{Duration, Instant, SystemTime};

use crate::category::DataCategory;
use crate::envelope::{Item, ItemType};
use crate::rate_limit::{RateLimit, parse_rate_limits, parse_retry_after};

/// How long a bare `429` limits everything when `Retry-After` is missing or unparsable.
pub const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(60);

/// The active rate limits of one transport (one DSN): a global deadline plus one per
/// category. Every method takes `now` explicitly, so it can be tested without sleeping.
///
/// ```
/// use std::time::{Duration, Instant};
/// use crumbtrail_protocol::{DataCategory, ItemType, RateLimits};
///
/// let now = Instant::now();
/// let mut limits = RateLimits::new();
/// limits.update_from_response(now, 200, Some("60:error:key"), None);
/// assert!(limits.is_limited(&DataCategory::Error, now));
/// assert!(limits.is_item_limited(&ItemType::Event, now));
/// assert!(!limits.is_item_limited(&ItemType::Transaction, now));
/// assert!(!limits.is_limited(&DataCategory::Error, now + Duration::from_secs(60)));
/// assert!(limits.is_any_limited(now));
/// assert!(!limits.is_any_limited(now + Duration::from_secs(60)));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RateLimits {
    global: Option<Instant>,
    categories: HashMap<DataCategory, Instant>,
}

impl RateLimits {
    /// No active limits.
    pub fn new() -> Self {
        RateLimits::default()
    }

    /// Applies a response's headers (§6.2), using the system clock for an HTTP-date
    /// `Retry-After`. See [`RateLimits::update_from_response_at`].
    pub fn update_from_response(
        &mut self,
        now: Instant,
        status: u16,
        rate_limits_header: Option<&str>,
        retry_after: Option<&str>,
    ) {
        self.update_from_response_at(
            now,
            SystemTime::now(),
            status,
            rate_limits_header,
            retry_after,
        );
    }

    /// Applies a response's headers (§6.2), with `wall_now` the wall-clock time that an
    /// HTTP-date `Retry-After` is measured from.
    ///
    /// 1. A (non-blank) `X-Sentry-Rate-Limits` header, on any status, sets deadlines: an entry
    ///    with no categories sets the global one; otherwise each known category gets one, and an
    ///    entry whose categories are all unknown is ignored.
    /// 2. Otherwise a `429` sets the global deadline from `Retry-After`, or 60 s when that is
    ///    missing or unparsable.
    /// 3. An existing later deadline is kept.
    pub fn update_from_response_at(
        &mut self,
        now: Instant,
        wall_now: SystemTime,
        status: u16,
        rate_limits_header: Option<&str>,
        retry_after: Option<&str>,
    ) {
        match rate_limits_header.filter(|h| !h.trim().is_empty()) {
            Some(header) => {
                for limit in parse_rate_limits(header) {
                    self.apply(now, &limit);
                }
            }
            None if status == 429 => {
                let wait = retry_after
                    .and_then(|v| parse_retry_after(v, wall_now))
                    .unwrap_or(DEFAULT_RETRY_AFTER);
                extend(&mut self.global, deadline(now, wait));
            }
            None => {}
        }
    }

    /// Applies one parsed limit, keeping any later deadline already set.
    pub fn apply(&mut self, now: Instant, limit: &RateLimit) {
        let until = deadline(now, limit.retry_after);
        if limit.is_global() {
            extend(&mut self.global, until);
            return;
        }
        for category in limit.categories.iter().filter(|c| c.is_known()) {
            let slot = self.categories.entry(category.clone()).or_insert(until);
            *slot = (*slot).max(until);
        }
    }

    /// Whether `category` (or everything) is limited at `now`.
    pub fn is_limited(&self, category: &DataCategory, now: Instant) -> bool {
        self.retry_after(category, now).is_some()
    }

    /// Whether any limit (global or of a category) is active at `now`.
    pub fn is_any_limited(&self, now: Instant) -> bool {
        self.is_globally_limited(now) || self.categories.values().any(|d| *d > now)
    }

    /// Whether the global limit is active at `now`.
    pub fn is_globally_limited(&self, now: Instant) -> bool {
        self.global.is_some_and(|d| d > now)
    }

    /// How long `category` stays limited (the later of its own and the global deadline), or
    /// `None` when it is not limited at `now`.
    pub fn retry_after(&self, category: &DataCategory, now: Instant) -> Option<Duration> {
        let own = self.categories.get(category).copied();
        let until = own.max(self.global)?;
        (until > now).then(|| until - now)
    }

    /// Whether items of type `ty` are dropped at `now`: the global limit, or a limit on any
    /// category in [`ItemType::rate_limit_categories`] (client reports: only the global one).
    pub fn is_item_limited(&self, ty: &ItemType, now: Instant) -> bool {
        self.is_globally_limited(now)
            || ty
                .rate_limit_categories()
                .iter()
                .any(|c| self.is_limited(c, now))
    }

    /// Drops every item that is limited at `now` (§6.3), and returns the kept items plus the
    /// dropped quantities per category ([`Item::discard_quantities`]), to be recorded as
    /// `ratelimit_backoff`.
    ///
    /// Under the global limit everything goes, client reports included. Otherwise limited
    /// items go, and so do the attachments travelling with an `event` that was dropped because
    /// `error` is limited; client reports always stay.
    pub fn filter_items(
        &self,
        items: Vec<Item>,
        now: Instant,
    ) -> (Vec<Item>, Vec<(DataCategory, u64)>) {
        let event_dropped = items
            .iter()
            .any(|i| i.ty() == &ItemType::Event && self.is_item_limited(i.ty(), now));
        let mut kept = Vec::with_capacity(items.len());
        let mut dropped: Vec<(DataCategory, u64)> = Vec::new();
        for item in items {
            let drop = self.is_item_limited(item.ty(), now)
                || (event_dropped && item.ty() == &ItemType::Attachment);
            if !drop {
                kept.push(item);
                continue;
            }
            for (category, quantity) in item.discard_quantities() {
                match dropped.iter_mut().find(|(c, _)| *c == category) {
                    Some((_, sum)) => *sum = sum.saturating_add(quantity),
                    None => dropped.push((category, quantity)),
                }
            }
        }
        (kept, dropped)
    }

    /// Forgets deadlines that have passed at `now`.
    pub fn purge_expired(&mut self, now: Instant) {
        self.global = self.global.filter(|d| *d > now);
        self.categories.retain(|_, d| *d > now);
    }
}

/// `now + wait`, clamped to a far but representable instant when the sum overflows.
fn deadline(now: Instant, wait: Duration) -> Instant {
    const FAR: Duration = Duration::from_secs(100 * 365 * 24 * 3600);
    now.checked_add(wait)
        .or_else(|| now.checked_add(FAR))
        .unwrap_or(now)
}

fn extend(slot: &mut Option<Instant>, until: Instant) {
    *slot = Some(slot.map_or(until, |d| d.max(until)));
}

#[cfg(test)]
#[path = "state_tests.rs"]
mod tests;
