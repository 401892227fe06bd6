//! Rate-limit headers: `X-Sentry-Rate-Limits` and `Retry-After` parsing never panics, and a
//! parsed limit written with `Display` parses back to the same limit.
#![no_main]

use std::time::{Duration, SystemTime};

use crumbtrail_protocol::{parse_rate_limits, parse_retry_after};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    for limit in parse_rate_limits(s) {
        let text = limit.to_string();
        assert_eq!(parse_rate_limits(&text), vec![limit], "{s:?} -> {text:?}");
    }
    let now = SystemTime::now();
    let _ = parse_retry_after(s, now);
    // Far-off clocks must not overflow either.
    let _ = parse_retry_after(s, SystemTime::UNIX_EPOCH);
    if let Some(later) = now.checked_add(Duration::from_secs(100 * 365 * 24 * 3600)) {
        let _ = parse_retry_after(s, later);
    }
});
