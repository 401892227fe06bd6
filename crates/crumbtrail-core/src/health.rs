//! Backpressure: the sender's health, checked at an interval, decides how much transactions
//! are downsampled (errors never are).

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

/// The largest downsampling: transactions at 1/1024 of their rate.
const MAX_FACTOR: u32 = 10;

/// Shared by the callers (who read the factor when sampling, and note overflows) and the
/// sender (who checks health).
#[derive(Debug, Default)]
pub(crate) struct Health {
    factor: AtomicU32,
    overflowed: AtomicBool,
}

impl Health {
    /// Transactions are sampled at their rate divided by 2 to this power.
    pub(crate) fn downsample_factor(&self) -> u32 {
        self.factor.load(Ordering::Relaxed)
    }

    /// The queue was full (or over its byte bound) for a capture.
    pub(crate) fn note_overflow(&self) {
        self.overflowed.store(true, Ordering::Relaxed);
    }

    /// One health check: unhealthy when the queue overflowed since the last check or a rate
    /// limit is active, which doubles the downsampling; healthy resets it. Returns the new
    /// factor.
    pub(crate) fn check(&self, rate_limited: bool) -> u32 {
        let overflowed = self.overflowed.swap(false, Ordering::Relaxed);
        let factor = if overflowed || rate_limited {
            (self.downsample_factor() + 1).min(MAX_FACTOR)
        } else {
            0
        };
        self.factor.store(factor, Ordering::Relaxed);
        factor
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unhealthy_checks_double_the_downsampling_and_a_healthy_one_resets_it() {
        let health = Health::default();
        assert_eq!(health.check(false), 0);
        health.note_overflow();
        assert_eq!(health.check(false), 1);
        assert_eq!(health.check(true), 2, "a rate limit is unhealthy too");
        assert_eq!(health.check(false), 0, "no overflow since the last check");
        for _ in 0..20 {
            health.check(true);
        }
        assert_eq!(health.downsample_factor(), MAX_FACTOR);
    }
}
