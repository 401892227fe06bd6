//! The sampling decision for a new transaction.

use crumbtrail_protocol::{DataCategory, DiscardReason};

use crate::client::ClientCtx;

/// What a `traces_sampler` sees of a transaction that is starting.
///
/// ```
/// use std::sync::Arc;
/// use crumbtrail_core::{ClientOptions, SamplingContext};
/// let options = ClientOptions {
///     // Keep every checkout, a tenth of the rest; follow the caller's decision if any.
///     traces_sampler: Some(Arc::new(|ctx: &SamplingContext<'_>| {
///         match (ctx.parent_sampled, ctx.name) {
///             (Some(sampled), _) => f64::from(u8::from(sampled)),
///             (None, name) if name.starts_with("POST /checkout") => 1.0,
///             _ => 0.1,
///         }
///     })),
///     ..Default::default()
/// };
/// # let _ = options;
/// ```
#[derive(Debug, Clone, Copy)]
pub struct SamplingContext<'a> {
    /// The transaction's name.
    pub name: &'a str,
    /// Its operation (`http.server`, `task`, ...).
    pub op: &'a str,
    /// The decision of the service that called this one, for a continued trace.
    pub parent_sampled: Option<bool>,
}

/// The decision for a new transaction: the rate it was drawn at (after backpressure) and
/// whether the trace's random number `rand` falls under it (PROTOCOL.md §9.4: the same number
/// for the whole trace, so services that sample at the same rate agree). `None` when tracing
/// is off. A dropped transaction is counted as `sample_rate`, or `backpressure` when only the
/// downsampling dropped it.
pub(crate) fn decide(
    ctx: &ClientCtx,
    sampling: &SamplingContext<'_>,
    rand: f64,
) -> Option<Decision> {
    let options = &ctx.options;
    let rate = match (&options.traces_sampler, options.traces_sample_rate) {
        (Some(sampler), _) => crate::sdk_work(|| sampler(sampling)).unwrap_or_else(|_| {
            ctx.debug(
                "traces_sampler_panic",
                format_args!("traces_sampler panicked; the transaction is not sampled"),
            );
            0.0
        }),
        (None, None) => return None, // performance monitoring is off
        (None, Some(rate)) => match sampling.parent_sampled {
            Some(parent) => f64::from(u8::from(parent)),
            None => rate,
        },
    };
    let rate = if rate.is_finite() {
        rate.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let effective = if options.enable_backpressure_handling {
        rate / f64::from(1u32 << ctx.health.downsample_factor())
    } else {
        rate
    };
    let draw = rand;
    if draw < effective {
        return Some(Decision {
            rate: effective,
            sampled: true,
        });
    }
    let reason = if draw < rate {
        DiscardReason::Backpressure
    } else {
        DiscardReason::SampleRate
    };
    ctx.discards
        .record(reason.clone(), DataCategory::Transaction, 1);
    ctx.discards.record(reason, DataCategory::Span, 1);
    Some(Decision {
        rate: effective,
        sampled: false,
    })
}

/// A sampling decision and the rate it was drawn at.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Decision {
    pub(crate) rate: f64,
    pub(crate) sampled: bool,
}
