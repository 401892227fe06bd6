//! `baggage` parsing never panics; the Sentry entries it found, written back with
//! `DynamicSamplingContext::to_baggage`, parse to the same DSC, and the whole header written
//! with `Display` parses back to the same `Baggage`.
#![no_main]

use crumbtrail_protocol::{Baggage, DynamicSamplingContext};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let baggage = Baggage::parse(s);

    let sentry_part = baggage.dsc.to_baggage();
    let dsc = DynamicSamplingContext::from_baggage(&sentry_part);
    assert_eq!(dsc, baggage.dsc, "{s:?} -> {sentry_part:?}");
    assert_eq!(dsc.to_baggage(), sentry_part);

    let text = baggage.to_string();
    assert_eq!(Baggage::parse(&text), baggage, "{s:?} -> {text:?}");
});
