//! Trace-propagation headers: `sentry-trace` and W3C `traceparent` parsing never panics, and a
//! value that parses is written (`Display`) as a value that parses back equal.
#![no_main]

use crumbtrail_protocol::{SentryTrace, TraceParent};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(trace) = SentryTrace::parse(s) {
        let text = trace.to_string();
        let again = SentryTrace::parse(&text)
            .unwrap_or_else(|e| panic!("{text:?} (from {s:?}) does not parse back: {e}"));
        assert_eq!(again, trace, "{s:?} -> {text:?}");
        assert_eq!(again.to_string(), text);
    }
    if let Ok(parent) = TraceParent::parse(s) {
        let text = parent.to_string();
        let again = TraceParent::parse(&text)
            .unwrap_or_else(|e| panic!("{text:?} (from {s:?}) does not parse back: {e}"));
        assert_eq!(again, parent, "{s:?} -> {text:?}");
        assert_eq!(again.to_string(), text);
    }
});
