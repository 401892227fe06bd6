//! Envelope parsing: never panics; an envelope that parses writes bytes that parse back to an
//! equal envelope, and writing that again gives identical bytes.
#![no_main]

use crumbtrail_protocol::Envelope;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(env) = Envelope::parse(data) else {
        return;
    };
    let bytes = env.to_bytes();
    let again = Envelope::parse(&bytes).unwrap_or_else(|e| {
        panic!(
            "written envelope does not parse back: {e}\n{}",
            String::from_utf8_lossy(&bytes)
        )
    });
    assert_eq!(again, env);
    assert_eq!(again.to_bytes(), bytes);
});
